"""Checksum and finiteness of an ONNX model's weights, read without the onnx package.

Segmentation with an exported model needs only onnxruntime, which cannot
hand back the weights; so the few protobuf fields that hold them are read
here directly: ModelProto.graph (field 7) -> GraphProto.initializer (5) ->
TensorProto name (8), data_type (2), raw_data (9), float_data (4),
double_data (10), external_data (13), data_location (14).

:func:`model_digest` is the model's checksum: sha256 over every top-level
field of the ModelProto (graph with its nodes and weights, opset imports,
producer, and every metadata entry, floodkd's bands, classes and clip ranges
included) except the entry that stores it (key ``floodkd_sha256``), so
``floodkd export-onnx`` records it in the file itself and any edit of what
decides the map is detected. Files of floodkd before 0.3 carry only
``floodkd_weights_sha256`` (a checksum of the weights alone): they are refused
with advice to export them again.
"""
from __future__ import annotations

import hashlib

import numpy as np

WEIGHTS_KEY = "floodkd_weights_sha256"  # the former, weights-only checksum (refused: export again)
MODEL_KEY = "floodkd_sha256"  # the checksum of graph, weights and metadata
# ONNX TensorProto.DataType codes of floating types -> numpy dtype of raw_data.
FLOAT_RAW = {1: "<f4", 10: "<f2", 11: "<f8"}
BFLOAT16 = 16
PACKED_FLOATS = {4: "<f4", 10: "<f8"}  # float_data, double_data


class MalformedOnnx(ValueError):
    """The bytes are not an ONNX protobuf this reader understands."""


def _varint(buf: memoryview, pos: int):
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise MalformedOnnx("truncated or overlong varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(buf: memoryview):
    """Yield ``(field number, wire type, value)`` of one message; length-delimited values as views."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, pos = buf[pos:pos + size], pos + size
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + size], pos + size
        else:
            raise MalformedOnnx(f"unsupported protobuf wire type {wire}")
        if pos > len(buf):
            raise MalformedOnnx("a field runs past the end of the file")
        yield field, wire, value


def _initializers(data: bytes):
    for field, wire, graph in _fields(memoryview(data)):
        if field == 7 and wire == 2:
            for gfield, gwire, tensor in _fields(graph):
                if gfield == 5 and gwire == 2:
                    yield tensor


def _tensor_values(dtype: int, field: int, value: memoryview):
    """The floating values of one payload field, or None when it holds no floats."""
    if field == 9 and dtype in FLOAT_RAW:
        return np.frombuffer(value, FLOAT_RAW[dtype])
    if field == 9 and dtype == BFLOAT16:
        return (np.frombuffer(value, "<u2").astype(np.uint32) << 16).view("<f4")
    if field in PACKED_FLOATS:
        return np.frombuffer(value, PACKED_FLOATS[field])
    return None


def inspect_weights(data: bytes) -> tuple:
    """``(sha256 hex, initializer count, names holding NaN/inf, names stored outside the file)``.

    Raises MalformedOnnx when the bytes cannot be read as an ONNX model.
    """
    tensors, bad, external = [], [], []
    try:
        for tensor in _initializers(data):
            name, dtype, payload = "", 0, []
            for field, wire, value in _fields(tensor):
                if field == 8 and wire == 2:
                    name = bytes(value).decode("utf-8", "replace")
                elif field == 2 and wire == 0:
                    dtype = value
                elif field in (4, 9, 10) and wire == 2:
                    payload.append((field, value))
                elif field == 13 or (field == 14 and wire == 0 and value == 1):
                    external.append(name)
            for field, value in payload:
                values = _tensor_values(dtype, field, value)
                if values is not None and not np.isfinite(values).all():
                    bad.append(name)
                    break
            tensors.append((name, tensor))
    except ValueError as exc:  # MalformedOnnx, or frombuffer on a size that is not a multiple
        raise MalformedOnnx(str(exc)) from None
    digest = hashlib.sha256()
    for name, tensor in sorted(tensors, key=lambda t: t[0]):
        digest.update(len(tensor).to_bytes(8, "little"))
        digest.update(tensor)
    return digest.hexdigest(), len(tensors), bad, external


def _entry_key(entry: memoryview) -> str:
    for field, wire, value in _fields(entry):
        if field == 1 and wire == 2:
            return bytes(value).decode("utf-8", "replace")
    return ""


def model_digest(data: bytes) -> str:
    """sha256 of every top-level ModelProto field except the ``MODEL_KEY`` metadata entry (hex).

    Raises MalformedOnnx when the bytes cannot be read as an ONNX model.
    """
    digest = hashlib.sha256()
    try:
        for field, wire, value in _fields(memoryview(data)):
            if field == 14 and wire == 2 and _entry_key(value) == MODEL_KEY:  # metadata_props: our own entry
                continue
            raw = bytes(value) if isinstance(value, memoryview) else int(value).to_bytes(10, "little")
            digest.update(f"{field}:{wire}:{len(raw)}:".encode())
            digest.update(raw)
    except ValueError as exc:
        raise MalformedOnnx(str(exc)) from None
    return digest.hexdigest()
