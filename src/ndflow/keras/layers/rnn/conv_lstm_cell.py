"""`ConvLSTMCell`: one step of a convolutional LSTM (Shi et al., 2015): the LSTM's matmuls are
convolutions, the states are feature maps. Used by `ConvLSTM1D/2D/3D`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.keras import activations, initializers
from ndflow.keras.layers.convolutional.conv_utils import (
    conv_output_shape, standardize_padding, standardize_tuple,
)
from ndflow.keras.layers.rnn.cell_base import BuiltinCell
from ndflow.ops import math as m
from ndflow.ops.conv import conv


class ConvLSTMCell(BuiltinCell):
    """Keras 3's ConvLSTM cell (channels_last). Weights: `kernel` (*kernel_size, in_channels,
    4 * filters), `recurrent_kernel` (*kernel_size, filters, 4 * filters), `bias`
    (4 * filters,), gate blocks i, f, c, o on the last axis. The input convolution uses
    `strides`, `padding` and `dilation_rate`; the recurrent one stride 1 and "same" padding.
    """

    _gates = 4

    def __init__(self, rank: int, filters: int, kernel_size: Any, strides: Any = 1,
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(filters, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        cls = type(self).__name__
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{cls}: only data_format='channels_last' is supported by ndflow, "
                             f"got data_format={data_format!r}")
        self.rank = rank
        self.filters = filters
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size", cls)
        self.strides = standardize_tuple(strides, rank, "strides", cls)
        self.padding = standardize_padding(padding, cls)
        self.data_format = "channels_last"
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate", cls)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{cls}: strides > 1 with dilation_rate > 1 is not supported")
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [filters, filters]

    def output_map_shape(self, step_shape: tuple) -> tuple:
        """(batch, *spatial_out, filters) for one step's input shape."""
        return conv_output_shape(tuple(step_shape), self.filters, self.kernel_size,
                                 self.strides, self.padding, "channels_last",
                                 self.dilation_rate)

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        cls = type(self).__name__
        if len(shape) != self.rank + 2 or any(d is None for d in shape[1:]):
            raise ValueError(f"{cls} '{self.name}': expected steps of shape (batch, "
                             f"{', '.join(['dim'] * self.rank)}, channels) with known dims, got "
                             f"{shape}")
        n = self.filters
        self.kernel = self.add_weight(
            shape=self.kernel_size + (shape[-1], 4 * n), name="kernel",
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=self.kernel_size + (n, 4 * n), name="recurrent_kernel",
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            init = self.bias_initializer
            if self.unit_forget_bias:
                base = init

                def init(shape: Any, dtype: Any = None) -> Any:
                    b = np.asarray(base((n,), dtype=dtype))
                    return np.concatenate([b, np.ones((n,), b.dtype),
                                           np.asarray(base((2 * n,), dtype=dtype))])
            self._add_bias((4 * n,), initializers.get(init))
        self.built = True

    def _fast_ok(self) -> bool:
        return False  # steps run through the RNN loop (convolutions on ndflow ops)

    def call(self, inputs: Any, states: Any, training: Any = False) -> tuple:
        h, c = states[0], states[1]
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        dp = self.get_dropout_mask(x) if training else None
        rd = self.get_recurrent_dropout_mask(h) if training else None
        if dp is not None:
            x = m.multiply(x, dp)
        hr = m.multiply(h, rd) if rd is not None else h
        z = conv(x, self.kernel, self.strides, self.padding.upper(),
                 dilations=self.dilation_rate, bias=self.bias)
        z = m.add(z, conv(hr, self.recurrent_kernel, 1, "SAME"))
        n = self.filters
        i = self.recurrent_activation(z[..., :n])
        f = self.recurrent_activation(z[..., n:2 * n])
        g = self.activation(z[..., 2 * n:3 * n])
        o = self.recurrent_activation(z[..., 3 * n:])
        c_new = m.add(m.multiply(f, c), m.multiply(i, g))
        h_new = m.multiply(o, self.activation(c_new))
        return h_new, [h_new, c_new]

    def get_config(self) -> dict:
        config = self._base_config()
        config.pop("units", None)
        config.update({
            "rank": self.rank, "filters": self.filters, "kernel_size": list(self.kernel_size),
            "strides": list(self.strides), "padding": self.padding,
            "data_format": self.data_format, "dilation_rate": list(self.dilation_rate),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
        })
        return config
