"""`keras.applications.nasnet`: NASNet-A Mobile and Large (Zoph et al., 2018), with Keras's
layer names and weights files.

>>> from ndflow import keras
>>> m = keras.applications.NASNetMobile(weights=None, include_top=False,
...                                     input_shape=(32, 32, 3))
>>> m.output_shape
(None, 1, 1, 1056)
"""

from __future__ import annotations

from typing import Any

from ndflow.core.dispatch import fail
from ndflow.keras import layers
from ndflow.keras.applications import _common, imagenet_utils
from ndflow.keras.applications.imagenet_utils import decode_predictions  # noqa: F401
from ndflow.keras.models.functional import Functional

BASE_WEIGHTS_PATH = _common.BASE_WEIGHTS_URL + "nasnet/"
# default_size -> include_top -> (cache file name, url, md5), as Keras names them
WEIGHTS = {
    224: {True: ("nasnet_mobile.h5", BASE_WEIGHTS_PATH + "NASNet-mobile.h5",
                 "020fb642bf7360b370c678b08e0adf61"),
          False: ("nasnet_mobile_no_top.h5", BASE_WEIGHTS_PATH + "NASNet-mobile-no-top.h5",
                  "1ed92395b5b598bdda52abe5c0dbfd63")},
    331: {True: ("nasnet_large.h5", BASE_WEIGHTS_PATH + "NASNet-large.h5",
                 "11577c9a518f0070763c2b964a382f17"),
          False: ("nasnet_large_no_top.h5", BASE_WEIGHTS_PATH + "NASNet-large-no-top.h5",
                  "d81d89dc07e6e56530c4e77faddd61b5")},
}


def _bn(x: Any, name: str) -> Any:
    return layers.BatchNormalization(axis=-1, momentum=0.9997, epsilon=1e-3, name=name)(x)


def _conv1x1(x: Any, filters: int, name: str) -> Any:
    return layers.Conv2D(filters, (1, 1), padding="same", use_bias=False, name=name,
                         kernel_initializer="he_normal")(x)


def _separable_conv_block(x: Any, filters: int, kernel_size: int = 3, strides: int = 1,
                          block_id: str = "") -> Any:
    """Two ReLU - separable conv - BatchNormalization steps; a strided first conv pads
    explicitly (TensorFlow's 'same' padding) and then convolves 'valid'."""
    x = layers.Activation("relu")(x)
    if strides == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                                 name=f"separable_conv_1_pad_{block_id}")(x)
    x = layers.SeparableConv2D(filters, kernel_size, strides=strides,
                               padding="valid" if strides == 2 else "same", use_bias=False,
                               name=f"separable_conv_1_{block_id}")(x)
    x = _bn(x, f"separable_conv_1_bn_{block_id}")
    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(filters, kernel_size, padding="same", use_bias=False,
                               name=f"separable_conv_2_{block_id}")(x)
    return _bn(x, f"separable_conv_2_bn_{block_id}")


