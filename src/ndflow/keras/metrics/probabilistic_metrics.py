"""Loss-like metrics: the mean of a loss function over all samples seen (cross-entropies,
KL divergence, Poisson, hinge losses).

>>> from ndflow.keras.metrics import BinaryCrossentropy
>>> m = BinaryCrossentropy(); m.update_state([[1.0]], [[0.5]]); round(float(m.result()), 4)
0.6931
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.losses import losses as _l
from ndflow.keras.metrics.reduction_metrics import MeanMetricWrapper


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary cross-entropy."""

    def __init__(self, name: str = "binary_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0.0) -> None:
        super().__init__(_l.binary_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical cross-entropy."""

    def __init__(self, name: str = "categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
                 ) -> None:
        super().__init__(_l.categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical cross-entropy."""

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, axis: int = -1) -> None:
        super().__init__(_l.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, axis=axis)


class KLDivergence(MeanMetricWrapper):
    """Mean Kullback-Leibler divergence."""

    def __init__(self, name: str = "kl_divergence", dtype: Any = None) -> None:
        super().__init__(_l.kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """Mean Poisson loss."""

    def __init__(self, name: str = "poisson", dtype: Any = None) -> None:
        super().__init__(_l.poisson, name=name, dtype=dtype)


class Hinge(MeanMetricWrapper):
    """Mean hinge loss."""

    def __init__(self, name: str = "hinge", dtype: Any = None) -> None:
        super().__init__(_l.hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """Mean squared hinge loss."""

    def __init__(self, name: str = "squared_hinge", dtype: Any = None) -> None:
        super().__init__(_l.squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """Mean categorical hinge loss."""

    def __init__(self, name: str = "categorical_hinge", dtype: Any = None) -> None:
        super().__init__(_l.categorical_hinge, name=name, dtype=dtype)
