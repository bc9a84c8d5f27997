"""`keras.Model`: a `Layer` with training (`compile`/`fit`/`evaluate`/`predict`) and `summary`.

``Model(inputs, outputs)`` builds a Functional model; subclassing `Model` and writing `call`
gives a subclassed model.

>>> import numpy as np
>>> from ndflow import keras
>>> class TwoLayers(keras.Model):
...     def __init__(self):
...         super().__init__()
...         self.hidden = keras.layers.Dense(8, activation="relu")
...         self.out = keras.layers.Dense(1)
...     def call(self, x):
...         return self.out(self.hidden(x))
>>> model = TwoLayers()
>>> model(np.zeros((2, 3), "float32")).shape
TensorShape([2, 1])
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.layer import Layer, to_snake_case
from ndflow.keras.trainer.trainer import Trainer


_FUNCTIONAL_SUBCLASSES: dict = {}


def _is_functional_call(args: tuple, kwargs: dict) -> bool:
    return (len(args) >= 2 or "outputs" in kwargs) and (len(args) >= 1 or "inputs" in kwargs)


class Model(Trainer, Layer):
    """A trainable stack of layers. See the module docstring for the three ways to build one."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        if cls is Model and _is_functional_call(args, kwargs):
            from ndflow.keras.models.functional import Functional

            return Functional.__new__(Functional, *args, **kwargs)
        obj = super().__new__(cls, *args, **kwargs)
        Trainer.__init__(obj)  # training state exists even before __init__ runs
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if _is_functional_call(args, kwargs) and not hasattr(self, "_graph_steps"):
            # a subclass calling super().__init__(inputs, outputs): it becomes a Functional
            # model that keeps the subclass's methods (e.g. a custom train_step)
            from ndflow.keras.models.functional import Functional

            cls = type(self)
            mixed = _FUNCTIONAL_SUBCLASSES.get(cls)
            if mixed is None:
                mixed = type(cls.__name__, (cls, Functional), {"__module__": cls.__module__})
                _FUNCTIONAL_SUBCLASSES[cls] = mixed
            object.__setattr__(self, "__class__", mixed)
            Functional.__init__(self, *args, **kwargs)
            return
        if args:
            raise TypeError(f"{type(self).__name__}.__init__ takes keyword arguments only "
                            f"(trainable, name, dtype), got positional {args}")
        Layer.__init__(self, **kwargs)
        if not self.compiled:
            Trainer.__init__(self)

    def _default_name(self) -> str:
        return to_snake_case(type(self).__name__)

    # --- layers -------------------------------------------------------------------------------
    @property
    def layers(self) -> list:
        """The model's direct sublayers, in the order they were assigned."""
        return self._flatten_layers(include_self=False, recursive=False)

    @layers.setter
    def layers(self, _value: Any) -> None:
        raise AttributeError(
            f"{type(self).__name__}: Model.layers is reserved (it lists the model's sublayers); "
            "store your layers under another attribute name, e.g. self.blocks = [...]")

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A sublayer by ``name`` or by ``index`` (position in `layers`).

        >>> from ndflow import keras
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name="out")])
        >>> m.get_layer("out").name
        'out'
        """
        if index is not None and name is not None:
            raise ValueError("get_layer: provide either name or index, not both")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer: model '{self.name}' has {len(layers)} layers, index "
                                 f"{index} is out of range")
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"get_layer: no layer named '{name}' in model '{self.name}'. "
                             f"Existing layers: {[layer.name for layer in layers]}")
        raise ValueError("get_layer: provide a layer name or index")

    # --- summary ------------------------------------------------------------------------------
    def summary(self, line_length: int | None = None, positions: Any = None,
                print_fn: Any = None, expand_nested: bool = False, show_trainable: bool = False,
                layer_range: Any = None) -> None:
        """Print a table of the layers: name (type), output shape, number of parameters."""
        from ndflow.keras.utils.summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable,
                      layer_range=layer_range)

    def get_config(self) -> dict:
        return Layer.get_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> Model:
        if "layers" in config and "input_layers" in config:
            from ndflow.keras.models.functional import Functional

            return Functional.from_config(config, custom_objects=custom_objects)
        return super().from_config(config)

    # --- saving (hook into ndflow.keras.saving; added by the saving contributor) -------------
    def save(self, filepath: Any, overwrite: bool = True, **kwargs: Any) -> None:
        """Save the model as a Keras 3 `.keras` file (see `keras.saving.save_model`). In a
        multi-worker job only worker 0 writes."""
        from ndflow.distribute import _context as _distribute
        from ndflow.keras.saving import saving_api

        if not _distribute.is_chief():
            return
        saving_api.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Save the weights to a `.weights.h5` file (see `keras.saving.save_weights`). In a
        multi-worker job only worker 0 writes."""
        from ndflow.distribute import _context as _distribute
        from ndflow.keras.saving import saving_api

        if not _distribute.is_chief():
            return
        saving_api.save_weights(self, filepath, overwrite=overwrite)

    def export(self, filepath: Any, format: str = "onnx", verbose: Any = None,
               input_signature: Any = None, opset_version: int | None = None,
               **kwargs: Any) -> None:
        """Export the inference graph (as `Model.export` in Keras 3). ndflow writes
        `format="onnx"` (needs `ndflow[onnx]`): dynamic batch dimension, input and output
        names from the model, opset 17 unless `opset_version` says otherwise (13 or newer).

        >>> model.export("model.onnx", format="onnx")  # doctest: +SKIP
        """
        if format != "onnx":
            raise ValueError(f"Model.export: expected format='onnx' (the format ndflow "
                             f"exports), got format={format!r}")
        unknown = sorted(set(kwargs) - {"input_names", "output_names"})
        if unknown:
            raise TypeError(f"Model.export: unexpected keyword arguments {unknown} for "
                            "format='onnx'")
        from ndflow.export.onnx import export

        export(self, input_signature, filepath, opset_version=opset_version, **kwargs)
        if verbose:
            print(f"Saved the ONNX model to {filepath}")

    def load_weights(self, filepath: Any, skip_mismatch: bool = False, **kwargs: Any) -> None:
        """Load weights from a `.weights.h5` or `.keras` file (see `keras.saving`)."""
        from ndflow.keras.saving import saving_api

        saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)
