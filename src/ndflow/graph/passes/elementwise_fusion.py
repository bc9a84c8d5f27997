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

import numpy as np

from ndflow.core.dispatch import Spec, register_op

from ndflow.core.elementwise import calls, evaluate, substitute
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


# A group runs as one compiled loop (ndflow[jit]) from this many output elements on; then a
# cheap element-wise value with several element-wise users is recomputed inside each user's
# loop instead of written out and read back (XLA does the same): a pass over memory costs more
# than a few floating-point operations.
JIT_MIN_SIZE = 16384
# ... and so does a long chain of any size: one loop call instead of a ufunc call per op.
JIT_MIN_CALLS = 24
DUPLICATE_MAX_CALLS = 8
# Only arithmetic is recomputed: an erf or exp costs more than the memory pass it would save.
CHEAP_FUNCTIONS = frozenset({
    "add", "subtract", "multiply", "true_divide", "maximum", "minimum", "negative", "absolute",
    "square", "sign", "reciprocal", "greater", "greater_equal", "less", "less_equal", "equal",
    "not_equal", "logical_and", "logical_or", "logical_not", "where"})


# Ops chained into one group at most (a longer chain becomes several groups): bounds the
# expression trees' depth (they are walked recursively) and the generated loops' size.
MAX_GROUP_DEPTH = 32


def _cheap(tree: tuple) -> bool:
    if tree[0] in ("arg", "const", "attr", "val"):
        return True
    return tree[0] in CHEAP_FUNCTIONS and all(_cheap(c) for c in tree[1:])


def _duplicating() -> bool:
    """Cheap values are recomputed only where groups become compiled loops."""
    from ndflow.backend import jit

    return jit.enabled()


def fuse_elementwise(graph: Graph) -> int:
    """Fuse element-wise groups in place; returns the number of fused nodes made."""
    position = {id(n): i for i, n in enumerate(graph.nodes)}
    effects = [0]
    for n in graph.nodes:
        effects.append(effects[-1] + (1 if n.has_side_effect else 0))
    users: dict[int, list] = {}
    for n in graph.nodes:
        for v in n.inputs:
            lst = users.setdefault(id(v), [])
            if not any(u is n for u in lst):
                lst.append(n)
    outputs = {id(v) for v in graph.outputs}
    absorbed: set[int] = set()
    inlined_into: dict[int, set] = {}
    built: dict[int, tuple] = {}
    leaf_values: dict[int, Value] = {}
    duplicating = _duplicating()
    root: list = [None]

    def inline(v: Value, consumer: GNode, budget: int) -> str | None:
        """"absorb" (v's producer has no other user), "copy" (recompute it here) or None."""
        p = v.producer
        if v.kind != "node" or p is None or id(p) in absorbed or not _fusible(p) \
                or id(v) in outputs or tuple(v.shape) != tuple(consumer.outputs[0].shape):
            return None
        if any(i.kind == "var" for i in p.inputs) and \
                effects[position[id(root[0])]] != effects[position[id(p)]]:
            return None
        vusers = users.get(id(v), ())
        if len(vusers) == 1:
            return "absorb"
        if duplicating and int(np.prod(v.shape)) >= JIT_MIN_SIZE \
                and all(_fusible(u) for u in vusers) \
                and calls(expr_of(p, budget)) <= DUPLICATE_MAX_CALLS and _cheap(expr_of(p, budget)):
            return "copy"
        return None

    def expr_of(node: GNode, budget: int = MAX_GROUP_DEPTH) -> tuple:
        """The node's expression with inlined producers, over ("val", id) leaves (cached: a
        node computes the same wherever it is recomputed); at most `budget` ops deep."""
        t = built.get(id(node))
        if t is not None:
            return t
        kids = []
        here: dict[int, tuple] = {}  # a value this node reads twice is inlined once
        for v in node.inputs:
            if id(v) in here:
                kids.append(here[id(v)])
                continue
            how = inline(v, node, budget - 1) if budget > 1 else None
            if how == "absorb":
                absorbed.add(id(v.producer))
            elif how == "copy":
                inlined_into.setdefault(id(v.producer), set()).add(id(node))
            if how is None:
                leaf_values[id(v)] = v
                kids.append(("val", id(v)))
            else:
                kids.append(expr_of(v.producer, budget - 1))
            here[id(v)] = kids[-1]
        t = built[id(node)] = substitute(node_expression(node), kids)
        return t

    count = 0
    replaced: dict[int, GNode] = {}
    for node in reversed(graph.nodes):
        if id(node) in absorbed or not _fusible(node):
            continue
        out = node.outputs[0]
        copies = inlined_into.get(id(node))
        if copies is not None and id(out) not in outputs \
                and copies == {id(u) for u in users.get(id(out), ())}:
            absorbed.add(id(node))  # recomputed inside every user
            continue
        root[0] = node
        tree = expr_of(node)
        leaves: list[Value] = []
        expr = _to_args(tree, leaves, leaf_values, out.dtype)
        fused = GNode("op", FUSED, leaves, {"expr": expr})
        fused.outputs = [out]
        out.producer, out.index = fused, 0
        replaced[id(node)] = fused
        count += 1
    graph.nodes = [replaced.get(id(n), n) for n in graph.nodes if id(n) not in absorbed]
    return count


def _to_args(tree: tuple, leaves: list, values: dict, dtype: Any, memo: dict | None = None
             ) -> tuple:
    """Number the ("val", id) leaves of one group as its arguments. A float scalar constant of
    the group's own dtype becomes a literal of the expression instead (exact: it is cast back
    to that dtype): a compiled ufunc given 0-d operands runs a strided loop that does not
    vectorise (6x slower for GELU's erf)."""
    memo = {} if memo is None else memo
    if tree[0] == "val":
        v = values[tree[1]]
        if v.kind == "const" and tuple(v.shape) == () and np.dtype(v.dtype) == dtype \
                and np.dtype(dtype).kind == "f":
            value = float(np.asarray(v.payload).reshape(()))
            if np.dtype(dtype).type(value) == np.asarray(v.payload).reshape(()):
                return ("const", value)
        for i, x in enumerate(leaves):
            if x is v:
                return ("arg", i)
        leaves.append(v)
        return ("arg", len(leaves) - 1)
    if tree[0] in ("const", "attr", "arg"):
        return tree
    r = memo.get(tree)
    if r is None:
        r = memo[tree] = (tree[0],) + tuple(_to_args(c, leaves, values, dtype, memo)
                                            for c in tree[1:])
    return r
