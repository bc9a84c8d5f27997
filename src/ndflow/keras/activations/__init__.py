"""`keras.activations`: all of Keras 3's activation functions, plus `get`, `serialize` and
`deserialize`.

>>> from ndflow.keras import activations
>>> activations.get("relu") is activations.relu
True
>>> activations.serialize(activations.gelu)
'gelu'
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.activations.activations import (
    celu, crelu, elu, exponential, gelu, glu, hard_shrink, hard_sigmoid, hard_silu, hard_swish,
    hard_tanh, leaky_relu, linear, log_sigmoid, log_softmax, mish, relu, relu6, selu, sigmoid,
    silu, soft_shrink, softmax, softplus, softsign, sparse_plus, sparse_sigmoid, sparsemax,
    squareplus, swish, tanh, tanh_shrink, threshold,
)

ALL_OBJECTS = (
    celu, crelu, elu, exponential, gelu, glu, hard_shrink, hard_sigmoid, hard_silu, hard_tanh,
    leaky_relu, linear, log_sigmoid, log_softmax, mish, relu, relu6, selu, sigmoid, silu,
    soft_shrink, softmax, softplus, softsign, sparse_plus, sparse_sigmoid, sparsemax, squareplus,
    tanh, tanh_shrink, threshold,
)
ALL_OBJECTS_DICT: dict[str, Any] = {fn.__name__: fn for fn in ALL_OBJECTS}
ALL_OBJECTS_DICT["swish"] = silu
ALL_OBJECTS_DICT["hard_swish"] = hard_silu


def _custom(name: str, custom_objects: dict | None) -> Any:
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    try:  # objects registered with keras.saving.register_keras_serializable
        from ndflow.keras.saving import get_registered_object  # type: ignore[attr-defined]
    except ImportError:
        return None
    try:
        return get_registered_object(name, custom_objects)
    except Exception:
        return None


def serialize(activation: Any) -> Any:
    """The config of an activation: its name for built-ins, a Keras object dict otherwise.

    >>> serialize(relu)
    'relu'
    """
    if activation is None:
        return "linear"
    if activation in ALL_OBJECTS:
        return activation.__name__
    if hasattr(activation, "get_config"):
        return {"module": type(activation).__module__, "class_name": type(activation).__name__,
                "config": activation.get_config(), "registered_name": type(activation).__name__}
    name = getattr(activation, "__name__", None)
    if name is None:
        raise ValueError(f"activations.serialize: cannot serialize {activation!r}; expected a "
                         "built-in activation, a named function or an object with get_config")
    return {"module": getattr(activation, "__module__", None), "class_name": "function",
            "config": name, "registered_name": name}


def deserialize(config: Any, custom_objects: dict | None = None) -> Any:
    """The activation function a config names (a string or a Keras object dict).

    >>> deserialize("relu") is relu
    True
    """
    if isinstance(config, str):
        fn = ALL_OBJECTS_DICT.get(config) or _custom(config, custom_objects)
        if fn is None:
            raise ValueError(
                f"activations.deserialize: unknown activation {config!r}. Expected one of "
                f"{sorted(ALL_OBJECTS_DICT)}, or pass custom_objects={{{config!r}: fn}}.")
        return fn
    if isinstance(config, dict):
        cls = config.get("class_name")
        inner = config.get("config")
        name = config.get("registered_name") or inner
        if cls == "function" or cls is None:
            if isinstance(inner, str) and inner in ALL_OBJECTS_DICT and not (
                    custom_objects and inner in custom_objects):
                return ALL_OBJECTS_DICT[inner]
            fn = _custom(name, custom_objects) if isinstance(name, str) else None
            if fn is None and isinstance(inner, str):
                fn = _custom(inner, custom_objects)
            if fn is None:
                raise ValueError(f"activations.deserialize: unknown activation {inner!r}; "
                                 "pass it in custom_objects")
            return fn
        obj_cls = _custom(config.get("registered_name") or cls, custom_objects) or _custom(
            cls, custom_objects)
        if obj_cls is None:
            raise ValueError(f"activations.deserialize: unknown activation class {cls!r}; "
                             "pass it in custom_objects")
        if hasattr(obj_cls, "from_config"):
            return obj_cls.from_config(inner or {})
        return obj_cls(**(inner or {}))
    raise ValueError(f"activations.deserialize: expected a string or a config dict, got "
                     f"{config!r}")


def get(identifier: Any) -> Any:
    """Resolve an activation from `None` (linear), a name, a config dict or a callable.

    >>> get(None) is linear
    True
    """
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"activations.get: could not interpret activation identifier "
                     f"{identifier!r}; expected None, a name such as 'relu', a config dict or a "
                     "callable")


__all__ = sorted(ALL_OBJECTS_DICT) + ["deserialize", "get", "serialize"]
