"""`Lambda`: wrap an arbitrary function of tensors as a layer.

A Lambda's config carries the function. A named, importable function is stored by name; a
`lambda` (or nested function) is stored as Python bytecode, which `from_config` only loads
with `safe_mode=False` (or after `keras.config.enable_unsafe_deserialization()`).

>>> import ndflow as tf
>>> from ndflow.keras import layers
>>> layers.Lambda(lambda x: x * 2)(tf.constant([1.0, 2.0])).numpy().tolist()
[2.0, 4.0]
"""

from __future__ import annotations

import inspect
from typing import Any

from ndflow.keras.layers.layer import Layer
from ndflow.keras.saving.function_configs import dump_function as _dump_fn
from ndflow.keras.saving.function_configs import load_function
from ndflow.util import nest


def _load_fn(config: Any, custom_objects: dict | None, safe_mode: bool | None) -> Any:
    if callable(config):
        return config
    return load_function(config, custom_objects, safe_mode, where="Lambda")


class Lambda(Layer):
    """Apply `function(inputs, **arguments)` as a layer (no weights).

    Args:
        function: the function; it may accept `mask` and/or `training` keyword arguments.
        output_shape: output shape without batch dim, or a function of the input shape;
            by default inferred by running the function on symbolic tensors.
        mask: an output mask, or a function `(inputs, mask) -> mask`.
        arguments: extra keyword arguments passed to `function`.

    >>> import ndflow as tf
    >>> Lambda(lambda x, k: x + k, arguments={"k": 1.0})(tf.constant([1.0])).numpy().tolist()
    [2.0]
    """

    def __init__(self, function: Any, output_shape: Any = None, mask: Any = None,
                 arguments: dict | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f"Lambda: expected a callable function, got {function!r}")
        self.function = function
        self.arguments = dict(arguments or {})
        self._output_shape = output_shape
        self.mask = mask
        self.supports_masking = mask is not None
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._fn_mask = "mask" in params
        self._fn_training = "training" in params
        self.built = True

    def call(self, inputs: Any, mask: Any = None, training: Any = None) -> Any:
        kwargs = dict(self.arguments)
        if self._fn_mask:
            kwargs["mask"] = mask
        if self._fn_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        batch = input_shape[0] if input_shape and not isinstance(input_shape[0], (list, tuple)) \
            else None
        return (batch,) + tuple(self._output_shape)

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        if self._output_shape is None:
            return self.call(*args, **kwargs)
        from ndflow.core.tensor import SymbolicTensor

        x = args[0] if args else kwargs["inputs"]
        shape = nest.map_structure(lambda t: tuple(t.shape), x)
        out = self.compute_output_shape(shape)
        dt = nest.flatten(x)[0].dtype
        return SymbolicTensor(tuple(out), dt)

    def get_config(self) -> dict:
        config = super().get_config()
        config["function"] = _dump_fn(self.function)
        if self._output_shape is not None:
            config["output_shape"] = (_dump_fn(self._output_shape) if callable(
                self._output_shape) else list(self._output_shape))
        if self.mask is not None:
            config["mask"] = _dump_fn(self.mask) if callable(self.mask) else self.mask
        config["arguments"] = self.arguments
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None,
                    safe_mode: bool | None = None) -> Lambda:
        config = dict(config)
        if "function" not in config:
            raise ValueError(f"Lambda.from_config: the config has no 'function' (keys: "
                             f"{sorted(config)[:10]})")
        config["function"] = _load_fn(config["function"], custom_objects, safe_mode)
        if isinstance(config.get("output_shape"), dict):
            config["output_shape"] = _load_fn(config["output_shape"], custom_objects, safe_mode)
        if isinstance(config.get("mask"), dict):
            config["mask"] = _load_fn(config["mask"], custom_objects, safe_mode)
        arguments = config.get("arguments")
        if arguments is not None:
            if not isinstance(arguments, dict) or not all(isinstance(k, str) for k in arguments):
                raise ValueError(f"Lambda.from_config: 'arguments' must be a dict of keyword "
                                 f"arguments, got {arguments!r:.80}")
            from ndflow.keras.saving.serialization_lib import deserialize_keras_object

            config["arguments"] = {k: deserialize_keras_object(v, custom_objects=custom_objects)
                                   for k, v in arguments.items()}
        return super().from_config(config)
