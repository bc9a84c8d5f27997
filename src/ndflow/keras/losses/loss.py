"""`Loss`: the base of Keras losses, with reductions, sample weights and masks.

>>> import ndflow as tf
>>> from ndflow.keras.losses import Loss
>>> class L1(Loss):
...     def call(self, y_true, y_pred):
...         return tf.reduce_mean(tf.abs(y_true - y_pred), axis=-1)
>>> float(L1()([[0.0, 2.0]], [[1.0, 1.0]]))
1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

import ndflow as tf
from ndflow.core.tensor import Tensor
from ndflow.ops._util import npdt, shape_of

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def floatx() -> str:
    from ndflow.keras import config

    return config.floatx()


def epsilon() -> float:
    from ndflow.keras import config

    return config.epsilon()


def keras_mask(x: Any) -> Any:
    """The Keras mask attached to `x` (by a masking layer), or None."""
    return getattr(x, "_keras_mask", None)


def standardize_reduction(reduction: Any, owner: str = "Loss") -> Any:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{owner}: expected reduction in {list(REDUCTIONS)}, got "
                         f"{reduction!r}")
    return reduction


def as_float_tensor(x: Any, dtype: Any = None) -> Tensor:
    """`x` as a floating tensor (`dtype`, or float32 for non-float input)."""
    x = x if isinstance(x, Tensor) else tf.convert_to_tensor(
        x if not isinstance(x, np.ndarray) or x.dtype.kind == "f" else x,
        dtype_hint=dtype or floatx())
    target = np.dtype(dtype) if dtype is not None else None
    if target is not None and npdt(x) != target:
        return tf.cast(x, target)
    if npdt(x).kind != "f":
        return tf.cast(x, floatx())
    return x


def to_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else tf.convert_to_tensor(x)


def squeeze_or_expand_to_same_rank(x1: Tensor, x2: Tensor, expand_rank_1: bool = True
                                   ) -> tuple[Tensor, Tensor]:
    """Make ranks equal when they differ by one trailing size-1 axis (Keras's rule)."""
    r1, r2 = len(shape_of(x1)), len(shape_of(x2))
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and shape_of(x1)[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = tf.expand_dims(x2, -1)
        else:
            x1 = tf.squeeze(x1, -1)
    if r2 == r1 + 1 and shape_of(x2)[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = tf.expand_dims(x1, -1)
        else:
            x2 = tf.squeeze(x2, -1)
    return x1, x2


def _match_weight_rank(values: Tensor, weight: Tensor) -> Tensor:
    """Sample weights of lower rank weigh whole samples: add trailing axes."""
    rv, rw = len(shape_of(values)), len(shape_of(weight))
    if rw < rv and rw > 0:
        weight = tf.reshape(weight, list(shape_of(weight)) + [1] * (rv - rw))
    return weight


def apply_mask(sample_weight: Any, mask: Any, dtype: Any, reduction: Any) -> Any:
    """Fold a boolean mask into the sample weights (masked entries get weight 0; with a mean
    reduction the valid ones are scaled so the mean is over valid entries only)."""
    if mask is None:
        return sample_weight
    mask = tf.cast(to_tensor(mask), dtype)
    if reduction in ("mean", "sum_over_batch_size"):
        total = _num_elements(mask)
        valid = tf.reduce_sum(mask)
        mask = mask * (total / (valid + epsilon()))
    if sample_weight is None:
        return mask
    sample_weight = tf.cast(to_tensor(sample_weight), dtype)
    mask, sample_weight = squeeze_or_expand_to_same_rank(mask, sample_weight)
    return sample_weight * mask


def reduce_values(values: Tensor, sample_weight: Any = None,
                  reduction: Any = "sum_over_batch_size") -> Tensor:
    if reduction is None or reduction == "none" or len(shape_of(values)) == 0 or \
            tuple(shape_of(values)) == (0,):
        return values
    loss = tf.reduce_sum(values)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            divisor = tf.cast(tf.reduce_sum(sample_weight), npdt(loss))
            loss = tf.math.divide_no_nan(loss, divisor)
        else:
            n = _num_elements(values)
            if isinstance(n, float):
                loss = loss * (1.0 / n) if n else loss * 0.0
            else:
                loss = tf.math.divide_no_nan(loss, n)
    return loss


def _num_elements(x: Tensor) -> Any:
    """The element count: a Python float when the shape is known, else a tensor."""
    shape = tuple(shape_of(x))
    if None not in shape:
        return float(np.prod(shape))
    return tf.reduce_sum(tf.ones_like(x))  # graph-safe when a dim is unknown


def reduce_weighted_values(values: Tensor, sample_weight: Any = None, mask: Any = None,
                           reduction: Any = "sum_over_batch_size", dtype: Any = None) -> Tensor:
    """Weight `values` by `sample_weight` (and `mask`), then reduce."""
    reduction = standardize_reduction(reduction)
    values = as_float_tensor(values, dtype)
    dt = npdt(values)
    if sample_weight is not None:
        sample_weight = as_float_tensor(sample_weight, dt)
    sample_weight = apply_mask(sample_weight, mask, dt, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        sample_weight = _match_weight_rank(values, sample_weight)
        try:
            values = values * sample_weight
        except ValueError as e:
            raise ValueError(
                f"sample_weight: expected a shape that broadcasts to the per-sample losses "
                f"{list(shape_of(values))}, got {list(shape_of(sample_weight))} ({e})"
            ) from None
    return reduce_values(values, sample_weight, reduction)


class Loss:
    """Base class: subclasses implement `call(y_true, y_pred)` returning per-sample losses;
    `__call__` applies `sample_weight` and the `reduction`.

    Args:
        name: the loss name.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"``, ``"none"`` or None.
        dtype: the dtype of the computation (default ``keras.config.floatx()``).
    """

    def __init__(self, name: str | None = None, reduction: Any = "sum_over_batch_size",
                 dtype: Any = None) -> None:
        self.name = name or _snake(type(self).__name__)
        self.reduction = standardize_reduction(reduction, type(self).__name__)
        self._dtype_arg = dtype
        self.dtype = np.dtype(dtype).name if dtype is not None else floatx()

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        mask = keras_mask(y_pred)
        y_pred = self._convert_pred(y_pred)
        y_true = self._convert_true(y_true, y_pred)
        losses = self.call(y_true, y_pred)
        out_mask = keras_mask(losses)
        extra = getattr(self, "_last_mask", None)
        if extra is not None:
            out_mask = extra
            self._last_mask = None
        if mask is not None and out_mask is not None:
            mask = tf.logical_and(tf.cast(to_tensor(mask), "bool"),
                                  tf.cast(to_tensor(out_mask), "bool"))
        elif out_mask is not None:
            mask = out_mask
        if mask is not None:
            m = to_tensor(mask)
            if tuple(shape_of(m)) != tuple(shape_of(losses)):
                mask = None if len(shape_of(m)) != len(shape_of(losses)) else m
        return reduce_weighted_values(losses, sample_weight=sample_weight, mask=mask,
                                      reduction=self.reduction, dtype=self.dtype)

    def _convert_pred(self, y_pred: Any) -> Tensor:
        return as_float_tensor(y_pred, self.dtype)

    def _convert_true(self, y_true: Any, y_pred: Tensor) -> Tensor:
        return as_float_tensor(y_true, npdt(y_pred))

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        raise TypeError(f"{type(self).__name__}: a Loss subclass must implement "
                        "call(y_true, y_pred)")

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction, "dtype": self._dtype_arg}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or
                                   (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)
