"""The graph IR that `ndflow.function` traces into: values and nodes in program order.

A `Value` is one array flowing through the graph: a function argument, a captured constant,
a captured variable (read at run time, by reference) or the output of a node. A `GNode` applies
a registered op, assigns into a variable, or calls back into Python (`host` nodes: printing,
optimizer and metric updates). Nodes are kept in the order the Python code ran them, so side
effects stay ordered as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(eq=False)
class Value:
    """One array in the graph."""

    id: int
    kind: str  # "arg" | "const" | "var" | "node"
    shape: tuple
    dtype: np.dtype
    producer: GNode | None = None
    index: int = 0  # output index of the producer, or argument position
    payload: Any = None  # the constant's array or the captured Variable

    def __repr__(self) -> str:
        return f"%{self.id}"

    @property
    def label(self) -> str:
        shape = "x".join("?" if d is None else str(d) for d in self.shape) or "scalar"
        return f"%{self.id}:{self.dtype.name}[{shape}]"


@dataclass(eq=False)
class GNode:
    """One operation: `kind` is "op", "assign" (mode in attrs) or "host"."""

    kind: str
    op: Any  # the registry Op for "op" nodes, the Python callable for "host" nodes
    inputs: list[Value]
    attrs: dict
    outputs: list[Value] = field(default_factory=list)

    @property
    def name(self) -> str:
        if self.kind == "op":
            return self.op.name
        if self.kind == "assign":
            return "assign" + {"set": "", "add": "_add", "sub": "_sub"}[self.attrs["mode"]]
        return f"host:{getattr(self.op, '__qualname__', repr(self.op))}"

    @property
    def has_side_effect(self) -> bool:
        """Assigns and host calls, and ops with the ``side_effect`` trait (True, or a function
        of the node's attributes: a while loop whose body assigns or prints)."""
        if self.kind != "op":
            return True
        effect = self.op.traits.get("side_effect")
        return bool(effect(self.attrs)) if callable(effect) else bool(effect)


@dataclass(eq=False)
class Graph:
    """A traced function: arguments, nodes in order, outputs."""

    name: str
    args: list[Value] = field(default_factory=list)
    nodes: list[GNode] = field(default_factory=list)
    outputs: list[Value] = field(default_factory=list)
    _next_id: int = 0
    # the array module the graph runs on: NumPy unless its inputs live on a GPU (CuPy)
    xp: Any = np

    def new_value(self, kind: str, shape: tuple, dtype: Any, producer: GNode | None = None,
                  index: int = 0, payload: Any = None) -> Value:
        v = Value(self._next_id, kind, tuple(shape), np.dtype(dtype), producer, index, payload)
        self._next_id += 1
        return v

    def __str__(self) -> str:
        lines = [f"graph {self.name}({', '.join(a.label for a in self.args)}) {{"]
        for n in self.nodes:
            attrs = {k: v for k, v in n.attrs.items() if k not in ("tree", "fn", "expr")}
            if "expr" in n.attrs:
                from ndflow.core.elementwise import to_source

                attrs["expr"] = to_source(n.attrs["expr"])
            ins = ", ".join(_ref(v) for v in n.inputs)
            outs = ", ".join(v.label for v in n.outputs)
            lhs = f"{outs} = " if outs else ""
            a = f" {attrs}" if attrs else ""
            lines.append(f"  {lhs}{n.name}({ins}){a}")
        lines.append(f"  return {', '.join(_ref(v) for v in self.outputs)}")
        lines.append("}")
        return "\n".join(lines)


def _ref(v: Value) -> str:
    if v.kind == "const":
        arr = v.payload
        if arr.size <= 4:
            return f"const({np.array2string(arr, separator=',')})"
        return f"const<{v.dtype.name}{list(v.shape)}>"
    if v.kind == "var":
        return f"var({v.payload._name})"
    return repr(v)
