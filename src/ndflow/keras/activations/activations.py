"""Keras 3 activation functions, written with ndflow ops (so they differentiate, run on GPU and
accept symbolic tensors).

>>> from ndflow.keras import activations
>>> activations.relu([-10.0, -5.0, 0.0, 5.0, 10.0]).numpy().tolist()
[0.0, 0.0, 0.0, 5.0, 10.0]
>>> activations.get("swish") is activations.silu
True
"""

from __future__ import annotations

import weakref
from typing import Any

from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.ops import math as m
from ndflow.ops import nn as nn_ops
from ndflow.ops._util import norm_one_axis, npdt, require_float, shape_of
from ndflow.ops.array import split

# --- the logits behind softmax / sigmoid outputs ---------------------------------------------
# Keras's TensorFlow backend sets `output._keras_logits` so that a cross-entropy computed on
# the probabilities can use the fused, stable loss on the logits instead. ndflow tensors have
# no attribute dict, so the link lives in a side table keyed by the output's id and cleared
# when the output is garbage-collected.
_LOGITS: dict[int, tuple] = {}


def set_keras_logits(output: Tensor, logits: Tensor) -> None:
    """Record that `output` is softmax/sigmoid of `logits` (read by the losses)."""
    k = id(output)

    def _gone(_ref: Any, k: int = k) -> None:
        _LOGITS.pop(k, None)

    try:
        _LOGITS[k] = (weakref.ref(output, _gone), logits)
    except TypeError:  # not weak-referenceable: skip the optimisation
        pass


def get_keras_logits(output: Any) -> Any:
    """The logits `output` was computed from by `softmax`/`sigmoid`, or None.

    >>> import ndflow as tf
    >>> x = tf.constant([[1.0, 2.0]])
    >>> get_keras_logits(softmax(x)) is x
    True
    """
    e = _LOGITS.get(id(output))
    if e is not None and e[0]() is output:
        return e[1]
    return None


def _float(name: str, x: Any) -> Tensor:
    """`x` as a floating-point tensor (integer inputs become floatx, as in Keras)."""
    if not isinstance(x, Tensor):
        x = convert_to_tensor(x)
    if npdt(x).kind in "iub":
        from ndflow.keras import config

        x = m.cast(x, config.floatx())
    require_float(f"activations.{name}", x)
    return x


