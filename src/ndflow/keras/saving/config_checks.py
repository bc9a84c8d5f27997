"""Check a config against the constructor it is for, before the object is built.

A config is JSON from a file. Each key must be an argument of the class's constructor, each
required argument must be there, and each value must have a type the argument's annotation
allows (checked where the annotation names only plain types: int, float, bool, str, None,
tuple, list, dict). The common layer arguments (``name``, ``trainable``, ``dtype``, shapes)
are checked for every layer. Every refusal is a `ConfigError` naming the class, the key, what
was expected and what came.

>>> from ndflow import keras
>>> check_init_config(keras.layers.Dense, {"units": "3"})
Traceback (most recent call last):
...
ndflow.keras.saving.config_checks.ConfigError: Dense: config key 'units' expects int, got str '3'
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any

from ndflow.keras.saving.file_io import FileFormatError

__all__ = ["ConfigError", "check_init_config", "constructor_keys"]


class ConfigError(FileFormatError):
    """A config does not fit the constructor of the class it names."""


_PLAIN = {"int", "float", "bool", "str", "None", "tuple", "list", "dict", "Sequence",
          "Optional", "Union", "typing", "collections", "abc"}
_JSON_TYPES = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,),
               "None": (type(None),), "tuple": (list, tuple), "list": (list, tuple),
               "Sequence": (list, tuple), "dict": (dict,)}


@functools.lru_cache(maxsize=1024)
def _signature(cls: type) -> tuple:
    """``(params by name, accepts **kwargs, base-layer keys allowed)`` of ``cls.__init__``,
    following ``**kwargs`` up the class hierarchy."""
    params: dict = {}
    var_kw = True
    first = True
    found = False
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        found = True
        try:
            sig = inspect.signature(init)
        except (TypeError, ValueError):
            return {}, True
        var_kw = False
        for p in list(sig.parameters.values())[1:]:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                if not first and p.default is p.empty:  # a base's required argument is the
                    p = p.replace(default=None)        # subclass's to pass, not the config's
                params.setdefault(p.name, p)
            elif p.kind is p.VAR_KEYWORD:
                var_kw = True
        if not var_kw:
            break
        first = False
    if not found:  # only object.__init__: the class takes no arguments
        return {}, False
    return params, var_kw


def constructor_keys(cls: type) -> frozenset | None:
    """The argument names ``cls(...)`` takes (its own and those ``**kwargs`` passes on to base
    classes), or None when it takes any keyword."""
    params, var_kw = _signature(cls)
    if not params and var_kw:
        return None
    return frozenset(params)


def _allowed_types(annotation: Any) -> tuple | None:
    """The JSON types an annotation allows, or None when it names anything but plain types."""
    if annotation is inspect.Parameter.empty:
        return None
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    if not text:
        return None
    tokens = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text))
    if not tokens or not tokens <= _PLAIN:
        return None
    top = re.sub(r"\[.*?\]", "", text)  # container element types are the layer's to check
    out: list = []
    for token in re.findall(r"[A-Za-z_][A-Za-z_0-9]*", top):
        out.extend(_JSON_TYPES.get(token, ()))
    return tuple(out) or None


def _describe(value: Any) -> str:
    r = repr(value)
    return f"{type(value).__name__} {r if len(r) <= 60 else r[:60] + '...'}"


def _fits(value: Any, types: tuple) -> bool:
    if isinstance(value, bool):
        return bool in types
    return isinstance(value, types)


def _check_shape(cls_name: str, key: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, (list, tuple)) or len(value) > 64 or not all(
            d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0)
            for d in value):
        raise ConfigError(f"{cls_name}: config key {key!r} expects a shape (a list of "
                          f"non-negative ints or null), got {_describe(value)}")


def check_init_config(cls: type, config: dict, base_keys: frozenset = frozenset()) -> None:
    """Raise `ConfigError` if ``config`` cannot be the keyword arguments of ``cls``.

    ``base_keys``: keys that ``**kwargs`` passes on to a base class (for built-in layers, the
    common layer arguments). Other keys that ``**kwargs`` takes are the constructor's to
    accept or refuse."""
    name = cls.__name__
    params, var_kw = _signature(cls)
    if not params and var_kw:
        return
    for key, p in params.items():
        if p.default is inspect.Parameter.empty and key not in config:
            raise ConfigError(f"{name}: the config lacks the required argument {key!r} "
                              f"(it has {sorted(config)[:12]})")
    from ndflow.keras.layers.layer import Layer

    is_layer = issubclass(cls, Layer)
    for key, value in config.items():
        if not isinstance(key, str):
            raise ConfigError(f"{name}: config keys must be strings, got {_describe(key)}")
        if is_layer and key in ("name",) and value is not None and not isinstance(value, str):
            raise ConfigError(f"{name}: config key 'name' expects a string, got "
                              f"{_describe(value)}")
        if is_layer and key == "trainable" and not isinstance(value, bool):
            raise ConfigError(f"{name}: config key 'trainable' expects true or false, got "
                              f"{_describe(value)}")
        if is_layer and key in ("batch_shape", "batch_input_shape", "input_shape", "shape"):
            _check_shape(name, key, value)
        if is_layer and key == "dtype" and not (value is None or isinstance(value, (str, dict))):
            raise ConfigError(f"{name}: config key 'dtype' expects a dtype name or policy, got "
                              f"{_describe(value)}")
        p = params.get(key)
        if p is None:
            if key in base_keys:
                continue
            if not var_kw:
                raise ConfigError(f"{name}: config key {key!r} is not an argument of {name} "
                                  f"(its arguments: {sorted(params)[:20]})")
            continue
        types = _allowed_types(p.annotation)
        if types is None or _fits(value, types):
            continue
        if value is None and p.default is None:
            continue
        expected = re.sub(r"\s+", " ", str(p.annotation))
        raise ConfigError(f"{name}: config key {key!r} expects {expected}, got "
                          f"{_describe(value)}")
