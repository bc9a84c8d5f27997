"""`keras.saving`: the `.keras` format, weights files and object (de)serialization.

>>> from ndflow import keras
>>> sorted(n for n in dir(keras.saving) if n.endswith("_model"))
['load_model', 'save_model']
"""

from ndflow.keras.saving.object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from ndflow.keras.saving.limits import (
    LoadLimitError,
    LoadLimits,
    get_load_limits,
    load_limits,
    set_load_limits,
)
from ndflow.keras.saving.saving_api import load_model, load_weights, save_model, save_weights
from ndflow.keras.saving.serialization_lib import (
    deserialize_keras_object,
    serialize_keras_object,
)

__all__ = ["CustomObjectScope", "custom_object_scope", "get_custom_objects",
           "get_registered_name", "get_registered_object", "register_keras_serializable",
           "load_model", "load_weights", "save_model", "save_weights",
           "deserialize_keras_object", "serialize_keras_object", "LoadLimitError", "LoadLimits",
           "get_load_limits", "load_limits", "set_load_limits"]
