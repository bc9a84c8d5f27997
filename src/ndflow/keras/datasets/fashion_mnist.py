"""Fashion-MNIST (28x28 grayscale clothing images, 60,000 training and 10,000 test, 10
classes), loaded as Keras loads it: the four gzipped IDX files from Keras's public copy, kept
in ``$KERAS_HOME/datasets/fashion-mnist`` (``~/.keras/...``) and read from there once cached.
Offline and without a cached copy, `load_data` raises a `ConnectionError` saying where to put
the files.

Classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker,
8 Bag, 9 Ankle boot.
"""

from __future__ import annotations

import gzip
import os

import numpy as np

from ndflow.keras.utils.file_utils import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
CACHE_SUBDIR = os.path.join("datasets", "fashion-mnist")
FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")


def _read_idx(path: str, offset: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """`(x_train, y_train), (x_test, y_test)`: uint8 images (n, 28, 28) and uint8 labels."""
    paths = [get_file(f, origin=ORIGIN_FOLDER + f, cache_subdir=CACHE_SUBDIR) for f in FILES]
    y_train = _read_idx(paths[0], 8)
    x_train = _read_idx(paths[1], 16)
    y_test = _read_idx(paths[2], 8)
    x_test = _read_idx(paths[3], 16)
    for x, y, name in ((x_train, y_train, FILES[1]), (x_test, y_test, FILES[3])):
        if x.size != len(y) * 28 * 28:
            raise ValueError(f"fashion_mnist.load_data: {name} holds {x.size} bytes of pixels, "
                             f"expected {len(y)} images of 28x28 (one per label); the cached "
                             "file is damaged: delete it to download it again")
    return ((x_train.reshape(len(y_train), 28, 28), y_train),
            (x_test.reshape(len(y_test), 28, 28), y_test))
