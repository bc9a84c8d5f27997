"""`PyDataset`: a Python sequence of batches for `fit`, `evaluate` and `predict`.

>>> import numpy as np
>>> class Batches(PyDataset):
...     def __init__(self, x, y, batch_size, **kwargs):
...         super().__init__(**kwargs)
...         self.x, self.y, self.batch_size = x, y, batch_size
...     def __len__(self):
...         return -(-len(self.x) // self.batch_size)
...     def __getitem__(self, i):
...         s = slice(i * self.batch_size, (i + 1) * self.batch_size)
...         return self.x[s], self.y[s]
>>> data = Batches(np.zeros((10, 2)), np.zeros(10), batch_size=4)
>>> len(data), data[2][0].shape
(3, (2, 2))
"""

from __future__ import annotations

from typing import Any


class PyDataset:
    """Base class for datasets given as ``__len__`` (number of batches) and
    ``__getitem__(index)`` returning ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.

    ``on_epoch_end`` is called after every epoch (e.g. to reshuffle). With ``workers > 1``
    batches are loaded by that many threads, with ``use_multiprocessing=True`` by worker
    processes (the dataset is copied into each); ``max_queue_size`` bounds the batches
    loaded ahead. Batches reach the model in order either way.
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10) -> None:
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self) -> int:
        return self._workers

    @property
    def use_multiprocessing(self) -> bool:
        return self._use_multiprocessing

    @property
    def max_queue_size(self) -> int:
        return self._max_queue_size

    def __getitem__(self, index: int) -> Any:
        raise TypeError(f"{type(self).__name__} must implement __getitem__(index) returning "
                        "a batch")

    def __len__(self) -> int:
        raise TypeError(f"{type(self).__name__} must implement __len__() (the number of "
                        "batches)")

    @property
    def num_batches(self) -> int | None:
        try:
            return len(self)
        except TypeError:
            return None

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch; override to reshuffle."""

    def __iter__(self) -> Any:
        for i in range(len(self)):
            yield self[i]
