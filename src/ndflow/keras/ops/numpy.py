# ruff: noqa: A001
"""`keras.ops.numpy`: NumPy-like ops with Keras 3 signatures and dtype rules.

Every op is composed of ndflow ops, so gradients, `ndflow.function` tracing and Keras symbolic
tensors (`keras.Input`) work through them. Mixed dtypes are promoted as in Keras 3 first.

>>> from ndflow.keras import ops
>>> ops.mean(ops.convert_to_tensor([[1, 2], [3, 4]]), axis=-1).numpy().tolist()
[1.5, 3.5]
>>> ops.matmul([1.0, 2.0], [[1.0], [1.0]]).numpy().tolist()
[3.0]
"""

from __future__ import annotations

import builtins
import math as _pymath
from typing import Any

import numpy as np

from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor, constant
from ndflow.ops import array as a_
from ndflow.ops import creation as c_
from ndflow.ops import linalg as la_
from ndflow.ops import math as m
from ndflow.ops import reduce as r_
from ndflow.ops import shape_ops as s_
from ndflow.ops._util import npdt, shape_of
from ndflow.keras.ops._common import (
    as_np_dtype, as_tensor, floatx, norm_axes, promote, rank, result_type, static_value, to_float,
)

_bsum = builtins.sum


def _name(op: str) -> str:
    return f"keras.ops.{op}"


# ==============================================================================================
# element-wise binary ops
# ==============================================================================================


def add(x1: Any, x2: Any) -> Tensor:
    """`x1 + x2` with Keras dtype promotion.

    >>> add([1, 2], 0.5).numpy().tolist()
    [1.5, 2.5]
    """
    a, b = promote(x1, x2)
    if npdt(a).kind == "b":
        return m.logical_or(a, b)
    return m.add(a, b)


def subtract(x1: Any, x2: Any) -> Tensor:
    """`x1 - x2`."""
    a, b = promote(x1, x2)
    return m.subtract(a, b)


def multiply(x1: Any, x2: Any) -> Tensor:
    """`x1 * x2`."""
    a, b = promote(x1, x2)
    if npdt(a).kind == "b":
        return m.logical_and(a, b)
    return m.multiply(a, b)


def divide(x1: Any, x2: Any) -> Tensor:
    """True division; integer inputs give floatx.

    >>> divide([1, 2], 2).numpy().tolist()
    [0.5, 1.0]
    """
    dt = result_type(as_tensor(x1) if not _weak(x1) else x1,
                     as_tensor(x2) if not _weak(x2) else x2, 1.0)
    return m.divide(as_tensor(x1, dt), as_tensor(x2, dt))


true_divide = divide


def divide_no_nan(x1: Any, x2: Any) -> Tensor:
    """`x1 / x2`, 0 where `x2` is 0."""
    dt = result_type(as_tensor(x1) if not _weak(x1) else x1,
                     as_tensor(x2) if not _weak(x2) else x2, 1.0)
    return m.divide_no_nan(as_tensor(x1, dt), as_tensor(x2, dt))


def floor_divide(x1: Any, x2: Any) -> Tensor:
    """`x1 // x2` (rounds toward minus infinity)."""
    a, b = promote(x1, x2)
    if npdt(a).kind == "f":
        return m.floor(m.divide(a, b))
    return m.floordiv(a, b)


def mod(x1: Any, x2: Any) -> Tensor:
    """Remainder with the sign of the divisor (NumPy's `mod`)."""
    a, b = promote(x1, x2)
    return m.floormod(a, b)


def power(x1: Any, x2: Any) -> Tensor:
    """`x1 ** x2`."""
    a, b = promote(x1, x2)
    return m.pow(a, b)


def maximum(x1: Any, x2: Any) -> Tensor:
    """Element-wise maximum."""
    a, b = promote(x1, x2)
    return m.maximum(a, b)


def minimum(x1: Any, x2: Any) -> Tensor:
    """Element-wise minimum."""
    a, b = promote(x1, x2)
    return m.minimum(a, b)


def _float_pair(x1: Any, x2: Any) -> tuple[Tensor, Tensor]:
    dt = result_type(as_tensor(x1) if not _weak(x1) else x1,
                     as_tensor(x2) if not _weak(x2) else x2, 1.0)
    return as_tensor(x1, dt), as_tensor(x2, dt)


def arctan2(x1: Any, x2: Any) -> Tensor:
    """Angle of the point (x2, x1), in radians."""
    a, b = _float_pair(x1, x2)
    return m.atan2(a, b)


def hypot(x1: Any, x2: Any) -> Tensor:
    """`sqrt(x1**2 + x2**2)`, without overflow for large values."""
    a, b = _float_pair(x1, x2)
    big = m.maximum(m.abs(a), m.abs(b))
    small = m.minimum(m.abs(a), m.abs(b))
    safe = m.where(m.equal(big, 0), m.ones_like_(big), big)
    ratio = m.divide(small, safe)
    return m.multiply(big, m.sqrt(m.add(m.square(ratio), 1)))


def logaddexp(x1: Any, x2: Any) -> Tensor:
    """`log(exp(x1) + exp(x2))`, computed stably."""
    a, b = _float_pair(x1, x2)
    mx = m.maximum(a, b)
    d = m.negative(m.abs(m.subtract(a, b)))
    d = m.where(m.is_nan(d), m.zeros_like_(d), d)  # inf - inf
    return m.add(mx, m.log1p(m.exp(d)))


def _cmp(fn: Any, x1: Any, x2: Any) -> Tensor:
    a, b = promote(x1, x2)
    return fn(a, b)


def equal(x1: Any, x2: Any) -> Tensor:
    """`x1 == x2` as bools."""
    return _cmp(m.equal, x1, x2)


def not_equal(x1: Any, x2: Any) -> Tensor:
    """`x1 != x2`."""
    return _cmp(m.not_equal, x1, x2)


def greater(x1: Any, x2: Any) -> Tensor:
    """`x1 > x2`."""
    return _cmp(m.greater, x1, x2)


def greater_equal(x1: Any, x2: Any) -> Tensor:
    """`x1 >= x2`."""
    return _cmp(m.greater_equal, x1, x2)


def less(x1: Any, x2: Any) -> Tensor:
    """`x1 < x2`."""
    return _cmp(m.less, x1, x2)


def less_equal(x1: Any, x2: Any) -> Tensor:
    """`x1 <= x2`."""
    return _cmp(m.less_equal, x1, x2)


def _bool(x: Any) -> Tensor:
    x = as_tensor(x)
    if npdt(x).kind != "b":
        return m.not_equal(x, m.zeros_like_(x))
    return x


def logical_and(x1: Any, x2: Any) -> Tensor:
    """Element-wise AND of the truth values."""
    return m.logical_and(_bool(x1), _bool(x2))


def logical_or(x1: Any, x2: Any) -> Tensor:
    """Element-wise OR of the truth values."""
    return m.logical_or(_bool(x1), _bool(x2))


def logical_xor(x1: Any, x2: Any) -> Tensor:
    """Element-wise XOR of the truth values."""
    return m.logical_xor(_bool(x1), _bool(x2))


