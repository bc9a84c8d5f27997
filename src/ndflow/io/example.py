"""`tf.train.Example` and its parts, with the protobuf wire format written and read here (no
protobuf package needed): bytes identical in meaning to TensorFlow's `example.proto`.

>>> from ndflow.io.example import Example, Feature, Features, Int64List
>>> ex = Example(features=Features(feature={"n": Feature(int64_list=Int64List(value=[1, -2]))}))
>>> Example.FromString(ex.SerializeToString()).features.feature["n"].int64_list.value
[1, -2]
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

import numpy as np

from ndflow.errors import DataLossError, InvalidArgumentError

# --- wire format -----------------------------------------------------------------------------
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 as two's complement (10 bytes), as protobuf does
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint((field << 3) | wire)


def _len_field(field: int, payload: bytes) -> bytes:
    return _key(field, _LEN) + _varint(len(payload)) + payload


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise DataLossError("tf.train.Example: truncated or overlong varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> Iterable[tuple[int, int, Any]]:
    """(field number, wire type, value) for each field of a message."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == _VARINT:
            v, pos = _read_varint(buf, pos)
        elif wire == _LEN:
            n, pos = _read_varint(buf, pos)
            if pos + n > len(buf):
                raise DataLossError("tf.train.Example: a field runs past the end of the message")
            v, pos = buf[pos:pos + n], pos + n
        elif wire == _I32:
            v, pos = buf[pos:pos + 4], pos + 4
        elif wire == _I64:
            v, pos = buf[pos:pos + 8], pos + 8
        else:
            raise DataLossError(f"tf.train.Example: unsupported wire type {wire}")
        if pos > len(buf):
            raise DataLossError("tf.train.Example: truncated message")
        yield field, wire, v


def _signed64(n: int) -> int:
    return n - (1 << 64) if n >= 1 << 63 else n


# --- messages ------------------------------------------------------------------------------
class _Message:
    """Shared protobuf-style methods; each message class defines `_encode` and `_decode`."""

    def SerializeToString(self, deterministic: bool = False) -> bytes:  # noqa: N802
        return self._encode()

    @classmethod
    def FromString(cls, data: bytes) -> Any:  # noqa: N802
        msg = cls()
        msg.ParseFromString(data)
        return msg

    def ParseFromString(self, data: bytes) -> int:  # noqa: N802
        self._decode(bytes(data))
        return len(data)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._encode() == other._encode()  # type: ignore

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.__dict__})"


class BytesList(_Message):
    """`tf.train.BytesList(value=[b"...", ...])` (str values are UTF-8 encoded)."""

    def __init__(self, value: Iterable = ()) -> None:
        self.value = [v.encode() if isinstance(v, str) else bytes(v) for v in value]

    def _encode(self) -> bytes:
        return b"".join(_len_field(1, v) for v in self.value)

    def _decode(self, data: bytes) -> None:
        self.value = [v for f, w, v in _fields(data) if f == 1 and w == _LEN]


class FloatList(_Message):
    """`tf.train.FloatList(value=[...])`: float32 values (packed on the wire)."""

    def __init__(self, value: Iterable = ()) -> None:
        self.value = [float(v) for v in np.asarray(list(value), np.float32).reshape(-1)]

    def _encode(self) -> bytes:
        if not self.value:
            return b""
        return _len_field(1, np.asarray(self.value, "<f4").tobytes())

    def _decode(self, data: bytes) -> None:
        vals: list = []
        for f, w, v in _fields(data):
            if f != 1:
                continue
            if w == _LEN:
                if len(v) % 4:
                    raise DataLossError("tf.train.FloatList: packed floats not a multiple of 4")
                vals.extend(np.frombuffer(v, "<f4").tolist())
            elif w == _I32:
                vals.append(struct.unpack("<f", v)[0])
        self.value = vals


