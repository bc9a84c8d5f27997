"""`tf.io.read_file`, `write_file`, `TFRecordWriter`, `TFRecordOptions`, and `tf.io.gfile`.

>>> import ndflow as tf, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "r.tfrecord")
>>> with tf.io.TFRecordWriter(path) as w:
...     w.write(b"abc")
>>> [bytes(r) for r in tf.data.TFRecordDataset(path).as_numpy_iterator()]
[b'abc']
"""

from __future__ import annotations

import glob as _glob
import os
import shutil
from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.data.tfrecord import AtomicWriter, check_compression, write_record
from ndflow.errors import InvalidArgumentError, NotFoundError


def plain(x: Any) -> Any:
    from ndflow.data.structure import plain as _plain

    return _plain(x)


def _path(x: Any, where: str) -> str:
    x = plain(x)
    if isinstance(x, np.ndarray) and x.ndim == 0:
        x = x.item()
    if isinstance(x, (bytes, str, os.PathLike)):
        return os.fsdecode(x)
    raise InvalidArgumentError(f"{where}: expected a file name, got {type(x).__name__}")


def _bytes(x: Any, where: str) -> bytes:
    x = plain(x)
    if isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "OS":
        x = x.item()
    if isinstance(x, str):
        return x.encode()
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x)
    if isinstance(x, Tensor):
        raise InvalidArgumentError(f"{where}: expected bytes, got a numeric tensor; serialize "
                                   "it first (e.g. tf.io.serialize_tensor or .tobytes())")
    raise InvalidArgumentError(f"{where}: expected bytes, got {type(x).__name__}")


def read_file(filename: Any, name: str | None = None) -> bytes:
    """The whole contents of a file, as bytes."""
    p = _path(filename, "read_file")
    try:
        with open(p, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise NotFoundError(f"read_file: {p}: no such file") from None


def write_file(filename: Any, contents: Any, name: str | None = None) -> None:
    """Write bytes to a file (atomically), creating missing directories like TF."""
    p = _path(filename, "write_file")
    os.makedirs(os.path.dirname(os.path.abspath(p)), exist_ok=True)
    with AtomicWriter(p) as w:
        w.f.write(_bytes(contents, "write_file"))


class TFRecordOptions:
    """`compression_type`: None/"", "GZIP" or "ZLIB"."""

    def __init__(self, compression_type: str | None = None, **_: Any) -> None:
        self.compression_type = check_compression(compression_type, "TFRecordOptions")


class TFRecordWriter:
    """Writes records in TensorFlow's TFRecord format. The file appears at `path` when the
    writer is closed (written to a temp file until then)."""

    def __init__(self, path: Any, options: Any = None) -> None:
        comp = options.compression_type if isinstance(options, TFRecordOptions) else \
            check_compression(options, "TFRecordWriter")
        self._w = AtomicWriter(_path(path, "TFRecordWriter"), comp)

    def write(self, record: Any) -> None:
        if self._w.closed:
            raise InvalidArgumentError("TFRecordWriter.write: the writer is closed")
        write_record(self._w.f, _bytes(record, "TFRecordWriter.write"))

    def flush(self) -> None:
        self._w.flush()

    def close(self) -> None:
        self._w.close()

    def __enter__(self) -> TFRecordWriter:
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self._w.abort()

    def __del__(self) -> None:
        w = getattr(self, "_w", None)
        if w is not None and not w.closed:
            w.abort()


class gfile:  # noqa: N801 - TensorFlow's namespace name
    """`tf.io.gfile` on the local file system."""

    GFile = staticmethod(open)
    exists = staticmethod(os.path.exists)
    isdir = staticmethod(os.path.isdir)
    listdir = staticmethod(os.listdir)
    remove = staticmethod(os.remove)
    rmtree = staticmethod(shutil.rmtree)
    rename = staticmethod(os.replace)

    @staticmethod
    def glob(pattern: Any) -> list[str]:
        pats = [pattern] if isinstance(pattern, (str, bytes)) else list(pattern)
        return sorted({m for p in pats for m in _glob.glob(os.fsdecode(p))})

    @staticmethod
    def makedirs(path: str) -> None:
        os.makedirs(path, exist_ok=True)

    @staticmethod
    def mkdir(path: str) -> None:
        os.mkdir(path)

    @staticmethod
    def copy(src: str, dst: str, overwrite: bool = False) -> None:
        if os.path.exists(dst) and not overwrite:
            raise InvalidArgumentError(f"gfile.copy: {dst} exists (pass overwrite=True)")
        shutil.copyfile(src, dst)
