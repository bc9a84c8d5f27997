"""`Wrapper`: the base class of layers that wrap another layer (Keras's
`SpectralNormalization`, and the pattern behind `TimeDistributed`/`Bidirectional`).

>>> from ndflow.keras import layers
>>> class Twice(layers.Wrapper):
...     def call(self, x):
...         return self.layer(self.layer(x))
>>> Twice(layers.Dense(2)).get_config()["layer"]["class_name"]
'Dense'
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.layer import Layer


class Wrapper(Layer):
    """Holds `layer` (tracked, so its weights are the wrapper's), builds it on the wrapper's
    build, and serialises it inside the wrapper's config. Subclasses implement `call`.

    Args:
        layer: the wrapped `Layer`.
    """

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(f"{type(self).__name__}: expected a Keras Layer to wrap, got "
                             f"{layer!r} (type {type(layer).__name__}). Pass a layer "
                             "instance, e.g. layers.Dense(4).")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape: Any = None) -> None:
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
        self.built = True

    def get_config(self) -> dict:
        from ndflow.keras.saving.serialization_lib import serialize_keras_object

        config = super().get_config()
        config["layer"] = serialize_keras_object(self.layer)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> Wrapper:
        from ndflow.keras.saving.serialization_lib import deserialize_keras_object

        config = dict(config)
        layer = deserialize_keras_object(config.pop("layer"), custom_objects=custom_objects)
        if "dtype" in config and isinstance(config["dtype"], dict):
            from ndflow.keras.layers.layer import _policy_name

            config["dtype"] = _policy_name(config["dtype"])
        return cls(layer, **config)