class Int64List(_Message):
    """`tf.train.Int64List(value=[...])`: int64 values (packed varints on the wire)."""

    def __init__(self, value: Iterable = ()) -> None:
        self.value = [int(v) for v in value]
        for v in self.value:
            if not -(1 << 63) <= v < (1 << 63):
                raise InvalidArgumentError(f"tf.train.Int64List: value {v} does not fit int64")

    def _encode(self) -> bytes:
        if not self.value:
            return b""
        return _len_field(1, b"".join(_varint(v) for v in self.value))

    def _decode(self, data: bytes) -> None:
        vals: list = []
        for f, w, v in _fields(data):
            if f != 1:
                continue
            if w == _LEN:
                pos = 0
                while pos < len(v):
                    n, pos = _read_varint(v, pos)
                    vals.append(_signed64(n))
            elif w == _VARINT:
                vals.append(_signed64(v))
        self.value = vals


class Feature(_Message):
    """One of `bytes_list`, `float_list`, `int64_list`."""

    def __init__(self, bytes_list: BytesList | None = None, float_list: FloatList | None = None,
                 int64_list: Int64List | None = None) -> None:
        given = [k for k, v in (("bytes_list", bytes_list), ("float_list", float_list),
                                ("int64_list", int64_list)) if v is not None]
        if len(given) > 1:
            raise InvalidArgumentError(f"tf.train.Feature: expected one of bytes_list, "
                                       f"float_list, int64_list, got {given}")
        self.bytes_list = bytes_list if bytes_list is not None else BytesList()
        self.float_list = float_list if float_list is not None else FloatList()
        self.int64_list = int64_list if int64_list is not None else Int64List()
        self._kind = given[0] if given else None

    def WhichOneof(self, name: str) -> str | None:  # noqa: N802
        return self._kind

    def HasField(self, name: str) -> bool:  # noqa: N802
        return self._kind == name

    def _encode(self) -> bytes:
        if self._kind is None:
            return b""
        field = {"bytes_list": 1, "float_list": 2, "int64_list": 3}[self._kind]
        return _len_field(field, getattr(self, self._kind)._encode())

    def _decode(self, data: bytes) -> None:
        self.__init__()  # type: ignore[misc]
        for f, w, v in _fields(data):
            if w != _LEN or f not in (1, 2, 3):
                continue
            kind, cls = {1: ("bytes_list", BytesList), 2: ("float_list", FloatList),
                         3: ("int64_list", Int64List)}[f]
            setattr(self, kind, cls.FromString(v))
            self._kind = kind


class Features(_Message):
    """`tf.train.Features(feature={name: Feature})`."""

    def __init__(self, feature: dict | None = None) -> None:
        self.feature: dict[str, Feature] = dict(feature or {})

    def _encode(self) -> bytes:
        out = []
        for k, v in self.feature.items():
            entry = _len_field(1, k.encode()) + _len_field(2, v._encode())
            out.append(_len_field(1, entry))
        return b"".join(out)

    def _decode(self, data: bytes) -> None:
        self.feature = {}
        for f, w, entry in _fields(data):
            if f != 1 or w != _LEN:
                continue
            key, value = "", Feature()
            for ef, ew, ev in _fields(entry):
                if ef == 1 and ew == _LEN:
                    key = ev.decode()
                elif ef == 2 and ew == _LEN:
                    value = Feature.FromString(ev)
            self.feature[key] = value  # a repeated key: the last one wins, as in protobuf


class Example(_Message):
    """`tf.train.Example(features=Features(...))`."""

    def __init__(self, features: Features | None = None) -> None:
        self.features = features if features is not None else Features()

    def _encode(self) -> bytes:
        return _len_field(1, self.features._encode())

    def _decode(self, data: bytes) -> None:
        self.features = Features()
        for f, w, v in _fields(data):
            if f == 1 and w == _LEN:
                part = Features.FromString(v)  # protobuf merges repeated sub-messages
                self.features.feature.update(part.feature)
