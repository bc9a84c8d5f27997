"""`plot_model` and `model_to_dot`: a picture of a model through pydot and Graphviz
(``pip install "ndflow[viz]"`` and Graphviz's ``dot``: ``apt-get install graphviz``).

>>> from ndflow import keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
>>> keras.utils.plot_model(model, "model.png", show_shapes=True)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import uuid
import warnings
from html import escape
from typing import Any

_PYDOT_HINT = 'install it with: pip install "ndflow[viz]" (or pip install pydot)'
_DOT_HINT = ("Graphviz's `dot` program was not found on PATH; install Graphviz "
             "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
             "see https://graphviz.org/download/)")


def _pydot() -> Any:
    try:
        import pydot
    except ImportError:
        raise ImportError(f"plot_model/model_to_dot need the `pydot` package; {_PYDOT_HINT}. "
                          f"Drawing the picture also needs Graphviz (apt-get install graphviz)."
                          ) from None
    return pydot


def check_pydot() -> bool:
    """Whether pydot can be imported."""
    try:
        _pydot()
    except ImportError:
        return False
    return True


def check_graphviz() -> bool:
    """Whether Graphviz's ``dot`` program is on PATH."""
    return shutil.which("dot") is not None


def _shape_str(shape: Any) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, dict):
        return ", ".join(f"{k}: {_shape_str(v)}" for k, v in shape.items())
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_str(s) for s in shape) + "]"
    return str(tuple(shape))


