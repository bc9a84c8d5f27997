"""Keras 3 losses: the functions (per-sample losses) and the `Loss` classes around them.

Cross-entropies on logits use the fused, stable ops `tf.nn.softmax_cross_entropy_with_logits`,
`sparse_softmax_cross_entropy_with_logits` and `sigmoid_cross_entropy_with_logits`;
probability inputs are clipped to ``[epsilon, 1 - epsilon]`` as Keras does. When a prediction
tensor carries ``_keras_logits`` (set by a softmax/sigmoid output activation), cross-entropies
use those logits, as Keras's TensorFlow backend does.

>>> import numpy as np
>>> from ndflow.keras import losses
>>> round(float(losses.MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]])), 4)
0.5
>>> y = np.array([1, 0]); logits = np.array([[1.0, 2.0], [3.0, 0.0]], "float32")
>>> round(float(losses.SparseCategoricalCrossentropy(from_logits=True)(y, logits)), 4)
0.1809
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np

import ndflow as tf
from ndflow.core import dispatch
from ndflow.core.dispatch import fail
from ndflow.core.tensor import Tensor
from ndflow.keras.losses.loss import (
    Loss, as_float_tensor, epsilon, squeeze_or_expand_to_same_rank, to_tensor,
)
from ndflow.ops._util import npdt, shape_of
from ndflow.ops.array import take_along_axis
from ndflow.ops.nn import class_ids


def _prep(y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor]:
    y_pred = as_float_tensor(y_pred)
    y_true = as_float_tensor(y_true, npdt(y_pred))
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def _check_broadcast(name: str, y_true: Tensor, y_pred: Tensor) -> None:
    a, b = tuple(shape_of(y_true)), tuple(shape_of(y_pred))
    if a == b:
        return
    try:
        np.broadcast_shapes(tuple(d or 1 for d in a), tuple(d or 1 for d in b))
    except ValueError:
        raise fail(name, f"y_true with a shape compatible with y_pred's {list(b)}",
                   f"y_true of shape {list(a)}",
                   "Targets and predictions must have the same shape (or broadcast).") from None


def _clip_eps(x: Tensor) -> Tensor:
    eps = epsilon()
    return tf.clip_by_value(x, eps, 1.0 - eps)


def _logits_of(y_pred: Any) -> Any:
    from ndflow.keras.activations.activations import get_keras_logits

    logits = getattr(y_pred, "_keras_logits", None)
    return logits if logits is not None else get_keras_logits(y_pred)


# --- regression -----------------------------------------------------------------------------


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(square(y_true - y_pred), axis=-1)``.

    >>> float(mean_squared_error([[0.0, 2.0]], [[1.0, 1.0]])[0])
    1.0
    """
    y_true, y_pred = _prep(y_true, y_pred)
    _check_broadcast("mean_squared_error", y_true, y_pred)
    return tf.reduce_mean(tf.math.squared_difference(y_true, y_pred), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(abs(y_true - y_pred), axis=-1)``."""
    y_true, y_pred = _prep(y_true, y_pred)
    _check_broadcast("mean_absolute_error", y_true, y_pred)
    return tf.reduce_mean(tf.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``."""
    y_true, y_pred = _prep(y_true, y_pred)
    _check_broadcast("mean_absolute_percentage_error", y_true, y_pred)
    diff = tf.abs((y_true - y_pred) / tf.maximum(tf.abs(y_true), epsilon()))
    return tf.reduce_mean(diff, axis=-1) * 100.0


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)``."""
    y_true, y_pred = _prep(y_true, y_pred)
    _check_broadcast("mean_squared_logarithmic_error", y_true, y_pred)
    eps = epsilon()
    first = tf.math.log1p(tf.maximum(y_pred, eps))
    second = tf.math.log1p(tf.maximum(y_true, eps))
    return tf.reduce_mean(tf.math.squared_difference(first, second), axis=-1)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """Negative cosine similarity along `axis` (-1 means identical directions)."""
    y_true, y_pred = _prep(y_true, y_pred)
    _check_broadcast("cosine_similarity", y_true, y_pred)
    a = tf.math.l2_normalize(y_true, axis=axis)
    b = tf.math.l2_normalize(y_pred, axis=axis)
    return -tf.reduce_sum(a * b, axis=axis)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    """Quadratic for ``|error| <= delta``, linear beyond; mean over the last axis."""
    y_true, y_pred = _prep(y_true, y_pred)
    _check_broadcast("huber", y_true, y_pred)
    delta = float(delta)
    err = y_pred - y_true
    abs_err = tf.abs(err)
    quad = tf.square(err) * 0.5
    lin = abs_err * delta - 0.5 * delta * delta
    return tf.reduce_mean(tf.where(abs_err <= delta, quad, lin), axis=-1)


def log_cosh(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed stably."""
    y_true, y_pred = _prep(y_true, y_pred)
    _check_broadcast("log_cosh", y_true, y_pred)
    x = y_pred - y_true
    return tf.reduce_mean(x + tf.math.softplus(x * -2.0) - math.log(2.0), axis=-1)


