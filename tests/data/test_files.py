"""File-backed datasets, cache/save/load/snapshot on disk, auto-sharding, flat memory."""

import gzip
import os
import tracemalloc

import numpy as np
import pytest

import ndflow as tf
from ndflow.data.distribute import auto_shard
from ndflow.errors import DataLossError, NotFoundError


def _lines(ds):
    return list(ds.as_numpy_iterator())


def test_text_lines_endings_compression_and_parallel_reads(tmp_path):
    a = tmp_path / "a.txt"
    a.write_bytes(b"one\r\ntwo\n\nthree")  # CRLF, an empty line, no final newline
    b = tmp_path / "b.txt.gz"
    with gzip.open(b, "wb") as f:
        f.write(b"x1\nx2\nx3\n")
    assert _lines(tf.data.TextLineDataset(str(a))) == [b"one", b"two", b"", b"three"]
    assert _lines(tf.data.TextLineDataset([str(b)], compression_type="GZIP")) == [
        b"x1", b"x2", b"x3"]
    c = tmp_path / "c.txt"
    c.write_bytes(b"c1\nc2\n")
    par = tf.data.TextLineDataset([str(a), str(c)], num_parallel_reads=2)
    assert _lines(par) == [b"one", b"c1", b"two", b"c2", b"", b"three"]
    files = tf.data.Dataset.from_tensor_slices([str(c), str(a)])
    assert _lines(tf.data.TextLineDataset(files))[:3] == [b"c1", b"c2", b"one"]
    with pytest.raises(NotFoundError, match=r"TextLineDataset: .*missing\.txt: no such file"):
        list(tf.data.TextLineDataset(str(tmp_path / "missing.txt")))


def test_list_files_sorted_shuffled_and_missing(tmp_path):
    for k in (3, 1, 2):
        (tmp_path / f"f{k}.rec").write_bytes(b"")
    (tmp_path / "other.txt").write_bytes(b"")
    pattern = str(tmp_path / "*.rec")
    names = _lines(tf.data.Dataset.list_files(pattern, shuffle=False))
    assert names == [str(tmp_path / f"f{k}.rec").encode() for k in (1, 2, 3)]
    shuffled = _lines(tf.data.Dataset.list_files(pattern, seed=3))
    assert sorted(shuffled) == names
    with pytest.raises(ValueError, match="list_files: expected at least one file to match"):
        tf.data.Dataset.list_files(str(tmp_path / "*.none"))


def test_fixed_length_records(tmp_path):
    p = tmp_path / "r.bin"
    p.write_bytes(b"HDR" + b"aabbcc" + b"F")
    ds = tf.data.FixedLengthRecordDataset(str(p), 2, header_bytes=3, footer_bytes=1)
    assert _lines(ds) == [b"aa", b"bb", b"cc"]
    with pytest.raises(ValueError, match="not header_bytes"):
        list(tf.data.FixedLengthRecordDataset(str(p), 4))


def test_cache_to_file_replays_without_recomputing(tmp_path):
    calls = []

    def f(x):
        calls.append(int(x))
        return {"x": x, "s": tf.constant(np.float32(1.5)) * tf.cast(x, tf.float32)}

    name = str(tmp_path / "cache")
    make = lambda: tf.data.Dataset.range(5).map(f).cache(name)  # noqa: E731
    ds = make()
    it = ds.as_numpy_iterator()
    next(it)
    it.close()  # an abandoned first pass must leave no cache behind (nor temp files)
    assert os.listdir(tmp_path) == []
    first = [(int(e["x"]), float(e["s"])) for e in ds.as_numpy_iterator()]
    assert sorted(os.listdir(tmp_path)) == ["cache.data", "cache.index"]
    calls.clear()
    again = [(int(e["x"]), float(e["s"])) for e in make().as_numpy_iterator()]  # new pipeline
    assert again == first == [(i, 1.5 * i) for i in range(5)] and calls == []


