"""Random tensors from seeded generators: same seed, bit-identical results on the CPU.

Seeding follows TensorFlow: `set_seed` fixes the global seed; an op-level `seed` then picks a
reproducible stream of its own. Without any seed, results differ from run to run.

>>> import ndflow as tf
>>> tf.random.set_seed(0); a = tf.random.normal([3])
>>> tf.random.set_seed(0); b = tf.random.normal([3])
>>> bool(tf.reduce_all(a == b))
True
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ndflow.backend import devices as _device
from ndflow.core import dispatch
from ndflow.core.dispatch import Spec, fail, register_op
from ndflow.core.dtypes import np_dtype
from ndflow.core.tensor import Tensor, constant
from ndflow.ops._util import shape_of, t

_lock = threading.Lock()
_global_seed: int | None = None
_global_rng = np.random.Generator(np.random.Philox())
_op_rngs: dict[int, np.random.Generator] = {}


def set_seed(seed: int | None) -> None:
    """Set the global seed (also resets the streams of op-level seeds)."""
    global _global_seed, _global_rng
    with _lock:
        _global_seed = None if seed is None else int(seed)
        _global_rng = np.random.Generator(np.random.Philox(_global_seed))
        _op_rngs.clear()


def get_global_seed() -> int | None:
    return _global_seed


def global_rng() -> np.random.Generator:
    """The NumPy generator that ops without a seed draw from (`set_seed` replaces it)."""
    return _global_rng


def _rng(seed: int | None) -> np.random.Generator:
    if seed is None:
        return _global_rng
    key = int(seed)
    rng = _op_rngs.get(key)
    if rng is None:
        g = 87654321 if _global_seed is None else _global_seed
        rng = _op_rngs[key] = np.random.Generator(np.random.Philox(key=[g, key]))
    return rng


def _symbolic(x: Any) -> bool:
    return isinstance(x, Tensor) and x._symbolic and not x._traced


def _shape(shape: Any) -> tuple:
    if _symbolic(shape):  # tf.shape(x) of a Keras Input: sizes known only per call
        return (None,) * (shape.shape[0] or 0) if shape.shape.rank == 1 else ()
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        return tuple(None if _symbolic(d) else int(d) for d in shape)
    except TypeError:
        raise fail("random", "a fully known shape (list of ints)", repr(shape)) from None


def _sample_fwd(xp: Any, draw: Any, shape: tuple, dtype: np.dtype) -> Any:
    return draw()


# While ndflow.function traces, sampling becomes this stateful node so that every call of the
# compiled function draws fresh numbers (instead of baking one sample in as a constant).
_SAMPLE = register_op("random_sample", _sample_fwd,
                      lambda draw, shape, dtype: Spec(shape, dtype), None, stateful=True)


def sample(fn: Any, shape: tuple, dtype: np.dtype) -> Tensor:
    """A tensor from a host sampler `fn() -> np.ndarray` of `shape` and `dtype`: drawn now
    (placed on the current device), or, while `ndflow.function` traces, a stateful graph node
    that calls `fn` on every run so each call of the compiled function draws anew. What random
    layers (dropout, augmentation) use for their noise.

    >>> import numpy as np
    >>> sample(lambda: np.full((2,), 7.0, np.float32), (2,), np.dtype("float32")).numpy()
    array([7., 7.], dtype=float32)
    """
    if None in shape:  # a Keras model being built: a symbolic sample (drawn on every call)
        from ndflow.core.tensor import SymbolicTensor

        return SymbolicTensor(shape, dtype)
    if dispatch.trace_hook is not None:
        return dispatch.execute(_SAMPLE, (), {"draw": fn, "shape": shape, "dtype": dtype})
    return place(fn())


def place(arr: np.ndarray) -> Tensor:
    """A host array as a tensor on the current device (`tf.device` scope)."""
    spec = _device.current_device()
    if spec.device_type != "CPU":
        arr = _device.to_device(arr, spec)
    return Tensor(arr)


def _float_dtype(op: str, dtype: Any) -> np.dtype:
    dt = np_dtype(dtype)
    if dt.kind != "f":
        raise fail(op, "a floating-point dtype", dt.name)
    return dt


def normal_array(rng: np.random.Generator, shape: tuple, mean: Any, stddev: Any,
                 dt: np.dtype) -> np.ndarray:
    """Normal samples from a NumPy generator as a host array of dtype `dt` (the kernel of
    `normal`; initializers call it with their own seeded generator)."""
    z = rng.standard_normal(shape, dtype=np.float64 if dt == np.float64 else np.float32)
    return (z * np.asarray(stddev, dt) + np.asarray(mean, dt)).astype(dt, copy=False)


def uniform_array(rng: np.random.Generator, shape: tuple, minval: Any, maxval: Any,
                  dt: np.dtype) -> np.ndarray:
    """Uniform samples in [minval, maxval) (maxval None: 1 for floats; required for ints) as
    a host array of dtype `dt` (the kernel of `uniform`)."""
    if dt.kind in "iu":
        if maxval is None:
            raise fail("random.uniform", "maxval for an integer dtype", "maxval=None")
        return rng.integers(int(minval), int(maxval), size=shape, dtype=dt)
    maxval = 1.0 if maxval is None else maxval
    u = rng.random(shape, dtype=np.float64 if dt == np.float64 else np.float32)
    return (u * (np.asarray(maxval, dt) - np.asarray(minval, dt)) + np.asarray(minval, dt)
            ).astype(dt, copy=False)


def truncated_normal_array(rng: np.random.Generator, shape: tuple, mean: Any, stddev: Any,
                           dt: np.dtype) -> np.ndarray:
    """Normal samples re-drawn beyond two standard deviations, as a host array of dtype `dt`
    (the kernel of `truncated_normal`)."""
    # rejection sampling in the output's precision (float32 draws are about twice as fast);
    # 95.45% of draws land in [-2, 2], so one pass of n / 0.95 + slack almost always suffices
    # (the large kernels of the model zoo made the old 2n float64 draws the cost of building)
    work = np.float64 if dt == np.float64 else np.float32
    n = int(np.prod(shape))
    out = np.empty(n, work)
    filled = 0
    while filled < n:
        need = n - filled
        z = rng.standard_normal(int(need * 1.06) + 64, dtype=work)
        z = z[np.abs(z) <= 2.0]
        take = min(len(z), need)
        out[filled:filled + take] = z[:take]
        filled += take
    out *= work(float(stddev))
    out += work(float(mean))
    return out.reshape(shape).astype(dt, copy=False)


def normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = np.float32,
           seed: int | None = None, name: str | None = None) -> Tensor:
    """Samples from a normal distribution."""
    rng, shp, dt = _rng(seed), _shape(shape), _float_dtype("random.normal", dtype)
    return sample(lambda: normal_array(rng, shp, mean, stddev, dt), shp, dt)


def uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = np.float32,
            seed: int | None = None, name: str | None = None) -> Tensor:
    """Samples from [minval, maxval) (maxval defaults to 1 for floats)."""
    rng, shp, dt = _rng(seed), _shape(shape), np_dtype(dtype)
    return sample(lambda: uniform_array(rng, shp, minval, maxval, dt), shp, dt)


def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0,
                     dtype: Any = np.float32, seed: int | None = None,
                     name: str | None = None) -> Tensor:
    """Normal samples re-drawn when more than two standard deviations from the mean."""
    rng, shp = _rng(seed), _shape(shape)
    dt = _float_dtype("random.truncated_normal", dtype)
    return sample(lambda: truncated_normal_array(rng, shp, mean, stddev, dt), shp, dt)


def _categorical(rng: np.random.Generator, logits: np.ndarray, num_samples: int,
                 dt: np.dtype) -> np.ndarray:
    lg = logits.astype(np.float64)
    lg = lg - lg.max(axis=-1, keepdims=True)
    p = np.exp(lg)
    p /= p.sum(axis=-1, keepdims=True)
    c = np.cumsum(p, axis=-1)
    u = rng.random((lg.shape[0], num_samples))
    out = (u[:, :, None] > c[:, None, :]).sum(-1)
    return np.minimum(out, lg.shape[1] - 1).astype(dt)


def categorical(logits: Any, num_samples: int, dtype: Any = np.int64, seed: int | None = None,
                name: str | None = None) -> Tensor:
    """Draw class ids from unnormalised log-probabilities `logits` [batch, classes]."""
    lg = t(logits)
    if len(shape_of(lg)) != 2:
        raise fail("random.categorical", "logits of rank 2 [batch, classes]",
                   f"shape {list(shape_of(lg))}")
    return place(_categorical(_rng(seed), lg.numpy(), int(num_samples), np_dtype(dtype)))


def shuffle(value: Any, seed: int | None = None, name: str | None = None) -> Tensor:
    """Shuffle along the first dimension."""
    x = t(value)
    perm = _rng(seed).permutation(shape_of(x)[0])
    from ndflow.ops.array import gather

    return gather(x, constant(perm.astype(np.int64)))


def poisson(shape: Any, lam: Any, dtype: Any = np.float32, seed: int | None = None) -> Tensor:
    return place(_rng(seed).poisson(np.asarray(lam), _shape(shape) + np.shape(lam)).astype(
        np_dtype(dtype)))


def gamma(shape: Any, alpha: Any, beta: Any = None, dtype: Any = np.float32,
          seed: int | None = None) -> Tensor:
    a = np.asarray(alpha, np.float64)
    scale = 1.0 if beta is None else 1.0 / np.asarray(beta, np.float64)
    return place(_rng(seed).gamma(a, scale, _shape(shape) + a.shape).astype(np_dtype(dtype)))


class Generator:
    """A seeded random-number generator object (`tf.random.Generator`).

    >>> g = Generator.from_seed(1)
    >>> g.normal([2]).shape.as_list()
    [2]
    """

    def __init__(self, seed: int | None = None, alg: str = "philox", *,
                 _rng: np.random.Generator | None = None) -> None:
        self._seed = seed
        self._rng = _rng if _rng is not None else np.random.Generator(np.random.Philox(seed))

    @classmethod
    def from_seed(cls, seed: int, alg: str = "philox") -> Generator:
        return cls(int(seed), alg)

    @classmethod
    def from_non_deterministic_state(cls, alg: str = "philox") -> Generator:
        return cls(None, alg)

    def reset_from_seed(self, seed: int) -> None:
        self._seed = int(seed)
        self._rng = np.random.Generator(np.random.Philox(self._seed))

    def normal(self, shape: Any, mean: float = 0.0, stddev: float = 1.0,
               dtype: Any = np.float32, name: str | None = None) -> Tensor:
        return place(normal_array(self._rng, _shape(shape), mean, stddev,
                                  _float_dtype("Generator.normal", dtype)))

    def uniform(self, shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = np.float32,
                name: str | None = None) -> Tensor:
        return place(uniform_array(self._rng, _shape(shape), minval, maxval, np_dtype(dtype)))

    def truncated_normal(self, shape: Any, mean: float = 0.0, stddev: float = 1.0,
                         dtype: Any = np.float32, name: str | None = None) -> Tensor:
        return place(truncated_normal_array(self._rng, _shape(shape), mean, stddev,
                                            _float_dtype("Generator.truncated_normal", dtype)))

    def uniform_full_int(self, shape: Any, dtype: Any = np.int64) -> Tensor:
        dt = np_dtype(dtype)
        info = np.iinfo(dt)
        return place(self._rng.integers(info.min, info.max, size=_shape(shape), dtype=dt,
                                        endpoint=True))

    def categorical(self, logits: Any, num_samples: int, dtype: Any = np.int64) -> Tensor:
        return place(_categorical(self._rng, t(logits).numpy(), int(num_samples),
                                  np_dtype(dtype)))

    def make_seeds(self, count: int = 1) -> Tensor:
        return constant(self._rng.integers(0, 2**62, size=(2, count), dtype=np.int64))

    def split(self, count: int = 1) -> list[Generator]:
        """New independent generators derived from this one's stream."""
        seeds = self._rng.integers(0, 2**62, size=count)
        return [Generator(_rng=np.random.Generator(np.random.Philox(int(s)))) for s in seeds]

    def permutation(self, n: int) -> np.ndarray:
        return self._rng.permutation(n)


