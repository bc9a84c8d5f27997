"""The rewrite engine: rules over op traits, applied to a fixed point with use lists kept current.

A rule is a function `rule(rw, node) -> bool` that looks at one node (its anchor), checks its
constraints through the `Rewriter` (producers, users, traits, shapes) and, when they hold,
edits the graph through the `Rewriter` and returns True. `rewrite(graph, rules)` offers every
node to every rule until no rule fires (tinygrad's PatternMatcher and TF grappler's remapper
work the same way). Rules read traits (`op.traits`), not op names, wherever a property of the
op is what makes the rewrite exact; an op is named only where a kernel is selected.

>>> from ndflow.graph.ir import Graph
>>> rewrite(Graph("empty"), [])
0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ndflow.graph.ir import GNode, Graph, Value

Rule = Callable[["Rewriter", GNode], bool]


class Rewriter:
    """A graph with its use lists, edited only through these methods (which keep them
    current)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._uses: dict[int, list] = {}
        for n in graph.nodes:
            for v in n.inputs:
                self._uses.setdefault(id(v), []).append(n)
        self._outputs = {id(v) for v in graph.outputs}
        self._alive = {id(n) for n in graph.nodes}

    # --- queries -------------------------------------------------------------------------
    def users(self, v: Value) -> list:
        """Nodes that read `v` (a node reading it twice is listed twice); None when `v` is an
        output of the graph."""
        users = list(self._uses.get(id(v), ()))
        return users + [None] if id(v) in self._outputs else users

    def only_user(self, v: Value) -> GNode | None:
        users = self.users(v)
        return users[0] if len(users) == 1 else None

    def producer(self, v: Value, op: Any = None, trait: str | None = None) -> GNode | None:
        """The op node that computes `v` (optionally: only if it is `op` or has `trait`)."""
        p = v.producer if v.kind == "node" else None
        if p is None or p.kind != "op" or id(p) not in self._alive:
            return None
        if op is not None and (p.op is not op if not isinstance(op, str) else p.op.name != op):
            return None
        if trait is not None and trait not in p.op.traits:
            return None
        return p

    def position(self, node: GNode) -> int:
        return self.graph.nodes.index(node)

    # --- edits ---------------------------------------------------------------------------
    def node(self, op: Any, inputs: Sequence[Value], attrs: dict, outputs: Sequence[Any],
             before: GNode | None = None, after: GNode | None = None) -> GNode:
        """Insert a new op node before/after an anchor; `outputs` are Values to adopt or
        (shape, dtype) pairs for new ones."""
        n = GNode("op", op, list(inputs), dict(attrs))
        self.set_outputs(n, outputs)
        nodes = self.graph.nodes
        at = nodes.index(before) if before is not None else nodes.index(after) + 1
        nodes.insert(at, n)
        self._alive.add(id(n))
        for v in n.inputs:
            self._uses.setdefault(id(v), []).append(n)
        return n

    def set_inputs(self, node: GNode, inputs: Sequence[Value]) -> None:
        for v in node.inputs:
            lst = self._uses.get(id(v), [])
            for i, u in enumerate(lst):
                if u is node:
                    del lst[i]
                    break
        node.inputs = list(inputs)
        for v in node.inputs:
            self._uses.setdefault(id(v), []).append(node)

    def set_outputs(self, node: GNode, outputs: Sequence[Any]) -> None:
        """Give `node` these outputs: Values to adopt or (shape, dtype) pairs for new ones."""
        outs = []
        for i, o in enumerate(outputs):
            if isinstance(o, Value):
                o.producer, o.index, o.kind = node, i, "node"
                outs.append(o)
            else:
                outs.append(self.graph.new_value("node", o[0], o[1], node, i))
        node.outputs = outs

    def replace_uses(self, old: Value, new: Value) -> None:
        """Every reader of `old` (and the graph's outputs) reads `new` instead."""
        for u in list(self._uses.get(id(old), ())):
            self.set_inputs(u, [new if v is old else v for v in u.inputs])
        if id(old) in self._outputs:
            self.graph.outputs = [new if v is old else v for v in self.graph.outputs]
            self._outputs.discard(id(old))
            self._outputs.add(id(new))

    def remove(self, node: GNode) -> None:
        self.set_inputs(node, [])
        self.graph.nodes.remove(node)
        self._alive.discard(id(node))

    def alive(self, node: GNode) -> bool:
        return id(node) in self._alive

    def remove_dead(self, values: Sequence[Value]) -> None:
        """Remove the pure producers of `values` (and theirs, transitively) that nothing
        reads any more, so that use lists show only live readers."""
        stack = [v.producer for v in values if v.kind == "node" and v.producer is not None]
        while stack:
            n = stack.pop()
            if not self.alive(n) or n.kind != "op" or n.op.stateful or any(
                    self.users(o) for o in n.outputs):
                continue
            inputs = list(n.inputs)
            self.remove(n)
            stack.extend(v.producer for v in inputs if v.kind == "node" and v.producer)


def rewrite(graph: Graph, rules: Sequence[Rule], max_rounds: int = 50) -> int:
    """Apply `rules` until none fires; returns how many rewrites were made."""
    rw = Rewriter(graph)
    total = 0
    for _ in range(max_rounds):
        fired = 0
        for node in list(graph.nodes):
            for rule in rules:
                if not rw.alive(node):
                    break
                if rule(rw, node):
                    fired += 1
        total += fired
        if not fired:
            return total
    raise RuntimeError(f"graph rewrite of {graph.name!r}: no fixed point after {max_rounds} "
                       "rounds (a rule undoes another)")
