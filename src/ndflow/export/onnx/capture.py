"""Trace a function into the graph IR of standard ops, before any optimisation pass.

`ndflow.function` optimises a graph as soon as it is traced (and the compiler fuses ops);
export wants the graph as the ops ran: `ndflow.graph.trace.trace_graph` gives it, holding only
registry ops, each of which has an ONNX rule.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ndflow.graph.ir import Graph
from ndflow.graph.trace import trace_graph


def capture(fn: Callable, arg_specs: list[tuple[tuple, np.dtype]], name: str) -> Graph:
    """The unoptimised graph of `fn(*args)` for arguments of these (shape, dtype) specs."""
    return trace_graph(fn, arg_specs, name)
