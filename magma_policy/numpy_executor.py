"""A numpy-only interpreter for the ONNX graphs magma_policy.export writes (no torch, no onnxruntime).

It runs the graph's nodes in file order (ONNX stores them topologically sorted) on float32 numpy arrays.
Only the operators the exporter emits are implemented; any other raises UnsupportedOperator naming it.
Convolutions use im2col (a strided view of the padded input) and one matrix product.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional

import numpy as np

from .onnx_reader import DTYPES, Graph, Node, load_graph


class UnsupportedOperator(ValueError):
    pass


def _conv(x: np.ndarray, w: np.ndarray, b: Optional[np.ndarray], attrs: Dict) -> np.ndarray:
    if int(attrs.get("group", 1)) != 1:
        raise UnsupportedOperator("Conv with group != 1 is not supported by the numpy executor")
    if any(int(d) != 1 for d in attrs.get("dilations", [1, 1])):
        raise UnsupportedOperator("Conv with dilation != 1 is not supported by the numpy executor")
    o, c, kh, kw = w.shape
    sh, sw = (int(s) for s in attrs.get("strides", [1, 1]))
    pads = [int(p) for p in attrs.get("pads", [0, 0, 0, 0])]
    n, _, h, wd = x.shape
    wmat = w.reshape(o, c * kh * kw)
    out = []
    for i in range(n):
        xi = x[i]
        if kh == 1 and kw == 1 and sh == 1 and sw == 1 and not any(pads):
            y = wmat @ xi.reshape(c, h * wd)
            oh, ow = h, wd
        else:
            xp = np.pad(xi, ((0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
            xp = np.ascontiguousarray(xp)
            oh = (xp.shape[1] - kh) // sh + 1
            ow = (xp.shape[2] - kw) // sw + 1
            s0, s1, s2 = xp.strides
            cols = np.lib.stride_tricks.as_strided(
                xp, shape=(c, kh, kw, oh, ow), strides=(s0, s1, s2, s1 * sh, s2 * sw), writeable=False)
            y = wmat @ cols.reshape(c * kh * kw, oh * ow)
        if b is not None:
            y = y + b[:, None]
        out.append(y.reshape(o, oh, ow))
    return np.stack(out).astype(np.float32, copy=False) if out else np.zeros((0, o, 0, 0), np.float32)


def _gemm(a, b, c=None, alpha=1.0, beta=1.0, transA=0, transB=0):
    a = a.T if transA else a
    b = b.T if transB else b
    y = alpha * (a @ b)
    if c is not None:
        y = y + beta * c
    return y.astype(np.float32, copy=False)


def _slice(x, starts, ends, axes=None, steps=None):
    axes = list(range(len(starts))) if axes is None else [int(a) % x.ndim for a in axes]
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        index[a] = slice(int(s), int(np.clip(e, -(1 << 62), 1 << 62)), int(st))
    return x[tuple(index)]


def _resize(x, roi, scales, sizes, attrs):
    mode = attrs.get("mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    ctm = attrs.get("coordinate_transformation_mode", b"half_pixel")
    ctm = ctm.decode() if isinstance(ctm, bytes) else ctm
    nearest = attrs.get("nearest_mode", b"round_prefer_floor")
    nearest = nearest.decode() if isinstance(nearest, bytes) else nearest
    if mode != "nearest" or ctm != "asymmetric" or nearest != "floor":
        raise UnsupportedOperator("Resize supports only nearest/asymmetric/floor, got %s/%s/%s" % (mode, ctm, nearest))
    if scales is None or len(scales) == 0:
        scales = np.asarray(sizes, dtype=np.float64) / np.asarray(x.shape, dtype=np.float64)
    for axis, scale in enumerate(scales):
        if scale == 1:
            continue
        out_len = int(np.floor(x.shape[axis] * scale))
        src = np.minimum(np.floor(np.arange(out_len) / scale).astype(np.int64), x.shape[axis] - 1)
        x = np.take(x, src, axis=axis)
    return x


def _reshape(x, shape, allowzero=0):
    shape = [int(s) for s in shape]
    if not allowzero:
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return x.reshape(shape)


def _leaky(x, alpha=0.01):
    return np.where(x >= 0, x, x * np.float32(alpha)).astype(x.dtype, copy=False)


def _squeeze(x, axes=None):
    if axes is None:
        return np.squeeze(x)
    return np.squeeze(x, axis=tuple(int(a) for a in axes))


def _unsqueeze(x, axes):
    axes = sorted(int(a) % (x.ndim + len(axes)) for a in axes)
    for a in axes:
        x = np.expand_dims(x, a)
    return x


def _batch_norm(x, scale, bias, mean, var, epsilon=1e-5):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    inv = scale / np.sqrt(var + epsilon)
    return (x * inv.reshape(shape) + (bias - mean * inv).reshape(shape)).astype(np.float32, copy=False)


def _pad(x, pads, value=None, axes=None, mode="constant"):
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode != "constant":
        raise UnsupportedOperator("Pad supports only mode constant, got %s" % mode)
    pads = [int(p) for p in pads]
    axes = list(range(x.ndim)) if axes is None else [int(a) % x.ndim for a in axes]
    widths = [(0, 0)] * x.ndim
    for j, a in enumerate(axes):
        widths[a] = (pads[j], pads[j + len(axes)])
    if any(b < 0 or e < 0 for b, e in widths):
        raise UnsupportedOperator("Pad with negative pads is not supported by the numpy executor")
    fill = 0 if value is None or np.size(value) == 0 else np.asarray(value).reshape(-1)[0]
    return np.pad(x, widths, mode="constant", constant_values=fill)


def _reduce_sum(x, axes=None, keepdims=1, noop_with_empty_axes=0):
    if axes is None or len(axes) == 0:
        if noop_with_empty_axes:
            return x
        axes = range(x.ndim)
    return np.sum(x, axis=tuple(int(a) for a in axes), keepdims=bool(keepdims)).astype(x.dtype, copy=False)


def _clip(x, low=None, high=None):
    if low is not None and np.size(low):
        x = np.maximum(x, low)
    if high is not None and np.size(high):
        x = np.minimum(x, high)
    return x


def _constant_of_shape(shape, value=None):
    fill = np.zeros(1, np.float32) if value is None else np.asarray(value).reshape(-1)
    return np.full([int(s) for s in shape], fill[0], dtype=fill.dtype)


def _opt(inputs: List[Optional[np.ndarray]], i: int) -> Optional[np.ndarray]:
    return inputs[i] if len(inputs) > i else None


# op -> function(inputs, attrs) -> list of outputs. Opset 13+ conventions (axes as inputs where ONNX moved them).
OPS: Dict[str, Callable] = {
    "Identity": lambda i, a: [i[0]],
    "Constant": lambda i, a: [np.asarray(a["value"])],
    "Conv": lambda i, a: [_conv(i[0], i[1], _opt(i, 2), a)],
    "BatchNormalization": lambda i, a: [_batch_norm(i[0], i[1], i[2], i[3], i[4], a.get("epsilon", 1e-5))],
    "Relu": lambda i, a: [np.maximum(i[0], 0)],
    "LeakyRelu": lambda i, a: [_leaky(i[0], a.get("alpha", 0.01))],
    "Sigmoid": lambda i, a: [(1.0 / (1.0 + np.exp(-i[0]))).astype(i[0].dtype)],
    "Add": lambda i, a: [i[0] + i[1]],
    "Sub": lambda i, a: [i[0] - i[1]],
    "Mul": lambda i, a: [i[0] * i[1]],
    "Div": lambda i, a: [i[0] / i[1] if i[0].dtype.kind == "f" else i[0] // i[1]],
    "MatMul": lambda i, a: [np.matmul(i[0], i[1])],
    "Gemm": lambda i, a: [_gemm(i[0], i[1], _opt(i, 2), a.get("alpha", 1.0), a.get("beta", 1.0),
                                a.get("transA", 0), a.get("transB", 0))],
    "ReduceMean": lambda i, a: [np.mean(i[0], axis=tuple(int(x) for x in a["axes"]) if "axes" in a else None,
                                        keepdims=bool(a.get("keepdims", 1))).astype(i[0].dtype)],
    "GlobalAveragePool": lambda i, a: [i[0].mean(axis=tuple(range(2, i[0].ndim)), keepdims=True)],
    "Gather": lambda i, a: [np.take(i[0], i[1].astype(np.int64), axis=int(a.get("axis", 0)))],
    "Concat": lambda i, a: [np.concatenate([np.asarray(x) for x in i], axis=int(a["axis"]))],
    "Reshape": lambda i, a: [_reshape(i[0], i[1], a.get("allowzero", 0))],
    "Flatten": lambda i, a: [i[0].reshape(int(np.prod(i[0].shape[: a.get("axis", 1)])), -1)],
    "Transpose": lambda i, a: [np.transpose(i[0], a.get("perm"))],
    "Where": lambda i, a: [np.where(i[0], i[1], i[2])],
    "Cast": lambda i, a: [i[0].astype(DTYPES[int(a["to"])])],
    "Shape": lambda i, a: [np.array(i[0].shape, dtype=np.int64)],
    "Slice": lambda i, a: [_slice(i[0], i[1], i[2], _opt(i, 3), _opt(i, 4))],
    "Squeeze": lambda i, a: [_squeeze(i[0], _opt(i, 1) if len(i) > 1 else a.get("axes"))],
    "Unsqueeze": lambda i, a: [_unsqueeze(i[0], _opt(i, 1) if len(i) > 1 else a["axes"])],
    "Resize": lambda i, a: [_resize(i[0], _opt(i, 1), _opt(i, 2), _opt(i, 3), a)],
    "Pad": lambda i, a: [_pad(i[0], i[1], _opt(i, 2), _opt(i, 3), a.get("mode", "constant"))],
    "ReduceSum": lambda i, a: [_reduce_sum(i[0], _opt(i, 1), a.get("keepdims", 1), a.get("noop_with_empty_axes", 0))],
    "Clip": lambda i, a: [_clip(i[0], _opt(i, 1), _opt(i, 2))],
    "ConstantOfShape": lambda i, a: [_constant_of_shape(i[0], a.get("value"))],
}


class NumpyExecutor:
    """Runs one ONNX graph; `run(feeds)` returns the graph's outputs in order."""

    def __init__(self, graph: Graph) -> None:
        unsupported = sorted({n.op_type for n in graph.nodes if n.op_type not in OPS})
        if unsupported:
            raise UnsupportedOperator("the numpy executor does not implement ONNX operator(s) %s; "
                                      "supported: %s" % (", ".join(unsupported), ", ".join(sorted(OPS))))
        self.graph = graph
        # Constant nodes are evaluated once.
        self.constants: Dict[str, np.ndarray] = dict(graph.initializers)
        self.nodes: List[Node] = []
        for node in graph.nodes:
            if node.op_type == "Constant":
                self.constants[node.outputs[0]] = np.asarray(node.attrs["value"])
            else:
                self.nodes.append(node)

    @classmethod
    def from_file(cls, path: str, use_onnx: bool = True) -> NumpyExecutor:
        return cls(load_graph(path, use_onnx=use_onnx))

    def run(self, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        missing = [n for n in self.graph.inputs if n not in feeds]
        if missing:
            raise ValueError("missing graph inputs: %s" % ", ".join(missing))
        values: Dict[str, Optional[np.ndarray]] = dict(self.constants)
        values.update({k: np.asarray(v) for k, v in feeds.items()})
        values[""] = None
        for node in self.nodes:
            inputs = [values[name] for name in node.inputs]
            outputs = OPS[node.op_type](inputs, node.attrs)
            for name, value in zip(node.outputs, outputs):
                values[name] = value
        return [values[name] for name in self.graph.outputs]
