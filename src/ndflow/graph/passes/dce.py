"""Dead-code elimination: drop op nodes whose outputs nothing needs."""

from __future__ import annotations

from ndflow.graph.ir import Graph


def eliminate_dead_code(graph: Graph) -> int:
    """Remove pure op nodes not reachable backwards from outputs or side effects.

    Returns the number of nodes removed.
    """
    live = {id(v) for v in graph.outputs}
    kept = []
    for node in reversed(graph.nodes):
        if node.has_side_effect or any(id(o) in live for o in node.outputs):
            kept.append(node)
            live.update(id(v) for v in node.inputs)
    removed = len(graph.nodes) - len(kept)
    graph.nodes = kept[::-1]
    return removed
