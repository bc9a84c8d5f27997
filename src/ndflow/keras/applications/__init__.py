"""`keras.applications`: the image-classification architectures Keras ships, with Keras's
layer names, weight shapes and weights files (``weights="imagenet"`` reads the Keras cache
``~/.keras/models`` or downloads Keras's file there), and each family's `preprocess_input`
and `decode_predictions`.

>>> from ndflow import keras
>>> base = keras.applications.MobileNetV2(weights=None, include_top=False,
...                                       input_shape=(32, 32, 3), pooling="avg")
>>> base.output_shape
(None, 1280)
"""

from ndflow.keras.applications import (  # noqa: F401
    convnext, densenet, efficientnet, efficientnet_v2, imagenet_utils, inception_resnet_v2,
    inception_v3, mobilenet, mobilenet_v2, mobilenet_v3, nasnet, resnet, resnet50, resnet_v2,
    vgg16, vgg19, xception,
)
from ndflow.keras.applications.convnext import (
    ConvNeXtBase, ConvNeXtLarge, ConvNeXtSmall, ConvNeXtTiny, ConvNeXtXLarge,
)
from ndflow.keras.applications.densenet import DenseNet121, DenseNet169, DenseNet201
from ndflow.keras.applications.efficientnet import (
    EfficientNetB0, EfficientNetB1, EfficientNetB2, EfficientNetB3, EfficientNetB4,
    EfficientNetB5, EfficientNetB6, EfficientNetB7,
)
from ndflow.keras.applications.mobilenet import MobileNet
from ndflow.keras.applications.efficientnet_v2 import (
    EfficientNetV2B0, EfficientNetV2B1, EfficientNetV2B2, EfficientNetV2B3, EfficientNetV2L,
    EfficientNetV2M, EfficientNetV2S,
)
from ndflow.keras.applications.inception_resnet_v2 import InceptionResNetV2
from ndflow.keras.applications.inception_v3 import InceptionV3
from ndflow.keras.applications.mobilenet_v2 import MobileNetV2
from ndflow.keras.applications.mobilenet_v3 import MobileNetV3Large, MobileNetV3Small
from ndflow.keras.applications.nasnet import NASNetLarge, NASNetMobile
from ndflow.keras.applications.xception import Xception
from ndflow.keras.applications.resnet import ResNet50, ResNet101, ResNet152
from ndflow.keras.applications.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2
from ndflow.keras.applications.vgg16 import VGG16
from ndflow.keras.applications.vgg19 import VGG19

__all__ = [
    "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge",
    "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
    "EfficientNetV2L", "EfficientNetV2M", "EfficientNetV2S", "InceptionResNetV2",
    "DenseNet121", "DenseNet169", "DenseNet201", "EfficientNetB0", "EfficientNetB1",
    "EfficientNetB2", "EfficientNetB3", "EfficientNetB4", "EfficientNetB5", "EfficientNetB6",
    "EfficientNetB7", "InceptionV3", "MobileNet", "MobileNetV2", "MobileNetV3Large",
    "MobileNetV3Small", "NASNetLarge", "NASNetMobile", "Xception",
    "ResNet101", "ResNet101V2", "ResNet152", "ResNet152V2", "ResNet50", "ResNet50V2", "VGG16",
    "VGG19",
]
