"""`keras.constraints`: MaxNorm, MinMaxNorm, NonNeg, UnitNorm and `get`.

>>> from ndflow.keras import constraints
>>> type(constraints.get("non_neg")).__name__
'NonNeg'
"""

from __future__ import annotations

from typing import Any

from ndflow.keras import _objects
from ndflow.keras.constraints.constraints import (
    Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm, max_norm, min_max_norm, non_neg,
    unit_norm,
)

ALL_OBJECTS = (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)
ALL_OBJECTS_DICT: dict[str, Any] = {c.__name__: c for c in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({"constraint": Constraint, "max_norm": MaxNorm, "maxnorm": MaxNorm,
                         "min_max_norm": MinMaxNorm, "minmaxnorm": MinMaxNorm,
                         "non_neg": NonNeg, "nonneg": NonNeg, "unit_norm": UnitNorm,
                         "unitnorm": UnitNorm})


def serialize(constraint: Any) -> dict | None:
    """Keras 3 config dict of a constraint.

    >>> serialize(MaxNorm(3))["config"]
    {'max_value': 3, 'axis': 0}
    """
    return _objects.serialize(constraint, ALL_OBJECTS_DICT, "keras.constraints", "constraints")


def deserialize(config: Any, custom_objects: dict | None = None) -> Any:
    """A constraint from its config dict or name.

    >>> deserialize({"class_name": "UnitNorm", "config": {"axis": 1}}).axis
    1
    """
    return _objects.deserialize(config, ALL_OBJECTS_DICT, "constraints", custom_objects)


def get(identifier: Any) -> Any:
    """Resolve a constraint from None, a name, a config dict or a callable.

    >>> get(None) is None
    True
    """
    return _objects.get(identifier, ALL_OBJECTS_DICT, "constraints", "max_norm")


__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "deserialize", "get",
           "max_norm", "min_max_norm", "non_neg", "serialize", "unit_norm"]
