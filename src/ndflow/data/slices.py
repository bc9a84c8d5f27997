"""Datasets over data already in memory: `from_tensor_slices` (index-ordered, so shuffle and
batch stay vectorised) and `ListDataset` (window contents, grouped elements)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ndflow.data import structure as st
from ndflow.data.batching import batched_card
from ndflow.data.context import IterContext, RngSource, _positive
from ndflow.data.dataset import Dataset


class ListDataset(Dataset):
    """A dataset over a Python list of elements already in pipeline form (windows, caches)."""

    def __init__(self, elements: list) -> None:
        super().__init__(lambda ctx: iter(elements), len(elements))


class SlicesDataset(Dataset):
    """`from_tensor_slices`, keeping an index order so that shuffle and batch stay vectorised."""

    def __init__(self, structure: Any, flat: list, order: np.ndarray,
                 shuffle: RngSource | None = None) -> None:
        self._structure = structure
        self._flat = flat
        self._order = order
        self._shuffle = shuffle
        super().__init__(self._iter_elements, len(order))

    def _indices(self) -> np.ndarray:
        if self._shuffle is None:
            return self._order
        return self._order[self._shuffle.next().permutation(len(self._order))]

    def _pack(self, arrays: list) -> Any:
        return st.pack(self._structure, arrays)

    def _iter_elements(self, ctx: IterContext) -> Iterator:
        for i in self._indices():
            yield self._pack([a[i] for a in self._flat])

    def shuffle(self, buffer_size: int, seed: int | None = None,
                reshuffle_each_iteration: bool = True, name: str | None = None) -> Dataset:
        if int(buffer_size) >= len(self._order) and self._shuffle is None:
            return SlicesDataset(self._structure, self._flat, self._order,
                                  RngSource(seed, reshuffle_each_iteration))
        return Dataset.shuffle(self, buffer_size, seed, reshuffle_each_iteration)

    def batch(self, batch_size: int, drop_remainder: bool = False,
              num_parallel_calls: Any = None, deterministic: Any = None,
              name: str | None = None) -> Dataset:
        batch_size = _positive("Dataset.batch", "batch_size", batch_size)
        src = self

        def make(ctx: IterContext) -> Iterator:
            idx = src._indices()
            contiguous = src._shuffle is None and np.array_equal(idx, np.arange(len(idx)))
            n = len(idx)
            stop = n - n % batch_size if drop_remainder else n
            for s in range(0, stop, batch_size):
                if contiguous:
                    yield src._pack([a[s:s + batch_size] for a in src._flat])
                else:
                    sel = idx[s:s + batch_size]
                    yield src._pack([a[sel] for a in src._flat])

        return self._derive(make, batched_card(len(self._order), batch_size, drop_remainder))

    def take(self, count: int, name: str | None = None) -> Dataset:
        if self._shuffle is None and int(count) >= 0:
            return SlicesDataset(self._structure, self._flat, self._order[:int(count)])
        return Dataset.take(self, count)

    def skip(self, count: int, name: str | None = None) -> Dataset:
        if self._shuffle is None and int(count) >= 0:
            return SlicesDataset(self._structure, self._flat, self._order[int(count):])
        return Dataset.skip(self, count)
