"""Element-wise math: arithmetic, comparisons, logic and unary functions, with broadcasting.

>>> import ndflow as tf
>>> tf.maximum(tf.constant([1.0, 5.0]), 3.0).numpy().tolist()
[3.0, 5.0]
"""

from __future__ import annotations

import math as _m
from collections.abc import Callable
from typing import Any

import numpy as np

from ndflow.core.dispatch import Spec, execute, execute1, execute2, fail, register_op
from ndflow.core.tensor import Tensor
from ndflow.ops._util import (
    binary,
    broadcast_shapes,
    is_variable,
    npdt,
    own,
    require_float,
    same_spec,
    shape_of,
    t,
)
from ndflow.ops.shape_ops import unbroadcast

# ----------------------------------------------------------------------------------------------
# binary arithmetic
# ----------------------------------------------------------------------------------------------


def _bin_infer(name: str, out_dtype: Any = None) -> Callable:
    def infer(x: Spec, y: Spec) -> Spec:
        if x.dtype != y.dtype:
            raise fail(name, "inputs of the same dtype", f"{x.dtype.name} and {y.dtype.name}",
                       "Cast one of them with tf.cast.")
        return Spec(broadcast_shapes(name, x.shape, y.shape),
                    x.dtype if out_dtype is None else out_dtype)
    return infer


def _def_binary(name: str, forward: Callable | None, grad: Callable | None,
                out_dtype: Any = None, **traits: Any) -> Callable:
    op = register_op(name, forward, _bin_infer(name, out_dtype), grad, **traits)

    def public(x: Any, y: Any, name: str | None = None) -> Tensor:
        try:
            if x._value.dtype is y._value.dtype:
                return execute2(op, x, y)
        except AttributeError:  # not both tensors with values: coerce first
            pass
        a, b = binary(op.name, x, y)
        return execute(op, (a, b))

    public.__name__ = name
    public.op = op  # type: ignore[attr-defined]
    return public


def _grads2(node: Any, gx: Any, gy: Any) -> tuple:
    """Input gradients of a broadcasting binary op, summed back to each input's shape."""
    x, y = node.inputs
    needs = node.needs
    if gx is not None and needs[0]:
        try:
            if gx._value.shape != x._value.shape:
                gx = unbroadcast(gx, shape_of(x))
        except AttributeError:
            gx = unbroadcast(gx, shape_of(x))
    else:
        gx = None
    if gy is not None and needs[1]:
        try:
            if gy._value.shape != y._value.shape:
                gy = unbroadcast(gy, shape_of(y))
        except AttributeError:
            gy = unbroadcast(gy, shape_of(y))
    else:
        gy = None
    return (gx, gy)


def _add_grad(node: Any, g: Tensor) -> tuple:
    return _grads2(node, g, g)


def _sub_grad(node: Any, g: Tensor) -> tuple:
    return _grads2(node, g, negative(g) if node.needs[1] else None)


def _mul_grad(node: Any, g: Tensor) -> tuple:
    x, y = node.inputs
    n = node.needs
    return _grads2(node, multiply(g, y) if n[0] else None, multiply(g, x) if n[1] else None)


def _div_grad(node: Any, g: Tensor) -> tuple:
    x, y = node.inputs
    n = node.needs
    return _grads2(node, divide(g, y) if n[0] else None,
                   negative(multiply(g, divide(node.outputs, y))) if n[1] else None)


def _pow_grad(node: Any, g: Tensor) -> tuple:
    x, y = node.inputs
    n = node.needs
    gx = multiply(g, multiply(y, pow(x, subtract(y, 1)))) if n[0] else None
    gy = None
    if n[1]:
        safe = where(greater(x, 0), x, ones_like_(x))
        gy = multiply(g, multiply(node.outputs, where(greater(x, 0), log(safe), zeros_like_(x))))
    return _grads2(node, gx, gy)


def _max_grad(node: Any, g: Tensor) -> tuple:
    x, y = node.inputs
    mask = greater_equal(x, y)
    zero = zeros_like_(g)
    return _grads2(node, where(mask, g, zero), where(mask, zero, g))


def _min_grad(node: Any, g: Tensor) -> tuple:
    x, y = node.inputs
    mask = less_equal(x, y)
    zero = zeros_like_(g)
    return _grads2(node, where(mask, g, zero), where(mask, zero, g))


