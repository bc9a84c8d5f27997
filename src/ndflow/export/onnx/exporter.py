"""`ndflow.onnx.export` and `Model.export(format="onnx")`: trace, lower, check, write.

>>> import numpy as np, ndflow as tf
>>> from ndflow import keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
>>> proto = tf.onnx.export(model, None, "/tmp/ndflow_doctest_model.onnx")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

from ndflow.errors import InvalidArgumentError
from ndflow.export.onnx import (  # noqa: F401  (attach the rules to the registry)
    rules_array, rules_elementwise, rules_fused, rules_more, rules_nn,
)
from ndflow.export.onnx.capture import capture
from ndflow.export.onnx.lowering import (
    BATCH_SENTINEL, DEFAULT_OPSET, MIN_OPSET, Lowering, onnx_module,
)
from ndflow.graph.trace import Function, TensorSpec
from ndflow.util import nest


def _ir_version(opset: int) -> int:
    # the oldest IR version that carries the opset, so older runtimes read the file
    return 8 if opset <= 18 else 9 if opset <= 20 else 10


def _specs_of_model(model: Any) -> list[TensorSpec]:
    inputs = getattr(model, "_inputs_struct", None)
    if inputs is None:
        inputs = _safe_inputs(model)
    if inputs is not None and nest.flatten(inputs):
        return [TensorSpec(tuple(t.shape), t.dtype, getattr(t, "name", None))
                for t in nest.flatten(inputs)]
    shapes = getattr(model, "_build_shapes", None)
    if shapes is not None and isinstance(shapes, (tuple, list)) and all(
            d is None or isinstance(d, int) for d in shapes):
        return [TensorSpec((None,) + tuple(shapes[1:]), model.compute_dtype or "float32")]
    raise InvalidArgumentError(
        f"export of model {getattr(model, 'name', '?')!r}: expected a model with known inputs "
        "(Functional or Sequential with an Input, or a built subclassed model), got a model "
        "whose input shape is unknown. Pass input_signature=[ndflow.TensorSpec((None, ...), "
        "'float32')] or call the model on data first.")


def _safe_inputs(model: Any) -> Any:
    try:
        return model.inputs
    except Exception:
        return None


def _normalise_signature(sig: Any, where: str) -> list[TensorSpec]:
    if isinstance(sig, TensorSpec):
        sig = [sig]
    specs = nest.flatten(list(sig))
    for s in specs:
        if not isinstance(s, TensorSpec):
            raise InvalidArgumentError(f"{where}: expected input_signature to hold "
                                       f"ndflow.TensorSpec objects, got {type(s).__name__}")
    return specs


def _names(specs: list[TensorSpec], given: Any, default: str) -> list[str]:
    names = list(given) if given else [s.name or (default if len(specs) == 1 else
                                                   f"{default}_{i}") for i, s in
                                       enumerate(specs)]
    seen: dict[str, int] = {}
    out = []
    for n in names:
        n = str(n)
        if n in seen:
            seen[n] += 1
            n = f"{n}_{seen[n]}"
        else:
            seen[n] = 0
        out.append(n)
    return out


class _ModelNames(list):
    """Output names taken from the model (not given by the caller): replaced by defaults when
    the traced function returns another number of tensors."""


class _LayerTracker:
    """While a model is traced, remembers which (innermost) layer ran each graph node, so that
    errors name the layer. Wraps each layer instance's `call` and restores it afterwards."""

    def __init__(self, model: Any) -> None:
        self.layers = model._flatten_layers() if hasattr(model, "_flatten_layers") else []
        self.layer_of: dict[int, str] = {}
        self.graph: Any = None

    def __enter__(self) -> _LayerTracker:
        for layer in self.layers:
            original = layer.call
            layer.__dict__["_ndflow_export_call"] = "call" in layer.__dict__

            def wrapped(*args: Any, _orig: Any = original, _name: str = layer.name,
                        **kwargs: Any) -> Any:
                from ndflow.graph.trace import current_trace

                state = current_trace()
                start = len(state.graph.nodes) if state is not None else 0
                try:
                    return _orig(*args, **kwargs)
                finally:
                    if state is not None:
                        for n in state.graph.nodes[start:]:
                            self.layer_of.setdefault(id(n), _name)
            layer.__dict__["_ndflow_export_orig"] = layer.__dict__.get("call")
            layer.__dict__["call"] = wrapped
        return self

    def __exit__(self, *exc: Any) -> None:
        for layer in self.layers:
            had = layer.__dict__.pop("_ndflow_export_call", False)
            orig = layer.__dict__.pop("_ndflow_export_orig", None)
            if had:
                layer.__dict__["call"] = orig
            else:
                layer.__dict__.pop("call", None)


