"""CIFAR-100 (32x32 colour images, 50,000 training and 10,000 test, 100 fine classes in 20
coarse superclasses): the authors' binary archive, downloaded once into
``$KERAS_HOME/datasets``, checked against its published MD5, read from the cache afterwards;
a `ConnectionError` saying where to put the file when offline. (Keras downloads the pickled
"python version"; ndflow reads no pickle, see `ndflow.keras.datasets.cifar`.)
"""

from __future__ import annotations

import numpy as np

from ndflow.keras.datasets.cifar import ORIGIN_FOLDER, read_records, to_data_format
from ndflow.keras.utils.file_utils import get_file

FNAME = "cifar-100-binary.tar.gz"
FILE_HASH = "03b5dce01913d631647c71ecec9e9cb8"  # MD5 published by the dataset's authors
FOLDER = "cifar-100-binary"


def load_data(label_mode: str = "fine") -> tuple[tuple[np.ndarray, np.ndarray],
                                                  tuple[np.ndarray, np.ndarray]]:
    """`(x_train, y_train), (x_test, y_test)`: uint8 images (n, 32, 32, 3) and uint8 labels
    (n, 1), fine (0-99) or coarse (0-19) by `label_mode`."""
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'cifar100.load_data: `label_mode` must be one of "fine", "coarse". '
                         f"Received: label_mode={label_mode!r}.")
    path = get_file(FNAME, origin=ORIGIN_FOLDER + FNAME, file_hash=FILE_HASH)
    col = 1 if label_mode == "fine" else 0  # records start with the coarse, then fine label
    x_train, y_train = read_records(path, f"{FOLDER}/train.bin", 2)
    x_test, y_test = read_records(path, f"{FOLDER}/test.bin", 2)
    return ((to_data_format(x_train), y_train[:, col:col + 1].copy()),
            (to_data_format(x_test), y_test[:, col:col + 1].copy()))
