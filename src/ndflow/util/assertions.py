"""`tf.debugging` assertions: raise `InvalidArgumentError` when a condition on tensor values
does not hold. Eagerly they check at once; inside `ndflow.function` they check on every call
of the compiled function (a host call in the graph, like `tf.print`), not once at trace time.

>>> import ndflow as tf
>>> tf.debugging.assert_less(tf.constant([1, 2]), 3)
>>> tf.debugging.assert_equal(tf.constant([1, 2]), [1, 3], message="labels")
Traceback (most recent call last):
...
ndflow.errors.InvalidArgumentError: assert_equal: labels: expected x == y element-wise, got ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import Tensor
from ndflow.graph.trace import host_callable

_COMPARE: dict[str, tuple[str, Callable]] = {
    "assert_equal": ("==", np.equal), "assert_none_equal": ("!=", np.not_equal),
    "assert_less": ("<", np.less), "assert_less_equal": ("<=", np.less_equal),
    "assert_greater": (">", np.greater), "assert_greater_equal": (">=", np.greater_equal),
}
_SIGN: dict[str, tuple[str, Callable]] = {
    "assert_positive": ("> 0", lambda v: v > 0), "assert_negative": ("< 0", lambda v: v < 0),
    "assert_non_negative": (">= 0", lambda v: v >= 0),
    "assert_non_positive": ("<= 0", lambda v: v <= 0),
}


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.numpy() if isinstance(x, Tensor) else x)


def _show(v: np.ndarray, n: int) -> str:
    flat = v.reshape(-1)
    return np.array2string(flat[:n], separator=", ") + (" ..." if flat.size > n else "")


def _label(op: str, message: str | None) -> str:
    """The op's name, then the user's message: 'assert_equal: labels'."""
    return f"{op}: {message}" if message else op


# The checks run through host_callable: eagerly at once, inside ndflow.function on every
# call of the compiled function (not once at trace time).
@host_callable(retains_args=False)
def _check_compare(op: str, x: Any, y: Any, message: str | None, summarize: int | None
                   ) -> None:
    symbol, ufunc = _COMPARE[op]
    a, b = _array(x), _array(y)
    try:
        ok = ufunc(a, b)
    except ValueError:
        raise fail(_label(op, message), "x and y of broadcastable shapes",
                   f"{list(a.shape)} and {list(b.shape)}") from None
    if not np.all(ok):
        bad = np.argwhere(~np.broadcast_to(ok, np.broadcast_shapes(a.shape, b.shape)))
        n = summarize or 3
        raise fail(_label(op, message), f"x {symbol} y element-wise",
                   f"{int(bad.shape[0])} element(s) where it does not hold, first at "
                   f"index {bad[0].tolist()}; x = {_show(a, n)}, y = {_show(b, n)}")


@host_callable(retains_args=False)
def _check_sign(op: str, x: Any, message: str | None, summarize: int | None) -> None:
    symbol, pred = _SIGN[op]
    a = _array(x)
    if not np.all(pred(a)):
        raise fail(_label(op, message), f"every element {symbol}",
                   f"x = {_show(a, summarize or 3)}")


def _compare(op: str) -> Callable:
    def assertion(x: Any, y: Any, message: str | None = None, summarize: int | None = None,
                  name: str | None = None) -> None:
        _check_compare(op, x, y, message, summarize)

    assertion.__name__ = op
    assertion.__doc__ = f"Raise InvalidArgumentError unless x {_COMPARE[op][0]} y element-wise."
    return assertion


def _sign(op: str) -> Callable:
    def assertion(x: Any, message: str | None = None, summarize: int | None = None,
                  name: str | None = None) -> None:
        _check_sign(op, x, message, summarize)

    assertion.__name__ = op
    assertion.__doc__ = f"Raise InvalidArgumentError unless every element is {_SIGN[op][0]}."
    return assertion


assert_equal = _compare("assert_equal")
assert_none_equal = _compare("assert_none_equal")
assert_less = _compare("assert_less")
assert_less_equal = _compare("assert_less_equal")
assert_greater = _compare("assert_greater")
assert_greater_equal = _compare("assert_greater_equal")
assert_positive = _sign("assert_positive")
assert_negative = _sign("assert_negative")
assert_non_negative = _sign("assert_non_negative")
assert_non_positive = _sign("assert_non_positive")


@host_callable(retains_args=False)
def _check_near(x: Any, y: Any, rtol: Any, atol: Any, message: str | None,
                summarize: int | None) -> None:
    a, b = _array(x), _array(y)
    eps = np.finfo(a.dtype if a.dtype.kind == "f" else np.float64).eps
    rt = 10 * eps if rtol is None else float(rtol)
    at = 10 * eps if atol is None else float(atol)
    if not np.all(np.abs(a - b) <= at + rt * np.abs(b)):
        raise fail(_label("assert_near", message), f"|x - y| <= {at:.3g} + {rt:.3g} * |y| "
                   "element-wise", f"largest |x - y| {float(np.max(np.abs(a - b))):.6g}; "
                   f"x = {_show(a, summarize or 3)}, y = {_show(b, summarize or 3)}")


def assert_near(x: Any, y: Any, rtol: Any = None, atol: Any = None, message: str | None = None,
                summarize: int | None = None, name: str | None = None) -> None:
    """Raise unless ``|x - y| <= atol + rtol * |y|`` element-wise (default tolerances: 10 ulps
    of x's float type, as in TensorFlow)."""
    _check_near(x, y, rtol, atol, message, summarize)


def assert_rank(x: Any, rank: int, message: str | None = None, name: str | None = None) -> None:
    """Raise unless `x` has the given rank (known when tracing, so checked at once)."""
    shape = list(x.shape) if hasattr(x, "shape") else list(np.shape(x))
    if len(shape) != int(rank):
        raise fail(_label("assert_rank", message), f"a tensor of rank {int(rank)}",
                   f"rank {len(shape)} (shape {shape})")


def assert_rank_at_least(x: Any, rank: int, message: str | None = None,
                         name: str | None = None) -> None:
    got = len(x.shape) if hasattr(x, "shape") else np.ndim(x)
    if got < int(rank):
        raise fail(_label("assert_rank_at_least", message), f"a tensor of rank >= {int(rank)}",
                   f"rank {got}")


def assert_type(tensor: Any, tf_type: Any, message: str | None = None,
                name: str | None = None) -> None:
    from ndflow.core.dtypes import as_dtype

    want, got = as_dtype(tf_type), as_dtype(tensor.dtype)
    if want != got:
        raise fail(_label("assert_type", message), f"dtype {want.name}", f"dtype {got.name}")


@host_callable(retains_args=False)
def _check_finite(x: Any, message: str | None) -> None:
    a = _array(x)
    if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
        what = "NaN" if np.isnan(a).any() else "Inf"
        raise fail(_label("check_numerics", message), "finite values",
                   f"{what} in a tensor of shape {list(a.shape)}")


def assert_all_finite(t: Any, message: str, name: str | None = None) -> Any:
    """`t` itself, after checking that it holds no NaN or infinity (`check_numerics`)."""
    _check_finite(t, message)
    return t


check_numerics = assert_all_finite

__all__ = ["assert_all_finite", "assert_equal", "assert_greater", "assert_greater_equal",
           "assert_less", "assert_less_equal", "assert_near", "assert_negative",
           "assert_non_negative", "assert_non_positive", "assert_none_equal", "assert_positive",
           "assert_rank", "assert_rank_at_least", "assert_type", "check_numerics"]
