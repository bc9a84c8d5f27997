"""What one iteration of a pipeline knows (options, error policy) and shared helpers of the
`tf.data` stages: stage-named errors, seeds, argument checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.data import structure as st
from ndflow.data.options import Options
from ndflow.data.parallel import default_max_threads
from ndflow.errors import InvalidArgumentError

INFINITE = -1
UNKNOWN = -2


class IterContext:
    """What an iteration knows about its whole pipeline: options, and whether errors are
    dropped (set by `ignore_errors` for the stages upstream of it)."""

    def __init__(self, options: Options, ignore_errors: bool = False,
                 log_warning: bool = False, file_shard: tuple[int, int] | None = None) -> None:
        self.options = options
        self.ignore_errors = ignore_errors
        self.log_warning = log_warning
        self.file_shard = file_shard  # (num_workers, index): file readers read their share

    @property
    def deterministic(self) -> bool:
        return self.options.is_deterministic

    @property
    def max_threads(self) -> int:
        for v in (self.options.threading.private_threadpool_size,
                  self.options.autotune.cpu_budget):
            if v:
                return int(v)
        return default_max_threads()

    def dropping_errors(self, log_warning: bool) -> IterContext:
        return IterContext(self.options, True, log_warning, self.file_shard)

    def sharding_files(self, num_workers: int, index: int) -> IterContext:
        return IterContext(self.options, self.ignore_errors, self.log_warning,
                           (num_workers, index))


class _Dropped:
    """A per-element failure swallowed because `ignore_errors` is downstream."""


def _drop_or_raise(ctx: IterContext, stage: str, exc: BaseException) -> _Dropped:
    if not ctx.ignore_errors:
        raise st.stage_error(stage, exc) from exc
    if ctx.log_warning:
        import warnings

        warnings.warn(f"Dataset.ignore_errors: dropped an element: {stage}: {exc}",
                      stacklevel=2)
    return _Dropped()


def _combine_card(cards: list[int]) -> int:
    """Cardinality of a zip: the smallest, with INFINITE as infinity; UNKNOWN wins."""
    if UNKNOWN in cards:
        return UNKNOWN
    finite = [c for c in cards if c != INFINITE]
    return min(finite) if finite else INFINITE


class RngSource:
    """Seeds for successive iterations (the global seed applies when no seed is given)."""

    def __init__(self, seed: int | None, reshuffle: bool) -> None:
        from ndflow.ops.random import get_global_seed

        if seed is None and get_global_seed() is not None:
            seed = get_global_seed()
        self._seed_rng = np.random.default_rng(seed)
        self._reshuffle = reshuffle
        self._fixed = int(self._seed_rng.integers(2**62))

    def next(self) -> np.random.Generator:
        s = int(self._seed_rng.integers(2**62)) if self._reshuffle else self._fixed
        return np.random.default_rng(s)


def _fn_name(fn: Any) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _positive(stage: str, arg: str, value: Any) -> int:
    v = int(value)
    if v <= 0:
        raise InvalidArgumentError(f"{stage}: expected {arg} > 0, got {value}")
    return v
