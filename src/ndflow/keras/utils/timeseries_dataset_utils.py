"""`timeseries_dataset_from_array`: sliding windows over a timeseries as a dataset of
batches, with Keras's arguments and window/target alignment.

>>> import numpy as np
>>> ds = timeseries_dataset_from_array(np.arange(6), None, sequence_length=3, batch_size=2)
>>> [b.numpy().tolist() for b in ds]
[[[0, 1, 2], [1, 2, 3]], [[2, 3, 4], [3, 4, 5]]]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.data.dataset import Dataset


def _array(x: Any) -> np.ndarray:
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def timeseries_dataset_from_array(data: Any, targets: Any, sequence_length: int,
                                  sequence_stride: int = 1, sampling_rate: int = 1,
                                  batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None) -> Dataset:
    """Windows `data[s + i * sampling_rate]` for i < `sequence_length`, one every
    `sequence_stride` steps between `start_index` and `end_index`; the target of the window
    starting at `s` is `targets[s]`. Windows are cut lazily, one batch at a time.

    With `shuffle`, window order is shuffled each epoch (the first epoch's order is Keras's
    first shuffle for the same `seed`).
    """
    data = _array(data)
    n = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: "
                             f"start_index={start_index}")
        if start_index >= n:
            raise ValueError(f"`start_index` must be lower than the length of the data. "
                             f"Received: start_index={start_index}, for data of length {n}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(f"`end_index` must be higher than `start_index`. Received: "
                             f"start_index={start_index}, and end_index={end_index} ")
        if end_index >= n:
            raise ValueError(f"`end_index` must be lower than the length of the data. "
                             f"Received: end_index={end_index}, for data of length {n}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: "
                             f"end_index={end_index}")
    if sampling_rate <= 0:
        raise ValueError(f"`sampling_rate` must be higher than 0. Received: "
                         f"sampling_rate={sampling_rate}")
    if sampling_rate >= n:
        raise ValueError(f"`sampling_rate` must be lower than the length of the data. "
                         f"Received: sampling_rate={sampling_rate}, for data of length {n}")
    if sequence_stride <= 0:
        raise ValueError(f"`sequence_stride` must be higher than 0. Received: "
                         f"sequence_stride={sequence_stride}")
    if sequence_stride >= n:
        raise ValueError(f"`sequence_stride` must be lower than the length of the data. "
                         f"Received: sequence_stride={sequence_stride}, for data of length {n}")
    if batch_size is not None and int(batch_size) <= 0:
        raise ValueError(f"`batch_size` must be a positive integer or None, got {batch_size}")
    start = start_index or 0
    end = end_index if end_index is not None else n
    tgt = None if targets is None else _array(targets)
    num_seqs = end - start - (sequence_length - 1) * sampling_rate
    if tgt is not None:
        num_seqs = min(num_seqs, len(tgt))
    positions = np.arange(0, max(num_seqs, 0), sequence_stride, dtype=np.int64)
    offsets = np.arange(sequence_length, dtype=np.int64) * sampling_rate
    rng = np.random.RandomState(seed if seed is not None else np.random.randint(1e6))

    def windows(pos: np.ndarray) -> Any:
        x = data[start + pos[..., None] + offsets]
        if tgt is None:
            return x
        return x, tgt[start + pos]

    def make(ctx: Any = None) -> Iterator:  # (Dataset passes an iteration context)
        order = positions
        if shuffle:
            order = positions.copy()
            rng.shuffle(order)
        if batch_size is None:
            for p in order:
                yield windows(np.asarray(p))
            return
        for b in range(0, len(order), int(batch_size)):
            yield windows(order[b:b + int(batch_size)])

    card = len(positions) if batch_size is None else -(-len(positions) // int(batch_size))
    return Dataset(make, card)
