"""IMDB movie-review sentiment (25,000 training and 25,000 test reviews as word-index
sequences), loaded the way Keras does: from the local cache (``$KERAS_HOME/datasets`` or
``~/.keras/datasets``) when the file is there, otherwise downloaded once from Keras's public
copy and checked against its SHA-256 hash. Offline without a cached copy, `load_data` raises
a `ConnectionError` that says where to put the file. The file is read without unpickling
code (see `npz_reader`).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ndflow.keras.datasets import npz_reader as _npz
from ndflow.keras.utils.file_utils import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"  # md5, as Keras checks it


def load_data(path: str = "imdb.npz", num_words: int | None = None, skip_top: int = 0,
              maxlen: int | None = None, seed: int = 113, start_char: int | None = 1,
              oov_char: int | None = 2, index_from: int = 3,
              **kwargs: Any) -> tuple[tuple[np.ndarray, np.ndarray],
                                      tuple[np.ndarray, np.ndarray]]:
    """`(x_train, y_train), (x_test, y_test)`: object arrays of word-index lists and 0/1
    labels, shuffled with `seed`, with Keras's `num_words`, `skip_top`, `maxlen`,
    `start_char`, `oov_char` and `index_from` semantics."""
    if kwargs:
        raise TypeError(f"imdb.load_data: unrecognized keyword arguments {sorted(kwargs)}")
    fpath = get_file(fname=path, origin=ORIGIN_FOLDER + "imdb.npz", file_hash=FILE_HASH)
    f = _npz.load_npz(fpath)
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in f]
    if missing:
        raise ValueError(f"imdb.load_data: {fpath} is not the IMDB file: missing {missing}")
    x_train, labels_train = f["x_train"], f["y_train"]
    x_test, labels_test = f["x_test"], f["y_test"]
    rng = np.random.RandomState(seed)
    order = np.arange(len(x_train))
    rng.shuffle(order)
    x_train, labels_train = x_train[order], labels_train[order]
    order = np.arange(len(x_test))
    rng.shuffle(order)
    x_test, labels_test = x_test[order], labels_test[order]
    x_train = _npz.shift_indices(x_train, start_char, index_from)
    x_test = _npz.shift_indices(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _npz.remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = _npz.remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"imdb.load_data: after filtering for sequences shorter than "
                             f"maxlen={maxlen}, no sequence was kept. Increase maxlen.")
    xs = _npz.limit_words(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    n = len(x_train)
    return ((_npz.object_array(xs[:n]), labels[:n]), (_npz.object_array(xs[n:]), labels[n:]))


def get_word_index(path: str = "imdb_word_index.json") -> dict[str, int]:
    """The word -> index dictionary of the IMDB sequences (before `index_from` shifting)."""
    fpath = get_file(fname=path, origin=ORIGIN_FOLDER + "imdb_word_index.json",
                     file_hash=WORD_INDEX_HASH)
    with open(fpath, encoding="utf-8") as f:
        return json.load(f)
