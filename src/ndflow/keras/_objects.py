"""Shared lookup and (de)serialisation of the small Keras object families (regularizers,
constraints): Keras 3's config dicts `{"module", "class_name", "config", "registered_name"}`.
"""

from __future__ import annotations

import inspect
from typing import Any


def lookup(name: str, table: dict, custom_objects: dict | None) -> Any:
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in table:
        return table[name]
    try:
        from ndflow.keras.saving import get_registered_object  # type: ignore[attr-defined]
    except ImportError:
        return None
    try:
        return get_registered_object(name, custom_objects)
    except Exception:
        return None


def serialize(obj: Any, table: dict, module: str, family: str) -> dict | None:
    if obj is None:
        return None
    if not hasattr(obj, "get_config"):
        raise ValueError(f"{family}.serialize: cannot serialize {obj!r}; expected an object "
                         "with get_config()")
    cls = type(obj)
    builtin = table.get(cls.__name__) is cls
    return {"module": module if builtin else cls.__module__, "class_name": cls.__name__,
            "config": obj.get_config(), "registered_name": None if builtin else cls.__name__}


def deserialize(config: Any, table: dict, family: str, custom_objects: dict | None) -> Any:
    if isinstance(config, str):
        config = {"class_name": config, "config": {}}
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"{family}.deserialize: expected a name or a dict with 'class_name' "
                         f"and 'config', got {config!r}")
    name = config["class_name"]
    registered = config.get("registered_name")
    if not isinstance(name, str) or not (registered is None or isinstance(registered, str)):
        raise ValueError(f"{family}.deserialize: 'class_name' and 'registered_name' must be "
                         f"strings, got {name!r:.60} and {registered!r:.60}")
    cls = lookup(registered or name, table, custom_objects) or lookup(
        name, table, custom_objects)
    if cls is None:
        known = sorted(k for k in table if k[0].islower())
        raise ValueError(f"{family}: unknown name {name!r}. Expected one of {known} (or a class "
                         f"name), or pass custom_objects={{{name!r}: YourClass}}.")
    inner = config.get("config") or {}
    if not isinstance(inner, dict):
        raise ValueError(f"{family}.deserialize: the 'config' of {name!r} must be a dict, got "
                         f"{inner!r:.60}")
    if inspect.isclass(cls):
        return cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)
    return cls


def get(identifier: Any, table: dict, family: str, example: str) -> Any:
    if identifier is None:
        return None
    obj = deserialize(identifier, table, family, None) if isinstance(
        identifier, (str, dict)) else identifier
    if inspect.isclass(obj):
        obj = obj()
    if callable(obj):
        return obj
    raise ValueError(f"{family}.get: could not interpret identifier {identifier!r}; expected a "
                     f"name such as {example!r}, a config dict or a callable")
