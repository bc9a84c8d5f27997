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


def deserialize_layer_entry(spec: Any, i: int, custom_objects: Any, where: str) -> Any:
    """Layer ``i`` of a model config's ``layers`` list, checked to be a layer."""
    from ndflow.keras.layers.layer import Layer

    if not isinstance(spec, dict) or "class_name" not in spec:
        shown = sorted(spec)[:10] if isinstance(spec, dict) else spec
        raise ValueError(f"{where}: layers[{i}] must be a layer config (a dict with "
                         f"'class_name' and 'config'), got {shown!r:.80}")
    layer = deserialize_layer(spec, custom_objects)
    if not isinstance(layer, Layer):
        raise ValueError(f"{where}: layers[{i}] describes a {type(layer).__name__}, not a layer")
    return layer


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


_CONSTANT_TYPES = (type(None), bool, int, float, str)


def _call_params(layer: Any) -> tuple:
    """``(positional parameter names after inputs, keyword parameters, *args?, **kwargs?)``
    of ``layer.call``."""
    import inspect

    try:
        params = list(inspect.signature(layer.call).parameters.values())
    except (TypeError, ValueError):
        return [], {}, True, True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    named = {p.name: p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    var_args = any(p.kind is p.VAR_POSITIONAL for p in params)
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    return positional, named, var_args, var_kw


def _constant_allowed(param: Any, value: Any) -> bool:
    """A JSON constant may stand for ``param`` when its type fits the parameter's default or
    annotation (strings only where the signature says so)."""
    if value is None:
        return True
    if param is None:  # **kwargs: numbers and booleans only
        return isinstance(value, (bool, int, float))
    if param.name == "training":
        return isinstance(value, bool)
    if param.name == "mask":
        return False
    ann = param.annotation
    ann_text = ann if isinstance(ann, str) else getattr(ann, "__name__", str(ann))
    default = param.default
    if isinstance(value, str):
        return isinstance(default, str) or "str" in str(ann_text)
    if isinstance(value, bool):
        return default is param.empty or default is None or isinstance(default, bool) or \
            "bool" in str(ann_text) or "Any" in str(ann_text)
    return not isinstance(default, str) or "float" in str(ann_text) or "int" in str(ann_text)


class _NodeDecoder:
    """Turns one ``inbound_nodes`` entry into call arguments: only tensor references and the
    JSON constants the layer's ``call`` signature allows (never objects, never code)."""

    def __init__(self, outputs: dict, where: str) -> None:
        self.outputs = outputs
        self.where = where

    def refs(self, value: Any, depth: int = 0) -> list:
        """The (layer name, node index) pairs a value needs."""
        if depth > 64:
            raise ValueError(f"{self.where}: the call arguments are nested too deeply")
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            return [self._ref(value)[:2]]
        if isinstance(value, list):
            return [r for v in value for r in self.refs(v, depth + 1)]
        if isinstance(value, dict):
            if value.get("class_name") == "__tuple__":
                return self.refs((value.get("config") or {}).get("value", []), depth + 1)
            if "class_name" in value:
                return []
            return [r for v in value.values() for r in self.refs(v, depth + 1)]
        return []

    def _ref(self, value: dict) -> tuple:
        cfg = value.get("config")
        ref = cfg.get("keras_history") if isinstance(cfg, dict) else None
        if not (isinstance(ref, list) and len(ref) == 3 and isinstance(ref[0], str) and
                all(isinstance(i, int) and not isinstance(i, bool) and i >= 0
                    for i in ref[1:])):
            raise ValueError(f"{self.where}: a __keras_tensor__ reference needs keras_history "
                             f"[layer name, node index, tensor index], got {_short(ref)}")
        return ref[0], ref[1], ref[2]

    def tensors(self, value: Any, what: str) -> Any:
        """A structure whose leaves are all tensor references."""
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            name, node, index = self._ref(value)
            produced = self.outputs[(name, node)]
            if index >= len(produced):
                raise ValueError(f"{self.where}: {what} refers to output {index} of layer "
                                 f"{name!r} (node {node}), which has {len(produced)} outputs")
            return produced[index]
        if isinstance(value, list) and value:
            return [self.tensors(v, what) for v in value]
        if isinstance(value, dict) and value.get("class_name") == "__tuple__":
            inner = (value.get("config") or {}).get("value")
            if isinstance(inner, list) and inner:
                return tuple(self.tensors(v, what) for v in inner)
        if isinstance(value, dict) and value and "class_name" not in value and \
                all(isinstance(k, str) for k in value):
            return {k: self.tensors(v, what) for k, v in value.items()}
        raise ValueError(
            f"{self.where}: {what} must be a tensor reference (or a list/dict of them), got "
            f"{_short(value)}. A model file may only connect layers, never pass other values "
            "as a layer's inputs.")

    def argument(self, value: Any, param: Any, what: str) -> Any:
        """A tensor structure, or a constant the parameter accepts."""
        if isinstance(value, _CONSTANT_TYPES):
            if not _constant_allowed(param, value):
                raise ValueError(
                    f"{self.where}: {what} is the constant {_short(value)}, which the layer's "
                    "call() signature does not take there (only tensors, or constants of the "
                    "parameter's type).")
            return value
        if isinstance(value, dict) and value.get("class_name") == "__tuple__":
            inner = (value.get("config") or {}).get("value")
            if isinstance(inner, list) and all(isinstance(v, (bool, int, float)) for v in inner):
                return tuple(inner)
        if isinstance(value, list) and value and all(
                isinstance(v, (bool, int, float)) for v in value):
            return list(value)
        return self.tensors(value, what)


def _is_keras_op(entry: Any) -> bool:
    """A Keras 3 op node (an `Operation`, not a layer) in a Functional config."""
    module = entry.get("module") if isinstance(entry, dict) else None
    return isinstance(module, str) and (module.startswith("keras.src.ops.")
                                        or module.startswith("keras.ops."))


def _refers_to(value: Any, names: set, depth: int = 0) -> bool:
    """Whether `value` (a node's encoded args) uses an output of one of the nodes `names`."""
    if not names or depth > 64:
        return False
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            cfg = value.get("config")
            hist = cfg.get("keras_history") if isinstance(cfg, dict) else None
            return isinstance(hist, list) and bool(hist) and hist[0] in names
        return any(_refers_to(v, names, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_refers_to(v, names, depth + 1) for v in value)
    return False


def _without_mask_ops(name: str, node: dict, mask_ops: set) -> dict:
    """Keras records the mask a layer received as an explicit argument computed by op nodes
    (e.g. NotEqual for Embedding(mask_zero=True)); ndflow propagates the same mask from the
    producing layer by itself, so that argument is dropped. Any other use of an op node's
    output is refused."""
    if not mask_ops:
        return node
    kw = node.get("kwargs", {})
    if isinstance(kw, dict) and _refers_to(kw.get("mask"), mask_ops):
        kw = {k: v for k, v in kw.items() if k != "mask"}
        node = dict(node, kwargs=kw)
    if _refers_to(node.get("args", []), mask_ops) or _refers_to(kw, mask_ops):
        raise ValueError(
            f"Functional.from_config: layer {name!r} takes the output of a Keras op node "
            f"({sorted(mask_ops)[:5]}) as an input; ndflow rebuilds op nodes only where they "
            "compute masks. Wrap the op in a layer.")
    return node


def functional_from_config(config: dict, custom_objects: Any = None) -> Any:
    """Rebuild a Functional model from `functional_config`'s output.

    Each layer is called once all the tensors its nodes refer to exist (a dependency count per
    node, so the work is linear in the number of nodes whatever their order in the file)."""
    from collections import deque

    from ndflow.keras.layers.input_layer import InputLayer
    from ndflow.keras.models.functional import Functional

    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError("Functional.from_config: expected a dict with a 'layers' list, "
                         "'input_layers' and 'output_layers'")
    created: dict = {}
    outputs: dict = {}  # (layer name, node index) -> list of output tensors
    nodes: list = []  # (layer name, node index, node config)
    mask_ops: set = set()  # Keras op nodes that compute propagated masks (skipped)
    for i, entry in enumerate(config["layers"]):
        if not isinstance(entry, dict):
            raise ValueError(f"Functional.from_config: layers[{i}] must be a layer config "
                             f"(a dict), got {_short(entry)}")
        if _is_keras_op(entry):
            mask_ops.add(entry.get("name"))
            continue
        spec = {k: v for k, v in entry.items() if k not in ("name", "inbound_nodes")}
        layer = deserialize_layer_entry(spec, i, custom_objects, "Functional.from_config")
        name = entry.get("name", getattr(layer, "name", None))
        if not isinstance(name, str):
            raise ValueError(f"Functional.from_config: layers[{i}] has a non-string name "
                             f"{_short(name)}")
        if name in created:
            raise ValueError(f"Functional.from_config: two layers are named {name!r}; layer "
                             "names must be unique in a model")
        created[name] = layer
        if isinstance(layer, InputLayer):
            outputs[(name, 0)] = [layer.output]
        inbound = entry.get("inbound_nodes", [])
        if not isinstance(inbound, list):
            raise ValueError(f"Functional.from_config: 'inbound_nodes' of layer {name!r} must "
                             f"be a list, got {_short(inbound)}")
        for k, node in enumerate(inbound):
            if not isinstance(node, dict):
                raise ValueError(f"Functional.from_config: inbound node {k} of layer {name!r} "
                                 f"must be a dict with 'args' and 'kwargs', got {_short(node)}")
            nodes.append((name, k, _without_mask_ops(name, node, mask_ops)))

    waiting: dict = {}  # (layer, node) -> indices of nodes that wait for it
    missing: list = []
    ready: deque = deque()
    for idx, (name, k, node) in enumerate(nodes):
        where = f"Functional.from_config: layer {name!r} (node {k})"
        dec = _NodeDecoder(outputs, where)
        needs = {r for r in dec.refs([node.get("args", []), node.get("kwargs", {})])
                 if r not in outputs}
        for r in needs:
            waiting.setdefault(r, []).append(idx)
        missing.append(len(needs))
        if not needs:
            ready.append(idx)
    done = 0
    while ready:
        idx = ready.popleft()
        name, k, node = nodes[idx]
        out = _call_node(created[name], name, k, node, outputs)
        outputs[(name, k)] = nest.flatten(out)
        done += 1
        for j in waiting.pop((name, k), []):
            missing[j] -= 1
            if missing[j] == 0:
                ready.append(j)
    if done != len(nodes):
        stuck = sorted({nodes[i][0] for i in range(len(nodes)) if missing[i] > 0})
        absent = sorted({f"{r[0]}[{r[1]}]" for r in waiting if r[0] not in created})
        raise ValueError(
            "Functional.from_config: the layer graph cannot be rebuilt: the inputs of layers "
            f"{stuck[:10]} are never produced" +
            (f" (they refer to unknown layers/nodes {absent[:10]})" if absent else
             " (a cycle?)"))

    def resolve(struct: Any, what: str, depth: int = 0) -> Any:
        if depth > 64:
            raise ValueError(f"Functional.from_config: {what} is nested too deeply")
        if _is_ref(struct):
            key = (struct[0], struct[1])
            if key not in outputs or struct[2] >= len(outputs[key]):
                raise ValueError(f"Functional.from_config: {what} refers to {struct}, which "
                                 "no layer produces")
            return outputs[key][struct[2]]
        if isinstance(struct, dict):
            return {k: resolve(v, what, depth + 1) for k, v in struct.items()}
        if isinstance(struct, list) and struct:
            return [resolve(v, what, depth + 1) for v in struct]
        raise ValueError(f"Functional.from_config: {what} must hold [layer name, node index, "
                         f"tensor index] references, got {_short(struct)}")

    inputs = resolve(config.get("input_layers"), "input_layers")
    outs = resolve(config.get("output_layers"), "output_layers")
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    if isinstance(outs, list) and len(outs) == 1:
        outs = outs[0]
    name = config.get("name")
    trainable = config.get("trainable", True)
    if name is not None and not isinstance(name, str):
        raise ValueError(f"Functional.from_config: 'name' must be a string, got {_short(name)}")
    if not isinstance(trainable, bool):
        raise ValueError(f"Functional.from_config: 'trainable' must be true or false, got "
                         f"{_short(trainable)}")
    return Functional(inputs, outs, name=name, trainable=trainable)


def _call_node(layer: Any, name: str, k: int, node: dict, outputs: dict) -> Any:
    """Call ``layer`` on the decoded arguments of one inbound node (validated first)."""
    where = f"Functional.from_config: layer {name!r} (node {k})"
    dec = _NodeDecoder(outputs, where)
    args, kwargs = node.get("args", []), node.get("kwargs", {})
    if not isinstance(args, list) or not args:
        raise ValueError(f"{where}: 'args' must be a non-empty list (the layer's inputs first), "
                         f"got {_short(args)}")
    if not isinstance(kwargs, dict):
        raise ValueError(f"{where}: 'kwargs' must be a dict, got {_short(kwargs)}")
    positional, named, var_args, var_kw = _call_params(layer)
    call_args = [dec.tensors(args[0], "the first argument (the layer's inputs)")]
    rest = positional[1:]
    for i, value in enumerate(args[1:], start=1):
        if i - 1 >= len(rest) and not var_args:
            raise ValueError(f"{where}: the node passes {len(args)} positional arguments; "
                             f"{type(layer).__name__}.call() takes {len(positional)}")
        param = rest[i - 1] if i - 1 < len(rest) else None
        call_args.append(dec.argument(value, param, f"positional argument {i}"))
    call_kwargs = {}
    for key, value in kwargs.items():
        if key not in named and not var_kw and key not in ("training", "mask"):
            raise ValueError(f"{where}: {type(layer).__name__}.call() has no argument {key!r}")
        param = named.get(key)
        call_kwargs[key] = dec.argument(value, param, f"argument {key!r}")
    return layer(*call_args, **call_kwargs)


def _short(value: Any, limit: int = 120) -> str:
    r = repr(value)
    return r if len(r) <= limit else r[:limit] + "..."


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