def test_save_load_round_trip_with_strings_and_structures(tmp_path):
    ds = tf.data.Dataset.from_tensor_slices(
        ({"img": np.arange(24, dtype=np.uint8).reshape(4, 2, 3),
          "label": np.array([b"cat", b"", b"dog", b"\x00\xff"], dtype=object)},
         np.array([0.5, 1.5, 2.5, 3.5], np.float64)))
    path = str(tmp_path / "saved")
    ds.save(path)
    loaded = tf.data.Dataset.load(path)
    assert len(loaded) == 4
    for (a, wa), (b, wb) in zip(ds.as_numpy_iterator(), loaded.as_numpy_iterator()):
        np.testing.assert_array_equal(a["img"], b["img"])
        assert a["label"] == b["label"] and b["img"].dtype == np.uint8
        assert wa == wb and np.asarray(wb).dtype == np.float64
    tf.data.Dataset.range(3).batch(2).save(str(tmp_path / "gz"), compression="GZIP")
    assert [e.tolist() for e in tf.data.Dataset.load(str(tmp_path / "gz"))
            .as_numpy_iterator()] == [[0, 1], [2]]


def test_corrupt_saved_data_is_a_clear_data_loss_error(tmp_path):
    path = str(tmp_path / "saved")
    tf.data.Dataset.range(4).save(path)
    data = os.path.join(path, "shard_00000.tfrecord")
    raw = bytearray(open(data, "rb").read())
    raw[30] ^= 0xFF
    open(data, "wb").write(bytes(raw))
    with pytest.raises(DataLossError, match=r"Dataset.load: corrupted record at offset \d+"):
        list(tf.data.Dataset.load(path))
    with pytest.raises(NotFoundError, match="Dataset.load"):
        tf.data.Dataset.load(str(tmp_path / "nothing"))


def test_snapshot_reads_back_on_later_iterations(tmp_path):
    calls = []

    def f(x):
        calls.append(1)
        return x * 3

    ds = tf.data.Dataset.range(4).map(f).snapshot(str(tmp_path / "snap"))
    assert [int(v) for v in ds] == [0, 3, 6, 9]
    assert [int(v) for v in ds] == [0, 3, 6, 9]
    assert len(calls) == 4


def test_auto_shard_policies(tmp_path):
    paths = []
    for k in range(4):
        p = tmp_path / f"f{k}.txt"
        p.write_bytes(f"{k}a\n{k}b\n".encode())
        paths.append(str(p))
    files = tf.data.TextLineDataset(paths).map(lambda s: s)

    def with_policy(ds, policy):
        o = tf.data.Options()
        o.experimental_distribute.auto_shard_policy = policy
        return ds.with_options(o)

    P = tf.data.experimental.AutoShardPolicy
    assert _lines(auto_shard(files, 2, 1)) == [b"1a", b"1b", b"3a", b"3b"]  # AUTO -> FILE
    assert _lines(auto_shard(with_policy(files, P.DATA), 2, 1)) == [b"0b", b"1b", b"2b",
                                                                    b"3b"]
    assert len(_lines(auto_shard(with_policy(files, P.OFF), 2, 1))) == 8
    assert _lines(auto_shard(tf.data.Dataset.range(5), 2, 0)) == [0, 2, 4]  # AUTO -> DATA
    with pytest.raises(ValueError, match="at least as many files as workers"):
        list(auto_shard(files, 5, 0))
    with pytest.raises(ValueError, match="AutoShardPolicy.FILE"):
        auto_shard(with_policy(tf.data.Dataset.range(4), P.FILE), 2, 0)


def test_reading_files_larger_than_a_memory_limit_stays_flat(tmp_path):
    line = b"x" * 32767 + b"\n"
    for k in range(2):
        with open(tmp_path / f"big{k}.txt", "wb") as f:
            for _ in range(512):
                f.write(line)  # 2 x 16 MiB
    limit = 6 * 2**20
    ds = (tf.data.TextLineDataset([str(tmp_path / "big0.txt"), str(tmp_path / "big1.txt")],
                                  num_parallel_reads=2)
          .map(lambda s: s, num_parallel_calls=2).batch(8).prefetch(2))
    tracemalloc.start()
    try:
        total = 0
        for batch in ds.as_numpy_iterator():
            total += sum(len(v) for v in batch)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 2 * 512 * 32767
    assert peak < limit, f"peak {peak / 2**20:.1f} MiB while streaming 32 MiB"