def _structure(obj: Any, fn: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _structure(v, fn) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        out = [_structure(v, fn) for v in obj]
        return out[0] if len(out) == 1 else out
    return fn(obj)


def _activation_name(layer: Any) -> str:
    act = layer.activation
    return str(getattr(act, "name", None) or getattr(act, "__name__", None) or act)


def _label(item: Any, node: Any, show_layer_names: bool, show_layer_activations: bool,
           show_dtype: bool, show_shapes: bool, show_trainable: bool) -> str:
    """An HTML-like Graphviz label: name/class, activation, shapes, dtype, trainable."""
    from ndflow.keras.models.functional import _OpStep

    is_op = isinstance(item, _OpStep)
    class_name = item.op.name if is_op else type(item).__name__
    name = item.op.name if is_op else item.name
    colspan = max(1, (2 if show_shapes else 0) + int(show_dtype) + int(show_trainable))
    title = (f"<b>{escape(name)}</b> ({escape(class_name)})" if show_layer_names
             else f"<b>{escape(class_name)}</b>")
    rows = [f'<tr><td colspan="{colspan}" bgcolor="black"><font point-size="16" '
            f'color="white">{title}</font></td></tr>']
    if (show_layer_activations and not is_op and getattr(item, "activation", None)
            is not None):
        rows.append(f'<tr><td bgcolor="white" colspan="{colspan}"><font point-size="14">'
                    f'Activation: <b>{escape(_activation_name(item))}</b></font></td></tr>')
    cols = []

    def cell(text: str) -> str:
        return f'<td bgcolor="white"><font point-size="14">{text}</font></td>'

    if is_op:
        ins = [t for t in item.inputs if hasattr(t, "_keras_history")]
        inputs, outputs = ins, item.output
    elif node is not None:
        inputs, outputs = node.input_tensors, node.outputs
    else:
        inputs = outputs = None
    if show_shapes:
        in_shape = None if inputs is None else _structure(list(inputs),
                                                          lambda t: tuple(t.shape))
        out_shape = None if outputs is None else _structure(outputs, lambda t: tuple(t.shape))
        if class_name != "InputLayer":
            cols.append(cell(f"Input shape: <b>{escape(_shape_str(in_shape))}</b>"))
        cols.append(cell(f"Output shape: <b>{escape(_shape_str(out_shape))}</b>"))
    if show_dtype:
        dtype = None if outputs is None else _structure(
            outputs, lambda t: getattr(t.dtype, "name", str(t.dtype)))
        cols.append(cell(f"Output dtype: <b>{escape(str(dtype or '?'))}</b>"))
    if show_trainable and not is_op and item.weights:
        color, text = (("forestgreen", "Trainable") if item.trainable
                       else ("firebrick", "Non-trainable"))
        cols.append(f'<td bgcolor="{color}"><font point-size="14" color="white">'
                    f'<b>{text}</b></font></td>')
    if cols:
        rows.append("<tr>" + "".join(cols) + "</tr>")
    return ('<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
            + "".join(rows) + "</table>>")


def _first_node(layer: Any) -> Any:
    nodes = getattr(layer, "_inbound_nodes", None)
    return nodes[0] if nodes else None


def _is_graph_model(layer: Any) -> bool:
    from ndflow.keras.models.functional import Functional
    from ndflow.keras.models.sequential import Sequential

    return isinstance(layer, (Functional, Sequential))


def _entry(model: Any, index: int) -> Any:
    """The innermost layer that receives a nested model's `index`-th input."""
    from ndflow.keras.models.sequential import Sequential

    while _is_graph_model(model):
        if isinstance(model, Sequential):
            model = model.layers[0]
        else:
            model = model._input_layers[min(index, len(model._input_layers) - 1)]
            index = 0
    return model


def _exit(model: Any, index: int) -> Any:
    """The innermost layer (or raw op) that produces a nested model's `index`-th output."""
    from ndflow.keras.models.sequential import Sequential

    while _is_graph_model(model):
        if isinstance(model, Sequential):
            model = model.layers[-1]
        else:
            t = model._graph_outputs[index]
            if t._keras_history is None:
                return _op_of(model, t)
            model, index = t._keras_history.operation, t._keras_history.tensor_index
    return model


def _op_of(model: Any, t: Any) -> Any:
    from ndflow.keras.models.functional import _OpStep

    for s in model._graph_steps:
        if isinstance(s, _OpStep) and s.output is t:
            return s
    return None


def model_to_dot(model: Any, show_shapes: bool = False, show_dtype: bool = False,
                 show_layer_names: bool = True, rankdir: str = "TB",
                 expand_nested: bool = False, dpi: int = 200, subgraph: bool = False,
                 show_layer_activations: bool = False, show_trainable: bool = False,
                 splines: str = "ortho", **kwargs: Any) -> Any:
    """A `pydot.Dot` (or a `pydot.Cluster` when `subgraph`) with one box per layer (and per
    raw op of a Functional model), edges along the data flow. A subclassed model is one box.
    """
    from ndflow.keras.models.functional import Functional, _OpStep
    from ndflow.keras.models.sequential import Sequential

    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("model_to_dot: the `layer_range` argument is no longer supported "
                         "(as in Keras 3).")
    if kwargs:
        raise ValueError(f"model_to_dot: unrecognized keyword arguments {sorted(kwargs)}")
    if rankdir not in ("TB", "LR"):
        raise ValueError(f'model_to_dot: `rankdir` expected "TB" or "LR", got {rankdir!r}')
    if not getattr(model, "built", False):
        raise ValueError(f"model_to_dot: the model '{model.name}' is not built yet. Build it "
                         "first by calling `build()` or by calling it on a batch of data.")
    pydot = _pydot()
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set("splines", splines)
        dot.set_node_defaults(shape="record")
    opts = {"show_layer_names": show_layer_names,
            "show_layer_activations": show_layer_activations, "show_dtype": show_dtype,
            "show_shapes": show_shapes, "show_trainable": show_trainable}

    def add_node(item: Any, node: Any) -> None:
        n = pydot.Node(str(id(item)), label=_label(item, node, **opts))
        n.set("fontname", "Helvetica")
        n.set("border", "0")
        n.set("margin", "0")
        dot.add_node(n)

    def add_edge(src: Any, dst: Any) -> None:
        s, d = str(id(src)), str(id(dst))
        if not dot.get_edge(s, d):
            e = pydot.Edge(s, d)
            e.set("penwidth", "2")
            dot.add_edge(e)

    if isinstance(model, Sequential):
        items = model.layers
    elif isinstance(model, Functional):
        items = list(model.layers) + [s for s in model._graph_steps if isinstance(s, _OpStep)]
    else:
        add_node(model, _first_node(model))
        return dot

    for item in items:
        if expand_nested and _is_graph_model(item):
            dot.add_subgraph(model_to_dot(
                item, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested,
                subgraph=True, show_layer_activations=show_layer_activations,
                show_trainable=show_trainable))
        elif isinstance(item, _OpStep):
            add_node(item, None)
        else:
            # in a Functional model, the layer's call in this graph; else its first call
            node = _first_node(item)
            if isinstance(model, Functional):
                node = next((s for s in model._graph_steps if getattr(s, "layer", None) is item),
                            node)
            add_node(item, node)

    if isinstance(model, Sequential):
        if not expand_nested:
            for a, b in zip(items, items[1:]):
                add_edge(a, b)
        else:
            for a, b in zip(items, items[1:]):
                add_edge(_exit(a, 0), _entry(b, 0))
        return dot

    for step in model._graph_steps:
        if isinstance(step, _OpStep):
            dst, inputs = step, [t for t in step.inputs if hasattr(t, "_keras_history")]
        else:
            dst, inputs = step.layer, step.input_tensors
        for in_index, t in enumerate(inputs):
            h = t._keras_history
            if h is None:
                src, out_index = _op_of(model, t), 0
            else:
                src, out_index = h.operation, h.tensor_index
            if src is None:
                continue
            if expand_nested:
                src = _exit(src, out_index)
                d = _entry(dst, in_index)
            else:
                d = dst
            if src is not None:
                add_edge(src, d)
    return dot


def plot_model(model: Any, to_file: str = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = False, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 200,
               show_layer_activations: bool = False, show_trainable: bool = False,
               splines: str = "ortho", **kwargs: Any) -> Any:
    """Draw `model` to `to_file` (the extension picks the format: png, svg, pdf, dot...).

    Returns an IPython image when IPython is installed (and the file is not a PDF), else
    None. Needs pydot (``ndflow[viz]``) and Graphviz (``apt-get install graphviz``).
    """
    if not getattr(model, "built", False):
        raise ValueError(f"plot_model: the model '{model.name}' is not built yet. Build it "
                         "first by calling `build()` or by calling it on a batch of data.")
    _pydot()
    if not check_graphviz():
        raise ImportError(f"plot_model: {_DOT_HINT}. pydot is installed; only Graphviz is "
                          "missing.")
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable, splines=splines, **kwargs)
    to_file = os.fspath(to_file)
    ext = os.path.splitext(to_file)[1][1:] or "png"
    folder = os.path.dirname(os.path.abspath(to_file))
    # a fresh name (not mkstemp: Graphviz creates the file with the usual permissions)
    tmp = os.path.join(folder, f".plot_model-{uuid.uuid4().hex}.{ext}")
    try:
        try:
            dot.write(tmp, format=ext)
        except (AssertionError, OSError) as e:
            if splines != "ortho":
                raise RuntimeError(f"plot_model: Graphviz failed to draw the model ({e})"
                                   ) from None
            # Graphviz's orthogonal edge router aborts on some layouts (maze.c chkSgraph, a
            # known Graphviz bug); draw with polyline edges instead.
            warnings.warn("plot_model: Graphviz's orthogonal edge routing failed on this "
                          "model; drawing with splines='polyline' instead.", stacklevel=2)
            dot.set("splines", "polyline")
            dot.write(tmp, format=ext)
        os.replace(tmp, to_file)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    if ext != "pdf":
        try:
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=to_file)
    return None
