"""Graph passes, run in order by `optimize`: constant folding, common subexpressions, the
rewrite rules (`pool_rules.py`, through the engine in `graph/rewrite.py`, each phase to a fixed
point), dead code, then element-wise fusion (`elementwise_fusion.py`).

Buffer reuse happens in the executor's code generator, which sees the final node order and
liveness.
"""

from __future__ import annotations

from ndflow.graph.ir import Graph
from ndflow.graph.passes.cse import eliminate_common_subexpressions
from ndflow.graph.passes.dce import eliminate_dead_code
from ndflow.graph.passes.elementwise_fusion import fuse_elementwise
from ndflow.graph.passes.fold import fold_constants
from ndflow.graph.passes.pool_rules import BACKWARD_RULES, CROP_RULES, FORWARD_RULES
from ndflow.graph.rewrite import rewrite

# Switches for tests and for users who inspect graphs op by op (TF's
# `tf.config.optimizer.set_experimental_options` plays this role there).
OPTIONS = {"fuse_elementwise": True, "rewrite": True}
# Rule phases: each runs to a fixed point before the next (the backward rules look for the
# kernels the forward rules select).
PHASES = (FORWARD_RULES, BACKWARD_RULES, CROP_RULES)


def optimize(graph: Graph) -> Graph:
    fold_constants(graph)
    eliminate_common_subexpressions(graph)
    if OPTIONS["rewrite"]:
        for rules in PHASES:
            rewrite(graph, rules)
    eliminate_dead_code(graph)
    if OPTIONS["fuse_elementwise"]:
        fuse_elementwise(graph)
    return graph


__all__ = ["OPTIONS", "PHASES", "eliminate_common_subexpressions", "eliminate_dead_code",
           "fold_constants", "fuse_elementwise", "optimize"]
