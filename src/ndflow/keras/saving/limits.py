"""Limits that a file must stay within before ndflow does any work to load it.

A genuine model stays far below every default; a hostile or broken file that exceeds one is
refused with a `LoadLimitError` naming the limit and how to raise it. The limits are one
process-wide setting (`set_load_limits`) that a ``with load_limits(...)`` block can change for
one load.

>>> from ndflow import keras
>>> keras.saving.get_load_limits().max_layers
20000
>>> with keras.saving.load_limits(max_layers=50):
...     keras.saving.get_load_limits().max_layers
50
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

from ndflow.keras.saving.file_io import FileFormatError

__all__ = ["LoadLimits", "LoadLimitError", "get_load_limits", "set_load_limits", "load_limits"]


@dataclasses.dataclass(frozen=True)
class LoadLimits:
    """What a model file may declare.

    Attributes:
        max_layers: layers in the whole config, nested models included.
        max_config_depth: nesting depth of config.json (objects and lists).
        max_config_bytes: size of config.json / metadata.json.
        max_weight_bytes: the weights' total size declared by the HDF5 datasets, checked
            before any array is allocated.
        max_expansion_ratio: how much a compressed member or dataset may expand
            (uncompressed / compressed size) beyond the first 16 MiB; Keras and ndflow
            store weights uncompressed.
        allow_nonfinite_weights: load NaN/inf weights from any file (by default only from
            datasets that ndflow itself saved non-finite, see `saving_lib`).
        max_asset_bytes: the total size of the asset files (``assets/`` in the archive,
            e.g. vocabularies) that a load extracts.
    """

    max_layers: int = 20_000
    max_config_depth: int = 200
    max_config_bytes: int = 64 << 20
    max_weight_bytes: int = 32 << 30
    max_expansion_ratio: int = 20
    allow_nonfinite_weights: bool = False
    max_asset_bytes: int = 1 << 30


class LoadLimitError(FileFormatError):
    """A file exceeds one of the `LoadLimits`."""


_FIELDS = {f.name: f.type for f in dataclasses.fields(LoadLimits)}
_LOCK = threading.Lock()
_CURRENT = LoadLimits()


def get_load_limits() -> LoadLimits:
    """The limits in force."""
    return _CURRENT


def _validated(changes: dict) -> dict:
    for key, value in changes.items():
        if key not in _FIELDS:
            raise ValueError(f"set_load_limits: unknown limit {key!r}; the limits are "
                             f"{sorted(_FIELDS)}")
        if key == "allow_nonfinite_weights":
            if not isinstance(value, bool):
                raise ValueError(f"set_load_limits: {key} must be True or False, got "
                                 f"{value!r}")
        elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"set_load_limits: {key} must be a positive integer, got "
                             f"{value!r}")
    return changes


def set_load_limits(**changes: Any) -> LoadLimits:
    """Change some limits for the whole process; returns the previous limits.

    >>> from ndflow import keras
    >>> old = keras.saving.set_load_limits(max_layers=100_000)
    >>> _ = keras.saving.set_load_limits(**dataclasses.asdict(old))
    """
    global _CURRENT
    with _LOCK:
        previous = _CURRENT
        _CURRENT = dataclasses.replace(_CURRENT, **_validated(changes))
    return previous


@contextlib.contextmanager
def load_limits(**changes: Any) -> Iterator[LoadLimits]:
    """Change some limits inside a ``with`` block (restored afterwards)."""
    previous = set_load_limits(**changes)
    try:
        yield _CURRENT
    finally:
        set_load_limits(**dataclasses.asdict(previous))


def exceeded(where: str, what: str, value: Any, limit_name: str) -> LoadLimitError:
    """The error for a file whose ``what`` (``value``) exceeds ``limit_name``."""
    limit = getattr(_CURRENT, limit_name)
    return LoadLimitError(
        f"Refusing to load {where}: {what} is {value:,}, more than the limit "
        f"{limit_name}={limit:,}. A genuine model stays far below it; if you trust this file, "
        f"raise the limit: keras.saving.set_load_limits({limit_name}=...) (or use "
        f"`with keras.saving.load_limits({limit_name}=...):` around the load).")


def check_config(config: Any, where: str) -> None:
    """Depth and layer count of a parsed config.json, checked iteratively (no recursion)."""
    limits = _CURRENT
    layers = 0
    stack: list = [(config, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limits.max_config_depth:
            raise exceeded(where, "the nesting depth of config.json", depth, "max_config_depth")
        if isinstance(value, dict):
            inner = value.get("layers")
            if isinstance(inner, list):
                layers += len(inner)
                if layers > limits.max_layers:
                    raise exceeded(where, "the number of layers in config.json",
                                   _count_layers(config), "max_layers")
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def _count_layers(config: Any) -> int:
    total = 0
    stack = [config]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if isinstance(value.get("layers"), list):
                total += len(value["layers"])
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return total
