"""File-backed datasets: `list_files`, `TextLineDataset`, `TFRecordDataset`,
`FixedLengthRecordDataset`. Files are streamed (memory stays flat) and closed as soon as an
iterator is finished or abandoned.

>>> import ndflow as tf, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
>>> _ = open(path, "w").write("one\\ntwo\\n")
>>> list(tf.data.TextLineDataset(path).as_numpy_iterator())
[b'one', b'two']
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ndflow.data import structure as st
from ndflow.data.dataset import UNKNOWN, Dataset, IterContext
from ndflow.data.tfrecord import check_compression, open_read, read_records
from ndflow.errors import InvalidArgumentError, NotFoundError


def _filenames(filenames: Any, stage: str) -> Dataset:
    """File names as a dataset of bytes scalars."""
    if isinstance(filenames, Dataset):
        return filenames
    filenames = st.plain(filenames)
    if isinstance(filenames, (str, bytes, os.PathLike)):
        names = [filenames]
    else:
        a = st.to_numpy(filenames)
        names = list(np.asarray(a).reshape(-1))
    out = []
    for n in names:
        n = os.fsdecode(n) if isinstance(n, (bytes, os.PathLike)) else n
        if not isinstance(n, str):
            raise InvalidArgumentError(f"{stage}: expected file names (str or bytes), got "
                                       f"{type(n).__name__}")
        out.append(n.encode())
    arr = np.empty(len(out), dtype=object)
    arr[:] = out
    return Dataset.from_tensor_slices(arr)


def _name(x: Any) -> str:
    x = st.plain(x)
    v = x.item() if isinstance(x, np.ndarray) else x
    return os.fsdecode(v)


class _FileDataset(Dataset):
    """Records of each file in turn; `num_parallel_reads` reads files concurrently
    (interleaved one record at a time, in a deterministic order)."""

    _stage = "FileDataset"

    def __init__(self, filenames: Any, num_parallel_reads: Any,
                 records: Callable[[str], Iterator]) -> None:
        names = _filenames(filenames, self._stage)
        one = lambda name: Dataset(lambda ctx, n=_name(name): records(n))  # noqa: E731
        if num_parallel_reads is None or int(num_parallel_reads) == 1:
            inner = names.flat_map(one)
        else:
            n = int(num_parallel_reads)
            inner = names.interleave(one, cycle_length=n if n > 0 else None, block_length=1,
                                     num_parallel_calls=n)
        stage = self._stage
        sharded = names.flat_map(one) if num_parallel_reads in (None, 1) else None

        def make(ctx: IterContext) -> Iterator:
            if ctx.file_shard is None:
                return inner._iter(ctx)
            n, i = ctx.file_shard
            files = [f for f in names.as_numpy_iterator()]
            if len(files) < n:
                raise InvalidArgumentError(
                    f"{stage}: auto-sharding by FILE needs at least as many files as workers, "
                    f"got {len(files)} files for {n} workers; use AutoShardPolicy.DATA")
            mine = _filenames(files[i::n], stage)
            ds = mine.flat_map(one) if sharded is not None else mine.interleave(
                one, cycle_length=int(num_parallel_reads) if int(num_parallel_reads) > 0
                else None, block_length=1, num_parallel_calls=num_parallel_reads)
            return ds._iter(IterContext(ctx.options, ctx.ignore_errors, ctx.log_warning))

        super().__init__(make, UNKNOWN, (inner,))


def _missing(stage: str, path: str) -> NotFoundError:
    return NotFoundError(f"{stage}: {path}: no such file")


class TextLineDataset(_FileDataset):
    """Lines of text files as bytes scalars, without their line ends (`\\n` or `\\r\\n`)."""

    _stage = "TextLineDataset"

    def __init__(self, filenames: Any, compression_type: str | None = None,
                 buffer_size: int | None = None, num_parallel_reads: Any = None,
                 name: str | None = None) -> None:
        comp = check_compression(compression_type, self._stage)

        def records(path: str) -> Iterator:
            if not os.path.exists(path):
                raise _missing(self._stage, path)
            with open_read(path, comp) as f:
                pending = b""
                while True:
                    chunk = f.read(1 << 16)
                    if not chunk:
                        break
                    lines = (pending + chunk).split(b"\n")
                    pending = lines.pop()
                    for line in lines:
                        yield np.asarray(line[:-1] if line.endswith(b"\r") else line,
                                         dtype=object)
                if pending:
                    yield np.asarray(pending[:-1] if pending.endswith(b"\r") else pending,
                                     dtype=object)

        super().__init__(filenames, num_parallel_reads, records)


class TFRecordDataset(_FileDataset):
    """The records of TFRecord files (as TensorFlow writes them) as bytes scalars."""

    _stage = "TFRecordDataset"

    def __init__(self, filenames: Any, compression_type: str | None = None,
                 buffer_size: int | None = None, num_parallel_reads: Any = None,
                 name: str | None = None) -> None:
        comp = check_compression(compression_type, self._stage)

        def records(path: str) -> Iterator:
            if not os.path.exists(path):
                raise _missing(self._stage, path)
            with open_read(path, comp) as f:
                for r in read_records(f, path, self._stage):
                    yield np.asarray(r, dtype=object)

        super().__init__(filenames, num_parallel_reads, records)


class FixedLengthRecordDataset(_FileDataset):
    """Fixed-size records of binary files (after `header_bytes`, before `footer_bytes`)."""

    _stage = "FixedLengthRecordDataset"

    def __init__(self, filenames: Any, record_bytes: int, header_bytes: int | None = None,
                 footer_bytes: int | None = None, buffer_size: int | None = None,
                 compression_type: str | None = None, num_parallel_reads: Any = None,
                 name: str | None = None) -> None:
        comp = check_compression(compression_type, self._stage)
        rb, hb, fb = int(record_bytes), int(header_bytes or 0), int(footer_bytes or 0)
        if rb <= 0:
            raise InvalidArgumentError(f"{self._stage}: expected record_bytes > 0, got {rb}")

        def records(path: str) -> Iterator:
            if not os.path.exists(path):
                raise _missing(self._stage, path)
            with open_read(path, comp) as f:
                data_len = None if comp else os.path.getsize(path) - hb - fb
                if data_len is not None and (data_len < 0 or data_len % rb):
                    raise InvalidArgumentError(
                        f"{self._stage}: {path}: {os.path.getsize(path)} bytes is not "
                        f"header_bytes ({hb}) + a multiple of record_bytes ({rb}) + "
                        f"footer_bytes ({fb})")
                f.read(hb)
                n = 0
                while data_len is None or n < data_len:
                    r = f.read(rb)
                    if len(r) < rb:
                        break  # compressed: the footer is what is left
                    n += rb
                    yield np.asarray(r, dtype=object)

        super().__init__(filenames, num_parallel_reads, records)


def list_files(file_pattern: Any, shuffle: bool | None, seed: int | None) -> Dataset:
    stage = "Dataset.list_files"
    patterns = [file_pattern] if isinstance(file_pattern, (str, bytes, os.PathLike)) else \
        list(np.asarray(st.to_numpy(file_pattern)).reshape(-1))
    found = sorted({m for p in patterns for m in glob.glob(os.fsdecode(p))})
    if not found:
        raise InvalidArgumentError(f"{stage}: expected at least one file to match "
                                   f"{[os.fsdecode(p) for p in patterns]}, got none")
    names = np.empty(len(found), dtype=object)
    names[:] = [m.encode() for m in found]
    ds = Dataset.from_tensor_slices(names)
    if shuffle is None or shuffle:
        ds = ds.shuffle(len(found), seed=seed)
    return ds


__all__ = ["FixedLengthRecordDataset", "TFRecordDataset", "TextLineDataset", "list_files"]
