"""Compile a graph into straight-line Python: kernels called directly, no dispatch, no tape.

Element-wise ops and matmul write into preallocated buffers (`out=`) chosen by liveness, so
a steady-state step allocates almost nothing for large intermediates; an element-wise op whose
input dies at that op reuses the input's buffer (in place), which fuses element-wise chains
into one buffer. Small arrays use plain expressions: NumPy's small-block cache is cheaper than
`out=` there. The buffers live in memory maps of their own, outside the malloc heap, and can be
released between loops (`PooledBuffers`): Keras's fit/evaluate/predict do so when they return.
"""

from __future__ import annotations

import functools
import math
import mmap
from collections.abc import Callable
from typing import Any

import numpy as np

from ndflow.backend import parallel, pool_gemm
from ndflow.core.elementwise import calls as ew_calls
from ndflow.core.elementwise import xp_function
from ndflow.core.tensor import Tensor
from ndflow.graph.codegen import elementwise as ew
from ndflow.graph.ir import Graph, GNode, Value
from ndflow.graph.passes import elementwise_fusion as _fusion
from ndflow.graph.passes.elementwise_fusion import FUSED
from ndflow.util import nest

# Pool buffers only for arrays at least this large (elements).
POOL_MIN_SIZE = 4096


def _is_fused(node: GNode) -> bool:
    return node.kind == "op" and node.op is FUSED


def _poolable(node: GNode) -> bool:
    if node.kind != "op" or len(node.outputs) != 1:
        return False
    out = node.outputs[0]
    if int(np.prod(out.shape)) < POOL_MIN_SIZE:
        return False
    if _is_fused(node):
        return True
    if node.op.name == "matmul":
        return all(v.dtype == out.dtype for v in node.inputs)
    return False


class _FusedPlan:
    """How one fused node runs: its arguments' specs, the compiled loop (or None for the
    ufunc sequence) and which inputs its output may overwrite."""

    def __init__(self, node: GNode, xp: Any) -> None:
        self.expr = node.attrs["expr"]
        self.specs = [(tuple(v.shape), v.dtype) for v in node.inputs]
        out = node.outputs[0]
        self.out_spec = (tuple(out.shape), out.dtype)
        self.loop = None
        self.cupy = None
        if xp is not np:
            if getattr(xp, "__name__", "") == "cupy":
                self.cupy = xp.ElementwiseKernel(*ew.cupy_source(self.expr, self.specs),
                                                 name="ndflow_fused")
            self.safe = set()
        elif (n_calls := ew_calls(self.expr)) >= _fusion.JIT_MIN_CALLS or (
                n_calls >= 2 and int(np.prod(out.shape)) >= _fusion.JIT_MIN_SIZE):
            self.loop = ew.numba_ufunc(self.expr, self.specs)
        if self.loop is not None:
            # never in place: a compiled loop whose output overlaps an input fails LLVM's
            # run-time overlap check and runs its scalar loop (measured 5x slower with a
            # vectorised exp)
            self.safe = set()
        elif self.cupy is None:
            _, _, self.safe = ew.numpy_lines(self.expr, [f"a{i}" for i in range(len(
                self.specs))], "OUT", self.out_spec, self.specs, lambda: "t")


class _Codegen:
    def __init__(self, graph: Graph, xp: Any = np) -> None:
        self.graph = graph
        self.xp = xp
        # generated code names the array module `np`: NumPy, or CuPy for a graph on a GPU
        self.g: dict[str, Any] = {"np": xp, "_ew": lambda f, *a: xp_function(xp, f)(*a),
                                  "_mm": parallel.matmul if xp is np else xp.matmul,
                                  "_pew": parallel.elementwise}
        self.plans: dict[int, _FusedPlan] = {}
        self.names: dict[int, str] = {}
        self.uses: dict[int, int] = {}  # node value id -> node inputs and outputs reading it
        # output value id of each `_mm(a, b, out=buf)` line -> (line index, a, b, buf)
        self.products: dict[int, tuple] = {}
        self.lines: list[str] = []
        self.n = 0

    def glob(self, prefix: str, obj: Any) -> str:
        name = f"{prefix}{self.n}"
        self.n += 1
        self.g[name] = obj
        return name

    def ref(self, v: Value) -> str:
        if v.kind == "const":
            key = id(v)
            if key not in self.names:
                self.names[key] = self.glob("c", v.payload)
            return self.names[key]
        if v.kind == "var":
            key = id(v)
            if key not in self.names:
                self.names[key] = self.glob("var", v.payload) + "._value"
            return self.names[key]
        return self.names[id(v)]


