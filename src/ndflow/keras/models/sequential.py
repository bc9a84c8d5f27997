"""`keras.Sequential`: a plain stack of layers, each with one input and one output.

>>> from ndflow import keras
>>> model = keras.Sequential([keras.Input(shape=(784,)),
...                           keras.layers.Dense(512, activation="relu"),
...                           keras.layers.Dense(10, activation="softmax")])
>>> model.output_shape, model.count_params()
((None, 10), 407050)
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import SymbolicTensor, Tensor
from ndflow.keras.layers.input_layer import InputLayer
from ndflow.keras.layers.layer import Layer, _fmt_shape
from ndflow.keras.models.model import Model


class Sequential(Model):
    """A linear stack of layers (list in the constructor, or `add`; `pop` removes the last).

    Without an ``Input`` first, the model builds on its first call (deferred build).
    """

    def __init__(self, layers: list | None = None, trainable: bool = True,
                 name: str | None = None, **kwargs: Any) -> None:
        Model.__init__(self, trainable=trainable, name=name, **kwargs)
        self._stack: list = []
        self._graph_input: SymbolicTensor | None = None
        self._graph_output: SymbolicTensor | None = None
        if layers is not None:
            if isinstance(layers, Layer):
                layers = [layers]
            for layer in layers:
                self.add(layer, rebuild=False)
            self._maybe_rebuild()

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Append a layer (or a ``keras.Input`` tensor) to the stack."""
        if isinstance(layer, SymbolicTensor):
            h = layer._keras_history
            if h is not None and isinstance(h.operation, InputLayer):
                layer = h.operation
        if not isinstance(layer, Layer):
            raise TypeError(
                "Sequential.add: only instances of keras.layers.Layer can be added to a "
                f"Sequential model, got {layer!r} of type {type(layer).__name__}")
        if isinstance(layer, InputLayer) and self._stack:
            raise ValueError(
                f"Sequential model '{self.name}': an Input must be the first layer; this model "
                f"already has layers {[x.name for x in self._stack]}")
        # the names in the stack, counted (kept up to date here: a set rebuilt on every add
        # made loading a file of n layers quadratic)
        names = self.__dict__.setdefault("_stack_names", set())
        if len(names) != len(self._stack):  # the stack changed elsewhere (pop, input layer)
            names.clear()
            names.update(x.name for x in self._stack)
        if layer.name in names:
            raise ValueError(
                f"Sequential model '{self.name}': all layers must have unique names; "
                f"'{layer.name}' is already used. Pass a different name=... to the layer.")
        self._stack.append(layer)
        names.add(layer.name)
        if rebuild:
            self._maybe_rebuild()
        else:
            self.built = False

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer."""
        body = self.layers
        if not body:
            raise TypeError(f"Sequential.pop: model '{self.name}' has no layers to remove")
        layer = self._stack.pop()
        self.built = False
        self._graph_input = self._graph_output = None
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self) -> None:
        self.built = False
        self._graph_input = self._graph_output = None
        if not self._stack:
            return
        first = self._stack[0]
        if isinstance(first, InputLayer):
            if len(self._stack) > 1:
                self._build_graph(first.output)
        elif first._input_shape_arg is not None:
            self._build_graph_from_shape(first._input_shape_arg, None)

    def _build_graph_from_shape(self, shape: Any, dtype: Any) -> None:
        inp = InputLayer(batch_shape=tuple(shape), dtype=dtype)
        self._stack.insert(0, inp)
        try:
            self._build_graph(inp.output)
        except Exception:
            self._stack.pop(0)
            raise

    def _build_graph(self, x: SymbolicTensor) -> None:
        inp = x
        for layer in self._stack:
            if isinstance(layer, InputLayer):
                continue
            x = layer(x)
            if not isinstance(x, SymbolicTensor):
                raise TypeError(f"Sequential: layer '{layer.name}' must return a single tensor "
                                f"in a Sequential model, got {type(x).__name__}")
        self._graph_input = inp
        self._graph_output = x
        self._build_shapes = tuple(inp.shape)
        self.built = True

    def build(self, input_shape: Any = None) -> None:
        """Build the stack for inputs of ``input_shape`` (batch dimension included)."""
        if self.built:
            return
        if input_shape is None:
            raise ValueError(f"Sequential.build of '{self.name}': an input_shape is required")
        if self._stack and isinstance(self._stack[0], InputLayer):
            self._build_graph(self._stack[0].output)
        else:
            self._build_graph_from_shape((None,) + tuple(input_shape)[1:], None)

    def _maybe_build(self, args: tuple, kwargs: dict) -> None:
        if self.built:
            return
        x = args[0] if args else kwargs.get("inputs")
        if isinstance(x, Tensor) and not (self._stack and isinstance(self._stack[0], InputLayer)):
            shape = (None,) + tuple(x.shape)[1:]
            try:
                self._build_graph_from_shape(shape, x.dtype.name)
                return
            except Exception:
                # fall back to building eagerly on the data (layers with no shape rules)
                self.built = True
                return
        self.build(tuple(x.shape) if isinstance(x, Tensor) else None)

    # --- running ------------------------------------------------------------------------------
    @property
    def layers(self) -> list:
        return [x for x in self._stack if not isinstance(x, InputLayer)]

    def _tracked_sublayers(self) -> list:
        if "_stack" not in self.__dict__:
            return []
        out = list(self._stack)
        seen = {id(x) for x in out}
        for x in Layer._tracked_sublayers(self):
            if id(x) not in seen:
                out.append(x)
        return out

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        gi = self._graph_input
        if gi is not None and isinstance(inputs, Tensor):
            shape = inputs._value.shape if not inputs._symbolic else inputs.shape
            want = gi._shape
            if len(shape) != len(want) or any(a is not None and b is not None and a != b
                                              for a, b in zip(shape, want)):
                raise ValueError(
                    f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                    f"shape={_fmt_shape(want)}, found shape={_fmt_shape(shape)}")
        x = inputs
        for layer in self._stack:
            if type(layer) is InputLayer:
                continue
            x = layer(x)
        return x

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        return self.call(*args, **kwargs)

    @property
    def inputs(self) -> list:
        if self._graph_input is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined inputs yet: it "
                                 "is built on its first call, or give it a keras.Input first")
        return [self._graph_input]

    @property
    def outputs(self) -> list:
        return [self.output]

    @property
    def input(self) -> Any:
        return self.inputs[0]

    @property
    def output(self) -> Any:
        if self._graph_output is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined outputs yet")
        return self._graph_output

    @property
    def input_shape(self) -> Any:
        return tuple(self.input.shape)

    @property
    def output_shape(self) -> Any:
        return tuple(self.output.shape)

    @property
    def output_names(self) -> list:
        layers = self.layers
        return [layers[-1].name] if layers else []

    @property
    def input_dtype(self) -> Any:
        return self.input.dtype.name if self._graph_input is not None else None

    # --- config -------------------------------------------------------------------------------
    def get_config(self) -> dict:
        from ndflow.keras.models.cloning import serialize_layer

        layers = [serialize_layer(x) for x in self._stack]
        return {"name": self.name, "trainable": self.trainable, "layers": layers}

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> Sequential:
        from ndflow.keras.models.cloning import deserialize_layer_entry

        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            got = sorted(config)[:10] if isinstance(config, dict) else config
            raise ValueError("Sequential.from_config: expected a config with a 'layers' list, "
                             f"got {got!r:.80}")
        name, trainable = config.get("name"), config.get("trainable", True)
        if name is not None and not isinstance(name, str):
            raise ValueError(f"Sequential.from_config: 'name' must be a string, got {name!r:.60}")
        if not isinstance(trainable, bool):
            raise ValueError(f"Sequential.from_config: 'trainable' must be true or false, got "
                             f"{trainable!r:.60}")
        model = cls(name=name, trainable=trainable)
        for i, spec in enumerate(config["layers"]):
            model.add(deserialize_layer_entry(spec, i, custom_objects, "Sequential.from_config"),
                      rebuild=False)
        model._maybe_rebuild()
        return model
