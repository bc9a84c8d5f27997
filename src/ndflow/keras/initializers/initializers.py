"""Keras 3 weight initializers.

An initializer is a callable `init(shape, dtype=None) -> Tensor`. Random initializers take a
`seed`: an int (or None, which draws a seed once when the initializer is made) gives the same
values on every call, as in Keras 3; a `SeedGenerator` gives new values on each call.

>>> from ndflow.keras import initializers
>>> initializers.Ones()((2,)).numpy().tolist()
[1.0, 1.0]
>>> w = initializers.GlorotUniform(seed=0)((3, 4))
>>> bool((abs(w.numpy()) <= (6 / 7) ** 0.5).all())
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ndflow.core.dtypes import np_dtype
from ndflow.core.tensor import Tensor
from ndflow.keras.utils.rng_utils import SeedGenerator, make_default_seed
from ndflow.ops.random import normal_array, place, truncated_normal_array, uniform_array


def _dtype(name: str, dtype: Any, float_only: bool = True) -> np.dtype:
    if dtype is None:
        from ndflow.keras import config

        dtype = config.floatx()
    dt = np_dtype(dtype)
    if float_only and dt.kind != "f":
        raise ValueError(f"{name}: expected a floating-point dtype, got {dt.name}. "
                         "Random initializers only make float weights.")
    return dt


def _shape(name: str, shape: Any) -> tuple:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        out = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a fully known shape (tuple of ints), got "
                         f"{shape!r}") from None
    if any(d < 0 for d in out):
        raise ValueError(f"{name}: expected non-negative dims, got shape {out}")
    return out


def compute_fans(shape: tuple) -> tuple[float, float]:
    """(fan_in, fan_out) of a weight shape: rank 2 (in, out); kernels (*spatial, in, out).

    >>> compute_fans((3, 3, 8, 16))
    (72.0, 144.0)
    """
    shape = tuple(shape)
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = float(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: subclasses implement `__call__(shape, dtype=None)` and `get_config()`.

    >>> class Twos(Initializer):
    ...     def __call__(self, shape, dtype=None):
    ...         return Constant(2.0)(shape, dtype)
    >>> Twos()((1,)).numpy().tolist()
    [2.0]
    """

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        raise TypeError(f"{type(self).__name__} must implement __call__(shape, dtype=None)")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        return cls(**config)

    def clone(self) -> Initializer:
        return self.__class__.from_config(self.get_config())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros.

    >>> Zeros()((2,)).numpy().tolist()
    [0.0, 0.0]
    """

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        return place(np.zeros(_shape("Zeros", shape), _dtype("Zeros", dtype, False)))


class Ones(Initializer):
    """All ones.

    >>> Ones()((1, 2)).numpy().tolist()
    [[1.0, 1.0]]
    """

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        return place(np.ones(_shape("Ones", shape), _dtype("Ones", dtype, False)))


class Constant(Initializer):
    """Every element equal to `value` (a scalar, or an array that broadcasts to the shape).

    >>> Constant(0.5)((2,)).numpy().tolist()
    [0.5, 0.5]
    """

    def __init__(self, value: Any = 0.0) -> None:
        if isinstance(value, Tensor):
            value = value.numpy()
        if isinstance(value, np.ndarray):
            value = value.item() if value.ndim == 0 else value.tolist()
        self.value = value

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        shape = _shape("Constant", shape)
        dt = _dtype("Constant", dtype, False)
        try:
            arr = np.broadcast_to(np.asarray(self.value, dt), shape).copy()
        except ValueError:
            raise ValueError(f"Constant: value of shape {np.shape(self.value)} does not "
                             f"broadcast to the weight shape {shape}") from None
        return place(arr)

    def get_config(self) -> dict:
        return {"value": self.value}


class Identity(Initializer):
    """`gain` times the identity matrix (2D shapes only; rectangular shapes get an
    identity on the leading diagonal).

    >>> Identity()((2, 2)).numpy().tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        shape = _shape("Identity", shape)
        if len(shape) != 2:
            raise ValueError(f"Identity initializer: expected a 2D shape, got shape {shape}. "
                             "Use it for square (or rectangular) Dense kernels.")
        dt = _dtype("Identity", dtype, False)
        return place((self.gain * np.eye(*shape)).astype(dt))

    def get_config(self) -> dict:
        return {"gain": self.gain}


class RandomInitializer(Initializer):
    """Base of the random initializers: keeps `seed` (int, None or `SeedGenerator`)."""

    def __init__(self, seed: Any = None) -> None:
        self._init_seed = seed
        if seed is None:
            self.seed: Any = make_default_seed()
        elif isinstance(seed, dict):
            self.seed = SeedGenerator.from_config(seed.get("config", seed))
        elif isinstance(seed, SeedGenerator):
            self.seed = seed
        elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            self.seed = int(seed)
        else:
            raise ValueError(f"{type(self).__name__}: expected seed to be an int, None or a "
                             f"SeedGenerator, got {seed!r}")

    def _rng(self) -> np.random.Generator:
        if isinstance(self.seed, SeedGenerator):
            return self.seed.next_rng()
        return np.random.Generator(np.random.Philox(self.seed % (1 << 64)))  # any int seed

    def get_config(self) -> dict:
        seed = self._init_seed
        if isinstance(seed, SeedGenerator):
            seed = {"module": "keras.random", "class_name": "SeedGenerator",
                    "config": seed.get_config(), "registered_name": None}
        return {"seed": seed}


