"""Model configs in the Keras 3 layout, and `clone_model`.

A Functional config lists every layer (its serialized config, ``name`` and ``inbound_nodes``:
the arguments of each call, with tensors written as ``__keras_tensor__`` entries that name the
producing layer, node and output index) plus ``input_layers`` and ``output_layers``.

>>> from ndflow import keras
>>> x = keras.Input((3,), name="x")
>>> model = keras.Model(x, keras.layers.Dense(2, name="d")(x))
>>> config = model.get_config()
>>> [layer["name"] for layer in config["layers"]], config["output_layers"]
(['x', 'd'], [['d', 0, 0]])
>>> keras.Model.from_config(config).output_shape
(None, 2)
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import SymbolicTensor
from ndflow.util import nest


def serialize_layer(layer: Any) -> dict:
    from ndflow.keras.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(layer)


def deserialize_layer(config: dict, custom_objects: Any = None) -> Any:
    from ndflow.keras.saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects=custom_objects)


def _model_nodes(model: Any) -> dict:
    """For each layer: its nodes that belong to ``model``, in call order -> new index."""
    from ndflow.keras.layers.layer import Node

    index: dict = {}
    for layer in model._ordered_layers:
        index.setdefault(id(layer), {})
    for t in model._graph_inputs:
        h = t._keras_history
        if h is not None:
            index.setdefault(id(h.operation), {}).setdefault(h.node_index, 0)
    for step in model._graph_steps:
        if type(step) is not Node:
            raise ValueError(
                f"get_config of model '{model.name}': the model applies ndflow ops directly to "
                f"symbolic tensors ({step.op.name}); wrap them in a layer (e.g. "
                "keras.layers.Lambda) to serialize the model")
        per = index.setdefault(id(step.layer), {})
        per.setdefault(step.index, len(per))
    return index


def _tensor_ref(t: SymbolicTensor, nodes: dict) -> list:
    h = t._keras_history
    return [h.operation.name, nodes[id(h.operation)][h.node_index], h.tensor_index]


def _encode(value: Any, nodes: dict) -> Any:
    if isinstance(value, SymbolicTensor):
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(value.shape), "dtype": value.dtype.name,
                           "keras_history": _tensor_ref(value, nodes)}}
    if isinstance(value, (list, tuple)):
        return [_encode(v, nodes) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v, nodes) for k, v in value.items()}
    from ndflow.keras.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(value)


def _struct_refs(struct: Any, nodes: dict) -> Any:
    if isinstance(struct, SymbolicTensor):
        return _tensor_ref(struct, nodes)
    if isinstance(struct, dict):
        return {k: _struct_refs(v, nodes) for k, v in struct.items()}
    return [_struct_refs(v, nodes) for v in struct]


def functional_config(model: Any) -> dict:
    """The Keras 3 config of a Functional model."""
    from ndflow.keras.layers.layer import Node

    nodes = _model_nodes(model)
    steps_by_layer: dict = {}
    for step in model._graph_steps:
        if type(step) is Node:
            steps_by_layer.setdefault(id(step.layer), []).append(step)
    layers = []
    for layer in model._ordered_layers:
        entry = dict(serialize_layer(layer))
        entry["name"] = layer.name
        inbound = []
        for node in sorted(steps_by_layer.get(id(layer), []), key=lambda n: n.index):
            inbound.append({"args": _encode(list(node.args), nodes),
                            "kwargs": _encode(dict(node.kwargs), nodes)})
        entry["inbound_nodes"] = inbound
        layers.append(entry)
    single_in = not nest.is_nested(model._inputs_struct)
    single_out = not nest.is_nested(model._outputs_struct)
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": (_struct_refs([model._inputs_struct], nodes) if single_in else
                             _struct_refs(model._inputs_struct, nodes)),
            "output_layers": (_struct_refs([model._outputs_struct], nodes) if single_out else
                              _struct_refs(model._outputs_struct, nodes))}


def _is_ref(x: Any) -> bool:
    return (isinstance(x, list) and len(x) == 3 and isinstance(x[0], str)
            and isinstance(x[1], int) and isinstance(x[2], int))


def _is_keras_op(entry: Any) -> bool:
    """A Keras 3 op node (an `Operation`, not a layer) in a Functional config."""
    module = entry.get("module") if isinstance(entry, dict) else None
    return isinstance(module, str) and (module.startswith("keras.src.ops.")
                                        or module.startswith("keras.ops."))


def _refers_to(value: Any, names: set) -> bool:
    """Whether `value` (a node's encoded args) uses an output of one of the nodes `names`."""
    if not names:
        return False
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return value.get("config", {}).get("keras_history", [None])[0] in names
        return any(_refers_to(v, names) for v in value.values())
    if isinstance(value, list):
        return any(_refers_to(v, names) for v in value)
    return False


def functional_from_config(config: dict, custom_objects: Any = None) -> Any:
    """Rebuild a Functional model from `functional_config`'s output."""
    from ndflow.keras.layers.input_layer import InputLayer
    from ndflow.keras.models.functional import Functional

    if not isinstance(config, dict) or "layers" not in config:
        raise ValueError("Functional.from_config: expected a dict with 'layers', "
                         "'input_layers' and 'output_layers'")
    created: dict = {}
    outputs: dict = {}  # (layer name, node index) -> list of output tensors
    pending: list = []
    mask_ops: set = set()  # Keras op nodes that compute propagated masks (skipped)
    for entry in config["layers"]:
        if _is_keras_op(entry):
            mask_ops.add(entry.get("name"))
            continue
        spec = {k: v for k, v in entry.items() if k not in ("name", "inbound_nodes")}
        layer = deserialize_layer(spec, custom_objects)
        name = entry.get("name", layer.name)
        created[name] = layer
        if isinstance(layer, InputLayer):
            outputs[(name, 0)] = [layer.output]
        for k, node in enumerate(entry.get("inbound_nodes", [])):
            pending.append((name, k, node))

    def decode(value: Any) -> Any:
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            ref = value["config"]["keras_history"]
            key = (ref[0], ref[1])
            if key not in outputs:
                raise KeyError(key)
            return outputs[key][ref[2]]
        if isinstance(value, list):
            return [decode(v) for v in value]
        if isinstance(value, dict) and "class_name" not in value:
            return {k: decode(v) for k, v in value.items()}
        if isinstance(value, dict):
            from ndflow.keras.saving.serialization_lib import deserialize_keras_object

            return deserialize_keras_object(value, custom_objects=custom_objects)
        return value

    while pending:
        progress = False
        rest = []
        for name, k, node in pending:
            try:
                kw = node.get("kwargs", {})
                if isinstance(kw, dict) and _refers_to(kw.get("mask"), mask_ops):
                    # Keras records the mask a layer received as an explicit argument computed
                    # by op nodes (e.g. NotEqual for Embedding(mask_zero=True)); ndflow
                    # propagates the same mask from the producing layer by itself
                    kw = {k: v for k, v in kw.items() if k != "mask"}
                if _refers_to(node.get("args", []), mask_ops) or _refers_to(kw, mask_ops):
                    raise ValueError(
                        f"Functional.from_config: layer {name!r} takes the output of a Keras "
                        f"op node ({sorted(mask_ops)}) as an input; ndflow rebuilds op nodes "
                        "only where they compute masks. Wrap the op in a layer.")
                args = decode(node.get("args", []))
                kwargs = decode(kw)
            except KeyError:
                rest.append((name, k, node))
                continue
            out = created[name](*args, **kwargs)
            outputs[(name, k)] = nest.flatten(out)
            progress = True
        if not progress:
            raise ValueError("Functional.from_config: the layer graph cannot be rebuilt (a "
                             f"node's inputs are never produced): {[p[0] for p in rest]}")
        pending = rest

    def resolve(struct: Any) -> Any:
        if _is_ref(struct):
            return outputs[(struct[0], struct[1])][struct[2]]
        if isinstance(struct, dict):
            return {k: resolve(v) for k, v in struct.items()}
        return [resolve(v) for v in struct]

    inputs = resolve(config["input_layers"])
    outs = resolve(config["output_layers"])
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    if isinstance(outs, list) and len(outs) == 1:
        outs = outs[0]
    return Functional(inputs, outs, name=config.get("name"),
                      trainable=config.get("trainable", True))


def clone_model(model: Any, input_tensors: Any = None, clone_function: Any = None) -> Any:
    """A new model with the same architecture and freshly initialized weights.

    ``clone_function(layer) -> new layer`` customizes how each layer is copied (default:
    ``layer.__class__.from_config(layer.get_config())``).

    >>> from ndflow import keras
    >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> keras.models.clone_model(m).output_shape
    (None, 2)
    """
    from ndflow.keras.layers.input_layer import InputLayer
    from ndflow.keras.models.functional import Functional
    from ndflow.keras.models.sequential import Sequential

    def default_clone(layer: Any) -> Any:
        return layer.__class__.from_config(layer.get_config())

    fn = clone_function or default_clone
    if isinstance(model, Sequential):
        new = Sequential()
        first = model._stack[0] if model._stack else None
        if input_tensors is not None:
            new.add(input_tensors, rebuild=False)
        elif isinstance(first, InputLayer):
            new.add(InputLayer(batch_shape=first.batch_shape, dtype=first.dtype), rebuild=False)
        for layer in model.layers:
            new.add(fn(layer), rebuild=False)
        new._maybe_rebuild()
        return new
    if isinstance(model, Functional):
        if clone_function is None and input_tensors is None:
            return Functional.from_config(model.get_config())
        mapping: dict = {}
        new_inputs = (nest.flatten(input_tensors) if input_tensors is not None else
                      [InputLayer(batch_shape=tuple(t.shape), dtype=t.dtype.name).output
                       for t in model._graph_inputs])
        for old, new_t in zip(model._graph_inputs, new_inputs):
            mapping[id(old)] = new_t
        clones: dict = {}
        from ndflow.keras.layers.layer import Node

        for step in model._graph_steps:
            if type(step) is not Node:
                raise ValueError("clone_model: the model applies raw ops to symbolic tensors; "
                                 "wrap them in layers to clone it")
            layer = step.layer
            if id(layer) not in clones:
                clones[id(layer)] = fn(layer)
            vals = [mapping.get(id(a), a) if isinstance(a, SymbolicTensor) else a
                    for a in step.flat_args]
            args, kwargs = nest.pack_sequence_as((step.args, step.kwargs), vals)
            out = clones[id(layer)](*args, **kwargs)
            for t, o in zip(step.flat_outputs, nest.flatten(out)):
                mapping[id(t)] = o
        ins = nest.pack_sequence_as(model._inputs_struct, new_inputs)
        outs = nest.map_structure(lambda t: mapping[id(t)], model._outputs_struct)
        return Functional(ins, outs, name=None)
    return model.__class__.from_config(model.get_config())