_global_generator: Generator | None = None


def get_global_generator() -> Generator:
    global _global_generator
    if _global_generator is None:
        _global_generator = Generator(_rng=_global_rng)
    return _global_generator


def stateless_normal(shape: Any, seed: Any, mean: float = 0.0, stddev: float = 1.0,
                     dtype: Any = np.float32) -> Tensor:
    s = [int(v) for v in np.asarray(t(seed).numpy() if isinstance(seed, Tensor) else seed)]
    rng = np.random.Generator(np.random.Philox(key=s[:2]))
    return place(normal_array(rng, _shape(shape), mean, stddev,
                              _float_dtype("stateless_normal", dtype)))


def stateless_uniform(shape: Any, seed: Any, minval: Any = 0, maxval: Any = None,
                      dtype: Any = np.float32) -> Tensor:
    s = [int(v) for v in np.asarray(t(seed).numpy() if isinstance(seed, Tensor) else seed)]
    rng = np.random.Generator(np.random.Philox(key=s[:2]))
    return place(uniform_array(rng, _shape(shape), minval, maxval, np_dtype(dtype)))


__all__ = ["Generator", "categorical", "gamma", "get_global_generator", "normal", "poisson",
           "set_seed", "shuffle", "stateless_normal", "stateless_uniform", "truncated_normal",
           "uniform"]