def _hinge_labels(y_true: Tensor) -> Tensor:
    """Convert {0, 1} labels to {-1, 1} (other labels are used as given), as Keras does."""
    is_binary = tf.reduce_all(tf.logical_or(tf.equal(y_true, 0.0), tf.equal(y_true, 1.0)))
    return tf.where(is_binary, y_true * 2.0 - 1.0, y_true)


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(maximum(1 - y_true * y_pred, 0), axis=-1)``; labels in {-1, 1} (or {0, 1})."""
    y_true, y_pred = _prep(y_true, y_pred)
    _check_broadcast("hinge", y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return tf.reduce_mean(tf.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)``."""
    y_true, y_pred = _prep(y_true, y_pred)
    _check_broadcast("squared_hinge", y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return tf.reduce_mean(tf.square(tf.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """``maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)``."""
    y_true, y_pred = _prep(y_true, y_pred)
    _check_broadcast("categorical_hinge", y_true, y_pred)
    pos = tf.reduce_sum(y_true * y_pred, axis=-1)
    neg = tf.reduce_max((1.0 - y_true) * y_pred, axis=-1)
    return tf.maximum(neg - pos + 1.0, 0.0)


def kl_divergence(y_true: Any, y_pred: Any) -> Tensor:
    """``sum(y_true * log(y_true / y_pred), axis=-1)`` with both clipped to [eps, 1]."""
    y_true, y_pred = _prep(y_true, y_pred)
    _check_broadcast("kl_divergence", y_true, y_pred)
    eps = epsilon()
    a = tf.clip_by_value(y_true, eps, 1.0)
    b = tf.clip_by_value(y_pred, eps, 1.0)
    return tf.reduce_sum(a * tf.math.log(a / b), axis=-1)


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(y_pred - y_true * log(y_pred + eps), axis=-1)``."""
    y_true, y_pred = _prep(y_true, y_pred)
    _check_broadcast("poisson", y_true, y_pred)
    return tf.reduce_mean(y_pred - y_true * tf.math.log(y_pred + epsilon()), axis=-1)


# --- overlap losses -------------------------------------------------------------------------


def tversky(y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5,
            axis: Any = None) -> Tensor:
    """``1 - TP / (TP + alpha * FP + beta * FN + eps)`` with soft counts summed over `axis`
    (all axes when None)."""
    y_pred = as_float_tensor(y_pred)
    y_true = as_float_tensor(y_true, npdt(y_pred))
    _check_broadcast("tversky", y_true, y_pred)
    tp = tf.reduce_sum(y_true * y_pred, axis=axis)
    fp = tf.reduce_sum((1.0 - y_true) * y_pred, axis=axis)
    fn = tf.reduce_sum(y_true * (1.0 - y_pred), axis=axis)
    return 1.0 - tp / (tp + fp * float(alpha) + fn * float(beta) + epsilon())


def dice(y_true: Any, y_pred: Any, axis: Any = None) -> Tensor:
    """``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps)`` over `axis`."""
    y_pred = as_float_tensor(y_pred)
    y_true = as_float_tensor(y_true, npdt(y_pred))
    _check_broadcast("dice", y_true, y_pred)
    inter = tf.reduce_sum(y_true * y_pred, axis=axis)
    union = tf.reduce_sum(y_true, axis=axis) + tf.reduce_sum(y_pred, axis=axis)
    return 1.0 - inter * 2.0 / (union + epsilon())


# --- cross-entropies ------------------------------------------------------------------------


def _check_same_shape(name: str, y_true: Tensor, y_pred: Tensor, sparse_hint: bool) -> None:
    a, b = tuple(shape_of(y_true)), tuple(shape_of(y_pred))
    if len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b)):
        return
    hint = "Targets and predictions must have the same shape."
    if sparse_hint and (a == b[:-1] or (len(a) == len(b) and a[-1:] == (1,))):
        hint = ("The labels look like integer class ids: use sparse_categorical_crossentropy "
                "(or one-hot encode them with keras.utils.to_categorical).")
    raise fail(name, f"y_true of the same shape as y_pred {list(b)}",
               f"y_true of shape {list(a)}", hint)


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Binary cross-entropy, averaged over `axis`.

    >>> round(float(binary_crossentropy([[1.0]], [[0.5]])[0]), 4)
    0.6931
    """
    logits = None if from_logits else _logits_of(y_pred)
    y_true, y_pred = _prep(y_true, y_pred)
    _check_same_shape("binary_crossentropy", y_true, y_pred, False)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits or logits is not None:
        z = y_pred if from_logits else as_float_tensor(logits, npdt(y_pred))
        per = tf.nn.sigmoid_cross_entropy_with_logits(labels=y_true, logits=z)
    else:
        p = _clip_eps(y_pred)
        per = -(y_true * tf.math.log(p) + (1.0 - y_true) * tf.math.log(1.0 - p))
    return tf.reduce_mean(per, axis=axis)


def binary_focal_crossentropy(y_true: Any, y_pred: Any, apply_class_balancing: bool = False,
                              alpha: float = 0.25, gamma: float = 2.0,
                              from_logits: bool = False, label_smoothing: float = 0.0,
                              axis: int = -1) -> Tensor:
    """Binary cross-entropy scaled by ``(1 - p_t) ** gamma`` (and ``alpha`` balancing)."""
    y_true, y_pred = _prep(y_true, y_pred)
    _check_same_shape("binary_focal_crossentropy", y_true, y_pred, False)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = tf.sigmoid(y_pred)
    p = _clip_eps(y_pred)
    bce = -(y_true * tf.math.log(p) + (1.0 - y_true) * tf.math.log(1.0 - p))
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal = tf.pow(tf.maximum(1.0 - p_t, 0.0), float(gamma)) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return tf.reduce_mean(focal, axis=axis)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Cross-entropy between one-hot (or probability) labels and predictions.

    >>> round(float(categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]])[0]), 4)
    0.6931
    """
    if isinstance(axis, bool):
        raise ValueError(f"categorical_crossentropy: expected an integer axis, got {axis!r}")
    logits = None if from_logits else _logits_of(y_pred)
    y_pred = as_float_tensor(y_pred)
    y_true = as_float_tensor(y_true, npdt(y_pred))
    _check_same_shape("categorical_crossentropy", y_true, y_pred, True)
    if label_smoothing:
        n = shape_of(y_true)[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / n
    if from_logits or logits is not None:
        z = y_pred if from_logits else as_float_tensor(logits, npdt(y_pred))
        return tf.nn.softmax_cross_entropy_with_logits(labels=y_true, logits=z, axis=axis)
    p = _clip_eps(y_pred / tf.reduce_sum(y_pred, axis=axis, keepdims=True))
    return -tf.reduce_sum(y_true * tf.math.log(p), axis=axis)


def categorical_focal_crossentropy(y_true: Any, y_pred: Any, alpha: float = 0.25,
                                   gamma: float = 2.0, from_logits: bool = False,
                                   label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Categorical cross-entropy scaled by ``alpha * (1 - p) ** gamma`` per class."""
    y_pred = as_float_tensor(y_pred)
    y_true = as_float_tensor(y_true, npdt(y_pred))
    _check_same_shape("categorical_focal_crossentropy", y_true, y_pred, True)
    if label_smoothing:
        n = shape_of(y_true)[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / n
    if from_logits:
        y_pred = tf.nn.softmax(y_pred, axis=axis)
    p = _clip_eps(y_pred / tf.reduce_sum(y_pred, axis=axis, keepdims=True))
    cce = -y_true * tf.math.log(p)
    w = tf.pow(1.0 - p, float(gamma)) * float(alpha)
    return tf.reduce_sum(w * cce, axis=axis)


def _sparse_labels(name: str, y_true: Any, y_pred: Tensor, axis: int) -> Tensor:
    y = to_tensor(y_true)
    ys, ps = tuple(shape_of(y)), tuple(shape_of(y_pred))
    if len(ys) == len(ps) and ys[-1:] == (1,):
        y = tf.squeeze(y, -1)
        ys = ys[:-1]
    expected = ps[:-1] if axis in (-1, len(ps) - 1) else ps[:axis] + ps[axis + 1:]
    if len(ys) != len(expected) or any(a is not None and b is not None and a != b
                                       for a, b in zip(ys, expected)):
        hint = "Labels hold one integer class id per sample."
        if ys == ps:
            hint = ("The labels look one-hot encoded: use categorical_crossentropy for one-hot "
                    "labels, or pass class ids (argmax) to the sparse loss.")
        raise fail(name, f"y_true of shape {list(expected)} (integer class ids; y_pred has "
                   f"shape {list(ps)})", f"y_true of shape {list(shape_of(to_tensor(y_true)))}",
                   hint)
    if npdt(y).kind not in "iuf":
        raise fail(name, "integer class ids as labels", f"labels of dtype {npdt(y).name}")
    n = ps[axis]
    if n is None:  # unknown class count (symbolic): only the float -> int conversion
        return tf.cast(y, "int64") if npdt(y).kind == "f" else y
    # one op that checks (eagerly, and in compiled steps when they run) and converts
    return class_ids(y, n, name)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1
                                    ) -> Tensor:
    """Cross-entropy between integer class ids and predictions over `axis`.

    >>> round(float(sparse_categorical_crossentropy([1], [[0.5, 0.5]])[0]), 4)
    0.6931
    """
    logits = None if from_logits else _logits_of(y_pred)
    y_pred = as_float_tensor(y_pred)
    name = "sparse_categorical_crossentropy"
    valid = None
    if ignore_class is not None:
        yt = to_tensor(y_true)
        if len(shape_of(yt)) == len(shape_of(y_pred)) and shape_of(yt)[-1] == 1:
            yt = tf.squeeze(yt, -1)
        valid = tf.not_equal(yt, tf.cast(tf.constant(ignore_class), npdt(yt)))
        y_true = yt * tf.cast(valid, npdt(yt))
    y = _sparse_labels(name, y_true, y_pred, axis)
    ax = axis % len(shape_of(y_pred))
    if ax != len(shape_of(y_pred)) - 1:
        perm = [i for i in range(len(shape_of(y_pred))) if i != ax] + [ax]
        y_pred = tf.transpose(y_pred, perm)
        if logits is not None:
            logits = tf.transpose(as_float_tensor(logits), perm)
    if from_logits or logits is not None:
        z = y_pred if from_logits else as_float_tensor(logits, npdt(y_pred))
        res = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=z)
    else:
        res = _sparse_prob_xent(y, y_pred)
    if valid is not None:
        res = tf.where(valid, res, tf.zeros_like(res))
        _ignore_mask.append(valid)
    return res


