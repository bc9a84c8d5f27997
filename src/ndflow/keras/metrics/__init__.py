"""`keras.metrics`: stateful metrics, metric functions, and `get`/`serialize`/`deserialize`.

>>> from ndflow.keras import metrics
>>> type(metrics.get("auc")).__name__
'AUC'
"""

from __future__ import annotations

import inspect
from typing import Any

from ndflow.keras.losses.losses import (
    binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_focal_crossentropy, categorical_hinge, hinge, huber, kl_divergence, log_cosh,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy, squared_hinge,
)
from ndflow.keras.metrics.accuracy_metrics import (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, accuracy, binary_accuracy,
    categorical_accuracy, sparse_categorical_accuracy, sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from ndflow.keras.metrics.confusion_metrics import (
    AUC, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall,
    RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives,
    TruePositives,
)
from ndflow.keras.metrics.correlation_metrics import (
    ConcordanceCorrelation, PearsonCorrelation, concordance_correlation, pearson_correlation,
)
from ndflow.keras.metrics.f_score_metrics import F1Score, FBetaScore
from ndflow.keras.metrics.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from ndflow.keras.metrics.metric import Metric
from ndflow.keras.metrics.probabilistic_metrics import (
    BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge, Hinge, KLDivergence, Poisson,
    SparseCategoricalCrossentropy, SquaredHinge,
)
from ndflow.keras.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
from ndflow.keras.metrics.regression_metrics import (
    CosineSimilarity, LogCoshError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredError, MeanSquaredLogarithmicError, R2Score, RootMeanSquaredError,
)

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh

_CLASSES = (Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
            SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
            AUC, Precision, Recall, TruePositives, FalsePositives, TrueNegatives,
            FalseNegatives, MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError,
            MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity,
            LogCoshError, R2Score, F1Score, FBetaScore, MeanIoU, BinaryCrossentropy,
            CategoricalCrossentropy, SparseCategoricalCrossentropy, KLDivergence, Poisson,
            Hinge, SquaredHinge, CategoricalHinge, IoU, BinaryIoU, OneHotIoU, OneHotMeanIoU,
            PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity,
            SpecificityAtSensitivity, PearsonCorrelation, ConcordanceCorrelation)
_FUNCTIONS: dict[str, Any] = {f.__name__: f for f in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, binary_crossentropy,
    binary_focal_crossentropy, categorical_crossentropy, categorical_focal_crossentropy,
    categorical_hinge, hinge, huber, kl_divergence, log_cosh, mean_absolute_error,
    mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error, poisson,
    sparse_categorical_crossentropy, squared_hinge, pearson_correlation,
    concordance_correlation)}
_FUNCTIONS.update({"_accuracy": accuracy})


def _snake(name: str) -> str:
    from ndflow.keras.losses.loss import _snake as s

    return s(name)


ALL_OBJECTS_DICT: dict[str, Any] = {c.__name__: c for c in _CLASSES}
ALL_OBJECTS_DICT.update({_snake(c.__name__): c for c in _CLASSES})
ALL_OBJECTS_DICT.update({
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "mse": MeanSquaredError,
    "MSE": MeanSquaredError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    "rmse": RootMeanSquaredError, "auc": AUC, "kld": KLDivergence, "KLD": KLDivergence,
    "logcosh": LogCoshError, "mean_iou": MeanIoU, "f1_score": F1Score,
    "fbeta_score": FBetaScore, "r2_score": R2Score, "accuracy": Accuracy, "iou": IoU,
    "binary_iou": BinaryIoU, "one_hot_iou": OneHotIoU, "one_hot_mean_iou": OneHotMeanIoU,
})
for _k in ("metric", "mean_metric_wrapper", "mean_io_u", "Metric", "MeanMetricWrapper", "io_u",
           "binary_io_u", "one_hot_io_u", "one_hot_mean_io_u"):
    ALL_OBJECTS_DICT.pop(_k, None)


def serialize(metric: Any) -> Any:
    """A Metric's ``{"module", "class_name", "config"}``, or a metric function's name."""
    if isinstance(metric, Metric):
        return {"module": "keras.metrics", "class_name": type(metric).__name__,
                "config": metric.get_config(), "registered_name": None}
    if callable(metric) and getattr(metric, "__name__", None) in _FUNCTIONS:
        return metric.__name__
    raise ValueError(f"metrics.serialize: cannot serialize {metric!r}")


def deserialize(config: Any, custom_objects: dict | None = None) -> Any:
    """Rebuild a metric from `serialize`'s output."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"metrics.deserialize: expected a name or a dict with 'class_name' "
                         f"and 'config', got {config!r}")
    name = config["class_name"]
    obj = (custom_objects or {}).get(name) or ALL_OBJECTS_DICT.get(name)
    if obj is None:
        raise ValueError(f"metrics.deserialize: unknown metric {name!r}; known: "
                         f"{sorted(c.__name__ for c in _CLASSES)}")
    return obj.from_config(config.get("config", {}))


def get(identifier: Any) -> Any:
    """A metric from a name (``"auc"``, ``"binary_accuracy"``, ``"mse"``, ``"Precision"``), a
    serialized dict, a Metric or a function. Names give new Metric instances (Keras 3)."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
        if obj is None or obj is Metric:
            raise ValueError(f"metrics.get: unknown metric {identifier!r}; known: "
                             f"{sorted(k for k in ALL_OBJECTS_DICT if k[:1].islower())}")
        return obj() if inspect.isclass(obj) else obj
    if callable(identifier):
        return identifier
    raise ValueError(f"metrics.get: could not interpret metric identifier {identifier!r}")


__all__ = [n for n in dir() if not n.startswith("_") and n not in (
    "annotations", "inspect", "Any")]