def logical_not(x: Any) -> Tensor:
    """Element-wise NOT of the truth values."""
    return m.logical_not(_bool(x))


def isclose(x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8,
            equal_nan: bool = False) -> Tensor:
    """`|x1 - x2| <= atol + rtol * |x2|`, as bools (infinities equal only to themselves)."""
    a, b = promote(x1, x2)
    if npdt(a).kind in "biu":
        return m.equal(a, b)
    close = m.less_equal(m.abs(m.subtract(a, b)), m.add(m.multiply(m.abs(b), rtol), atol))
    close = m.logical_or(close, m.equal(a, b))
    if equal_nan:
        close = m.logical_or(close, m.logical_and(m.is_nan(a), m.is_nan(b)))
    return close


def _weak(v: Any) -> bool:
    return isinstance(v, (bool, int, float)) and not isinstance(v, np.generic)


# ==============================================================================================
# element-wise unary ops
# ==============================================================================================


def _unary_float(fn: Any, name: str, doc: str) -> Any:
    def op(x: Any) -> Tensor:
        return fn(to_float(x))

    op.__name__ = name
    op.__qualname__ = name
    op.__doc__ = doc + " Integer and bool inputs give floatx."
    return op


sqrt = _unary_float(m.sqrt, "sqrt", "Square root.")
exp = _unary_float(m.exp, "exp", "`e ** x`.")
expm1 = _unary_float(m.expm1, "expm1", "`exp(x) - 1`, accurate near 0.")
log = _unary_float(m.log, "log", "Natural logarithm.")
log1p = _unary_float(m.log1p, "log1p", "`log(1 + x)`, accurate near 0.")
sin = _unary_float(m.sin, "sin", "Sine.")
cos = _unary_float(m.cos, "cos", "Cosine.")
tan = _unary_float(m.tan, "tan", "Tangent.")
arcsin = _unary_float(m.asin, "arcsin", "Inverse sine.")
arccos = _unary_float(m.acos, "arccos", "Inverse cosine.")
arctan = _unary_float(m.atan, "arctan", "Inverse tangent.")
sinh = _unary_float(m.sinh, "sinh", "Hyperbolic sine.")
cosh = _unary_float(m.cosh, "cosh", "Hyperbolic cosine.")
tanh = _unary_float(m.tanh, "tanh", "Hyperbolic tangent.")
arcsinh = _unary_float(m.asinh, "arcsinh", "Inverse hyperbolic sine.")
arccosh = _unary_float(m.acosh, "arccosh", "Inverse hyperbolic cosine.")
arctanh = _unary_float(m.atanh, "arctanh", "Inverse hyperbolic tangent.")
reciprocal = _unary_float(m.reciprocal, "reciprocal", "`1 / x`.")
floor = _unary_float(m.floor, "floor", "Largest integer <= x.")
ceil = _unary_float(m.ceil, "ceil", "Smallest integer >= x.")


def log2(x: Any) -> Tensor:
    """Base-2 logarithm."""
    x = to_float(x)
    return m.multiply(m.log(x), 1.0 / _pymath.log(2.0))


def log10(x: Any) -> Tensor:
    """Base-10 logarithm."""
    x = to_float(x)
    return m.multiply(m.log(x), 1.0 / _pymath.log(10.0))


def exp2(x: Any) -> Tensor:
    """`2 ** x`."""
    x = to_float(x)
    return m.exp(m.multiply(x, _pymath.log(2.0)))


def cbrt(x: Any) -> Tensor:
    """Real cube root (negative for negative inputs)."""
    x = to_float(x)
    return m.multiply(m.sign(x), m.pow(m.abs(x), 1.0 / 3.0))


def deg2rad(x: Any) -> Tensor:
    """Degrees to radians."""
    return m.multiply(to_float(x), _pymath.pi / 180.0)


def rad2deg(x: Any) -> Tensor:
    """Radians to degrees."""
    return m.multiply(to_float(x), 180.0 / _pymath.pi)


def abs(x: Any) -> Tensor:
    """Absolute value (same dtype).

    >>> abs([-1, 2]).numpy().tolist()
    [1, 2]
    """
    x = as_tensor(x)
    if npdt(x).kind in "bu":
        return x
    return m.abs(x)


absolute = abs


def negative(x: Any) -> Tensor:
    """`-x`."""
    return m.negative(as_tensor(x))


def square(x: Any) -> Tensor:
    """`x * x` (bools give int32)."""
    x = as_tensor(x)
    if npdt(x).kind == "b":
        x = m.cast(x, np.int32)
    return m.square(x)


def sign(x: Any) -> Tensor:
    """-1, 0 or 1 by the sign of `x` (same dtype)."""
    x = as_tensor(x)
    if npdt(x).kind in "bu":
        return m.cast(m.not_equal(x, m.zeros_like_(x)), npdt(x))
    return m.sign(x)


def round(x: Any, decimals: int = 0) -> Tensor:
    """Round half to even, to `decimals` places (integers are returned unchanged when
    `decimals >= 0`)."""
    x = as_tensor(x)
    if npdt(x).kind in "biu":
        if decimals >= 0:
            return x
        f = 10 ** (-decimals)
        return m.cast(m.multiply(m.round(m.divide(m.cast(x, np.float64), float(f))), float(f)),
                      npdt(x))
    if decimals == 0:
        return m.round(x)
    f = 10.0 ** decimals
    return m.divide(m.round(m.multiply(x, f)), f)


def trunc(x: Any) -> Tensor:
    """Round toward zero (same dtype)."""
    x = as_tensor(x)
    if npdt(x).kind in "biu":
        return x
    return m.multiply(m.sign(x), m.floor(m.abs(x)))


def isnan(x: Any) -> Tensor:
    """True where `x` is NaN."""
    x = as_tensor(x)
    if npdt(x).kind in "biu":
        return m.not_equal(x, x)
    return m.is_nan(x)


def isinf(x: Any) -> Tensor:
    """True where `x` is +-inf."""
    x = as_tensor(x)
    if npdt(x).kind in "biu":
        return m.not_equal(x, x)
    return m.is_inf(x)


def isfinite(x: Any) -> Tensor:
    """True where `x` is neither NaN nor infinite."""
    x = as_tensor(x)
    if npdt(x).kind in "biu":
        return m.equal(x, x)
    return m.is_finite(x)


def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """Replace NaN by `nan` and infinities by `posinf`/`neginf` (default: the dtype's
    largest/lowest finite values)."""
    x = as_tensor(x)
    if npdt(x).kind in "biu":
        return x
    info = np.finfo(npdt(x))
    pos = info.max if posinf is None else posinf
    neg = info.min if neginf is None else neginf
    out = m.where(m.is_nan(x), m.add(m.zeros_like_(x), nan), x)
    inf = m.is_inf(out)
    out = m.where(m.logical_and(inf, m.greater(out, 0)), m.add(m.zeros_like_(x), pos), out)
    return m.where(m.logical_and(inf, m.less(out, 0)), m.add(m.zeros_like_(x), neg), out)