def _plan_buffers(graph: Graph, plans: dict, pooling: bool = True) -> dict[int, Any]:
    """Map node-output value ids to buffer slots, by liveness with alias tracking."""
    nodes = graph.nodes
    end = len(nodes)
    pool_nodes = {id(n) for n in nodes if pooling and _poolable(n)}
    # alias roots: which pooled outputs a value may share memory with
    roots: dict[int, frozenset] = {}
    for n in nodes:
        if id(n) in pool_nodes:
            roots[id(n.outputs[0])] = frozenset([id(n.outputs[0])])
        elif _is_fused(n) or (n.kind == "op" and n.op.name == "matmul"):
            # these always return a new array: it shares memory with no input
            for o in n.outputs:
                roots[id(o)] = frozenset()
        else:
            r: frozenset = frozenset()
            for v in n.inputs:
                r |= roots.get(id(v), frozenset())
            for o in n.outputs:
                roots[id(o)] = r
    # a pooled buffer escapes if any alias is returned or handed to Python that may keep it
    escaping: set[int] = set()
    for v in graph.outputs:
        escaping |= roots.get(id(v), frozenset())
    for n in nodes:
        if n.kind == "host" and getattr(n.op, "_retains_args", True):
            for v in n.inputs:
                escaping |= roots.get(id(v), frozenset())
    # last use of each pooled root
    last: dict[int, int] = {}
    for i, n in enumerate(nodes):
        for v in n.inputs:
            for r in roots.get(id(v), ()):
                last[r] = i
    for v in graph.outputs:
        for r in roots.get(id(v), ()):
            last[r] = end
    free: dict[tuple, list[int]] = {}
    buffers: list[tuple] = []
    assignment: dict[int, int] = {}
    for i, n in enumerate(nodes):
        dying = [r for r in {r for v in n.inputs for r in roots.get(id(v), ())}
                 if last.get(r) == i and r in assignment]
        inplace_ok = _is_fused(n)
        if inplace_ok:
            # the output may overwrite an input that the kernel reads before its first write
            safe = plans[id(n)].safe
            unsafe = {r for k, v in enumerate(n.inputs) if k not in safe
                      for r in roots.get(id(v), ())}
            for r in dying:
                if r not in unsafe:
                    b = assignment[r]
                    free.setdefault(buffers[b], []).append(b)
            dying = [r for r in dying if r in unsafe]
        if id(n) in pool_nodes and id(n.outputs[0]) not in escaping:
            out = n.outputs[0]
            key = (out.shape, out.dtype.str)
            # an element-wise op may write over an input only when shapes match exactly
            lst = free.get(key)
            if lst:
                b = lst.pop()
            else:
                b = len(buffers)
                buffers.append(key)
            assignment[id(out)] = b
            if last.get(id(out)) is None:  # result unused: release at once
                free.setdefault(key, []).append(b)
        if not inplace_ok:
            for r in dying:
                b = assignment[r]
                free.setdefault(buffers[b], []).append(b)
    return {"assignment": assignment, "buffers": buffers}


def _pool_view(pool: dict, slot: int, shape: tuple, dtype: str) -> np.ndarray:
    """An uninitialised array over memory slot `slot` of `pool`: an anonymous memory map of
    its own, not in the malloc heap, grown when a larger buffer needs the slot.

    Pooled buffers live as long as the loop that uses them, unlike the per-step arrays that
    malloc serves from its heap: in a map of their own they neither pin nor fragment that heap,
    and once released their pages go back to the system at once.
    """
    dt = np.dtype(dtype)
    count = int(np.prod(shape))
    nbytes = count * dt.itemsize
    mm = pool.get(slot)
    if mm is None or len(mm) < nbytes:
        mm = pool[slot] = mmap.mmap(-1, max(nbytes, 1))
    return np.frombuffer(mm, dt, count=count).reshape(shape)


