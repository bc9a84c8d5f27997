"""`ndflow.keras`: the Keras 3 API on ndflow.

>>> import ndflow as tf
>>> from ndflow import keras
>>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(2)])
>>> model.output_shape
(None, 2)
"""

from __future__ import annotations

import importlib
from typing import Any

from ndflow.keras import config
from ndflow.core.tensor import SymbolicTensor as KerasTensor
from ndflow.keras.layers.input_layer import Input, InputLayer
from ndflow.keras.layers.layer import DTypePolicy, InputSpec, Layer
from ndflow.keras.models import Model, Sequential
from ndflow.keras.variables import KerasVariable as Variable

_SUBMODULES = frozenset({
    "activations", "applications", "backend", "callbacks", "config", "constraints", "datasets",
    "initializers", "layers", "losses", "metrics", "mixed_precision", "models", "ops",
    "optimizers", "preprocessing", "random", "regularizers", "saving", "utils", "variables",
})

__version__ = "3.0.0"  # the Keras API version followed


# Keras 3 top-level aliases of classes defined in the submodules (resolved on first use).
_ALIASES = {
    "Loss": ("losses", "Loss"), "Metric": ("metrics", "Metric"),
    "Optimizer": ("optimizers", "Optimizer"), "Initializer": ("initializers", "Initializer"),
    "Regularizer": ("regularizers", "Regularizer"), "Constraint": ("constraints", "Constraint"),
}


def version() -> str:
    """The Keras API version this package follows."""
    return __version__


def __getattr__(name: str) -> Any:
    if name in _ALIASES:
        module, attr = _ALIASES[name]
        value = getattr(importlib.import_module(f"ndflow.keras.{module}"), attr)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        try:
            module = importlib.import_module(f"ndflow.keras.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"ndflow.keras.{name}":
                raise AttributeError(
                    f"ndflow.keras has no module {name!r} yet") from None
            raise
        globals()[name] = module
        return module
    raise AttributeError(f"module 'ndflow.keras' has no attribute {name!r}")


def __dir__() -> list:
    return sorted(set(globals()) | _SUBMODULES | set(_ALIASES))


__all__ = ["DTypePolicy", "Input", "InputLayer", "InputSpec", "KerasTensor", "Layer", "Model",
           "Sequential", "Variable", "config", "version"]
