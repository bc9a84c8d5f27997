"""IoU metrics (`IoU`, `MeanIoU`, `BinaryIoU`, `OneHotIoU`, `OneHotMeanIoU`): intersection over
union of classes, from a running confusion matrix.

>>> from ndflow.keras.metrics import MeanIoU
>>> m = MeanIoU(num_classes=2); m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
>>> round(float(m.result()), 4)
0.3333
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.keras.metrics.metric import Metric, arr, epsilon


class IoU(Metric):
    """Mean over `target_class_ids` of ``TP / (TP + FP + FN)``; classes never seen (no
    predictions and no labels) are left out of the mean.

    Args:
        num_classes: number of classes.
        target_class_ids: the classes to average over.
        ignore_class: a label value to ignore (e.g. a void class).
        sparse_y_true / sparse_y_pred: False means that input holds per-class scores along
            `axis` (its arg-max is used).
    """

    def __init__(self, num_classes: int, target_class_ids: Any, name: str | None = None,
                 dtype: Any = None, ignore_class: int | None = None,
                 sparse_y_true: bool = True, sparse_y_pred: bool = True,
                 axis: int = -1) -> None:
        super().__init__(name=name, dtype=dtype)
        cls = type(self).__name__
        if int(num_classes) < 1:
            raise ValueError(f"{cls}: expected num_classes >= 1, got {num_classes!r}")
        self.num_classes = int(num_classes)
        ids = [int(i) for i in target_class_ids]
        if not ids or max(ids) >= self.num_classes or min(ids) < 0:
            raise ValueError(f"{cls}: expected target_class_ids in [0, {self.num_classes}), "
                             f"got {list(target_class_ids)!r}")
        self.target_class_ids = ids
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable((self.num_classes, self.num_classes),
                                          name="total_confusion_matrix")

    def _ids(self, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        yt = arr(y_true)
        yp = arr(y_pred)
        if not self.sparse_y_true:
            yt = yt.argmax(axis=self.axis)
        if not self.sparse_y_pred:
            yp = yp.argmax(axis=self.axis)
        return yt, yp

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        yt, yp = self._ids(y_true, y_pred)
        yt = yt.reshape(-1)
        yp = yp.reshape(-1)
        name = type(self).__name__
        if yt.shape != yp.shape:
            from ndflow.core.dispatch import fail

            raise fail(name, f"as many labels as predictions ({yp.size})", f"{yt.size} labels")
        w = np.ones(yt.shape, np.float64) if sample_weight is None else np.broadcast_to(
            arr(sample_weight).astype(np.float64).reshape(-1), yt.shape)
        if self.ignore_class is not None:
            valid = yt != self.ignore_class
            yt, yp, w = yt[valid], yp[valid], w[valid]
        yt = yt.astype(np.int64)
        yp = yp.astype(np.int64)
        n = self.num_classes
        if yt.size and (yt.min() < 0 or yt.max() >= n or yp.min() < 0 or yp.max() >= n):
            from ndflow.core.dispatch import fail

            raise fail(name, f"class ids in [0, {n})",
                       f"ids in [{min(yt.min(), yp.min())}, {max(yt.max(), yp.max())}]")
        cm = np.bincount(yt * n + yp, weights=w, minlength=n * n).reshape(n, n)
        self.total_cm._value += cm.astype(self.total_cm._value.dtype)

    def result(self) -> Tensor:
        cm = self.total_cm._value.astype(np.float64)
        tp = np.diag(cm)
        denom = cm.sum(axis=0) + cm.sum(axis=1) - tp
        ids = self.target_class_ids
        tp, denom = tp[ids], denom[ids]
        valid = (denom > 1e-9).sum()
        iou = tp / (denom + epsilon())
        return Tensor(np.asarray(iou.sum() / (valid + epsilon()), self._dtype))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"num_classes": self.num_classes,
                       "target_class_ids": list(self.target_class_ids),
                       "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                       "sparse_y_pred": self.sparse_y_pred, "axis": self.axis})
        return config


class MeanIoU(IoU):
    """IoU averaged over all `num_classes` classes."""

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1) -> None:
        super().__init__(num_classes, list(range(int(num_classes))), name=name or "mean_io_u",
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["target_class_ids"]
        return config


class BinaryIoU(IoU):
    """IoU of binary labels against ``y_pred > threshold`` (classes 0 and 1)."""

    def __init__(self, target_class_ids: Any = (0, 1), threshold: float = 0.5,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(2, target_class_ids, name=name or "binary_io_u", dtype=dtype)
        self.threshold = float(threshold)

    def _ids(self, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        return (arr(y_true) != 0).astype(np.int64), (arr(y_pred) > self.threshold).astype(
            np.int64)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self._dtype,
                "target_class_ids": list(self.target_class_ids), "threshold": self.threshold}


class OneHotIoU(IoU):
    """IoU for one-hot labels and per-class scores (both arg-maxed)."""

    def __init__(self, num_classes: int, target_class_ids: Any, name: str | None = None,
                 dtype: Any = None, ignore_class: int | None = None,
                 sparse_y_pred: bool = False, axis: int = -1) -> None:
        super().__init__(num_classes, target_class_ids, name=name or "one_hot_io_u",
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """MeanIoU for one-hot labels and per-class scores (both arg-maxed)."""

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_pred: bool = False,
                 axis: int = -1) -> None:
        super().__init__(num_classes, name=name or "one_hot_mean_io_u", dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["sparse_y_true"]
        return config
