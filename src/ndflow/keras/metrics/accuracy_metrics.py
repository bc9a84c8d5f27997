"""Accuracy metrics: exact match, binary, categorical, sparse categorical and top-k.

>>> from ndflow.keras.metrics import SparseCategoricalAccuracy
>>> m = SparseCategoricalAccuracy()
>>> m.update_state([1, 0], [[0.1, 0.9], [0.2, 0.8]]); float(m.result())
0.5
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.keras.metrics.metric import arr, floatx, squeeze_or_expand
from ndflow.keras.metrics.reduction_metrics import MeanMetricWrapper


def _t(a: Any) -> Tensor:
    return Tensor(np.asarray(a, dtype=floatx()) if isinstance(a, np.ndarray) else
                  a.astype(floatx()))


def _accuracy(y_true: Any, y_pred: Any) -> Any:
    yt, yp = squeeze_or_expand(arr(y_true), arr(y_pred))
    return yt == yp


def accuracy(y_true: Any, y_pred: Any) -> Tensor:
    """1.0 where ``y_true == y_pred`` exactly, else 0.0."""
    return _t(_accuracy(y_true, y_pred))


def _binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> Any:
    yt = arr(y_true)
    yp = arr(y_pred) > threshold
    yt, yp = squeeze_or_expand(yt, yp)
    return (yt == yp).mean(axis=-1) if yt.ndim else (yt == yp)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> Tensor:
    """Per-sample fraction of labels matched by ``y_pred > threshold``."""
    return _t(_binary_accuracy(y_true, y_pred, threshold))


def _check_class_ids(who: str, labels: Any, num_classes: int | None) -> None:
    """Sparse labels must be whole class ids in ``[0, num_classes)``, as the sparse losses
    require (a label 5 for 3 classes is a bug, not a miss)."""
    from ndflow.core.dispatch import fail

    if not labels.size or labels.dtype.kind not in "iuf":
        return
    if labels.dtype.kind == "f" and not bool((labels == np.floor(labels)).all()):
        raise fail(who, "integer class ids as labels", "non-integer float labels",
                   "For one-hot labels use categorical_accuracy.")
    if num_classes is not None:
        lo, hi = labels.min(), labels.max()
        if lo < 0 or hi >= num_classes:
            raise fail(who, f"labels in [0, {num_classes}) for {num_classes} classes",
                       f"a label of {int(lo) if lo < 0 else int(hi)}",
                       "Class ids count from 0; check the number of output units.")


def _sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> Any:
    yt = arr(y_true)
    yp = arr(y_pred)
    org_shape = yt.shape
    reshape = False
    if yt.ndim == yp.ndim and yt.shape[-1:] == (1,):
        yt = yt[..., 0]
        reshape = True
    _check_class_ids("sparse_categorical_accuracy", yt, yp.shape[-1] if yp.ndim else None)
    ids = yp.argmax(axis=-1)
    if yt.dtype.kind == "f":
        matches = yt == ids.astype(yt.dtype)
    else:
        matches = yt == ids
    if reshape:
        matches = matches.reshape(org_shape)
    return matches


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> Tensor:
    """1.0 where the integer label equals ``argmax(y_pred)``."""
    return _t(_sparse_categorical_accuracy(y_true, y_pred))


def _categorical_accuracy(y_true: Any, y_pred: Any) -> Any:
    yt = arr(y_true)
    yp = arr(y_pred)
    if yt.shape != yp.shape:
        from ndflow.core.dispatch import fail

        raise fail("categorical_accuracy", f"one-hot y_true of shape {list(yp.shape)}",
                   f"shape {list(yt.shape)}",
                   "For integer labels use sparse_categorical_accuracy.")
    return yt.argmax(axis=-1) == yp.argmax(axis=-1)


def categorical_accuracy(y_true: Any, y_pred: Any) -> Tensor:
    """1.0 where ``argmax(y_true) == argmax(y_pred)``."""
    return _t(_categorical_accuracy(y_true, y_pred))


def _in_top_k(targets: Any, preds: Any, k: int) -> Any:
    tv = np.take_along_axis(preds, targets.astype(np.intp)[..., None], axis=-1)
    return (preds > tv).sum(axis=-1) < k


def _sparse_top_k(y_true: Any, y_pred: Any, k: int = 5, from_sorted_ids: bool = False) -> Any:
    yt = arr(y_true)
    yp = arr(y_pred)
    if yt.ndim == yp.ndim and yt.shape[-1:] == (1,):
        yt = yt[..., 0]
    if from_sorted_ids:
        return (yp[..., :k] == yt[..., None]).any(axis=-1)
    return _in_top_k(yt, yp, k)


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5,
                                      from_sorted_ids: bool = False) -> Tensor:
    """1.0 where the integer label is among the `k` highest predictions (ties count)."""
    return _t(_sparse_top_k(y_true, y_pred, k, from_sorted_ids))


def _top_k(y_true: Any, y_pred: Any, k: int = 5) -> Any:
    yt = arr(y_true)
    yp = arr(y_pred)
    return _in_top_k(yt.argmax(axis=-1), yp, k)


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> Tensor:
    """1.0 where ``argmax(y_true)`` is among the `k` highest predictions."""
    return _t(_top_k(y_true, y_pred, k))


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly."""

    def __init__(self, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(_accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches binary labels."""

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None,
                 threshold: float = 0.5) -> None:
        super().__init__(_binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` matches one-hot labels."""

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(_categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` matches integer labels."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(_sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is in the top `k` predictions."""

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy",
                 dtype: Any = None) -> None:
        super().__init__(_top_k, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer target is in the top `k` predictions."""

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype: Any = None, from_sorted_ids: bool = False) -> None:
        super().__init__(_sparse_top_k, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
