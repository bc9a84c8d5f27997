"""Regression metrics: MSE, RMSE, MAE, MAPE, MSLE, cosine similarity, log-cosh and R2.

>>> from ndflow.keras.metrics import RootMeanSquaredError
>>> m = RootMeanSquaredError(); m.update_state([[0.0], [0.0]], [[3.0], [4.0]])
>>> round(float(m.result()), 4)  # sqrt((9 + 16) / 2)
3.5355
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.keras.metrics.metric import Metric, arr, epsilon, floatx, squeeze_or_expand
from ndflow.keras.metrics.reduction_metrics import Mean, MeanMetricWrapper


def _pair(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    yp = arr(y_pred)
    if yp.dtype.kind != "f":
        yp = yp.astype(floatx())
    yt = arr(y_true, yp.dtype)
    return squeeze_or_expand(yt, yp)


def _mse(y_true: Any, y_pred: Any) -> Any:
    yt, yp = _pair(y_true, y_pred)
    return np.square(yt - yp).mean(axis=-1)


def _mae(y_true: Any, y_pred: Any) -> Any:
    yt, yp = _pair(y_true, y_pred)
    return np.abs(yt - yp).mean(axis=-1)


def _mape(y_true: Any, y_pred: Any) -> Any:
    yt, yp = _pair(y_true, y_pred)
    return 100.0 * np.abs((yt - yp) / np.maximum(np.abs(yt), epsilon())).mean(axis=-1)


def _msle(y_true: Any, y_pred: Any) -> Any:
    yt, yp = _pair(y_true, y_pred)
    eps = epsilon()
    return np.square(np.log1p(np.maximum(yp, eps)) - np.log1p(np.maximum(yt, eps))).mean(-1)


def _l2n(x: Any, axis: int) -> Any:
    sq = np.sum(x * x, axis=axis, keepdims=True)
    return x / np.sqrt(np.maximum(sq, 1e-12))


def _cosine(y_true: Any, y_pred: Any, axis: int = -1) -> Any:
    yt, yp = _pair(y_true, y_pred)
    return np.sum(_l2n(yt, axis) * _l2n(yp, axis), axis=axis)


def _logcosh(y_true: Any, y_pred: Any) -> Any:
    yt, yp = _pair(y_true, y_pred)
    x = yp - yt
    return (x + np.logaddexp(0.0, -2.0 * x) - math.log(2.0)).mean(axis=-1)


class MeanSquaredError(MeanMetricWrapper):
    """Mean of squared errors."""

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(_mse, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of absolute errors."""

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(_mae, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean absolute percentage error."""

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None
                 ) -> None:
        super().__init__(_mape, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean squared logarithmic error."""

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None
                 ) -> None:
        super().__init__(_msle, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between labels and predictions along `axis`."""

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1
                 ) -> None:
        super().__init__(_cosine, name=name, dtype=dtype, axis=axis)


class LogCoshError(MeanMetricWrapper):
    """Mean log-cosh of the prediction error."""

    def __init__(self, name: str = "logcosh", dtype: Any = None) -> None:
        super().__init__(_logcosh, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """``sqrt(mean(square(y_pred - y_true)))`` over all samples seen."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        yt, yp = _pair(y_true, y_pred)
        super().update_state(np.square(yp - yt), sample_weight=sample_weight)

    def result(self) -> Tensor:
        c = float(self.count._value)
        return Tensor(np.asarray(math.sqrt(float(self.total._value) / c) if c else 0.0,
                                 self._dtype))


class R2Score(Metric):
    """Coefficient of determination, ``1 - SS_res / SS_tot`` per output, aggregated by
    `class_aggregation` (``"uniform_average"``, ``"variance_weighted_average"`` or None);
    `num_regressors` > 0 gives the adjusted R2.

    >>> m = R2Score(); m.update_state([[1.0], [2.0], [3.0]], [[1.0], [2.0], [4.0]])
    >>> float(m.result())
    0.5
    """

    def __init__(self, class_aggregation: str | None = "uniform_average",
                 num_regressors: int = 0, name: str = "r2_score", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in ("uniform_average", "variance_weighted_average", None):
            raise ValueError("R2Score: expected class_aggregation 'uniform_average', "
                             f"'variance_weighted_average' or None, got {class_aggregation!r}")
        if not isinstance(num_regressors, int) or num_regressors < 0:
            raise ValueError(f"R2Score: expected an integer num_regressors >= 0, got "
                             f"{num_regressors!r}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable((), name="num_samples", dtype="int32")
        self._built_r2 = False

    def _build(self, n_out: int) -> None:
        self.squared_sum = self.add_variable((n_out,), name="squared_sum")
        self.sum = self.add_variable((n_out,), name="sum")
        self.total_mse = self.add_variable((n_out,), name="residual")
        self.count = self.add_variable((n_out,), name="count")
        self._built_r2 = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        yt, yp = _pair(y_true, y_pred)
        yt = yt.astype(np.float64)
        yp = yp.astype(np.float64)
        if yt.ndim == 1:
            yt, yp = yt[:, None], yp[:, None]
        if yt.ndim != 2 or yp.shape != yt.shape:
            from ndflow.core.dispatch import fail

            raise fail("R2Score", "y_true and y_pred of the same shape (samples, outputs)",
                       f"shapes {list(yt.shape)} and {list(yp.shape)}")
        if not self._built_r2:
            self._build(yt.shape[-1])
        if sample_weight is None:
            w = np.ones_like(yt)
        else:
            w = arr(sample_weight).astype(np.float64)
            if w.ndim == 1:
                w = w[:, None]
            w = np.broadcast_to(w, yt.shape)
        wy = yt * w
        self.sum._value += wy.sum(0).astype(self.sum._value.dtype)
        self.squared_sum._value += (yt * wy).sum(0).astype(self.sum._value.dtype)
        self.total_mse._value += (np.square(yt - yp) * w).sum(0).astype(self.sum._value.dtype)
        self.count._value += w.sum(0).astype(self.sum._value.dtype)
        self.num_samples._value += yt.size

    def result(self) -> Tensor:
        if not self._built_r2:
            return Tensor(np.asarray(0.0, self._dtype))
        s = self.sum._value.astype(np.float64)
        cnt = self.count._value.astype(np.float64)
        mean = s / cnt
        total = self.squared_sum._value.astype(np.float64) - s * mean
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = 1.0 - self.total_mse._value.astype(np.float64) / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            r2: Any = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            r2 = (total * raw).sum() / total.sum()
        else:
            r2 = raw
        if self.num_regressors:
            n = float(self.num_samples._value)
            p = self.num_regressors
            if p < n - 1:
                r2 = 1.0 - (1.0 - r2) * (n - 1) / (n - p - 1)
        return Tensor(np.asarray(r2, self._dtype))

    def reset_state(self) -> None:
        super().reset_state()

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"class_aggregation": self.class_aggregation,
                       "num_regressors": self.num_regressors})
        return config
