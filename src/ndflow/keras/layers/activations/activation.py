"""`Activation`: apply an activation function as a layer.

>>> from ndflow.keras import layers
>>> layers.Activation("relu")([-1.0, 2.0]).numpy().tolist()
[0.0, 2.0]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras import activations
from ndflow.keras.layers.layer import Layer


class Activation(Layer):
    """Applies `activation` (a name such as "relu", or a callable) to its inputs.

    >>> Activation("sigmoid")([0.0]).numpy().tolist()
    [0.5]
    """

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)
        self.built = True

    def call(self, inputs: Any) -> Any:
        return self.activation(inputs)

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        return self.call(*args, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config
