"""Lower a traced graph (ndflow's IR of standard ops) to an ONNX model.

Each registry op carries its ONNX rule in `Op.onnx` (attached by the `rules_*` modules):
``rule(ctx, node) -> name | tuple of names`` emits ONNX nodes for one graph node through the
`Lowering` context and returns the ONNX names of the node's outputs (None for an output that
only a gradient would read, such as max_pool's argmax). The graph is traced at a sentinel
batch size; rules that bake shapes into the model ask the context for shape tensors, which
turn that size back into the runtime batch dimension.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.dispatch import REGISTRY
from ndflow.errors import InvalidArgumentError
from ndflow.graph.ir import Graph, GNode, Value

DEFAULT_OPSET = 17
MIN_OPSET = 13
# The batch size graphs are traced at when the batch dimension is dynamic: a size no real model
# dimension is likely to have, so rules can tell batch-sized dims from the others.
BATCH_SENTINEL = 7919
INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


def onnx_module() -> Any:
    try:
        import onnx
    except ImportError:
        raise ImportError("ONNX export and import need the onnx package: "
                          "pip install 'ndflow[onnx]' (onnx, onnxruntime)") from None
    return onnx


# Rules for op families registered on first use (split_3, split_4...): name prefix -> rule.
FAMILY_RULES: dict[str, Any] = {}
# Rules of ops whose modules are not imported yet (ops registered by keras layers): attached
# to their registry entry by `attach` now, or at their first export.
_PENDING: dict[str, Any] = {}


def attach(rules: dict[str, Any]) -> None:
    """Store each op's ONNX rule in its registry entry (`Op.onnx`)."""
    for name, rule in rules.items():
        op = REGISTRY.get(name)
        if op is None:
            _PENDING[name] = rule
        else:
            op.onnx = rule


class UnsupportedOpError(InvalidArgumentError):
    """An op of the graph has no ONNX lowering at the chosen opset."""


