"""`keras.applications.mobilenet`: MobileNet (Howard et al., 2017), depthwise-separable
convolutions scaled by `alpha` (width) and `depth_multiplier`, with Keras's layer names.

>>> from ndflow import keras
>>> m = keras.applications.MobileNet(weights=None, include_top=False,
...                                  input_shape=(32, 32, 3), alpha=0.25)
>>> m.output_shape
(None, 1, 1, 256)
"""

from __future__ import annotations

import warnings
from typing import Any

from ndflow.core.dispatch import fail
from ndflow.keras import layers
from ndflow.keras.applications import _common, imagenet_utils
from ndflow.keras.applications.imagenet_utils import decode_predictions  # noqa: F401
from ndflow.keras.models.functional import Functional

BASE_WEIGHT_PATH = _common.BASE_WEIGHTS_URL + "mobilenet/"
_ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}
_SIZES = (128, 160, 192, 224)


def _conv_block(x: Any, filters: int, alpha: float, strides: tuple) -> Any:
    x = layers.Conv2D(int(filters * alpha), (3, 3), padding="same", use_bias=False,
                      strides=strides, name="conv1")(x)
    x = layers.BatchNormalization(axis=-1, name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(x: Any, filters: int, alpha: float, depth_multiplier: int,
                          strides: tuple = (1, 1), block_id: int = 1) -> Any:
    if strides != (1, 1):
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D((3, 3), padding="same" if strides == (1, 1) else "valid",
                               depth_multiplier=depth_multiplier, strides=strides,
                               use_bias=False, name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(axis=-1, name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(int(filters * alpha), (1, 1), padding="same", use_bias=False,
                      strides=(1, 1), name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=-1, name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


# (pointwise filters, stride) of blocks 1..13
_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
           (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


def MobileNet(input_shape: Any = None, alpha: float = 1.0, depth_multiplier: int = 1,
              dropout: float = 1e-3, include_top: bool = True, weights: Any = "imagenet",
              input_tensor: Any = None, pooling: Any = None, classes: int = 1000,
              classifier_activation: Any = "softmax", name: str | None = None) -> Functional:
    """MobileNet v1 (4.2M parameters at alpha=1); inputs through `mobilenet.preprocess_input`
    ("tf" mode). ImageNet weights exist for alpha in {0.25, 0.5, 0.75, 1.0} and square inputs
    of 128, 160, 192 or 224 pixels."""
    _common.check_weights(weights, include_top, classes, "MobileNet")
    default_size = 224
    if input_shape is not None and input_shape[0] == input_shape[1] \
            and input_shape[0] in _SIZES:
        default_size = input_shape[0]
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32, data_format="channels_last",
        require_flatten=include_top, weights=weights)
    rows, cols = input_shape[0], input_shape[1]
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise fail("MobileNet", "depth_multiplier=1 with weights='imagenet'",
                       f"depth_multiplier={depth_multiplier}", "use weights=None")
        if alpha not in _ALPHA_TEXT:
            raise fail("MobileNet", "alpha in (0.25, 0.5, 0.75, 1.0) with weights='imagenet'",
                       f"alpha={alpha}", "use weights=None for other widths")
        if rows != cols or rows not in _SIZES:
            rows = 224
            warnings.warn("MobileNet: `input_shape` is undefined, non-square, or not 128, "
                          "160, 192 or 224 pixels; the weights for 224x224 are loaded.",
                          stacklevel=2)
    img_input = _common.image_input(input_tensor, input_shape)
    x = _conv_block(img_input, 32, alpha, strides=(2, 2))
    for block_id, (filters, stride) in enumerate(_BLOCKS, 1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier, (stride, stride),
                                  block_id)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pool(x, pooling)
    if name is None:
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    model = _common.make_model(input_tensor, img_input, x, name)
    files = None
    if weights == "imagenet":
        text = _ALPHA_TEXT[alpha]
        files = {}
        for top, suffix in ((True, ""), (False, "_no_top")):
            fname = f"mobilenet_{text}_{rows}_tf{suffix}.h5"
            files[top] = (fname, BASE_WEIGHT_PATH + fname, None)
    _common.load_weights(model, weights, files, include_top)
    return model


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """ImageNet "tf" preprocessing (pixels scaled to [-1, 1])."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


__all__ = ["MobileNet", "decode_predictions", "preprocess_input"]
