"""Confusion-matrix metrics: TP/FP/TN/FN counts, Precision, Recall and AUC (ROC and PR).

Counts at many thresholds are computed in one pass: each prediction is bucketed by
`searchsorted` over the sorted thresholds and the weighted bucket histogram is accumulated, so
AUC with 200 thresholds costs about as much as one threshold.

>>> from ndflow.keras.metrics import AUC
>>> m = AUC(num_thresholds=3)
>>> m.update_state([0, 0, 1, 1], [0.0, 0.5, 0.3, 0.9]); round(float(m.result()), 4)
0.75
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.keras.metrics.metric import Metric, arr, epsilon, squeeze_or_expand

NEG_INF = -1e10


def _parse_thresholds(owner: str, thresholds: Any, default: float) -> tuple[list, bool]:
    if thresholds is None:
        return [default], True
    single = isinstance(thresholds, (int, float, np.number))
    ths = [float(thresholds)] if single else [float(t) for t in thresholds]
    if not ths:
        raise ValueError(f"{owner}: expected at least one threshold, got {thresholds!r}")
    for t in ths:
        if not 0 <= t <= 1:
            raise ValueError(f"{owner}: expected threshold values in [0, 1], got {thresholds!r}")
    return ths, single or len(ths) == 1


def _filter_top_k(x: Any, k: int) -> Any:
    if k >= x.shape[-1]:
        return x
    idx = np.argpartition(-x, k - 1, axis=-1)[..., :k]
    out = np.full_like(x, NEG_INF)
    np.put_along_axis(out, idx, np.take_along_axis(x, idx, axis=-1), axis=-1)
    return out


def _prepare(owner: str, y_true: Any, y_pred: Any, sample_weight: Any, top_k: Any,
             class_id: Any) -> tuple[Any, Any, Any]:
    yt = arr(y_true)
    yp = arr(y_pred).astype(np.float64)
    yt, yp = squeeze_or_expand(yt, yp)
    if yt.shape != yp.shape:
        try:
            yt = np.broadcast_to(yt, yp.shape)
        except ValueError:
            from ndflow.core.dispatch import fail

            raise fail(owner, f"y_true of the same shape as y_pred {list(yp.shape)}",
                       f"shape {list(arr(y_true).shape)}") from None
    if top_k is not None:
        yp = _filter_top_k(yp, int(top_k))
    w = None
    if sample_weight is not None:
        w = arr(sample_weight).astype(np.float64)
        _, w = squeeze_or_expand(yp, w)
        if w.ndim < yp.ndim and w.ndim > 0:
            w = w.reshape(w.shape + (1,) * (yp.ndim - w.ndim))
        w = np.broadcast_to(w, yp.shape)
    if class_id is not None:
        yt = yt[..., class_id]
        yp = yp[..., class_id]
        if w is not None:
            w = w[..., class_id]
    return yt != 0, yp, w


def _counts(labels: Any, preds: Any, weights: Any, thresholds: Any) -> tuple:
    """(tp, fp, tn, fn) at each of the sorted `thresholds`, with ``pred > threshold``."""
    n = len(thresholds)
    labels = labels.reshape(-1)
    preds = preds.reshape(-1)
    w = np.ones(preds.shape, np.float64) if weights is None else weights.reshape(-1)
    idx = np.searchsorted(thresholds, preds, side="left")  # thresholds strictly below pred
    pos_hist = np.bincount(idx, weights=w * labels, minlength=n + 1)
    neg_hist = np.bincount(idx, weights=w * ~labels, minlength=n + 1)
    fn = np.cumsum(pos_hist)[:n]
    tn = np.cumsum(neg_hist)[:n]
    tp = pos_hist.sum() - fn
    fp = neg_hist.sum() - tn
    return tp, fp, tn, fn


class _ConfusionCounts(Metric):
    """Shared machinery for threshold-based metrics."""

    _fields: tuple = ()

    def __init__(self, thresholds: Any = None, name: str | None = None, dtype: Any = None,
                 top_k: int | None = None, class_id: int | None = None,
                 default: float = 0.5) -> None:
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        owner = type(self).__name__
        self.thresholds, self._single = _parse_thresholds(
            owner, thresholds, default if top_k is None else NEG_INF)
        ths = np.asarray(self.thresholds, np.float64)
        self._order = np.argsort(ths, kind="stable")
        self._sorted = ths[self._order]
        for f in self._fields:
            setattr(self, f, self.add_variable((len(self.thresholds),), name=f))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        labels, preds, w = _prepare(type(self).__name__, y_true, y_pred, sample_weight,
                                    self.top_k, self.class_id)
        res = dict(zip(("true_positives", "false_positives", "true_negatives",
                        "false_negatives"), _counts(labels, preds, w, self._sorted)))
        for f in self._fields:
            buf = getattr(self, f)._value
            buf[self._order] += res[f].astype(buf.dtype)

    def _out(self, value: Any) -> Tensor:
        value = np.asarray(value, dtype=self._dtype)
        return Tensor(value[0].copy() if self._single else value)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"thresholds": self.init_thresholds})
        return config


class _SingleCount(_ConfusionCounts):
    def __init__(self, thresholds: Any = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def result(self) -> Tensor:
        return self._out(self.accumulator._value)


class TruePositives(_SingleCount):
    """Weighted count of positives predicted positive (``y_pred > threshold``)."""

    _fields = ("true_positives",)

    def __init__(self, thresholds: Any = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(thresholds, name, dtype)
        self.accumulator = self.true_positives


class FalsePositives(_SingleCount):
    """Weighted count of negatives predicted positive."""

    _fields = ("false_positives",)

    def __init__(self, thresholds: Any = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(thresholds, name, dtype)
        self.accumulator = self.false_positives


class TrueNegatives(_SingleCount):
    """Weighted count of negatives predicted negative."""

    _fields = ("true_negatives",)

    def __init__(self, thresholds: Any = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(thresholds, name, dtype)
        self.accumulator = self.true_negatives


class FalseNegatives(_SingleCount):
    """Weighted count of positives predicted negative."""

    _fields = ("false_negatives",)

    def __init__(self, thresholds: Any = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(thresholds, name, dtype)
        self.accumulator = self.false_negatives


def _div(a: Any, b: Any) -> Any:
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


class Precision(_ConfusionCounts):
    """``TP / (TP + FP)`` at the threshold(s); `top_k` and `class_id` restrict what counts.

    >>> m = Precision(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); round(float(m.result()), 4)
    0.6667
    """

    _fields = ("true_positives", "false_positives")

    def __init__(self, thresholds: Any = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(thresholds, name, dtype, top_k, class_id)

    def result(self) -> Tensor:
        tp, fp = self.true_positives._value, self.false_positives._value
        return self._out(_div(tp, tp + fp))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"top_k": self.top_k, "class_id": self.class_id})
        return config


class Recall(_ConfusionCounts):
    """``TP / (TP + FN)`` at the threshold(s); `top_k` and `class_id` restrict what counts.

    >>> m = Recall(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); round(float(m.result()), 4)
    0.6667
    """

    _fields = ("true_positives", "false_negatives")

    def __init__(self, thresholds: Any = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(thresholds, name, dtype, top_k, class_id)

    def result(self) -> Tensor:
        tp, fn = self.true_positives._value, self.false_negatives._value
        return self._out(_div(tp, tp + fn))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"top_k": self.top_k, "class_id": self.class_id})
        return config


class AUC(Metric):
    """Area under the ROC or PR curve, from confusion counts at `num_thresholds` thresholds.

    Args:
        num_thresholds: number of thresholds (evenly spaced in [0, 1], plus the ends).
        curve: ``"ROC"`` or ``"PR"``.
        summation_method: ``"interpolation"`` (PR uses Davis & Goadrich's interpolation),
            ``"minoring"`` or ``"majoring"``.
        thresholds: explicit thresholds in [0, 1] (overrides `num_thresholds`).
        multi_label: keep separate curves per label (last axis) and average them.
        num_labels: number of labels when `multi_label` (inferred on first update if None).
        label_weights: per-label weights (averaging weights when `multi_label`).
        from_logits: apply a sigmoid to predictions first.
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str | None = None,
                 dtype: Any = None, thresholds: Any = None, multi_label: bool = False,
                 num_labels: int | None = None, label_weights: Any = None,
                 from_logits: bool = False) -> None:
        super().__init__(name=name or "auc", dtype=dtype)
        curve_u = str(curve).upper()
        if curve_u not in ("ROC", "PR"):
            raise ValueError(f"AUC: expected curve 'ROC' or 'PR', got {curve!r}")
        method = str(summation_method).lower()
        if method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC: expected summation_method 'interpolation', 'minoring' or "
                             f"'majoring', got {summation_method!r}")
        self.curve = curve_u
        self.summation_method = method
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights,
                                                                            np.float64)
        if self.label_weights is not None and (self.label_weights < 0).any():
            raise ValueError(f"AUC: expected non-negative label_weights, got {label_weights!r}")
        self._from_logits = bool(from_logits)
        if thresholds is not None:
            ths, _ = _parse_thresholds("AUC", thresholds, 0.5)
            self._init_from_thresholds = True
            inner = sorted(ths)
            self.num_thresholds = len(inner) + 2
        else:
            if int(num_thresholds) <= 1:
                raise ValueError(f"AUC: expected num_thresholds > 1, got {num_thresholds!r}")
            self._init_from_thresholds = False
            self.num_thresholds = int(num_thresholds)
            n = self.num_thresholds
            inner = [(i + 1) * 1.0 / (n - 1) for i in range(n - 2)]
        eps = epsilon()
        self._thresholds = np.asarray([0.0 - eps] + list(inner) + [1.0 + eps], np.float64)
        self._built_vars = False
        if not self.multi_label or num_labels is not None:
            self._build(num_labels)

    @property
    def thresholds(self) -> list:
        return self._thresholds.tolist()

    def _build(self, num_labels: int | None) -> None:
        shape = (self.num_thresholds,) if not self.multi_label else (self.num_thresholds,
                                                                    int(num_labels))
        self.num_labels = num_labels
        self.true_positives = self.add_variable(shape, name="true_positives")
        self.false_positives = self.add_variable(shape, name="false_positives")
        self.true_negatives = self.add_variable(shape, name="true_negatives")
        self.false_negatives = self.add_variable(shape, name="false_negatives")
        self._built_vars = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        yp = arr(y_pred).astype(np.float64)
        if self._from_logits:
            yp = 1.0 / (1.0 + np.exp(-yp))
        labels, preds, w = _prepare("AUC", y_true, yp, sample_weight, None, None)
        if not self.multi_label and self.label_weights is not None:
            lw = np.broadcast_to(self.label_weights, preds.shape)
            w = lw if w is None else w * lw
        if not self._built_vars:
            self._build(preds.shape[-1])
        th = self._thresholds
        if self.multi_label:
            n_lab = self.true_positives._value.shape[1]
            if preds.shape[-1] != n_lab:
                from ndflow.core.dispatch import fail

                raise fail("AUC", f"predictions with {n_lab} labels on the last axis",
                           f"shape {list(preds.shape)}")
            L = labels.reshape(-1, n_lab)
            P = preds.reshape(-1, n_lab)
            W = None if w is None else w.reshape(-1, n_lab)
            for j in range(n_lab):
                c = _counts(L[:, j], P[:, j], None if W is None else W[:, j], th)
                for v, val in zip((self.true_positives, self.false_positives,
                                   self.true_negatives, self.false_negatives), c):
                    v._value[:, j] += val.astype(v._value.dtype)
        else:
            c = _counts(labels, preds, w, th)
            for v, val in zip((self.true_positives, self.false_positives,
                               self.true_negatives, self.false_negatives), c):
                v._value += val.astype(v._value.dtype)

    def _reduce_labels(self, by_label: Any) -> float:
        if not self.multi_label:
            return float(by_label)
        if self.label_weights is None:
            return float(np.mean(by_label))
        lw = self.label_weights
        s = lw.sum()
        return float((by_label * lw).sum() / s) if s else 0.0

    def _interpolate_pr_auc(self) -> float:
        tp = self.true_positives._value.astype(np.float64)
        fp = self.false_positives._value.astype(np.float64)
        fn = self.false_negatives._value.astype(np.float64)
        n = self.num_thresholds
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        prec_slope = _div(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        both = (p[: n - 1] > 0) & (p[1:] > 0)
        ratio = np.where(both, _div(p[: n - 1], np.maximum(p[1:], 0)), 1.0)
        safe = np.where(ratio > 0, ratio, 1.0)
        inc = _div(prec_slope * (dtp + intercept * np.log(safe)), np.maximum(tp[1:] + fn[1:], 0))
        return self._reduce_labels(inc.sum(axis=0))

    def result(self) -> Tensor:
        if self.curve == "PR" and self.summation_method == "interpolation":
            return Tensor(np.asarray(self._interpolate_pr_auc(), self._dtype))
        tp = self.true_positives._value.astype(np.float64)
        fp = self.false_positives._value.astype(np.float64)
        tn = self.true_negatives._value.astype(np.float64)
        fn = self.false_negatives._value.astype(np.float64)
        recall = _div(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _div(fp, fp + tn), recall
        else:
            x, y = recall, _div(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        by_label = ((x[:-1] - x[1:]) * heights).sum(axis=0)
        return Tensor(np.asarray(self._reduce_labels(by_label), self._dtype))

    def reset_state(self) -> None:
        if self._built_vars:
            super().reset_state()

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "num_thresholds": self.num_thresholds, "curve": self.curve,
            "summation_method": self.summation_method, "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else
            self.label_weights.tolist(),
            "from_logits": self._from_logits,
        })
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


class _AtConstraint(Metric):
    """Shared machinery: confusion counts at evenly spaced thresholds, one value picked under a
    constraint on another (e.g. the best recall among thresholds with precision >= target)."""

    _arg = "value"

    def __init__(self, value: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        cls = type(self).__name__
        if not 0 <= float(value) <= 1:
            raise ValueError(f"{cls}: expected {self._arg} in [0, 1], got {value!r}")
        if int(num_thresholds) <= 0:
            raise ValueError(f"{cls}: expected num_thresholds > 0, got {num_thresholds!r}")
        self.value = float(value)
        self.num_thresholds = int(num_thresholds)
        self.class_id = class_id
        n = self.num_thresholds
        if n == 1:
            ths = [0.5]
        else:
            ths = [0.0] + [(i + 1) * 1.0 / (n - 1) for i in range(n - 2)] + [1.0]
        self.thresholds = ths
        self._sorted = np.asarray(ths, np.float64)
        self.true_positives = self.add_variable((n,), name="true_positives")
        self.false_positives = self.add_variable((n,), name="false_positives")
        self.true_negatives = self.add_variable((n,), name="true_negatives")
        self.false_negatives = self.add_variable((n,), name="false_negatives")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        labels, preds, w = _prepare(type(self).__name__, y_true, y_pred, sample_weight, None,
                                    self.class_id)
        for v, val in zip((self.true_positives, self.false_positives, self.true_negatives,
                           self.false_negatives), _counts(labels, preds, w, self._sorted)):
            v._value += val.astype(v._value.dtype)

    def _counts(self) -> tuple:
        return tuple(v._value.astype(np.float64) for v in (
            self.true_positives, self.false_positives, self.true_negatives,
            self.false_negatives))

    @staticmethod
    def _max_where(constrained: Any, dependent: Any, target: float) -> float:
        ok = constrained >= target
        return float(dependent[ok].max()) if ok.any() else 0.0

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({self._arg: self.value, "num_thresholds": self.num_thresholds,
                       "class_id": self.class_id})
        return config

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        config = dict(config)
        return cls(config.pop(cls._arg), **config)


class SensitivityAtSpecificity(_AtConstraint):
    """Best sensitivity (recall) over thresholds whose specificity is >= `specificity`."""

    _arg = "specificity"

    def __init__(self, specificity: float, num_thresholds: int = 200,
                 class_id: int | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def result(self) -> Tensor:
        tp, fp, tn, fn = self._counts()
        return Tensor(np.asarray(self._max_where(_div(tn, tn + fp), _div(tp, tp + fn),
                                                 self.value), self._dtype))


class SpecificityAtSensitivity(_AtConstraint):
    """Best specificity over thresholds whose sensitivity (recall) is >= `sensitivity`."""

    _arg = "sensitivity"

    def __init__(self, sensitivity: float, num_thresholds: int = 200,
                 class_id: int | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def result(self) -> Tensor:
        tp, fp, tn, fn = self._counts()
        return Tensor(np.asarray(self._max_where(_div(tp, tp + fn), _div(tn, tn + fp),
                                                 self.value), self._dtype))


class PrecisionAtRecall(_AtConstraint):
    """Best precision over thresholds whose recall is >= `recall`."""

    _arg = "recall"

    def __init__(self, recall: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def result(self) -> Tensor:
        tp, fp, tn, fn = self._counts()
        return Tensor(np.asarray(self._max_where(_div(tp, tp + fn), _div(tp, tp + fp),
                                                 self.value), self._dtype))


class RecallAtPrecision(_AtConstraint):
    """Best recall over thresholds whose precision is >= `precision`."""

    _arg = "precision"

    def __init__(self, precision: float, num_thresholds: int = 200,
                 class_id: int | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def result(self) -> Tensor:
        tp, fp, tn, fn = self._counts()
        return Tensor(np.asarray(self._max_where(_div(tp, tp + fp), _div(tp, tp + fn),
                                                 self.value), self._dtype))
