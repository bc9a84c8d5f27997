"""Registration of user classes and functions for (de)serialization, as in Keras 3.

A class registered with `register_keras_serializable` is saved under the name
``"package>ClassName"`` and found again by that name when a model is loaded; `custom_objects`
(an argument, or a `CustomObjectScope`) maps names to objects for a single load.

>>> from ndflow import keras
>>> @keras.saving.register_keras_serializable(package="demo")
... class Scale(keras.layers.Layer):
...     def call(self, x):
...         return x * 2.0
>>> keras.saving.get_registered_name(Scale)
'demo>Scale'
>>> keras.saving.get_registered_object("demo>Scale") is Scale
True
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["register_keras_serializable", "get_registered_name", "get_registered_object",
           "get_custom_objects", "CustomObjectScope", "custom_object_scope"]

# "package>Name" -> object, and object -> "package>Name".
GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}


class _ScopeState(threading.local):
    def __init__(self) -> None:
        self.stack: list[dict] = []


_SCOPES = _ScopeState()


def scoped_custom_objects() -> dict:
    """The objects of all active `CustomObjectScope`s (innermost wins)."""
    out: dict = {}
    for d in _SCOPES.stack:
        out.update(d)
    return out


class CustomObjectScope:
    """Make ``custom_objects`` visible to deserialization inside a ``with`` block.

    >>> from ndflow import keras
    >>> def my_act(x):
    ...     return x
    >>> with keras.saving.CustomObjectScope({"my_act": my_act}):
    ...     keras.saving.get_registered_object("my_act") is my_act
    True
    """

    def __init__(self, custom_objects: dict | None = None, *more: dict) -> None:
        merged: dict = {}
        for d in (custom_objects, *more):
            if d is None:
                continue
            if not isinstance(d, dict):
                raise TypeError(f"CustomObjectScope: expected dicts of name -> object, got "
                                f"{type(d).__name__}")
            merged.update(d)
        self.custom_objects = merged

    def __enter__(self) -> CustomObjectScope:
        _SCOPES.stack.append(self.custom_objects)
        return self

    def __exit__(self, *exc: Any) -> None:
        _SCOPES.stack.pop()


custom_object_scope = CustomObjectScope


def get_custom_objects() -> dict:
    """The global registry ``{"package>Name": object}`` (a live dict, as in Keras).

    Adding an entry makes an object findable by that name when loading.
    """
    return GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package: str = "Custom", name: str | None = None
                                ) -> Callable[[Any], Any]:
    """Decorator: register a class or function under ``"package>name"`` for loading.

    Args:
        package: a namespace for the object (avoids clashes between libraries).
        name: the name inside the package (default: the class or function name).

    A registered class must implement ``get_config`` (unless it is a function).
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(f"register_keras_serializable: package must be a string without '>', "
                         f"got {package!r}")

    def decorator(arg: Any) -> Any:
        class_name = name if name is not None else getattr(arg, "__name__", None)
        if not class_name:
            raise ValueError(f"register_keras_serializable: cannot infer a name for {arg!r}; "
                             "pass name=...")
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError(
                f"register_keras_serializable: class {arg.__name__} cannot be registered "
                "because it has no get_config() method; implement get_config (and from_config "
                "if the constructor needs more than the config's keys).")
        registered = f"{package}>{class_name}"
        GLOBAL_CUSTOM_OBJECTS[registered] = arg
        GLOBAL_CUSTOM_NAMES[arg] = registered
        return arg

    return decorator


def get_registered_name(obj: Any) -> str:
    """The name ``obj`` is registered under, or its plain ``__name__`` if not registered."""
    try:
        registered = GLOBAL_CUSTOM_NAMES.get(obj)
    except TypeError:  # unhashable
        registered = None
    if registered is not None:
        return registered
    return getattr(obj, "__name__", type(obj).__name__)


def lookup_exact(name: str, custom_objects: dict | None = None) -> Any:
    """``name`` in ``custom_objects``, the active scopes or the registry (exact keys only)."""
    if not isinstance(name, str):
        return None
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    scoped = scoped_custom_objects()
    if name in scoped:
        return scoped[name]
    return GLOBAL_CUSTOM_OBJECTS.get(name)


def get_registered_object(name: str, custom_objects: dict | None = None,
                          module_objects: dict | None = None) -> Any:
    """Find ``name`` in, in order: active `CustomObjectScope`s, the global registry,
    ``custom_objects``, ``module_objects``, and finally (for a plain name) the one registered
    ``"package>name"`` with that name. Returns None when it is nowhere."""
    if not isinstance(name, str):
        return None
    scoped = scoped_custom_objects()
    if name in scoped:
        return scoped[name]
    if name in GLOBAL_CUSTOM_OBJECTS:
        return GLOBAL_CUSTOM_OBJECTS[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    if ">" not in name:  # written by its plain name: accept a unique registered match
        matches = [obj for key, obj in GLOBAL_CUSTOM_OBJECTS.items()
                   if key.split(">", 1)[1] == name]
        if len(matches) == 1:
            return matches[0]
    return None
