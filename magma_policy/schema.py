"""Schema version of the policy's inputs and outputs, and the check that a weights file matches this code.

Bump SCHEMA_VERSION whenever a feature, a channel or an action changes meaning or order: weights trained
against one schema are meaningless under another.
"""
from __future__ import annotations

from typing import Any, Dict, List

SCHEMA_VERSION = 5


class SchemaMismatch(ValueError):
    """The weights file was exported for other features or actions than this code computes."""


def schema_fields() -> Dict[str, Any]:
    """The metadata fields that must agree between a weights file and this code."""
    from . import actions, features

    return {
        "schema_version": SCHEMA_VERSION,
        "map_channels": list(features.MAP_CHANNELS),
        "global_features": list(features.GLOBAL_FEATURES),
        "unit_features": list(features.UNIT_FEATURES),
        "actions": list(actions.ACTION_NAMES),
    }


def check_metadata(metadata: Dict[str, Any], source: str = "policy metadata") -> None:
    """Raise SchemaMismatch naming the first field that differs from this code."""
    if not isinstance(metadata, dict):
        raise SchemaMismatch("%s is not a JSON object" % source)
    expected = schema_fields()
    problems: List[str] = []
    for key, want in expected.items():
        got = metadata.get(key)
        if got != want:
            if isinstance(want, list) and isinstance(got, list):
                problems.append("%s: file has %d entries, code has %d" % (key, len(got), len(want)))
            else:
                problems.append("%s: file has %r, code has %r" % (key, got, want))
    if problems:
        raise SchemaMismatch(
            "%s does not match this code (%s). The weights were exported for other features or actions: "
            "retrain, or re-export the checkpoint with this code (train.export.export_checkpoint)."
            % (source, "; ".join(problems)))
