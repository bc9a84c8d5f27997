"""`keras.applications.resnet_v2`: ResNet50V2/101V2/152V2 (He et al., 2016, pre-activation),
with Keras's layer names and weights files.

>>> from ndflow import keras
>>> m = keras.applications.ResNet50V2(weights=None, include_top=False,
...                                   input_shape=(32, 32, 3))
>>> m.output_shape
(None, 1, 1, 2048)
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from ndflow.keras.applications import imagenet_utils
from ndflow.keras.applications.imagenet_utils import decode_predictions  # noqa: F401
from ndflow.keras.applications.resnet import ResNet, stack_residual_blocks_v2
from ndflow.keras.models.functional import Functional


def _v2(depths: tuple) -> Callable:
    def stack_fn(x: Any) -> Any:
        x = stack_residual_blocks_v2(x, 64, depths[0], name="conv2")
        x = stack_residual_blocks_v2(x, 128, depths[1], name="conv3")
        x = stack_residual_blocks_v2(x, 256, depths[2], name="conv4")
        return stack_residual_blocks_v2(x, 512, depths[3], stride1=1, name="conv5")
    return stack_fn


def ResNet50V2(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
               input_shape: Any = None, pooling: Any = None, classes: int = 1000,
               classifier_activation: Any = "softmax", name: str = "resnet50v2"
               ) -> Functional:
    """ResNet50V2; inputs through `resnet_v2.preprocess_input` ("tf" mode)."""
    return ResNet(_v2((3, 4, 6, 3)), True, True, name, include_top, weights, input_tensor,
                  input_shape, pooling, classes, classifier_activation, "resnet50v2")


def ResNet101V2(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                input_shape: Any = None, pooling: Any = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str = "resnet101v2"
                ) -> Functional:
    """ResNet101V2."""
    return ResNet(_v2((3, 4, 23, 3)), True, True, name, include_top, weights, input_tensor,
                  input_shape, pooling, classes, classifier_activation, "resnet101v2")


def ResNet152V2(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                input_shape: Any = None, pooling: Any = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str = "resnet152v2"
                ) -> Functional:
    """ResNet152V2."""
    return ResNet(_v2((3, 8, 36, 3)), True, True, name, include_top, weights, input_tensor,
                  input_shape, pooling, classes, classifier_activation, "resnet152v2")


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """ImageNet "tf" preprocessing (pixels scaled to [-1, 1])."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


__all__ = ["ResNet101V2", "ResNet152V2", "ResNet50V2", "decode_predictions",
           "preprocess_input"]