_ignore_mask: list = []  # the valid-label mask of the last ignore_class call, for the Loss


def _sp_fwd(xp: Any, probs: Any, labels: Any, eps: float) -> Any:
    idx = labels[..., None].astype(np.intp)
    q = xp.take_along_axis(probs, idx, axis=-1)[..., 0] / probs.sum(axis=-1)
    return -xp.log(xp.clip(q, eps, 1.0 - eps))


def _sp_bwd_fwd(xp: Any, g: Any, probs: Any, labels: Any, eps: float) -> Any:
    idx = labels[..., None].astype(np.intp)
    s = probs.sum(axis=-1, keepdims=True)
    q = xp.take_along_axis(probs, idx, axis=-1) / s
    c = xp.clip(q, eps, 1.0 - eps)
    coef = xp.where((q >= eps) & (q <= 1.0 - eps), -g[..., None] / (c * s), 0).astype(
        probs.dtype, copy=False)
    out = xp.empty_like(probs)
    out[...] = -coef * q
    xp.put_along_axis(out, idx, coef - coef * q, axis=-1)
    return out


def _sp_grad(node: Any, g: Tensor) -> tuple:
    probs, labels = node.inputs
    return (dispatch.execute(_SP_BWD, (g, probs, labels), {"eps": node.attrs["eps"]}), None)