class PooledBuffers:
    """The pooled buffers one compiled function writes into, bound as globals of its code.

    `pool` is shared by the specialisations of one Function: they never run at the same time,
    so they share memory slots, ranked by size: the largest buffer of each specialisation
    uses slot 0, and so on (so a last, smaller batch reuses the full batch's memory).
    `release()` drops this function's references to the arrays (so that, with the pool
    cleared, the allocator can reuse the memory, e.g. once `fit` returns); `bind()` takes them
    from the pool again, allocating those it no longer holds.
    """

    __slots__ = ("_g", "_names", "_keys", "pool")

    def __init__(self, g: dict, names: list[str], keys: list[tuple], pool: dict) -> None:
        self._g = g
        self._names = names
        self._keys = keys
        self.pool = pool

    def __len__(self) -> int:
        return len(self._keys)

    def bind(self) -> None:
        pool = self.pool
        for name, (shape, dtype, slot) in zip(self._names, self._keys):
            self._g[name] = _pool_view(pool, slot, shape, dtype)

    def release(self) -> None:
        """Unbind the arrays (the caller clears the pool): bind() before the next run."""
        for name in self._names:
            self._g[name] = None


def compile_graph(graph: Graph, pool: dict | None = None, xp: Any = np
                  ) -> tuple[Callable, str, PooledBuffers]:
    """Generate and compile the executor for the array module `xp` (NumPy by default, CuPy
    for a graph whose inputs live on a GPU); returns (function, its source, its buffers)."""
    cg = _Codegen(graph, xp)
    for node in graph.nodes:
        if _is_fused(node):
            cg.plans[id(node)] = _FusedPlan(node, xp)
    # pooled buffers are host memory maps: NumPy only
    plan = _plan_buffers(graph, cg.plans, pooling=xp is np)
    sizes = [int(np.prod(shape)) * np.dtype(dtype).itemsize for shape, dtype in plan["buffers"]]
    rank = {i: r for r, i in enumerate(sorted(range(len(sizes)), key=lambda i: -sizes[i]))}
    keys = [(shape, dtype, rank[i]) for i, (shape, dtype) in enumerate(plan["buffers"])]
    buffers = PooledBuffers(cg.g, [cg.glob("buf", None) for _ in keys], keys,
                            {} if pool is None else pool)
    buffers.bind()
    buf_names = buffers._names
    assignment = plan["assignment"]
    params = []
    for i, a in enumerate(graph.args):
        cg.names[id(a)] = f"a{i}"
        params.append(f"a{i}")
    vid = 0

    def new_name(v: Value) -> str:
        nonlocal vid
        name = f"v{vid}"
        vid += 1
        cg.names[id(v)] = name
        return name

    # Free each intermediate right after its last use (as eager code would), so large arrays
    # go back to the allocator while the step runs instead of all living until it returns.
    keep = {id(v) for v in graph.outputs}
    last_use: dict[int, int] = {}
    for i, node in enumerate(graph.nodes):
        for v in node.inputs:
            if v.kind == "node":
                last_use[id(v)] = i
                cg.uses[id(v)] = cg.uses.get(id(v), 0) + 1
    for v in graph.outputs:
        cg.uses[id(v)] = cg.uses.get(id(v), 0) + 1
    dying: dict[int, list] = {}
    for i, node in enumerate(graph.nodes):
        for o in node.outputs:
            if id(o) not in keep:
                dying.setdefault(last_use.get(id(o), i), []).append(o)

    for i, node in enumerate(graph.nodes):
        _emit_node(cg, node, new_name, assignment, buf_names)
        dead = [cg.names[id(v)] for v in dying.get(i, ()) if id(v) in cg.names]
        if dead:
            cg.lines.append(f"del {', '.join(dead)}")
    rets = [cg.ref(v) for v in graph.outputs]
    body = "\n".join("    " + ln for ln in cg.lines) or "    pass"
    src = (f"def run({', '.join(params)}):\n{body}\n"
           f"    return ({', '.join(rets)}{',' if len(rets) == 1 else ''})\n")
    code = compile(src, f"<ndflow.function {graph.name}>", "exec")
    exec(code, cg.g)  # noqa: S102 - our own generated source, no user strings
    run = cg.g["run"]
    if xp is np and splits_products(graph):
        run = parallel.with_split_products(run)
    return run, src, buffers


