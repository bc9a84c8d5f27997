"""More of `keras.ops.numpy`: NaN-ignoring reductions, percentiles, window functions, complex
parts, splits and NumPy's element-wise odds and ends (`fmod`, `gcd`, `sinc`, `i0` ...).

They are built from ndflow ops (so they differentiate and trace) except where the result
depends on values (`unique`, `histogram` edges) or on bits (`view`, `gcd`, `nextafter`),
which are eager or non-differentiable primitives.

>>> from ndflow.keras import ops
>>> float(ops.nanmean([1.0, float("nan"), 3.0]))
2.0
>>> ops.percentile([1.0, 2.0, 3.0, 4.0], 50).numpy().item()
2.5
"""

from __future__ import annotations

import builtins
import math as _pymath
import re as _re
from collections.abc import Callable
from typing import Any

import numpy as np

from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor, constant
from ndflow.keras.ops import numpy as knp
from ndflow.keras.ops._common import (
    as_np_dtype, as_tensor, floatx, norm_axes, promote, rank, static_value, to_float,
)
from ndflow.ops import array as a_
from ndflow.ops import math as m
from ndflow.ops import reduce as r_
from ndflow.ops import shape_ops as s_
from ndflow.ops import spectral as sp_
from ndflow.ops._util import npdt, shape_of


def _name(op: str) -> str:
    return f"keras.ops.{op}"


def _nan_to(x: Tensor, value: Any) -> Tensor:
    if npdt(x).kind not in "fc":
        return x
    return m.where(m.is_nan(x), m.add(m.zeros_like_(x), as_tensor(value, npdt(x))), x)


def _not_nan_count(x: Tensor, axis: Any, keepdims: bool) -> Tensor:
    return r_.reduce_sum(m.cast(m.logical_not(m.is_nan(x)), npdt(x)), axis, keepdims)


# --- NaN-ignoring reductions ---------------------------------------------------------------------


def nansum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over `axis`, NaNs counted as zero."""
    x = as_tensor(x)
    return knp.sum(_nan_to(x, 0), axis, keepdims)


def nanprod(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Product over `axis`, NaNs counted as one."""
    x = as_tensor(x)
    return knp.prod(_nan_to(x, 1), axis, keepdims)


def nanmean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean of the non-NaN values over `axis` (NaN where all are NaN)."""
    x = to_float(x)
    ax = norm_axes("nanmean", axis, rank(x))
    return m.divide(r_.reduce_sum(_nan_to(x, 0), ax, keepdims), _not_nan_count(x, ax, keepdims))


def nanvar(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Variance of the non-NaN values over `axis`."""
    x = to_float(x)
    ax = norm_axes("nanvar", axis, rank(x))
    mu = nanmean(x, ax, keepdims=True)
    dev = _nan_to(m.square(m.subtract(x, mu)), 0)
    return m.divide(r_.reduce_sum(dev, ax, keepdims), _not_nan_count(x, ax, keepdims))