def relu(x: Any, negative_slope: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0) -> Tensor:
    """Rectified linear unit, with optional leak, saturation and threshold.

    `x` if `max_value > x > threshold`, `max_value` above it, and
    `negative_slope * (x - threshold)` below the threshold.

    >>> relu([-10.0, -5.0, 0.0, 5.0, 10.0], max_value=5.0).numpy().tolist()
    [0.0, 0.0, 0.0, 5.0, 5.0]
    """
    x = _float("relu", x)
    if negative_slope == 0.0 and threshold == 0.0:
        if max_value is None:
            return nn_ops.relu(x)
        if max_value == 6:
            return nn_ops.relu6(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0.0:
        return nn_ops.leaky_relu(x, alpha=negative_slope)
    neg = nn_ops.relu(m.subtract(threshold, x)) if negative_slope != 0.0 else None
    if threshold != 0.0:
        y = m.multiply(x, m.cast(m.greater(x, threshold), npdt(x)))
    else:
        y = nn_ops.relu(x)
    if max_value is not None:
        y = m.minimum(y, float(max_value))
    if neg is not None:
        y = m.subtract(y, m.multiply(neg, float(negative_slope)))
    return y


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """`x` for `x > 0`, `negative_slope * x` otherwise.

    >>> leaky_relu([-1.0, 2.0]).numpy().tolist()
    [-0.20000000298023224, 2.0]
    """
    return nn_ops.leaky_relu(_float("leaky_relu", x), alpha=negative_slope)


def relu6(x: Any) -> Tensor:
    """`min(max(x, 0), 6)`.

    >>> relu6([-1.0, 3.0, 9.0]).numpy().tolist()
    [0.0, 3.0, 6.0]
    """
    return nn_ops.relu6(_float("relu6", x))


def softmax(x: Any, axis: int = -1) -> Tensor:
    """`exp(x) / sum(exp(x))` along `axis` (computed stably).

    >>> [round(v, 4) for v in softmax([0.0, 0.0]).numpy().tolist()]
    [0.5, 0.5]
    """
    x = _float("softmax", x)
    if len(shape_of(x)) == 0:
        raise fail("activations.softmax", "an input of rank >= 1", "a scalar",
                   "Softmax normalises along an axis.")
    y = nn_ops.softmax(x, axis=axis)
    if axis == -1 or axis == len(shape_of(x)) - 1:
        set_keras_logits(y, x)
    return y


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """Exponential linear unit: `x` if `x > 0` else `alpha * (exp(x) - 1)`.

    >>> round(float(elu([-1.0]).numpy()[0]), 4)
    -0.6321
    """
    y = nn_ops.elu(_float("elu", x))
    if alpha == 1.0:
        return y
    return m.where(m.greater(y, 0.0), y, m.multiply(y, alpha))


def selu(x: Any) -> Tensor:
    """Scaled exponential linear unit (alpha=1.67326324, scale=1.05070098).

    >>> round(float(selu([1.0]).numpy()[0]), 4)
    1.0507
    """
    return nn_ops.selu(_float("selu", x))


def softplus(x: Any) -> Tensor:
    """`log(exp(x) + 1)`, computed stably.

    >>> round(float(softplus([0.0]).numpy()[0]), 4)
    0.6931
    """
    return m.softplus(_float("softplus", x))


def softsign(x: Any) -> Tensor:
    """`x / (abs(x) + 1)`.

    >>> softsign([1.0]).numpy().tolist()
    [0.5]
    """
    return m.softsign(_float("softsign", x))


def silu(x: Any) -> Tensor:
    """Swish / SiLU: `x * sigmoid(x)`.

    >>> round(float(silu([1.0]).numpy()[0]), 4)
    0.7311
    """
    return nn_ops.silu(_float("silu", x))


swish = silu


def gelu(x: Any, approximate: bool = False) -> Tensor:
    """Gaussian error linear unit: `0.5 * x * (1 + erf(x / sqrt(2)))` (tanh form if
    `approximate`).

    >>> round(float(gelu([1.0]).numpy()[0]), 4)
    0.8413
    """
    return nn_ops.gelu(_float("gelu", x), approximate=approximate)


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent.

    >>> tanh([0.0]).numpy().tolist()
    [0.0]
    """
    return m.tanh(_float("tanh", x))


def sigmoid(x: Any) -> Tensor:
    """`1 / (1 + exp(-x))`, computed stably.

    >>> sigmoid([0.0]).numpy().tolist()
    [0.5]
    """
    x = _float("sigmoid", x)
    y = m.sigmoid(x)
    set_keras_logits(y, x)
    return y


def exponential(x: Any) -> Tensor:
    """`exp(x)`.

    >>> exponential([0.0]).numpy().tolist()
    [1.0]
    """
    return m.exp(_float("exponential", x))


def hard_sigmoid(x: Any) -> Tensor:
    """Piecewise-linear sigmoid: `0` if `x <= -3`, `1` if `x >= 3`, else `x / 6 + 0.5`.

    >>> hard_sigmoid([-4.0, 0.0, 4.0]).numpy().tolist()
    [0.0, 0.5, 1.0]
    """
    x = _float("hard_sigmoid", x)
    return m.multiply(nn_ops.relu6(m.add(x, 3.0)), 1.0 / 6.0)


def hard_silu(x: Any) -> Tensor:
    """Hard swish: `x * hard_sigmoid(x)`.

    >>> hard_silu([-4.0, 4.0]).numpy().tolist()
    [-0.0, 4.0]
    """
    x = _float("hard_silu", x)
    return m.multiply(x, hard_sigmoid(x))


hard_swish = hard_silu


def linear(x: Any) -> Any:
    """The identity: returns `x` unchanged.

    >>> linear(3.0)
    3.0
    """
    return x


def mish(x: Any) -> Tensor:
    """`x * tanh(softplus(x))`.

    >>> round(float(mish([1.0]).numpy()[0]), 4)
    0.8651
    """
    x = _float("mish", x)
    return m.multiply(x, m.tanh(m.softplus(x)))


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """`log(softmax(x))` along `axis`, computed stably.

    >>> [round(v, 4) for v in log_softmax([0.0, 0.0]).numpy().tolist()]
    [-0.6931, -0.6931]
    """
    return nn_ops.log_softmax(_float("log_softmax", x), axis=axis)


def crelu(x: Any, axis: int = -1) -> Tensor:
    """Concatenated ReLU: `concat([relu(x), relu(-x)], axis)` (doubles the size of `axis`).

    >>> crelu([1.0, -2.0]).numpy().tolist()
    [1.0, 0.0, 0.0, 2.0]
    """
    return nn_ops.crelu(_float("crelu", x), axis=axis)


def celu(x: Any, alpha: float = 1.0) -> Tensor:
    """Continuously differentiable ELU: `max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`.

    >>> round(float(celu([-1.0]).numpy()[0]), 4)
    -0.6321
    """
    x = _float("celu", x)
    if alpha == 0:
        raise fail("activations.celu", "a non-zero alpha", "alpha=0")
    neg = m.multiply(m.expm1(m.divide(m.minimum(x, 0.0), alpha)), alpha)
    return m.add(nn_ops.relu(x), neg)


def glu(x: Any, axis: int = -1) -> Tensor:
    """Gated linear unit: split `x` in two halves `a, b` along `axis`; `a * sigmoid(b)`.

    >>> glu([1.0, 0.0]).numpy().tolist()
    [0.5]
    """
    x = _float("glu", x)
    shape = shape_of(x)
    ax = norm_one_axis("activations.glu", axis, len(shape))
    if shape[ax] is not None and shape[ax] % 2:
        raise fail("activations.glu", f"an even size along axis {axis}",
                   f"size {shape[ax]} (input shape {list(shape)})")
    a, b = split(x, 2, axis=ax)
    return m.multiply(a, m.sigmoid(b))


def hard_tanh(x: Any) -> Tensor:
    """`x` clipped to [-1, 1].

    >>> hard_tanh([-2.0, 0.5, 2.0]).numpy().tolist()
    [-1.0, 0.5, 1.0]
    """
    x = _float("hard_tanh", x)
    return m.maximum(m.minimum(x, 1.0), -1.0)


def hard_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """`x` where `abs(x) > threshold`, else 0.

    >>> hard_shrink([-1.0, 0.2, 1.0]).numpy().tolist()
    [-1.0, 0.0, 1.0]
    """
    x = _float("hard_shrink", x)
    return m.multiply(x, m.cast(m.greater(m.abs(x), threshold), npdt(x)))


def soft_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """`x - threshold` above `threshold`, `x + threshold` below `-threshold`, else 0.

    >>> soft_shrink([-1.0, 0.2, 1.0]).numpy().tolist()
    [-0.5, 0.0, 0.5]
    """
    x = _float("soft_shrink", x)
    return m.add(nn_ops.relu(m.subtract(x, threshold)),
                 m.negative(nn_ops.relu(m.subtract(m.negative(x), threshold))))


def tanh_shrink(x: Any) -> Tensor:
    """`x - tanh(x)`.

    >>> tanh_shrink([0.0]).numpy().tolist()
    [0.0]
    """
    x = _float("tanh_shrink", x)
    return m.subtract(x, m.tanh(x))


def threshold(x: Any, threshold: float, default_value: float) -> Tensor:
    """`x` where `x > threshold`, else `default_value`.

    >>> threshold([0.5, 2.0], 1.0, -1.0).numpy().tolist()
    [-1.0, 2.0]
    """
    x = _float("threshold", x)
    return m.where(m.greater(x, threshold), x,
                   m.add(m.multiply(x, 0.0), float(default_value)))


def log_sigmoid(x: Any) -> Tensor:
    """`log(sigmoid(x))`, computed stably as `-softplus(-x)`.

    >>> round(float(log_sigmoid([0.0]).numpy()[0]), 4)
    -0.6931
    """
    return m.log_sigmoid(_float("log_sigmoid", x))


def squareplus(x: Any, b: float = 4) -> Tensor:
    """`(x + sqrt(x**2 + b)) / 2`, a smooth approximation of relu.

    >>> squareplus([0.0]).numpy().tolist()
    [1.0]
    """
    x = _float("squareplus", x)
    if b < 0:
        raise fail("activations.squareplus", "b >= 0", f"b={b}")
    return m.multiply(m.add(x, m.sqrt(m.add(m.square(x), float(b)))), 0.5)


def sparse_plus(x: Any) -> Tensor:
    """`0` for `x <= -1`, `x` for `x >= 1`, `(x + 1)**2 / 4` in between.

    >>> sparse_plus([-2.0, 0.0, 2.0]).numpy().tolist()
    [0.0, 0.25, 2.0]
    """
    x = _float("sparse_plus", x)
    mid = m.multiply(m.square(m.add(x, 1.0)), 0.25)
    return m.where(m.greater_equal(x, 1.0), x,
                   m.where(m.less_equal(x, -1.0), m.zeros_like_(x), mid))


def sparse_sigmoid(x: Any) -> Tensor:
    """`0` for `x <= -1`, `1` for `x >= 1`, `(x + 1) / 2` in between.

    >>> sparse_sigmoid([-2.0, 0.0, 2.0]).numpy().tolist()
    [0.0, 0.5, 1.0]
    """
    x = _float("sparse_sigmoid", x)
    return m.maximum(m.minimum(m.multiply(m.add(x, 1.0), 0.5), 1.0), 0.0)


# --- sparsemax: Euclidean projection onto the probability simplex ------------------------------


def _sparsemax_fwd(xp: Any, a: Any, axis: int) -> Any:
    z = xp.moveaxis(a, axis, -1)
    zs = -xp.sort(-z, axis=-1)
    k = xp.arange(1, z.shape[-1] + 1, dtype=a.dtype)
    cs = xp.cumsum(zs, axis=-1)
    support = (1 + k * zs) > cs
    kz = support.sum(axis=-1, keepdims=True)
    tau = (xp.take_along_axis(cs, kz - 1, axis=-1) - 1) / kz.astype(a.dtype)
    out = xp.maximum(z - tau, 0).astype(a.dtype, copy=False)
    return xp.moveaxis(out, -1, axis)


def _sparsemax_grad(node: Any, g: Tensor) -> tuple:
    # Jacobian: diag(s) - s s^T / |S| with s the support indicator.
    y = node.outputs
    ax = node.attrs["axis"]
    s = m.cast(m.greater(y, 0.0), npdt(y))
    from ndflow.ops.reduce import reduce_sum

    gs = m.multiply(g, s)
    mean = m.divide(reduce_sum(gs, ax, keepdims=True), reduce_sum(s, ax, keepdims=True))
    return (m.multiply(m.subtract(g, mean), s),)


_SPARSEMAX = register_op("sparsemax", _sparsemax_fwd, lambda x, axis: Spec(x.shape, x.dtype),
                         _sparsemax_grad)


def sparsemax(x: Any, axis: int = -1) -> Tensor:
    """Sparse alternative to softmax: the projection of `x` onto the probability simplex.

    >>> sparsemax([1.0, 0.0]).numpy().tolist()
    [1.0, 0.0]
    """
    x = _float("sparsemax", x)
    ax = norm_one_axis("activations.sparsemax", axis, len(shape_of(x)))
    return execute(_SPARSEMAX, (x,), {"axis": ax})

