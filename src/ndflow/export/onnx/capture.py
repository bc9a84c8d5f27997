"""Trace a function into the graph IR of standard ops, before any optimisation pass.

`ndflow.function` optimises a graph as soon as it is traced (and the compiler fuses ops);
export wants the graph as the ops ran, so it drives the same tracer (`ndflow.graph.trace`)
without the optimiser: the result holds only registry ops, each of which has an ONNX rule.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ndflow.core import dispatch
from ndflow.core.tensor import Tensor
from ndflow.graph import trace as _trace
from ndflow.graph.ir import Graph
from ndflow.util import nest


def capture(fn: Callable, arg_specs: list[tuple[tuple, np.dtype]], name: str) -> Graph:
    """The unoptimised graph of `fn(*args)` for arguments of these (shape, dtype) specs."""
    graph = Graph(name)
    state = _trace._TraceState(graph, name, None, parent=None)
    args = []
    for shape, dtype in arg_specs:
        v = graph.new_value("arg", tuple(shape), np.dtype(dtype), index=len(graph.args))
        graph.args.append(v)
        args.append(_trace.GraphTensor(graph, v))
    prev_state, prev_hook = _trace.current_trace(), dispatch.trace_hook
    _trace._local.trace = state
    dispatch.trace_hook = _trace._trace_op
    try:
        out = fn(*args)
    finally:
        _trace._local.trace = prev_state
        dispatch.trace_hook = prev_hook
    for leaf in nest.flatten(out):
        if isinstance(leaf, _trace.GraphTensor):
            graph.outputs.append(leaf._gv)
        elif isinstance(leaf, Tensor):
            graph.outputs.append(_trace._value_of(state, leaf))
        else:
            raise TypeError(f"{name}: export needs a function that returns tensors, got an "
                            f"output of type {type(leaf).__name__}")
    graph.keepalive = state.keepalive  # type: ignore[attr-defined]
    return graph
