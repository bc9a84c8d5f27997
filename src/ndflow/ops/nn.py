"""Neural-network ops: activations, softmax, fused cross-entropies, dropout, moments.

>>> import ndflow as tf
>>> tf.nn.relu(tf.constant([-1.0, 2.0])).numpy().tolist()
[0.0, 2.0]
"""

from __future__ import annotations

import math as _pm
from typing import Any

import numpy as np

from ndflow.backend import jit, native_calls, parallel
from ndflow.backend.native_calls import call_unary
from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor
from ndflow.ops import math as m
from ndflow.ops._util import binary, norm_axis, norm_one_axis, npdt, require_float, same_spec, \
    shape_of, t
from ndflow.ops.array import expand_dims
from ndflow.ops.linalg import einsum
from ndflow.ops.reduce import reduce_mean, reduce_sum
from ndflow.ops.row_sums import pairwise_program, row_sum
from ndflow.ops.shape_ops import reshape


def _def_act(name: str, forward: Any, grad: Any, **traits: Any) -> Any:
    op = register_op(name, forward, same_spec, grad, **traits)

    def public(features: Any, name: str | None = None) -> Tensor:
        x = t(features)
        require_float(op.name, x)
        return execute(op, (x,))

    public.__name__ = name
    public.op = op  # type: ignore[attr-defined]
    return public



def _relu_grad(node: Any, g: Tensor) -> tuple:
    return (execute(_RELU_GRAD, (g, node.outputs)),)


# relu's gradient is its own op so that the backward pass costs one kernel.
_RELU_GRAD = register_op(
    "relu_grad", None, lambda g, y: Spec(g.shape, g.dtype),
    lambda node, gg: (execute(_RELU_GRAD, (gg, node.inputs[1])), None),
    elementwise="multiply(x, greater(y, 0))", linear_in=(0,))

relu = _def_act("relu", None, _relu_grad, elementwise="maximum(x, 0)",
                monotone="nondecreasing", flat_mask=_RELU_GRAD)


def _relu6_grad(node: Any, g: Tensor) -> tuple:
    x = node.inputs[0]
    mask = m.logical_and(m.greater(x, 0), m.less(x, 6))
    return (m.where(mask, g, m.zeros_like_(g)),)


relu6 = _def_act("relu6", None, _relu6_grad, elementwise="minimum(maximum(x, 0), 6)",
                 monotone="nondecreasing")



def _elu_grad(node: Any, g: Tensor) -> tuple:
    # written with the output only (y > 0 exactly where x > 0) and as one product with g, so
    # the compiler can move it to a max pool's pooled size
    y = node.outputs
    return (m.multiply(g, m.where(m.greater(y, 0), m.ones_like_(y), m.add(y, 1))),)


elu = _def_act("elu", None, _elu_grad, elementwise="where(greater(x, 0), x, expm1(minimum(x, 0)))",
               monotone="increasing")

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _selu_fwd(xp: Any, a: Any) -> Any:
    return (_SELU_SCALE * xp.where(a > 0, a, _SELU_ALPHA * xp.expm1(xp.minimum(a, 0)))).astype(
        a.dtype, copy=False)


def _selu_grad(node: Any, g: Tensor) -> tuple:
    x, y = node.inputs[0], node.outputs
    return (m.where(m.greater(x, 0), m.multiply(g, _SELU_SCALE),
                    m.multiply(g, m.add(y, _SELU_SCALE * _SELU_ALPHA))),)


selu = _def_act("selu", _selu_fwd, _selu_grad)



def _leaky_grad(node: Any, g: Tensor) -> tuple:
    alpha = node.attrs["alpha"]
    # with alpha >= 0, y > 0 exactly where x > 0: the output decides (see _elu_grad)
    x = node.outputs if alpha >= 0 else node.inputs[0]
    one = m.ones_like_(x)
    slope = m.where(m.greater(x, 0), one, m.multiply(one, alpha))
    return (m.multiply(g, slope),)


_LEAKY = register_op("leaky_relu", None, same_spec, _leaky_grad,
                     elementwise="where(greater(x, 0), x, multiply(x, alpha))",
                     monotone=lambda attrs: "increasing" if attrs["alpha"] > 0 else None)


def leaky_relu(features: Any, alpha: float = 0.2, name: str | None = None) -> Tensor:
    x = t(features)
    require_float("leaky_relu", x)
    return execute(_LEAKY, (x,), {"alpha": float(alpha)})


