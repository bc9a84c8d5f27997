"""`keras.ops.nn`: activations, softmax, one-hot, cross-entropies, moments, convolution and
pooling, with Keras 3 signatures.

>>> from ndflow.keras import ops
>>> [round(v, 4) for v in ops.softmax([0.0, 0.0]).numpy().tolist()]
[0.5, 0.5]
>>> ops.one_hot([0, 2], 3).numpy().tolist()
[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import Tensor
from ndflow.keras import activations as _act
from ndflow.keras.activations.activations import get_keras_logits
from ndflow.keras.ops._common import as_np_dtype, as_tensor, floatx, norm_axes, rank, to_float
from ndflow.ops import array as a_
from ndflow.ops import conv as conv_
from ndflow.ops import math as m
from ndflow.ops import nn as nn_
from ndflow.ops import pooling as pool_
from ndflow.ops import reduce as r_
from ndflow.ops._util import npdt, shape_of

_EPS = 1e-7


def _epsilon() -> float:
    from ndflow.keras import config

    return float(config.epsilon())


# --- activations ---------------------------------------------------------------------------------


def relu(x: Any) -> Tensor:
    """`max(x, 0)`."""
    return _act.relu(x)


def relu6(x: Any) -> Tensor:
    """`min(max(x, 0), 6)`."""
    return _act.relu6(x)


def sigmoid(x: Any) -> Tensor:
    """`1 / (1 + exp(-x))`."""
    return _act.sigmoid(x)


def softplus(x: Any) -> Tensor:
    """`log(1 + exp(x))`."""
    return _act.softplus(x)


def softsign(x: Any) -> Tensor:
    """`x / (1 + |x|)`."""
    return _act.softsign(x)


def silu(x: Any) -> Tensor:
    """`x * sigmoid(x)`."""
    return _act.silu(x)


swish = silu


def log_sigmoid(x: Any) -> Tensor:
    """`log(sigmoid(x))`, computed stably."""
    return _act.log_sigmoid(x)


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """`x` for positive inputs, `negative_slope * x` otherwise."""
    return _act.leaky_relu(x, negative_slope=negative_slope)


def hard_sigmoid(x: Any) -> Tensor:
    """`relu6(x + 3) / 6`."""
    return _act.hard_sigmoid(x)


def hard_silu(x: Any) -> Tensor:
    """`x * hard_sigmoid(x)`."""
    return _act.hard_silu(x)


hard_swish = hard_silu


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """`x` if positive, else `alpha * (exp(x) - 1)`."""
    return _act.elu(x, alpha=alpha)


def selu(x: Any) -> Tensor:
    """Scaled ELU."""
    return _act.selu(x)


def gelu(x: Any, approximate: bool = True) -> Tensor:
    """Gaussian error linear unit (the tanh approximation by default, as Keras's op)."""
    return _act.gelu(x, approximate=approximate)


def celu(x: Any, alpha: float = 1.0) -> Tensor:
    """Continuously differentiable ELU."""
    return _act.celu(x, alpha=alpha)


def glu(x: Any, axis: int = -1) -> Tensor:
    """Gated linear unit: `a * sigmoid(b)` for the two halves of `axis`."""
    return _act.glu(x, axis=axis)


def hard_tanh(x: Any) -> Tensor:
    """`clip(x, -1, 1)`."""
    return _act.hard_tanh(x)


def hard_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """`x` where `|x| > threshold`, else 0."""
    return _act.hard_shrink(x, threshold=threshold)


def soft_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """`x - threshold` above it, `x + threshold` below `-threshold`, else 0."""
    return _act.soft_shrink(x, threshold=threshold)


def tanh_shrink(x: Any) -> Tensor:
    """`x - tanh(x)`."""
    return _act.tanh_shrink(x)


def threshold(x: Any, threshold: float, default_value: float) -> Tensor:
    """`x` where `x > threshold`, else `default_value`."""
    return _act.threshold(x, threshold, default_value)


def squareplus(x: Any, b: float = 4) -> Tensor:
    """`(x + sqrt(x**2 + b)) / 2`."""
    return _act.squareplus(x, b=b)


def sparse_plus(x: Any) -> Tensor:
    """0 below -1, `x` above 1, `(x + 1)**2 / 4` between."""
    return _act.sparse_plus(x)


def sparse_sigmoid(x: Any) -> Tensor:
    """`clip((x + 1) / 2, 0, 1)`."""
    return _act.sparse_sigmoid(x)


def sparsemax(x: Any, axis: int = -1) -> Tensor:
    """Euclidean projection of `x` onto the probability simplex along `axis`."""
    return _act.sparsemax(x, axis=axis)


def softmax(x: Any, axis: Any = -1) -> Tensor:
    """`exp(x) / sum(exp(x))` along `axis` (an int or a tuple of axes).

    >>> [round(v, 3) for v in softmax([1.0, 1.0]).numpy().tolist()]
    [0.5, 0.5]
    """
    x = to_float(x)
    if isinstance(axis, (int, np.integer)):
        return _act.softmax(x, axis=int(axis))
    return m.exp(log_softmax(x, axis))


def log_softmax(x: Any, axis: Any = -1) -> Tensor:
    """`log(softmax(x))` along `axis`, computed stably."""
    x = to_float(x)
    if isinstance(axis, (int, np.integer)):
        return nn_.log_softmax(x, axis=int(axis))
    ax = norm_axes("log_softmax", axis, rank(x))
    mx = m.stop_gradient(r_.reduce_max(x, ax, keepdims=True))
    s = m.subtract(x, mx)
    return m.subtract(s, m.log(r_.reduce_sum(m.exp(s), ax, keepdims=True)))


# --- encodings ------------------------------------------------------------------------------------


def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None,
            sparse: bool = False) -> Tensor:
    """One-hot encode integer `x` into a new `axis` of size `num_classes` (floatx default);
    negative or out-of-range ids give all zeros."""
    if sparse:
        raise fail("keras.ops.one_hot", "sparse=False", "sparse=True",
                   "ndflow has no sparse tensors; use the dense result.")
    x = as_tensor(x)
    if npdt(x).kind not in "iu":
        x = m.cast(x, np.int32)
    dt = as_np_dtype(dtype) or floatx()
    return a_.one_hot(x, int(num_classes), axis=axis, dtype=dt)


