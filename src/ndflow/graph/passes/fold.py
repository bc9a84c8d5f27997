"""Constant folding: run op nodes whose inputs are all constants, once, at compile time."""

from __future__ import annotations

from ndflow.backend.devices import get_array_module
from ndflow.graph.ir import Graph, Value


def fold_constants(graph: Graph) -> int:
    """Replace all-constant op nodes by constants; returns the number folded."""
    replace: dict[int, Value] = {}
    kept = []
    folded = 0
    for node in graph.nodes:
        node.inputs = [replace.get(id(v), v) for v in node.inputs]
        if (node.kind == "op" and not node.op.stateful and node.inputs
                and all(v.kind == "const" for v in node.inputs)):
            arrays = [v.payload for v in node.inputs]
            out = node.op.forward(get_array_module(arrays[0]), *arrays, **node.attrs)
            outs = out if node.op.num_outputs != 1 else (out,)
            for v, arr in zip(node.outputs, outs):
                replace[id(v)] = Value(v.id, "const", v.shape, v.dtype,
                                       payload=get_array_module(arr).asarray(arr))
            folded += 1
            continue
        if node.kind == "op" and node.op.name in ("zeros_like", "ones_like"):
            # shapes are static in a concrete function: these are constants
            v = node.outputs[0]
            xp = graph.xp
            fill = xp.zeros if node.op.name == "zeros_like" else xp.ones
            replace[id(v)] = Value(v.id, "const", v.shape, v.dtype, payload=fill(v.shape, v.dtype))
            folded += 1
            continue
        kept.append(node)
    graph.nodes = kept
    graph.outputs = [replace.get(id(v), v) for v in graph.outputs]
    return folded
