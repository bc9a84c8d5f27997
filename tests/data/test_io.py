"""tf.io against files TensorFlow 2 wrote (tests/data/reference, made by
record_tf_io_reference.py) and, when TensorFlow is importable, against live TensorFlow."""

import json
import os

import numpy as np
import pytest

import ndflow as tf
from ndflow.errors import DataLossError

REF_DIR = os.path.join(os.path.dirname(__file__), "reference")
with open(os.path.join(REF_DIR, "tf_io_reference.json")) as f:
    REF = json.load(f)
SERIALIZED = [bytes.fromhex(h) for h in REF["serialized_hex"]]

try:
    import tensorflow as real_tf
except ImportError:
    real_tf = None
needs_tf = pytest.mark.skipif(real_tf is None, reason="TensorFlow not installed (the files "
                                                      "it wrote are checked in the other tests)")


def spec(t):
    return {
        "id": t.io.FixedLenFeature([], t.int64),
        "big": t.io.FixedLenFeature([3], t.int64),
        "x": t.io.FixedLenFeature([3], t.float32),
        "name": t.io.FixedLenFeature([2], "string"),
        "tags": t.io.VarLenFeature(t.int64),
        "opt": t.io.FixedLenFeature([], t.float32, default_value=-1.0),
    }


def plain(v):
    if isinstance(v, tf.SparseTensor):
        return {"indices": v.indices.numpy().tolist(), "values": v.values.numpy().tolist(),
                "dense_shape": v.dense_shape.numpy().tolist()}
    a = np.asarray(v.numpy() if hasattr(v, "numpy") else v)
    if a.dtype == object:
        return [b.hex() for b in a.reshape(-1)]
    return a.tolist()


@pytest.mark.parametrize("name,comp", [("tf_examples.tfrecord", None),
                                       ("tf_examples.tfrecord.gz", "GZIP")])
def test_tensorflow_written_tfrecords_read_in_ndflow(name, comp):
    ds = tf.data.TFRecordDataset(os.path.join(REF_DIR, name), compression_type=comp)
    assert list(ds.as_numpy_iterator()) == SERIALIZED


def test_ndflow_writes_the_same_bytes_tensorflow_wrote(tmp_path):
    path = str(tmp_path / "out.tfrecord")
    with tf.io.TFRecordWriter(path) as w:
        for s in SERIALIZED:
            w.write(s)
    assert open(path, "rb").read() == open(os.path.join(REF_DIR, "tf_examples.tfrecord"),
                                           "rb").read()
    gz = str(tmp_path / "out.tfrecord.gz")
    with tf.io.TFRecordWriter(gz, tf.io.TFRecordOptions(compression_type="GZIP")) as w:
        for s in SERIALIZED:
            w.write(s)
    assert list(tf.data.TFRecordDataset(gz, "GZIP").as_numpy_iterator()) == SERIALIZED


def test_examples_serialize_to_tensorflows_bytes():
    for i, s in enumerate(SERIALIZED):
        ex = tf.train.Example.FromString(s)
        assert ex.features.feature["id"].int64_list.value == [i]
        assert ex.features.feature["big"].int64_list.value == [-(2**62), 2**63 - 1, -1]
        assert ex.SerializeToString() == s  # same field order, packing and varints


def test_parse_single_example_matches_tensorflow():
    for s, want in zip(SERIALIZED, REF["parse_single_example"]):
        got = {k: plain(v) for k, v in tf.io.parse_single_example(s, spec(tf)).items()}
        assert got == want


def test_parse_example_batch_matches_tensorflow():
    batch = np.empty(len(SERIALIZED), dtype=object)
    batch[:] = SERIALIZED
    got = {k: plain(v) for k, v in tf.io.parse_example(batch, spec(tf)).items()}
    assert got == REF["parse_example"]