def multi_hot(inputs: Any, num_classes: int, axis: int = -1, dtype: Any = None,
              sparse: bool = False) -> Tensor:
    """Multi-hot encode: 1 for each class id present in the last axis of `inputs`."""
    x = as_tensor(inputs)
    if rank(x) == 1:
        x = a_.expand_dims(x, 0)
    dt = as_np_dtype(dtype) or floatx()
    oh = one_hot(x, num_classes, axis=-1, dtype=np.int32, sparse=sparse)
    out = m.cast(r_.reduce_max(oh, rank(oh) - 2), dt)
    if axis != -1:
        out = a_.transpose(out, _move_last(rank(out), axis))
    if rank(as_tensor(inputs)) == 1:
        out = a_.squeeze(out, 0)
    return out


def _move_last(nd: int, axis: int) -> list:
    order = list(range(nd - 1))
    order.insert(axis % nd, nd - 1)
    return order


# --- cross-entropies -----------------------------------------------------------------------------


def _pair(target: Any, output: Any) -> tuple[Tensor, Tensor]:
    out = to_float(output)
    tgt = as_tensor(target, npdt(out))
    return tgt, out


def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> Tensor:
    """Element-wise binary cross-entropy between `target` in [0, 1] and probabilities (or
    logits with `from_logits=True`)."""
    logits = None if from_logits else get_keras_logits(output)
    t, o = _pair(target, output)
    if tuple(shape_of(t)) != tuple(shape_of(o)) and None not in tuple(shape_of(t)) + tuple(
            shape_of(o)):
        raise fail("keras.ops.binary_crossentropy", "target and output of the same shape",
                   f"{list(shape_of(t))} and {list(shape_of(o))}")
    if from_logits or logits is not None:
        return nn_.sigmoid_cross_entropy_with_logits(labels=t, logits=o if from_logits
                                                     else logits)
    eps = _epsilon()
    o = m.clip_by_value(o, eps, 1.0 - eps)
    return m.negative(m.add(m.multiply(t, m.log(o)),
                            m.multiply(m.subtract(1.0, t), m.log(m.subtract(1.0, o)))))


def categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                             axis: int = -1) -> Tensor:
    """Cross-entropy between a distribution `target` and probabilities (or logits) `output`
    along `axis`; one value per example."""
    logits = None if from_logits else get_keras_logits(output)
    t, o = _pair(target, output)
    if tuple(shape_of(t)) != tuple(shape_of(o)) and None not in tuple(shape_of(t)) + tuple(
            shape_of(o)):
        raise fail("keras.ops.categorical_crossentropy", "target and output of the same shape",
                   f"{list(shape_of(t))} and {list(shape_of(o))}",
                   "For integer class ids use sparse_categorical_crossentropy.")
    if logits is not None and axis in (-1, rank(o) - 1):
        o, from_logits = logits, True
    if from_logits:
        return nn_.softmax_cross_entropy_with_logits(labels=t, logits=o, axis=axis)
    o = m.divide(o, r_.reduce_sum(o, axis, keepdims=True))
    eps = _epsilon()
    o = m.clip_by_value(o, eps, 1.0 - eps)
    return m.negative(r_.reduce_sum(m.multiply(t, m.log(o)), axis))


def sparse_categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                                   axis: int = -1) -> Tensor:
    """Cross-entropy between integer class ids `target` and probabilities (or logits)
    `output`; one value per example."""
    logits = None if from_logits else get_keras_logits(output)
    o = to_float(output)
    t = as_tensor(target)
    if npdt(t).kind not in "iu":
        t = m.cast(t, np.int32)
    if rank(t) == rank(o) and shape_of(t)[-1] == 1:
        t = a_.squeeze(t, -1)
    if axis not in (-1, rank(o) - 1):
        nd = rank(o)
        perm = [i for i in range(nd) if i != axis % nd] + [axis % nd]
        o = a_.transpose(o, perm)
        if logits is not None:
            logits = a_.transpose(logits, perm)
    if logits is not None:
        o, from_logits = logits, True
    if from_logits:
        return nn_.sparse_softmax_cross_entropy_with_logits(labels=t, logits=o)
    o = m.divide(o, r_.reduce_sum(o, -1, keepdims=True))
    eps = _epsilon()
    o = m.clip_by_value(o, eps, 1.0 - eps)
    oh = a_.one_hot(t, shape_of(o)[-1], dtype=npdt(o))
    return m.negative(r_.reduce_sum(m.multiply(oh, m.log(o)), -1))


# --- statistics and normalisation ----------------------------------------------------------------


def moments(x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False) -> tuple:
    """Mean and variance of `x` over `axes`."""
    x = to_float(x)
    ax = norm_axes("moments", axes, rank(x))
    mean = r_.reduce_mean(x, ax, keepdims=True)
    var = r_.reduce_mean(m.square(m.subtract(x, m.stop_gradient(mean))), ax, keepdims=True)
    if not keepdims:
        mean, var = a_.squeeze(mean, ax), a_.squeeze(var, ax)
    return mean, var


def batch_normalization(x: Any, mean: Any, variance: Any, axis: int, offset: Any = None,
                        scale: Any = None, epsilon: float = 1e-3) -> Tensor:
    """`(x - mean) / sqrt(variance + epsilon) * scale + offset`, with the 1-D statistics
    laid along `axis`."""
    x = to_float(x)
    nd = rank(x)
    ax = int(axis) % nd
    shp = [1] * nd
    shp[ax] = -1

    def vec(v: Any) -> Any:
        if v is None:
            return None
        v = as_tensor(v, npdt(x))
        return a_.reshape(v, shp) if rank(v) == 1 else v

    inv = m.rsqrt(m.add(vec(variance), epsilon))
    if scale is not None:
        inv = m.multiply(inv, vec(scale))
    out = m.multiply(m.subtract(x, vec(mean)), inv)
    return m.add(out, vec(offset)) if offset is not None else out


def normalize(x: Any, axis: int = -1, order: int = 2, epsilon: float | None = None) -> Tensor:
    """`x` divided by its `order`-norm along `axis` (L2 by default)."""
    x = to_float(x)
    eps = _epsilon() if epsilon is None else epsilon
    if order == 2:
        sq = r_.reduce_sum(m.square(x), axis, keepdims=True)
        return m.multiply(x, m.rsqrt(m.maximum(sq, eps * eps)))
    from ndflow.keras.ops.linalg import norm

    return m.divide(x, m.maximum(norm(x, ord=order, axis=axis, keepdims=True), eps))


def rms_normalization(x: Any, scale: Any = 1, axis: int = -1,
                      epsilon: float | None = None) -> Tensor:
    """`x / sqrt(mean(x**2, axis) + epsilon) * scale`."""
    x = to_float(x)
    eps = _epsilon() if epsilon is None else float(epsilon)
    ms = r_.reduce_mean(m.square(x), norm_axes("rms_normalization", axis, rank(x)),
                        keepdims=True)
    out = m.multiply(x, m.rsqrt(m.add(ms, eps)))
    return m.multiply(out, as_tensor(scale, npdt(x)))


