"""`split_dataset`: cut a dataset (arrays, a tuple/dict of arrays, or an `ndflow.data.Dataset`)
into a left and a right `Dataset`, optionally shuffled with a seed first, as Keras does.

>>> import numpy as np
>>> left, right = split_dataset(np.arange(10), left_size=0.8)
>>> [int(v) for v in right]
[8, 9]
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np


def _size_type(v: Any, name: str) -> Any:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"split_dataset: `{name}` expected an int, a float or None, got "
                        f"{type(v).__name__}")
    return type(v)


def split_sizes(left_size: Any, right_size: Any, total: int) -> tuple[int, int]:
    """The left and right sample counts for sizes given as fractions, counts or None."""
    lt, rt = _size_type(left_size, "left_size"), _size_type(right_size, "right_size")
    if left_size is None and right_size is None:
        raise ValueError("split_dataset: expected at least one of `left_size` or "
                         "`right_size`, got both None")
    if left_size == 0 and right_size == 0:
        raise ValueError("split_dataset: `left_size` and `right_size` are both zero; at least "
                         "one must be non-zero")
    for v, t, name in ((left_size, lt, "left_size"), (right_size, rt, "right_size")):
        if (t is int and not 0 < v < total) or (t is float and not 0 < v < 1):
            raise ValueError(f"split_dataset: `{name}` expected a positive int smaller than "
                             f"{total} (the dataset's length) or a float in (0, 1), got {v}")
    if lt is float and rt is float and left_size + right_size > 1:
        raise ValueError(f"split_dataset: left_size + right_size = {left_size + right_size} "
                         "is greater than 1")
    left = round(left_size * total) if lt is float else left_size
    right = round(right_size * total) if rt is float else right_size
    if left is None:
        left = total - right
    elif right is None:
        right = total - left
    if left + right > total:
        raise ValueError(f"split_dataset: left + right = {left + right} samples is more than "
                         f"the {total} in the dataset")
    for n, side in ((left, "left"), (right, "right")):
        if n == 0:
            raise ValueError(f"split_dataset: with {total} samples, left_size={left_size} and "
                             f"right_size={right_size} leave the {side} split empty")
    return int(left), int(right)


def _samples(dataset: Any) -> tuple[list, Any]:
    """The dataset as a list of per-sample structures, and a function that stacks a list of
    them back into arrays of the same structure."""
    from ndflow.core.tensor import Tensor
    from ndflow.data.dataset import Dataset
    from ndflow.data.structure import flatten as _dflatten
    from ndflow.data.structure import pack as _dpack

    if isinstance(dataset, Dataset):
        items = [_element(e) for e in dataset.as_numpy_iterator()]
    elif isinstance(dataset, (list, tuple, dict)) and dataset:
        comps = dataset if isinstance(dataset, dict) else tuple(dataset)
        flat = [np.asarray(c.numpy() if isinstance(c, Tensor) else c)
                for c in _dflatten(comps)]
        n = len(flat[0])
        if any(len(a) != n for a in flat):
            raise ValueError(f"split_dataset: expected arrays of the same length, got "
                             f"{[len(a) for a in flat]}")
        items = [_dpack(comps, [a[i] for a in flat]) for i in range(n)]
    elif isinstance(dataset, (np.ndarray, Tensor)):
        arr = np.asarray(dataset.numpy() if isinstance(dataset, Tensor) else dataset)
        items = list(arr)
    else:
        raise TypeError(f"split_dataset: `dataset` expected an ndflow.data.Dataset, a NumPy "
                        f"array, or a list/tuple/dict of arrays, got {type(dataset).__name__}")

    def stack(chunk: list) -> Any:
        flats = [_dflatten(s) for s in chunk]
        return _dpack(chunk[0], [np.stack([f[j] for f in flats]) for j in range(len(flats[0]))])

    return items, stack


def _element(e: Any) -> Any:
    return tuple(e) if isinstance(e, list) else e


def split_dataset(dataset: Any, left_size: int | float | None = None,
                  right_size: int | float | None = None, shuffle: bool = False,
                  seed: int | None = None, preferred_backend: str | None = None) -> tuple:
    """`(left, right)` `ndflow.data.Dataset`s: the first `left_size` samples and the last
    `right_size` (ints are counts, floats fractions; None is the complement). With `shuffle`,
    the samples are first shuffled by Python's `random` with `seed` (Keras's order).
    `preferred_backend` is accepted for Keras compatibility (there is one backend here)."""
    from ndflow.data.dataset import Dataset

    items, stack = _samples(dataset)
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(1e6))
        random.Random(seed).shuffle(items)
    left, right = split_sizes(left_size, right_size, len(items))
    return (Dataset.from_tensor_slices(stack(items[:left])),
            Dataset.from_tensor_slices(stack(items[-right:])))
