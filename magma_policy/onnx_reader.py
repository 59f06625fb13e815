"""Read an ONNX model into plain Python and numpy: with the `onnx` package when importable, else with a small
protobuf decoder of the few ModelProto fields the numpy executor needs.

Field numbers (onnx.proto): ModelProto.graph = 7, opset_import = 8 (OperatorSetIdProto: domain 1, version 2);
GraphProto: node 1, initializer 5, input 11, output 12; NodeProto: input 1, output 2, name 3, op_type 4,
attribute 5, domain 7; AttributeProto: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, type 20;
TensorProto: dims 1, data_type 2, float_data 4, int32_data 5, int64_data 7, name 8, raw_data 9,
double_data 10; ValueInfoProto: name 1.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

import numpy as np

# TensorProto.DataType -> numpy dtype.
DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 5: np.int16, 6: np.int32, 7: np.int64, 9: np.bool_,
          10: np.float16, 11: np.float64, 12: np.uint32, 13: np.uint64}


@dataclass
class Node:
    op_type: str
    inputs: List[str]
    outputs: List[str]
    attrs: Dict[str, Any]
    name: str = ""


@dataclass
class Graph:
    nodes: List[Node]
    initializers: Dict[str, np.ndarray]
    inputs: List[str]
    outputs: List[str]
    opset: int = 0
    extra: Dict[str, Any] = field(default_factory=dict)


def load_graph(path: str, use_onnx: bool = True) -> Graph:
    """The model at `path` as a Graph; `use_onnx=False` forces the built-in decoder."""
    with open(path, "rb") as f:
        data = f.read()
    if use_onnx:
        try:
            import onnx  # noqa: F401
        except ImportError:
            use_onnx = False
    return _from_onnx(data) if use_onnx else _decode_model(data)


# -- with the onnx package ------------------------------------------------------------------------------------------
def _from_onnx(data: bytes) -> Graph:
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load_model_from_string(data)
    g = model.graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    nodes = []
    for n in g.node:
        attrs = {}
        for a in n.attribute:
            value = helper.get_attribute_value(a)
            if isinstance(value, onnx.TensorProto):
                value = numpy_helper.to_array(value)
            attrs[a.name] = value
        nodes.append(Node(n.op_type, list(n.input), list(n.output), attrs, n.name))
    init_names = set(inits)
    opset = max([o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] or [0])
    return Graph(nodes, inits, [i.name for i in g.input if i.name not in init_names], [o.name for o in g.output],
                 opset)


# -- the built-in protobuf decoder ---------------------------------------------------------------------------------
def _varint(buf: bytes, pos: int) -> Tuple[int, int]:
    result, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> List[Tuple[int, int, Any]]:
    """(field number, wire type, value) for every field of one message; length-delimited values are bytes."""
    out = []
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos: pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos: pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos: pos + 4], pos + 4
        else:
            raise ValueError("unsupported protobuf wire type %d in the ONNX file" % wire)
        out.append((number, wire, value))
    return out


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _ints(wire: int, value: Any) -> List[int]:
    """A repeated int64 field: packed (bytes) or one varint."""
    if wire == 2:
        vals, pos = [], 0
        while pos < len(value):
            v, pos = _varint(value, pos)
            vals.append(_signed(v))
        return vals
    return [_signed(value)]


def _floats(wire: int, value: Any) -> List[float]:
    if wire == 2:
        return list(struct.unpack("<%df" % (len(value) // 4), value))
    return [struct.unpack("<f", value)[0]]


def _tensor(buf: bytes) -> Tuple[str, np.ndarray]:
    dims: List[int] = []
    dtype, name, raw = 1, "", None
    floats: List[float] = []
    ints: List[int] = []
    doubles: List[float] = []
    for number, wire, value in _fields(buf):
        if number == 1:
            dims += _ints(wire, value)
        elif number == 2:
            dtype = value
        elif number == 4:
            floats += _floats(wire, value)
        elif number in (5, 7):
            ints += _ints(wire, value)
        elif number == 8:
            name = value.decode()
        elif number == 9:
            raw = value
        elif number == 10:
            doubles += list(struct.unpack("<%dd" % (len(value) // 8), value)) if wire == 2 else [
                struct.unpack("<d", value)[0]]
    if dtype not in DTYPES:
        raise ValueError("tensor %r has ONNX data type %d, which the numpy executor does not read" % (name, dtype))
    np_dtype = DTYPES[dtype]
    if raw is not None:
        arr = np.frombuffer(raw, dtype=np.dtype(np_dtype).newbyteorder("<")).astype(np_dtype)
    else:
        arr = np.array(floats or doubles or ints, dtype=np_dtype)
    return name, arr.reshape(dims)


def _attribute(buf: bytes) -> Tuple[str, Any]:
    name, value = "", None
    ints: List[int] = []
    floats: List[float] = []
    for number, wire, v in _fields(buf):
        if number == 1:
            name = v.decode()
        elif number == 2:
            value = struct.unpack("<f", v)[0]
        elif number == 3:
            value = _signed(v)
        elif number == 4:
            value = bytes(v)
        elif number == 5:
            value = _tensor(v)[1]
        elif number == 7:
            floats += _floats(wire, v)
        elif number == 8:
            ints += _ints(wire, v)
    if value is None:
        value = ints if ints else floats
    return name, value


def _node(buf: bytes) -> Node:
    inputs, outputs, attrs = [], [], {}
    op_type, name = "", ""
    for number, _, v in _fields(buf):
        if number == 1:
            inputs.append(v.decode())
        elif number == 2:
            outputs.append(v.decode())
        elif number == 3:
            name = v.decode()
        elif number == 4:
            op_type = v.decode()
        elif number == 5:
            k, a = _attribute(v)
            attrs[k] = a
    return Node(op_type, inputs, outputs, attrs, name)


def _value_name(buf: bytes) -> str:
    for number, _, v in _fields(buf):
        if number == 1:
            return v.decode()
    return ""


def _decode_model(data: bytes) -> Graph:
    graph_buf = None
    opset = 0
    for number, _, v in _fields(data):
        if number == 7:
            graph_buf = v
        elif number == 8:
            domain, version = "", 0
            for n2, _, v2 in _fields(v):
                if n2 == 1:
                    domain = v2.decode()
                elif n2 == 2:
                    version = v2
            if domain in ("", "ai.onnx"):
                opset = max(opset, version)
    if graph_buf is None:
        raise ValueError("not an ONNX model: no graph found")
    nodes, inits, inputs, outputs = [], {}, [], []
    for number, _, v in _fields(graph_buf):
        if number == 1:
            nodes.append(_node(v))
        elif number == 5:
            k, arr = _tensor(v)
            inits[k] = arr
        elif number == 11:
            inputs.append(_value_name(v))
        elif number == 12:
            outputs.append(_value_name(v))
    return Graph(nodes, inits, [i for i in inputs if i not in inits], outputs, opset)
