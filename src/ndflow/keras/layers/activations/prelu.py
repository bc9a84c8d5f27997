"""`PReLU` layer: a leaky rectifier whose negative slope `alpha` is learned.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layer = layers.PReLU()
>>> layer(np.array([[-1.0, 2.0]], "float32")).numpy().tolist()
[[0.0, 2.0]]
>>> [w.name for w in layer.weights], tuple(layer.alpha.shape)
(['alpha'], (2,))
"""

from __future__ import annotations

from typing import Any

from ndflow.keras import constraints, initializers, regularizers
from ndflow.keras.layers.layer import InputSpec, Layer
from ndflow.ops import math as m
from ndflow.ops.nn import relu


class PReLU(Layer):
    """`x` for `x >= 0`, `alpha * x` otherwise, with a trainable `alpha` of shape
    `input_shape[1:]` (size 1 along `shared_axes`, e.g. `shared_axes=[1, 2]` for one slope per
    channel of an image).

    >>> PReLU(shared_axes=[1]).get_config()["shared_axes"]
    [1]
    """

    def __init__(self, alpha_initializer: Any = "Zeros", alpha_regularizer: Any = None,
                 alpha_constraint: Any = None, shared_axes: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = [int(a) for a in shared_axes]
        else:
            self.shared_axes = [int(shared_axes)]

    def build(self, input_shape: Any) -> None:
        param_shape = list(input_shape[1:])
        if self.shared_axes is not None:
            for i in self.shared_axes:
                if not 1 <= i < len(input_shape):
                    raise ValueError(f"PReLU layer '{self.name}': shared axis {i} is out of "
                                     f"range for inputs of shape {tuple(input_shape)}")
                param_shape[i - 1] = 1
        if any(d is None for d in param_shape):
            raise ValueError(f"PReLU layer '{self.name}': the non-shared axes must have known "
                             f"sizes, got input shape {tuple(input_shape)}")
        self.alpha = self.add_weight(shape=tuple(param_shape), name="alpha",
                                     initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)
        axes = {}
        if self.shared_axes is not None:
            for i in range(1, len(input_shape)):
                if i not in self.shared_axes:
                    axes[i] = input_shape[i]
        else:
            axes = {i: input_shape[i] for i in range(1, len(input_shape))}
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)
        self.built = True

    def call(self, inputs: Any) -> Any:
        pos = relu(inputs)
        neg = m.multiply(m.negative(self.alpha), relu(m.negative(inputs)))
        return m.add(pos, neg)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        })
        return config
