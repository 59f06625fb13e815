"""Export a PolicyNet to ONNX (the play-time graph) plus its JSON metadata (training only: needs torch).

Graph inputs: map_planes float32 [1, C, W, H], global_features float32 [1, G], unit_pos int64 [N, 2],
unit_features float32 [N, U], action_mask bool [N, A]; outputs: logits [N, A], unit_value [N].
W, H and N are dynamic (N may be 0). Metadata (`<name>.json` next to the ONNX file) holds the schema
fields that runtime.load_policy checks, the network config and whatever the caller passes in
(training step, evaluation figures).
"""
from __future__ import annotations

import dataclasses
import json
import os
import warnings
from typing import Any, Dict, Optional

import torch

from . import schema
from .network import PlayGraph, build_network

OPSET = 17
INPUT_NAMES = ("map_planes", "global_features", "unit_pos", "unit_features", "action_mask")
OUTPUT_NAMES = ("logits", "unit_value")


def metadata_path(onnx_path: str) -> str:
    return os.path.splitext(onnx_path)[0] + ".json"


def example_inputs(n_units: int = 3, size: int = 16):
    from .actions import N_ACTIONS
    from .features import N_GLOBAL_FEATURES, N_MAP_CHANNELS, N_UNIT_FEATURES

    return (torch.zeros(1, N_MAP_CHANNELS, size, size), torch.zeros(1, N_GLOBAL_FEATURES),
            torch.zeros(n_units, 2, dtype=torch.int64), torch.zeros(n_units, N_UNIT_FEATURES),
            torch.ones(n_units, N_ACTIONS, dtype=torch.bool))


def export_onnx(net: torch.nn.Module, path: str, metadata: Optional[Dict[str, Any]] = None) -> str:
    """Write the play-time graph of `net` (a PolicyNet or QuarterNet, in eval mode: batch-norm running
    statistics) to `path`, and its metadata to metadata_path(path). Returns `path`."""
    was_training = net.training
    net.eval()
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    axes = {"map_planes": {2: "width", 3: "height"}, "unit_pos": {0: "units"}, "unit_features": {0: "units"},
            "action_mask": {0: "units"}, "logits": {0: "units"}, "unit_value": {0: "units"}}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The quarter architecture's strided slices (its on-board masks) are not constant-folded; harmless.
            warnings.filterwarnings("ignore", message="Constant folding - Only steps=1")
            torch.onnx.export(PlayGraph(net), example_inputs(), path, input_names=list(INPUT_NAMES),
                              output_names=list(OUTPUT_NAMES), dynamic_axes=axes, opset_version=OPSET,
                              do_constant_folding=True, dynamo=False)
    finally:
        net.train(was_training)
    meta: Dict[str, Any] = dict(metadata or {})
    meta.update(schema.schema_fields())
    cfg = getattr(net, "cfg", None)
    meta["network"] = dataclasses.asdict(cfg) if dataclasses.is_dataclass(cfg) else {}
    meta["opset"] = OPSET
    meta["inputs"] = list(INPUT_NAMES)
    meta["outputs"] = list(OUTPUT_NAMES)
    with open(metadata_path(path), "w") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
    return path


def export_untrained(path: str, cfg=None, seed: int = 0, randomize_batch_norm: bool = True) -> torch.nn.Module:
    """Export a freshly initialised network of `cfg`'s architecture (for tests and benchmarks). With
    `randomize_batch_norm`, every BatchNorm gets random statistics and affine parameters, so the export must carry
    them correctly."""
    torch.manual_seed(seed)
    net = build_network(cfg)
    if randomize_batch_norm:
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    n = m.num_features
                    m.running_mean.copy_(torch.randn(n, generator=g) * 0.3)
                    m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                    m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                    m.bias.copy_(torch.randn(n, generator=g) * 0.1)
            # Non-trivial policy logits, so parity tests compare more than near-zero numbers.
            net.policy.weight.mul_(100.0)
    net.eval()
    export_onnx(net, path, {"global_step": 0, "evaluation": {}, "note": "untrained"})
    return net