def layer_normalization(x: Any, gamma: Any = None, beta: Any = None, axis: Any = -1,
                        epsilon: float | None = None) -> Tensor:
    """`(x - mean) / sqrt(var + epsilon) * gamma + beta` over `axis`."""
    x = to_float(x)
    eps = _epsilon() if epsilon is None else float(epsilon)
    ax = norm_axes("layer_normalization", axis, rank(x))
    mean = r_.reduce_mean(x, ax, keepdims=True)
    var = r_.reduce_mean(m.square(m.subtract(x, mean)), ax, keepdims=True)
    out = m.multiply(m.subtract(x, mean), m.rsqrt(m.add(var, eps)))
    if gamma is not None:
        out = m.multiply(out, as_tensor(gamma, npdt(x)))
    if beta is not None:
        out = m.add(out, as_tensor(beta, npdt(x)))
    return out


def psnr(x1: Any, x2: Any, max_val: float) -> Tensor:
    """Peak signal-to-noise ratio in dB: `20 log10(max_val) - 10 log10(mse)` over all
    elements."""
    a = to_float(x1)
    b = as_tensor(x2, npdt(a))
    mse = r_.reduce_mean(m.square(m.subtract(a, b)))
    return m.subtract(20.0 * float(np.log10(max_val)),
                      m.multiply(m.log(mse), 10.0 / float(np.log(10.0))))


# --- convolution and pooling ----------------------------------------------------------------------


def _data_format(data_format: Any) -> str:
    if data_format is None:
        from ndflow.keras import config

        data_format = config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise fail("keras.ops.nn", "data_format 'channels_last' or 'channels_first'",
                   repr(data_format))
    return data_format


def conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
         data_format: str | None = None, dilation_rate: Any = 1) -> Tensor:
    """N-d convolution (N = 1, 2, 3 from the kernel's rank); kernel shape
    `(*kernel_size, in_channels // groups, out_channels)`."""
    x = to_float(inputs)
    w = as_tensor(kernel, npdt(x))
    df = _data_format(data_format)
    cin = shape_of(x)[1] if df == "channels_first" else shape_of(x)[-1]
    kin = shape_of(w)[-2]
    groups = 1 if cin is None or kin in (None, 0) else cin // kin
    return conv_.conv(x, w, strides=strides, padding=padding.upper(), data_format=df,
                      dilations=dilation_rate, groups=groups)


def depthwise_conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                   data_format: str | None = None, dilation_rate: Any = 1) -> Tensor:
    """Depthwise convolution; kernel shape `(*kernel_size, in_channels, multiplier)`."""
    x = to_float(inputs)
    w = as_tensor(kernel, npdt(x))
    return conv_.depthwise_conv(x, w, strides=strides, padding=padding.upper(),
                                data_format=_data_format(data_format), dilations=dilation_rate)


def separable_conv(inputs: Any, depthwise_kernel: Any, pointwise_kernel: Any, strides: Any = 1,
                   padding: str = "valid", data_format: str | None = None,
                   dilation_rate: Any = 1) -> Tensor:
    """Depthwise convolution followed by a pointwise (1x1) convolution."""
    y = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(y, as_tensor(pointwise_kernel, npdt(y)), 1, "valid", data_format)


def _ints(v: Any, n: int) -> list:
    if isinstance(v, (int, np.integer)):
        return [int(v)] * n
    return [int(e) for e in v]


def conv_transpose(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                   output_padding: Any = None, data_format: str | None = None,
                   dilation_rate: Any = 1) -> Tensor:
    """Transposed convolution; kernel shape `(*kernel_size, out_channels, in_channels)`, output
    sizes as Keras's `ConvNDTranspose` layers compute them."""
    x = to_float(inputs)
    w = as_tensor(kernel, npdt(x))
    df = _data_format(data_format)
    sw = shape_of(w)
    nd = len(sw) - 2
    st, dl = _ints(strides, nd), _ints(dilation_rate, nd)
    op_ = [None] * nd if output_padding is None else _ints(output_padding, nd)
    sx = shape_of(x)
    spatial = sx[2:] if df == "channels_first" else sx[1:-1]
    pad = padding.upper()
    out = [conv_.conv_transpose_output_length(s, k, a, d, pad, o)
           for s, k, a, d, o in zip(spatial, sw[:nd], st, dl, op_)]
    if None in out:
        raise fail("keras.ops.conv_transpose", "known spatial input sizes",
                   f"input shape {list(sx)}")
    batch = sx[0] if sx[0] is not None else 1
    oshape = [batch, sw[-2]] + out if df == "channels_first" else [batch] + out + [sw[-2]]
    return conv_.conv_transpose(x, w, oshape, strides=st, padding=pad, data_format=df,
                                dilations=dl)


