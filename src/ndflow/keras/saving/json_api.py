"""JSON model configs and layer (de)serialization: `Model.to_json`,
`keras.models.model_from_json`, `keras.layers.serialize` / `keras.layers.deserialize`.

A JSON string is read with the same checks as a `.keras` file's config.json (size, nesting
depth and layer count within the load limits; names resolve only to built-in or registered
objects; code-carrying configs refused in safe mode).

>>> from ndflow import keras
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> again = keras.models.model_from_json(model.to_json())
>>> [type(layer).__name__ for layer in again.layers]
['Dense']
>>> keras.layers.deserialize(keras.layers.serialize(keras.layers.Dense(4))).units
4
"""

from __future__ import annotations

import json
from typing import Any

from ndflow.keras.saving import limits
from ndflow.keras.saving import serialization_lib as _ser


def model_to_json(model: Any, **kwargs: Any) -> str:
    """The model's Keras 3 serialized config (with build and compile configs) as JSON;
    ``kwargs`` go to `json.dumps`."""
    return json.dumps(_ser.serialize_keras_object(model), **kwargs)


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Any:
    """A model (compiled if the JSON holds a compile config, as in Keras) from `to_json`'s
    output, written by ndflow or Keras 3."""
    from ndflow.keras.layers.layer import Layer

    if isinstance(json_string, bytes):
        json_string = json_string.decode("utf-8")
    if not isinstance(json_string, str):
        raise ValueError(f"model_from_json: expected a JSON string, got "
                         f"{type(json_string).__name__}")
    size = len(json_string.encode("utf-8"))
    if size > limits.get_load_limits().max_config_bytes:
        raise limits.exceeded("the JSON model config", "its size in bytes", size,
                              "max_config_bytes")
    try:
        config = json.loads(json_string)
    except json.JSONDecodeError as e:
        raise ValueError(f"model_from_json: not valid JSON ({e})") from None
    limits.check_config(config, "the JSON model config")
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("model_from_json: expected a serialized model (a JSON object with "
                         "'class_name' and 'config'), as Model.to_json() writes")
    model = _ser.deserialize_keras_object(_ser.normalize_keras_config(config),
                                          custom_objects=custom_objects)
    if not isinstance(model, Layer):
        raise ValueError(f"model_from_json: the JSON describes a {type(model).__name__}, not "
                         "a model")
    return model


def serialize_layer(layer: Any) -> dict:
    """A layer's Keras 3 serialized form (``module``, ``class_name``, ``config``,
    ``registered_name``, and ``build_config`` once built)."""
    from ndflow.keras.layers.layer import Layer

    if not isinstance(layer, Layer):
        raise ValueError(f"layers.serialize: expected a Keras layer, got "
                         f"{type(layer).__name__}")
    return _ser.serialize_keras_object(layer)


def deserialize_layer(config: dict, custom_objects: dict | None = None) -> Any:
    """A layer (or model) from `serialize_layer`'s output; ``module`` may be left out."""
    from ndflow.keras.layers.layer import Layer

    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"layers.deserialize: expected a dict with 'class_name' and 'config', "
                         f"got {type(config).__name__}")
    config = dict(config)
    config.setdefault("config", {})
    config.setdefault("module", "keras.layers")
    limits.check_config(config, "the layer config")
    layer = _ser.deserialize_keras_object(_ser.normalize_keras_config(config),
                                          custom_objects=custom_objects)
    if not isinstance(layer, Layer):
        raise ValueError(f"layers.deserialize: {config['class_name']!r} is not a layer "
                         f"(got a {type(layer).__name__})")
    return layer
