"""Subgraphs of standard ops that newer opsets hold as one ONNX op (Gelu from opset 20):
found in the traced graph and lowered as that op when the chosen opset has it."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from ndflow.graph.ir import Graph, GNode, Value


def _scalar(v: Value, want: float, rtol: float = 1e-6) -> bool:
    return (v.kind == "const" and np.size(v.payload) == 1
            and math.isclose(float(np.asarray(v.payload).reshape(-1)[0]), want, rel_tol=rtol))


class _Matcher:
    def __init__(self, graph: Graph) -> None:
        self.uses = Counter(id(v) for n in graph.nodes for v in n.inputs)
        self.uses.update(id(v) for v in graph.outputs)

    def op(self, v: Value, name: str) -> GNode | None:
        """The node making `v` if it is an op `name` whose output only this pattern reads."""
        n = v.producer
        if n is None or n.kind != "op" or n.name != name or self.uses[id(v)] != 1:
            return None
        return n

    def times(self, v: Value, c: float) -> tuple[Value, GNode] | None:
        """`v = multiply(x, c)`: (x, node)."""
        n = self.op(v, "multiply")
        if n is not None and _scalar(n.inputs[1], c):
            return n.inputs[0], n
        return None


def gelu_nodes(graph: Graph) -> tuple[dict[int, tuple[Value, str]], set[int]]:
    """`ndflow.nn.gelu`'s exact and tanh forms: {id(final node): (x, approximate)} and the ids
    of the inner nodes the Gelu op replaces."""
    m = _Matcher(graph)
    found: dict[int, tuple[Value, str]] = {}
    inner: set[int] = set()
    for n in graph.nodes:
        if n.kind != "op" or n.name != "multiply":
            continue
        half = m.times(n.inputs[0], 0.5)
        add = m.op(n.inputs[1], "add")
        if half is None or add is None or not _scalar(add.inputs[1], 1.0):
            continue
        x, half_node = half
        used = [half_node, add]
        erf = m.op(add.inputs[0], "erf")
        tanh = m.op(add.inputs[0], "tanh")
        if erf is not None:
            scaled = m.times(erf.inputs[0], 1 / math.sqrt(2))
            if scaled is None or scaled[0] is not x:
                continue
            used += [erf, scaled[1]]
            kind = "none"
        elif tanh is not None:
            scaled = m.times(tanh.inputs[0], math.sqrt(2 / math.pi))
            s = m.op(scaled[0], "add") if scaled else None
            cube = m.times(s.inputs[1], 0.044715) if s is not None else None
            p = m.op(cube[0], "pow") if cube else None
            if (p is None or s.inputs[0] is not x or p.inputs[0] is not x
                    or not _scalar(p.inputs[1], 3.0)):
                continue
            used += [tanh, scaled[1], s, cube[1], p]
            kind = "tanh"
        else:
            continue
        found[id(n)] = (x, kind)
        inner.update(id(u) for u in used)
    return found, inner
