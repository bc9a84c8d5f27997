"""`tf.data.Options`: pipeline-wide settings (determinism, threading, autotune, auto-sharding).

>>> import ndflow as tf
>>> opts = tf.data.Options()
>>> opts.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
>>> ds = tf.data.Dataset.range(4).with_options(opts)
>>> ds.options().experimental_distribute.auto_shard_policy.name
'DATA'
"""

from __future__ import annotations

import copy
import enum
from typing import Any


class AutoShardPolicy(enum.IntEnum):
    """How a distribution strategy splits a dataset between workers (TF's values)."""

    OFF = -1
    AUTO = 0
    FILE = 1
    DATA = 2
    HINT = 3


class _Group:
    _fields: dict[str, Any] = {}

    def __init__(self) -> None:
        for k in self._fields:
            object.__setattr__(self, k, None)

    def __setattr__(self, key: str, value: Any) -> None:
        if key not in self._fields:
            raise AttributeError(
                f"{type(self).__name__}: no option {key!r}; expected one of {sorted(self._fields)}")
        object.__setattr__(self, key, value)

    def _get(self, key: str) -> Any:
        v = getattr(self, key)
        return self._fields[key] if v is None else v

    def _merge(self, other: _Group) -> None:
        for k in self._fields:
            theirs = getattr(other, k)
            if isinstance(theirs, _Group):
                getattr(self, k)._merge(theirs)
            elif theirs is not None:
                object.__setattr__(self, k, theirs)

    def __repr__(self) -> str:
        set_ = {k: getattr(self, k) for k in self._fields if getattr(self, k) is not None}
        return f"{type(self).__name__}({set_})"


class DistributeOptions(_Group):
    """`options.experimental_distribute`: `auto_shard_policy` (default AUTO), `num_devices`."""

    _fields = {"auto_shard_policy": AutoShardPolicy.AUTO, "num_devices": None}

    @property
    def policy(self) -> AutoShardPolicy:
        return AutoShardPolicy(self._get("auto_shard_policy"))


class ThreadingOptions(_Group):
    """`options.threading`: `private_threadpool_size` caps parallel map / interleave threads."""

    _fields = {"private_threadpool_size": None, "max_intra_op_parallelism": None}


class AutotuneOptions(_Group):
    """`options.autotune`: `enabled` (default True) and `cpu_budget` (threads AUTOTUNE may use)."""

    _fields = {"enabled": True, "cpu_budget": None, "ram_budget": None}


class OptimizationOptions(_Group):
    """`options.experimental_optimization`: accepted flags (ndflow runs the pipeline as built)."""

    _fields = {"map_parallelization": None, "parallel_batch": None, "apply_default_optimizations":
               None, "inject_prefetch": None}


class Options(_Group):
    """Settings read when a dataset is iterated; merged along the pipeline (later wins)."""

    _fields = {"deterministic": True, "experimental_deterministic": None,
               "experimental_distribute": None, "threading": None, "autotune": None,
               "experimental_optimization": None, "experimental_slack": False,
               "experimental_external_state_policy": None}

    def __init__(self) -> None:
        super().__init__()
        object.__setattr__(self, "experimental_distribute", DistributeOptions())
        object.__setattr__(self, "threading", ThreadingOptions())
        object.__setattr__(self, "autotune", AutotuneOptions())
        object.__setattr__(self, "experimental_optimization", OptimizationOptions())

    @property
    def is_deterministic(self) -> bool:
        if self.deterministic is not None:
            return bool(self.deterministic)
        if self.experimental_deterministic is not None:
            return bool(self.experimental_deterministic)
        return True

    def merge(self, other: Options) -> Options:
        """A new Options: these settings, overridden by those set in `other`."""
        out = copy.deepcopy(self)
        out._merge(other)
        return out