def _sqdiff_grad(node: Any, g: Tensor) -> tuple:
    x, y = node.inputs
    d = multiply(multiply(g, 2), subtract(x, y))
    return _grads2(node, d, negative(d))


def _floormod_grad(node: Any, g: Tensor) -> tuple:
    # x mod y = x - floor(x / y) * y: d/dx = 1, d/dy = -floor(x / y).
    x, y = node.inputs
    return _grads2(node, g, negative(multiply(g, floordiv(x, y))) if node.needs[1] else None)


def _atan2_grad(node: Any, g: Tensor) -> tuple:
    y, x = node.inputs
    denom = add(square(x), square(y))
    return _grads2(node, multiply(g, divide(x, denom)), negative(multiply(g, divide(y, denom))))



def _floordiv_fwd(xp: Any, a: Any, b: Any) -> Any:
    return xp.floor_divide(a, b)


def _div_no_nan_fwd(xp: Any, a: Any, b: Any) -> Any:
    zero = b == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return xp.where(zero, xp.zeros((), a.dtype), a / xp.where(zero, xp.ones((), b.dtype), b))


def _div_no_nan_grad(node: Any, g: Tensor) -> tuple:
    x, y = node.inputs
    return _grads2(node, divide_no_nan(g, y),
                   negative(multiply(g, divide_no_nan(node.outputs, y))))


add = _def_binary("add", None, _add_grad, elementwise="add(x, y)",
                  monotone="increasing", linear_in=())
subtract = _def_binary("subtract", None, _sub_grad, elementwise="subtract(x, y)",
                       monotone="increasing")
multiply = _def_binary("multiply", None, _mul_grad, elementwise="multiply(x, y)",
                       linear_in=(0, 1))
_divide_op = register_op("divide", None, _bin_infer("divide"), _div_grad,
                         elementwise="true_divide(x, y)", linear_in=(0,))
floordiv = _def_binary("floordiv", _floordiv_fwd, None)
floormod = _def_binary("floormod", lambda xp, a, b: xp.mod(a, b), _floormod_grad)
pow = _def_binary("pow", None, _pow_grad, elementwise="power(x, y)")  # noqa: A001
maximum = _def_binary("maximum", None, _max_grad, elementwise="maximum(x, y)",
                      monotone="nondecreasing")
minimum = _def_binary("minimum", None, _min_grad, elementwise="minimum(x, y)",
                      monotone="nondecreasing")
squared_difference = _def_binary("squared_difference", None, _sqdiff_grad,
                                 elementwise="square(subtract(x, y))")
atan2 = _def_binary("atan2", lambda xp, a, b: xp.arctan2(a, b), _atan2_grad)
divide_no_nan = _def_binary("divide_no_nan", _div_no_nan_fwd, _div_no_nan_grad)
mod = floormod


def divide(x: Any, y: Any, name: str | None = None) -> Tensor:
    """`x / y`. Integer inputs give float64, as in TensorFlow's `truediv`."""
    a, b = binary("divide", x, y)
    k = npdt(a).kind
    if k in "iub":
        a = cast(a, np.float64 if npdt(a).itemsize > 2 else np.float32)
        b = cast(b, npdt(a))
    return execute(_divide_op, (a, b))


truediv = divide
realdiv = divide


def _def_compare(name: str, expr: str) -> Callable:
    return _def_binary(name, None, None, np.bool_, elementwise=expr)


equal = _def_compare("equal", "equal(x, y)")
not_equal = _def_compare("not_equal", "not_equal(x, y)")
less = _def_compare("less", "less(x, y)")
less_equal = _def_compare("less_equal", "less_equal(x, y)")
greater = _def_compare("greater", "greater(x, y)")
greater_equal = _def_compare("greater_equal", "greater_equal(x, y)")


def _def_logical(name: str, forward: Callable, **traits: Any) -> Callable:
    op = register_op(name, forward, _bin_infer(name), None, **traits)

    def public(x: Any, y: Any, name: str | None = None) -> Tensor:
        a, b = t(x), t(y)
        for v in (a, b):
            if npdt(v).kind != "b":
                raise fail(op.name, "bool tensors", f"dtype {npdt(v).name}",
                           "Compare first (e.g. x > 0) or tf.cast to tf.bool.")
        return execute(op, (a, b))

    public.__name__ = name
    return public