def _sp_bwd_grad(node: Any, u: Tensor) -> tuple:
    """Gradient of the backward kernel. Where the clip is inactive its output is
    `g * (1 / s - onehot / p_label)` (s = the row sum), so with `U = sum(u)` per row:
    d g = U / s - u_label / p_label and d p = -g U / s**2 + onehot * g u_label / p_label**2."""
    g, probs, labels = node.inputs
    eps = node.attrs["eps"]
    idx = tf.expand_dims(labels, -1)
    s = tf.reduce_sum(probs, axis=-1, keepdims=True)
    p_label = take_along_axis(probs, idx, axis=-1)
    u_label = take_along_axis(u, idx, axis=-1)
    u_sum = tf.reduce_sum(u, axis=-1, keepdims=True)
    q = p_label / s
    active = tf.logical_and(q >= eps, q <= 1.0 - eps)
    zero = tf.zeros_like(q)
    dg = tf.squeeze(tf.where(active, u_sum / s - u_label / p_label, zero), -1)
    g1 = tf.expand_dims(g, -1)
    onehot = tf.one_hot(labels, shape_of(probs)[-1], dtype=npdt(probs))
    dp = (onehot * tf.where(active, g1 * u_label / tf.square(p_label), zero)
          - tf.where(active, g1 * u_sum / tf.square(s), zero))
    return (dg, dp, None)