def nanstd(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Standard deviation of the non-NaN values over `axis`."""
    return m.sqrt(nanvar(x, axis, keepdims))


def _nan_extreme(fn: Callable, name: str, x: Any, axis: Any, keepdims: bool) -> Tensor:
    x = as_tensor(x)
    if npdt(x).kind != "f":
        return fn(x, axis, keepdims)
    fill = -np.inf if fn is knp.max else np.inf
    out = fn(_nan_to(x, fill), axis, keepdims)
    ax = norm_axes(name, axis, rank(x))
    all_nan = r_.reduce_all(m.is_nan(x), ax, keepdims)
    return m.where(all_nan, m.add(m.zeros_like_(out), float("nan")), out)


def nanmax(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Largest non-NaN value over `axis` (NaN where all are NaN)."""
    return _nan_extreme(knp.max, "nanmax", x, axis, keepdims)


def nanmin(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Smallest non-NaN value over `axis` (NaN where all are NaN)."""
    return _nan_extreme(knp.min, "nanmin", x, axis, keepdims)


def nanargmax(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Index of the largest non-NaN value along `axis`."""
    x = as_tensor(x)
    return knp.argmax(_nan_to(x, -np.inf), axis, keepdims)


def nanargmin(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Index of the smallest non-NaN value along `axis`."""
    x = as_tensor(x)
    return knp.argmin(_nan_to(x, np.inf), axis, keepdims)


def nancumsum(x: Any, axis: Any = None, dtype: Any = None) -> Tensor:
    """Cumulative sum along `axis`, NaNs counted as zero."""
    return knp.cumsum(_nan_to(as_tensor(x), 0), axis, dtype)


def nancumprod(x: Any, axis: Any = None, dtype: Any = None) -> Tensor:
    """Cumulative product along `axis`, NaNs counted as one."""
    return knp.cumprod(_nan_to(as_tensor(x), 1), axis, dtype)


def _q_values(op: str, q: Any, scale: float) -> np.ndarray:
    qa = np.asarray(static_value(op, q, "q"), np.float64) / scale
    if np.any(qa < 0) or np.any(qa > 1):
        raise fail(_name(op), f"q in [0, {scale:g}]", repr(q))
    return qa


def nanquantile(x: Any, q: Any, axis: Any = None, method: str = "linear",
                keepdims: bool = False) -> Tensor:
    """The `q`-th quantiles (q in [0, 1]) of the non-NaN values over `axis`."""
    return _nanquantile("nanquantile", x, _q_values("nanquantile", q, 1.0), axis, method,
                        keepdims)


def _nanquantile(op: str, x: Any, qa: np.ndarray, axis: Any, method: str,
                 keepdims: bool) -> Tensor:
    if method not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise fail(_name(op), "method in linear/lower/higher/midpoint/nearest", repr(method))
    x = to_float(x)
    nd = rank(x)
    ax = norm_axes(op, axis, nd)
    ax = tuple(range(nd)) if ax is None else ax
    shp = shape_of(x)
    if builtins.any(shp[i] is None for i in ax):
        raise fail(_name(op), "known sizes along the reduced axes", f"shape {list(shp)}")
    rest = [i for i in range(nd) if i not in ax]
    n = int(np.prod([shp[i] for i in ax])) if ax else 1
    flat = s_.reshape(a_.transpose(x, rest + list(ax)),
                      [-1 if shp[i] is None else shp[i] for i in rest] + [n])
    srt = a_.sort(flat, axis=-1)  # NaNs sort last
    dt = npdt(x)
    cnt = r_.reduce_sum(m.cast(m.logical_not(m.is_nan(flat)), dt), -1, keepdims=True)
    last = m.maximum(m.subtract(cnt, 1.0), 0.0)
    outs = []
    for qv in qa.reshape(-1):
        pos = m.multiply(last, float(qv))
        lo, hi = m.floor(pos), m.ceil(pos)
        if method == "lower":
            hi = lo
        elif method == "higher":
            lo = hi
        elif method == "nearest":
            lo = hi = m.round(pos)  # half to even, as NumPy
        frac = m.subtract(pos, lo)
        if method == "midpoint":
            frac = m.where(m.greater(hi, lo), m.add(m.zeros_like_(pos), 0.5),
                           m.zeros_like_(pos))
        elif method != "linear":
            frac = m.zeros_like_(pos)
        vlo = a_.take_along_axis(srt, m.cast(lo, np.int32), -1)
        vhi = a_.take_along_axis(srt, m.cast(hi, np.int32), -1)
        v = m.add(vlo, m.multiply(m.subtract(vhi, vlo), frac))
        v = m.where(m.equal(cnt, 0.0), m.add(m.zeros_like_(v), float("nan")), v)
        outs.append(a_.squeeze(v, -1))
    out = a_.stack(outs, 0)
    if keepdims:
        keep = [1 if i in ax else (-1 if shp[i] is None else shp[i]) for i in range(nd)]
        out = s_.reshape(out, [len(outs)] + keep)
    return a_.squeeze(out, 0) if qa.ndim == 0 else out


def nanpercentile(x: Any, q: Any, axis: Any = None, method: str = "linear",
                  keepdims: bool = False) -> Tensor:
    """The `q`-th percentiles (q in [0, 100]) of the non-NaN values over `axis`."""
    return _nanquantile("nanpercentile", x, _q_values("nanpercentile", q, 100.0), axis,
                        method, keepdims)


def nanmedian(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Median of the non-NaN values over `axis`."""
    return _nanquantile("nanmedian", x, np.asarray(0.5), axis, "linear", keepdims)


def percentile(x: Any, q: Any, axis: Any = None, method: str = "linear",
               keepdims: bool = False) -> Tensor:
    """The `q`-th percentiles (q in [0, 100]) over `axis`."""
    qa = _q_values("percentile", q, 100.0)
    return knp.quantile(x, qa, axis, method, keepdims)


def ptp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Peak to peak: `max - min` over `axis`."""
    x = as_tensor(x)
    return m.subtract(knp.max(x, axis, keepdims), knp.min(x, axis, keepdims))


# --- element-wise ------------------------------------------------------------------------------


def allclose(x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> Tensor:
    """True when every pair is `isclose`."""
    return r_.reduce_all(knp.isclose(x1, x2, rtol, atol, equal_nan))


def fabs(x: Any) -> Tensor:
    """Absolute value, as a float."""
    return m.abs(to_float(x))


def _float2(x1: Any, x2: Any) -> tuple:
    return knp._float_pair(x1, x2)


def _nan_ignoring(op: Any, x1: Any, x2: Any) -> Tensor:
    """`op(x1, x2)`, but where one of the two is NaN, the other one."""
    a, b = promote(x1, x2)
    out = op(a, b)
    if npdt(a).kind != "f":
        return out
    return m.where(m.is_nan(a), b, m.where(m.is_nan(b), a, out))


def fmax(x1: Any, x2: Any) -> Tensor:
    """Element-wise maximum that ignores a NaN when the other value is a number."""
    return _nan_ignoring(m.maximum, x1, x2)


def fmin(x1: Any, x2: Any) -> Tensor:
    """Element-wise minimum that ignores a NaN when the other value is a number."""
    return _nan_ignoring(m.minimum, x1, x2)


def fmod(x1: Any, x2: Any) -> Tensor:
    """Remainder of truncated division (its sign follows `x1`, as C's fmod)."""
    a, b = promote(x1, x2)
    r = m.floormod(a, b)
    zero = m.zeros_like_(r)
    wrong = m.logical_and(m.not_equal(r, zero),
                          m.not_equal(m.less(r, zero), m.less(a, m.zeros_like_(a))))
    return m.where(wrong, m.subtract(r, b), r)


def _np_binary(name: str, fn_name: str, kinds: str) -> Any:
    def fwd(xp: Any, a: Any, b: Any) -> Any:
        return getattr(xp, fn_name)(a, b)

    def infer(a: Spec, b: Spec) -> Spec:
        if a.dtype.kind not in kinds or b.dtype != a.dtype:
            raise fail(_name(name), f"inputs of one dtype of kind {kinds!r}",
                       f"{a.dtype.name} and {b.dtype.name}")
        from ndflow.ops._util import broadcast_shapes

        return Spec(broadcast_shapes(_name(name), a.shape, b.shape), a.dtype)

    return register_op(f"kops_{name}", fwd, infer, None)


_GCD = _np_binary("gcd", "gcd", "iu")
_LCM = _np_binary("lcm", "lcm", "iu")
_NEXTAFTER = _np_binary("nextafter", "nextafter", "f")


def gcd(x1: Any, x2: Any) -> Tensor:
    """Greatest common divisor of integers."""
    a, b = promote(x1, x2)
    return execute(_GCD, (a, b))


def lcm(x1: Any, x2: Any) -> Tensor:
    """Least common multiple of integers."""
    a, b = promote(x1, x2)
    return execute(_LCM, (a, b))


def nextafter(x1: Any, x2: Any) -> Tensor:
    """The next representable float after `x1` towards `x2`."""
    a, b = _float2(x1, x2)
    return execute(_NEXTAFTER, (a, b))


def ldexp(x1: Any, x2: Any) -> Tensor:
    """`x1 * 2 ** x2` (`x2` integer)."""
    x2 = as_tensor(x2)
    if npdt(x2).kind not in "iu":
        raise fail(_name("ldexp"), "an integer exponent x2", f"dtype {npdt(x2).name}")
    a = to_float(x1)
    return m.multiply(a, knp.exp2(m.cast(x2, npdt(a))))


def logaddexp2(x1: Any, x2: Any) -> Tensor:
    """`log2(2 ** x1 + 2 ** x2)`, computed stably."""
    a, b = _float2(x1, x2)
    ln2 = _pymath.log(2.0)
    return m.divide(knp.logaddexp(m.multiply(a, ln2), m.multiply(b, ln2)), ln2)


def isposinf(x: Any) -> Tensor:
    """True at +inf."""
    x = as_tensor(x)
    if npdt(x).kind != "f":
        return m.not_equal(x, x) if npdt(x).kind != "b" else m.logical_and(x, False)
    return m.logical_and(m.is_inf(x), m.greater(x, 0.0))


def isneginf(x: Any) -> Tensor:
    """True at -inf."""
    x = as_tensor(x)
    if npdt(x).kind != "f":
        return m.not_equal(x, x) if npdt(x).kind != "b" else m.logical_and(x, False)
    return m.logical_and(m.is_inf(x), m.less(x, 0.0))


def isreal(x: Any) -> Tensor:
    """True where the imaginary part is zero (everywhere for real dtypes)."""
    x = as_tensor(x)
    if npdt(x).kind == "c":
        return m.equal(sp_.imag(x), 0.0)
    return m.equal(m.zeros_like_(x), m.zeros_like_(x))


def signbit(x: Any) -> Tensor:
    """True where the sign bit is set (negative numbers and -0.0)."""
    x = as_tensor(x)
    if npdt(x).kind == "b":
        return m.logical_and(x, False)
    if npdt(x).kind != "f":
        return m.less(x, m.zeros_like_(x))
    zero = m.equal(x, 0.0)
    # atan2(-0.0, -1) = -pi while atan2(+0.0, -1) = +pi: reads the sign of zero
    neg_zero = m.logical_and(zero, m.less(m.atan2(x, m.negative(m.ones_like_(x))), 0.0))
    return m.logical_or(m.less(x, 0.0), neg_zero)


def sinc(x: Any) -> Tensor:
    """Normalised sinc: `sin(pi x) / (pi x)`, 1 at 0."""
    x = to_float(x)
    zero = m.equal(x, 0.0)
    safe = m.where(zero, m.ones_like_(x), m.multiply(x, _pymath.pi))
    return m.where(zero, m.ones_like_(x), m.divide(m.sin(safe), safe))


_I0_NODES = 128


def i0(x: Any) -> Tensor:
    """Modified Bessel function of the first kind, order 0, as the integral
    `(1/pi) int_0^pi exp(x cos t) dt` by the trapezoid rule (exact to rounding for
    |x| < ~300: the integrand is periodic and analytic), so it differentiates too."""
    x = to_float(x)
    dt = npdt(x)
    theta = np.linspace(0.0, np.pi, _I0_NODES + 1)
    w = np.full(_I0_NODES + 1, 1.0 / _I0_NODES)
    w[0] = w[-1] = 0.5 / _I0_NODES
    ax = m.abs(x)
    arg = m.multiply(a_.expand_dims(ax, -1), constant(np.cos(theta).astype(dt)))
    # scale out exp(|x|) so large arguments do not overflow before the sum
    terms = m.exp(m.subtract(arg, a_.expand_dims(ax, -1)))
    return m.multiply(r_.reduce_sum(m.multiply(terms, constant(w.astype(dt))), -1), m.exp(ax))


# --- complex parts -------------------------------------------------------------------------------


def real(x: Any) -> Tensor:
    """Real part (real inputs pass through)."""
    return sp_.real(as_tensor(x))


def imag(x: Any) -> Tensor:
    """Imaginary part (zeros for real inputs)."""
    return sp_.imag(as_tensor(x))


def conjugate(x: Any) -> Tensor:
    """Complex conjugate (real inputs pass through)."""
    return sp_.conj(as_tensor(x))


conj = conjugate


def angle(x: Any) -> Tensor:
    """Argument in radians (floats for real inputs: 0 or pi)."""
    x = as_tensor(x)
    if npdt(x).kind not in "fc":
        x = m.cast(x, floatx())
    return sp_.angle(x)


def view_as_complex(x: Any) -> Tensor:
    """A real tensor `(..., 2)` as complex numbers `x[..., 0] + 1j * x[..., 1]`."""
    x = to_float(x)
    if shape_of(x)[-1] != 2:
        raise fail(_name("view_as_complex"), "a last dimension of size 2",
                   f"shape {list(shape_of(x))}")
    re, im = a_.unstack(x, axis=-1)
    return sp_.complex(re, im)


def view_as_real(x: Any) -> Tensor:
    """Complex numbers as a real tensor `(..., 2)` of (real, imag)."""
    x = as_tensor(x)
    return a_.stack([sp_.real(x), sp_.imag(x)], axis=-1)


def _view_fwd(xp: Any, x: Any, dtype: np.dtype) -> Any:
    return xp.ascontiguousarray(x).view(dtype)


def _view_infer(x: Spec, dtype: np.dtype) -> Spec:
    shp = list(x.shape)
    old, new = x.dtype.itemsize, np.dtype(dtype).itemsize
    if old != new:
        if not shp or shp[-1] is None or (shp[-1] * old) % new:
            raise fail(_name("view"), f"a last dimension whose bytes divide into {dtype.name}",
                       f"shape {shp} of {x.dtype.name}")
        shp[-1] = shp[-1] * old // new
    return Spec(tuple(shp), np.dtype(dtype))


_VIEW = register_op("kops_view", _view_fwd, _view_infer, None)


def view(x: Any, dtype: Any = None) -> Tensor:
    """The same bytes read as `dtype` (the last axis rescales when item sizes differ)."""
    x = as_tensor(x)
    if dtype is None:
        return x
    return execute(_VIEW, (x,), {"dtype": as_np_dtype(dtype)})


# --- shapes and splits ---------------------------------------------------------------------------


def fliplr(x: Any) -> Tensor:
    """Reverse axis 1."""
    x = as_tensor(x)
    if rank(x) < 2:
        raise fail(_name("fliplr"), "rank >= 2", f"shape {list(shape_of(x))}")
    return knp.flip(x, 1)


def flipud(x: Any) -> Tensor:
    """Reverse axis 0."""
    x = as_tensor(x)
    if rank(x) < 1:
        raise fail(_name("flipud"), "rank >= 1", "a scalar")
    return knp.flip(x, 0)


def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """Like `split`, but `sections` need not divide the axis: the first `n % sections` parts
    get one extra element."""
    x = as_tensor(x)
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        n = shape_of(x)[norm_axes("array_split", axis, rank(x))[0]]
        if k <= 0 or n is None:
            raise fail(_name("array_split"), "a positive number of sections and a known axis",
                       f"sections={k}, shape {list(shape_of(x))}")
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        idx = list(np.cumsum(sizes)[:-1])
        return knp.split(x, [int(i) for i in idx], axis)
    return knp.split(x, indices_or_sections, axis)


def hsplit(x: Any, indices_or_sections: Any) -> list:
    """Split along axis 1 (axis 0 for 1-D inputs)."""
    x = as_tensor(x)
    return knp.split(x, indices_or_sections, 1 if rank(x) > 1 else 0)


def vsplit(x: Any, indices_or_sections: Any) -> list:
    """Split along axis 0."""
    return knp.split(x, indices_or_sections, 0)


def dsplit(x: Any, indices_or_sections: Any) -> list:
    """Split along axis 2."""
    x = as_tensor(x)
    if rank(x) < 3:
        raise fail(_name("dsplit"), "rank >= 3", f"shape {list(shape_of(x))}")
    return knp.split(x, indices_or_sections, 2)


def empty_like(x: Any, dtype: Any = None) -> Tensor:
    """A tensor shaped like `x` (filled with zeros: ndflow never hands out uninitialised
    memory)."""
    return knp.zeros_like(x, dtype)


def vander(x: Any, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803
    """Vandermonde matrix: columns are powers of the 1-D `x` (decreasing unless
    `increasing`)."""
    x = as_tensor(x)
    if rank(x) != 1:
        raise fail(_name("vander"), "a 1-D input", f"shape {list(shape_of(x))}")
    n = shape_of(x)[0] if N is None else int(N)
    if n is None:
        raise fail(_name("vander"), "a known length (or N)", "an unknown length")
    if n == 0:
        return s_.reshape(a_.expand_dims(x, 1)[:, :0], [-1, 0])
    col = a_.expand_dims(x, 1)
    cols = [m.ones_like_(col)]
    for _ in range(n - 1):
        cols.append(m.multiply(cols[-1], col))
    out = a_.concat(cols, 1)
    return out if increasing else knp.flip(out, 1)


def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None,
              axis: int = 0) -> Tensor:
    """`num` numbers spaced evenly on a log scale from `start` to `stop` (same sign)."""
    s = np.asarray(static_value("geomspace", start, "start"), np.float64)
    e = np.asarray(static_value("geomspace", stop, "stop"), np.float64)
    if np.any(s == 0) or np.any(e == 0) or np.any(np.sign(s) != np.sign(e)):
        raise fail(_name("geomspace"), "non-zero start and stop of one sign",
                   f"start={start!r}, stop={stop!r}")
    out = np.geomspace(s, e, int(num), endpoint=bool(endpoint), axis=int(axis))
    return constant(out.astype(as_np_dtype(dtype) or floatx()))


# --- windows -------------------------------------------------------------------------------------


def _window(name: str, x: Any, fn: Callable[[int], np.ndarray]) -> Tensor:
    m_len = int(static_value(name, x, "the window length"))
    return constant(fn(m_len).astype(floatx()))


def hamming(x: Any) -> Tensor:
    """Hamming window of length `x`."""
    return _window("hamming", x, np.hamming)


def hanning(x: Any) -> Tensor:
    """Hann window of length `x`."""
    return _window("hanning", x, np.hanning)


def blackman(x: Any) -> Tensor:
    """Blackman window of length `x`."""
    return _window("blackman", x, np.blackman)


def bartlett(x: Any) -> Tensor:
    """Bartlett (triangular) window of length `x`."""
    return _window("bartlett", x, np.bartlett)


def kaiser(x: Any, beta: float) -> Tensor:
    """Kaiser window of length `x` and shape `beta`."""
    b = float(static_value("kaiser", beta, "beta"))
    return _window("kaiser", x, lambda n: np.kaiser(n, b))


# --- statistics ----------------------------------------------------------------------------------


def corrcoef(x: Any) -> Tensor:
    """Pearson correlation matrix of the rows (variables) of a 1-D or 2-D `x`."""
    x = to_float(x)
    if rank(x) == 1:
        x = a_.expand_dims(x, 0)
    if rank(x) != 2:
        raise fail(_name("corrcoef"), "a 1-D or 2-D input", f"shape {list(shape_of(x))}")
    xc = m.subtract(x, r_.reduce_mean(x, 1, keepdims=True))
    cov = knp.matmul(xc, a_.transpose(xc))
    d = m.sqrt(a_.diag_part(cov) if hasattr(a_, "diag_part") else knp.diagonal(cov))
    out = m.divide(m.divide(cov, a_.expand_dims(d, 1)), a_.expand_dims(d, 0))
    out = m.clip_by_value(out, -1.0, 1.0)
    return s_.reshape(out, []) if shape_of(out) == (1, 1) else out


def cdist(x: Any, y: Any) -> Tensor:
    """Euclidean distances between the rows of `x` (..., P, M) and of `y` (..., R, M):
    shape (..., P, R)."""
    a, b = promote(to_float(x), to_float(y))
    if rank(a) < 2 or rank(b) < 2 or shape_of(a)[-1] != shape_of(b)[-1]:
        raise fail(_name("cdist"), "x (..., P, M) and y (..., R, M) with one M",
                   f"shapes {list(shape_of(a))} and {list(shape_of(b))}")
    diff = m.subtract(a_.expand_dims(a, -2), a_.expand_dims(b, -3))
    d2 = r_.reduce_sum(m.square(diff), -1)
    pos = m.greater(d2, 0.0)
    return m.where(pos, m.sqrt(m.where(pos, d2, m.ones_like_(d2))), m.zeros_like_(d2))


def correlate(x1: Any, x2: Any, mode: str = "valid") -> Tensor:
    """Cross-correlation of two 1-D sequences, `c[k] = sum_n x1[n + k] * x2[n]`, with NumPy's
    'valid', 'same' and 'full' modes."""
    if mode not in ("valid", "same", "full"):
        raise fail(_name("correlate"), "mode 'valid', 'same' or 'full'", repr(mode))
    a, v = promote(to_float(x1), to_float(x2))
    if rank(a) != 1 or rank(v) != 1:
        raise fail(_name("correlate"), "two 1-D inputs",
                   f"shapes {list(shape_of(a))} and {list(shape_of(v))}")
    la, lv = shape_of(a)[0], shape_of(v)[0]
    if la is None or lv is None or la == 0 or lv == 0:
        raise fail(_name("correlate"), "non-empty inputs of known length", f"{la} and {lv}")
    swap = lv > la
    if swap:  # as NumPy: correlate the longer with the shorter, then reverse
        a, v, la, lv = v, a, lv, la
    full_len = la + lv - 1
    padded = a_.pad(a, [[lv - 1, lv - 1]])
    idx = np.arange(full_len)[:, None] + np.arange(lv)[None, :]
    windows = a_.gather(padded, constant(idx.astype(np.int32)))  # [full_len, lv]
    full = knp.matmul(windows, v)
    if swap:
        full = knp.flip(full, 0)
    if mode == "full":
        return full
    if mode == "valid":
        return full[lv - 1: la]
    start = (lv - 1) // 2 if not swap else lv // 2
    return full[start: start + la]


def histogram(x: Any, bins: int = 10, range: Any = None) -> tuple:  # noqa: A002
    """Counts of 1-D `x` in `bins` equal bins over `range` (default: min to max), and the
    `bins + 1` edges (the last bin includes its right edge). Counts are floats of `x`'s
    dtype, as Keras's torch backend returns them."""
    x = to_float(x)
    if rank(x) != 1:
        raise fail(_name("histogram"), "a 1-D input", f"shape {list(shape_of(x))}")
    nb = int(bins)
    if nb < 1:
        raise fail(_name("histogram"), "bins >= 1", repr(bins))
    dt = npdt(x)
    if range is None:
        lo, hi = r_.reduce_min(x), r_.reduce_max(x)
    else:
        lo, hi = as_tensor(float(range[0]), dt), as_tensor(float(range[1]), dt)
    same = m.equal(lo, hi)
    lo = m.where(same, m.subtract(lo, 0.5), lo)
    hi = m.where(same, m.add(hi, 0.5), hi)
    steps = constant(np.linspace(0.0, 1.0, nb + 1).astype(dt))
    edges = m.add(lo, m.multiply(m.subtract(hi, lo), steps))
    inside = m.logical_and(m.greater_equal(x, lo), m.less_equal(x, hi))
    pos = m.floor(m.multiply(m.divide(m.subtract(x, lo), m.subtract(hi, lo)), float(nb)))
    ids = m.cast(m.clip_by_value(pos, 0.0, float(nb - 1)), np.int32)
    oh = a_.one_hot(ids, nb, dtype=dt)
    counts = r_.reduce_sum(m.multiply(oh, a_.expand_dims(m.cast(inside, dt), 1)), 0)
    return counts, edges


def unique(x: Any, sorted: bool = True, return_index: bool = False,  # noqa: A002
           return_inverse: bool = False, return_counts: bool = False, axis: Any = None,
           size: int | None = None, fill_value: Any = None) -> Any:
    """NumPy's `unique` (values known only when the op runs, so `x` must be concrete):
    the sorted distinct values, plus first indices, inverse indices and counts on request.
    With `size`, results are padded (with `fill_value`, default the smallest value) or cut
    to that length."""
    v = static_value("unique", x, "x")
    dt = v.dtype
    res = np.unique(v, return_index=True, return_inverse=True, return_counts=True,
                    axis=None if axis is None else int(axis))
    vals, index, inverse, counts = res
    if not sorted:
        order = np.argsort(index, kind="stable")
        rank_of = np.empty_like(order)
        rank_of[order] = np.arange(len(order))
        vals, index, counts = vals[order] if axis is None else np.take(vals, order, int(axis)), \
            index[order], counts[order]
        inverse = rank_of[inverse]
    if size is not None:
        k = int(size)
        n = len(index)
        if k < n:
            vals = vals[:k] if axis is None else np.take(vals, np.arange(k), int(axis))
            index, counts = index[:k], counts[:k]
        elif k > n:
            fill = (vals.min() if vals.size else 0) if fill_value is None else fill_value
            if axis is None:
                vals = np.concatenate([vals, np.full(k - n, fill, dt)])
            index = np.concatenate([index, np.zeros(k - n, index.dtype)])
            counts = np.concatenate([counts, np.zeros(k - n, counts.dtype)])
    out = [constant(np.asarray(vals, dt))]
    if return_index:
        out.append(constant(index.astype(np.int64)))
    if return_inverse:
        out.append(constant(np.asarray(inverse).reshape(v.shape if axis is None else -1)
                            .astype(np.int64)))
    if return_counts:
        out.append(constant(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


# --- vectorize -----------------------------------------------------------------------------------

_DIMS = _re.compile(r"\(([^()]*)\)")


def _parse_signature(sig: str) -> tuple:
    try:
        ins, outs = sig.replace(" ", "").split("->")
    except ValueError:
        raise fail(_name("vectorize"), "a signature like '(n),(n)->()'", repr(sig)) from None
    parse = (lambda part: [tuple(d for d in g.split(",") if d)
                           for g in _DIMS.findall(part)])
    return parse(ins), parse(outs)


def vectorize(pyfunc: Callable, *, excluded: Any = None, signature: str | None = None
              ) -> Callable:
    """NumPy's `vectorize`: `pyfunc` applied over the broadcast leading (loop) dimensions of
    its tensor arguments; `signature` ('(m,n),(n)->(m)') names each argument's core
    dimensions (none by default: `pyfunc` sees scalars). `excluded` positions or keywords
    are passed through unchanged.

    >>> f = vectorize(lambda a, b: a + b * 2.0)
    >>> f([1.0, 2.0], 1.0).numpy().tolist()
    [3.0, 4.0]
    """
    from ndflow.keras.ops import core as kcore

    excl = set(excluded or ())
    in_core, out_core = _parse_signature(signature) if signature else (None, None)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        pos = [i for i in builtins.range(len(args)) if i not in excl]
        tensors = [as_tensor(args[i]) for i in pos]
        cores = in_core if in_core is not None else [()] * len(tensors)
        if len(cores) != len(tensors):
            raise fail(_name("vectorize"), f"{len(cores)} tensor arguments for the signature",
                       f"{len(tensors)}")
        loops = [tuple(shape_of(t_))[:len(shape_of(t_)) - len(c)] for t_, c in
                 zip(tensors, cores)]
        batch = tuple(np.broadcast_shapes(*[tuple(1 if d is None else d for d in lp)
                                            for lp in loops]))
        n = int(np.prod(batch)) if batch else 1
        flat = []
        for t_, c in zip(tensors, cores):
            core_shape = list(shape_of(t_))[len(shape_of(t_)) - len(c):]
            b = knp.broadcast_to(t_, batch + tuple(core_shape))
            flat.append(s_.reshape(b, [n] + core_shape))

        def one(elems: Any) -> Any:
            call = list(args)
            for i, e in zip(pos, elems):
                call[i] = e
            return pyfunc(*call, **kwargs)

        res = kcore.map(one, tuple(flat))
        from ndflow.util import nest

        return nest.map_structure(
            lambda r: s_.reshape(r, list(batch) + list(shape_of(r))[1:]), res)

    return wrapped


__all__ = sorted({
    n for n, v in list(globals().items())
    if not n.startswith("_") and callable(v) and getattr(v, "__module__", None) == __name__
} | {"conj"})
