"""`keras.applications.resnet50`: the ResNet50 module alias Keras keeps.

>>> from ndflow.keras.applications import resnet50
>>> resnet50.ResNet50.__name__
'ResNet50'
"""

from ndflow.keras.applications.resnet import ResNet50, decode_predictions, preprocess_input

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
