"""`keras.utils.legacy`: the Keras 2 names of object (de)serialization, kept for old code.

>>> from ndflow import keras
>>> keras.utils.legacy.serialize_keras_object is keras.utils.serialize_keras_object
True
"""

from ndflow.keras.saving import deserialize_keras_object, serialize_keras_object

__all__ = ["deserialize_keras_object", "serialize_keras_object"]
