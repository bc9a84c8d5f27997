"""`BaseConv`: the N-d convolution layer behind Conv1D, Conv2D and Conv3D.

The forward pass is one fused op (im2col + GEMM, bias added and relu applied in place into the
GEMM's output), so a `Conv2D(..., activation="relu")` call costs one kernel and one output
buffer.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layer = layers.Conv2D(4, 3, activation="relu")
>>> layer(np.ones((2, 8, 8, 3), "float32")).shape
TensorShape([2, 6, 6, 4])
>>> [(w.name, tuple(w.shape)) for w in layer.weights]
[('kernel', (3, 3, 3, 4)), ('bias', (4,))]
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.errors import InvalidArgumentError
from ndflow.keras import activations, constraints, initializers, regularizers
from ndflow.keras import config as _config
from ndflow.keras.layers.convolutional.conv_utils import (
    conv_output_shape, layer_error, standardize_padding, standardize_tuple,
)
from ndflow.keras.layers.layer import InputSpec, Layer
from ndflow.ops import math as m
from ndflow.ops._util import npdt
from ndflow.ops.array import pad as _pad
from ndflow.ops.conv import conv_normalized
from ndflow.ops.nn import bias_add


def coerce_input(layer: Layer, inputs: Any, like: Tensor) -> Tensor:
    """`inputs` as a Tensor of the dtype of the layer's weight `like`."""
    x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
    if npdt(x) != npdt(like):
        x = m.cast(x, npdt(like))
    return x


class BaseConv(Layer):
    """Abstract N-d convolution: `activation(conv(inputs, kernel) + bias)`.

    Args:
        rank: number of spatial dims (1, 2 or 3).
        filters: number of output channels.
        kernel_size: int or tuple of `rank` ints.
        strides: int or tuple of `rank` ints.
        padding: "valid", "same" (TensorFlow's rule: the odd pixel of padding goes after), or
            "causal" (Conv1D only: left padding, outputs never see later timesteps).
        data_format: "channels_last" (default) or "channels_first".
        dilation_rate: int or tuple of `rank` ints.
        groups: split the input channels into this many groups, each convolved with its own
            `filters / groups` filters.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as in Dense.

    The kernel has shape `kernel_size + (in_channels // groups, filters)`, the bias
    `(filters,)`, as in Keras.
    """

    def __init__(self, rank: int, filters: int, kernel_size: Any, strides: Any = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: Any = 1,
                 groups: int = 1, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        kwargs.pop("lora_rank", None)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        cls = type(self).__name__
        self.rank = rank
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{cls}: expected filters to be a positive integer, got "
                             f"filters={filters!r}")
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{cls}: expected groups to be a positive integer, got "
                             f"groups={groups!r}")
        if filters % groups:
            raise ValueError(f"{cls}: expected filters divisible by groups, got filters={filters}"
                             f" and groups={groups}")
        self.filters = filters
        self.groups = groups
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size", cls)
        self.strides = standardize_tuple(strides, rank, "strides", cls)
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate", cls)
        self.padding = standardize_padding(padding, cls, allow_causal=rank == 1)
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
    def _channel_axis(self) -> int:
        return 1 if self.data_format == "channels_first" else -1

    def build(self, input_shape: Any) -> None:
        input_shape = tuple(input_shape)
        cls = type(self).__name__
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{cls} layer '{self.name}': expected inputs of rank "
                             f"{self.rank + 2} (batch, {self.rank} spatial dims, channels), got "
                             f"input shape {input_shape}")
        in_ch = input_shape[self._channel_axis]
        if in_ch is None:
            raise ValueError(f"{cls} layer '{self.name}': the channel dimension of the inputs "
                             f"must be known to create the kernel, got input shape "
                             f"{input_shape}")
        if in_ch % self.groups:
            raise ValueError(f"{cls} layer '{self.name}': expected a number of input channels "
                             f"divisible by groups={self.groups}, got {in_ch} (input shape "
                             f"{input_shape})")
        self.kernel = self.add_weight(
            name="kernel", shape=self.kernel_size + (in_ch // self.groups, self.filters),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: in_ch})
        self._set_attrs()
        self.built = True

    def _set_attrs(self) -> None:
        self._post = None if self.activation is activations.linear else self.activation
        self._attrs = {"strides": self.strides, "dilations": self.dilation_rate,
                       "padding": "VALID" if self.padding in ("valid", "causal") else "SAME",
                       "groups": self.groups,
                       "channels_first": self.data_format == "channels_first"}

    def _causal_pad(self, x: Tensor) -> Tensor:
        left = (self.kernel_size[0] - 1) * self.dilation_rate[0]
        pads = [[0, 0], [0, 0], [left, 0]] if self.data_format == "channels_first" else \
            [[0, 0], [left, 0], [0, 0]]
        return _pad(x, pads)

    def convolution_op(self, inputs: Tensor, kernel: Tensor, bias: Tensor | None = None
                       ) -> Tensor:
        try:
            y = conv_normalized(inputs, kernel, **self._attrs)
        except InvalidArgumentError as e:
            raise layer_error(self, e) from None
        if bias is not None:
            y = bias_add(y, bias, self.data_format)
        return y

    def call(self, inputs: Any) -> Tensor:
        kernel = self.kernel
        x = inputs
        if not (isinstance(x, Tensor) and not x._symbolic and x._value.dtype is
                kernel._value.dtype):
            x = coerce_input(self, inputs, kernel)
        if self.padding == "causal":
            x = self._causal_pad(x)
        y = self.convolution_op(x, kernel, self.bias)
        post = self._post
        return y if post is None else post(y)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        try:
            return conv_output_shape(tuple(input_shape), self.filters, self.kernel_size,
                                     self.strides, self.padding, self.data_format,
                                     self.dilation_rate)
        except ValueError as e:
            raise ValueError(f"{type(self).__name__} layer '{self.name}': {e}") from None

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
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
