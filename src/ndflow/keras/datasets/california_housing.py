"""California Housing (20,640 districts, 8 features, median house value in dollars), as
Keras loads it from its public copy into the local cache (checked by SHA-256); `version="small"`
keeps the first 600 samples (a stand-in for Boston Housing).
"""

from __future__ import annotations

import numpy as np

from ndflow.keras.datasets.housing import check_test_split, read_xy, shuffle_split

FILE_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(version: str = "large", path: str = "california_housing.npz",
              test_split: float = 0.2, seed: int = 113
              ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """`(x_train, y_train), (x_test, y_test)`: all samples (or the first 600 with
    ``version="small"``) shuffled by `seed`, the last `test_split` fraction as the test set."""
    check_test_split(test_split)
    if version not in ("small", "large"):
        raise ValueError(f"Argument `version` must be one of 'small', 'large'. Received: "
                         f"version={version!r}")
    x, y = read_xy(path, "california_housing.npz", FILE_HASH)
    if version == "small":
        x, y = x[:600], y[:600]
    return shuffle_split(x, y, test_split, seed)
