"""`keras.regularizers`: L1, L2, L1L2, OrthogonalRegularizer and `get`.

>>> from ndflow.keras import regularizers
>>> regularizers.get("l2").get_config()
{'l2': 0.01}
"""

from __future__ import annotations

from typing import Any

from ndflow.keras import _objects
from ndflow.keras.regularizers.regularizers import (
    L1, L1L2, L2, OrthogonalRegularizer, Regularizer, l1, l1_l2, l2, orthogonal_regularizer,
)

ALL_OBJECTS = (Regularizer, L1, L2, L1L2, OrthogonalRegularizer)
ALL_OBJECTS_DICT: dict[str, Any] = {c.__name__: c for c in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({"regularizer": Regularizer, "l1": L1, "l2": L2, "l1_l2": L1L2,
                         "l1l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer})


def serialize(regularizer: Any) -> dict | None:
    """Keras 3 config dict of a regularizer.

    >>> serialize(L1(0.1))["config"]
    {'l1': 0.1}
    """
    return _objects.serialize(regularizer, ALL_OBJECTS_DICT, "keras.regularizers",
                              "regularizers")


def deserialize(config: Any, custom_objects: dict | None = None) -> Any:
    """A regularizer from its config dict or name.

    >>> deserialize({"class_name": "L2", "config": {"l2": 0.5}}).l2
    0.5
    """
    return _objects.deserialize(config, ALL_OBJECTS_DICT, "regularizers", custom_objects)


def get(identifier: Any) -> Any:
    """Resolve a regularizer from None, a name, a config dict or a callable.

    >>> get(None) is None
    True
    """
    return _objects.get(identifier, ALL_OBJECTS_DICT, "regularizers", "l2")


__all__ = ["L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer", "deserialize", "get",
           "l1", "l1_l2", "l2", "orthogonal_regularizer", "serialize"]
