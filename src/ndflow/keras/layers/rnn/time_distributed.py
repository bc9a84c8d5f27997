"""`TimeDistributed`: apply a layer to every time step (axis 1) of its inputs.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> tuple(layers.TimeDistributed(layers.Dense(2))(np.ones((3, 5, 4), "float32")).shape)
(3, 5, 2)
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import SymbolicTensor, Tensor, convert_to_tensor
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.rnn.rnn import _deserialize, _serialize, check_mask
from ndflow.ops._util import shape_of
from ndflow.ops.shape_ops import reshape


class TimeDistributed(Layer):
    """Keras 3 `TimeDistributed(layer)`: the same weights for every step. The batch and time
    axes are folded into one for a single call of `layer`, then split again.

    >>> from ndflow.keras import layers
    >>> TimeDistributed(layers.Dense(3)).get_config()["layer"]["class_name"]
    'Dense'
    """

    def __init__(self, layer: Any, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(f"TimeDistributed: expected a Layer, got {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True

    def _check(self, shape: tuple) -> None:
        if len(shape) < 3:
            raise ValueError(f"TimeDistributed layer '{self.name}': expected inputs of rank "
                             f">= 3 (batch, time, ...), got shape {shape}")

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        self._check(shape)
        if not self.layer.built:
            self.layer.build((None,) + shape[2:])
            self.layer.built = True
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shape = tuple(input_shape)
        self._check(shape)
        inner = self.layer.compute_output_shape((None,) + shape[2:])
        return shape[:2] + tuple(inner)[1:]

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        x = args[0] if args else kwargs["inputs"]
        return SymbolicTensor(self.compute_output_shape(tuple(x.shape)), self.compute_dtype)

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Tensor:
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        shape = tuple(shape_of(x))
        self._check(shape)
        b, steps = shape[0], shape[1]
        flat = reshape(x, (-1,) + shape[2:])
        kw: dict = {}
        info = self.layer._info()
        if info.has_training:
            kw["training"] = training
        mk = check_mask(self, mask, x)
        if mk is not None and info.has_mask:
            kw["mask"] = reshape(mk, (-1,))
        y = self.layer(flat, **kw)
        ys = tuple(shape_of(y))
        return reshape(y, (b if b is not None else -1, steps) + ys[1:])

    def get_config(self) -> dict:
        config = super().get_config()
        config["layer"] = _serialize(self.layer)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> TimeDistributed:
        config = dict(config)
        layer = _deserialize(config.pop("layer"), custom_objects)
        return cls(layer, **config)
