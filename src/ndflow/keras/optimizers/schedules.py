"""Learning-rate schedules (`keras.optimizers.schedules`): the learning rate as a function
of the optimizer step.

>>> from ndflow.keras.optimizers import schedules
>>> s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
>>> round(float(s(10)), 6)
0.05
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor


def _step(step: Any) -> float:
    if isinstance(step, Tensor):
        return float(step._value)
    return float(step)


def _out(value: float) -> Tensor:
    return Tensor(np.asarray(value, np.float32))


class LearningRateSchedule:
    """Base class: subclasses define `__call__(step)` and `get_config()`.

    >>> class Halve(LearningRateSchedule):
    ...     def __call__(self, step):
    ...         return 1.0 / (1 + step)
    ...     def get_config(self):
    ...         return {}
    >>> Halve()(1)
    0.5
    """

    def __call__(self, step: Any) -> Any:
        raise TypeError(f"{type(self).__name__}: a LearningRateSchedule subclass must define "
                        "__call__(step)")

    def get_config(self) -> dict:
        raise TypeError(f"{type(self).__name__}: a LearningRateSchedule subclass must define "
                        "get_config() to be serialized")

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        return cls(**config)


def _positive(cls: str, name: str, value: Any) -> None:
    if not float(value) > 0:
        raise ValueError(f"{cls}: expected {name} > 0, got {value!r}")


class _StaircaseDecay(LearningRateSchedule):
    """Shared by the decays of ``initial_learning_rate`` in ``step / decay_steps``
    (floored with ``staircase=True``); subclasses give `_decay(progress)`."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool, name: str) -> None:
        _positive(type(self).__name__, "decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: Any) -> Tensor:
        p = _step(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return _out(self._decay(p))

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_StaircaseDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (floored with
    ``staircase=True``).

    >>> float(ExponentialDecay(1.0, 2, 0.5, staircase=True)(3))
    0.5
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "ExponentialDecay") -> None:
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def _decay(self, p: float) -> float:
        return self.initial_learning_rate * self.decay_rate ** p


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, then ``values[-1]``.

    >>> s = PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    >>> [float(s(k)) for k in (10, 11, 21)]
    [1.0, 0.5, 0.10000000149011612]
    """

    def __init__(self, boundaries: list, values: list, name: str = "PiecewiseConstant") -> None:
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                f"PiecewiseConstantDecay: expected len(values) == len(boundaries) + 1, got "
                f"{len(values)} values and {len(boundaries)} boundaries")
        if list(boundaries) != sorted(boundaries):
            raise ValueError(f"PiecewiseConstantDecay: expected increasing boundaries, got "
                             f"{list(boundaries)}")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step: Any) -> Tensor:
        s = _step(step)
        for b, v in zip(self.boundaries, self.values):
            if s <= b:
                return _out(v)
        return _out(self.values[-1])

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - step / decay_steps) ** power + end``; with ``cycle=True`` the
    decay restarts with a multiple of ``decay_steps``.

    >>> round(float(PolynomialDecay(1.0, 10, end_learning_rate=0.0)(5)), 6)
    0.5
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int,
                 end_learning_rate: float = 0.0001, power: float = 1.0, cycle: bool = False,
                 name: str = "PolynomialDecay") -> None:
        _positive("PolynomialDecay", "decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step: Any) -> Tensor:
        s = _step(step)
        steps = float(self.decay_steps)
        if self.cycle:
            mult = 1.0 if s == 0 else math.ceil(s / steps)
            steps = steps * mult
        else:
            s = min(s, steps)
        p = s / steps
        return _out((self.initial_learning_rate - self.end_learning_rate)
                    * (1 - p) ** self.power + self.end_learning_rate)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(_StaircaseDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    >>> float(InverseTimeDecay(1.0, 1, 1.0)(1))
    0.5
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "InverseTimeDecay") -> None:
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def _decay(self, p: float) -> float:
        return self.initial_learning_rate / (1 + self.decay_rate * p)


class CosineDecay(LearningRateSchedule):
    """Cosine decay from the initial rate (or from ``warmup_target`` after a linear warmup of
    ``warmup_steps``) down to ``alpha`` times it over ``decay_steps``.

    >>> round(float(CosineDecay(1.0, 10)(5)), 6)
    0.5
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None,
                 warmup_steps: int = 0) -> None:
        _positive("CosineDecay", "decay_steps", decay_steps)
        if warmup_steps < 0:
            raise ValueError(f"CosineDecay: expected warmup_steps >= 0, got {warmup_steps!r}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, s: float, start: float) -> float:
        frac = s / self.decay_steps
        cos = 0.5 * (1.0 + math.cos(math.pi * frac))
        return start * ((1 - self.alpha) * cos + self.alpha)

    def __call__(self, step: Any) -> Tensor:
        s = _step(step)
        if self.warmup_target is None:
            return _out(self._decay(min(s, self.decay_steps), self.initial_learning_rate))
        s = min(s, self.decay_steps + self.warmup_steps)
        if s < self.warmup_steps:
            frac = s / self.warmup_steps
            return _out((self.warmup_target - self.initial_learning_rate) * frac
                        + self.initial_learning_rate)
        return _out(self._decay(s - self.warmup_steps, self.warmup_target))

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): periods grow by ``t_mul`` and restart peaks
    shrink by ``m_mul``.

    >>> round(float(CosineDecayRestarts(1.0, 10)(10)), 6)
    1.0
    """

    def __init__(self, initial_learning_rate: float, first_decay_steps: int,
                 t_mul: float = 2.0, m_mul: float = 1.0, alpha: float = 0.0,
                 name: str = "SGDRDecay") -> None:
        _positive("CosineDecayRestarts", "first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step: Any) -> Tensor:
        frac = _step(step) / self.first_decay_steps
        t_mul, m_mul = float(self._t_mul), float(self._m_mul)
        if t_mul == 1.0:
            i = math.floor(frac)
            frac -= i
        else:
            i = math.floor(math.log(1.0 - frac * (1.0 - t_mul)) / math.log(t_mul))
            sum_r = (1.0 - t_mul ** i) / (1.0 - t_mul)
            frac = (frac - sum_r) / t_mul ** i
        cos = 0.5 * m_mul ** i * (1.0 + math.cos(math.pi * frac))
        return _out(self.initial_learning_rate * ((1 - self.alpha) * cos + self.alpha))

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_ALL = {c.__name__: c for c in (ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay,
                                 InverseTimeDecay, CosineDecay, CosineDecayRestarts,
                                 LearningRateSchedule)}


def serialize(learning_rate_schedule: LearningRateSchedule) -> dict:
    """The Keras 3 serialized form ``{"module", "class_name", "config", "registered_name"}``."""
    return {"module": "keras.optimizers.schedules",
            "class_name": type(learning_rate_schedule).__name__,
            "config": learning_rate_schedule.get_config(), "registered_name": None}


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """Rebuild a schedule from `serialize`'s output (or ``{"class_name", "config"}``)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"schedules.deserialize: expected a dict with 'class_name' and "
                         f"'config', got {config!r}")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _ALL.get(name)
    if cls is None:
        raise ValueError(f"schedules.deserialize: unknown schedule {name!r}; known: "
                         f"{sorted(k for k in _ALL if k != 'LearningRateSchedule')}. Pass custom "
                         "schedules in custom_objects.")
    return cls.from_config(config.get("config", {}))
