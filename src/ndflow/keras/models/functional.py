"""Functional models: a graph of layer calls recorded on symbolic tensors, replayed on data.

>>> from ndflow import keras
>>> a = keras.Input(shape=(4,), name="a")
>>> b = keras.Input(shape=(2,), name="b")
>>> x = keras.layers.Concatenate()([a, b])
>>> out = keras.layers.Dense(1, name="score")(x)
>>> model = keras.Model([a, b], out)
>>> [layer.name for layer in model.layers]
['a', 'b', 'concatenate', 'score']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core import dispatch
from ndflow.core.tensor import SymbolicTensor, Tensor, convert_to_tensor
from ndflow.keras.layers.input_layer import InputLayer
from ndflow.keras.layers.layer import Layer, Node, _fmt_shape
from ndflow.keras.models.model import Model
from ndflow.util import nest


class _OpStep:
    """A raw ndflow op applied to symbolic tensors outside any layer (e.g. ``x + 1``)."""

    __slots__ = ("op", "inputs", "attrs", "index", "output")

    def __init__(self, op: Any, inputs: tuple, attrs: dict, index: int | None,
                 output: SymbolicTensor) -> None:
        self.op, self.inputs, self.attrs, self.index, self.output = op, inputs, attrs, index, \
            output


def _check_symbolic(t: Any, what: str) -> SymbolicTensor:
    if not isinstance(t, SymbolicTensor):
        raise TypeError(
            f"Model: all {what} must be symbolic tensors (from keras.Input or from calling "
            f"layers on them), got {type(t).__name__}. Build the model from keras.Input.")
    return t


class Functional(Model):
    """A model defined by ``Model(inputs, outputs)`` (see the module docstring)."""

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None,
                 trainable: bool = True, **kwargs: Any) -> None:
        self._graph_steps: list = []
        Model.__init__(self, name=name, trainable=trainable, **kwargs)
        if isinstance(inputs, dict) and not inputs:
            raise ValueError("Model: inputs must not be empty")
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        flat_in = [_check_symbolic(t, "inputs") for t in nest.flatten(inputs)]
        flat_out = [_check_symbolic(t, "outputs") for t in nest.flatten(outputs)]
        self._graph_inputs = flat_in
        self._graph_outputs = flat_out
        self._input_layers = []
        for t in flat_in:
            h = t._keras_history
            self._input_layers.append(h.operation if h is not None else None)
        self._build_graph()
        self.built = True
        self._input_names = [layer.name if layer is not None else f"input_{i}"
                             for i, layer in enumerate(self._input_layers)]

    # --- graph construction -------------------------------------------------------------------
    def _build_graph(self) -> None:
        input_ids = {id(t) for t in self._graph_inputs}
        steps: list = []
        done: set = set()  # ids of Nodes / tensors already scheduled
        available = set(input_ids)
        # first-visit (pre-order) index of each operation, as Keras's graph walk numbers them
        pre_index: dict = {}

        def producer(t: SymbolicTensor) -> Any:
            h = t._keras_history
            if h is not None:
                return h.operation._inbound_nodes[h.node_index]
            if t._node is not None:
                node = t._node
                return _OpStep(node[0], node[1], node[2], node[3] if len(node) > 3 else None, t)
            return None

        # iterative post-order DFS from the outputs
        for out in self._graph_outputs:
            stack: list = [(out, False)]
            while stack:
                t, expanded = stack.pop()
                if id(t) in available:
                    h = t._keras_history
                    if h is not None and id(t) in input_ids:
                        pre_index.setdefault(id(h.operation), len(pre_index))
                    continue
                prod = producer(t)
                if prod is None or (isinstance(prod, Node) and isinstance(prod.layer, InputLayer)):
                    raise ValueError(
                        f"Graph disconnected: cannot obtain a value for tensor {t.name} "
                        f"(shape {_fmt_shape(tuple(t.shape))}): it does not come from the model "
                        f"inputs {[x.name for x in self._graph_inputs]}. Pass every keras.Input "
                        "the outputs depend on to Model(inputs=...).")
                parents = (prod.input_tensors if isinstance(prod, Node) else
                           [x for x in prod.inputs if isinstance(x, SymbolicTensor)])
                if expanded:
                    key = id(prod) if isinstance(prod, Node) else id(t)
                    if key not in done:
                        done.add(key)
                        steps.append(prod)
                        if isinstance(prod, Node):
                            for o in prod.flat_outputs:
                                available.add(id(o))
                        else:
                            available.add(id(t))
                    continue
                op_key = id(prod.layer) if isinstance(prod, Node) else id(t)
                pre_index.setdefault(op_key, len(pre_index))
                stack.append((t, True))
                for p in reversed(parents):
                    if id(p) not in available:
                        stack.append((p, False))
        self._graph_steps = steps
        self._ordered_layers = self._keras_layer_order(steps, pre_index)
        self._output_layers = [t._keras_history.operation if t._keras_history is not None
                               else None for t in self._graph_outputs]

    def _keras_layer_order(self, steps: list, pre_index: dict) -> list:
        """The layers in Keras's order: by decreasing depth (the longest path to an output),
        ties broken by first visit in the walk from the outputs. Weights files name layers by
        class and position in this order, so it must match Keras's for files to move."""
        producer: dict = {}  # tensor id -> vertex key
        for step in steps:
            if isinstance(step, Node):
                for o in step.flat_outputs:
                    producer[id(o)] = id(step)
            else:
                producer[id(step.output)] = id(step)
        for t, layer in zip(self._graph_inputs, self._input_layers):
            if layer is not None:
                producer[id(t)] = ("input", id(layer))
        depth: dict = {}
        layer_depth: dict = {}
        for step in reversed(steps):
            key = id(step)
            d = depth.setdefault(key, 0)
            if isinstance(step, Node):
                d = max(d, layer_depth.get(id(step.layer), (0, None))[0])
                layer_depth[id(step.layer)] = (d, step.layer)
                depth[key] = d
                parents = step.input_tensors
            else:
                parents = [x for x in step.inputs if isinstance(x, SymbolicTensor)]
            for p in parents:
                pk = producer.get(id(p))
                if pk is not None:
                    depth[pk] = max(depth.get(pk, 0), d + 1)
        for layer in self._input_layers:
            if layer is not None and id(layer) not in layer_depth:
                layer_depth[id(layer)] = (depth.get(("input", id(layer)), 0), layer)
                pre_index.setdefault(id(layer), -1)
        ranked = sorted(layer_depth.items(), key=lambda kv: (-kv[1][0], pre_index[kv[0]]))
        return [layer for _, (_, layer) in ranked]

    # --- tracking -----------------------------------------------------------------------------
    def _tracked_sublayers(self) -> list:
        if "_ordered_layers" not in self.__dict__:
            return []
        out = list(self._ordered_layers)
        seen = {id(x) for x in out}
        for x in Layer._tracked_sublayers(self):
            if id(x) not in seen:
                out.append(x)
        return out

    @property
    def layers(self) -> list:
        return list(self._ordered_layers)

    @property
    def inputs(self) -> list:
        return list(self._graph_inputs)

    @property
    def outputs(self) -> list:
        return list(self._graph_outputs)

    @property
    def input(self) -> Any:
        return self._inputs_struct

    @property
    def output(self) -> Any:
        return self._outputs_struct

    @property
    def input_shape(self) -> Any:
        return nest.map_structure(lambda t: tuple(t.shape), self._inputs_struct)

    @property
    def output_shape(self) -> Any:
        return nest.map_structure(lambda t: tuple(t.shape), self._outputs_struct)

    @property
    def input_names(self) -> list:
        return list(self._input_names)

    @property
    def output_names(self) -> list:
        if isinstance(self._outputs_struct, dict):
            return list(self._outputs_struct)
        names = []
        for i, layer in enumerate(self._output_layers):
            names.append(layer.name if layer is not None else f"output_{i}")
        return names

    # --- running ------------------------------------------------------------------------------
    def _flatten_inputs(self, inputs: Any) -> list:
        struct = self._inputs_struct
        n = len(self._graph_inputs)
        if isinstance(inputs, dict):
            if isinstance(struct, dict):
                keys = sorted(struct)
                missing = [k for k in keys if k not in inputs]
                if missing:
                    raise ValueError(f"Model '{self.name}': missing input(s) {missing}; expected "
                                     f"keys {keys}, got {sorted(inputs)}")
                return [inputs[k] for k in keys]
            missing = [k for k in self._input_names if k not in inputs]
            if missing:
                raise ValueError(f"Model '{self.name}': missing input(s) {missing}; expected keys "
                                 f"{self._input_names} (the Input names), got {sorted(inputs)}")
            return [inputs[k] for k in self._input_names]
        if isinstance(inputs, (list, tuple)):
            if n == 1 and not nest.is_nested(struct):
                if len(inputs) == 1:
                    return [inputs[0]]
                raise ValueError(f"Model '{self.name}' expects 1 input, but it received "
                                 f"{len(inputs)} input tensors")
            flat = nest.flatten(inputs)
            if len(flat) != n:
                raise ValueError(f"Model '{self.name}' expects {n} inputs, but it received "
                                 f"{len(flat)} input tensors")
            return flat
        if n != 1:
            raise ValueError(f"Model '{self.name}' expects {n} inputs "
                             f"({self._input_names}), but it received a single tensor")
        return [inputs]

    def _standardize(self, i: int, x: Any) -> Any:
        spec = self._graph_inputs[i]
        if not isinstance(x, Tensor):
            arr = np.asarray(x)
            want = spec._np_dtype
            if arr.dtype != want and arr.dtype.kind in "biuf" and want.kind in "biuf":
                arr = arr.astype(want)
            x = convert_to_tensor(arr)
        else:
            have, want = x._np_dtype if x._symbolic else x._value.dtype, spec._np_dtype
            if have != want and have.kind in "iu" and want.kind in "iu":
                # int64 ids into an int32 Input: the graph's recorded ops (e.g. a mask's
                # `ids != 0`) were built for the Input's dtype
                from ndflow.ops.math import cast

                x = cast(x, want)
        shape = x.shape if x._symbolic else x._value.shape
        want_shape = spec._shape
        if len(shape) != len(want_shape):
            if len(shape) == len(want_shape) - 1 and want_shape[-1] == 1:
                from ndflow.ops.array import expand_dims

                return expand_dims(x, -1)
            raise ValueError(
                f"Input {i} of layer '{self.name}' is incompatible with the layer: expected "
                f"shape={_fmt_shape(want_shape)}, found shape={_fmt_shape(shape)}")
        for a, b in zip(shape, want_shape):
            if a is not None and b is not None and a != b:
                raise ValueError(
                    f"Input {i} of layer '{self.name}' is incompatible with the layer: expected "
                    f"shape={_fmt_shape(want_shape)}, found shape={_fmt_shape(shape)}")
        return x

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        flat = self._flatten_inputs(inputs)
        values: dict = {}
        for i, (sym, x) in enumerate(zip(self._graph_inputs, flat)):
            values[id(sym)] = self._standardize(i, x)
        for step in self._graph_steps:
            if type(step) is Node:
                layer = step.layer
                if step.simple:
                    out = layer(values[id(step.args[0])])
                else:
                    vals = [values.get(id(a), a) if isinstance(a, SymbolicTensor) else a
                            for a in step.flat_args]
                    args, kwargs = nest.pack_sequence_as((step.args, step.kwargs), vals)
                    if training is not None and "training" in kwargs:
                        # as Keras: the model's training mode overrides the one recorded when
                        # the graph was built (Keras records a call's default, e.g. False)
                        kwargs["training"] = training
                    out = layer(*args, **kwargs)
                fo = step.flat_outputs
                if len(fo) == 1:
                    values[id(fo[0])] = out if not nest.is_nested(out) else nest.flatten(out)[0]
                else:
                    for t, o in zip(fo, nest.flatten(out)):
                        values[id(t)] = o
            else:
                ins = tuple(values[id(a)] if isinstance(a, SymbolicTensor) else a
                            for a in step.inputs)
                res = dispatch.execute(step.op, ins, step.attrs)
                values[id(step.output)] = res if step.index is None else res[step.index]
        outs = [values[id(t)] for t in self._graph_outputs]
        return nest.pack_sequence_as(self._outputs_struct, outs)

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        return self.call(*args, **kwargs)

    def build(self, input_shape: Any = None) -> None:
        self.built = True

    # --- config -------------------------------------------------------------------------------
    def get_config(self) -> dict:
        from ndflow.keras.models.cloning import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> Functional:
        from ndflow.keras.models.cloning import functional_from_config

        return functional_from_config(config, custom_objects)
