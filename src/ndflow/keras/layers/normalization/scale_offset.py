"""The learned scale (`gamma`) and offset (`beta`) options the normalization layers share:
their initializers, regularizers and constraints, resolved in `__init__` and written back by
`get_config`.

>>> from ndflow.keras import layers
>>> sorted(scale_offset_config(layers.LayerNormalization()))[:2]
['beta_constraint', 'beta_initializer']
"""

from __future__ import annotations

from typing import Any

from ndflow.keras import constraints, initializers, regularizers

_KINDS = (("initializer", initializers), ("regularizer", regularizers),
          ("constraint", constraints))


def set_scale_offset(layer: Any, beta_initializer: Any, gamma_initializer: Any,
                     beta_regularizer: Any, gamma_regularizer: Any, beta_constraint: Any,
                     gamma_constraint: Any) -> None:
    """Resolve the six options (names or objects) onto `layer` as attributes."""
    values = iter((beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
                   beta_constraint, gamma_constraint))
    for kind, module in _KINDS:
        for param in ("beta", "gamma"):
            setattr(layer, f"{param}_{kind}", module.get(next(values)))


def scale_offset_config(layer: Any) -> dict:
    """The six options of `layer`, serialized for its config."""
    return {f"{param}_{kind}": module.serialize(getattr(layer, f"{param}_{kind}"))
            for kind, module in _KINDS for param in ("beta", "gamma")}
