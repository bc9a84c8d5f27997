"""`keras.optimizers`: SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Lion, Ftrl,
Adafactor, Lamb, Muon, ScheduleFreeAdamW, the wrappers LossScaleOptimizer and MultiOptimizer
(with OptimizerMap), learning-rate schedules, and `get`/`serialize`/`deserialize`.

>>> from ndflow.keras import optimizers
>>> type(optimizers.get("rmsprop")).__name__
'RMSprop'
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.optimizers import schedules
from ndflow.keras.optimizers.adadelta import Adadelta
from ndflow.keras.optimizers.adafactor import Adafactor
from ndflow.keras.optimizers.adagrad import Adagrad
from ndflow.keras.optimizers.adam import Adam
from ndflow.keras.optimizers.adamax import Adamax
from ndflow.keras.optimizers.adamw import AdamW
from ndflow.keras.optimizers.base_optimizer import Optimizer
from ndflow.keras.optimizers.ftrl import Ftrl
from ndflow.keras.optimizers.lamb import Lamb
from ndflow.keras.optimizers.lion import Lion
from ndflow.keras.optimizers.loss_scale_optimizer import LossScaleOptimizer
from ndflow.keras.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from ndflow.keras.optimizers.muon import Muon
from ndflow.keras.optimizers.nadam import Nadam
from ndflow.keras.optimizers.rmsprop import RMSprop
from ndflow.keras.optimizers.schedule_free_adamw import ScheduleFreeAdamW
from ndflow.keras.optimizers.schedules import LearningRateSchedule
from ndflow.keras.optimizers.sgd import SGD

_CLASSES = (SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Lion, Ftrl, Adafactor,
            Lamb, Muon, ScheduleFreeAdamW, LossScaleOptimizer, MultiOptimizer)
ALL_OBJECTS_DICT: dict[str, type] = {c.__name__: c for c in _CLASSES}
ALL_OBJECTS_DICT.update({c.__name__.lower(): c for c in _CLASSES})


def serialize(optimizer: Optimizer) -> dict:
    """The Keras 3 serialized form ``{"module", "class_name", "config", "registered_name"}``."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizers.serialize: expected an Optimizer, got "
                        f"{type(optimizer).__name__}")
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """Rebuild an optimizer from `serialize`'s output (or ``{"class_name", "config"}``)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"optimizers.deserialize: expected a dict with 'class_name' and "
                         f"'config', got {config!r}")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or ALL_OBJECTS_DICT.get(name) or \
        ALL_OBJECTS_DICT.get(str(name).lower())
    if cls is None:
        raise ValueError(f"optimizers.deserialize: unknown optimizer {name!r}; known: "
                         f"{sorted(c.__name__ for c in _CLASSES)}")
    return cls.from_config(config.get("config", {}))


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name (``"adam"``), a serialized dict or an instance.

    >>> get("sgd").learning_rate.numpy().item()
    0.009999999776482582
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = ALL_OBJECTS_DICT.get(identifier) or ALL_OBJECTS_DICT.get(identifier.lower())
        if cls is None:
            raise ValueError(f"optimizers.get: unknown optimizer {identifier!r}; known: "
                             f"{sorted(c.__name__.lower() for c in _CLASSES)}")
        return cls()
    raise ValueError(f"optimizers.get: could not interpret optimizer identifier {identifier!r}; "
                     "expected a name such as 'adam', a config dict or an Optimizer instance")


__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax",
           "Nadam", "Lion", "Ftrl", "Adafactor", "Lamb", "Muon", "ScheduleFreeAdamW",
           "LossScaleOptimizer", "MultiOptimizer", "OptimizerMap", "LearningRateSchedule",
           "schedules", "get", "serialize", "deserialize"]
