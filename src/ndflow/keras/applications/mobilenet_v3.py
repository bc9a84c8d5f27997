"""`keras.applications.mobilenet_v3`: MobileNetV3Small and MobileNetV3Large (Howard et al.,
2019), with Keras's layer names and weights files. The models take RGB pixels in [0, 255]
(with ``include_preprocessing=True``, the default); `preprocess_input` is the identity.

>>> from ndflow import keras
>>> m = keras.applications.MobileNetV3Small(weights=None, include_top=False,
...                                         input_shape=(32, 32, 3))
>>> m.output_shape
(None, 1, 1, 576)
"""

from __future__ import annotations

import warnings
from typing import Any
from collections.abc import Callable

from ndflow.core.dispatch import fail
from ndflow.core.tensor import SymbolicTensor
from ndflow.keras import layers
from ndflow.keras.applications import _common, imagenet_utils
from ndflow.keras.applications.imagenet_utils import decode_predictions  # noqa: F401
from ndflow.keras.models.functional import Functional

BASE_WEIGHT_PATH = _common.BASE_WEIGHTS_URL + "mobilenet_v3/"
WEIGHTS_HASHES = {  # (with top, without top), md5
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb",
                             "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7",
                            "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c",
                                         "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7",
                             "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862",
                            "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37",
                                         "cde8136e733e811080d9fcd8a252f7e4"),
}


def relu(x: Any) -> Any:
    return layers.ReLU()(x)


def hard_sigmoid(x: Any) -> Any:
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def hard_swish(x: Any) -> Any:
    return layers.Activation("hard_swish")(x)