def test_decode_raw_matches_tensorflow():
    ex = tf.train.Example.FromString(SERIALIZED[0])
    raw = ex.features.feature["raw"].bytes_list.value[0]
    out = tf.io.decode_raw(raw, tf.uint16)
    assert out.dtype == tf.uint16 and out.numpy().tolist() == REF["raw_uint16"]


def test_pipeline_parses_records_in_parallel_and_batches_sparse_features():
    ds = (tf.data.TFRecordDataset(os.path.join(REF_DIR, "tf_examples.tfrecord"))
          .map(lambda s: tf.io.parse_single_example(s, spec(tf)), num_parallel_calls=3)
          .batch(5).prefetch(1))
    (b,) = list(ds)
    assert b["id"].numpy().tolist() == [0, 1, 2, 3, 4]
    assert plain(b["tags"]) == REF["parse_example"]["tags"]
    assert b["opt"].numpy().tolist() == [-1.0, 7.5, -1.0, 7.5, -1.0]
    names = b["name"].numpy()  # a tf.string tensor, as TF gives it
    assert [bytes(v) for v in names[:, 0]] == [f"item{i}".encode() for i in range(5)]


def test_parse_errors_name_the_feature():
    s = SERIALIZED[0]
    with pytest.raises(ValueError, match="Feature: missing .*required but could not be found"):
        tf.io.parse_single_example(s, {"missing": tf.io.FixedLenFeature([], tf.int64)})
    with pytest.raises(ValueError, match="Feature: x. Data types don't match. Expected type: "
                                         "int64, Actual type: float"):
        tf.io.parse_single_example(s, {"x": tf.io.FixedLenFeature([3], tf.int64)})
    with pytest.raises(ValueError, match="Key: x. Number of float32 values != expected. Values "
                                         "size: 3 but output shape: \\[2\\]"):
        tf.io.parse_single_example(s, {"x": tf.io.FixedLenFeature([2], tf.float32)})
    with pytest.raises(ValueError, match="could not parse the serialized Example"):
        tf.io.parse_single_example(b"\x0a\xff", {"x": tf.io.VarLenFeature(tf.float32)})


def test_corrupt_and_truncated_records_are_data_loss_errors_naming_the_file(tmp_path):
    raw = bytearray(open(os.path.join(REF_DIR, "tf_examples.tfrecord"), "rb").read())
    bad = tmp_path / "bad.tfrecord"
    first_len = 16 + int.from_bytes(raw[:8], "little")
    raw[first_len + 20] ^= 0x01  # a data byte of the second record
    bad.write_bytes(bytes(raw))
    got = []
    with pytest.raises(DataLossError, match=rf"TFRecordDataset: corrupted record at offset "
                                            rf"{first_len} in .*bad.tfrecord"):
        for r in tf.data.TFRecordDataset(str(bad)).as_numpy_iterator():
            got.append(r)
    assert got == SERIALIZED[:1]
    cut = tmp_path / "cut.tfrecord"
    cut.write_bytes(open(os.path.join(REF_DIR, "tf_examples.tfrecord"), "rb").read()[:-3])
    with pytest.raises(DataLossError, match="truncated record"):
        list(tf.data.TFRecordDataset(str(cut)))
    with pytest.raises(DataLossError, match="compression_type='GZIP'"):
        list(tf.data.TFRecordDataset(os.path.join(REF_DIR, "tf_examples.tfrecord.gz")))


def test_writer_is_atomic(tmp_path):
    path = tmp_path / "w.tfrecord"
    with pytest.raises(RuntimeError):
        with tf.io.TFRecordWriter(str(path)) as w:
            w.write(b"x")
            raise RuntimeError("interrupted")
    assert os.listdir(tmp_path) == []


def test_crc32c_known_values():
    from ndflow.backend import jit
    from ndflow.data.tfrecord import crc32c

    # RFC 3720 B.4 test vectors
    for on in ([True, False] if jit.enabled() else [False]):
        with jit.switched(on):
            assert crc32c(bytes(32)) == 0x8A9136AA
            assert crc32c(b"\xff" * 32) == 0x62A8AB43
            assert crc32c(bytes(range(32))) == 0x46DD794E
            assert crc32c(b"123456789") == 0xE3069283


