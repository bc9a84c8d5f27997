"""Apply a ReLU's gradient mask before a max-pool's gradient scatter instead of after it.

For `y = relu(...)` pooled by `p, idx = max_pool(y)`, the backward pass computes
`relu_grad(max_pool_grad(g, idx), y)`: a full-size mask over an array that is zero everywhere
but at the window maxima. At a window's maximum `y` equals the pooled value `p`, so the same
result is `max_pool_grad(relu_grad(g, p), idx)`, with the mask applied at the pooled size
(a quarter of the elements for a 2x2 pool). Conv (or Dense) + ReLU + MaxPooling is the
standard convnet block, and this mask was one of its largest element-wise passes.
"""

from __future__ import annotations

from collections import Counter

from ndflow.graph.ir import GNode, Graph, Value


def _producer_op(v: Value, name: str) -> GNode | None:
    p = v.producer
    return p if v.kind == "node" and p is not None and p.kind == "op" \
        and p.op.name == name else None


def push_relu_grad_through_max_pool(graph: Graph) -> int:
    """Rewrite every `relu_grad(max_pool_grad(g, idx), y)` with `idx` from `max_pool(y)`;
    returns the number rewritten."""
    uses: Counter = Counter(id(v) for n in graph.nodes for v in n.inputs)
    uses.update(id(v) for v in graph.outputs)
    replace: dict[int, Value] = {}
    insert_before: dict[int, GNode] = {}
    drop: set[int] = set()
    for node in graph.nodes:
        if node.kind != "op" or node.op.name != "relu_grad" or len(node.inputs) != 2:
            continue
        scattered, y = node.inputs
        grad = _producer_op(scattered, "max_pool_grad")
        if grad is None or uses[id(scattered)] != 1:
            continue
        g, idx = grad.inputs
        pool = _producer_op(idx, "max_pool")
        if pool is None or idx.index != 1 or pool.inputs[0] is not y:
            continue
        pooled = pool.outputs[0]
        if tuple(pooled.shape) != tuple(g.shape):
            continue
        mask = GNode("op", node.op, [g, pooled], dict(node.attrs))
        mask.outputs = [graph.new_value("node", g.shape, g.dtype, mask)]
        grad.inputs = [mask.outputs[0], idx]
        insert_before[id(grad)] = mask
        replace[id(node.outputs[0])] = grad.outputs[0]
        drop.add(id(node))
    if not drop:
        return 0
    nodes = []
    for node in graph.nodes:
        if id(node) in drop:
            continue
        if id(node) in insert_before:
            nodes.append(insert_before[id(node)])
        node.inputs = [replace.get(id(v), v) for v in node.inputs]
        nodes.append(node)
    graph.nodes = nodes
    graph.outputs = [replace.get(id(v), v) for v in graph.outputs]
    return len(drop)