class RandomNormal(RandomInitializer):
    """Normal samples with `mean` and `stddev`.

    >>> RandomNormal(seed=1)((2, 2)).shape.as_list()
    [2, 2]
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Any = None) -> None:
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed)

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        return place(normal_array(self._rng(), _shape("RandomNormal", shape), self.mean,
                                  self.stddev, _dtype("RandomNormal", dtype)))

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Normal samples with `mean` and `stddev`, re-drawn beyond two standard deviations.

    >>> bool((abs(TruncatedNormal(stddev=1.0, seed=1)((100,)).numpy()) <= 2).all())
    True
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Any = None) -> None:
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed)

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        return place(truncated_normal_array(self._rng(), _shape("TruncatedNormal", shape),
                                            self.mean, self.stddev,
                                            _dtype("TruncatedNormal", dtype)))

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Uniform samples in `[minval, maxval)`.

    >>> bool((RandomUniform(0.0, 1.0, seed=1)((10,)).numpy() >= 0).all())
    True
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: Any = None) -> None:
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed)

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        dt = _dtype("RandomUniform", dtype, float_only=False)
        if dt.kind not in "fiu":
            raise ValueError(f"RandomUniform: expected a float or integer dtype, got {dt.name}")
        return place(uniform_array(self._rng(), _shape("RandomUniform", shape), self.minval,
                                   self.maxval, dt))

    def get_config(self) -> dict:
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


# Standard deviation of a unit normal truncated to [-2, 2]; dividing by it keeps the
# variance of the truncated samples at `scale / n`.
_TRUNC_STD = 0.87962566103423978


class VarianceScaling(RandomInitializer):
    """Samples whose variance is `scale / n`, with n = fan_in, fan_out or their mean.

    `distribution` is "truncated_normal" (default; "normal" is an alias), "untruncated_normal"
    or "uniform" (within `[-sqrt(3 * scale / n), sqrt(3 * scale / n)]`).

    >>> w = VarianceScaling(2.0, "fan_in", "uniform", seed=0)((50, 10)).numpy()
    >>> bool((abs(w) <= (6 / 50) ** 0.5).all())
    True
    """

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: Any = None) -> None:
        if not scale > 0.0:
            raise ValueError(f"{type(self).__name__}: expected a positive scale, got "
                             f"scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"{type(self).__name__}: expected mode 'fan_in', 'fan_out' or "
                             f"'fan_avg', got mode={mode!r}")
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"{type(self).__name__}: expected distribution 'uniform', "
                             f"'truncated_normal' or 'untruncated_normal', got "
                             f"{distribution!r}")
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        super().__init__(seed)

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        name = type(self).__name__
        shape = _shape(name, shape)
        dt = _dtype(name, dtype)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[
            self.mode]
        scale = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            return place(truncated_normal_array(rng, shape, 0.0, math.sqrt(scale) / _TRUNC_STD,
                                                dt))
        if self.distribution == "untruncated_normal":
            return place(normal_array(rng, shape, 0.0, math.sqrt(scale), dt))
        limit = math.sqrt(3.0 * scale)
        return place(uniform_array(rng, shape, -limit, limit, dt))

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution}


class _FixedVarianceScaling(VarianceScaling):
    _args: tuple = ()

    def __init__(self, seed: Any = None) -> None:
        super().__init__(*self._args, seed=seed)

    def get_config(self) -> dict:
        return RandomInitializer.get_config(self)


class GlorotUniform(_FixedVarianceScaling):
    """Uniform in `[-limit, limit]`, `limit = sqrt(6 / (fan_in + fan_out))` (Keras's default
    kernel initializer).

    >>> GlorotUniform(seed=0)((4, 4)).shape.as_list()
    [4, 4]
    """

    _args = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with `stddev = sqrt(2 / (fan_in + fan_out))`.

    >>> GlorotNormal(seed=0)((4, 4)).shape.as_list()
    [4, 4]
    """

    _args = (1.0, "fan_avg", "truncated_normal")


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with `stddev = sqrt(2 / fan_in)`.

    >>> HeNormal(seed=0)((4, 4)).shape.as_list()
    [4, 4]
    """

    _args = (2.0, "fan_in", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """Uniform in `[-limit, limit]`, `limit = sqrt(6 / fan_in)`.

    >>> HeUniform(seed=0)((4, 4)).shape.as_list()
    [4, 4]
    """

    _args = (2.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with `stddev = sqrt(1 / fan_in)` (pairs with selu).

    >>> LecunNormal(seed=0)((4, 4)).shape.as_list()
    [4, 4]
    """

    _args = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """Uniform in `[-limit, limit]`, `limit = sqrt(3 / fan_in)`.

    >>> LecunUniform(seed=0)((4, 4)).shape.as_list()
    [4, 4]
    """

    _args = (1.0, "fan_in", "uniform")


class OrthogonalInitializer(RandomInitializer):
    """A random orthogonal matrix (of the weight flattened to 2D: rows = product of all but
    the last dim), times `gain`.

    >>> import numpy as np
    >>> q = Orthogonal(seed=0)((4, 4)).numpy()
    >>> bool(np.allclose(q @ q.T, np.eye(4), atol=1e-5))
    True
    """

    def __init__(self, gain: float = 1.0, seed: Any = None) -> None:
        self.gain = gain
        super().__init__(seed)

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        shape = _shape("Orthogonal", shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer: expected a shape of rank >= 2, got "
                             f"shape {shape}")
        dt = _dtype("Orthogonal", dtype)
        rows = int(np.prod(shape[:-1]))
        cols = shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.where(np.diag(r) < 0, -1.0, 1.0)
        if rows < cols:
            q = q.T
        return place((self.gain * q).reshape(shape).astype(dt))

    def get_config(self) -> dict:
        return {**super().get_config(), "gain": self.gain}


Orthogonal = OrthogonalInitializer
IdentityInitializer = Identity
