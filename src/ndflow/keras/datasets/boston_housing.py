"""Boston Housing (506 samples, 13 features, median home value in k$), as Keras loads it from
its public copy into the local cache (checked by SHA-256). Keras and scikit-learn discourage its
use beyond teaching about bias in data (a feature encodes race); see `california_housing`.
"""

from __future__ import annotations

import numpy as np

from ndflow.keras.datasets.housing import check_test_split, read_xy, shuffle_split

FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path: str = "boston_housing.npz", test_split: float = 0.2,
              seed: int = 113) -> tuple[tuple[np.ndarray, np.ndarray],
                                        tuple[np.ndarray, np.ndarray]]:
    """`(x_train, y_train), (x_test, y_test)`: the samples shuffled by `seed`, the last
    `test_split` fraction as the test set. `path` is the file name in the cache folder."""
    check_test_split(test_split)
    x, y = read_xy(path, "boston_housing.npz", FILE_HASH)
    return shuffle_split(x, y, test_split, seed)