def _adjust_block(p: Any, ip: Any, filters: int, block_id: str) -> Any:
    """The previous cell's output `p` brought to the size and width of the input `ip`: a
    factorized reduction (two offset 1x1 strided paths) when its spatial size differs, a 1x1
    projection when only the channels differ."""
    if p is None:
        return ip
    if p.shape[-2] != ip.shape[-2]:
        p = layers.Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
        p1 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                                     name=f"adjust_avg_pool_1_{block_id}")(p)
        p1 = _conv1x1(p1, filters // 2, f"adjust_conv_1_{block_id}")
        p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                                     name=f"adjust_avg_pool_2_{block_id}")(p2)
        p2 = _conv1x1(p2, filters // 2, f"adjust_conv_2_{block_id}")
        p = layers.concatenate([p1, p2], axis=-1)
        return _bn(p, f"adjust_bn_{block_id}")
    if p.shape[-1] != filters:
        p = layers.Activation("relu")(p)
        p = _conv1x1(p, filters, f"adjust_conv_projection_{block_id}")
        return _bn(p, f"adjust_bn_{block_id}")
    return p


def _normal_a_cell(ip: Any, p: Any, filters: int, block_id: str) -> tuple:
    """NASNet-A normal cell: five pairwise combinations of the input and the previous
    cell's output, concatenated with the adjusted previous output."""
    p = _adjust_block(p, ip, filters, block_id)
    h = layers.Activation("relu")(ip)
    h = _conv1x1(h, filters, f"normal_conv_1_{block_id}")
    h = _bn(h, f"normal_bn_1_{block_id}")
    x1 = layers.add([_separable_conv_block(h, filters, 5, block_id=f"normal_left1_{block_id}"),
                     _separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}")],
                    name=f"normal_add_1_{block_id}")
    x2 = layers.add([_separable_conv_block(p, filters, 5, block_id=f"normal_left2_{block_id}"),
                     _separable_conv_block(p, filters, 3,
                                           block_id=f"normal_right2_{block_id}")],
                    name=f"normal_add_2_{block_id}")
    x3 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same",
                                 name=f"normal_left3_{block_id}")(h)
    x3 = layers.add([x3, p], name=f"normal_add_3_{block_id}")
    x4_1 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same",
                                   name=f"normal_left4_{block_id}")(p)
    x4_2 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same",
                                   name=f"normal_right4_{block_id}")(p)
    x4 = layers.add([x4_1, x4_2], name=f"normal_add_4_{block_id}")
    x5 = _separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}")
    x5 = layers.add([x5, h], name=f"normal_add_5_{block_id}")
    x = layers.concatenate([p, x1, x2, x3, x4, x5], axis=-1, name=f"normal_concat_{block_id}")
    return x, ip


def _reduction_a_cell(ip: Any, p: Any, filters: int, block_id: str) -> tuple:
    """NASNet-A reduction cell: the same pattern with stride-2 operations (halves the size)."""
    p = _adjust_block(p, ip, filters, block_id)
    h = layers.Activation("relu")(ip)
    h = _conv1x1(h, filters, f"reduction_conv_1_{block_id}")
    h = _bn(h, f"reduction_bn_1_{block_id}")
    h3 = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(h, 3),
                              name=f"reduction_pad_1_{block_id}")(h)
    x1 = layers.add([
        _separable_conv_block(h, filters, 5, 2, block_id=f"reduction_left1_{block_id}"),
        _separable_conv_block(p, filters, 7, 2, block_id=f"reduction_right1_{block_id}")],
        name=f"reduction_add_1_{block_id}")
    x2_1 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                               name=f"reduction_left2_{block_id}")(h3)
    x2_2 = _separable_conv_block(p, filters, 7, 2, block_id=f"reduction_right2_{block_id}")
    x2 = layers.add([x2_1, x2_2], name=f"reduction_add_2_{block_id}")
    x3_1 = layers.AveragePooling2D((3, 3), strides=(2, 2), padding="valid",
                                   name=f"reduction_left3_{block_id}")(h3)
    x3_2 = _separable_conv_block(p, filters, 5, 2, block_id=f"reduction_right3_{block_id}")
    x3 = layers.add([x3_1, x3_2], name=f"reduction_add3_{block_id}")
    x4 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same",
                                 name=f"reduction_left4_{block_id}")(x1)
    x4 = layers.add([x2, x4])
    # Keras names this separable block "reduction_left4" too (after the pooling above)
    x5_1 = _separable_conv_block(x1, filters, 3, block_id=f"reduction_left4_{block_id}")
    x5_2 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                               name=f"reduction_right5_{block_id}")(h3)
    x5 = layers.add([x5_1, x5_2], name=f"reduction_add4_{block_id}")
    x = layers.concatenate([x2, x3, x4, x5], axis=-1, name=f"reduction_concat_{block_id}")
    return x, ip


