"""`keras.random`: Keras 3's random ops with seed objects.

`seed` is an int (the same numbers on every call, as Keras's stateless draws), a
`SeedGenerator` (state that advances: every call draws anew, reproducibly from its seed), or
None (the global stream that `keras.utils.set_random_seed` fixes). Draws happen when the op
runs: inside `ndflow.function` (and so in compiled `fit` steps) each call of the compiled
function draws fresh numbers from the generator's current state.

>>> from ndflow import keras
>>> g = keras.random.SeedGenerator(1)
>>> a = keras.random.normal((2,), seed=g); b = keras.random.normal((2,), seed=g)
>>> bool((a.numpy() != b.numpy()).all())
True
>>> x = keras.random.uniform((3,), seed=7); y = keras.random.uniform((3,), seed=7)
>>> bool((x.numpy() == y.numpy()).all())
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.dtypes import np_dtype
from ndflow.core.tensor import Tensor
from ndflow.keras.ops._common import as_tensor, floatx, static_value
from ndflow.keras.utils.rng_utils import SeedGenerator
from ndflow.ops import array as a_
from ndflow.ops import math as m
from ndflow.ops import reduce as r_
from ndflow.ops._util import npdt, shape_of


def _rng_source(op: str, seed: Any) -> Callable[[], np.random.Generator]:
    """A function giving the NumPy generator for one draw, called when the op runs."""
    if isinstance(seed, SeedGenerator):
        return seed.next_rng
    if seed is None:
        from ndflow.ops import random as core_random

        return core_random.global_rng
    if isinstance(seed, Tensor):
        seed = static_value(f"random.{op}", seed, "seed").tolist()
    if isinstance(seed, (list, tuple, np.ndarray)):
        key = [int(s) % (1 << 64) for s in np.asarray(seed).reshape(-1)[:2]]
        return lambda: np.random.Generator(np.random.Philox(key=key))
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        s = int(seed) % (1 << 64)
        return lambda: np.random.Generator(np.random.Philox(s))
    raise fail(f"keras.random.{op}", "seed as an int, a SeedGenerator or None",
               f"{type(seed).__name__} {seed!r}")


def _shape(op: str, shape: Any) -> tuple:
    if isinstance(shape, Tensor):
        shape = static_value(f"random.{op}", shape, "shape").tolist()
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        out = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise fail(f"keras.random.{op}", "a fully known shape (ints)", repr(shape)) from None
    if any(d < 0 for d in out):
        raise fail(f"keras.random.{op}", "non-negative dimensions", repr(shape))
    return out


def _float(op: str, dtype: Any) -> np.dtype:
    dt = floatx() if dtype is None else np_dtype(dtype)
    if dt.kind != "f":
        raise fail(f"keras.random.{op}", "a floating-point dtype", dt.name,
                   "Use keras.random.randint for integers.")
    return dt


def _draw(fn: Callable[[], np.ndarray], shape: tuple, dt: np.dtype) -> Tensor:
    from ndflow.ops.random import sample

    return sample(fn, shape, dt)


def _refuse_keras_symbolic(op: str, x: Tensor) -> None:
    """Random ops on `keras.Input` tensors would be recorded as one fixed draw: refuse."""
    from ndflow.core import dispatch

    if x._symbolic and dispatch.trace_hook is None:
        raise fail(f"keras.random.{op}", "a concrete tensor (or one traced by ndflow.function)",
                   "a symbolic Keras tensor",
                   "In a Functional model use a layer (keras.layers.Dropout, GaussianNoise) or "
                   "call keras.random inside a layer's call().")


def _work(dt: np.dtype) -> Any:
    return np.float64 if dt == np.float64 else np.float32


def normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
           seed: Any = None) -> Tensor:
    """Samples from a normal distribution.

    >>> normal((2, 3), seed=0).shape.as_list()
    [2, 3]
    """
    shp, dt, src = _shape("normal", shape), _float("normal", dtype), _rng_source("normal", seed)
    mean, stddev = float(mean), float(stddev)
    return _draw(lambda: (src().standard_normal(shp, dtype=_work(dt)) * stddev + mean
                          ).astype(dt, copy=False), shp, dt)


def uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None,
            seed: Any = None) -> Tensor:
    """Samples from [minval, maxval)."""
    shp, dt, src = _shape("uniform", shape), _float("uniform", dtype), _rng_source("uniform",
                                                                                    seed)
    lo, hi = float(minval), float(maxval)
    return _draw(lambda: (src().random(shp, dtype=_work(dt)) * (hi - lo) + lo
                          ).astype(dt, copy=False), shp, dt)


def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                     seed: Any = None) -> Tensor:
    """Normal samples, re-drawn when more than two standard deviations from the mean."""
    from ndflow.ops.random import truncated_normal_array

    shp, dt = _shape("truncated_normal", shape), _float("truncated_normal", dtype)
    src = _rng_source("truncated_normal", seed)
    return _draw(lambda: truncated_normal_array(src(), shp, mean, stddev, dt), shp, dt)


def randint(shape: Any, minval: int, maxval: int, dtype: Any = "int32",
            seed: Any = None) -> Tensor:
    """Integers drawn uniformly from [minval, maxval).

    >>> int(randint((4,), 0, 3, seed=1).numpy().max()) < 3
    True
    """
    shp, src = _shape("randint", shape), _rng_source("randint", seed)
    dt = np_dtype(dtype)
    if dt.kind not in "iu":
        raise fail("keras.random.randint", "an integer dtype", dt.name)
    lo, hi = int(minval), int(maxval)
    if hi <= lo:
        raise fail("keras.random.randint", "minval < maxval", f"minval={lo}, maxval={hi}")
    return _draw(lambda: src().integers(lo, hi, size=shp, dtype=dt), shp, dt)


def categorical(logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None
                ) -> Tensor:
    """Class ids drawn from unnormalised log-probabilities `logits` [batch, classes]
    (the Gumbel-max trick: works on traced tensors too)."""
    lg = as_tensor(logits)
    _refuse_keras_symbolic("categorical", lg)
    if npdt(lg).kind != "f":
        lg = m.cast(lg, floatx())
    shp = shape_of(lg)
    if len(shp) != 2 or shp[1] is None:
        raise fail("keras.random.categorical", "logits of shape [batch, classes]",
                   f"shape {list(shp)}")
    if shp[0] is None:
        raise fail("keras.random.categorical", "a known batch size", f"shape {list(shp)}")
    n = int(num_samples)
    gshape = (int(shp[0]), n, int(shp[1]))
    dt = npdt(lg)
    src = _rng_source("categorical", seed)

    def gumbel() -> np.ndarray:
        u = src().random(gshape)
        return (-np.log(-np.log(np.clip(u, 1e-20, 1.0)))).astype(dt)

    scores = m.add(a_.expand_dims(lg, 1), _draw(gumbel, gshape, dt))
    return r_.argmax(scores, -1, output_type=np_dtype(dtype))


def dropout(inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None) -> Tensor:
    """Zero entries with probability `rate` and scale the rest by `1 / (1 - rate)`."""
    x = as_tensor(inputs)
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise fail("keras.random.dropout", "rate in [0, 1)", repr(rate))
    _refuse_keras_symbolic("dropout", x)
    shp = tuple(shape_of(x))
    if noise_shape is None:
        ns = shp
    else:
        ns = tuple(s if d is None else int(d) for d, s in zip(noise_shape, shp))
        if len(tuple(noise_shape)) != len(shp):
            raise fail("keras.random.dropout", f"noise_shape of rank {len(shp)}",
                       repr(noise_shape))
    if any(d is None for d in ns):
        raise fail("keras.random.dropout", "known dimensions (or a noise_shape)",
                   f"shape {list(shp)}")
    dt = npdt(x)
    src = _rng_source("dropout", seed)

    def mask() -> np.ndarray:
        keep = src().random(ns, dtype=_work(dt)) >= rate
        return keep.astype(dt) * np.asarray(1.0 / (1.0 - rate), dt)

    return m.multiply(x, _draw(mask, ns, dt))


def shuffle(x: Any, axis: int = 0, seed: Any = None) -> Tensor:
    """`x` with its entries along `axis` in a random order."""
    x = as_tensor(x)
    _refuse_keras_symbolic("shuffle", x)
    nd = len(shape_of(x))
    ax = int(axis) % max(nd, 1)
    n = shape_of(x)[ax]
    if n is None:
        raise fail("keras.random.shuffle", "a known size along axis", f"shape {shape_of(x)}")
    src = _rng_source("shuffle", seed)
    perm = _draw(lambda: src().permutation(n).astype(np.int32), (n,), np.dtype(np.int32))
    return a_.gather(x, perm, axis=ax)


def gamma(shape: Any, alpha: float, dtype: Any = None, seed: Any = None) -> Tensor:
    """Samples from a gamma distribution with concentration `alpha` (scale 1)."""
    shp, dt, src = _shape("gamma", shape), _float("gamma", dtype), _rng_source("gamma", seed)
    a = np.asarray(static_value("random.gamma", alpha, "alpha"), np.float64)
    if np.any(a <= 0):
        raise fail("keras.random.gamma", "alpha > 0", repr(alpha))
    return _draw(lambda: src().gamma(np.broadcast_to(a, shp)).astype(dt), shp, dt)


def binomial(shape: Any, counts: Any, probabilities: Any, dtype: Any = None,
             seed: Any = None) -> Tensor:
    """Numbers of successes in `counts` trials of probability `probabilities`, as floats."""
    shp, dt = _shape("binomial", shape), _float("binomial", dtype)
    src = _rng_source("binomial", seed)
    n = np.asarray(static_value("random.binomial", counts, "counts"))
    p = np.asarray(static_value("random.binomial", probabilities, "probabilities"), np.float64)
    if np.any(p < 0) or np.any(p > 1):
        raise fail("keras.random.binomial", "probabilities in [0, 1]", repr(probabilities))
    return _draw(lambda: src().binomial(np.broadcast_to(n.astype(np.int64), shp),
                                        np.broadcast_to(p, shp)).astype(dt), shp, dt)


def beta(shape: Any, alpha: Any, beta: Any, dtype: Any = None, seed: Any = None) -> Tensor:
    """Samples from a beta distribution with concentrations `alpha` and `beta`."""
    shp, dt, src = _shape("beta", shape), _float("beta", dtype), _rng_source("beta", seed)
    a = np.asarray(static_value("random.beta", alpha, "alpha"), np.float64)
    b = np.asarray(static_value("random.beta", beta, "beta"), np.float64)
    if np.any(a <= 0) or np.any(b <= 0):
        raise fail("keras.random.beta", "alpha > 0 and beta > 0", f"{alpha!r}, {beta!r}")
    return _draw(lambda: src().beta(np.broadcast_to(a, shp), np.broadcast_to(b, shp)
                                    ).astype(dt), shp, dt)


__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal",
           "randint", "shuffle", "truncated_normal", "uniform"]