def splits_products(graph: Graph) -> bool:
    """Whether the graph runs with its matrix products split into single-thread BLAS calls on
    the pool (`backend/pool_gemm.py`): possible here, every op's products (its ``blas``
    trait) split, and some array large enough for the pool to matter. A graph with one
    product NumPy's BLAS would run on all cores keeps today's way: its threads would spin on
    the cores the pool needs (`pool_gemm.worth_splitting` says when splitting pays at all)."""
    if not pool_gemm.worth_splitting():
        return False
    large = False
    for node in graph.nodes:
        if node.kind != "op":
            continue
        blas = node.op.traits.get("blas")
        if blas is not None:
            products = blas(node.attrs, [(tuple(v.shape), v.dtype) for v in node.inputs]) \
                if callable(blas) else blas
            if products == "any" or not all(pool_gemm.splits(*p) for p in products):
                return False
        large = large or any(None not in v.shape and math.prod(v.shape)
                             >= parallel.ELEMENTWISE_SPLIT_SIZE
                             for v in node.inputs + node.outputs)
    return large


def _emit_node(cg: _Codegen, node: GNode, new_name: Callable, assignment: dict,
               buf_names: list) -> None:
    ins = [cg.ref(v) for v in node.inputs]
    if node.kind == "assign":
        var, val = ins
        mode = node.attrs["mode"]
        if mode == "set":
            cg.lines.append(f"np.copyto({var}, {val})")
        else:
            cg.lines.append(f"{var} {'+=' if mode == 'add' else '-='} {val}")
        return
    if node.kind == "host":
        h = cg.glob("host", _host_runner(node))
        if node.outputs:
            outs = [new_name(o) for o in node.outputs]
            cg.lines.append(f"{', '.join(outs)}, = {h}({', '.join(ins)})")
        else:
            cg.lines.append(f"{h}({', '.join(ins)})")
        return
    outs = [new_name(o) for o in node.outputs]
    lhs = ", ".join(outs) + ("," if len(outs) == 1 and node.op.num_outputs != 1 else "")
    buf = None
    if len(node.outputs) == 1 and id(node.outputs[0]) in assignment:
        buf = buf_names[assignment[id(node.outputs[0])]]
    if _is_fused(node):
        _emit_fused(cg, node, ins, outs[0], buf)
        return
    cg.lines.append(f"{lhs} = {_expr(cg, node, ins, buf)}")


def _emit_fused(cg: _Codegen, node: GNode, ins: list[str], name: str, buf: str | None) -> None:
    plan = cg.plans[id(node)]
    if plan.cupy is not None:
        k = cg.glob("k", plan.cupy)
        cg.lines.append(f"{name} = {k}({', '.join(ins)})")
        return
    if plan.loop is not None:
        k = cg.glob("k", plan.loop)
        shape, dtype = plan.out_spec
        if math.prod(shape) >= parallel.ELEMENTWISE_SPLIT_SIZE:  # may run on the pool
            spec = cg.glob("s", (tuple(shape), np.dtype(dtype)))
            cg.lines.append(f"{name} = _pew({k}, {buf}, *{spec}, {', '.join(ins)})"
                            f"  # {ew.to_source(plan.expr)}")
            return
        out = f", out={buf}" if buf is not None else ""
        cg.lines.append(f"{name} = {k}({', '.join(ins)}{out})  # {ew.to_source(plan.expr)}")
        return
    if _bias_into_product(cg, node, ins, name, buf):
        return
    expr = plan.expr
    shape, dtype = plan.out_spec
    if cg.xp is np and math.prod(shape) >= parallel.ELEMENTWISE_SPLIT_SIZE and isinstance(
            getattr(np, expr[0], None), np.ufunc) and all(
            c[0] in ("arg", "const") for c in expr[1:]) \
            and ew.subtree_types(expr, plan.specs)[expr] == plan.out_spec:
        # one large ufunc call (a bias add): its rows may run on the pool
        spec = cg.glob("s", (tuple(shape), np.dtype(dtype)))
        operands = [ins[c[1]] if c[0] == "arg" else repr(c[1]) for c in expr[1:]]
        cg.lines.append(f"{name} = _pew(np.{expr[0]}, {buf}, *{spec}, {', '.join(operands)})")
        return
    counter = [0]

    def temp() -> str:
        counter[0] += 1
        return f"{name}_{counter[0]}"

    lines, result, _ = ew.numpy_lines(plan.expr, ins, buf, plan.out_spec, plan.specs, temp)
    cg.lines.extend(lines)
    if result != name:
        # a 0-d result of a ufunc is a NumPy scalar: keep arrays flowing between kernels
        cg.lines.append(f"{name} = np.asarray({result})" if not buf else f"{name} = {result}")