def NASNet(input_shape: Any = None, penultimate_filters: int = 4032, num_blocks: int = 6,
           stem_block_filters: int = 96, skip_reduction: bool = True,
           filter_multiplier: int = 2, include_top: bool = True, weights: Any = "imagenet",
           input_tensor: Any = None, pooling: Any = None, classes: int = 1000,
           default_size: int | None = None, classifier_activation: Any = "softmax",
           name: str = "NASNet") -> Functional:
    """A NASNet-A (N @ P) model: `num_blocks` normal cells per stage between reduction
    cells, `penultimate_filters` channels per cell branch group in the last stage."""
    _common.check_weights(weights, include_top, classes, name)
    if isinstance(input_shape, tuple) and None in input_shape and weights == "imagenet":
        raise fail(name, "a static input_shape (no None) with weights='imagenet'",
                   f"input_shape={input_shape}", "give the full (height, width, 3) shape")
    if default_size is None:
        default_size = 331
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32, data_format="channels_last",
        require_flatten=include_top, weights=weights)
    if penultimate_filters % (24 * filter_multiplier ** 2) != 0:
        raise fail(name, "penultimate_filters a multiple of 24 * filter_multiplier ** 2 "
                   f"({24 * filter_multiplier ** 2})",
                   f"penultimate_filters={penultimate_filters}",
                   "NASNet-A concatenates 6 branches of filters // 4 channels per cell")
    img_input = _common.image_input(input_tensor, input_shape)
    filters = penultimate_filters // 24
    fm = filter_multiplier
    x = layers.Conv2D(stem_block_filters, (3, 3), strides=(2, 2), padding="valid",
                      use_bias=False, name="stem_conv1", kernel_initializer="he_normal",
                      )(img_input)
    x = _bn(x, "stem_bn1")
    x, p = _reduction_a_cell(x, None, filters // fm ** 2, block_id="stem_1")
    x, p = _reduction_a_cell(x, p, filters // fm, block_id="stem_2")
    for stage in range(3):
        if stage:
            x, p0 = _reduction_a_cell(x, p, filters * fm ** stage,
                                      block_id=f"reduce_{stage * num_blocks}")
            p = p if skip_reduction else p0
        first = stage * num_blocks + (1 if stage else 0)
        for i in range(num_blocks):
            x, p = _normal_a_cell(x, p, filters * fm ** stage, block_id=f"{first + i}")
    x = layers.Activation("relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pool(x, pooling)
    model = _common.make_model(input_tensor, img_input, x, name)
    if weights == "imagenet" and default_size not in WEIGHTS:
        raise fail(name, "default_size 224 (NASNetMobile) or 331 (NASNetLarge) with "
                   "weights='imagenet'", f"default_size={default_size}",
                   "Keras publishes ImageNet weights only for those two models")
    _common.load_weights(model, weights, WEIGHTS.get(default_size), include_top)
    return model


def NASNetMobile(input_shape: Any = None, include_top: bool = True,
                 weights: Any = "imagenet", input_tensor: Any = None, pooling: Any = None,
                 classes: int = 1000, classifier_activation: Any = "softmax",
                 name: str = "nasnet_mobile") -> Functional:
    """NASNet-A (4 @ 1056), 5.3M parameters with the top; default input 224x224; inputs
    through `nasnet.preprocess_input` ("tf" mode)."""
    if not include_top and input_shape is None:
        input_shape = (224, 224, 3)
    return NASNet(input_shape, penultimate_filters=1056, num_blocks=4, stem_block_filters=32,
                  skip_reduction=False, filter_multiplier=2, include_top=include_top,
                  weights=weights, input_tensor=input_tensor, pooling=pooling,
                  classes=classes, default_size=224,
                  classifier_activation=classifier_activation, name=name)


def NASNetLarge(input_shape: Any = None, include_top: bool = True,
                weights: Any = "imagenet", input_tensor: Any = None, pooling: Any = None,
                classes: int = 1000, classifier_activation: Any = "softmax",
                name: str = "nasnet_large") -> Functional:
    """NASNet-A (6 @ 4032), 88.9M parameters with the top; default input 331x331; inputs
    through `nasnet.preprocess_input` ("tf" mode)."""
    return NASNet(input_shape, penultimate_filters=4032, num_blocks=6, stem_block_filters=96,
                  skip_reduction=True, filter_multiplier=2, include_top=include_top,
                  weights=weights, input_tensor=input_tensor, pooling=pooling,
                  classes=classes, default_size=331,
                  classifier_activation=classifier_activation, name=name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """ImageNet "tf" preprocessing (pixels scaled to [-1, 1])."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


__all__ = ["NASNetLarge", "NASNetMobile", "decode_predictions", "preprocess_input"]
