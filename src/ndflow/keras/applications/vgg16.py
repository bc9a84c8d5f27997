"""`keras.applications.vgg16`: VGG16 (Simonyan & Zisserman, 2015), with Keras's layer names
and weights files.

>>> from ndflow import keras
>>> m = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
>>> m.output_shape
(None, 1, 1, 512)
"""

from __future__ import annotations

from typing import Any

from ndflow.keras import layers
from ndflow.keras.applications import _common, imagenet_utils
from ndflow.keras.applications.imagenet_utils import decode_predictions  # noqa: F401
from ndflow.keras.models.functional import Functional

_URL = _common.BASE_WEIGHTS_URL + "vgg16/"
WEIGHTS = {
    True: ("vgg16_weights_tf_dim_ordering_tf_kernels.h5",
           _URL + "vgg16_weights_tf_dim_ordering_tf_kernels.h5",
           "64373286793e3c8b2b4e3219cbf3544b"),
    False: ("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
            _URL + "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "6d6bbae143d832006294945121d1f1fc"),
}


def build_vgg(convs_per_block: tuple, name: str, files: dict, include_top: bool,
              weights: Any, input_tensor: Any, input_shape: Any, pooling: Any, classes: int,
              classifier_activation: Any) -> Functional:
    """A VGG network with `convs_per_block[i]` 3x3 convolutions in block i+1."""
    _common.check_weights(weights, include_top, classes, name)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=224, min_size=32, data_format="channels_last",
        require_flatten=include_top, weights=weights)
    img_input = _common.image_input(input_tensor, input_shape)
    x = img_input
    for b, (n, filters) in enumerate(zip(convs_per_block, (64, 128, 256, 512, 512)), 1):
        for i in range(1, n + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same",
                              name=f"block{b}_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{b}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pool(x, pooling)
    model = _common.make_model(input_tensor, img_input, x, name)
    _common.load_weights(model, weights, files, include_top)
    return model


def VGG16(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
          input_shape: Any = None, pooling: Any = None, classes: int = 1000,
          classifier_activation: Any = "softmax", name: str = "vgg16") -> Functional:
    """VGG16: 13 convolutions in 5 blocks and 3 dense layers (138M parameters with the top).
    Inputs are RGB in [0, 255] passed through `vgg16.preprocess_input` ("caffe" mode)."""
    return build_vgg((2, 2, 3, 3, 3), name, WEIGHTS, include_top, weights, input_tensor,
                     input_shape, pooling, classes, classifier_activation)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """ImageNet "caffe" preprocessing (RGB to BGR, minus the channel means)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


__all__ = ["VGG16", "decode_predictions", "preprocess_input"]
