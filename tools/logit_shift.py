"""Make an exported policy prefer some actions more or less: add a constant to their logits.

    python tools/logit_shift.py weights/policy.onnx runs/shifted/policy.onnx GO_ICE=4

The constant is added to the bias of the policy head (the ONNX initializer `net.policy.bias`), so every backend
(onnxruntime and the numpy executor) plays the shifted policy and nothing at play time knows about it. The
metadata next to the output (`policy.json`) is the input's with the shift added under `logit_shift`; shifting a
shifted policy adds up. Masked actions stay masked: the mask is applied after the head.

Imitation leaves a policy whose probabilities mirror how often its teacher chose each action; a shift moves it
where games say it should be (see `docs/results/logit_shift.md`, and `tools/heuristic_duel.py --a-policy` to
measure a shifted policy against the heuristic controller).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Dict, Optional, Sequence

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402

from magma_policy.actions import ACTION_NAMES  # noqa: E402
from magma_policy.export import metadata_path  # noqa: E402

POLICY_BIAS = "net.policy.bias"  # the policy head's bias in graphs written by magma_policy.export


def parse_shift(text: str) -> Dict[str, float]:
    """'GO_ICE=4,GO_ORE=-1' (or one pair) -> {'GO_ICE': 4.0, 'GO_ORE': -1.0}."""
    shift: Dict[str, float] = {}
    for pair in text.split(","):
        name, sep, value = pair.partition("=")
        name = name.strip().upper()
        if not sep or name not in ACTION_NAMES:
            raise ValueError("expected ACTION=VALUE with ACTION one of %s, got %r" % (", ".join(ACTION_NAMES), pair))
        try:
            shift[name] = shift.get(name, 0.0) + float(value)
        except ValueError:
            raise ValueError("%r: %r is not a number" % (pair, value)) from None
    return shift


def shift_logits(source: str, target: str, shift: Dict[str, float]) -> Dict[str, float]:
    """Write `target` (.onnx and its .json) as `source` with `shift` added to the named actions' logits. Returns
    the total shift the target carries."""
    with open(metadata_path(source)) as f:
        metadata = json.load(f)
    if list(metadata.get("actions", [])) != list(ACTION_NAMES):
        raise ValueError("%s: the policy's actions %s are not this code's %s; re-export it"
                         % (metadata_path(source), metadata.get("actions"), list(ACTION_NAMES)))
    model = onnx.load(source)
    found = [init for init in model.graph.initializer if init.name == POLICY_BIAS]
    if not found:
        raise ValueError("%s has no initializer %r: not a graph written by magma_policy.export" % (source, POLICY_BIAS))
    bias = numpy_helper.to_array(found[0]).astype(np.float32)
    if bias.shape != (len(ACTION_NAMES),):
        raise ValueError("%s: %s has shape %s, expected (%d,)" % (source, POLICY_BIAS, bias.shape, len(ACTION_NAMES)))
    for name, value in shift.items():
        bias[ACTION_NAMES.index(name)] += value
    found[0].CopyFrom(numpy_helper.from_array(bias, POLICY_BIAS))
    total = dict(metadata.get("logit_shift", {}))
    for name, value in shift.items():
        total[name] = total.get(name, 0.0) + value
    metadata["logit_shift"] = total
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    onnx.save(model, target)
    with open(metadata_path(target), "w") as f:
        json.dump(metadata, f, indent=2)
    return total


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="an exported policy (.onnx, with its .json beside it)")
    parser.add_argument("target", help="where to write the shifted policy (.onnx; its .json is written beside it)")
    parser.add_argument("shift", help="ACTION=VALUE[,ACTION=VALUE...], added to those actions' logits")
    args = parser.parse_args(argv)
    try:
        shift = parse_shift(args.shift)
    except ValueError as exc:
        parser.error(str(exc))
    if os.path.abspath(args.source) == os.path.abspath(args.target):
        parser.error("write the shifted policy somewhere else than its source")
    for path in (args.source, metadata_path(args.source)):
        if not os.path.exists(path):
            parser.error("%s not found" % path)
    total = shift_logits(args.source, args.target, shift)
    print("wrote %s with logit shift %s" % (args.target, json.dumps(total, sort_keys=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
