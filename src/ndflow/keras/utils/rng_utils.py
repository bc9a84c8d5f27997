"""Random-seed helpers: `set_random_seed` and the `SeedGenerator` that random layers and
initializers draw from.

>>> from ndflow.keras.utils.rng_utils import set_random_seed, SeedGenerator
>>> set_random_seed(1); a = SeedGenerator().next_rng().random()
>>> set_random_seed(1); b = SeedGenerator().next_rng().random()
>>> a == b
True
"""

from __future__ import annotations

import random as _py_random
from typing import Any

import numpy as np


def set_random_seed(seed: int) -> None:
    """Seed Python's `random`, NumPy's global generator and ndflow's (`tf.random.set_seed`).

    After this call, models built and trained by the same code get the same weights, dropout
    masks and shuffles on the CPU.

    >>> set_random_seed(42)
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"set_random_seed: expected an integer seed, got {seed!r} "
                         f"({type(seed).__name__})")
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"set_random_seed: expected a non-negative seed, got {seed}")
    _py_random.seed(seed)
    np.random.seed(seed % 2**32)
    from ndflow.ops.random import set_seed

    set_seed(seed)


def make_default_seed() -> int:
    """A fresh seed drawn from Python's `random` (so `set_random_seed` makes it reproducible)."""
    return _py_random.randint(1, 10**9)


class SeedGenerator:
    """A stateful source of random streams: each `next_rng()` returns a new NumPy generator,
    and the sequence is fixed by `seed` (drawn from `random` when None).

    Random layers (Dropout, GaussianNoise ...) keep one, so successive calls get fresh noise
    while a seeded layer reproduces the same sequence.

    >>> g = SeedGenerator(3); h = SeedGenerator(3)
    >>> g.next_rng().random() == h.next_rng().random()
    True
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs: Any) -> None:
        if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)):
            raise ValueError(f"SeedGenerator: expected seed to be an int or None, got {seed!r}")
        self._init_seed = seed
        self.seed = int(seed) if seed is not None else make_default_seed()
        self.name = name or "seed_generator"
        self._counter = 0

    def next_rng(self) -> np.random.Generator:
        """A NumPy generator for the next draw (advances the state)."""
        rng = np.random.Generator(np.random.Philox(key=[self.seed % (1 << 64), self._counter]))
        self._counter += 1
        return rng

    def rng_for_call(self) -> np.random.Generator:
        return self.next_rng()

    @property
    def state(self) -> Any:
        """The current state as Keras shows it: an int32 tensor `[seed, counter]` (the seed
        reduced to 31 bits for display; draws use the full seed)."""
        from ndflow.core.tensor import constant

        return constant(np.asarray([self.seed % (1 << 31), self._counter], np.int32))

    def next(self, ordered: bool = True) -> Any:
        """The state for one draw (`[seed, counter]`), then advance, as Keras's `next()`."""
        out = self.state
        self._counter += 1
        return out

    def get_config(self) -> dict:
        return {"seed": self._init_seed}

    @classmethod
    def from_config(cls, config: dict) -> SeedGenerator:
        return cls(**config)


def rng_from_seed(seed: Any) -> np.random.Generator:
    """A NumPy generator for an int seed, a `SeedGenerator` (advances it) or None (fresh)."""
    if isinstance(seed, SeedGenerator):
        return seed.next_rng()
    if seed is None:
        return np.random.Generator(np.random.Philox(make_default_seed()))
    return np.random.Generator(np.random.Philox(int(seed)))
