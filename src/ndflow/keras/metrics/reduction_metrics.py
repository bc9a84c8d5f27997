"""`Mean`, `Sum` and `MeanMetricWrapper`: running (weighted) averages and sums.

>>> from ndflow.keras.metrics import Mean
>>> m = Mean(); m.update_state([1.0, 3.0]); m.update_state([5.0], sample_weight=[2.0])
>>> float(m.result())  # (1 + 3 + 2 * 5) / 4
3.5
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.keras.losses.loss import keras_mask
from ndflow.keras.metrics.metric import Metric, arr, squeeze_or_expand, to_scalar_tensor


def reduce_to_samplewise(values: Any, sample_weight: Any, reduce: str, dtype: str
                         ) -> tuple[Any, Any]:
    """Keras's rule: weight values per sample and reduce the non-batch axes with `reduce`."""
    v = arr(values, dtype)
    mask = keras_mask(values)
    fn = np.mean if reduce == "mean" else np.sum
    w = None
    if sample_weight is not None or mask is not None:
        w = arr(sample_weight, dtype) if sample_weight is not None else None
        if mask is not None:
            mk = arr(mask, dtype)
            w = mk if w is None else np.multiply(*squeeze_or_expand(mk, w))
        v, w = squeeze_or_expand(v, w)
        if v.ndim > w.ndim:
            v = fn(v, axis=tuple(range(w.ndim, v.ndim)))
        try:
            w = np.broadcast_to(w, v.shape)
        except ValueError:
            raise ValueError(f"sample_weight: expected a shape that broadcasts to the values' "
                             f"shape {list(v.shape)}, got {list(w.shape)}") from None
        v = v * w
        if w.ndim > 1:
            w = fn(w, axis=tuple(range(1, w.ndim)))
    if v.ndim > 1:
        v = fn(v, axis=tuple(range(1, v.ndim)))
    return v, w


class Sum(Metric):
    """The (weighted) sum of the values seen.

    >>> s = Sum(); s.update_state([1.0, 2.0]); float(s.result())
    3.0
    """

    def __init__(self, name: str = "sum", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        v, _ = reduce_to_samplewise(values, sample_weight, "sum", self._dtype)
        self.total._value += v.sum(dtype=np.float64).astype(self.total._value.dtype)

    def result(self) -> Tensor:
        return to_scalar_tensor(self.total._value.copy(), self._dtype)


class Mean(Metric):
    """The (weighted) mean of the values seen: ``total / count``."""

    def __init__(self, name: str = "mean", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")
        self.count = self.add_variable((), name="count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        v, w = reduce_to_samplewise(values, sample_weight, "mean", self._dtype)
        self.total._value += v.sum(dtype=np.float64).astype(self.total._value.dtype)
        if w is not None:
            n = float(w.sum(dtype=np.float64))
        else:
            n = float(v.shape[0]) if v.ndim >= 1 else 1.0
        self.count._value += self.count._value.dtype.type(n)

    def result(self) -> Tensor:
        c = float(self.count._value)
        return to_scalar_tensor(float(self.total._value) / c if c else 0.0, self._dtype)


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over all samples seen.

    >>> from ndflow.keras.metrics import mean_absolute_error
    >>> m = MeanMetricWrapper(mean_absolute_error, name="mae")
    >>> m.update_state([[1.0]], [[3.0]]); float(m.result())
    2.0
    """

    def __init__(self, fn: Any, name: str | None = None, dtype: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"),
                         dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        mask = keras_mask(y_pred)
        if isinstance(y_pred, Tensor) and not y_pred._symbolic:
            y_pred = Tensor(y_pred._value)  # a fresh handle: nothing is recorded on tapes
        if isinstance(y_true, Tensor) and not y_true._symbolic:
            y_true = Tensor(y_true._value)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if mask is not None:
            m = arr(mask, self._dtype)
            if sample_weight is None:
                sample_weight = m
            else:
                sample_weight = np.multiply(*squeeze_or_expand(m, arr(sample_weight,
                                                                       self._dtype)))
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(self._fn_kwargs)
        if type(self) is MeanMetricWrapper:
            config["fn"] = getattr(self._fn, "__name__", None)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        config = dict(config)
        if cls is MeanMetricWrapper:
            fn = config.pop("fn", None)
            if isinstance(fn, str):
                from ndflow.keras import metrics

                fn = metrics._FUNCTIONS[fn]
            return cls(fn, **config)
        return cls(**config)