def _bias_into_product(cg: _Codegen, node: GNode, ins: list[str], name: str,
                       buf: str | None) -> bool:
    """``add(a @ b, bias)`` right after the product, with a bias per column and the product
    read by nothing else: the bias goes into the product's call (`parallel.matmul(...,
    bias=)`: the same float operations; in a graph whose products split, added while each
    block of rows is in cache), in the product's buffer when the add has that one, or into a
    new array when the add has none (another buffer might hold the product's own input).
    True when it did."""
    expr = cg.plans[id(node)].expr
    if cg.xp is not np or expr[0] != "add" or len(expr) != 3 \
            or any(c[0] != "arg" for c in expr[1:]):
        return False
    shape, dtype = cg.plans[id(node)].out_spec
    for p, q in ((expr[1][1], expr[2][1]), (expr[2][1], expr[1][1])):
        prod_v, bias_v = node.inputs[p], node.inputs[q]
        product = cg.products.get(id(prod_v))
        if product is None or cg.uses.get(id(prod_v)) != 1 \
                or tuple(prod_v.shape) != tuple(shape) or prod_v.dtype != dtype \
                or bias_v.dtype != dtype or tuple(bias_v.shape) != tuple(shape[-1:]):
            continue
        at, a, b, product_buf = product
        if buf not in (None, product_buf) \
                or not all(line.startswith("del ") for line in cg.lines[at + 1:]):
            continue
        out = f", out={buf}" if buf is not None else ""
        cg.lines[at] = f"{ins[p]} = _mm({a}, {b}{out}, bias={ins[q]})"
        cg.lines.append(f"{name} = {ins[p]}")
        return True
    return False


def _expr(cg: _Codegen, node: GNode, ins: list[str], buf: str | None) -> str:
    attrs = node.attrs
    if buf is not None and node.op.name == "matmul":
        a = f"np.swapaxes({ins[0]}, -1, -2)" if attrs["ta"] else ins[0]
        b = f"np.swapaxes({ins[1]}, -1, -2)" if attrs["tb"] else ins[1]
        cg.products[id(node.outputs[0])] = (len(cg.lines), a, b, buf)  # the caller's line
        return f"_mm({a}, {b}, out={buf})"
    f = cg.glob("f", functools.partial(node.op.forward, cg.xp, **attrs))
    return f"{f}({', '.join(ins)})"


def _host_runner(node: GNode) -> Callable:
    """Rebuild the Python call's arguments with this call's arrays and run it."""
    fn = node.op
    args, kwargs = node.attrs["tree"]
    template = node.attrs["leaves"]
    slots = node.attrs["slots"]
    structure = (list(args), kwargs)

    returns = node.attrs.get("returns", False)

    def run(*arrays: Any) -> Any:
        leaves = list(template)
        for s, a in zip(slots, arrays):
            leaves[s] = Tensor(a if hasattr(a, "shape") else np.asarray(a))
        a2, k2 = nest.pack_sequence_as(structure, leaves)
        out = fn(*a2, **k2)
        if returns:
            return tuple(np.asarray(v.numpy() if isinstance(v, Tensor) else v)
                         for v in nest.flatten(out))
        return None

    return run