def clip(x: Any, x_min: Any, x_max: Any) -> Tensor:
    """Clamp into `[x_min, x_max]` (keeps the dtype of `x`; bools give int32)."""
    x = as_tensor(x)
    if npdt(x).kind == "b":
        x = m.cast(x, np.int32)
    dt = npdt(x)
    lo = as_tensor(x_min, dt) if not isinstance(x_min, Tensor) else m.cast(x_min, dt)
    hi = as_tensor(x_max, dt) if not isinstance(x_max, Tensor) else m.cast(x_max, dt)
    return m.minimum(m.maximum(x, lo), hi)


def where(condition: Any, x1: Any = None, x2: Any = None) -> Any:
    """Pick from `x1` where `condition` is true, else from `x2`; with only `condition`,
    the indices of its true elements (as `nonzero`)."""
    if x1 is None and x2 is None:
        return nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("keras.ops.where: give both x1 and x2, or neither")
    a, b = promote(x1, x2)
    return m.where(_bool(condition), a, b)


def select(condlist: list, choicelist: list, default: Any = 0) -> Tensor:
    """The first choice whose condition holds, element-wise; `default` where none holds."""
    if len(condlist) != len(choicelist) or not condlist:
        raise fail(_name("select"), "non-empty condlist and choicelist of equal length",
                   f"{len(condlist)} and {len(choicelist)}")
    vals = promote(*choicelist, default)
    out = vals[-1]
    for cond, choice in zip(reversed(condlist), reversed(vals[:-1])):
        out = m.where(_bool(cond), choice, out)
    return out


# ==============================================================================================
# reductions
# ==============================================================================================


def _sum_dtype(x: Tensor) -> Tensor:
    dt = npdt(x)
    if dt.kind == "b" or dt in (np.int8, np.int16):
        return m.cast(x, np.int32)
    if dt in (np.uint8, np.uint16):
        return m.cast(x, np.uint32)
    return x


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over `axis` (all axes when None); bools and small ints sum in int32.

    >>> sum([[1, 2], [3, 4]], axis=0).numpy().tolist()
    [4, 6]
    """
    x = _sum_dtype(as_tensor(x))
    return r_.reduce_sum(x, norm_axes("sum", axis, rank(x)), keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> Tensor:
    """Product over `axis`."""
    x = as_tensor(x)
    x = m.cast(x, as_np_dtype(dtype)) if dtype is not None else _sum_dtype(x)
    return r_.reduce_prod(x, norm_axes("prod", axis, rank(x)), keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over `axis`; integer inputs give floatx.

    >>> mean([1, 2]).numpy().item()
    1.5
    """
    x = to_float(x)
    return r_.reduce_mean(x, norm_axes("mean", axis, rank(x)), keepdims)


def _extreme(fn: Any, name: str, x: Any, axis: Any, keepdims: bool, initial: Any) -> Tensor:
    x = as_tensor(x)
    out = fn(x, norm_axes(name, axis, rank(x)), keepdims)
    if initial is not None:
        other = m.maximum if fn is r_.reduce_max else m.minimum
        out = other(out, as_tensor(initial, npdt(out)))
    return out