class Lowering:
    """The state of one export: ONNX nodes and initializers emitted so far, value names."""

    def __init__(self, graph: Graph, opset: int, batch: int | None,
                 layer_of: dict[int, str] | None = None) -> None:
        self.onnx = onnx_module()
        self.graph = graph
        self.opset = opset
        self.batch = batch
        self.layer_of = layer_of or {}
        self.nodes: list = []
        self.initializers: list = []
        self._names: dict[int, str | None] = {}
        self._const_names: dict[int, str] = {}
        self._n = 0
        self._batch_tensor: str | None = None
        self.current: GNode | None = None

    # --- names ----------------------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def name(self, v: Value) -> str:
        """The ONNX name of a graph value (captured constants and variables become
        initializers on first use)."""
        if v.kind in ("const", "var"):
            key = id(v.payload)
            n = self._const_names.get(key)
            if n is None:
                arr = self.value_array(v)
                hint = v.payload._name if v.kind == "var" else "const"
                n = self.const(arr, hint)
                self._const_names[key] = n
            return n
        n = self._names.get(v.id)
        if n is None:
            if v.id in self._names:
                raise self.unsupported(
                    f"reads an output of {v.producer.name if v.producer else '?'} that only "
                    "its gradient uses", None)
            raise InvalidArgumentError(f"ONNX export: value {v.label} used before it is made")
        return n

    def bind(self, v: Value, name: str | None) -> None:
        self._names[v.id] = name

    def input(self, node: GNode, i: int) -> str:
        return self.name(node.inputs[i])

    def value_array(self, v: Value) -> np.ndarray | None:
        """The value of a captured constant or variable (None for computed values)."""
        if v.kind == "const":
            return np.asarray(v.payload)
        if v.kind == "var":
            return np.asarray(v.payload.numpy())
        return None

    # --- emitting ---------------------------------------------------------------------------
    def const(self, arr: Any, hint: str = "const") -> str:
        arr = np.asarray(arr)
        name = self.fresh(hint.replace("/", "_").replace(":", "_") or "const")
        self.initializers.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def ints(self, values: Any, hint: str = "ints") -> str:
        return self.const(np.asarray(list(values), np.int64), hint)

    def scalar(self, value: Any, dtype: Any, hint: str = "scalar") -> str:
        return self.const(np.asarray(value, dtype=dtype), hint)

    def emit(self, op_type: str, inputs: list, outputs: int = 1, **attrs: Any) -> Any:
        """Add one ONNX node; returns its output name (or list of names)."""
        hint = op_type.lower()
        outs = [self.fresh(hint) for _ in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(self.onnx.helper.make_node(
            op_type, [("" if i is None else i) for i in inputs], outs,
            name=self.fresh(op_type), **attrs))
        return outs[0] if outputs == 1 else outs

    # --- helpers shared by rules -------------------------------------------------------------
    def batch_tensor(self) -> str:
        """A 1-element int64 tensor holding the runtime batch size."""
        if self._batch_tensor is None:
            arg = next(a for a in self.graph.args if a.shape and a.shape[0] == self.batch)
            shp = self.emit("Shape", [self.name(arg)])
            self._batch_tensor = self.emit("Slice", [shp, self.ints([0]), self.ints([1])])
        return self._batch_tensor

    def shape_tensor(self, shape: tuple, allow_infer: bool = True) -> str:
        """A 1-D int64 shape for Reshape/Expand/ConstantOfShape: dims equal to the traced batch
        size become the runtime batch size."""
        shape = [int(d) for d in shape]
        b = self.batch
        if b is None or b not in shape:
            multiples = [i for i, d in enumerate(shape) if b and d % b == 0 and d > 0]
            if multiples and allow_infer and -1 not in shape and len(multiples) == 1:
                shape[multiples[0]] = -1  # e.g. (batch*time, units)
            elif multiples:
                raise self.unsupported(
                    f"needs the shape {tuple(shape)}, which depends on the batch size in a way "
                    "the exporter cannot express", None,
                    "Export with a fixed batch size: input_signature=[TensorSpec((n, ...))].")
            return self.ints(shape, "shape")
        parts, run = [], []
        for d in shape:
            if d == b:
                if run:
                    parts.append(self.ints(run, "shape"))
                    run = []
                parts.append(self.batch_tensor())
            else:
                run.append(d)
        if run:
            parts.append(self.ints(run, "shape"))
        return parts[0] if len(parts) == 1 else self.emit("Concat", parts, axis=0)

    def reduce(self, op_type: str, x: str, axes: Any, keepdims: bool) -> str:
        """ReduceX over `axes` (None: all), axes as an attribute or input as the opset wants."""
        as_input = op_type == "ReduceSum" or self.opset >= 18
        if axes is None:
            return self.emit(op_type, [x], keepdims=int(keepdims))
        axes = [int(a) for a in (axes if isinstance(axes, (tuple, list)) else (axes,))]
        if as_input:
            return self.emit(op_type, [x, self.ints(axes, "axes")], keepdims=int(keepdims))
        return self.emit(op_type, [x], axes=axes, keepdims=int(keepdims))

    def squeeze(self, x: str, axes: list) -> str:
        return self.emit("Squeeze", [x, self.ints(axes, "axes")]) if axes else x

    def unsqueeze(self, x: str, axes: list) -> str:
        return self.emit("Unsqueeze", [x, self.ints(axes, "axes")]) if axes else x

    def cast(self, x: str, dtype: Any) -> str:
        return self.emit("Cast", [x], to=self.onnx_dtype(dtype))

    def onnx_dtype(self, dtype: Any) -> int:
        return int(self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))

    def layer_name(self, node: GNode | None) -> str | None:
        return None if node is None else self.layer_of.get(id(node))

    def unsupported(self, what: str, opset: int | None, hint: str = "") -> UnsupportedOpError:
        node = self.current
        op = node.name if node is not None else "?"
        layer = self.layer_name(node)
        where = f" in layer {layer!r}" if layer else ""
        need = (f" It needs opset {opset} or newer (this export uses opset {self.opset}); pass "
                f"opset_version={opset}." if opset else "")
        return UnsupportedOpError(f"ONNX export: op {op}{where} {what}.{need}"
                                  + (" " + hint if hint else ""))

    # --- the walk -----------------------------------------------------------------------------
    def run(self) -> None:
        fused: dict = {}
        inner: set = set()
        if self.opset >= 20:  # Gelu is one ONNX op from opset 20
            from ndflow.export.onnx.patterns import gelu_nodes

            fused, inner = gelu_nodes(self.graph)
        for node in self.graph.nodes:
            self.current = node
            if id(node) in inner:
                continue
            if id(node) in fused:
                x, approximate = fused[id(node)]
                self.bind(node.outputs[0], self.emit("Gelu", [self.name(x)],
                                                     approximate=approximate))
                continue
            if node.kind != "op":
                raise self.unsupported(
                    f"is a {node.kind} node (a Python callback or a variable update), which "
                    "an inference graph cannot hold", None,
                    "Export the model's inference function (training=False).")
            rule = node.op.onnx
            if rule is None and node.name in _PENDING:
                rule = node.op.onnx = _PENDING.pop(node.name)
            if rule is None:
                rule = next((r for p, r in FAMILY_RULES.items() if node.name.startswith(p)), None)
            if rule is None:
                raise self.unsupported("has no ONNX rule", None,
                                       "Use layers whose ops export, or file an issue.")
            outs = rule(self, node)
            if not isinstance(outs, (tuple, list)):
                outs = (outs,)
            if len(outs) != len(node.outputs):
                raise AssertionError(f"ONNX rule of {node.name} returned {len(outs)} outputs")
            for v, n in zip(node.outputs, outs):
                self.bind(v, n)
        self.current = None
