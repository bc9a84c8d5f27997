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
    """Option values: unset ones read as their defaults (as in TF); merging takes only what was
    set, so a later `with_options` overrides exactly the settings it names."""

    _fields: dict[str, Any] = {}
    _groups: tuple[str, ...] = ()

    def __init__(self) -> None:
        object.__setattr__(self, "_set", {})

    def __getattr__(self, key: str) -> Any:
        fields = type(self)._fields
        if key not in fields:
            raise AttributeError(f"{type(self).__name__}: no option {key!r}; expected one of "
                                 f"{sorted(fields)}")
        return self._set.get(key, fields[key])

    def __setattr__(self, key: str, value: Any) -> None:
        if key not in self._fields or key in self._groups:
            raise AttributeError(
                f"{type(self).__name__}: no option {key!r}; expected one of "
                f"{sorted(k for k in self._fields if k not in self._groups)}")
        self._set[key] = value

    def _merge(self, other: _Group) -> None:
        for k in self._groups:
            self._set[k]._merge(other._set[k])
        for k, v in other._set.items():
            if k not in self._groups:
                self._set[k] = v

    def __repr__(self) -> str:
        shown = {k: v for k, v in self._set.items() if k not in self._groups}
        return f"{type(self).__name__}({shown})"


class DistributeOptions(_Group):
    """`options.experimental_distribute`: `auto_shard_policy` (default AUTO), `num_devices`."""

    _fields = {"auto_shard_policy": AutoShardPolicy.AUTO, "num_devices": None}

    @property
    def policy(self) -> AutoShardPolicy:
        return AutoShardPolicy(self.auto_shard_policy)


class ThreadingOptions(_Group):
    """`options.threading`: `private_threadpool_size` caps parallel map / interleave threads."""

    _fields = {"private_threadpool_size": None, "max_intra_op_parallelism": None}


class AutotuneOptions(_Group):
    """`options.autotune`: `enabled` (default True; False fixes AUTOTUNE map width to the CPU
    count and AUTOTUNE prefetch to one element) and `cpu_budget` (threads AUTOTUNE may use);
    `ram_budget` is accepted and not used."""

    _fields = {"enabled": True, "cpu_budget": None, "ram_budget": None}


class OptimizationOptions(_Group):
    """`options.experimental_optimization`: accepted flags (ndflow runs the pipeline as built)."""

    _fields = {"map_parallelization": None, "parallel_batch": None, "apply_default_optimizations":
               None, "inject_prefetch": None}


class Options(_Group):
    """Settings read when a dataset is iterated; merged along the pipeline (later wins)."""

    _fields = {"deterministic": None, "experimental_deterministic": None,
               "experimental_distribute": None, "threading": None, "autotune": None,
               "experimental_optimization": None, "experimental_slack": False,
               "experimental_external_state_policy": None}
    _groups = ("experimental_distribute", "threading", "autotune", "experimental_optimization")

    def __init__(self) -> None:
        super().__init__()
        self._set.update(experimental_distribute=DistributeOptions(), threading=ThreadingOptions(),
                         autotune=AutotuneOptions(),
                         experimental_optimization=OptimizationOptions())

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
