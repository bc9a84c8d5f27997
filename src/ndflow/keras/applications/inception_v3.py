"""`keras.applications.inception_v3`: InceptionV3 (Szegedy et al., 2016), with Keras's layer
names and weights files.

>>> from ndflow import keras
>>> m = keras.applications.InceptionV3(weights=None, include_top=False,
...                                    input_shape=(75, 75, 3))
>>> m.output_shape
(None, 1, 1, 2048)
"""

from __future__ import annotations

from typing import Any

from ndflow.keras import layers
from ndflow.keras.applications import _common, imagenet_utils
from ndflow.keras.applications.imagenet_utils import decode_predictions  # noqa: F401
from ndflow.keras.models.functional import Functional

_URL = _common.BASE_WEIGHTS_URL + "inception_v3/"
WEIGHTS = {
    True: ("inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
           _URL + "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
           "9a0d58056eeedaa3f26cb7ebd46da564"),
    False: ("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
            _URL + "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "bcbd6486424b2319ff4ef7d526e38f63"),
}


def conv2d_bn(x: Any, filters: int, num_row: int, num_col: int, padding: str = "same",
              strides: tuple = (1, 1), name: str | None = None) -> Any:
    """Convolution (no bias), BatchNormalization (no scale), ReLU."""
    x = layers.Conv2D(filters, (num_row, num_col), strides=strides, padding=padding,
                      use_bias=False, name=None if name is None else f"{name}_conv")(x)
    x = layers.BatchNormalization(axis=3, scale=False,
                                  name=None if name is None else f"{name}_bn")(x)
    return layers.Activation("relu", name=name)(x)


def _chain(x: Any, convs: tuple) -> Any:
    """Convolutions (filters, rows, cols[, strides, padding]) applied in sequence."""
    for c in convs:
        if len(c) > 3:
            x = conv2d_bn(x, c[0], c[1], c[2], strides=(c[3], c[3]), padding=c[4])
        else:
            x = conv2d_bn(x, c[0], c[1], c[2])
    return x


def _avg_branch(x: Any, filters: int) -> Any:
    x = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(x, filters, 1, 1)


def InceptionV3(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                input_shape: Any = None, pooling: Any = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str = "inception_v3"
                ) -> Functional:
    """InceptionV3 (23.9M parameters with the top; default input 299x299, at least 75x75);
    inputs through `inception_v3.preprocess_input` ("tf" mode)."""
    _common.check_weights(weights, include_top, classes, name)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=299, min_size=75, data_format="channels_last",
        require_flatten=include_top, weights=weights)
    img_input = _common.image_input(input_tensor, input_shape)
    x = conv2d_bn(img_input, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    for i, pool_filters in enumerate((32, 64, 64)):  # mixed 0-2: 35x35
        b1 = conv2d_bn(x, 64, 1, 1)
        b5 = _chain(x, ((48, 1, 1), (64, 5, 5)))
        b3 = _chain(x, ((64, 1, 1), (96, 3, 3), (96, 3, 3)))
        bp = _avg_branch(x, pool_filters)
        x = layers.concatenate([b1, b5, b3, bp], axis=3, name=f"mixed{i}")
    b3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")  # mixed 3: to 17x17
    b3d = _chain(x, ((64, 1, 1), (96, 3, 3), (96, 3, 3, 2, "valid")))
    bp = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([b3, b3d, bp], axis=3, name="mixed3")
    for i, f in enumerate((128, 160, 160, 192)):  # mixed 4-7: 17x17
        b1 = conv2d_bn(x, 192, 1, 1)
        b7 = _chain(x, ((f, 1, 1), (f, 1, 7), (192, 7, 1)))
        b7d = _chain(x, ((f, 1, 1), (f, 7, 1), (f, 1, 7), (f, 7, 1), (192, 1, 7)))
        bp = _avg_branch(x, 192)
        x = layers.concatenate([b1, b7, b7d, bp], axis=3, name=f"mixed{4 + i}")
    b3 = _chain(x, ((192, 1, 1), (320, 3, 3, 2, "valid")))  # mixed 8: to 8x8
    b7 = _chain(x, ((192, 1, 1), (192, 1, 7), (192, 7, 1), (192, 3, 3, 2, "valid")))
    bp = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([b3, b7, bp], axis=3, name="mixed8")
    for i in range(2):  # mixed 9-10: 8x8
        b1 = conv2d_bn(x, 320, 1, 1)
        b3 = conv2d_bn(x, 384, 1, 1)
        b3 = layers.concatenate([conv2d_bn(b3, 384, 1, 3), conv2d_bn(b3, 384, 3, 1)], axis=3,
                                name=f"mixed9_{i}")
        b3d = _chain(x, ((448, 1, 1), (384, 3, 3)))
        b3d = layers.concatenate([conv2d_bn(b3d, 384, 1, 3), conv2d_bn(b3d, 384, 3, 1)],
                                 axis=3)
        bp = _avg_branch(x, 192)
        x = layers.concatenate([b1, b3, b3d, bp], axis=3, name=f"mixed{9 + i}")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pool(x, pooling)
    model = _common.make_model(input_tensor, img_input, x, name)
    _common.load_weights(model, weights, WEIGHTS, include_top)
    return model


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """ImageNet "tf" preprocessing (pixels scaled to [-1, 1])."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


__all__ = ["InceptionV3", "decode_predictions", "preprocess_input"]