def build_model_proto(fn: Callable, specs: list[TensorSpec], name: str,
                      opset_version: int | None = None, input_names: Any = None,
                      output_names: Any = None, tracker: _LayerTracker | None = None) -> Any:
    """Trace `fn` for `specs` and lower it to an ONNX ModelProto (checked)."""
    onnx = onnx_module()
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise InvalidArgumentError(f"ONNX export: expected opset_version between {MIN_OPSET} "
                                   f"and {newest} (this onnx package's newest), got {opset}")
    dynamic = any(len(s.shape) and s.shape[0] is None for s in specs)
    arg_specs = []
    for i, s in enumerate(specs):
        dims = list(s.shape)
        if dims and dims[0] is None:
            dims[0] = BATCH_SENTINEL
        if any(d is None for d in dims):
            raise InvalidArgumentError(
                f"ONNX export of {name}: expected input {i} to have a known shape apart from "
                f"the batch dimension, got {s.shape}. Give the shape in input_signature, e.g. "
                "TensorSpec((None, 100), 'int32') for a sequence length of 100.")
        arg_specs.append((tuple(dims), s.dtype._np))
    if tracker is not None:
        with tracker:
            graph = capture(fn, arg_specs, name)
    else:
        graph = capture(fn, arg_specs, name)
    batch = BATCH_SENTINEL if dynamic else None
    ctx = Lowering(graph, opset, batch, tracker.layer_of if tracker else None)
    for n in graph.nodes:
        for v in n.inputs:
            if batch and v.kind == "const" and batch in v.shape:
                ctx.current = n
                raise ctx.unsupported(
                    "uses a constant whose shape depends on the batch size", None,
                    "Export with a fixed batch size in input_signature.")
    in_names = _names(specs, input_names, "input")
    for v, n in zip(graph.args, in_names):
        ctx.bind(v, n)
    ctx.run()
    outs = graph.outputs
    out_names = _names([TensorSpec(v.shape, v.dtype) for v in outs], output_names, "output")
    if len(out_names) != len(outs) and isinstance(output_names, _ModelNames):
        out_names = _names([TensorSpec(v.shape, v.dtype) for v in outs], None, "output")
    if len(out_names) != len(outs):
        raise InvalidArgumentError(f"ONNX export of {name}: expected {len(outs)} output names, "
                                   f"got {len(out_names)}")
    for v, n in zip(outs, out_names):
        ctx.nodes.append(onnx.helper.make_node("Identity", [ctx.name(v)], [n],
                                               name=ctx.fresh("output")))

    def info(n: str, shape: tuple, dtype: Any) -> Any:
        dims = ["batch" if batch and d == batch else int(d) for d in shape]
        return onnx.helper.make_tensor_value_info(n, ctx.onnx_dtype(dtype), dims)

    g = onnx.helper.make_graph(
        ctx.nodes, name,
        [info(n, v.shape, v.dtype) for n, v in zip(in_names, graph.args)],
        [info(n, v.shape, v.dtype) for n, v in zip(out_names, outs)],
        initializer=ctx.initializers)
    model = onnx.helper.make_model(g, opset_imports=[onnx.helper.make_opsetid("", opset)],
                                   producer_name="ndflow", ir_version=_ir_version(opset))
    onnx.checker.check_model(model)
    return model


def write_atomic(proto: Any, path: str | os.PathLike) -> None:
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".ndflow-onnx-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(proto.SerializeToString())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def export(fn_or_model: Any, input_signature: Any, path: str | os.PathLike,
           opset_version: int | None = None, input_names: Any = None,
           output_names: Any = None) -> Any:
    """Export a Keras model or an `ndflow.function` (or plain function of tensors) to an ONNX
    file; returns the ModelProto.

    The inference graph is exported (`training=False`: no dropout, BatchNormalization in
    inference form). A None first dimension in `input_signature` becomes a dynamic batch
    dimension. `opset_version`: 17 by default, 13 or newer.

    >>> import ndflow as tf
    >>> f = tf.function(lambda x: tf.nn.relu(x) * 2.0)
    >>> tf.onnx.export(f, [tf.TensorSpec((None, 3))], "/tmp/f.onnx")  # doctest: +SKIP
    """
    is_model = hasattr(fn_or_model, "_flatten_layers") and callable(fn_or_model)
    if is_model:
        model = fn_or_model
        name = model.name
        specs = (_specs_of_model(model) if input_signature is None
                 else _normalise_signature(input_signature, f"export of {name!r}"))
        multi = len(specs) > 1

        def fn(*xs: Any) -> Any:
            return model(list(xs) if multi else xs[0], training=False)

        if input_names is None and hasattr(model, "input_names") and input_signature is None:
            try:
                input_names = list(model.input_names)
            except Exception:
                input_names = None
        if output_names is None and hasattr(model, "output_names"):
            try:
                output_names = list(model.output_names) or None
            except Exception:
                output_names = None
            if output_names is not None:
                output_names = _ModelNames(output_names)
        tracker = _LayerTracker(model)
    else:
        if input_signature is None:
            sig = getattr(fn_or_model, "input_signature", None)
            if sig is None:
                raise InvalidArgumentError(
                    "ndflow.onnx.export: expected an input_signature (a list of TensorSpec) for "
                    "a function without one, got None")
            input_signature = sig
        specs = _normalise_signature(input_signature, "ndflow.onnx.export")
        fn = fn_or_model.python_function if isinstance(fn_or_model, Function) else fn_or_model
        name = getattr(fn_or_model, "name", None) or getattr(fn, "__name__", "function")
        tracker = None
    proto = build_model_proto(fn, specs, str(name), opset_version, input_names, output_names,
                              tracker)
    write_atomic(proto, path)
    return proto