def _sp_infer(p: Any, z: Any, eps: float) -> Any:
    return dispatch.Spec(p.shape[:-1], p.dtype)


_SP = dispatch.register_op("keras_sparse_categorical_crossentropy_probs", _sp_fwd, _sp_infer,
                           _sp_grad)
_SP_BWD = dispatch.register_op(
    "keras_sparse_categorical_crossentropy_probs_grad", _sp_bwd_fwd,
    lambda g, p, z, eps: dispatch.Spec(p.shape, p.dtype), _sp_bwd_grad)


def _sparse_prob_xent(labels: Tensor, probs: Tensor) -> Tensor:
    """``-log(clip(p[label] / sum(p), eps, 1 - eps))`` as one fused op (Keras's formula)."""
    return dispatch.execute(_SP, (probs, labels), {"eps": epsilon()})


# --- CTC -------------------------------------------------------------------------------------


def _lse(*xs: Any) -> Any:
    m = xs[0]
    for x in xs[1:]:
        m = np.maximum(m, x)
    safe = np.where(np.isfinite(m), m, 0.0)
    tot = sum(np.exp(x - safe) for x in xs)
    with np.errstate(divide="ignore"):
        return np.log(tot) + safe


def _ctc_fwd(xp: Any, logits: Any, labels: Any, label_len: Any, logit_len: Any,
             blank: int) -> tuple:
    """CTC negative log-likelihood per sample and its gradient w.r.t. the logits (NumPy, in
    log space, float64; alpha/beta recursions over time, vectorised over batch and states)."""
    dt = logits.dtype
    z = np.asarray(logits, np.float64)
    lab = np.asarray(labels).astype(np.int64)
    lab_len = np.asarray(label_len).astype(np.int64)
    t_len = np.asarray(logit_len).astype(np.int64)
    b, t_max, _ = z.shape
    zmax = z.max(-1, keepdims=True)
    logp = z - zmax - np.log(np.exp(z - zmax).sum(-1, keepdims=True))
    n_lab = lab.shape[1]
    s_max = 2 * n_lab + 1
    ext = np.full((b, s_max), blank, np.int64)
    ext[:, 1::2] = lab
    s_idx = np.arange(s_max)
    valid_s = s_idx[None, :] < (2 * lab_len + 1)[:, None]
    skip = np.zeros((b, s_max), bool)  # s may come from s - 2
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    rows = np.arange(b)[:, None]
    emit = np.take_along_axis(logp, np.broadcast_to(ext[:, None, :], (b, t_max, s_max)),
                              axis=2)  # log-probability of each extended-label state
    neg = -np.inf
    alpha = np.full((b, t_max, s_max), neg)
    a0 = np.full((b, s_max), neg)
    a0[:, 0] = emit[:, 0, 0]
    a0[:, 1] = np.where(lab_len > 0, emit[:, 0, 1], neg)
    alpha[:, 0] = np.where(valid_s, a0, neg)
    for t in range(1, t_max):
        prev = alpha[:, t - 1]
        p1 = np.concatenate([np.full((b, 1), neg), prev[:, :-1]], axis=1)
        p2 = np.concatenate([np.full((b, 2), neg), prev[:, :-2]], axis=1)
        p2 = np.where(skip, p2, neg)
        alpha[:, t] = np.where(valid_s, _lse(prev, p1, p2) + emit[:, t], neg)
    last = np.clip(t_len - 1, 0, t_max - 1)
    s_end = 2 * lab_len
    a_last = alpha[np.arange(b), last]
    end1 = a_last[np.arange(b), s_end]
    end2 = np.where(lab_len > 0, a_last[np.arange(b), np.maximum(s_end - 1, 0)], neg)
    log_z = _lse(end1, end2)
    beta = np.full((b, t_max, s_max), neg)
    init = np.full((b, s_max), neg)
    init[np.arange(b), s_end] = emit[np.arange(b), last, s_end]
    init[np.arange(b), np.maximum(s_end - 1, 0)] = np.where(
        lab_len > 0, emit[np.arange(b), last, np.maximum(s_end - 1, 0)],
        init[np.arange(b), np.maximum(s_end - 1, 0)])
    skip_next = np.zeros((b, s_max), bool)  # s may go to s + 2
    skip_next[:, :-2] = skip[:, 2:]
    for t in range(t_max - 1, -1, -1):
        if t == t_max - 1:
            rec = np.full((b, s_max), neg)
        else:
            nxt = beta[:, t + 1]
            n1 = np.concatenate([nxt[:, 1:], np.full((b, 1), neg)], axis=1)
            n2 = np.concatenate([nxt[:, 2:], np.full((b, 2), neg)], axis=1)
            n2 = np.where(skip_next, n2, neg)
            rec = _lse(nxt, n1, n2) + emit[:, t]
        here = np.where((t == last)[:, None], init, np.where((t < last)[:, None], rec, neg))
        beta[:, t] = np.where(valid_s, here, neg)
    finite = np.isfinite(log_z)
    occ = np.exp(alpha + beta - emit - np.where(finite, log_z, 0.0)[:, None, None])
    occ = np.where(np.isfinite(occ), occ, 0.0)
    post = np.zeros_like(logp)
    t_rows = np.arange(t_max)[None, :]
    for s_ in range(s_max):
        post[rows, t_rows, ext[:, s_][:, None]] += occ[:, :, s_]
    grad = np.exp(logp) - post
    grad[~(np.arange(t_max)[None, :] < t_len[:, None])] = 0.0
    grad[~finite] = 0.0
    loss = np.where(finite, -log_z, np.inf)
    return xp.asarray(loss.astype(dt)), xp.asarray(grad.astype(dt))