logical_and = _def_logical("logical_and", lambda xp, a, b: a & b)
logical_or = _def_logical("logical_or", lambda xp, a, b: a | b)
logical_xor = _def_logical("logical_xor", lambda xp, a, b: a ^ b)

# ----------------------------------------------------------------------------------------------
# unary
# ----------------------------------------------------------------------------------------------


def _def_unary(name: str, forward: Callable | None, grad: Callable | None,
               float_only: bool = True, infer: Callable = same_spec, **traits: Any) -> Callable:
    op = register_op(name, forward, infer, grad, **traits)
    if float_only:
        def public(x: Any, name: str | None = None) -> Tensor:
            x = t(x)
            k = npdt(x).kind
            if k != "f" and k != "c":
                require_float(op.name, x)
            return execute1(op, x)
    else:
        def public(x: Any, name: str | None = None) -> Tensor:
            return execute1(op, t(x))
    public.__name__ = name
    public.op = op  # type: ignore[attr-defined]
    return public


def _g(fn: Callable) -> Callable:
    """Gradient rule from `fn(x, y, g) -> dx` for one-input ops."""
    def grad(node: Any, g: Tensor) -> tuple:
        return (fn(node.inputs[0], node.outputs, g),)
    return grad


_SQRT_PI = _m.sqrt(_m.pi)



negative = _def_unary("negative", None, _g(lambda x, y, g: negative(g)), False,
                      elementwise="negative(x)")
neg = negative
abs = _def_unary("abs", None,  # noqa: A001
                 _g(lambda x, y, g: multiply(g, sign(x))), False, elementwise="absolute(x)")
sign = _def_unary("sign", None, _g(lambda x, y, g: zeros_like_(g)), False,
                  elementwise="sign(x)", monotone="nondecreasing")
square = _def_unary("square", None,
                    _g(lambda x, y, g: multiply(g, multiply(x, 2))), False,
                    elementwise="multiply(x, x)")
exp = _def_unary("exp", None, _g(lambda x, y, g: multiply(g, y)),
                 elementwise="exp(x)", monotone="increasing")
expm1 = _def_unary("expm1", None, _g(lambda x, y, g: multiply(g, add(y, 1))),
                   elementwise="expm1(x)", monotone="increasing")
log = _def_unary("log", None, _g(lambda x, y, g: divide(g, x)),
                 elementwise="log(x)", monotone="increasing")
log1p = _def_unary("log1p", None, _g(lambda x, y, g: divide(g, add(x, 1))),
                   elementwise="log1p(x)", monotone="increasing")
sqrt = _def_unary("sqrt", None,
                  _g(lambda x, y, g: divide(multiply(g, 0.5), y)),
                  elementwise="sqrt(x)", monotone="increasing")
rsqrt = _def_unary("rsqrt", None,
                   _g(lambda x, y, g: multiply(g, multiply(pow(y, 3), -0.5))),
                   elementwise="true_divide(1, sqrt(x))")
reciprocal = _def_unary("reciprocal", None,
                        _g(lambda x, y, g: negative(multiply(g, square(y)))),
                        elementwise="true_divide(1, x)")
sin = _def_unary("sin", None, _g(lambda x, y, g: multiply(g, cos(x))), elementwise="sin(x)")
cos = _def_unary("cos", None, _g(lambda x, y, g: negative(multiply(g, sin(x)))),
                 elementwise="cos(x)")
tan = _def_unary("tan", None,
                 _g(lambda x, y, g: multiply(g, add(square(y), 1))), elementwise="tan(x)")
asin = _def_unary("asin", lambda xp, a: xp.arcsin(a),
                  _g(lambda x, y, g: multiply(g, rsqrt(subtract(1, square(x))))))
acos = _def_unary("acos", lambda xp, a: xp.arccos(a),
                  _g(lambda x, y, g: negative(multiply(g, rsqrt(subtract(1, square(x)))))))
atan = _def_unary("atan", lambda xp, a: xp.arctan(a),
                  _g(lambda x, y, g: divide(g, add(square(x), 1))))
sinh = _def_unary("sinh", None, _g(lambda x, y, g: multiply(g, cosh(x))),
                  elementwise="sinh(x)", monotone="increasing")
