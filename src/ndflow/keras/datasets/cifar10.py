"""CIFAR-10 (32x32 colour images, 50,000 training and 10,000 test, 10 classes): the authors'
binary archive, downloaded once into ``$KERAS_HOME/datasets`` (``~/.keras/datasets``), checked
against its published MD5, read from the cache afterwards. Offline and without a cached copy,
`load_data` raises a `ConnectionError` saying where to put the file. (Keras downloads the
pickled "python version"; ndflow reads no pickle, see `ndflow.keras.datasets.cifar`.)

Classes: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship,
9 truck.
"""

from __future__ import annotations

import numpy as np

from ndflow.keras.datasets.cifar import ORIGIN_FOLDER, read_records, to_data_format
from ndflow.keras.utils.file_utils import get_file

FNAME = "cifar-10-binary.tar.gz"
FILE_HASH = "c32a1d4ab5d03f1284b67883e8d87530"  # MD5 published by the dataset's authors
FOLDER = "cifar-10-batches-bin"


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """`(x_train, y_train), (x_test, y_test)`: uint8 images (n, 32, 32, 3) (channels last by
    default) and uint8 labels of shape (n, 1), as Keras returns them."""
    path = get_file(FNAME, origin=ORIGIN_FOLDER + FNAME, file_hash=FILE_HASH)
    parts = [read_records(path, f"{FOLDER}/data_batch_{i}.bin", 1) for i in range(1, 6)]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = read_records(path, f"{FOLDER}/test_batch.bin", 1)
    return ((to_data_format(x_train), y_train.reshape(-1, 1)),
            (to_data_format(x_test), y_test.reshape(-1, 1).copy()))