PNG_CASES = [("tf_rgb.png", "rgb"), ("tf_gray.png", "gray")]


@pytest.mark.parametrize("name,src", PNG_CASES)
def test_decode_png_of_tensorflow_files(name, src):
    data = tf.io.read_file(os.path.join(REF_DIR, name))
    img = tf.io.decode_png(data)
    assert img.dtype == tf.uint8
    assert img.numpy().tolist() == REF["source_images"][src] == REF["decoded_images"][name]
    assert tf.io.decode_image(data).numpy().tolist() == REF["decoded_images"][name]


def test_decode_png_channels_and_jpeg_against_tensorflow():
    gray = tf.io.read_file(os.path.join(REF_DIR, "tf_gray.png"))
    assert tf.io.decode_png(gray, channels=3).numpy().tolist() == \
        REF["decoded_images"]["tf_gray.png:channels3"]
    jpg = tf.io.read_file(os.path.join(REF_DIR, "tf_smooth.jpg"))
    mine = tf.io.decode_jpeg(jpg).numpy().astype(int)
    theirs = np.asarray(REF["decoded_images"]["tf_smooth.jpg"])
    assert mine.shape == theirs.shape == (16, 16, 3)
    assert np.abs(mine - theirs).max() <= 3  # libjpeg vs libjpeg-turbo IDCT rounding
    f = tf.io.decode_image(jpg, dtype=tf.float32).numpy()
    assert f.dtype == np.float32 and 0 <= f.min() and f.max() <= 1
    np.testing.assert_allclose(f, REF["decoded_images"]["tf_smooth.jpg:float32"],
                               atol=3.5 / 255)
    with pytest.raises(ValueError, match="decode_png: expected PNG data, got JPEG"):
        tf.io.decode_png(jpg)
    with pytest.raises(ValueError, match="decode_image: could not decode"):
        tf.io.decode_image(b"not an image")


def test_encode_png_round_trip_and_images_in_a_pipeline(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (4, 8, 6, 3), dtype=np.uint8)
    for i in range(4):
        tf.io.write_file(str(tmp_path / f"im{i}.png"), tf.io.encode_png(images[i]))
    ds = (tf.data.Dataset.list_files(str(tmp_path / "*.png"), shuffle=False)
          .map(lambda p: tf.cast(tf.io.decode_png(tf.io.read_file(p)), tf.float32) / 255.0,
               num_parallel_calls=tf.data.AUTOTUNE).batch(4))
    (b,) = list(ds)
    assert b.shape == (4, 8, 6, 3) and b.dtype == tf.float32
    np.testing.assert_allclose(b.numpy(), images / 255.0, rtol=1e-6)


@needs_tf
def test_tensorflow_reads_what_ndflow_wrote(tmp_path):
    path = str(tmp_path / "nd.tfrecord")
    with tf.io.TFRecordWriter(path, "GZIP") as w:
        for i in range(3):
            w.write(tf.train.Example(features=tf.train.Features(feature={
                "v": tf.train.Feature(float_list=tf.train.FloatList(value=[i, -i / 4])),
                "s": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"k%d" % i])),
            })).SerializeToString())
    spec_tf = {"v": real_tf.io.FixedLenFeature([2], real_tf.float32),
               "s": real_tf.io.FixedLenFeature([], real_tf.string)}
    got = [{k: (lambda a: a if isinstance(a, bytes) else a.tolist())(v.numpy())
            for k, v in real_tf.io.parse_single_example(r, spec_tf).items()}
           for r in real_tf.data.TFRecordDataset(path, "GZIP")]
    assert got == [{"v": [i, -i / 4], "s": b"k%d" % i} for i in range(3)]
    img = np.arange(60, dtype=np.uint8).reshape(4, 5, 3)
    assert real_tf.io.decode_png(tf.io.encode_png(img)).numpy().tolist() == img.tolist()