def max_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
             data_format: str | None = None) -> Tensor:
    """Max pooling over the spatial dimensions (strides default to `pool_size`)."""
    x = to_float(inputs)
    return pool_.max_pool(x, pool_size, pool_size if strides is None else strides,
                          padding.upper(), data_format=_data_format(data_format))


def average_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None) -> Tensor:
    """Average pooling over the spatial dimensions (strides default to `pool_size`)."""
    x = to_float(inputs)
    return pool_.avg_pool(x, pool_size, pool_size if strides is None else strides,
                          padding.upper(), data_format=_data_format(data_format))


# --- attention ------------------------------------------------------------------------------------


def dot_product_attention(query: Any, key: Any, value: Any, bias: Any = None, mask: Any = None,
                          scale: float | None = None, is_causal: bool = False,
                          flash_attention: Any = None) -> Tensor:
    """Scaled dot-product attention on `(batch, seq, heads, head_dim)` tensors; `key`/`value`
    may have fewer heads (grouped-query attention). `mask` is True where attention is
    allowed; `bias` is added to the logits."""
    if flash_attention:
        raise fail("keras.ops.dot_product_attention", "flash_attention None or False",
                   repr(flash_attention), "ndflow computes attention directly.")
    q = to_float(query)
    k = as_tensor(key, npdt(q))
    v = as_tensor(value, npdt(q))
    for name_, tsr in (("query", q), ("key", k), ("value", v)):
        if rank(tsr) != 4:
            raise fail("keras.ops.dot_product_attention",
                       f"a 4-D {name_} (batch, seq, heads, head_dim)",
                       f"shape {list(shape_of(tsr))}")
    nh, kh = shape_of(q)[2], shape_of(k)[2]
    if nh != kh:
        if nh is None or kh is None or nh % kh:
            raise fail("keras.ops.dot_product_attention",
                       "query heads a multiple of key/value heads", f"{nh} and {kh}")
        k = a_.repeat(k, nh // kh, axis=2)
        v = a_.repeat(v, nh // kh, axis=2)
    hd = shape_of(q)[-1]
    sc = (1.0 / float(np.sqrt(hd))) if scale is None else float(scale)
    if bias is None and mask is None and not is_causal:
        from ndflow.ops.attention import attention

        return attention(m.multiply(q, sc), k, v)[0]
    from ndflow.ops import linalg as la_

    logits = m.multiply(la_.einsum("btnh,bsnh->bnts", q, k), sc)
    if bias is not None:
        logits = m.add(logits, as_tensor(bias, npdt(logits)))
    allowed = None
    if mask is not None:
        mk = as_tensor(mask)
        allowed = mk if npdt(mk).kind == "b" else m.not_equal(mk, m.zeros_like_(mk))
    if is_causal:
        t_len, s_len = shape_of(q)[1], shape_of(k)[1]
        from ndflow.core.tensor import constant

        causal = constant(np.tri(t_len, s_len, dtype=bool))
        allowed = causal if allowed is None else m.logical_and(allowed, causal)
    if allowed is not None:
        neg = m.add(m.zeros_like_(logits), float(np.finfo(npdt(logits)).min) * 0.7)
        logits = m.where(allowed, logits, neg)
    probs = nn_.softmax(logits, axis=-1)
    return la_.einsum("bnts,bsnh->btnh", probs, v)


__all__ = [
    "average_pool", "batch_normalization", "binary_crossentropy",
    "categorical_crossentropy", "celu", "conv", "conv_transpose", "depthwise_conv",
    "dot_product_attention", "elu", "gelu", "glu", "hard_shrink", "hard_sigmoid",
    "hard_silu", "hard_swish", "hard_tanh", "layer_normalization", "leaky_relu",
    "log_sigmoid", "log_softmax", "max_pool", "moments", "multi_hot", "normalize",
    "one_hot", "psnr", "relu", "relu6", "rms_normalization", "selu", "separable_conv",
    "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign",
    "sparse_categorical_crossentropy", "sparse_plus", "sparse_sigmoid", "sparsemax",
    "squareplus", "swish", "tanh_shrink", "threshold"
]
