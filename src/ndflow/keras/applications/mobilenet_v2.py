"""`keras.applications.mobilenet_v2`: MobileNetV2 (Sandler et al., 2018), inverted residual
blocks with linear bottlenecks, with Keras's layer names and weights files.

>>> from ndflow import keras
>>> m = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), classes=10)
>>> m.output_shape
(None, 10)
"""

from __future__ import annotations

import warnings
from typing import Any

from ndflow.core.dispatch import fail
from ndflow.core.tensor import SymbolicTensor
from ndflow.keras import layers
from ndflow.keras.applications import _common, imagenet_utils
from ndflow.keras.applications.imagenet_utils import decode_predictions  # noqa: F401
from ndflow.keras.models.functional import Functional

BASE_WEIGHT_PATH = _common.BASE_WEIGHTS_URL + "mobilenet_v2/"
_SIZES = (96, 128, 160, 192, 224)
_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
# (filters, stride, expansion) of blocks 0..16
_BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6),
           (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6),
           (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6))


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """`v` rounded to a multiple of `divisor`, never more than 10% below `v`."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def _bn(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=name)


def _inverted_res_block(inputs: Any, expansion: int, stride: int, alpha: float, filters: int,
                        block_id: int) -> Any:
    in_channels = inputs.shape[-1]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(expansion * in_channels, kernel_size=1, padding="same",
                          use_bias=False, activation=None, name=f"{prefix}expand")(x)
        x = _bn(f"{prefix}expand_BN")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3),
                                 name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False,
                               padding="same" if stride == 1 else "valid",
                               name=f"{prefix}depthwise")(x)
    x = _bn(f"{prefix}depthwise_BN")(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = layers.Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False,
                      activation=None, name=f"{prefix}project")(x)
    x = _bn(f"{prefix}project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def _default_size(input_shape: Any, input_tensor: Any) -> int:
    if input_shape is None and isinstance(input_tensor, SymbolicTensor):
        rows, cols = input_tensor.shape[1], input_tensor.shape[2]
    elif input_shape is not None:
        rows, cols = input_shape[0], input_shape[1]
    else:
        return 224
    return rows if rows == cols and rows in _SIZES else 224


def MobileNetV2(input_shape: Any = None, alpha: float = 1.0, include_top: bool = True,
                weights: Any = "imagenet", input_tensor: Any = None, pooling: Any = None,
                classes: int = 1000, classifier_activation: Any = "softmax",
                name: str | None = None) -> Functional:
    """MobileNetV2 (3.5M parameters at alpha=1); inputs through
    `mobilenet_v2.preprocess_input` ("tf" mode). ImageNet weights exist for alpha in
    {0.35, 0.5, 0.75, 1.0, 1.3, 1.4} and square inputs of 96 to 224 pixels."""
    _common.check_weights(weights, include_top, classes, "MobileNetV2")
    if input_shape is not None and isinstance(input_tensor, SymbolicTensor) \
            and input_tensor.shape[2] != input_shape[1]:
        raise fail("MobileNetV2", "input_tensor.shape[2] equal to input_shape[1]",
                   f"input_tensor.shape={tuple(input_tensor.shape)}, input_shape="
                   f"{tuple(input_shape)}", "give only one of them")
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=_default_size(input_shape, input_tensor), min_size=32,
        data_format="channels_last", require_flatten=include_top, weights=weights)
    rows, cols = input_shape[0], input_shape[1]
    if weights == "imagenet":
        if alpha not in _ALPHAS:
            raise fail("MobileNetV2", "alpha in (0.35, 0.5, 0.75, 1.0, 1.3, 1.4) with "
                       "weights='imagenet'", f"alpha={alpha}", "use weights=None")
        if rows != cols or rows not in _SIZES:
            rows = 224
            warnings.warn("MobileNetV2: `input_shape` is undefined, non-square, or not 96, "
                          "128, 160, 192 or 224 pixels; the weights for 224x224 are loaded.",
                          stacklevel=2)
    img_input = _common.image_input(input_tensor, input_shape)
    x = layers.Conv2D(_make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2),
                      padding="same", use_bias=False, name="Conv1")(img_input)
    x = _bn("bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(x, filters=filters, alpha=alpha, stride=stride,
                                expansion=expansion, block_id=block_id)
    last = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = _bn("Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pool(x, pooling)
    if name is None:
        name = f"mobilenetv2_{alpha:0.2f}_{rows}"
    model = _common.make_model(input_tensor, img_input, x, name)
    files = None
    if weights == "imagenet":
        stem = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}"
        files = {top: (stem + s + ".h5", BASE_WEIGHT_PATH + stem + s + ".h5", None)
                 for top, s in ((True, ""), (False, "_no_top"))}
    _common.load_weights(model, weights, files, include_top)
    return model


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """ImageNet "tf" preprocessing (pixels scaled to [-1, 1])."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


__all__ = ["MobileNetV2", "decode_predictions", "preprocess_input"]
