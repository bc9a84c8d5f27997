"""The shared part of the housing regression loaders: read ``x``/``y`` from a cached `.npz`
(no pickle), shuffle with ``np.random.RandomState(seed)`` and cut the last `test_split`
fraction off as the test set, exactly as Keras does."""

from __future__ import annotations

import numpy as np

from ndflow.keras.utils.file_utils import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def check_test_split(test_split: float) -> None:
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between 0 "
                         "and 1 (exclusive of 1).")


def read_xy(path: str, fname: str, file_hash: str) -> tuple[np.ndarray, np.ndarray]:
    fpath = get_file(path, origin=ORIGIN_FOLDER + fname, file_hash=file_hash)
    with np.load(fpath, allow_pickle=False) as f:
        if "x" not in f or "y" not in f:
            raise ValueError(f"{fname}: {fpath} is not the expected file: it must hold arrays "
                             f"'x' and 'y', it holds {sorted(f.files)}")
        return f["x"], f["y"]


def shuffle_split(x: np.ndarray, y: np.ndarray, test_split: float, seed: int) -> tuple:
    idx = np.arange(len(x))
    np.random.RandomState(seed).shuffle(idx)
    x, y = x[idx], y[idx]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))