cosh = _def_unary("cosh", None, _g(lambda x, y, g: multiply(g, sinh(x))), elementwise="cosh(x)")
tanh = _def_unary("tanh", None,
                  _g(lambda x, y, g: multiply(g, subtract(1, square(y)))),
                  elementwise="tanh(x)", monotone="increasing")
asinh = _def_unary("asinh", lambda xp, a: xp.arcsinh(a),
                   _g(lambda x, y, g: multiply(g, rsqrt(add(square(x), 1)))))
acosh = _def_unary("acosh", lambda xp, a: xp.arccosh(a),
                   _g(lambda x, y, g: multiply(g, rsqrt(subtract(square(x), 1)))))
atanh = _def_unary("atanh", lambda xp, a: xp.arctanh(a),
                   _g(lambda x, y, g: divide(g, subtract(1, square(x)))))




# Stable for both signs: exp of a non-positive number only.
_E = "exp(negative(absolute(x)))"
sigmoid = _def_unary("sigmoid", None,
                     _g(lambda x, y, g: multiply(g, multiply(y, subtract(1, y)))),
                     elementwise=f"where(greater_equal(x, 0), true_divide(1, add(1, {_E})), "
                                 f"true_divide({_E}, add(1, {_E})))", monotone="increasing")
softplus = _def_unary("softplus", None, _g(lambda x, y, g: multiply(g, sigmoid(x))),
                      elementwise=f"add(maximum(x, 0), log1p({_E}))", monotone="increasing")
softsign = _def_unary("softsign", None,
                      _g(lambda x, y, g: divide(g, square(add(abs(x), 1)))),
                      elementwise="true_divide(x, add(1, absolute(x)))", monotone="increasing")
erf = _def_unary("erf", None,
                 _g(lambda x, y, g: multiply(g, multiply(exp(negative(square(x))),
                                                         2 / _SQRT_PI))),
                 elementwise="erf(x)", monotone="increasing")


def erfc(x: Any, name: str | None = None) -> Tensor:
    return subtract(1, erf(x))


def log_sigmoid(x: Any, name: str | None = None) -> Tensor:
    return negative(softplus(negative(x)))


floor = _def_unary("floor", None, None, elementwise="floor(x)", monotone="nondecreasing")
ceil = _def_unary("ceil", None, None, elementwise="ceil(x)", monotone="nondecreasing")
round = _def_unary("round", lambda xp, a: xp.round(a), None)  # noqa: A001  (half to even, as TF)
rint = round


def _bool_out(x: Spec) -> Spec:
    return Spec(x.shape, np.bool_)


is_nan = _def_unary("is_nan", lambda xp, a: xp.isnan(a), None, infer=_bool_out)
is_inf = _def_unary("is_inf", lambda xp, a: xp.isinf(a), None, infer=_bool_out)
is_finite = _def_unary("is_finite", lambda xp, a: xp.isfinite(a), None, infer=_bool_out)
_logical_not = register_op("logical_not", lambda xp, a: ~a, same_spec, None)


def logical_not(x: Any, name: str | None = None) -> Tensor:
    x = t(x)
    if npdt(x).kind != "b":
        raise fail("logical_not", "a bool tensor", f"dtype {npdt(x).name}")
    return execute(_logical_not, (x,))


# ----------------------------------------------------------------------------------------------
# where, cast, identity, stop_gradient, clipping
# ----------------------------------------------------------------------------------------------


def _where_infer(c: Spec, x: Spec, y: Spec) -> Spec:
    if x.dtype != y.dtype:
        raise fail("where", "x and y of the same dtype", f"{x.dtype.name} and {y.dtype.name}")
    if c.dtype != np.bool_:
        raise fail("where", "a bool condition", f"dtype {c.dtype.name}")
    s = broadcast_shapes("where", broadcast_shapes("where", c.shape, x.shape), y.shape)
    return Spec(s, x.dtype)


def _where_grad(node: Any, g: Tensor) -> tuple:
    c, x, y = node.inputs
    zero = zeros_like_(g)
    gx = unbroadcast(where(c, g, zero), shape_of(x)) if node.needs[1] else None
    gy = unbroadcast(where(c, zero, g), shape_of(y)) if node.needs[2] else None
    return (None, gx, gy)


_WHERE = register_op("where", None, _where_infer, _where_grad, elementwise="where(x, y, z)")


