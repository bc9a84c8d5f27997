"""`Dense`: `activation(inputs @ kernel + bias)`, as the three ops it is.

In graph functions (what `fit` runs) the compiler fuses the bias add and the activation into
one element-wise pass over the matmul's output buffer, and their gradients likewise.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layer = layers.Dense(4, activation="relu")
>>> layer(np.ones((2, 3), "float32")).shape
TensorShape([2, 4])
>>> [(w.name, tuple(w.shape)) for w in layer.weights]
[('kernel', (3, 4)), ('bias', (4,))]
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras import activations, constraints, initializers, regularizers
from ndflow.keras.layers.layer import InputSpec, Layer
from ndflow.ops import math as m
from ndflow.ops.linalg import matmul


def _reject_unsupported(layer: str, kwargs: dict) -> None:
    """Accept the LoRA / quantization keys that Keras 3 writes into configs when they are unset
    (so saved Keras configs load), and refuse them clearly when set."""
    for key in ("lora_rank", "lora_alpha", "quantization_config"):
        if key in kwargs:
            value = kwargs.pop(key)
            if value is not None:
                raise ValueError(f"{layer}: {key}={value!r} is not supported by ndflow (no LoRA "
                                 "or quantization); leave it unset")


class Dense(Layer):
    """Densely-connected layer: `output = activation(dot(input, kernel) + bias)`.

    Inputs of shape `(batch, ..., input_dim)` give outputs `(batch, ..., units)`; the kernel
    has shape `(input_dim, units)` and the bias `(units,)`.

    Args:
        units: positive int, size of the output.
        activation: activation name or callable (None: linear).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers (default glorot_uniform, zeros).
        kernel_regularizer, bias_regularizer, activity_regularizer: regularizers.
        kernel_constraint, bias_constraint: constraints applied after optimizer updates.

    >>> import numpy as np
    >>> Dense(2, kernel_initializer="ones")(np.ones((1, 3), "float32")).numpy().tolist()
    [[3.0, 3.0]]
    """

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        _reject_unsupported("Dense", kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"Dense: expected units to be a positive integer, got "
                             f"units={units!r}")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape: Any) -> None:
        input_shape = tuple(input_shape)
        if not input_shape:
            raise ValueError(f"Dense layer '{self.name}': expected inputs with a feature axis "
                             "(rank >= 1, usually (batch, features)), got a scalar. Wrap a "
                             "single sample as [[...]] or use a keras.Input(shape=(n,)).")
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"Dense layer '{self.name}': the last dimension of the inputs must "
                             f"be known to create the kernel, got input shape {input_shape}")
        self.kernel = self.add_weight(name="kernel", shape=(in_dim, self.units),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_dim})
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        k = self.kernel
        try:
            same = inputs._value.dtype is k._value.dtype
        except AttributeError:  # symbolic inputs, or not a tensor
            same = False
        if not same:
            inputs = self._coerce(inputs)
        x = matmul(inputs, k)
        if self.bias is not None:
            x = m.add(x, self.bias)
        act = self.activation
        return x if act is activations.linear else act(x)

    def _coerce(self, inputs: Any) -> Tensor:
        from ndflow.core.tensor import convert_to_tensor
        from ndflow.ops._util import npdt

        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        kdt = npdt(self.kernel)
        if npdt(x) != kdt:
            x = m.cast(x, kdt)
        return x

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shape = list(input_shape)
        shape[-1] = self.units
        return tuple(shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config