def gelu(features: Any, approximate: bool = False, name: str | None = None) -> Tensor:
    """Gaussian error linear unit; `approximate=True` uses the tanh form."""
    x = t(features)
    require_float("gelu", x)
    if approximate:
        c = _pm.sqrt(2 / _pm.pi)
        inner = m.multiply(m.add(x, m.multiply(m.pow(x, 3), 0.044715)), c)
        return m.multiply(m.multiply(x, 0.5), m.add(m.tanh(inner), 1))
    return m.multiply(m.multiply(x, 0.5), m.add(m.erf(m.multiply(x, 1 / _pm.sqrt(2))), 1))


def silu(features: Any, beta: float = 1.0, name: str | None = None) -> Tensor:
    x = t(features)
    require_float("silu", x)
    return m.multiply(x, m.sigmoid(m.multiply(x, beta) if beta != 1.0 else x))


swish = silu
sigmoid = m.sigmoid
tanh = m.tanh
softplus = m.softplus
softsign = m.softsign


def crelu(features: Any, axis: int = -1, name: str | None = None) -> Tensor:
    from ndflow.ops.array import concat

    x = t(features)
    return concat([relu(x), relu(m.negative(x))], axis=axis)


# --- softmax ------------------------------------------------------------------------------------


@jit.helper
def row_max(row: Any) -> Any:
    """The maximum of a row in eight lanes (a loop that vectorises). A NaN may be missed
    here: softmax then makes the whole row NaN anyway, through its own x - max and the row
    sum."""
    n = row.shape[0]
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = row[0]
    j = 0
    while j + 8 <= n:
        m0 = row[j] if row[j] > m0 else m0
        m1 = row[j + 1] if row[j + 1] > m1 else m1
        m2 = row[j + 2] if row[j + 2] > m2 else m2
        m3 = row[j + 3] if row[j + 3] > m3 else m3
        m4 = row[j + 4] if row[j + 4] > m4 else m4
        m5 = row[j + 5] if row[j + 5] > m5 else m5
        m6 = row[j + 6] if row[j + 6] > m6 else m6
        m7 = row[j + 7] if row[j + 7] > m7 else m7
        j += 8
    mx = max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
    while j < n:
        mx = row[j] if row[j] > mx else mx
        j += 1
    return mx


