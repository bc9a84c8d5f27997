"""Write TFRecord / Example / image files with TensorFlow, and what TensorFlow parses from
them, into tests/data/reference/ (run with a Python that has TensorFlow:
`/work/tfenv/bin/python tests/data/record_tf_io_reference.py`)."""

import json
import os

import numpy as np
import tensorflow as tf

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference")


def example(i):
    f = {
        "id": tf.train.Feature(int64_list=tf.train.Int64List(value=[i])),
        "big": tf.train.Feature(int64_list=tf.train.Int64List(value=[-(2**62), 2**63 - 1,
                                                                     -1])),
        "x": tf.train.Feature(float_list=tf.train.FloatList(value=[i * 0.5, -1.25, 3.4e38])),
        "name": tf.train.Feature(bytes_list=tf.train.BytesList(value=[f"item{i}".encode(),
                                                                      b"\x00\xff"])),
        "tags": tf.train.Feature(int64_list=tf.train.Int64List(value=list(range(10, 10 + i)))),
        "raw": tf.train.Feature(bytes_list=tf.train.BytesList(
            value=[np.arange(6, dtype=np.uint16).tobytes()])),
    }
    if i % 2:
        f["opt"] = tf.train.Feature(float_list=tf.train.FloatList(value=[7.5]))
    return tf.train.Example(features=tf.train.Features(feature=f))


SPEC = {
    "id": tf.io.FixedLenFeature([], tf.int64),
    "big": tf.io.FixedLenFeature([3], tf.int64),
    "x": tf.io.FixedLenFeature([3], tf.float32),
    "name": tf.io.FixedLenFeature([2], tf.string),
    "tags": tf.io.VarLenFeature(tf.int64),
    "opt": tf.io.FixedLenFeature([], tf.float32, default_value=-1.0),
}


def plain(v):
    if isinstance(v, tf.sparse.SparseTensor):
        return {"indices": v.indices.numpy().tolist(), "values": v.values.numpy().tolist(),
                "dense_shape": v.dense_shape.numpy().tolist()}
    a = v.numpy()
    if a.dtype == object:
        return [b.hex() for b in a.reshape(-1)]
    return a.tolist()


serialized = [example(i).SerializeToString() for i in range(5)]
with tf.io.TFRecordWriter(os.path.join(here, "tf_examples.tfrecord")) as w:
    for s in serialized:
        w.write(s)
with tf.io.TFRecordWriter(os.path.join(here, "tf_examples.tfrecord.gz"),
                          options="GZIP") as w:
    for s in serialized:
        w.write(s)
single = [{k: plain(v) for k, v in tf.io.parse_single_example(s, SPEC).items()}
          for s in serialized]
batch = {k: plain(v) for k, v in tf.io.parse_example(tf.constant(serialized), SPEC).items()}

rng = np.random.default_rng(0)
rgb = rng.integers(0, 256, size=(6, 5, 3), dtype=np.uint8)
gray = rng.integers(0, 256, size=(4, 7, 1), dtype=np.uint8)
smooth = (np.add.outer(np.arange(16), np.arange(16))[..., None] * [8, 4, 2]).astype(np.uint8)
files = {"tf_rgb.png": tf.io.encode_png(rgb), "tf_gray.png": tf.io.encode_png(gray),
         "tf_smooth.jpg": tf.io.encode_jpeg(smooth, quality=90)}
for name, data in files.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(data.numpy())
decoded = {name: tf.io.decode_image(data).numpy().tolist() for name, data in files.items()}
decoded["tf_gray.png:channels3"] = tf.io.decode_png(files["tf_gray.png"], channels=3) \
    .numpy().tolist()
decoded["tf_smooth.jpg:float32"] = tf.image.decode_image(
    files["tf_smooth.jpg"], dtype=tf.float32).numpy().round(6).tolist()

with open(os.path.join(here, "tf_io_reference.json"), "w") as f:
    json.dump({"tensorflow": tf.__version__, "serialized_hex": [s.hex() for s in serialized],
               "parse_single_example": single, "parse_example": batch,
               "raw_uint16": tf.io.decode_raw(example(0).features.feature["raw"].bytes_list
                                              .value[0], tf.uint16).numpy().tolist(),
               "decoded_images": decoded, "source_images": {
                   "rgb": rgb.tolist(), "gray": gray.tolist(), "smooth": smooth.tolist()}},
              f, sort_keys=True)
print("wrote", sorted(os.listdir(here)))
