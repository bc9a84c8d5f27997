"""Graph passes, run in order by `optimize`: constant folding, common subexpressions, dead code.

Element-wise fusion and buffer reuse happen in the executor's code generator, which sees the
final node order and liveness.
"""

from __future__ import annotations

from ndflow.graph.ir import Graph
from ndflow.graph.passes.cse import eliminate_common_subexpressions
from ndflow.graph.passes.dce import eliminate_dead_code
from ndflow.graph.passes.fold import fold_constants


def optimize(graph: Graph) -> Graph:
    fold_constants(graph)
    eliminate_common_subexpressions(graph)
    eliminate_dead_code(graph)
    return graph


__all__ = ["eliminate_common_subexpressions", "eliminate_dead_code", "fold_constants",
           "optimize"]
