"""`keras.losses`: loss classes, loss functions, and `get`/`serialize`/`deserialize`.

>>> from ndflow.keras import losses
>>> losses.get("mse").__name__
'mean_squared_error'
>>> type(losses.get("CategoricalCrossentropy")).__name__
'CategoricalCrossentropy'
"""

from __future__ import annotations

import inspect
from typing import Any

from ndflow.keras.losses.circle import Circle, circle
from ndflow.keras.losses.generalized_cross_entropy import (
    CategoricalGeneralizedCrossEntropy, categorical_generalized_cross_entropy,
)
from ndflow.keras.losses.loss import Loss, reduce_weighted_values
from ndflow.keras.losses.losses import (
    BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    CategoricalFocalCrossentropy, CTC, CategoricalHinge, CosineSimilarity, Dice, Hinge, Huber,
    KLDivergence, LogCosh, LossFunctionWrapper, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredError, MeanSquaredLogarithmicError, Poisson, SparseCategoricalCrossentropy,
    SquaredHinge, Tversky, binary_crossentropy, binary_focal_crossentropy,
    categorical_crossentropy, categorical_focal_crossentropy, categorical_hinge,
    cosine_similarity, ctc, dice, hinge, huber, kl_divergence, log_cosh, mean_absolute_error,
    mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error, poisson,
    sparse_categorical_crossentropy, squared_hinge, tversky,
)

# Keras 3 aliases
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy

_CLASSES = (Loss, LossFunctionWrapper, BinaryCrossentropy, BinaryFocalCrossentropy,
            CategoricalCrossentropy, CategoricalFocalCrossentropy, CategoricalHinge,
            CosineSimilarity, Dice, Hinge, Huber, KLDivergence, LogCosh, MeanAbsoluteError,
            MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError, Poisson,
            SparseCategoricalCrossentropy, SquaredHinge, Tversky, CTC, Circle,
            CategoricalGeneralizedCrossEntropy)
_FUNCTIONS = (binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
              categorical_focal_crossentropy, categorical_hinge, cosine_similarity, dice, hinge,
              huber, kl_divergence, log_cosh, mean_absolute_error,
              mean_absolute_percentage_error, mean_squared_error,
              mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy,
              squared_hinge, tversky, ctc, circle, categorical_generalized_cross_entropy)
ALL_OBJECTS_DICT: dict[str, Any] = {c.__name__: c for c in _CLASSES}
ALL_OBJECTS_DICT.update({f.__name__: f for f in _FUNCTIONS})
ALL_OBJECTS_DICT.update({
    "mse": mse, "MSE": MSE, "mae": mae, "MAE": MAE, "mape": mape, "MAPE": MAPE, "msle": msle,
    "MSLE": MSLE, "kld": kld, "KLD": KLD, "kullback_leibler_divergence": kl_divergence,
    "logcosh": log_cosh, "bce": bce, "BCE": BCE,
})


def serialize(loss: Any) -> Any:
    """A loss function's name, or a Loss object's ``{"module", "class_name", "config"}``."""
    if isinstance(loss, Loss):
        return {"module": "keras.losses", "class_name": type(loss).__name__,
                "config": loss.get_config(), "registered_name": None}
    if callable(loss) and getattr(loss, "__name__", None) in ALL_OBJECTS_DICT:
        return loss.__name__
    raise ValueError(f"losses.serialize: cannot serialize {loss!r}; expected a Loss or a "
                     "built-in loss function")


def deserialize(config: Any, custom_objects: dict | None = None) -> Any:
    """Rebuild a loss from `serialize`'s output."""
    if isinstance(config, str):
        return get(config) if custom_objects is None or config not in custom_objects \
            else custom_objects[config]
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"losses.deserialize: expected a name or a dict with 'class_name' and "
                         f"'config', got {config!r}")
    name = config["class_name"]
    obj = (custom_objects or {}).get(name) or ALL_OBJECTS_DICT.get(name)
    if obj is None:
        raise ValueError(f"losses.deserialize: unknown loss {name!r}; known: {_known()}")
    if inspect.isclass(obj):
        return obj.from_config(config.get("config", {}))
    return obj


def _known() -> list:
    return sorted(ALL_OBJECTS_DICT)


def get(identifier: Any) -> Any:
    """A loss from a name (``"mse"``, ``"categorical_crossentropy"``, ``"Huber"``), a
    serialized dict, a Loss instance or a callable; None gives None."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
        if obj is None:
            raise ValueError(f"losses.get: unknown loss {identifier!r}; known: {_known()}")
        return obj() if inspect.isclass(obj) else obj
    if callable(identifier):
        return identifier
    raise ValueError(f"losses.get: could not interpret loss identifier {identifier!r}; expected "
                     "a name, a config dict, a Loss or a function")


__all__ = [n for n in dir() if not n.startswith("_") and n not in (
    "annotations", "inspect", "Any")]
