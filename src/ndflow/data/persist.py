"""Elements on disk: `cache(filename)`, `save`/`load`, `snapshot`.

Each element is one TFRecord-framed record (checksummed) holding a small JSON header (dtype and
shape per component) and the raw array bytes; string components are stored as lengths plus
bytes. A JSON index beside the data holds the element structure and count. No pickle; every file
is written to a temp file and renamed into place only when complete.

>>> import ndflow as tf, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "saved")
>>> tf.data.Dataset.range(3).map(lambda x: {"x": x * 2}).save(path)
>>> [int(e["x"]) for e in tf.data.Dataset.load(path)]
[0, 2, 4]
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np

from ndflow.data import structure as st
from ndflow.data.dataset import Dataset, IterContext
from ndflow.data.parallel import close_iterator
from ndflow.data.tfrecord import AtomicWriter, check_compression, open_read, read_records, \
    write_record
from ndflow.errors import DataLossError, InvalidArgumentError, NotFoundError

_FORMAT = "ndflow.data/1"
_MAX_HEADER = 1 << 20


def _template(x: Any) -> Any:
    if isinstance(x, dict):
        for k in x:
            if not isinstance(k, str):
                raise InvalidArgumentError(f"Dataset.save: expected string dict keys, got {k!r}")
        return {"dict": [[k, _template(v)] for k, v in x.items()]}
    if isinstance(x, tuple):
        return {"tuple": [_template(v) for v in x]}
    if isinstance(x, Dataset):
        raise InvalidArgumentError("Dataset.save: cannot store dataset elements (windows); "
                                   "batch them first")
    return None


def _from_template(t: Any) -> Any:
    if t is None:
        return 0
    if "dict" in t:
        return {k: _from_template(v) for k, v in t["dict"]}
    return tuple(_from_template(v) for v in t["tuple"])


def encode(element: Any) -> bytes:
    header, chunks = [], []
    for a in st.flatten(element):
        a = np.asarray(a, dtype=object if isinstance(a, (bytes, str)) else None)
        if a.dtype.kind == "O":
            vals = [v.encode() if isinstance(v, str) else bytes(v) for v in a.reshape(-1)]
            header.append(["bytes", list(a.shape)])
            chunks.append(np.asarray([len(v) for v in vals], "<u8").tobytes() + b"".join(vals))
        else:
            header.append([a.dtype.str, list(a.shape)])
            chunks.append(np.ascontiguousarray(a).tobytes())
    h = json.dumps(header).encode()
    return struct.pack("<I", len(h)) + h + b"".join(chunks)


def decode(data: bytes, template: Any, where: str) -> Any:
    try:
        (hlen,) = struct.unpack("<I", data[:4])
        if hlen > _MAX_HEADER:
            raise ValueError("header too large")
        header = json.loads(data[4:4 + hlen])
        pos = 4 + hlen
        out = []
        for dtype, shape in header:
            n = int(np.prod(shape, dtype=np.int64))
            if dtype == "bytes":
                lens = np.frombuffer(data, "<u8", n, pos)
                pos += 8 * n
                arr = np.empty(n, dtype=object)
                for i, k in enumerate(lens.tolist()):
                    arr[i] = data[pos:pos + k]
                    pos += k
                out.append(arr.reshape(shape))
            else:
                dt = np.dtype(dtype)
                if dt.kind not in "biufc":
                    raise ValueError(f"dtype {dtype} not allowed")
                out.append(np.frombuffer(data, dt, n, pos).reshape(shape).copy())
                pos += n * dt.itemsize
        if pos != len(data):
            raise ValueError(f"{len(data) - pos} bytes left over")
        return st.pack(template, out)
    except (ValueError, TypeError, struct.error, json.JSONDecodeError) as e:
        raise DataLossError(f"{where}: a stored element could not be decoded ({e})") from e


def _write_json(path: str, obj: Any) -> None:
    with AtomicWriter(path) as w:
        w.f.write(json.dumps(obj, indent=1).encode())


def _read_json(path: str, stage: str) -> dict:
    try:
        with open(path, "rb") as f:
            meta = json.loads(f.read(_MAX_HEADER))
    except FileNotFoundError:
        raise NotFoundError(f"{stage}: {path}: no such file") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise DataLossError(f"{stage}: {path} is not a valid index ({e})") from e
    fmt = meta.get("format") if isinstance(meta, dict) else None
    if fmt != _FORMAT:
        raise DataLossError(f"{stage}: {path} was not written by ndflow's Dataset.save/cache/"
                            f"snapshot (format {fmt!r}, expected {_FORMAT!r})")
    return meta


def _read_elements(paths: list[str], template: Any, compression: str, stage: str) -> Iterator:
    t = _from_template(template)
    for p in paths:
        with open_read(p, compression) as f:
            for r in read_records(f, p, stage):
                yield decode(r, t, f"{stage} ({p})")


class _Recorder:
    """Writes elements while they pass; finalises only after a complete iteration."""

    def __init__(self, data_path: str, index_path: str, compression: str) -> None:
        self.data_path, self.index_path, self.compression = data_path, index_path, compression

    def run(self, it: Iterator) -> Iterator:
        w = AtomicWriter(self.data_path, self.compression)
        template, count, ok = None, 0, False
        try:
            for el in it:
                if template is None:
                    template = _template(el)
                write_record(w.f, encode(el))
                count += 1
                yield el
            ok = True
        finally:
            close_iterator(it)
            if ok:
                w.close()
                _write_json(self.index_path, {"format": _FORMAT, "template": template,
                                              "count": count, "compression": self.compression,
                                              "files": [os.path.basename(self.data_path)]})
            else:
                w.abort()


def _replay_or_record(src: Dataset, data_path: str, index_path: str, compression: str,
                      stage: str) -> Dataset:
    def make(ctx: IterContext) -> Iterator:
        if os.path.exists(index_path):
            meta = _read_json(index_path, stage)
            return _read_elements([data_path], meta["template"], meta["compression"], stage)
        return _Recorder(data_path, index_path, compression).run(src._iter(ctx))

    return src._derive(make, src._cardinality)


def file_cache(src: Dataset, filename: str) -> Dataset:
    """`cache(filename)`: `filename.index` (JSON) and `filename.data` (records)."""
    d = os.path.dirname(os.path.abspath(filename))
    if not os.path.isdir(d):
        raise NotFoundError(f"Dataset.cache: the directory {d} of {filename} does not exist")
    return _replay_or_record(src, filename + ".data", filename + ".index", "",
                             "Dataset.cache")


def snapshot(src: Dataset, path: str, compression: Any) -> Dataset:
    comp = "" if compression in ("AUTO", None) else check_compression(compression,
                                                                      "Dataset.snapshot")
    os.makedirs(path, exist_ok=True)
    return _replay_or_record(src, os.path.join(path, "snapshot.data"),
                             os.path.join(path, "snapshot.index"), comp, "Dataset.snapshot")


def save(src: Dataset, path: str, compression: Any) -> None:
    stage = "Dataset.save"
    comp = check_compression(compression, stage)
    os.makedirs(path, exist_ok=True)
    name = os.path.join(path, "shard_00000.tfrecord")
    it = _Recorder(name, os.path.join(path, "dataset_spec.json"), comp).run(
        src._iter(src._context()))
    for _ in it:
        pass


def load(path: str, compression: Any = None) -> Dataset:
    stage = "Dataset.load"
    meta = _read_json(os.path.join(path, "dataset_spec.json"), stage)
    files = [os.path.join(path, os.path.basename(f)) for f in meta["files"]]
    return Dataset(lambda ctx: _read_elements(files, meta["template"], meta["compression"],
                                              stage), int(meta["count"]))
