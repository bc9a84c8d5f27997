"""Common-subexpression elimination: one node per (op, inputs, attrs)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.graph.ir import Graph, Value


def _attr_key(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return ("nd", v.shape, v.dtype.str, v.tobytes())
    if isinstance(v, (list, tuple)):
        return tuple(_attr_key(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _attr_key(x)) for k, x in v.items()))
    if isinstance(v, slice):
        return ("slice", v.start, v.stop, v.step)
    try:
        hash(v)
    except TypeError:
        return ("id", id(v))
    return v


def eliminate_common_subexpressions(graph: Graph) -> int:
    """Merge pure op nodes that compute the same thing; returns the number merged.

    Nodes reading variables are merged only between the same side effects (an assign in
    between may change the variable).
    """
    replace: dict[int, Value] = {}
    seen: dict[Any, Any] = {}
    kept = []
    merged = 0
    for node in graph.nodes:
        node.inputs = [replace.get(id(v), v) for v in node.inputs]
        if node.kind != "op" or node.op.stateful:
            kept.append(node)
            # assigns and Python callbacks may change variables: forget reads of them
            seen = {k: n for k, n in seen.items() if not k[2]}
            continue
        reads_var = any(v.kind == "var" for v in node.inputs)
        key = (node.op.name, tuple(id(v) for v in node.inputs), reads_var,
               _attr_key(node.attrs))
        prev = seen.get(key)
        if prev is not None:
            for a, b in zip(node.outputs, prev.outputs):
                replace[id(a)] = b
            merged += 1
            continue
        seen[key] = node
        kept.append(node)
    graph.nodes = kept
    graph.outputs = [replace.get(id(v), v) for v in graph.outputs]
    return merged
