"""TFRecord framing, byte-compatible with TensorFlow: per record a little-endian uint64 length,
the masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C of the data.
Compression "GZIP" or "ZLIB" wraps the whole stream, as TF does.

>>> import io
>>> from ndflow.data import tfrecord
>>> buf = io.BytesIO()
>>> tfrecord.write_record(buf, b"hello")
>>> _ = buf.seek(0)
>>> list(tfrecord.read_records(buf, "mem"))
[b'hello']
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import tempfile
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np

from ndflow.backend import jit
from ndflow.errors import DataLossError, InvalidArgumentError


def _make_table() -> list[int]:
    poly = 0x82F63B78  # CRC-32C (Castagnoli), reflected
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _make_table()
_TABLE_NP = np.asarray(_TABLE, dtype=np.uint32)


@jit.kernel
def _crc_loop(table, data, crc):  # noqa: ANN001 - numba kernel
    for i in range(data.size):
        crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8)
    return crc


def crc32c(data: bytes) -> int:
    """CRC-32C of `data` (compiled with ndflow[jit], else a table loop)."""
    if jit.enabled() and len(data) > 64:
        arr = np.frombuffer(data, dtype=np.uint8)
        return int(_crc_loop(_TABLE_NP, arr, np.uint32(0xFFFFFFFF))) ^ 0xFFFFFFFF
    crc = 0xFFFFFFFF
    t = _TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def write_record(f: BinaryIO, data: bytes) -> None:
    header = struct.pack("<Q", len(data))
    f.write(header + struct.pack("<I", masked_crc32c(header)) + data
            + struct.pack("<I", masked_crc32c(data)))


def read_records(f: BinaryIO, name: str, stage: str = "TFRecordDataset") -> Iterator[bytes]:
    """Records from an open stream; a damaged or cut file raises DataLossError naming it."""
    offset = 0
    while True:
        head = f.read(12)
        if not head:
            return
        if len(head) < 12:
            raise DataLossError(f"{stage}: truncated record header at offset {offset} in {name} "
                                f"(expected 12 bytes, got {len(head)}); the file was cut short "
                                "or is not a TFRecord file")
        (length,), (crc,) = struct.unpack("<Q", head[:8]), struct.unpack("<I", head[8:])
        if masked_crc32c(head[:8]) != crc:
            raise DataLossError(f"{stage}: corrupted record at offset {offset} in {name}: the "
                                "length's checksum does not match (not a TFRecord file, or "
                                "compressed: pass compression_type='GZIP'/'ZLIB')")
        data = f.read(length)
        tail = f.read(4)
        if len(data) < length or len(tail) < 4:
            raise DataLossError(f"{stage}: truncated record at offset {offset} in {name} "
                                f"(expected {length} bytes of data, got {len(data)})")
        if masked_crc32c(data) != struct.unpack("<I", tail)[0]:
            raise DataLossError(f"{stage}: corrupted record at offset {offset} in {name}: the "
                                "data's checksum does not match")
        offset += 16 + length
        yield data


def check_compression(compression: Any, stage: str) -> str:
    c = "" if compression is None else str(compression).upper()
    if c not in ("", "GZIP", "ZLIB"):
        raise InvalidArgumentError(f"{stage}: expected compression_type None, '', 'GZIP' or "
                                   f"'ZLIB', got {compression!r}")
    return c


def open_read(path: str, compression: str) -> BinaryIO:
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller (or with the wrapper)
    if compression == "GZIP":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if compression == "ZLIB":
        return _ZlibReader(raw)  # type: ignore[return-value]
    return raw


class _ZlibReader(io.RawIOBase):
    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._z = zlib.decompressobj()
        self._buf = b""

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        while (n < 0 or len(self._buf) < n) and not self._z.eof:
            chunk = self._raw.read(1 << 16)
            if not chunk:
                break
            self._buf += self._z.decompress(chunk)
        if n < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def close(self) -> None:
        self._raw.close()
        super().close()


class AtomicWriter:
    """A binary file written to a temp file beside `path` and renamed over it on `close()`;
    `abort()` (or an error inside `with`) removes the temp file."""

    def __init__(self, path: str, compression: str = "") -> None:
        self.path = os.fspath(path)
        d = os.path.dirname(os.path.abspath(self.path))
        fd, self._tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
        self._raw = os.fdopen(fd, "wb")
        self._z = None
        if compression == "GZIP":
            self.f: Any = gzip.GzipFile(fileobj=self._raw, mode="wb", mtime=0)
        elif compression == "ZLIB":
            self._z = zlib.compressobj()
            self.f = self
        else:
            self.f = self._raw
        self.closed = False

    def write(self, data: bytes) -> None:  # the ZLIB path
        self._raw.write(self._z.compress(data))  # type: ignore[union-attr]

    def flush(self) -> None:
        if self.f is not self:
            self.f.flush()
        self._raw.flush()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._z is not None:
            self._raw.write(self._z.flush())
        elif self.f is not self._raw:
            self.f.close()
        self._raw.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self._raw.close()
        finally:
            if os.path.exists(self._tmp):
                os.remove(self._tmp)

    def __enter__(self) -> AtomicWriter:
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
