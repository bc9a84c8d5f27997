"""Correlation metrics: `PearsonCorrelation` and `ConcordanceCorrelation`, with their
functional forms `pearson_correlation` and `concordance_correlation` (per-sample
coefficients along `axis`, differentiable, so they also serve as loss terms).

>>> from ndflow.keras import metrics
>>> y_true = [[0, 1, 0.5], [1, 1, 0.2]]
>>> y_pred = [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]
>>> [round(float(v), 4) for v in metrics.pearson_correlation(y_true, y_pred)]
[1.0, 0.9934]
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras.losses.loss import as_float_tensor, epsilon, squeeze_or_expand_to_same_rank
from ndflow.keras.metrics.reduction_metrics import MeanMetricWrapper
from ndflow.ops import math as m
from ndflow.ops._util import npdt
from ndflow.ops.reduce import reduce_mean


def _pair(y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor]:
    y_pred = as_float_tensor(y_pred)
    y_true = as_float_tensor(y_true, npdt(y_pred))
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def pearson_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """Pearson's r of `y_true` and `y_pred` along `axis`, one value per sample.

    >>> round(float(pearson_correlation([[1.0, 2.0, 3.0]], [[2.0, 4.0, 7.0]])[0]), 4)
    0.9934
    """
    y_true, y_pred = _pair(y_true, y_pred)
    t = m.subtract(y_true, reduce_mean(y_true, axis=axis, keepdims=True))
    p = m.subtract(y_pred, reduce_mean(y_pred, axis=axis, keepdims=True))
    t = m.divide(t, m.sqrt(reduce_mean(m.square(t), axis=axis, keepdims=True)))
    p = m.divide(p, m.sqrt(reduce_mean(m.square(p), axis=axis, keepdims=True)))
    return reduce_mean(m.multiply(t, p), axis=axis)


def concordance_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """Lin's concordance coefficient along `axis`, one value per sample, computed as
    Keras 3 computes it: ``mean(2 (y_true - mean(y_pred)) (y_pred - mean(y_pred)) /
    (var(y_true) + var(y_pred) + (mean(y_true) - mean(y_pred))^2 + eps))``.

    >>> round(float(concordance_correlation([[0, 1, 0.5]], [[0.1, 0.9, 0.5]])[0]), 4)
    0.9756
    """
    y_true, y_pred = _pair(y_true, y_pred)
    mt = reduce_mean(y_true, axis=axis, keepdims=True)
    mp = reduce_mean(y_pred, axis=axis, keepdims=True)
    dt_, dp = m.subtract(y_true, mt), m.subtract(y_pred, mp)
    var_t = reduce_mean(m.square(dt_), axis=axis, keepdims=True)
    var_p = reduce_mean(m.square(dp), axis=axis, keepdims=True)
    # Keras centres y_true on the mean of y_pred here; kept so the two agree
    covar = m.multiply(m.subtract(y_true, mp), dp)
    norm = m.add(m.add(var_t, var_p), m.square(m.subtract(mt, mp)))
    return reduce_mean(m.divide(m.multiply(covar, 2.0), m.add(norm, epsilon())), axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """The mean over samples of Pearson's correlation coefficient along `axis`.

    >>> pcc = PearsonCorrelation()
    >>> pcc.update_state([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    >>> round(float(pcc.result()), 4)
    0.9967
    """

    def __init__(self, name: str = "pearson_correlation", dtype: Any = None,
                 axis: int = -1) -> None:
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class ConcordanceCorrelation(MeanMetricWrapper):
    """The mean over samples of the concordance correlation coefficient along `axis`.

    >>> ccc = ConcordanceCorrelation()
    >>> ccc.update_state([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    >>> round(float(ccc.result()), 4)
    0.9816
    """

    def __init__(self, name: str = "concordance_correlation", dtype: Any = None,
                 axis: int = -1) -> None:
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}
