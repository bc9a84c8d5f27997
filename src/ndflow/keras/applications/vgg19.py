"""`keras.applications.vgg19`: VGG19 (Simonyan & Zisserman, 2015), with Keras's layer names
and weights files.

>>> from ndflow import keras
>>> m = keras.applications.VGG19(weights=None, include_top=False, input_shape=(32, 32, 3))
>>> len(m.layers)
22
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.applications import _common
from ndflow.keras.applications.imagenet_utils import decode_predictions  # noqa: F401
from ndflow.keras.applications.vgg16 import build_vgg, preprocess_input  # noqa: F401
from ndflow.keras.models.functional import Functional

_URL = _common.BASE_WEIGHTS_URL + "vgg19/"
WEIGHTS = {
    True: ("vgg19_weights_tf_dim_ordering_tf_kernels.h5",
           _URL + "vgg19_weights_tf_dim_ordering_tf_kernels.h5",
           "cbe5617147190e668d6c5d5026f83318"),
    False: ("vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
            _URL + "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "253f8cb515780f3b799900260a226db6"),
}


def VGG19(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
          input_shape: Any = None, pooling: Any = None, classes: int = 1000,
          classifier_activation: Any = "softmax", name: str = "vgg19") -> Functional:
    """VGG19: 16 convolutions in 5 blocks and 3 dense layers (144M parameters with the top).
    Inputs are RGB in [0, 255] passed through `vgg19.preprocess_input` ("caffe" mode)."""
    return build_vgg((2, 2, 4, 4, 4), name, WEIGHTS, include_top, weights, input_tensor,
                     input_shape, pooling, classes, classifier_activation)


__all__ = ["VGG19", "decode_predictions", "preprocess_input"]
