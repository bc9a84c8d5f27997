"""The UCI handwritten digits (8x8), shipped inside ndflow: a small real dataset that needs no
download.

1,797 grey-scale images of 8x8 pixels with labels 0-9, split once (stratified by class, fixed
seed) into 1,438 training and 359 test images. Licence: CC BY 4.0 (see
`data/DIGITS_LICENSE.txt` next to this file).

>>> from ndflow.keras.datasets import digits
>>> (x_train, y_train), (x_test, y_test) = digits.load_data()
>>> x_train.shape, y_train.shape, x_test.shape, y_test.shape
((1438, 8, 8), (1438,), (359, 8, 8), (359,))
>>> x_train.dtype.name, int(x_train.max()), sorted(set(y_test.tolist())) == list(range(10))
('uint8', 255, True)
"""

from __future__ import annotations

import os

import numpy as np

DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "digits.npz")
LICENSE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                            "DIGITS_LICENSE.txt")
NUM_TRAIN = 1438
NUM_TEST = 359


def load_data(raw: bool = False) -> tuple[tuple[np.ndarray, np.ndarray],
                                          tuple[np.ndarray, np.ndarray]]:
    """Load the bundled digits as `(x_train, y_train), (x_test, y_test)`.

    Images are uint8 arrays of shape (n, 8, 8) and labels uint8 arrays of shape (n,). The
    original pixels are counts 0..16; by default they are rescaled to 0..255 (`round(v * 255 /
    16)`) so that MNIST code (`x / 255`) works unchanged. `raw=True` returns the counts.

    >>> (x, y), _ = load_data(raw=True)
    >>> int(x.max())
    16
    """
    if not os.path.exists(DATA_FILE):
        raise FileNotFoundError(
            f"digits.load_data: the bundled data file is missing (expected {DATA_FILE}). "
            "Reinstall ndflow; the file ships inside the package.")
    with np.load(DATA_FILE) as f:
        x_train, y_train = f["x_train"], f["y_train"]
        x_test, y_test = f["x_test"], f["y_test"]
    if not raw:
        x_train = _to_255(x_train)
        x_test = _to_255(x_test)
    return (x_train, y_train), (x_test, y_test)


def _to_255(x: np.ndarray) -> np.ndarray:
    return np.rint(x.astype(np.float32) * (255.0 / 16.0)).astype(np.uint8)
