"""`keras.initializers`: all of Keras 3's weight initializers, with `get`, `serialize` and
`deserialize`.

>>> from ndflow.keras import initializers
>>> type(initializers.get("glorot_uniform")).__name__
'GlorotUniform'
>>> initializers.serialize(initializers.Zeros())["class_name"]
'Zeros'
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from ndflow.keras.initializers.initializers import (
    Constant, GlorotNormal, GlorotUniform, HeNormal, HeUniform, Identity, IdentityInitializer,
    Initializer, LecunNormal, LecunUniform, Ones, Orthogonal, OrthogonalInitializer,
    RandomInitializer, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling, Zeros,
    compute_fans,
)
from ndflow.keras.initializers.stft import STFT, STFTInitializer


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


ALL_OBJECTS = (Initializer, Constant, Identity, Ones, Zeros, GlorotNormal, GlorotUniform,
               HeNormal, HeUniform, LecunNormal, LecunUniform, RandomNormal, TruncatedNormal,
               RandomUniform, VarianceScaling, OrthogonalInitializer, STFT)
ALL_OBJECTS_DICT: dict[str, Any] = {c.__name__: c for c in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({_snake(c.__name__): c for c in ALL_OBJECTS})
ALL_OBJECTS_DICT.update({
    "uniform": RandomUniform, "normal": RandomNormal, "orthogonal": OrthogonalInitializer,
    "Orthogonal": OrthogonalInitializer, "one": Ones, "zero": Zeros,
    "IdentityInitializer": Identity, "identity": Identity,
    "STFTInitializer": STFT, "stft": STFT,
})

# Keras writes this module path into saved configs.
_KERAS_MODULE = "keras.initializers"


def _lookup(name: str, custom_objects: dict | None) -> Any:
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in ALL_OBJECTS_DICT:
        return ALL_OBJECTS_DICT[name]
    try:
        from ndflow.keras.saving import get_registered_object  # type: ignore[attr-defined]
    except ImportError:
        return None
    try:
        return get_registered_object(name, custom_objects)
    except Exception:
        return None


def serialize(initializer: Any) -> dict | None:
    """The Keras 3 config dict of an initializer.

    >>> serialize(Constant(2.0))["config"]
    {'value': 2.0}
    """
    if initializer is None:
        return None
    if not hasattr(initializer, "get_config"):
        raise ValueError(f"initializers.serialize: cannot serialize {initializer!r}; expected "
                         "an Initializer (with get_config)")
    cls = type(initializer)
    builtin = ALL_OBJECTS_DICT.get(cls.__name__) is cls
    return {"module": _KERAS_MODULE if builtin else cls.__module__,
            "class_name": cls.__name__, "config": initializer.get_config(),
            "registered_name": None if builtin else cls.__name__}


def deserialize(config: Any, custom_objects: dict | None = None) -> Any:
    """An initializer from a config dict (or a name).

    >>> deserialize({"class_name": "Constant", "config": {"value": 3.0}}).value
    3.0
    """
    if isinstance(config, str):
        config = {"class_name": config, "config": {}}
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"initializers.deserialize: expected a name or a dict with "
                         f"'class_name' and 'config', got {config!r}")
    name = config["class_name"]
    cls = _lookup(config.get("registered_name") or name, custom_objects) or _lookup(
        name, custom_objects)
    if cls is None:
        raise ValueError(
            f"initializers: unknown initializer {name!r}. Expected one of "
            f"{sorted(k for k in ALL_OBJECTS_DICT if k[0].islower())} (or a class name), or "
            f"pass custom_objects={{{name!r}: YourInitializer}}.")
    inner = config.get("config") or {}
    if inspect.isclass(cls):
        return cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)
    return cls


def get(identifier: Any) -> Any:
    """Resolve an initializer from None, a name, a config dict, a class or a callable.

    >>> get(None) is None
    True
    >>> type(get("he_normal")).__name__
    'HeNormal'
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        obj = deserialize(identifier)
    else:
        obj = identifier
    if inspect.isclass(obj):
        obj = obj()
    if callable(obj):
        return obj
    raise ValueError(f"initializers.get: could not interpret initializer identifier "
                     f"{identifier!r}; expected a name such as 'glorot_uniform', a config dict, "
                     "an Initializer or a callable(shape, dtype)")


# Keras's lower-case function-style aliases.
zeros = Zeros
ones = Ones
constant = Constant
identity = Identity
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
he_uniform = HeUniform
he_normal = HeNormal
lecun_uniform = LecunUniform
lecun_normal = LecunNormal
orthogonal = OrthogonalInitializer
stft = STFT

__all__ = [
    "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity",
    "IdentityInitializer", "Initializer", "LecunNormal", "LecunUniform", "Ones", "Orthogonal",
    "OrthogonalInitializer", "RandomInitializer", "RandomNormal", "RandomUniform",
    "TruncatedNormal", "VarianceScaling", "Zeros", "compute_fans", "constant", "deserialize",
    "get", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "identity",
    "lecun_normal", "lecun_uniform", "ones", "orthogonal", "random_normal", "random_uniform",
    "serialize", "truncated_normal", "variance_scaling", "zeros", "STFT", "STFTInitializer",
    "stft",
]