def _ctc_grad(node: Any, g: Any, _g2: Any) -> tuple:
    grad = node.outputs[1]
    return (tf.reshape(g, list(shape_of(g)) + [1, 1]) * grad, None, None, None)


_CTC = dispatch.register_op(
    "keras_ctc_loss", _ctc_fwd,
    lambda z, lab, ll, tl, blank: (dispatch.Spec(z.shape[:1], z.dtype),
                                   dispatch.Spec(z.shape, z.dtype)),
    _ctc_grad, num_outputs=2)


def ctc(y_true: Any, y_pred: Any) -> Tensor:
    """Connectionist Temporal Classification loss per sample.

    `y_true` is ``(batch, max_label_length)`` integer labels padded with 0 (class 0 is also
    the CTC blank); `y_pred` is ``(batch, time, classes)`` scores that are log-softmaxed over
    the classes (as Keras's TensorFlow backend does); every sequence uses all time steps.

    >>> import numpy as np
    >>> z = np.zeros((1, 3, 3), "float32")  # uniform over {blank, 1, 2}
    >>> round(float(ctc(np.array([[1]]), z)[0]), 4)  # -log(6 alignments * (1/3)**3)
    1.5041
    """
    y_pred = as_float_tensor(y_pred)
    y = to_tensor(y_true)
    if len(shape_of(y)) != 2:
        raise fail("ctc", "y_true of shape (batch_size, max_length)",
                   f"shape {list(shape_of(y))}")
    if len(shape_of(y_pred)) != 3:
        raise fail("ctc", "y_pred of shape (batch_size, time_steps, num_classes)",
                   f"shape {list(shape_of(y_pred))}")
    if npdt(y).kind not in "iu":
        y = tf.cast(y, "int64")
    lab_len = tf.reduce_sum(tf.cast(tf.not_equal(y, tf.cast(tf.constant(0), npdt(y))),
                                    "int64"), axis=-1)
    b, t_steps = shape_of(y_pred)[0], shape_of(y_pred)[1]
    t_len = tf.fill([b], t_steps) if b is not None and t_steps is not None else lab_len
    if not y._symbolic:
        v = y._value
        n = shape_of(y_pred)[-1]
        if v.size and (int(v.min()) < 0 or int(v.max()) >= n):
            raise fail("ctc", f"labels in [0, {n})", f"labels in [{v.min()}, {v.max()}]")
    return dispatch.execute(_CTC, (y_pred, y, lab_len, tf.cast(t_len, "int64")),
                            {"blank": 0})[0]


