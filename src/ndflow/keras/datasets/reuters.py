"""Reuters newswire topics (11,228 newswires, 46 topics, as word-index sequences), loaded
the way Keras does: local cache first, else one download from Keras's public copy checked
against its SHA-256 hash; offline without a cached copy, a `ConnectionError` that says where
to put the file. The file is read without unpickling code (see `npz_reader`).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ndflow.keras.datasets import npz_reader as _npz
from ndflow.keras.utils.file_utils import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"  # md5, as Keras checks it

_LABELS = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path: str = "reuters.npz", num_words: int | None = None, skip_top: int = 0,
              maxlen: int | None = None, test_split: float = 0.2, seed: int = 113,
              start_char: int | None = 1, oov_char: int | None = 2, index_from: int = 3,
              **kwargs: Any) -> tuple[tuple[np.ndarray, np.ndarray],
                                      tuple[np.ndarray, np.ndarray]]:
    """`(x_train, y_train), (x_test, y_test)`: object arrays of word-index lists and topic
    labels (0..45), shuffled with `seed` and split at `1 - test_split`, with Keras's
    `num_words`, `skip_top`, `maxlen`, `start_char`, `oov_char` and `index_from` semantics."""
    if kwargs:
        raise TypeError(f"reuters.load_data: unrecognized keyword arguments {sorted(kwargs)}")
    fpath = get_file(fname=path, origin=ORIGIN_FOLDER + "reuters.npz", file_hash=FILE_HASH)
    f = _npz.load_npz(fpath)
    if "x" not in f or "y" not in f:
        raise ValueError(f"reuters.load_data: {fpath} is not the Reuters file (arrays x, y)")
    xs, labels = f["x"], f["y"]
    rng = np.random.RandomState(seed)
    order = np.arange(len(xs))
    rng.shuffle(order)
    xs, labels = xs[order], labels[order]
    xs = _npz.shift_indices(xs, start_char, index_from)
    if maxlen:
        xs, labels = _npz.remove_long_seq(maxlen, xs, labels)
    xs = _npz.limit_words(xs, num_words, skip_top, oov_char)
    idx = int(len(xs) * (1 - test_split))
    return ((_npz.object_array(xs[:idx]), np.array(labels[:idx])),
            (_npz.object_array(xs[idx:]), np.array(labels[idx:])))


def get_word_index(path: str = "reuters_word_index.json") -> dict[str, int]:
    """The word -> index dictionary of the Reuters sequences (before `index_from`)."""
    fpath = get_file(fname=path, origin=ORIGIN_FOLDER + "reuters_word_index.json",
                     file_hash=WORD_INDEX_HASH)
    with open(fpath, encoding="utf-8") as f:
        return json.load(f)


def get_label_names() -> tuple[str, ...]:
    """The 46 topic names, by label index."""
    return _LABELS