def max(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> Tensor:
    """Largest value over `axis` (and `initial`, when given)."""
    return _extreme(r_.reduce_max, "max", x, axis, keepdims, initial)


def min(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> Tensor:
    """Smallest value over `axis` (and `initial`, when given)."""
    return _extreme(r_.reduce_min, "min", x, axis, keepdims, initial)


def amax(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Largest value over `axis`."""
    return max(x, axis, keepdims)


def amin(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Smallest value over `axis`."""
    return min(x, axis, keepdims)


def all(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """True where every element over `axis` is truthy."""
    x = _bool(x)
    return r_.reduce_all(x, norm_axes("all", axis, rank(x)), keepdims)


def any(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """True where some element over `axis` is truthy."""
    x = _bool(x)
    return r_.reduce_any(x, norm_axes("any", axis, rank(x)), keepdims)


def var(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Population variance over `axis` (floatx for integer inputs)."""
    x = to_float(x)
    ax = norm_axes("var", axis, rank(x))
    mu = r_.reduce_mean(x, ax, keepdims=True)
    return r_.reduce_mean(m.square(m.subtract(x, mu)), ax, keepdims)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Population standard deviation over `axis`."""
    return m.sqrt(var(x, axis, keepdims))


def average(x: Any, axis: Any = None, weights: Any = None) -> Tensor:
    """Weighted mean over `axis`; 1-D `weights` apply along a single `axis`."""
    if weights is None:
        return mean(x, axis)
    x, w = promote(to_float(x), weights)
    w = to_float(w)
    x = as_tensor(x, npdt(w))
    if rank(w) == 1 and rank(x) > 1:
        if axis is None or not isinstance(axis, (int, np.integer)):
            raise fail(_name("average"), "an int axis for 1-D weights",
                       f"axis={axis!r} for input shape {list(shape_of(x))}")
        ax = norm_axes("average", axis, rank(x))[0]
        shp = [1] * rank(x)
        shp[ax] = -1
        w = s_.reshape(w, shp)
    ax = norm_axes("average", axis, rank(x))
    num = r_.reduce_sum(m.multiply(x, w), ax)
    den = r_.reduce_sum(m.multiply(m.ones_like_(x), w), ax)
    return m.divide(num, den)


def _argfn(fn: Any, name: str, x: Any, axis: Any, keepdims: bool) -> Tensor:
    x = as_tensor(x)
    if npdt(x).kind == "b":
        x = m.cast(x, np.int32)
    if axis is None:
        out = fn(s_.reshape(x, [-1]), 0, output_type=np.int32)
        if keepdims:
            out = s_.reshape(out, [1] * rank(x))
        return out
    ax = norm_axes(name, axis, rank(x))[0]
    out = fn(x, ax, output_type=np.int32)
    return a_.expand_dims(out, ax) if keepdims else out


def argmax(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Index (int32) of the largest value along `axis`; of the flattened input when None."""
    return _argfn(r_.argmax, "argmax", x, axis, keepdims)


def argmin(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Index (int32) of the smallest value along `axis`; of the flattened input when None."""
    return _argfn(r_.argmin, "argmin", x, axis, keepdims)


def _cum(fn: Any, name: str, x: Any, axis: Any, dtype: Any) -> Tensor:
    x = as_tensor(x)
    x = m.cast(x, as_np_dtype(dtype)) if dtype is not None else _sum_dtype(x)
    if axis is None:
        x = s_.reshape(x, [-1])
        axis = 0
    return fn(x, norm_axes(name, axis, rank(x))[0])


def cumsum(x: Any, axis: Any = None, dtype: Any = None) -> Tensor:
    """Cumulative sum along `axis` (of the flattened input when None)."""
    return _cum(r_.cumsum, "cumsum", x, axis, dtype)


def cumprod(x: Any, axis: Any = None, dtype: Any = None) -> Tensor:
    """Cumulative product along `axis` (of the flattened input when None)."""
    return _cum(r_.cumprod, "cumprod", x, axis, dtype)


def count_nonzero(x: Any, axis: Any = None) -> Tensor:
    """Number of nonzero elements over `axis`, as int32."""
    x = _bool(x)
    return r_.reduce_sum(m.cast(x, np.int32), norm_axes("count_nonzero", axis, rank(x)))


def quantile(x: Any, q: Any, axis: Any = None, method: str = "linear",
             keepdims: bool = False) -> Tensor:
    """The `q`-th quantiles (q in [0, 1]) over `axis`, interpolated like NumPy's `method`
    ('linear', 'lower', 'higher', 'midpoint' or 'nearest')."""
    if method not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise fail(_name("quantile"), "method in linear/lower/higher/midpoint/nearest",
                   repr(method))
    x = to_float(x)
    nd = rank(x)
    ax = norm_axes("quantile", axis, nd)
    if ax is None:
        ax = tuple(range(nd))
    rest = [i for i in range(nd) if i not in ax]
    xt = a_.transpose(x, rest + list(ax))
    shp = shape_of(x)
    if builtins.any(shp[i] is None for i in ax):
        raise fail(_name("quantile"), "known sizes along the reduced axes",
                   f"shape {list(shp)} reduced over axes {list(ax)}")
    n = int(np.prod([shp[i] for i in ax])) if ax else 1
    flat = s_.reshape(xt, [-1 if shp[i] is None else shp[i] for i in rest] + [n])
    srt = a_.sort(flat, axis=-1)
    qa = np.asarray(q.numpy() if isinstance(q, Tensor) else q, dtype=np.float64)
    pos = qa.reshape(-1) * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.ceil(pos).astype(np.int64)
    frac = pos - lo
    if method == "lower":
        hi, frac = lo, frac * 0
    elif method == "higher":
        lo, frac = hi, frac * 0
    elif method == "nearest":
        near = np.round(pos).astype(np.int64)  # half to even, as NumPy
        lo = hi = near
        frac = frac * 0
    elif method == "midpoint":
        frac = np.where(hi > lo, 0.5, 0.0)
    vlo = a_.gather(srt, constant(lo), axis=-1)
    vhi = a_.gather(srt, constant(hi), axis=-1)
    fr = constant(frac.astype(npdt(x)))
    out = m.add(vlo, m.multiply(m.subtract(vhi, vlo), fr))  # [..rest, nq]
    out = a_.transpose(out, [len(rest)] + list(range(len(rest))))  # q axis first
    if keepdims:
        keep = [1 if i in ax else (-1 if shp[i] is None else shp[i]) for i in range(nd)]
        out = s_.reshape(out, [len(pos)] + keep)
    if qa.ndim == 0:
        out = a_.squeeze(out, 0)
    return out


def median(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Median over `axis` (the mean of the two middle values for even counts)."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


# ==============================================================================================
# shapes
# ==============================================================================================


def _static_shape(x: Tensor) -> list:
    return [-1 if d is None else d for d in shape_of(x)]


def reshape(x: Any, newshape: Any) -> Tensor:
    """Same values, new shape (one dimension may be -1)."""
    x = as_tensor(x)
    if isinstance(newshape, (int, np.integer)):
        newshape = [int(newshape)]
    dims = [-1 if d is None else int(d) for d in newshape]
    if dims.count(-1) > 1:
        raise fail(_name("reshape"), "at most one -1 (or None) in the new shape",
                   f"{list(newshape)}")
    return s_.reshape(x, dims)


def transpose(x: Any, axes: Any = None) -> Tensor:
    """Permute dimensions (reverse them when `axes` is None)."""
    x = as_tensor(x)
    return a_.transpose(x, None if axes is None else [int(v) for v in axes])


def expand_dims(x: Any, axis: Any) -> Tensor:
    """Insert size-1 dimensions at `axis` (an int or a sequence of ints)."""
    x = as_tensor(x)
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    out_nd = rank(x) + len(axes)
    pos = sorted(int(v) % out_nd for v in axes)
    for p in pos:
        x = a_.expand_dims(x, p)
    return x


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """Drop size-1 dimensions (all, or those in `axis`)."""
    x = as_tensor(x)
    return a_.squeeze(x, None if axis is None else norm_axes("squeeze", axis, rank(x)))


def ravel(x: Any) -> Tensor:
    """The flattened input."""
    x = as_tensor(x)
    return s_.reshape(x, [-1])


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes."""
    x = as_tensor(x)
    nd = rank(x)
    perm = list(range(nd))
    i, j = int(axis1) % nd, int(axis2) % nd
    perm[i], perm[j] = perm[j], perm[i]
    return a_.transpose(x, perm)


def moveaxis(x: Any, source: Any, destination: Any) -> Tensor:
    """Move axes to new positions (the other axes keep their order)."""
    x = as_tensor(x)
    nd = rank(x)
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    src = [int(s) % nd for s in src]
    dst = [int(d) % nd for d in dst]
    if len(src) != len(dst):
        raise fail(_name("moveaxis"), "as many destinations as sources", f"{src} and {dst}")
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return a_.transpose(x, order)


def broadcast_to(x: Any, shape: Any) -> Tensor:
    """Broadcast to `shape` (NumPy rules)."""
    x = as_tensor(x)
    shape = [int(d) for d in shape]
    nd = len(shape)
    if rank(x) < nd:
        x = s_.reshape(x, [1] * (nd - rank(x)) + _static_shape(x))
    return s_.broadcast_to(x, shape)


def tile(x: Any, repeats: Any) -> Tensor:
    """Repeat the whole array `repeats` times per dimension (NumPy's `tile`)."""
    x = as_tensor(x)
    reps = [int(repeats)] if isinstance(repeats, (int, np.integer)) else [int(v) for v in repeats]
    nd = builtins.max(rank(x), len(reps))
    if rank(x) < nd:
        x = s_.reshape(x, [1] * (nd - rank(x)) + _static_shape(x))
    reps = [1] * (nd - len(reps)) + reps
    return a_.tile(x, reps)


def repeat(x: Any, repeats: Any, axis: Any = None) -> Tensor:
    """Repeat each element `repeats` times along `axis` (of the flattened input when None)."""
    x = as_tensor(x)
    return a_.repeat(x, repeats, axis=axis)


def concatenate(xs: Any, axis: Any = 0) -> Tensor:
    """Join arrays along an existing axis (flattened first when axis is None); dtypes are
    promoted."""
    xs = promote(*xs)
    if axis is None:
        xs = [s_.reshape(v, [-1]) for v in xs]
        axis = 0
    return a_.concat(xs, axis=int(axis))


def append(x1: Any, x2: Any, axis: Any = None) -> Tensor:
    """`x2` appended to `x1` along `axis` (both flattened when None)."""
    return concatenate([x1, x2], axis=axis)


def stack(x: Any, axis: int = 0) -> Tensor:
    """Join same-shaped arrays along a new axis."""
    xs = promote(*x)
    return a_.stack(xs, axis=int(axis))


def vstack(xs: Any) -> Tensor:
    """Stack along axis 0 (1-D inputs become rows)."""
    xs = [as_tensor(v) for v in xs]
    xs = [s_.reshape(v, [1, -1]) if rank(v) < 2 else v for v in xs]
    return concatenate(xs, axis=0)


def hstack(xs: Any) -> Tensor:
    """Stack along axis 1 (axis 0 for 1-D inputs)."""
    xs = [as_tensor(v) for v in xs]
    return concatenate(xs, axis=0 if rank(xs[0]) == 1 else 1)


def dstack(xs: Any) -> Tensor:
    """Stack along axis 2 (inputs are first made at least 3-D)."""
    out = []
    for v in xs:
        v = as_tensor(v)
        if rank(v) == 0:
            v = s_.reshape(v, [1, 1, 1])
        elif rank(v) == 1:
            v = s_.reshape(v, [1, -1, 1])
        elif rank(v) == 2:
            v = a_.expand_dims(v, 2)
        out.append(v)
    return concatenate(out, axis=2)


def unstack(x: Any, num: int | None = None, axis: int = 0) -> list:
    """Split along `axis` into a list of rank-reduced tensors."""
    return a_.unstack(as_tensor(x), num, axis)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """NumPy's `split`: an int gives equal sections, a list gives the split indices.

    >>> [p.numpy().tolist() for p in split([1, 2, 3, 4, 5], [2, 3])]
    [[1, 2], [3], [4, 5]]
    """
    x = as_tensor(x)
    ax = norm_axes("split", axis, rank(x))[0]
    dim = shape_of(x)[ax]
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if dim is not None and (n <= 0 or dim % n):
            raise fail(_name("split"), f"a number of sections that divides dimension {ax} "
                       f"(size {dim})", f"{n}", "Pass split indices for unequal parts.")
        return a_.split(x, n, axis=ax)
    if dim is None:
        raise fail(_name("split"), f"a known size along axis {ax}", f"shape {list(shape_of(x))}")
    idx = [builtins.min(builtins.max(int(i) if int(i) >= 0 else int(i) + dim, 0), dim)
           for i in indices_or_sections]
    bounds = [0] + idx + [dim]
    parts = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        hi = builtins.max(hi, lo)
        key = (slice(None),) * ax + (slice(lo, hi),)
        parts.append(x[key])
    return parts


def flip(x: Any, axis: Any = None) -> Tensor:
    """Reverse the order of elements along `axis` (all axes when None)."""
    x = as_tensor(x)
    ax = norm_axes("flip", axis, rank(x))
    return a_.reverse(x, tuple(range(rank(x))) if ax is None else ax)


def roll(x: Any, shift: Any, axis: Any = None) -> Tensor:
    """Shift elements cyclically along `axis` (of the flattened input when None)."""
    x = as_tensor(x)
    if axis is None:
        if None in shape_of(x):
            raise fail(_name("roll"), "a fully known shape to roll the flattened input",
                       f"shape {list(shape_of(x))}", "Pass an axis.")
        shp = _static_shape(x)
        return s_.reshape(a_.roll(s_.reshape(x, [-1]), int(shift), 0), shp)
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    shifts = [shift] * len(axes) if isinstance(shift, (int, np.integer)) else list(shift)
    axes = [int(v) % rank(x) for v in axes]
    for v in axes:
        if shape_of(x)[v] is None:
            raise fail(_name("roll"), f"a known size along axis {v}",
                       f"shape {list(shape_of(x))}")
    return a_.roll(x, [int(v) for v in shifts], axes)


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> Tensor:
    """Pad with a constant (`mode='constant'`) or mirrored copies ('reflect', 'symmetric');
    `pad_width` is an int, a pair, or one pair per dimension."""
    x = as_tensor(x)
    nd = rank(x)
    pw = np.asarray(pad_width, dtype=np.int64)
    pw = np.broadcast_to(pw.reshape(-1, 2) if pw.ndim <= 1 and pw.size == 2 else
                         pw.reshape(-1, 1) if pw.ndim == 0 else pw, (nd, 2))
    mode = mode.lower()
    if mode not in ("constant", "reflect", "symmetric"):
        raise fail(_name("pad"), "mode 'constant', 'reflect' or 'symmetric'", repr(mode))
    if mode != "constant" and constant_values is not None:
        raise fail(_name("pad"), "constant_values only with mode='constant'", f"mode={mode!r}")
    cv = 0 if constant_values is None else constant_values
    return a_.pad(x, pw.tolist(), mode=mode.upper(), constant_values=cv)


def _wrap_indices(indices: Tensor, n: Any) -> Tensor:
    if n is None or npdt(indices).kind == "u":
        return indices
    return m.where(m.less(indices, 0), m.add(indices, as_tensor(n, npdt(indices))), indices)


def take(x: Any, indices: Any, axis: Any = None) -> Tensor:
    """Elements of `x` at `indices` along `axis` (of the flattened input when None); negative
    indices count from the end."""
    x = as_tensor(x)
    i = as_tensor(indices)
    if npdt(i).kind not in "iu":
        i = m.cast(i, np.int32)
    if axis is None:
        x = s_.reshape(x, [-1])
        axis = 0
    ax = norm_axes("take", axis, rank(x))[0]
    i = _wrap_indices(i, shape_of(x)[ax])
    return a_.gather(x, i, axis=ax)


def take_along_axis(x: Any, indices: Any, axis: Any = None) -> Tensor:
    """`x` gathered by `indices` along `axis`, broadcasting the other dimensions."""
    x = as_tensor(x)
    i = as_tensor(indices)
    if axis is None:
        x = s_.reshape(x, [-1])
        i = s_.reshape(i, [-1])
        axis = 0
    ax = norm_axes("take_along_axis", axis, rank(x))[0]
    i = _wrap_indices(i, shape_of(x)[ax])
    xs, ishape = list(shape_of(x)), list(shape_of(i))
    if len(xs) != len(ishape):
        raise fail(_name("take_along_axis"), f"indices of rank {len(xs)}",
                   f"rank {len(ishape)}")
    bx = [_bdim(p, q) if j != ax else p for j, (p, q) in enumerate(zip(xs, ishape))]
    bi = [_bdim(p, q) if j != ax else q for j, (p, q) in enumerate(zip(xs, ishape))]
    if None not in bx and bx != xs:
        x = s_.broadcast_to(x, bx)
    if None not in bi and bi != ishape:
        i = s_.broadcast_to(i, bi)
    return a_.take_along_axis(x, i, ax)


def _bdim(p: Any, q: Any) -> Any:
    """Broadcast of two dims, None where unknown."""
    if p == q or q == 1:
        return p
    if p == 1:
        return q
    return p if q is None else q if p is None else builtins.max(p, q)


def sort(x: Any, axis: int = -1) -> Tensor:
    """Sorted copy along `axis` (ascending)."""
    x = as_tensor(x)
    if axis is None:
        x, axis = s_.reshape(x, [-1]), 0
    return a_.sort(x, axis=int(axis))


def argsort(x: Any, axis: int = -1) -> Tensor:
    """Indices (int32) that sort `x` along `axis` (stable)."""
    x = as_tensor(x)
    if axis is None:
        x, axis = s_.reshape(x, [-1]), 0
    return a_.argsort(x, axis=int(axis))


def _tri_mask(n: int, mm: int, k: int) -> np.ndarray:
    return np.tri(n, mm, k, dtype=bool)


def tril(x: Any, k: int = 0) -> Tensor:
    """Zero the elements above the `k`-th diagonal of the last two dimensions."""
    x = as_tensor(x)
    n, mm = shape_of(x)[-2:]
    return m.where(constant(_tri_mask(n, mm, int(k))), x, m.zeros_like_(x))


def triu(x: Any, k: int = 0) -> Tensor:
    """Zero the elements below the `k`-th diagonal of the last two dimensions."""
    x = as_tensor(x)
    n, mm = shape_of(x)[-2:]
    return m.where(constant(_tri_mask(n, mm, int(k) - 1)), m.zeros_like_(x), x)


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:
    """Ones at and below the `k`-th diagonal of an N x M matrix."""
    dt = as_np_dtype(dtype) or floatx()
    return constant(np.tri(int(N), None if M is None else int(M), int(k), dtype=dt))


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The `offset` diagonal of the planes spanned by `axis1` and `axis2`, as the last axis."""
    x = as_tensor(x)
    nd = rank(x)
    a1, a2 = int(axis1) % nd, int(axis2) % nd
    rest = [i for i in range(nd) if i not in (a1, a2)]
    xt = a_.transpose(x, rest + [a1, a2])
    n, mm = shape_of(xt)[-2:]
    off = int(offset)
    if off >= 0:
        length = builtins.max(0, builtins.min(n, mm - off))
        sub = xt[..., :length, off:off + length]
    else:
        length = builtins.max(0, builtins.min(n + off, mm))
        sub = xt[..., -off:-off + length, :length]
    if length == 0:
        return c_.zeros(list(shape_of(xt)[:-2]) + [0], npdt(x))
    return la_.einsum("...ii->...i", sub)


def diag(x: Any, k: int = 0) -> Tensor:
    """The `k`-th diagonal of a matrix, or a matrix with vector `x` on its `k`-th diagonal."""
    x = as_tensor(x)
    if rank(x) == 2:
        return diagonal(x, k, 0, 1)
    if rank(x) != 1:
        raise fail(_name("diag"), "a 1-D or 2-D input", f"shape {list(shape_of(x))}")
    n = shape_of(x)[0]
    kk = int(k)
    size_ = n + builtins.abs(kk)
    rows = np.arange(n) + builtins.max(-kk, 0)
    cols = np.arange(n) + builtins.max(kk, 0)
    sel = np.zeros((size_, size_, n), dtype=npdt(x) if npdt(x).kind != "b" else np.int32)
    sel[rows, cols, np.arange(n)] = 1
    if npdt(x).kind == "b":
        return m.cast(la_.einsum("ijn,n->ij", constant(sel), m.cast(x, np.int32)), np.bool_)
    return la_.einsum("ijn,n->ij", constant(sel), x)


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Sum along the `offset` diagonal."""
    d = _sum_dtype(diagonal(x, offset, axis1, axis2))
    return r_.reduce_sum(d, -1)


# ==============================================================================================
# products
# ==============================================================================================


def matmul(x1: Any, x2: Any) -> Tensor:
    """Matrix product with NumPy semantics: 1-D operands are promoted to matrices and the
    added dimension removed afterwards; leading dimensions broadcast.

    >>> matmul([[1.0, 2.0]], [3.0, 4.0]).numpy().tolist()
    [11.0]
    """
    a, b = promote(x1, x2)
    if npdt(a).kind == "b":
        a, b = m.cast(a, np.int32), m.cast(b, np.int32)
    ra, rb = rank(a), rank(b)
    if ra == 0 or rb == 0:
        raise fail(_name("matmul"), "inputs of rank >= 1", f"ranks {ra} and {rb}",
                   "Use ops.multiply for scalars.")
    if ra == 1:
        a = a_.expand_dims(a, 0)
    if rb == 1:
        b = a_.expand_dims(b, 1)
    out = la_.matmul(a, b)
    if ra == 1 and rb == 1:
        return s_.reshape(out, [])
    if ra == 1:
        return a_.squeeze(out, -2)
    if rb == 1:
        return a_.squeeze(out, -1)
    return out


def dot(x1: Any, x2: Any) -> Tensor:
    """NumPy's `dot`: scalars multiply, vectors give the inner product, matrices multiply, and
    N-D arrays contract the last axis of `x1` with the second-to-last of `x2`."""
    a, b = promote(x1, x2)
    ra, rb = rank(a), rank(b)
    if ra == 0 or rb == 0:
        return multiply(a, b)
    if rb <= 2:
        return matmul(a, b)
    return la_.tensordot(a, b, [[ra - 1], [rb - 2]])


def vdot(x1: Any, x2: Any) -> Tensor:
    """Inner product of the flattened inputs."""
    a, b = promote(x1, x2)
    return r_.reduce_sum(m.multiply(s_.reshape(a, [-1]), s_.reshape(b, [-1])))


def inner(x1: Any, x2: Any) -> Tensor:
    """Sum of products over the last axes."""
    a, b = promote(x1, x2)
    if rank(a) == 0 or rank(b) == 0:
        return m.multiply(a, b)
    return la_.tensordot(a, b, [[rank(a) - 1], [rank(b) - 1]])


def outer(x1: Any, x2: Any) -> Tensor:
    """Outer product of the flattened inputs."""
    a, b = promote(x1, x2)
    return m.multiply(s_.reshape(a, [-1, 1]), s_.reshape(b, [1, -1]))


def tensordot(x1: Any, x2: Any, axes: Any = 2) -> Tensor:
    """Sum products over `axes` (an int N, or two lists of axes)."""
    a, b = promote(x1, x2)
    return la_.tensordot(a, b, axes)


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation over promoted operands, e.g. `einsum("ij,jk->ik", a, b)`."""
    xs = promote(*operands)
    if npdt(xs[0]).kind == "b":
        xs = [m.cast(v, np.int32) for v in xs]
    return la_.einsum(subscripts, *xs)


def cross(x1: Any, x2: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Tensor:
    """Cross product of 3-vectors (or 2-vectors, giving the z component)."""
    a, b = promote(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis(a, axisa, -1)
    b = moveaxis(b, axisb, -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise fail(_name("cross"), "vectors of 2 or 3 components", f"{na} and {nb}")
    ua = a_.unstack(a, axis=-1)
    ub = a_.unstack(b, axis=-1)
    if na == 2 and nb == 2:
        return m.subtract(m.multiply(ua[0], ub[1]), m.multiply(ua[1], ub[0]))
    zero_a = m.zeros_like_(ua[0])
    zero_b = m.zeros_like_(ub[0])
    if na == 2:
        ua = ua + [zero_a]
    if nb == 2:
        ub = ub + [zero_b]
    ax, ay, az = ua
    bx, by, bz = ub
    cx = m.subtract(m.multiply(ay, bz), m.multiply(az, by))
    cy = m.subtract(m.multiply(az, bx), m.multiply(ax, bz))
    cz = m.subtract(m.multiply(ax, by), m.multiply(ay, bx))
    return moveaxis(stack([cx, cy, cz], axis=-1), -1, axisc)


# ==============================================================================================
# creation
# ==============================================================================================


def _dt(dtype: Any, default: Any) -> np.dtype:
    return as_np_dtype(dtype) if dtype is not None else np.dtype(default)


def zeros(shape: Any, dtype: Any = None) -> Tensor:
    """A tensor of zeros (floatx by default)."""
    return c_.zeros(_shape_arg(shape), _dt(dtype, floatx()))


def ones(shape: Any, dtype: Any = None) -> Tensor:
    """A tensor of ones (floatx by default)."""
    return c_.ones(_shape_arg(shape), _dt(dtype, floatx()))


def empty(shape: Any, dtype: Any = None) -> Tensor:
    """An uninitialised tensor; ndflow fills it with zeros."""
    return zeros(shape, dtype)


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    """A tensor of `shape` filled with `fill_value` (dtype from the value when None)."""
    dt = as_np_dtype(dtype) if dtype is not None else result_type(
        fill_value if _weak(fill_value) else as_tensor(fill_value))
    v = as_tensor(fill_value, dt)
    return s_.broadcast_to(v, _shape_arg(shape)) if rank(v) else c_.fill(_shape_arg(shape), v)


def _shape_arg(shape: Any) -> tuple:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    return tuple(int(d) for d in shape)


def zeros_like(x: Any, dtype: Any = None) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of `x`."""
    return c_.zeros_like(as_tensor(x), as_np_dtype(dtype))


def ones_like(x: Any, dtype: Any = None) -> Tensor:
    """Ones with the shape (and dtype, unless given) of `x`."""
    return c_.ones_like(as_tensor(x), as_np_dtype(dtype))


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    """`fill_value` with the shape (and dtype, unless given) of `x`."""
    x = as_tensor(x)
    dt = as_np_dtype(dtype) or npdt(x)
    return m.add(c_.zeros_like(x, dt), as_tensor(fill_value, dt))


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:
    """Ones on the `k`-th diagonal of an N x M matrix."""
    return constant(np.eye(int(N), None if M is None else int(M), int(k),
                           dtype=_dt(dtype, floatx())))


def identity(n: int, dtype: Any = None) -> Tensor:
    """The n x n identity matrix."""
    return eye(n, dtype=dtype)


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> Tensor:
    """Evenly spaced values in `[start, stop)`; int32 for ints, floatx for floats."""
    if stop is None:
        start, stop = 0, start
    vals = [float(v) if isinstance(v, Tensor) and v.dtype.is_floating else
            (int(v) if isinstance(v, Tensor) else v) for v in (start, stop, step)]
    dt = as_np_dtype(dtype) or result_type(*vals)
    return constant(np.arange(*vals).astype(dt))


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: Any = None, axis: int = 0) -> Any:
    """`num` evenly spaced values from `start` to `stop` (floatx by default)."""
    dt = as_np_dtype(dtype) or floatx()
    s = np.asarray(start.numpy() if isinstance(start, Tensor) else start, np.float64)
    e = np.asarray(stop.numpy() if isinstance(stop, Tensor) else stop, np.float64)
    out, step = np.linspace(s, e, int(num), endpoint=endpoint, retstep=True, axis=axis)
    if retstep:
        return constant(out.astype(dt)), constant(np.asarray(step).astype(dt))
    return constant(out.astype(dt))


def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: float = 10,
             dtype: Any = None, axis: int = 0) -> Tensor:
    """`base ** linspace(start, stop, num)`."""
    dt = as_np_dtype(dtype) or floatx()
    s = np.asarray(start.numpy() if isinstance(start, Tensor) else start, np.float64)
    e = np.asarray(stop.numpy() if isinstance(stop, Tensor) else stop, np.float64)
    return constant(np.logspace(s, e, int(num), endpoint=endpoint, base=base, axis=axis)
                    .astype(dt))


def meshgrid(*x: Any, indexing: str = "xy") -> list:
    """Coordinate grids from 1-D arrays ('xy' or 'ij' indexing)."""
    if indexing not in ("xy", "ij"):
        raise fail(_name("meshgrid"), "indexing 'xy' or 'ij'", repr(indexing))
    xs = promote(*x)
    return a_.meshgrid(*[s_.reshape(v, [-1]) for v in xs], indexing=indexing)


def copy(x: Any) -> Tensor:
    """A copy of `x`."""
    return m.identity(as_tensor(x))


def array(x: Any, dtype: Any = None) -> Tensor:
    """`x` as a tensor (cast to `dtype` when given)."""
    return as_tensor(x, as_np_dtype(dtype))


# ==============================================================================================
# misc
# ==============================================================================================


def size(x: Any) -> Tensor:
    """Number of elements, as an int32 scalar tensor."""
    return a_.size(as_tensor(x))


def ndim(x: Any) -> int:
    """Number of dimensions."""
    return rank(as_tensor(x))


def nonzero(x: Any) -> tuple:
    """Indices (int32) of the nonzero elements, one tensor per dimension (eager only)."""
    x = as_tensor(x)
    arr = static_value("nonzero", x, "x")
    return tuple(constant(i.astype(np.int32)) for i in np.nonzero(arr))


def bincount(x: Any, weights: Any = None, minlength: int = 0, sparse: bool = False) -> Tensor:
    """Count of each non-negative integer in 1-D `x` (weighted sums with `weights`)."""
    if sparse:
        raise fail(_name("bincount"), "sparse=False", "sparse=True",
                   "ndflow has no sparse tensors.")
    x = as_tensor(x)
    if rank(x) != 1 or npdt(x).kind not in "iu":
        raise fail(_name("bincount"), "a 1-D integer input",
                   f"{npdt(x).name} of shape {list(shape_of(x))}")
    vals = static_value("bincount", x, "x")
    if vals.size and vals.min() < 0:
        raise fail(_name("bincount"), "non-negative values", f"a value of {vals.min()}")
    depth = builtins.max(int(minlength), int(vals.max()) + 1 if vals.size else 0)
    if weights is None:
        return r_.reduce_sum(a_.one_hot(x, depth, dtype=np.int32), 0)
    w = as_tensor(weights)
    if npdt(w).kind == "b":
        w = m.cast(w, np.int32)
    oh = a_.one_hot(x, depth, dtype=npdt(w))
    return r_.reduce_sum(m.multiply(oh, a_.expand_dims(w, 1)), 0)


def searchsorted(sorted_sequence: Any, values: Any, side: str = "left") -> Tensor:
    """Insertion indices (int32) of `values` into the 1-D ascending `sorted_sequence`."""
    if side not in ("left", "right"):
        raise fail(_name("searchsorted"), "side 'left' or 'right'", repr(side))
    s, v = promote(sorted_sequence, values)
    if rank(s) != 1:
        raise fail(_name("searchsorted"), "a 1-D sorted_sequence",
                   f"shape {list(shape_of(s))}")
    ve = a_.expand_dims(v, -1)
    hit = m.less(s, ve) if side == "left" else m.less_equal(s, ve)
    return r_.reduce_sum(m.cast(hit, np.int32), -1)


def digitize(x: Any, bins: Any) -> Tensor:
    """Index (int32) of the bin each value falls into, for increasing `bins` (NumPy's
    `digitize` with `right=False`)."""
    return searchsorted(bins, x, side="right")


def diff(a: Any, n: int = 1, axis: int = -1) -> Tensor:
    """`n`-th discrete difference along `axis`."""
    x = as_tensor(a)
    ax = norm_axes("diff", axis, rank(x))[0]
    for _ in range(int(n)):
        lead = (slice(None),) * ax
        x = m.subtract(x[lead + (slice(1, None),)], x[lead + (slice(None, -1),)])
    return x


def isin(x1: Any, x2: Any, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """True where an element of `x1` occurs anywhere in `x2`."""
    a, b = promote(x1, x2)
    hit = r_.reduce_any(m.equal(a_.expand_dims(a, -1), s_.reshape(b, [-1])), -1)
    return m.logical_not(hit) if invert else hit


def rot90(array: Any, k: int = 1, axes: Any = (0, 1)) -> Tensor:
    """Rotate by 90 degrees `k` times in the plane of `axes` (from the first axis toward the
    second, as NumPy)."""
    x = as_tensor(array)
    nd = rank(x)
    a0, a1 = (int(v) % nd for v in axes)
    if a0 == a1:
        raise fail(_name("rot90"), "two different axes", f"axes={tuple(axes)}")
    k = int(k) % 4
    if k == 0:
        return x
    if k == 2:
        return a_.reverse(x, (a0, a1) if a0 < a1 else (a1, a0))
    perm = list(range(nd))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return a_.transpose(a_.reverse(x, (a1,)), perm)
    return a_.reverse(a_.transpose(x, perm), (a1,))


def kron(x1: Any, x2: Any) -> Tensor:
    """Kronecker product (block matrix of `x1[i] * x2`)."""
    a, b = promote(x1, x2)
    nd = builtins.max(rank(a), rank(b))
    a = s_.reshape(a, [1] * (nd - rank(a)) + _static_shape(a))
    b = s_.reshape(b, [1] * (nd - rank(b)) + _static_shape(b))
    sa, sb = shape_of(a), shape_of(b)
    inter_a, inter_b = [], []
    for da, db in zip(sa, sb):
        inter_a += [da, 1]
        inter_b += [1, db]
    prod_ = m.multiply(s_.reshape(a, inter_a), s_.reshape(b, inter_b))
    return s_.reshape(prod_, [da * db for da, db in zip(sa, sb)])


def heaviside(x1: Any, x2: Any) -> Tensor:
    """0 where `x1 < 0`, 1 where `x1 > 0`, `x2` where `x1 == 0`."""
    a, b = promote(x1, x2)
    if npdt(a).kind == "b":
        a, b = m.cast(a, np.int32), m.cast(b, np.int32)
    zero, one = m.zeros_like_(a), m.ones_like_(a)
    return m.where(m.less(a, zero), zero, m.where(m.greater(a, zero), one, b))


def trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> Tensor:
    """Integral of `y` along `axis` by the trapezoidal rule (sample points `x`, or spacing
    `dx`)."""
    yt = to_float(y)
    ax = norm_axes("trapezoid", axis, rank(yt))[0]
    lead = (slice(None),) * ax
    mid = m.add(yt[lead + (slice(1, None),)], yt[lead + (slice(None, -1),)])
    if x is None:
        return m.multiply(r_.reduce_sum(mid, ax), 0.5 * float(dx))
    xt = as_tensor(x, npdt(yt))
    if rank(xt) == 1:
        d = m.subtract(xt[1:], xt[:-1])
        shp = [1] * rank(yt)
        shp[ax] = -1
        d = s_.reshape(d, shp)
    else:
        d = diff(xt, 1, ax)
    return m.multiply(r_.reduce_sum(m.multiply(mid, d), ax), 0.5)


def unravel_index(indices: Any, shape: Any) -> tuple:
    """Coordinates (one tensor per dimension of `shape`) of flat `indices`."""
    i = as_tensor(indices)
    if npdt(i).kind not in "iu":
        raise fail(_name("unravel_index"), "integer indices", f"dtype {npdt(i).name}")
    dims = [int(d) for d in shape]
    out = []
    rest = i
    for d in reversed(dims):
        out.append(m.floormod(rest, as_tensor(d, npdt(i))))
        rest = m.floordiv(rest, as_tensor(d, npdt(i)))
    return tuple(reversed(out))


def argpartition(x: Any, kth: int, axis: int = -1) -> Tensor:
    """Indices (int32) that partition `x` around its `kth` element along `axis` (a full stable
    sort, which satisfies the partition contract)."""
    x = as_tensor(x)
    n = shape_of(x)[norm_axes("argpartition", axis, rank(x))[0]]
    if n is not None and not -n <= int(kth) < n:
        raise fail(_name("argpartition"), f"kth in [{-n}, {n})", f"kth={kth}")
    return argsort(x, axis=axis)


def diagflat(x: Any, k: int = 0) -> Tensor:
    """A matrix with the flattened `x` on its `k`-th diagonal."""
    return diag(ravel(x), k)


def _def_bitwise(name: str, fn_name: str) -> Any:
    op = register_op(f"kops_{name}", lambda xp, a, b: getattr(xp, fn_name)(a, b),
                     lambda a, b: Spec(_bcast_shapes(a.shape, b.shape), a.dtype), None)

    def public(x: Any, y: Any) -> Tensor:
        a, b = promote(x, y)
        if npdt(a).kind not in "biu":
            raise fail(_name(name), "integer or bool inputs", f"dtype {npdt(a).name}")
        return execute(op, (a, b))

    public.__name__ = public.__qualname__ = name
    public.__doc__ = f"Element-wise `{fn_name}` of integer (or bool) inputs."
    return public


def _bcast_shapes(a: tuple, b: tuple) -> tuple:
    from ndflow.ops._util import broadcast_shapes

    return broadcast_shapes("keras.ops.bitwise", a, b)


bitwise_and = _def_bitwise("bitwise_and", "bitwise_and")
bitwise_or = _def_bitwise("bitwise_or", "bitwise_or")
bitwise_xor = _def_bitwise("bitwise_xor", "bitwise_xor")
left_shift = _def_bitwise("left_shift", "left_shift")
right_shift = _def_bitwise("right_shift", "right_shift")
bitwise_left_shift = left_shift
bitwise_right_shift = right_shift
_INVERT = register_op("kops_bitwise_invert", lambda xp, a: xp.invert(a),
                      lambda a: Spec(a.shape, a.dtype), None)


def bitwise_invert(x: Any) -> Tensor:
    """Element-wise bit inversion (`~x`) of an integer or bool input."""
    x = as_tensor(x)
    if npdt(x).kind not in "biu":
        raise fail(_name("bitwise_invert"), "an integer or bool input", f"dtype {npdt(x).name}")
    return execute(_INVERT, (x,))


bitwise_not = bitwise_invert


def get_item(x: Any, key: Any) -> Tensor:
    """`x[key]` (basic indexing)."""
    return as_tensor(x)[key]


__all__ = sorted({
    n for n, v in list(globals().items())
    if not n.startswith("_") and callable(v) and getattr(v, "__module__", None) == __name__
})