# --- Loss classes ---------------------------------------------------------------------------


class LossFunctionWrapper(Loss):
    """A `Loss` calling ``fn(y_true, y_pred, **kwargs)``.

    >>> w = LossFunctionWrapper(mean_absolute_error, name="l1")
    >>> float(w([[1.0]], [[3.0]]))
    2.0
    """

    def __init__(self, fn: Any, reduction: Any = "sum_over_batch_size",
                 name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(self._fn_kwargs)
        if type(self) is LossFunctionWrapper:
            config["fn"] = getattr(self.fn, "__name__", None)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        config = dict(config)
        if cls is LossFunctionWrapper:
            fn = config.pop("fn", None)
            if isinstance(fn, str):
                from ndflow.keras.losses import get

                fn = get(fn)
            return cls(fn, **config)
        return cls(**config)


def _wrapper(fn: Any, default_name: str, params: tuple = (), after_name: tuple = ()) -> Any:
    """The constructor of a `LossFunctionWrapper` subclass in Keras's argument order: the
    loss's own `params` (``(name, default)`` pairs), `reduction`, `name`, the `after_name`
    params, then `dtype`."""
    order = [p for p, _ in params] + ["reduction", "name"] + [p for p, _ in after_name] + [
        "dtype"]
    defaults = dict(params)
    defaults.update(dict(after_name))
    defaults.update({"reduction": "sum_over_batch_size", "name": default_name, "dtype": None})

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        cls = type(self).__name__
        if len(args) > len(order):
            raise TypeError(f"{cls}: expected at most {len(order)} positional arguments "
                            f"({order}), got {len(args)}")
        values = dict(defaults)
        for k, v in zip(order, args):
            values[k] = v
        for k, v in kwargs.items():
            if k not in defaults:
                raise TypeError(f"{cls}: unexpected argument {k!r}; expected one of {order}")
            if order.index(k) < len(args):
                raise TypeError(f"{cls}: got multiple values for argument {k!r}")
            values[k] = v
        reduction, name, dtype = values.pop("reduction"), values.pop("name"), \
            values.pop("dtype")
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name, dtype=dtype,
                                     **values)

    __init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(k, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=defaults[k])
           for k in order])
    return __init__


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors.

    >>> float(MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]]))
    0.5
    """

    __init__ = _wrapper(mean_squared_error, "mean_squared_error")


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors."""

    __init__ = _wrapper(mean_absolute_error, "mean_absolute_error")


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean absolute percentage error."""

    __init__ = _wrapper(mean_absolute_percentage_error, "mean_absolute_percentage_error")


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean squared logarithmic error."""

    __init__ = _wrapper(mean_squared_logarithmic_error, "mean_squared_logarithmic_error")


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along `axis`."""

    __init__ = _wrapper(cosine_similarity, "cosine_similarity", (("axis", -1),))


class Huber(LossFunctionWrapper):
    """Huber loss with threshold `delta`."""

    __init__ = _wrapper(huber, "huber_loss", (("delta", 1.0),))


class LogCosh(LossFunctionWrapper):
    """Logarithm of the hyperbolic cosine of the error."""

    __init__ = _wrapper(log_cosh, "log_cosh")


class Hinge(LossFunctionWrapper):
    """Hinge loss (labels in {-1, 1}; {0, 1} labels are converted)."""

    __init__ = _wrapper(hinge, "hinge")


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss."""

    __init__ = _wrapper(squared_hinge, "squared_hinge")


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss."""

    __init__ = _wrapper(categorical_hinge, "categorical_hinge")


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence."""

    __init__ = _wrapper(kl_divergence, "kl_divergence")


