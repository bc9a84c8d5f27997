"""`BaseConvTranspose`: transposed N-d convolution (Conv1DTranspose, Conv2DTranspose,
Conv3DTranspose), the gradient of a convolution with respect to its input.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layer = layers.Conv2DTranspose(4, 3, strides=2, padding="same")
>>> layer(np.ones((2, 5, 5, 3), "float32")).shape
TensorShape([2, 10, 10, 4])
>>> tuple(layer.kernel.shape)  # (kh, kw, filters, in_channels), as in Keras
(3, 3, 4, 3)
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.errors import InvalidArgumentError
from ndflow.keras import activations, constraints, initializers, regularizers
from ndflow.keras import config as _config
from ndflow.keras.layers.convolutional.base_conv import coerce_input
from ndflow.keras.layers.convolutional.conv_utils import (
    conv_transpose_output_shape, layer_error, standardize_padding, standardize_tuple,
)
from ndflow.keras.layers.layer import InputSpec, Layer
from ndflow.ops import math as m
from ndflow.ops._util import shape_of
from ndflow.ops.conv import conv_backprop_input_normalized, conv_transpose_output_length
from ndflow.ops.shape_ops import reshape


class BaseConvTranspose(Layer):
    """Abstract transposed convolution: `activation(conv_transpose(inputs, kernel) + bias)`.

    Args:
        rank, filters, kernel_size, strides, padding ("valid" or "same"), data_format,
        dilation_rate, activation, use_bias, initializers/regularizers/constraints: as in
        `BaseConv`.
        output_padding: int or tuple of `rank` ints (each less than the stride): extra rows
            added at the end of each spatial dim; None infers the Keras default length
            (`in * stride` for "same").

    The kernel has shape `kernel_size + (filters, in_channels)`, the bias `(filters,)`.
    """

    def __init__(self, rank: int, filters: int, kernel_size: Any, strides: Any = 1,
                 padding: str = "valid", output_padding: Any = None,
                 data_format: str | None = None, dilation_rate: Any = 1, activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        cls = type(self).__name__
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{cls}: expected filters to be a positive integer, got "
                             f"filters={filters!r}")
        self.rank = rank
        self.filters = filters
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size", cls)
        self.strides = standardize_tuple(strides, rank, "strides", cls)
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate", cls)
        self.padding = standardize_padding(padding, cls)
        self.output_padding = None if output_padding is None else standardize_tuple(
            output_padding, rank, "output_padding", cls, allow_zero=True)
        if self.output_padding is not None:
            for op, st in zip(self.output_padding, self.strides):
                if op >= st:
                    raise ValueError(f"{cls}: expected output_padding smaller than strides, got "
                                     f"output_padding={self.output_padding} and "
                                     f"strides={self.strides}")
        self.data_format = _config.standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=rank + 2)

    @property
    def _cf(self) -> bool:
        return self.data_format == "channels_first"

    def build(self, input_shape: Any) -> None:
        input_shape = tuple(input_shape)
        in_ch = input_shape[1 if self._cf else -1]
        if in_ch is None:
            raise ValueError(f"{type(self).__name__} layer '{self.name}': the channel dimension "
                             f"of the inputs must be known, got input shape {input_shape}")
        self.kernel = self.add_weight(
            name="kernel", shape=self.kernel_size + (self.filters, in_ch),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={1 if self._cf else -1: in_ch})
        self.built = True

    def call(self, inputs: Any) -> Tensor:
        x = coerce_input(self, inputs, self.kernel)
        shape = tuple(shape_of(x))
        n = shape[0]
        spatial = shape[2:] if self._cf else shape[1:-1]
        geo = {"strides": self.strides, "dilations": self.dilation_rate, "groups": 1,
               "channels_first": self._cf}
        if self.output_padding is None:
            pad = "VALID" if self.padding == "valid" else "SAME"
            out = tuple(conv_transpose_output_length(s, k, st, d, pad) for s, k, st, d in
                        zip(spatial, self.kernel_size, self.strides, self.dilation_rate))
            crop = None
        else:
            # full (VALID) transposed convolution, then Keras's crop of `pad` before and the
            # requested length
            pad = "VALID"
            out, crop = [], []
            for s, k, st, d, op in zip(spatial, self.kernel_size, self.strides,
                                       self.dilation_rate, self.output_padding):
                eff = (k - 1) * d + 1
                p = 0 if self.padding == "valid" else eff // 2
                length = (s - 1) * st + eff - 2 * p + op
                full = (s - 1) * st + eff
                out.append(max(full, p + length))
                crop.append((p, length))
            out = tuple(out)
        oshape = (n, self.filters) + out if self._cf else (n,) + out + (self.filters,)
        try:
            y = conv_backprop_input_normalized(x, self.kernel, **dict(geo, padding=pad),
                                               input_shape=oshape)
        except InvalidArgumentError as e:
            raise layer_error(self, e) from None
        if crop is not None:
            key = tuple(slice(p, p + length) for p, length in crop)
            y = y[(slice(None), slice(None)) + key] if self._cf else y[(slice(None),) + key]
        if self.use_bias:
            b = self.bias
            if self._cf:
                b = reshape(b, (self.filters,) + (1,) * self.rank)
            y = m.add(y, b)
        return y if self.activation is activations.linear else self.activation(y)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return conv_transpose_output_shape(tuple(input_shape), self.filters, self.kernel_size,
                                           self.strides, self.padding, self.output_padding,
                                           self.data_format, self.dilation_rate)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
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
