"""`model.summary()`: the Keras table of layers, output shapes and parameter counts.

>>> from ndflow import keras
>>> model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, name="out")])
>>> model.summary(print_fn=lambda line: None)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.util import nest


def _count(weights: list) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def _shape_str(x: Any) -> str:
    if x is None:
        return "?"
    if isinstance(x, (list, tuple)) and x and not all(d is None or isinstance(d, int)
                                                      for d in x):
        return ", ".join(_shape_str(v) for v in x)
    if isinstance(x, dict):
        return ", ".join(f"{k}: {_shape_str(v)}" for k, v in x.items())
    return "(" + ", ".join("None" if d is None else str(d) for d in x) + (
        ",)" if len(x) == 1 else ")")


def _output_shape(layer: Any) -> Any:
    nodes = getattr(layer, "_inbound_nodes", None)
    if nodes:
        outs = nodes[0].outputs
        return nest.map_structure(lambda t: tuple(t.shape), outs) if nest.is_nested(outs) \
            else tuple(outs.shape)
    return layer.__dict__.get("_first_output_shape")


def _connections(model: Any) -> dict | None:
    """``{id(layer): "a[0][0], b[0][0]"}`` for Functional models that are not a plain chain
    (several inputs/outputs, merges or shared layers); None for chains."""
    from ndflow.keras.layers.layer import Node

    steps = getattr(model, "_graph_steps", None)
    if steps is None:
        return None
    nodes = [s for s in steps if type(s) is Node]
    chain = (len(model._graph_inputs) == 1 and len(model._graph_outputs) == 1
             and all(len(n.input_tensors) <= 1 for n in nodes)
             and len({id(n.layer) for n in nodes}) == len(nodes))
    if chain:
        return None
    out: dict = {}
    for n in nodes:
        refs = []
        for t in n.input_tensors:
            h = t._keras_history
            if h is not None:
                refs.append(f"{h.operation.name}[{h.node_index}][{h.tensor_index}]")
        text = ", ".join(refs) or "-"
        prev = out.get(id(n.layer))
        out[id(n.layer)] = text if prev is None else prev + ", " + text
    return out


def _fmt_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024
    return f"{n:.2f} GB"


def _bytes(weights: list) -> int:
    return int(sum(int(np.prod(w.shape)) * w._value.dtype.itemsize for w in weights))


def _wrap(text: str, width: int) -> list:
    if len(text) <= width:
        return [text]
    out = []
    while text:
        out.append(text[:width])
        text = text[width:]
    return out


def print_summary(model: Any, line_length: int | None = None, positions: Any = None,
                  print_fn: Any = None, expand_nested: bool = False,
                  show_trainable: bool = False, layer_range: Any = None) -> None:
    """Print `model`'s layers as a table (see `Model.summary`)."""
    from ndflow.keras.layers.input_layer import InputLayer

    emit = print_fn or print
    is_seq = type(model).__name__ == "Sequential" or hasattr(model, "_stack")
    layers = list(model.layers)
    if is_seq:
        layers = [x for x in layers if not isinstance(x, InputLayer)]
    connected = _connections(model) if not is_seq else None
    cols = [" Layer (type)", "Output Shape", "Param #"]
    if connected is not None:
        cols.append("Connected to")
    if show_trainable:
        cols.append("Trainable")
    name_w = max([len(f" {x.name} ({type(x).__name__})") for x in layers] + [20]) + 2
    shape_w = max([len(_shape_str(_output_shape(x))) for x in layers] + [20]) + 2
    widths = [name_w, shape_w, 12]
    if connected is not None:
        widths.append(min(max([len(c) for c in connected.values()] + [14]) + 2, 40))
    widths += [10] if show_trainable else []
    if positions:
        total = line_length or sum(widths)
        stops = [int(total * p) if p <= 1 else int(p) for p in positions]
        widths = [stops[0]] + [stops[i] - stops[i - 1] for i in range(1, len(stops))]
    width = max(line_length or sum(widths), sum(widths))

    def row(cells: list) -> list:
        wrapped = [_wrap(str(c), w - 1) for c, w in zip(cells, widths)]
        n = max(len(w) for w in wrapped)
        lines = []
        for i in range(n):
            parts = [(w[i] if i < len(w) else "").ljust(wd) for w, wd in zip(wrapped, widths)]
            lines.append("".join(parts).rstrip())
        return lines

    emit(f'Model: "{model.name}"')
    emit("_" * width)
    for line in row(cols):
        emit(line)
    emit("=" * width)
    if layer_range is not None:
        names = [x.name for x in layers]
        lo, hi = names.index(layer_range[0]), names.index(layer_range[1])
        layers = layers[lo:hi + 1]
    built = getattr(model, "built", False)

    def emit_layer(layer: Any, prefix: str) -> None:
        shape = _output_shape(layer)
        params = _count(layer.weights) if layer.built else 0
        if not layer.built and not layer.weights:
            pstr = "0 (unbuilt)"
        else:
            pstr = f"{params:,}"
        cells = [f"{prefix}{layer.name} ({type(layer).__name__})", _shape_str(shape), pstr]
        if connected is not None:
            cells.append(connected.get(id(layer), "-") if not prefix else "")
        if show_trainable:
            cells.append("Y" if layer.trainable else "N")
        cells[0] = " " + cells[0]
        for line in row(cells):
            emit(line)
        if expand_nested and hasattr(layer, "layers") and layer.layers:
            for sub in layer.layers:
                if is_seq and isinstance(sub, InputLayer):
                    continue
                emit_layer(sub, prefix + " \u2514 ")

    for i, layer in enumerate(layers):
        emit_layer(layer, "")
        if i != len(layers) - 1:
            emit("")
    emit("=" * width)
    weights = model.weights
    trainable = model.trainable_weights
    t_ids = {id(w) for w in trainable}
    non_trainable = [w for w in weights if id(w) not in t_ids]
    total = _count(weights)
    emit(f" Total params: {total:,} ({_fmt_bytes(_bytes(weights))})")
    emit(f" Trainable params: {_count(trainable):,} ({_fmt_bytes(_bytes(trainable))})")
    emit(f" Non-trainable params: {_count(non_trainable):,} "
         f"({_fmt_bytes(_bytes(non_trainable))})")
    opt = getattr(model, "optimizer", None)
    if opt is not None and getattr(opt, "variables", None):
        try:
            ov = [v for v in opt.variables if hasattr(v, "_value")]
            if ov and _count(ov):
                emit(f" Optimizer params: {_count(ov):,} ({_fmt_bytes(_bytes(ov))})")
        except Exception:
            pass
    if not built:
        emit(" (The model is not built yet: shapes and counts appear once it is called on "
             "data or built with model.build(input_shape).)")
    emit("_" * width)
