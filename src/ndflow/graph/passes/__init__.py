"""Graph passes, run in order by `optimize`: constant folding, common subexpressions, the
conv/ReLU/max-pool rewrites (`pool_relu.py`), dead code.

Element-wise fusion and buffer reuse happen in the executor's code generator, which sees the
final node order and liveness.
"""

from __future__ import annotations

from ndflow.graph.ir import Graph
from ndflow.graph.passes.cse import eliminate_common_subexpressions
from ndflow.graph.passes.dce import eliminate_dead_code
from ndflow.graph.passes.fold import fold_constants
from ndflow.graph.passes.elementwise_fusion import fuse_elementwise
from ndflow.graph.passes.pool_relu import (
    conv_max_pool_backprop, crop_dropped_pool_gradients, fuse_conv_max_pool,
    fuse_conv_max_pool_bias_relu, pool_before_bias_relu, push_relu_grad_through_max_pool,
    sum_pooled_gradient,
)


# Switches for tests and for users who inspect graphs op by op (TF's
# `tf.config.optimizer.set_experimental_options` plays this role there).
OPTIONS = {"fuse_elementwise": True}


def optimize(graph: Graph) -> Graph:
    fold_constants(graph)
    eliminate_common_subexpressions(graph)
    push_relu_grad_through_max_pool(graph)
    pool_before_bias_relu(graph)
    fuse_conv_max_pool(graph)
    fuse_conv_max_pool_bias_relu(graph)
    sum_pooled_gradient(graph)
    conv_max_pool_backprop(graph)
    crop_dropped_pool_gradients(graph)
    eliminate_dead_code(graph)
    if OPTIONS["fuse_elementwise"]:
        fuse_elementwise(graph)
    return graph


__all__ = ["OPTIONS", "conv_max_pool_backprop", "crop_dropped_pool_gradients",
           "eliminate_common_subexpressions", "eliminate_dead_code", "fold_constants",
           "fuse_conv_max_pool", "fuse_elementwise", "fuse_conv_max_pool_bias_relu", "optimize",
           "pool_before_bias_relu", "push_relu_grad_through_max_pool", "sum_pooled_gradient"]
