"""MNIST handwritten digits (28x28, 60,000 training and 10,000 test images), loaded the way
Keras does: from the local cache (``$KERAS_HOME/datasets`` or ``~/.keras/datasets``) when the
file is there, otherwise downloaded once from Keras's public copy and checked against its
SHA-256 hash. Offline and without a cached copy, `load_data` raises a `ConnectionError` that
says where to put the file.

For a dataset that needs no network, see `ndflow.keras.datasets.digits`.
"""

from __future__ import annotations

import numpy as np

from ndflow.keras.utils.file_utils import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path: str = "mnist.npz") -> tuple[tuple[np.ndarray, np.ndarray],
                                                tuple[np.ndarray, np.ndarray]]:
    """`(x_train, y_train), (x_test, y_test)`: uint8 images (n, 28, 28) and uint8 labels.

    `path` is the file name inside the cache folder (or an absolute path).
    """
    fpath = get_file(fname=path, origin=ORIGIN_FOLDER + "mnist.npz", file_hash=FILE_HASH)
    with np.load(fpath, allow_pickle=False) as f:
        missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in f]
        if missing:
            raise ValueError(f"mnist.load_data: {fpath} is not an MNIST file: expected arrays "
                             f"x_train, y_train, x_test, y_test, missing {missing}")
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