def where(condition: Any, x: Any = None, y: Any = None, name: str | None = None) -> Tensor:
    """Pick from `x` where `condition` is true, else from `y` (broadcasting all three).

    With only `condition`, return the coordinates of true elements (int64, shape [n, rank]).
    """
    c = t(condition)
    if x is None and y is None:
        arr = c.numpy()
        from ndflow.core.tensor import constant

        return constant(np.argwhere(arr).astype(np.int64))
    if x is None or y is None:
        raise ValueError("where: give both x and y, or neither")
    if npdt(c).kind != "b":
        raise fail("where", "a bool condition", f"dtype {npdt(c).name}",
                   "Compare first, e.g. tf.where(x > 0, ...).")
    a, b = binary("where", x, y)
    return execute(_WHERE, (c, a, b))


def _cast_grad(node: Any, g: Tensor) -> tuple:
    src = npdt(node.inputs[0])
    if src.kind not in "fc":
        return (None,)
    return (cast(g, src),)


def _cast_infer(x: Spec, dtype: Any) -> Spec:
    if (x.dtype.kind == "O") != (np.dtype(dtype).kind == "O"):  # TF casts no text <-> numbers
        raise fail("cast", f"a {'string' if x.dtype.kind == 'O' else 'numeric'} target dtype "
                   f"for a {'string' if x.dtype.kind == 'O' else x.dtype.name} tensor",
                   f"dtype {'string' if np.dtype(dtype).kind == 'O' else np.dtype(dtype).name}",
                   "parse text with tf.strings.to_number, format numbers with "
                   "tf.strings.as_string, or put a text layer (TextVectorization, "
                   "StringLookup, Hashing) first in a model that takes text")
    return Spec(x.shape, dtype)


_CAST = register_op("cast", lambda xp, a, dtype: a.astype(dtype), _cast_infer, _cast_grad)


def cast(x: Any, dtype: Any, name: str | None = None) -> Tensor:
    """Convert to `dtype`; float -> int truncates toward zero, as in TensorFlow."""
    from ndflow.core.dtypes import np_dtype

    dt = np_dtype(dtype)
    x = t(x)
    src = npdt(x)
    if src == dt:
        return identity(x) if is_variable(x) else x  # a variable is read into a snapshot
    if src.kind == "O" or dt.kind == "O":  # NumPy would parse b"1"; TensorFlow refuses
        _cast_infer(Spec(x.shape, src), dt)
    return execute(_CAST, (x,), {"dtype": dt})


def _identity_fwd(xp: Any, a: Any) -> Any:
    return a


_IDENTITY = register_op("identity", lambda xp, a: a.copy(), same_spec, _g(lambda x, y, g: g))
_STOP = register_op("stop_gradient", _identity_fwd, same_spec, None)


def identity(x: Any, name: str | None = None) -> Tensor:
    return execute(_IDENTITY, (t(x),))


def stop_gradient(x: Any, name: str | None = None) -> Tensor:
    """The same value, but no gradient flows through it."""
    x = t(x)
    return own(x, execute(_STOP, (x,)))


def clip_by_value(t_: Any, clip_value_min: Any, clip_value_max: Any,
                  name: str | None = None) -> Tensor:
    """Clamp values into [min, max]; the gradient flows where the value was not clipped."""
    x = t(t_)
    return minimum(maximum(x, clip_value_min), clip_value_max)


def add_n(inputs: list, name: str | None = None) -> Tensor:
    """Sum of a list of same-shaped tensors."""
    if not inputs:
        raise ValueError("add_n: expected at least one tensor, got an empty list")
    out = t(inputs[0])
    for x in inputs[1:]:
        out = add(out, x)
    return out


def scalar_mul(scalar: Any, x: Any, name: str | None = None) -> Tensor:
    return multiply(x, scalar)


def zeros_like_(x: Tensor) -> Tensor:
    from ndflow.ops.creation import zeros_like

    return zeros_like(x)


def ones_like_(x: Tensor) -> Tensor:
    from ndflow.ops.creation import ones_like

    return ones_like(x)


def xlogy(x: Any, y: Any, name: str | None = None) -> Tensor:
    a, b = binary("xlogy", x, y)
    safe = where(equal(a, 0), ones_like_(b), b)
    return where(equal(a, 0), zeros_like_(a), multiply(a, log(safe)))


def lerp(a: Any, b: Any, w: Any) -> Tensor:
    return add(a, multiply(subtract(b, a), w))
