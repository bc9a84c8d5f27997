"""`tf.io`: files, TFRecords, `tf.train.Example` parsing, image codecs.

>>> import ndflow as tf
>>> spec = {"y": tf.io.FixedLenFeature([], tf.int64, default_value=-1)}
>>> int(tf.io.parse_single_example(tf.train.Example().SerializeToString(), spec)["y"])
-1
"""

from ndflow.io.files import (
    TFRecordOptions, TFRecordWriter, gfile, read_file, write_file,
)
from ndflow.io.image import decode_image, decode_jpeg, decode_png, encode_jpeg, encode_png
from ndflow.io.parsing import (
    FixedLenFeature, FixedLenSequenceFeature, VarLenFeature, decode_raw, parse_example,
    parse_single_example,
)

__all__ = [n for n in dir() if not n.startswith("_")]
