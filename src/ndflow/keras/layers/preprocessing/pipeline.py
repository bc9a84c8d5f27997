"""`Pipeline`: apply a list of layers in order, as a plain layer (not a `Model`); meant for
preprocessing and augmentation chains, in a model or in `Dataset.map`.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> p = layers.Pipeline([layers.Rescaling(2.0), layers.Rescaling(0.5, offset=1.0)])
>>> p(np.array([[1.0, 3.0]], "float32")).numpy().tolist()
[[2.0, 4.0]]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.layer import Layer, get_keras_mask
from ndflow.util import nest


class Pipeline(Layer):
    """Call each layer of `layers` on the previous one's output. `training` defaults to True
    (as in Keras: augmentation runs unless told otherwise) and is passed to the layers that
    take it; each layer's output mask is passed on to the next layer that takes a `mask`.

    Args:
        layers: the layers, in order.
        name: the layer's name.

    >>> from ndflow.keras import layers
    >>> Pipeline([layers.Identity()]).get_config()["layers"][0]["class_name"]
    'Identity'
    """

    def __init__(self, layers: list, name: str | None = None) -> None:
        super().__init__(name=name)
        if not isinstance(layers, (list, tuple)) or not all(isinstance(v, Layer)
                                                            for v in layers):
            raise ValueError(f"Pipeline: expected a list of layers, got {layers!r}")
        # a plain attribute named as Keras's `layers` property: weight files keep the
        # sublayers under "<pipeline>/layers/...", where Keras writes them
        self.layers = list(layers)

    @property
    def _pipeline_layers(self) -> list:
        return self.layers

    def call(self, inputs: Any, training: Any = True, mask: Any = None) -> Any:
        outputs = inputs
        for layer in self._pipeline_layers:
            info = layer._info()
            kwargs: dict = {}
            if info.has_mask and mask is not None:
                kwargs["mask"] = mask
            if info.has_training and training is not None:
                kwargs["training"] = training
            outputs = layer(inputs, **kwargs)
            inputs = outputs
            mask = nest.map_structure(get_keras_mask, outputs) if nest.is_nested(outputs) \
                else get_keras_mask(outputs)
        return outputs

    def get_config(self) -> dict:
        from ndflow.keras.saving.serialization_lib import serialize_keras_object

        return {"layers": [serialize_keras_object(v) for v in self._pipeline_layers],
                "name": self.name}

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> Pipeline:
        from ndflow.keras.saving.serialization_lib import deserialize_keras_object

        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError("Pipeline: the config must map 'layers' to a list of serialized "
                             f"layers, got layers={layers!r}")
        config = {k: v for k, v in config.items() if k not in ("trainable", "dtype")}
        config["layers"] = [deserialize_keras_object(v, custom_objects=custom_objects)
                            for v in layers]
        return cls(**config)
