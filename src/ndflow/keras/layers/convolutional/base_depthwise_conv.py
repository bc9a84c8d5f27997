"""`BaseDepthwiseConv`: each input channel convolved with its own `depth_multiplier` filters
(DepthwiseConv1D, DepthwiseConv2D), and `BaseSeparableConv`: a depthwise convolution followed
by a 1x1 pointwise convolution (SeparableConv1D, SeparableConv2D).

Both run on the grouped-convolution op (groups = in_channels), whose depthwise path needs no
column buffer: one multiply-add per kernel offset.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layer = layers.DepthwiseConv2D(3, depth_multiplier=2)
>>> layer(np.ones((1, 5, 5, 3), "float32")).shape
TensorShape([1, 3, 3, 6])
>>> tuple(layer.kernel.shape)
(3, 3, 3, 2)
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.errors import InvalidArgumentError
from ndflow.keras import activations, constraints, initializers, regularizers
from ndflow.keras import config as _config
from ndflow.keras.layers.convolutional.base_conv import coerce_input
from ndflow.keras.layers.convolutional.conv_utils import (
    conv_output_shape, layer_error, standardize_padding, standardize_tuple,
)
from ndflow.keras.layers.layer import InputSpec, Layer
from ndflow.ops.conv import conv_normalized
from ndflow.ops.nn import bias_add
from ndflow.ops.shape_ops import reshape


class _DepthwiseBase(Layer):
    """Shared argument handling of the depthwise and separable layers."""

    def _init_common(self, rank: int, kernel_size: Any, strides: Any, padding: str,
                     depth_multiplier: int, data_format: str | None, dilation_rate: Any,
                     activation: Any, use_bias: bool) -> None:
        cls = type(self).__name__
        self.rank = rank
        if isinstance(depth_multiplier, bool) or not isinstance(depth_multiplier, int) or \
                depth_multiplier <= 0:
            raise ValueError(f"{cls}: expected depth_multiplier to be a positive integer, got "
                             f"depth_multiplier={depth_multiplier!r}")
        self.depth_multiplier = depth_multiplier
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size", cls)
        self.strides = standardize_tuple(strides, rank, "strides", cls)
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate", cls)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{cls}: strides > 1 is not supported together with "
                             f"dilation_rate > 1, got strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.padding = standardize_padding(padding, cls)
        self.data_format = _config.standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.input_spec = InputSpec(ndim=rank + 2)

    @property
    def _ch_axis(self) -> int:
        return 1 if self.data_format == "channels_first" else -1

    def _in_channels(self, input_shape: tuple) -> int:
        input_shape = tuple(input_shape)
        c = input_shape[self._ch_axis]
        if c is None:
            raise ValueError(f"{type(self).__name__} layer '{self.name}': the channel dimension "
                             f"of the inputs must be known, got input shape {input_shape}")
        return int(c)

    def _depthwise(self, x: Tensor, kernel: Tensor, bias: Tensor | None,
                   act: Any = None) -> Tensor:
        c = kernel.shape[-2]
        w = reshape(kernel, tuple(self.kernel_size) + (1, c * self.depth_multiplier))
        try:
            y = conv_normalized(x, w, strides=self.strides, dilations=self.dilation_rate,
                                padding=self.padding.upper(), groups=int(c),
                                channels_first=self.data_format == "channels_first")
        except InvalidArgumentError as e:
            raise layer_error(self, e) from None
        if bias is not None:
            y = bias_add(y, bias, self.data_format)
        return y if act is None else act(y)

    def _common_config(self) -> dict:
        return {
            "kernel_size": self.kernel_size, "strides": self.strides, "padding": self.padding,
            "depth_multiplier": self.depth_multiplier, "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
        }


class BaseDepthwiseConv(_DepthwiseBase):
    """Abstract depthwise convolution. The kernel has shape
    `kernel_size + (in_channels, depth_multiplier)`; output channel `c * depth_multiplier + m`
    comes from input channel `c`; the bias has `in_channels * depth_multiplier` entries."""

    def __init__(self, rank: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 depth_multiplier: int = 1, data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, depthwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._init_common(rank, kernel_size, strides, padding, depth_multiplier, data_format,
                          dilation_rate, activation, use_bias)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape: Any) -> None:
        c = self._in_channels(input_shape)
        self.kernel = self.add_weight(
            name="kernel", shape=self.kernel_size + (c, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.bias = self.add_weight(
            name="bias", shape=(c * self.depth_multiplier,), initializer=self.bias_initializer,
            regularizer=self.bias_regularizer, constraint=self.bias_constraint) \
            if self.use_bias else None
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._ch_axis: c})
        self.built = True

    def call(self, inputs: Any) -> Tensor:
        x = coerce_input(self, inputs, self.kernel)
        y = self._depthwise(x, self.kernel, self.bias, None)
        if self.activation is activations.linear:
            return y
        return self.activation(y)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        c = self._in_channels(input_shape)
        return conv_output_shape(tuple(input_shape), c * self.depth_multiplier,
                                 self.kernel_size, self.strides, self.padding, self.data_format,
                                 self.dilation_rate)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(self._common_config())
        config.update({
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config


class BaseSeparableConv(_DepthwiseBase):
    """Abstract separable convolution: depthwise (kernel `kernel_size + (in, depth_multiplier)`)
    then pointwise (kernel `(1,) * rank + (in * depth_multiplier, filters)`), bias
    `(filters,)`."""

    def __init__(self, rank: int, filters: int, kernel_size: Any, strides: Any = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: Any = 1,
                 depth_multiplier: int = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform",
                 pointwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, pointwise_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 depthwise_constraint: Any = None, pointwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{type(self).__name__}: expected filters to be a positive "
                             f"integer, got filters={filters!r}")
        self.filters = filters
        self._init_common(rank, kernel_size, strides, padding, depth_multiplier, data_format,
                          dilation_rate, activation, use_bias)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape: Any) -> None:
        c = self._in_channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel", shape=self.kernel_size + (c, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel",
            shape=(1,) * self.rank + (c * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self.bias = self.add_weight(
            name="bias", shape=(self.filters,), initializer=self.bias_initializer,
            regularizer=self.bias_regularizer, constraint=self.bias_constraint) \
            if self.use_bias else None
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._ch_axis: c})
        self.built = True

    def call(self, inputs: Any) -> Tensor:
        x = coerce_input(self, inputs, self.depthwise_kernel)
        h = self._depthwise(x, self.depthwise_kernel, None, None)
        y = conv_normalized(h, self.pointwise_kernel, strides=(1,) * self.rank,
                            dilations=(1,) * self.rank, padding="VALID", groups=1,
                            channels_first=self.data_format == "channels_first")
        if self.bias is not None:
            y = bias_add(y, self.bias, self.data_format)
        if self.activation is activations.linear:
            return y
        return self.activation(y)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return conv_output_shape(tuple(input_shape), self.filters, self.kernel_size,
                                 self.strides, self.padding, self.data_format,
                                 self.dilation_rate)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(self._common_config())
        config.update({
            "filters": self.filters,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config