@jit.kernel
def _softmax_rows_jit(x: Any, out: Any, exp: Any, exp_data: Any, meta: Any, prog: Any,
                      zero: Any, r0: int, r1: int) -> None:
    """Softmax of rows r0:r1 of 2-D `x`, the NumPy path's operations: the row max, x - max,
    NumPy's exp loop (native_calls) on a chunk of rows at a time, the row sum in NumPy's
    order, the division."""
    C = x.shape[1]
    stack = np.empty(64, x.dtype)
    isz = x.itemsize
    meta[3] = isz
    meta[4] = isz
    chunk = max(1, 4096 // max(C, 1))  # rows per exp call: a chunk stays in L1/L2
    for c0 in range(r0, r1, chunk):
        c1 = min(c0 + chunk, r1)
        for r in range(c0, c1):
            row, o = x[r], out[r]
            mx = row_max(row)
            for j in range(C):
                o[j] = row[j] - mx
        call_unary(exp, exp_data, out[c0].ctypes.data, out[c0].ctypes.data, (c1 - c0) * C,
                   meta)
        for r in range(c0, c1):
            o = out[r]
            t = row_sum(o, prog, stack, zero)
            for j in range(C):
                o[j] = o[j] / t


def _softmax_fwd(xp: Any, a: Any, axis: int) -> Any:
    if xp is np and axis in (-1, a.ndim - 1) and a.ndim >= 1 and a.size and jit.enabled() \
            and a.dtype in (np.float32, np.float64):
        exp = native_calls.unary_loop(np.exp, a.dtype)
        if exp is not None:
            x = np.ascontiguousarray(a).reshape(-1, a.shape[-1])
            out = np.empty_like(x)
            kernel, prog, zero = _softmax_rows_jit.function, pairwise_program(x.shape[1]), \
                a.dtype.type(0)

            def rows(r0: int, r1: int) -> None:
                kernel(x, out, exp[0], exp[1], np.empty(5, np.intp), prog, zero, r0, r1)

            parallel.run_blocks(rows, x.shape[0], max(1, 65536 // x.shape[1]))
            return out.reshape(a.shape)
    e = a - a.max(axis=axis, keepdims=True)
    xp.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _softmax_grad(node: Any, g: Tensor) -> tuple:
    y = node.outputs
    ax = node.attrs["axis"]
    rank = len(y.shape)
    if ax in (-1, rank - 1) and 1 <= rank <= 8:
        # y * (g - sum(g * y)): the row sums as one einsum read g and y once, with no g * y
        # temporary, and the rest is one fused element-wise pass
        sub = "abcdefgh"[:rank]
        dot = einsum(f"{sub},{sub}->{sub[:-1]}", g, y)
        return (m.multiply(y, m.subtract(g, expand_dims(dot, -1))),)
    gy = m.multiply(g, y)
    return (m.subtract(gy, m.multiply(y, reduce_sum(gy, axis=ax, keepdims=True))),)


def _log_softmax_fwd(xp: Any, a: Any, axis: int) -> Any:
    s = a - a.max(axis=axis, keepdims=True)
    return s - xp.log(xp.exp(s).sum(axis=axis, keepdims=True))


def _log_softmax_grad(node: Any, g: Tensor) -> tuple:
    y = node.outputs
    ax = node.attrs["axis"]
    return (m.subtract(g, m.multiply(m.exp(y), reduce_sum(g, axis=ax, keepdims=True))),)


_SOFTMAX = register_op("softmax", _softmax_fwd, lambda x, axis: Spec(x.shape, x.dtype),
                       _softmax_grad)
_LOG_SOFTMAX = register_op("log_softmax", _log_softmax_fwd,
                           lambda x, axis: Spec(x.shape, x.dtype), _log_softmax_grad)


def softmax(logits: Any, axis: int = -1, name: str | None = None) -> Tensor:
    x = t(logits)
    require_float("softmax", x)
    ax = norm_one_axis("softmax", axis, len(shape_of(x)))
    return execute(_SOFTMAX, (x,), {"axis": ax})


def log_softmax(logits: Any, axis: int = -1, name: str | None = None) -> Tensor:
    x = t(logits)
    require_float("log_softmax", x)
    ax = norm_one_axis("log_softmax", axis, len(shape_of(x)))
    return execute(_LOG_SOFTMAX, (x,), {"axis": ax})


# --- fused cross-entropies (stable, one kernel forward and one backward) -------------------------


def _sig_xent_fwd(xp: Any, z: Any, x: Any) -> Any:
    # labels z, logits x: max(x, 0) - x * z + log(1 + exp(-|x|))
    return xp.maximum(x, 0) - x * z + xp.log1p(xp.exp(-xp.abs(x)))


def _sig_xent_grad(node: Any, g: Tensor) -> tuple:
    z, x = node.inputs
    gz = m.multiply(g, m.negative(x)) if node.needs[0] else None
    gx = m.multiply(g, m.subtract(m.sigmoid(x), z)) if node.needs[1] else None
    return (gz, gx)


def _same_shape_infer(name: str):
    def infer(a: Spec, b: Spec) -> Spec:
        if a.shape != b.shape and None not in a.shape + b.shape:
            raise fail(name, f"labels and logits of the same shape (logits {list(b.shape)})",
                       f"labels of shape {list(a.shape)}")
        if a.dtype != b.dtype:
            raise fail(name, "labels and logits of the same dtype",
                       f"{a.dtype.name} and {b.dtype.name}")
        return Spec(b.shape, b.dtype)
    return infer


_SIG_XENT = register_op("sigmoid_cross_entropy_with_logits", _sig_xent_fwd,
                        _same_shape_infer("sigmoid_cross_entropy_with_logits"), _sig_xent_grad)


def sigmoid_cross_entropy_with_logits(labels: Any = None, logits: Any = None,
                                      name: str | None = None) -> Tensor:
    """Element-wise binary cross-entropy between `labels` in [0, 1] and raw `logits`."""
    if labels is None or logits is None:
        raise ValueError("sigmoid_cross_entropy_with_logits: both labels and logits are required")
    x = t(logits)
    require_float("sigmoid_cross_entropy_with_logits", x)
    z = t(labels)
    if npdt(z) != npdt(x):
        z = m.cast(z, npdt(x))
    _check_same_shape("sigmoid_cross_entropy_with_logits", z, x)
    return execute(_SIG_XENT, (z, x))


def _check_same_shape(name: str, labels: Tensor, logits: Tensor) -> None:
    a, b = tuple(shape_of(labels)), tuple(shape_of(logits))
    if a != b and None not in a + b:
        raise fail(name, f"labels and logits of the same shape (logits {list(b)})",
                   f"labels of shape {list(a)}",
                   "For integer class ids use sparse_softmax_cross_entropy_with_logits.")


def _softmax_xent_fwd(xp: Any, labels: Any, logits: Any, axis: int) -> tuple:
    s = logits - logits.max(axis=axis, keepdims=True)
    e = xp.exp(s)
    se = e.sum(axis=axis, keepdims=True)
    logp = s - xp.log(se)
    loss = -(labels * logp).sum(axis=axis)
    return loss, logp


def _softmax_xent_grad(node: Any, g: Tensor | None, g_logp: Tensor | None) -> tuple:
    labels, logits = node.inputs
    ax = node.attrs["axis"]
    logp = node.outputs[1]
    gl = gz = None
    if g is not None:
        ge = _expand(g, ax)
        if node.needs[1]:
            gl = m.multiply(ge, m.subtract(m.multiply(m.exp(logp), reduce_sum(
                labels, ax, keepdims=True)), labels))
        if node.needs[0]:
            gz = m.multiply(ge, m.negative(logp))
    if g_logp is not None and node.needs[1]:
        extra = m.subtract(g_logp, m.multiply(m.exp(logp), reduce_sum(g_logp, ax, keepdims=True)))
        gl = extra if gl is None else m.add(gl, extra)
    return (gz, gl)


def _expand(g: Tensor, axis: int) -> Tensor:
    shape = list(shape_of(g))
    shape.insert(axis if axis >= 0 else len(shape) + 1 + axis, 1)
    return reshape(g, shape)


_SOFTMAX_XENT = register_op(
    "softmax_cross_entropy_with_logits", _softmax_xent_fwd,
    lambda z, x, axis: (Spec(tuple(d for i, d in enumerate(x.shape) if i != axis), x.dtype),
                        Spec(x.shape, x.dtype)),
    _softmax_xent_grad, num_outputs=2)


def softmax_cross_entropy_with_logits(labels: Any = None, logits: Any = None, axis: int = -1,
                                      name: str | None = None) -> Tensor:
    """Cross-entropy between a distribution `labels` and `softmax(logits)` along `axis`."""
    if labels is None or logits is None:
        raise ValueError("softmax_cross_entropy_with_logits: both labels and logits are required")
    x = t(logits)
    require_float("softmax_cross_entropy_with_logits", x)
    z = t(labels)
    if npdt(z) != npdt(x):
        z = m.cast(z, npdt(x))
    _check_same_shape("softmax_cross_entropy_with_logits", z, x)
    ax = norm_one_axis("softmax_cross_entropy_with_logits", axis, len(shape_of(x)))
    return execute(_SOFTMAX_XENT, (z, x), {"axis": ax})[0]


def _check_label_range(labels: Any, num_classes: int, who: str) -> None:
    """Class ids must index a class: checked in the kernel, so compiled steps (where label
    values are unknown while tracing) report bad labels exactly as eager code does."""
    if labels.size:
        lo, hi = int(labels.min()), int(labels.max())
        if lo < 0 or hi >= num_classes:
            raise fail(who, f"labels in [0, {num_classes}) for {num_classes} classes",
                       f"a label of {lo if lo < 0 else hi}",
                       "Class ids count from 0; check the number of output units.")


def _class_ids_fwd(xp: Any, labels: Any, num_classes: int, who: str) -> Any:
    if labels.dtype.kind == "f":
        if labels.size and not bool((labels == xp.floor(labels)).all()):
            raise fail(who, "integer class ids as labels", "non-integer float labels",
                       "For probability (soft) labels use categorical_crossentropy.")
        labels = labels.astype(np.int64)
    _check_label_range(labels, num_classes, who)
    return labels


def _class_ids_infer(x: Spec, num_classes: int, who: str) -> Spec:
    return Spec(x.shape, np.int64 if x.dtype.kind == "f" else x.dtype)


_CLASS_IDS = register_op("class_ids", _class_ids_fwd, _class_ids_infer)


def class_ids(labels: Any, num_classes: int, name: str = "class_ids") -> Tensor:
    """``labels`` as integer class ids in ``[0, num_classes)``; raises (eagerly, or when a
    compiled step runs) for non-integer or out-of-range labels, naming ``name``.

    >>> import ndflow as tf
    >>> from ndflow.ops.nn import class_ids
    >>> class_ids(tf.constant([0.0, 2.0]), 3).numpy().tolist()
    [0, 2]
    """
    z = t(labels)
    if npdt(z).kind not in "iuf":
        raise fail(name, "integer class ids as labels", f"labels of dtype {npdt(z).name}")
    return execute(_CLASS_IDS, (z,), {"num_classes": int(num_classes), "who": name})


def _sparse_xent_fwd(xp: Any, logits: Any, labels: Any) -> tuple:
    _check_label_range(labels, logits.shape[-1], "sparse_softmax_cross_entropy_with_logits")
    s = logits - logits.max(axis=-1, keepdims=True)
    logp = s - xp.log(xp.exp(s).sum(axis=-1, keepdims=True))
    loss = -xp.take_along_axis(logp, labels[..., None].astype(np.intp), axis=-1)[..., 0]
    return loss, logp


def _sparse_xent_grad(node: Any, g: Tensor, g_logp: Tensor) -> tuple:
    logits, labels = node.inputs
    logp = node.outputs[1]
    gl = None if g is None else execute(_SPARSE_XENT_BWD, (g, logp, labels))
    if g_logp is not None:
        extra = m.subtract(g_logp, m.multiply(m.exp(logp), reduce_sum(g_logp, -1, True)))
        gl = extra if gl is None else m.add(gl, extra)
    return (gl, None)


def _sparse_bwd_fwd(xp: Any, g: Any, logp: Any, labels: Any) -> Any:
    p = xp.exp(logp)
    flat = p.reshape(-1, p.shape[-1])
    flat[xp.arange(flat.shape[0]), labels.reshape(-1)] -= 1
    p *= g[..., None]
    return p


def _sparse_bwd_grad(node: Any, gg: Tensor) -> tuple:
    # d/dg: <gg, softmax - onehot>; d/dlogp: gg * g * softmax.
    g, logp, labels = node.inputs
    p = m.exp(logp)
    depth = shape_of(logp)[-1]
    from ndflow.ops.array import one_hot

    oh = one_hot(labels, depth, dtype=npdt(logp))
    d_g = reduce_sum(m.multiply(gg, m.subtract(p, oh)), -1) if node.needs[0] else None
    d_logp = m.multiply(m.multiply(gg, _expand(g, -1)), p) if node.needs[1] else None
    return (d_g, d_logp, None)


_SPARSE_XENT = register_op(
    "sparse_softmax_cross_entropy_with_logits", _sparse_xent_fwd,
    lambda x, z: (Spec(x.shape[:-1], x.dtype), Spec(x.shape, x.dtype)),
    _sparse_xent_grad, num_outputs=2)
_SPARSE_XENT_BWD = register_op(
    "sparse_softmax_cross_entropy_grad", _sparse_bwd_fwd,
    lambda g, lp, z: Spec(lp.shape, lp.dtype), _sparse_bwd_grad)


def sparse_softmax_cross_entropy_with_logits(labels: Any = None, logits: Any = None,
                                             name: str | None = None) -> Tensor:
    """Cross-entropy between integer class ids `labels` and `softmax(logits)`."""
    if labels is None or logits is None:
        raise ValueError("sparse_softmax_cross_entropy_with_logits: both labels and logits are "
                         "required")
    x = t(logits)
    require_float("sparse_softmax_cross_entropy_with_logits", x)
    z = t(labels)
    if npdt(z).kind not in "iu":
        raise fail("sparse_softmax_cross_entropy_with_logits", "integer class ids as labels",
                   f"labels of dtype {npdt(z).name} with shape {list(shape_of(z))}",
                   "For one-hot or probability labels use softmax_cross_entropy_with_logits.")
    sz, sx = tuple(shape_of(z)), tuple(shape_of(x))
    if sz != sx[:-1]:
        raise fail("sparse_softmax_cross_entropy_with_logits",
                   f"labels of shape {list(sx[:-1])} (logits shape minus the class axis)",
                   f"labels of shape {list(sz)}",
                   "Labels hold one class id per example; one-hot labels need the "
                   "non-sparse loss.")
    if not z._symbolic and not z._traced and z._value.size:
        lo, hi = int(z._value.min()), int(z._value.max())
        if lo < 0 or hi >= sx[-1]:
            raise fail("sparse_softmax_cross_entropy_with_logits",
                       f"labels in [0, {sx[-1]}) for {sx[-1]} classes",
                       f"a label of {lo if lo < 0 else hi}")
    return execute(_SPARSE_XENT, (x, z))[0]


def weighted_cross_entropy_with_logits(labels: Any, logits: Any, pos_weight: Any,
                                       name: str | None = None) -> Tensor:
    x = t(logits)
    require_float("weighted_cross_entropy_with_logits", x)
    z = m.cast(t(labels), npdt(x))
    _check_same_shape("weighted_cross_entropy_with_logits", z, x)
    w = pos_weight if isinstance(pos_weight, Tensor) else Tensor(
        np.asarray(pos_weight, dtype=npdt(x)))
    log_weight = m.add(m.multiply(m.subtract(w, 1), z), 1)
    return m.add(m.multiply(m.subtract(1, z), x),
                 m.multiply(log_weight, m.add(m.log1p(m.exp(m.negative(m.abs(x)))),
                                              m.maximum(m.negative(x), 0))))


# --- dropout, bias, moments, normalisation ----------------------------------------------------


def dropout(x: Any, rate: float, noise_shape: Any = None, seed: int | None = None,
            name: str | None = None) -> Tensor:
    """Zero each element with probability `rate` and scale the rest by 1 / (1 - rate)."""
    from ndflow.ops.random import uniform

    x = t(x)
    require_float("dropout", x)
    if isinstance(rate, Tensor):
        rate = float(rate)
    if not 0 <= rate < 1:
        raise fail("dropout", "rate in [0, 1)", f"rate={rate}")
    if rate == 0:
        return x
    shape = tuple(shape_of(x)) if noise_shape is None else tuple(
        s if s is not None else d for s, d in zip(noise_shape, shape_of(x)))
    keep = m.greater_equal(uniform(shape, dtype=npdt(x), seed=seed), rate)
    scale = m.cast(keep, npdt(x))
    return m.multiply(x, m.multiply(scale, 1.0 / (1.0 - rate)))


def bias_add(value: Any, bias: Any, data_format: str | None = None, name: str | None = None
             ) -> Tensor:
    x, b = binary("bias_add", value, bias)
    if len(shape_of(b)) != 1:
        raise fail("bias_add", "a rank-1 bias", f"shape {list(shape_of(b))}")
    if data_format in ("NCHW", "NCW", "NCDHW", "channels_first"):
        nd = len(shape_of(x))
        b = reshape(b, [-1] + [1] * (nd - 2))
    return m.add(x, b)


def moments(x: Any, axes: Any, shift: Any = None, keepdims: bool = False,
            name: str | None = None) -> tuple:
    """Mean and variance over `axes`."""
    x = t(x)
    mean = reduce_mean(x, axes, keepdims=True)
    var = reduce_mean(m.squared_difference(x, m.stop_gradient(mean)), axes, keepdims=True)
    if not keepdims:
        ax = norm_axis("moments", axes, len(shape_of(x)))
        from ndflow.ops.array import squeeze

        mean, var = squeeze(mean, ax), squeeze(var, ax)
    return mean, var


def batch_normalization(x: Any, mean: Any, variance: Any, offset: Any, scale: Any,
                        variance_epsilon: float, name: str | None = None) -> Tensor:
    """`(x - mean) / sqrt(variance + eps) * scale + offset`; Python numbers take x's dtype."""
    x = t(x)
    require_float("batch_normalization", x)

    def like_x(v: Any) -> Any:
        return v if v is None or isinstance(v, Tensor) else Tensor(
            np.asarray(v, dtype=npdt(x)))

    mean, variance, offset, scale = (like_x(v) for v in (mean, variance, offset, scale))
    inv = m.rsqrt(m.add(variance, variance_epsilon))
    if scale is not None:
        inv = m.multiply(inv, scale)
    out = m.multiply(m.subtract(x, mean), inv)
    return m.add(out, offset) if offset is not None else out


def l2_loss(t_: Any, name: str | None = None) -> Tensor:
    return m.multiply(reduce_sum(m.square(t_)), 0.5)


def log_poisson_loss(targets: Any, log_input: Any, compute_full_loss: bool = False,
                     name: str | None = None) -> Tensor:
    """Negative log-likelihood of `targets` under a Poisson with log-rate `log_input`, up to a
    constant; `compute_full_loss=True` adds Stirling's approximation of log(targets!)."""
    x = t(log_input)
    z = t(targets)
    if npdt(z) != npdt(x):
        z = m.cast(z, npdt(x))
    loss = m.subtract(m.exp(x), m.multiply(x, z))
    if compute_full_loss:
        safe = m.where(m.greater(z, 1), z, m.ones_like_(z))
        stirling = m.add(m.subtract(m.multiply(safe, m.log(safe)), safe),
                         m.multiply(m.log(m.multiply(safe, 2 * _pm.pi)), 0.5))
        loss = m.add(loss, m.where(m.greater(z, 1), stirling, m.zeros_like_(z)))
    return loss
