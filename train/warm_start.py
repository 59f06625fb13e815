"""Network weights read back from an exported policy (`policy.onnx` with its `policy.json`).

Training runs start from an init.pt or a checkpoint, which live in a run directory and are not part of the
repository; the exported policy is. Reading it back lets a fresh clone continue from the shipped weights
(`--init-from weights/policy.onnx`), also after the features changed: inputs are matched by name, so a
feature the file lacks gets zero weights (the policy computes what it computed before until training gives
the new input a use) and a feature the code dropped is left out.

What the export holds is the play-time graph: the trunk with each batch norm folded into its convolution,
and the per-robot heads. The folded layers come back as convolutions followed by an identity batch norm
(running mean 0, variance 1 - eps, scale 1, shift = the folded bias), which computes the same function. The
global value head is not in the export and keeps its fresh initialisation (PPO's value warm-up fits it).
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch

ONNX_SUFFIX = ".onnx"


def is_exported_policy(path: str) -> bool:
    return path.lower().endswith(ONNX_SUFFIX)


def state_from_onnx(path: str) -> Dict[str, torch.Tensor]:
    """A PolicyNet state dict (the network size the file was exported with) holding the file's weights.

    Raises ValueError when the file or its metadata cannot be read, or its actions differ from this code's
    (an output cannot be matched by name as an input can).
    """
    import onnx
    from onnx import numpy_helper

    from magma_policy import actions, features
    from magma_policy.export import metadata_path
    from magma_policy.network import NetworkConfig, PolicyNet

    meta_file = metadata_path(path)
    if not os.path.isfile(path) or not os.path.isfile(meta_file):
        raise ValueError("%s: an exported policy needs both the .onnx file and its metadata %s" % (path, meta_file))
    with open(meta_file) as f:
        meta = json.load(f)
    if list(meta.get("actions", [])) != list(actions.ACTION_NAMES):
        raise ValueError("%s was exported for the actions %s, this code has %s: its policy head cannot be reused"
                         % (path, meta.get("actions"), list(actions.ACTION_NAMES)))
    try:
        net_cfg = NetworkConfig(**meta["network"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError("%s: its metadata has no usable network size (%r)" % (meta_file, exc)) from None
    if net_cfg.arch != "half":
        raise ValueError("%s: a %s network is read back from its checkpoint, not from its export (give the run's "
                         "checkpoint to --init-from)" % (path, net_cfg.arch))
    try:
        net = PolicyNet(net_cfg)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError("%s: its metadata has no usable network size (%r)" % (meta_file, exc)) from None
    try:
        model = onnx.load(path)
    except Exception as exc:  # protobuf's DecodeError and OSError alike: not a readable ONNX file
        raise ValueError("%s: cannot read the exported network (%s)" % (path, exc)) from None
    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    nodes = model.graph.node
    for node in nodes:  # the exporter shares equal tensors (zero biases) through Identity nodes
        if node.op_type == "Identity" and node.input[0] in weights:
            weights[node.output[0]] = weights[node.input[0]]

    convs = [n for n in nodes if n.op_type == "Conv"]
    layers = conv_layers(net)
    if len(convs) != len(layers):
        raise ValueError("%s has %d convolutions, a %r network %d" % (path, len(convs), net.cfg, len(layers)))
    state = {k: v.clone() for k, v in net.state_dict().items()}
    for i, (node, name) in enumerate(zip(convs, layers)):
        kernel = weights[node.input[1]]
        bias = weights[node.input[2]] if len(node.input) > 2 else np.zeros(kernel.shape[0], dtype=np.float32)
        if i == 0:  # the stem reads the map planes
            kernel = _match_columns(kernel, 1, meta.get("map_channels", []), features.MAP_CHANNELS, path)
        _put(state, name + ".0.weight", kernel, path)
        eps = net.get_submodule(name + ".1").eps
        _put(state, name + ".1.running_mean", np.zeros_like(bias), path)
        _put(state, name + ".1.running_var", np.full_like(bias, 1.0 - eps), path)
        _put(state, name + ".1.weight", np.ones_like(bias), path)
        _put(state, name + ".1.bias", bias, path)

    for node in nodes:
        if node.op_type == "MatMul" and node.input[0] in ("global_features", "unit_features"):
            # A bias-free Linear exported as x @ W.T: the initializer is [inputs, outputs].
            kernel = weights[node.input[1]].T
            if node.input[0] == "global_features":
                names, layer = (meta.get("global_features", []), features.GLOBAL_FEATURES), "unit_global"
            else:
                names, layer = (meta.get("unit_features", []), features.UNIT_FEATURES), "unit_own"
            _put(state, layer + ".weight", _match_columns(kernel, 1, names[0], names[1], path), path)
        elif node.op_type == "Gemm":
            trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
            kernel = weights[node.input[1]]
            layer = node.input[1].rsplit(".", 1)[0].replace("net.", "", 1)
            _put(state, layer + ".weight", kernel if trans_b else kernel.T, path)
            _put(state, layer + ".bias", weights[node.input[2]], path)
    return state


def conv_layers(net: torch.nn.Module) -> List[str]:
    """State-dict prefixes of the conv + batch-norm layers in the order the trunk runs them (the export's order)."""
    names = ["stem", "local", "down"]
    for i in range(len(net.blocks)):
        names += ["blocks.%d.%s" % (i, part) for part in ("reduce", "spatial", "expand")]
    return names + ["up", "merge"]


def _match_columns(weight: np.ndarray, axis: int, file_names: Sequence[str], code_names: Sequence[str],
                   path: str) -> np.ndarray:
    """`weight` with its input axis reordered from the file's input names to the code's; zeros for new ones."""
    file_names = list(file_names)
    if len(file_names) != weight.shape[axis]:
        raise ValueError("%s: its metadata names %d inputs where its weights have %d"
                         % (path, len(file_names), weight.shape[axis]))
    shape = list(weight.shape)
    shape[axis] = len(code_names)
    out = np.zeros(shape, dtype=weight.dtype)
    for j, name in enumerate(code_names):
        if name in file_names:
            src = [slice(None)] * weight.ndim
            dst = [slice(None)] * weight.ndim
            src[axis], dst[axis] = file_names.index(name), j
            out[tuple(dst)] = weight[tuple(src)]
    return out


def new_inputs(path: str) -> Dict[str, Tuple[str, ...]]:
    """Per input kind, the names this code computes that the exported policy at `path` was not trained on."""
    from magma_policy import features
    from magma_policy.export import metadata_path

    with open(metadata_path(path)) as f:
        meta = json.load(f)
    kinds = (("map_channels", features.MAP_CHANNELS), ("global_features", features.GLOBAL_FEATURES),
             ("unit_features", features.UNIT_FEATURES))
    return {kind: tuple(n for n in names if n not in meta.get(kind, [])) for kind, names in kinds}


def _put(state: Dict[str, torch.Tensor], key: str, value: np.ndarray, path: str) -> None:
    if key not in state:
        raise ValueError("%s holds a layer %r that the network has not" % (path, key))
    tensor = torch.tensor(np.array(value), dtype=state[key].dtype)  # a copy: onnx arrays are read-only
    if tuple(tensor.shape) != tuple(state[key].shape):
        raise ValueError("%s: %s has shape %s, the network %s" % (path, key, tuple(tensor.shape),
                                                                  tuple(state[key].shape)))
    state[key] = tensor


def reexport(source: str, target: str) -> Dict[str, Tuple[str, ...]]:
    """Write the policy at `source` to `target` under this code's schema (inputs it lacks get zero weights);
    its metadata is kept, with `reexported_from` added. Returns the new inputs, as `new_inputs`."""
    from magma_policy.export import export_onnx, metadata_path
    from magma_policy.network import NetworkConfig, PolicyNet

    added = new_inputs(source)
    with open(metadata_path(source)) as f:
        meta = json.load(f)
    net = PolicyNet(NetworkConfig(**meta["network"]))
    net.load_state_dict(state_from_onnx(source))
    meta["reexported_from"] = {"schema_version": meta.get("schema_version"),
                               "new_inputs": {k: list(v) for k, v in added.items() if v}}
    export_onnx(net, target, meta)
    return added


def main(argv: Sequence[str] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Re-export a policy under this code's features: inputs the file "
                                                 "was not trained on get zero weights, so it plays as before.")
    parser.add_argument("source", help="an exported policy (.onnx, its .json beside it)")
    parser.add_argument("target", help="where to write it (may be the same path)")
    args = parser.parse_args(argv)
    try:
        added = reexport(args.source, args.target)
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    print("wrote %s; new inputs with zero weights: %s" % (
        args.target, "; ".join("%s: %s" % (k, ", ".join(v)) for k, v in added.items() if v) or "none"))
    return 0


if __name__ == "__main__":
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
