"""`tf.io.parse_single_example` / `parse_example` with `FixedLenFeature`,
`FixedLenSequenceFeature` and `VarLenFeature`, and `decode_raw`.

Numeric features come out as tensors (int64 / float32); string features as NumPy object arrays
of bytes; `VarLenFeature` as a `tf.sparse.SparseTensor`.

>>> import ndflow as tf
>>> ex = tf.train.Example(features=tf.train.Features(feature={
...     "x": tf.train.Feature(float_list=tf.train.FloatList(value=[1.0, 2.0]))}))
>>> out = tf.io.parse_single_example(ex.SerializeToString(),
...                                  {"x": tf.io.FixedLenFeature([2], tf.float32)})
>>> out["x"].numpy().tolist()
[1.0, 2.0]
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.errors import InvalidArgumentError
from ndflow.io.example import Example
from ndflow.sparse import SparseTensor

_KINDS = {"int64": ("int64_list", np.int64), "float32": ("float_list", np.float32),
          "string": ("bytes_list", object)}


def _kind(dtype: Any, where: str) -> str:
    if dtype in (str, bytes) or getattr(dtype, "name", dtype) == "string":
        return "string"
    from ndflow.core.dtypes import as_dtype

    try:
        name = as_dtype(dtype).name
    except (TypeError, ValueError):
        name = str(dtype)
    if name not in ("int64", "float32"):
        raise InvalidArgumentError(f"{where}: expected dtype int64, float32 or string, got "
                                   f"{name}")
    return name


def _shape(shape: Any) -> list:
    if shape is None:
        return []
    if hasattr(shape, "as_list"):
        shape = shape.as_list()
    return [int(d) if d is not None else None for d in (
        [shape] if isinstance(shape, (int, np.integer)) else list(shape))]


class FixedLenFeature(NamedTuple):
    """A feature of fixed `shape` (missing: `default_value`, else an error)."""

    shape: Any
    dtype: Any
    default_value: Any = None


class FixedLenSequenceFeature(NamedTuple):
    """A feature of shape `[n] + shape` with n read from the data."""

    shape: Any
    dtype: Any
    allow_missing: bool = False
    default_value: Any = None


class VarLenFeature(NamedTuple):
    """A feature of any length, parsed to a SparseTensor."""

    dtype: Any


def _as_bytes(x: Any, where: str) -> bytes:
    from ndflow.data.structure import plain

    x = plain(x)
    if isinstance(x, (bytes, bytearray)):
        return bytes(x)
    if isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "OS":
        return bytes(x.item())
    raise InvalidArgumentError(f"{where}: expected a serialized Example (a bytes scalar), got "
                               f"{type(x).__name__}")


def _values(example: Example, key: str, kind: str, name: str) -> np.ndarray | None:
    feat = example.features.feature.get(key)
    if feat is None or feat.WhichOneof("kind") is None:
        return None
    field, np_dtype = _KINDS[kind]
    have = feat.WhichOneof("kind")
    if have != field:
        raise InvalidArgumentError(
            f"parse_example: Name: {name}, Feature: {key}. Data types don't match. Expected "
            f"type: {kind}, Actual type: {have.replace('_list', '').replace('bytes', 'string')}")
    vals = getattr(feat, field).value
    if np_dtype is object:
        arr = np.empty(len(vals), dtype=object)
        arr[:] = list(vals)
        return arr
    return np.asarray(vals, dtype=np_dtype)


def _default(spec: Any, kind: str, shape: list, key: str) -> np.ndarray:
    np_dtype = _KINDS[kind][1]
    d = spec.default_value
    d = d.numpy() if isinstance(d, Tensor) else d
    if kind == "string":
        a = np.empty(shape, dtype=object)
        src = np.asarray(d, dtype=object)
        a[...] = np.vectorize(lambda v: v.encode() if isinstance(v, str) else v,
                              otypes=[object])(src) if src.size else src
        return a
    a = np.asarray(d, dtype=np_dtype)
    try:
        return np.broadcast_to(a, shape).copy()
    except ValueError:
        raise InvalidArgumentError(f"parse_example: default_value of feature {key} has shape "
                                   f"{list(a.shape)}, expected {shape}") from None


def _parse_one(serialized: Any, features: dict, name: str) -> dict:
    data = _as_bytes(serialized, "parse_single_example")
    try:
        example = Example.FromString(data)
    except Exception as e:
        raise InvalidArgumentError(f"parse_example: Name: {name}: could not parse the "
                                   f"serialized Example ({e})") from e
    out: dict = {}
    for key, spec in features.items():
        if isinstance(spec, VarLenFeature):
            kind = _kind(spec.dtype, f"VarLenFeature {key}")
            v = _values(example, key, kind, name)
            if v is None:
                v = np.empty(0, dtype=_KINDS[kind][1])
            out[key] = ("var", v)
            continue
        if not isinstance(spec, (FixedLenFeature, FixedLenSequenceFeature)):
            raise InvalidArgumentError(f"parse_example: feature {key}: expected FixedLenFeature, "
                                       f"FixedLenSequenceFeature or VarLenFeature, got "
                                       f"{type(spec).__name__}")
        kind = _kind(spec.dtype, f"feature {key}")
        shape = _shape(spec.shape)
        v = _values(example, key, kind, name)
        if isinstance(spec, FixedLenSequenceFeature):
            inner = int(np.prod(shape)) if shape else 1
            if v is None:
                if not spec.allow_missing:
                    raise InvalidArgumentError(
                        f"parse_example: Name: {name}, Feature: {key} is required but could "
                        "not be found (FixedLenSequenceFeature with allow_missing=False)")
                v = np.empty(0, dtype=_KINDS[kind][1])
            if len(v) % inner:
                raise InvalidArgumentError(
                    f"parse_example: Name: {name}, Key: {key}. Number of values {len(v)} is "
                    f"not a multiple of the element size {inner} (shape {shape})")
            out[key] = ("seq", v.reshape([-1] + shape))
            continue
        if None in shape:
            raise InvalidArgumentError(f"parse_example: FixedLenFeature {key}: expected a fully "
                                       f"defined shape, got {shape}; use VarLenFeature")
        if v is None:
            if spec.default_value is None:
                raise InvalidArgumentError(
                    f"parse_example: Name: {name}, Feature: {key} (data type: {kind}) is "
                    "required but could not be found.")
            out[key] = ("fixed", _default(spec, kind, shape, key))
            continue
        size = int(np.prod(shape)) if shape else 1
        if len(v) != size:
            raise InvalidArgumentError(
                f"parse_example: Name: {name}, Key: {key}. Number of {kind} values != expected."
                f" Values size: {len(v)} but output shape: {shape}")
        out[key] = ("fixed", v.reshape(shape))
    return out


def _wrap(a: np.ndarray) -> Any:
    return a if a.dtype.kind == "O" else Tensor(a)


def parse_single_example(serialized: Any, features: dict, name: str | None = None,
                         example_names: Any = None) -> dict:
    """Parse one serialized `tf.train.Example` into a dict of tensors."""
    parsed = _parse_one(serialized, features, "<unknown>")
    out = {}
    for key, (how, v) in parsed.items():
        if how == "var":
            out[key] = SparseTensor(np.arange(len(v), dtype=np.int64)[:, None], v, [len(v)])
        else:
            out[key] = _wrap(v)
    return out


def parse_example(serialized: Any, features: dict, name: str | None = None,
                  example_names: Any = None) -> dict:
    """Parse a batch (a vector) of serialized Examples: dense features gain a batch
    dimension; VarLen features become [batch, max_len] SparseTensors."""
    from ndflow.data.structure import plain

    serialized = plain(serialized)
    if isinstance(serialized, (bytes, bytearray)):
        raise InvalidArgumentError("parse_example: expected a vector of serialized Examples, "
                                   "got one bytes scalar; use parse_single_example")
    items = list(np.asarray(serialized, dtype=object).reshape(-1))
    names = list(np.asarray(example_names, dtype=object).reshape(-1)) if example_names \
        is not None else [f"<unknown {i}>" for i in range(len(items))]
    parsed = [_parse_one(s, features, str(n)) for s, n in zip(items, names)]
    out: dict = {}
    for key, spec in features.items():
        cols = [p[key][1] for p in parsed]
        if isinstance(spec, VarLenFeature):
            kind = _kind(spec.dtype, key)
            idx = [[b, i] for b, c in enumerate(cols) for i in range(len(c))]
            vals = np.concatenate(cols) if cols else np.empty(0, _KINDS[kind][1])
            width = max((len(c) for c in cols), default=0)
            out[key] = SparseTensor(np.asarray(idx, np.int64).reshape(-1, 2), vals,
                                    [len(cols), width])
        elif isinstance(spec, FixedLenSequenceFeature):
            kind = _kind(spec.dtype, key)
            n = max((c.shape[0] for c in cols), default=0)
            inner = _shape(spec.shape)
            fill = spec.default_value if spec.default_value is not None else (
                b"" if kind == "string" else 0)
            buf = np.full([len(cols), n] + inner, fill, dtype=_KINDS[kind][1])
            for b, c in enumerate(cols):
                buf[b, :c.shape[0]] = c
            out[key] = _wrap(buf)
        else:
            kind = _kind(spec.dtype, key)
            shape = _shape(spec.shape)
            buf = np.empty([len(cols)] + shape, dtype=_KINDS[kind][1])
            for b, c in enumerate(cols):
                buf[b] = c
            out[key] = _wrap(buf)
    return out


def decode_raw(input_bytes: Any, out_type: Any, little_endian: bool = True,
               fixed_length: int | None = None, name: str | None = None) -> Tensor:
    """The bytes of a string (or each string of an array) reinterpreted as `out_type`."""
    from ndflow.core.dtypes import as_dtype

    dt = np.dtype(as_dtype(out_type).as_numpy_dtype).newbyteorder("<" if little_endian else ">")
    if isinstance(input_bytes, (bytes, bytearray)) or (
            isinstance(input_bytes, np.ndarray) and input_bytes.ndim == 0):
        b = _as_bytes(input_bytes, "decode_raw")
        if len(b) % dt.itemsize:
            raise InvalidArgumentError(f"decode_raw: expected a length divisible by "
                                       f"{dt.itemsize} ({dt.name}), got {len(b)} bytes")
        return Tensor(np.frombuffer(b, dt).astype(dt.newbyteorder("=")))
    rows = [decode_raw(v, out_type, little_endian).numpy()
            for v in np.asarray(input_bytes, dtype=object).reshape(-1)]
    if len({r.shape for r in rows}) > 1:
        raise InvalidArgumentError("decode_raw: expected strings of one length in a batch, got "
                                   f"{sorted({len(r) for r in rows})} elements")
    arr = np.stack(rows) if rows else np.empty((0, 0), dt)
    return Tensor(arr.reshape(np.shape(input_bytes) + arr.shape[1:]))