class Poisson(LossFunctionWrapper):
    """Poisson loss."""

    __init__ = _wrapper(poisson, "poisson")


class Tversky(LossFunctionWrapper):
    """Tversky loss (Dice loss when ``alpha = beta = 0.5``)."""

    __init__ = _wrapper(tversky, "tversky", (("alpha", 0.5), ("beta", 0.5)),
                        (("axis", None),))


class Dice(LossFunctionWrapper):
    """Dice loss."""

    __init__ = _wrapper(dice, "dice", (), (("axis", None),))


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy (``from_logits``, ``label_smoothing``, ``axis``).

    >>> round(float(BinaryCrossentropy(from_logits=True)([[1.0]], [[0.0]])), 4)
    0.6931
    """

    __init__ = _wrapper(binary_crossentropy, "binary_crossentropy",
                        (("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)))

    @property
    def from_logits(self) -> bool:
        return self._fn_kwargs["from_logits"]


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Focal binary cross-entropy."""

    __init__ = _wrapper(binary_focal_crossentropy, "binary_focal_crossentropy",
                        (("apply_class_balancing", False), ("alpha", 0.25), ("gamma", 2.0),
                         ("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)))


class CategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy for one-hot (or probability) labels.

    >>> round(float(CategoricalCrossentropy()([[0.0, 1.0]], [[0.2, 0.8]])), 4)
    0.2231
    """

    __init__ = _wrapper(categorical_crossentropy, "categorical_crossentropy",
                        (("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)))

    @property
    def from_logits(self) -> bool:
        return self._fn_kwargs["from_logits"]


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Focal categorical cross-entropy."""

    __init__ = _wrapper(categorical_focal_crossentropy, "categorical_focal_crossentropy",
                        (("alpha", 0.25), ("gamma", 2.0), ("from_logits", False),
                         ("label_smoothing", 0.0), ("axis", -1)))


class CTC(LossFunctionWrapper):
    """Connectionist Temporal Classification loss (see `ctc`)."""

    __init__ = _wrapper(ctc, "ctc")


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy for integer class ids (``ignore_class`` masks a label).

    >>> round(float(SparseCategoricalCrossentropy()([1], [[0.2, 0.8]])), 4)
    0.2231
    """

    __init__ = _wrapper(sparse_categorical_crossentropy, "sparse_categorical_crossentropy",
                        (("from_logits", False), ("ignore_class", None)))

    @property
    def from_logits(self) -> bool:
        return self._fn_kwargs["from_logits"]

    def _convert_true(self, y_true: Any, y_pred: Tensor) -> Tensor:
        return to_tensor(y_true)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        _ignore_mask.clear()
        res = super().call(y_true, y_pred)
        if _ignore_mask:
            self._last_mask = _ignore_mask.pop()
        return res
