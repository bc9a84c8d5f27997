"""Element-wise fusion: maximal groups of element-wise ops become one `fused_elementwise` node.

An op is element-wise when its registry entry declares a scalar expression (the
`elementwise` trait). A producer joins its consumer's group when the consumer is its only
user, it has the consumer's output shape (per-channel operands such as a bias stay inputs of
the group and broadcast), and no assignment to a variable it reads lies between them. The
group's expression is its ops' expressions composed; the executor generates the group's
kernel from it (`graph/codegen/elementwise.py`). Groups of one op become fused nodes too, so
the executor has one element-wise path. Forward and backward element-wise work fuse alike:
both are ops of the same graph by then.
"""

from __future__ import annotations

from typing import Any

from ndflow.core.dispatch import Spec, register_op
from ndflow.core.elementwise import evaluate, substitute
from ndflow.graph.ir import GNode, Graph, Value


def _fused_forward(xp: Any, *arrays: Any, expr: tuple) -> Any:
    return xp.asarray(evaluate(expr, xp, arrays))


FUSED = register_op("fused_elementwise", _fused_forward,
                    lambda *specs, expr: Spec((), specs[0].dtype))


def _fusible(node: GNode) -> bool:
    if node.kind != "op" or len(node.outputs) != 1 or "elementwise" not in node.op.traits:
        return False
    vals = list(node.inputs) + node.outputs
    return all(v.dtype.kind in "fb" and None not in v.shape for v in vals)


def node_expression(node: GNode) -> tuple:
    """The scalar expression one node computes, attributes substituted (over its inputs)."""
    if node.op is FUSED:
        return node.attrs["expr"]
    return substitute(node.op.traits["elementwise"], (), node.attrs)


def _build(node: GNode, root: GNode, leaves: list, joins: Any, absorbed: set,
           inlined: dict | None = None) -> tuple:
    """The expression of `node` with joining producers inlined; other inputs become leaves."""
    inlined = {} if inlined is None else inlined
    kids = []
    for v in node.inputs:
        if id(v) in inlined:  # the same value used twice by one consumer
            kids.append(inlined[id(v)])
        elif joins(v, node, root):
            absorbed.add(id(v.producer))
            inlined[id(v)] = _build(v.producer, root, leaves, joins, absorbed, inlined)
            kids.append(inlined[id(v)])
        else:
            if not any(v is x for x in leaves):
                leaves.append(v)
            kids.append(("arg", next(i for i, x in enumerate(leaves) if x is v)))
    return substitute(node_expression(node), kids)


def fuse_elementwise(graph: Graph) -> int:
    """Fuse element-wise groups in place; returns the number of fused nodes made."""
    position = {id(n): i for i, n in enumerate(graph.nodes)}
    effects = [0]
    for n in graph.nodes:
        effects.append(effects[-1] + (1 if n.has_side_effect else 0))
    users: dict[int, list] = {}
    for n in graph.nodes:
        for v in n.inputs:
            users.setdefault(id(v), []).append(n)
    outputs = {id(v) for v in graph.outputs}
    absorbed: set[int] = set()

    def joins(v: Value, consumer: GNode, root: GNode) -> bool:
        p = v.producer
        if v.kind != "node" or p is None or id(p) in absorbed or not _fusible(p) \
                or id(v) in outputs or tuple(v.shape) != tuple(root.outputs[0].shape):
            return False
        if any(u is not consumer for u in users.get(id(v), ())):
            return False
        if any(i.kind == "var" for i in p.inputs) and \
                effects[position[id(root)]] != effects[position[id(p)]]:
            return False
        return True

    count = 0
    replaced: dict[int, GNode] = {}
    for root in reversed(graph.nodes):
        if id(root) in absorbed or not _fusible(root):
            continue
        leaves: list[Value] = []
        expr = _build(root, root, leaves, joins, absorbed)
        fused = GNode("op", FUSED, leaves, {"expr": expr})
        out = root.outputs[0]
        fused.outputs = [out]
        out.producer, out.index = fused, 0
        replaced[id(root)] = fused
        count += 1
    graph.nodes = [replaced.get(id(n), n) for n in graph.nodes if id(n) not in absorbed]
    return count
