"""`FBetaScore` and `F1Score`: per-class F-scores with micro/macro/weighted averaging.

>>> import numpy as np
>>> from ndflow.keras.metrics import F1Score
>>> m = F1Score(average="micro", threshold=0.5)
>>> m.update_state(np.array([[1, 0], [0, 1]]), np.array([[0.9, 0.2], [0.6, 0.7]]))
>>> round(float(m.result()), 4)
0.8
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.keras.metrics.metric import Metric, arr, epsilon


class FBetaScore(Metric):
    """F-beta score from thresholded predictions (``threshold=None``: the arg-max class).

    Args:
        average: None (per class), ``"micro"``, ``"macro"`` or ``"weighted"``.
        beta: weight of recall versus precision (> 0).
        threshold: predictions above it count as positive; None marks each row's maximum.
    """

    def __init__(self, average: str | None = None, beta: float = 1.0,
                 threshold: float | None = None, name: str = "fbeta_score",
                 dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("FBetaScore: expected average None, 'micro', 'macro' or "
                             f"'weighted', got {average!r}")
        if not isinstance(beta, (int, float)) or beta <= 0:
            raise ValueError(f"FBetaScore: expected a float beta > 0, got {beta!r}")
        if threshold is not None and (not isinstance(threshold, (int, float)) or
                                      not 0 < threshold <= 1):
            raise ValueError(f"FBetaScore: expected threshold in (0, 1] or None, got "
                             f"{threshold!r}")
        self.average = average
        self.beta = float(beta)
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built_f = False

    def _build(self, n: int) -> None:
        shape = () if self.average == "micro" else (n,)
        self.true_positives = self.add_variable(shape, name="true_positives")
        self.false_positives = self.add_variable(shape, name="false_positives")
        self.false_negatives = self.add_variable(shape, name="false_negatives")
        self.intermediate_weights = self.add_variable(shape, name="intermediate_weights")
        self._built_f = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        yt = arr(y_true).astype(np.float64)
        yp = arr(y_pred).astype(np.float64)
        if yt.ndim != 2 or yp.ndim != 2 or yt.shape != yp.shape:
            from ndflow.core.dispatch import fail

            raise fail(self.name, "y_true and y_pred of the same rank-2 shape (samples, "
                       "classes)", f"shapes {list(yt.shape)} and {list(yp.shape)}",
                       "One-hot encode the labels (keras.utils.to_categorical).")
        if not self._built_f:
            self._build(yp.shape[-1])
        if self.threshold is None:
            mx = yp.max(axis=-1, keepdims=True)
            pos = (yp >= mx) & (np.abs(yp) > 1e-9)
        else:
            pos = yp > self.threshold
        p = pos.astype(np.float64)
        w = None if sample_weight is None else arr(sample_weight).astype(np.float64)

        def wsum(v: Any) -> Any:
            if w is not None:
                v = v * (w[:, None] if w.ndim == 1 else w)
            return v.sum(axis=self.axis)

        dt = self.true_positives._value.dtype
        self.true_positives._value += wsum(p * yt).astype(dt)
        self.false_positives._value += wsum(p * (1 - yt)).astype(dt)
        self.false_negatives._value += wsum((1 - p) * yt).astype(dt)
        self.intermediate_weights._value += wsum(yt).astype(dt)

    def result(self) -> Tensor:
        if not self._built_f:
            return Tensor(np.asarray(0.0, self._dtype))
        eps = epsilon()
        tp = self.true_positives._value.astype(np.float64)
        precision = tp / (tp + self.false_positives._value + eps)
        recall = tp / (tp + self.false_negatives._value + eps)
        b2 = self.beta ** 2
        f = precision * recall / (b2 * precision + recall + eps) * (1 + b2)
        if self.average == "weighted":
            iw = self.intermediate_weights._value.astype(np.float64)
            f = (f * iw / (iw.sum() + eps)).sum()
        elif self.average is not None:
            f = np.mean(f)
        return Tensor(np.asarray(f, self._dtype))

    def reset_state(self) -> None:
        super().reset_state()

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"average": self.average, "beta": self.beta,
                       "threshold": self.threshold})
        return config


class F1Score(FBetaScore):
    """F1 score (FBetaScore with ``beta=1``)."""

    def __init__(self, average: str | None = None, threshold: float | None = None,
                 name: str = "f1_score", dtype: Any = None) -> None:
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name,
                         dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config