def _depth(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def _bn(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=name)


def _se_block(inputs: Any, filters: int, se_ratio: float, prefix: str) -> Any:
    x = layers.GlobalAveragePooling2D(keepdims=True,
                                      name=f"{prefix}squeeze_excite_avg_pool")(inputs)
    x = layers.Conv2D(_depth(filters * se_ratio), kernel_size=1, padding="same",
                      name=f"{prefix}squeeze_excite_conv")(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, kernel_size=1, padding="same",
                      name=f"{prefix}squeeze_excite_conv_1")(x)
    x = hard_sigmoid(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def _inverted_res_block(x: Any, expansion: float, filters: int, kernel_size: int, stride: int,
                        se_ratio: float | None, activation: Callable, block_id: int) -> Any:
    shortcut = x
    prefix = "expanded_conv_"
    infilters = x.shape[-1]
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(_depth(infilters * expansion), kernel_size=1, padding="same",
                          use_bias=False, name=f"{prefix}expand")(x)
        x = _bn(f"{prefix}expand_bn")(x)
        x = activation(x)
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                                 name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=stride,
                               padding="same" if stride == 1 else "valid", use_bias=False,
                               name=f"{prefix}depthwise")(x)
    x = _bn(f"{prefix}depthwise_bn")(x)
    x = activation(x)
    if se_ratio:
        x = _se_block(x, _depth(infilters * expansion), se_ratio, prefix)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", use_bias=False,
                      name=f"{prefix}project")(x)
    x = _bn(f"{prefix}project_bn")(x)
    if stride == 1 and infilters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def MobileNetV3(stack_fn: Callable, last_point_ch: int, input_shape: Any = None,
                alpha: float = 1.0, model_type: str = "large", minimalistic: bool = False,
                include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                classes: int = 1000, pooling: Any = None, dropout_rate: float = 0.2,
                classifier_activation: Any = "softmax", include_preprocessing: bool = True,
                name: str | None = None) -> Functional:
    """A MobileNetV3 around `stack_fn` (the inverted residual blocks)."""
    _common.check_weights(weights, include_top, classes, name or "MobileNetV3")
    if input_shape is not None and isinstance(input_tensor, SymbolicTensor) \
            and input_tensor.shape[2] != input_shape[1]:
        raise fail(name, "input_shape[1] equal to input_tensor.shape[2]",
                   f"input_shape={tuple(input_shape)}, input_tensor.shape="
                   f"{tuple(input_tensor.shape)}", "give only one of them")
    if input_shape is None and isinstance(input_tensor, SymbolicTensor):
        rows, cols = input_tensor.shape[1], input_tensor.shape[2]
        input_shape = (cols, rows, 3)
    if input_shape is None:
        input_shape = (None, None, 3)
    rows, cols = input_shape[0], input_shape[1]
    if rows and cols and (rows < 32 or cols < 32):
        raise fail(name, "an input size of at least 32x32", f"input_shape={input_shape}",
                   "resize the images")
    if weights == "imagenet":
        if (not minimalistic and alpha not in (0.75, 1.0)) or (minimalistic and alpha != 1.0):
            raise fail(name, "alpha 0.75 or 1.0 (1.0 when minimalistic) with "
                       "weights='imagenet'", f"alpha={alpha}", "use weights=None")
        if rows != cols or rows != 224:
            warnings.warn(f"{name}: `input_shape` is undefined, non-square, or not 224 "
                          "pixels; the weights for 224x224 are loaded.", stacklevel=3)
    img_input = _common.image_input(input_tensor, input_shape)
    if minimalistic:
        kernel, activation, se_ratio = 3, relu, None
    else:
        kernel, activation, se_ratio = 5, hard_swish, 0.25
    x = img_input
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False,
                      name="conv")(x)
    x = _bn("conv_bn")(x)
    x = activation(x)
    x = stack_fn(x, kernel, activation, se_ratio)
    last_conv_ch = _depth(x.shape[-1] * 6)
    if alpha > 1.0:
        last_point_ch = _depth(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, kernel_size=1, padding="same", use_bias=False,
                      name="conv_1")(x)
    x = _bn("conv_1_bn")(x)
    x = activation(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_ch, kernel_size=1, padding="same", use_bias=True,
                          name="conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, kernel_size=1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = _common.make_model(input_tensor, img_input, x, name)
    files = None
    if weights == "imagenet":
        key = f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{alpha}_float"
        files = {}
        for top, suffix, h in ((True, "", 0), (False, "_no_top_v2", 1)):
            fname = f"weights_mobilenet_v3_{key}{suffix}.h5"
            files[top] = (fname, BASE_WEIGHT_PATH + fname, WEIGHTS_HASHES[key][h])
    _common.load_weights(model, weights, files, include_top)
    return model


# (expansion, filters, kernel ("k": 3 or 5 by minimalistic), stride, se, activation ("a":
# hard_swish unless minimalistic)) of each block
_SMALL = ((1, 16, 3, 2, True, relu), (72.0 / 16, 24, 3, 2, False, relu),
          (88.0 / 24, 24, 3, 1, False, relu), (4, 40, "k", 2, True, "a"),
          (6, 40, "k", 1, True, "a"), (6, 40, "k", 1, True, "a"), (3, 48, "k", 1, True, "a"),
          (3, 48, "k", 1, True, "a"), (6, 96, "k", 2, True, "a"), (6, 96, "k", 1, True, "a"),
          (6, 96, "k", 1, True, "a"))
_LARGE = ((1, 16, 3, 1, False, relu), (4, 24, 3, 2, False, relu), (3, 24, 3, 1, False, relu),
          (3, 40, "k", 2, True, relu), (3, 40, "k", 1, True, relu),
          (3, 40, "k", 1, True, relu), (6, 80, 3, 2, False, "a"), (2.5, 80, 3, 1, False, "a"),
          (2.3, 80, 3, 1, False, "a"), (2.3, 80, 3, 1, False, "a"), (6, 112, 3, 1, True, "a"),
          (6, 112, 3, 1, True, "a"), (6, 160, "k", 2, True, "a"), (6, 160, "k", 1, True, "a"),
          (6, 160, "k", 1, True, "a"))


def _stack(table: tuple, alpha: float) -> Callable:
    def stack_fn(x: Any, kernel: int, activation: Callable, se_ratio: Any) -> Any:
        for i, (exp, filters, k, stride, se, act) in enumerate(table):
            x = _inverted_res_block(x, exp, _depth(filters * alpha), kernel if k == "k" else k,
                                    stride, se_ratio if se else None,
                                    activation if act == "a" else act, i)
        return x
    return stack_fn


def MobileNetV3Small(input_shape: Any = None, alpha: float = 1.0, minimalistic: bool = False,
                     include_top: bool = True, weights: Any = "imagenet",
                     input_tensor: Any = None, classes: int = 1000, pooling: Any = None,
                     dropout_rate: float = 0.2, classifier_activation: Any = "softmax",
                     include_preprocessing: bool = True, name: str = "MobileNetV3Small"
                     ) -> Functional:
    """MobileNetV3Small (2.6M parameters at alpha=1 with the top)."""
    return MobileNetV3(_stack(_SMALL, alpha), 1024, input_shape, alpha, "small", minimalistic,
                       include_top, weights, input_tensor, classes, pooling, dropout_rate,
                       classifier_activation, include_preprocessing, name=name)


def MobileNetV3Large(input_shape: Any = None, alpha: float = 1.0, minimalistic: bool = False,
                     include_top: bool = True, weights: Any = "imagenet",
                     input_tensor: Any = None, classes: int = 1000, pooling: Any = None,
                     dropout_rate: float = 0.2, classifier_activation: Any = "softmax",
                     include_preprocessing: bool = True, name: str = "MobileNetV3Large"
                     ) -> Functional:
    """MobileNetV3Large (5.5M parameters at alpha=1 with the top)."""
    return MobileNetV3(_stack(_LARGE, alpha), 1280, input_shape, alpha, "large", minimalistic,
                       include_top, weights, input_tensor, classes, pooling, dropout_rate,
                       classifier_activation, include_preprocessing, name=name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """The identity: MobileNetV3 models rescale their inputs themselves."""
    return x


__all__ = ["MobileNetV3Large", "MobileNetV3Small", "decode_predictions", "preprocess_input"]
