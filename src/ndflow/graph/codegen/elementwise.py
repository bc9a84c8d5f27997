"""Kernels for fused element-wise groups, generated from the ops' scalar expressions.

One expression tree (`ndflow.core.elementwise`), three targets:

- `numpy_lines`: straight-line ufunc calls for the executor's source, intermediates written
  into the group's output buffer (`out=`) while it is free, so a chain runs in place;
- `numba_ufunc`: one compiled loop (`ndflow[jit]`), a NumPy ufunc made by `numba.vectorize`
  from a generated scalar function, so broadcasting and `out=` work as for any ufunc;
- `cupy_source`: the C body of a `cupy.ElementwiseKernel`, for graphs on a GPU.

Constants take the dtype of the values they meet (NumPy's rule for Python scalars), so a
float32 group computes in float32 on every target: the generated loop rounds as the ufunc
sequence does.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from ndflow.core.elementwise import ARG_NAMES, evaluate, to_source

_LEAF = ("arg", "const", "attr")


def subtree_types(tree: tuple, arg_specs: list[tuple]) -> dict:
    """(shape, dtype) of every call in the tree, for inputs of the given (shape, dtype)."""
    probes = tuple(np.zeros((1,) * len(s), d) for s, d in arg_specs)
    types: dict = {}

    def walk(t: tuple) -> tuple:
        kind = t[0]
        if kind == "arg":
            return arg_specs[t[1]][0]
        if kind in ("const", "attr"):
            return ()
        if t in types:
            return types[t][0]
        shape = tuple(np.broadcast_shapes(*[walk(c) for c in t[1:]]))
        with np.errstate(all="ignore"):
            dtype = np.asarray(evaluate(t, np, probes)).dtype
        types[t] = (shape, dtype)
        return shape

    walk(tree)
    return types


def _use_counts(tree: tuple) -> dict:
    counts: dict = {}

    def walk(t: tuple) -> None:
        if t[0] in _LEAF:
            return
        counts[t] = counts.get(t, 0) + 1
        if counts[t] == 1:
            for c in t[1:]:
                walk(c)

    walk(tree)
    return counts


def numpy_lines(tree: tuple, args: list[str], out: str | None, out_spec: tuple | None,
                arg_specs: list[tuple], temp: Any) -> tuple[list[str], str, set]:
    """Statements that compute `tree` (into `out` when given, else into the first full-size
    array the group makes); returns (lines, result name, safe_alias) where
    `safe_alias` holds the argument positions that `out` may share memory with (each is read
    for the last time no later than the first write into `out`).

    `temp()` gives a fresh local name. Functions without a ufunc (erf, where) call the
    expression module's implementation through the name `_ew`."""
    types = subtree_types(tree, arg_specs)
    remaining = _use_counts(tree)
    names: dict = {}
    lines: list[str] = []
    holder: list = [None]  # the subtree whose value is in `out` now
    dest: list = [None]  # without `out`: the group's own fresh array, once it has one
    last_read: dict[int, int] = {}
    first_write: list = [None]

    def ref(t: tuple) -> str:
        if t[0] == "arg":
            last_read[t[1]] = len(lines)
            return args[t[1]]
        if t[0] == "const":
            return repr(t[1])
        return names[t]

    def emit(t: tuple) -> None:
        if t[0] in _LEAF or t in names:
            return
        for c in t[1:]:
            emit(c)
        operands = [ref(c) for c in t[1:]]
        for c in t[1:]:
            if c[0] not in _LEAF:
                remaining[c] -= 1
        fname = t[0]
        shape, dtype = types[t]
        h = holder[0]
        out_free = h is None or remaining.get(h, 0) == 0
        ufunc = isinstance(getattr(np, fname, None), np.ufunc)
        target = out if out is not None else dest[0]
        if target is not None and out_free and ufunc and out_spec == (shape, dtype):
            lines.append(f"np.{fname}({', '.join(operands)}, out={target})")
            if first_write[0] is None:
                first_write[0] = len(lines) - 1
            holder[0] = t
            names[t] = target
            return
        name = temp()
        if ufunc and out is None and out_spec == (shape, dtype) and dest[0] is None \
                and shape != ():  # (a 0-d ufunc result is a NumPy scalar, not a buffer)
            # no buffer given: the first full-size result is a fresh array that the rest of
            # the group then writes into
            lines.append(f"{name} = np.{fname}({', '.join(operands)})")
            dest[0] = name
            holder[0] = t
            names[t] = name
            return
        if ufunc:
            lines.append(f"{name} = np.{fname}({', '.join(operands)})")
        else:
            lines.append(f"{name} = _ew({fname!r}, {', '.join(operands)})")
        names[t] = name

    if tree[0] in _LEAF:
        result = ref(tree)
    else:
        emit(tree)
        result = names[tree]
    if out is not None and result != out:
        lines.append(f"np.copyto({out}, {result})")
        if first_write[0] is None:
            first_write[0] = len(lines) - 1
        result = out
    fw = first_write[0] if first_write[0] is not None else len(lines)
    safe = {i for i in range(len(args)) if last_read.get(i, -1) <= fw}
    return lines, result, safe


# --- Numba: one loop per group -------------------------------------------------------------
_NUMBA_CACHE: dict = {}
_numba_lock = threading.Lock()


def _c_literal(value: Any, dtype: np.dtype) -> str:
    return f"np.{dtype.name}({float(value) if dtype.kind == 'f' else value!r})"


def _statements(tree: tuple, call_expr: Any, statement: Any, const_text: Any = repr
                ) -> tuple[str, list[str]]:
    """One statement per distinct call of the tree, in evaluation order (the shared walk of
    the loop targets): `call_expr(t, operand)` writes a call's expression, `operand(child)`
    the name of a computed child; `statement(t, name, expr)` the line that names it. Returns
    (the result's name, the lines)."""
    names: dict = {}
    lines: list[str] = []

    def operand(t: tuple) -> str:
        if t[0] == "arg":
            return f"a{t[1]}"
        if t[0] == "const":
            return const_text(t[1])
        if t not in names:
            expr = call_expr(t, operand)
            names[t] = f"t{len(names)}"
            lines.append(statement(t, names[t], expr))
        return names[t]

    return operand(tree), lines


def _out_dtype(tree: tuple, types: dict, arg_specs: list[tuple]) -> np.dtype:
    return types[tree][1] if tree[0] not in _LEAF else np.dtype(arg_specs[0][1])


def numba_scalar_source(tree: tuple, arg_specs: list[tuple]) -> str:
    """The scalar function numba vectorizes: one statement per call, constants cast."""
    types = subtree_types(tree, arg_specs)

    def operand_dtype(t: tuple, siblings: tuple) -> np.dtype:
        for s in siblings:
            if s[0] == "arg":
                return np.dtype(arg_specs[s[1]][1])
            if s[0] not in _LEAF:
                return types[s][1]
        return types[t][1]

    def call_expr(t: tuple, operand: Any) -> str:
        kids, fname = t[1:], t[0]
        # a constant takes the dtype of what it meets (the result's, for where's branches)
        dt = types[t][1] if fname == "where" else operand_dtype(t, kids)
        ops = [_c_literal(k[1], dt) if k[0] == "const" and (fname != "where" or i) else
               operand(k) for i, k in enumerate(kids)]
        if fname == "where":
            return f"({ops[1]} if {ops[0]} else {ops[2]})"
        if fname == "erf":
            return f"np.{types[t][1].name}(math.erf({ops[0]}))"
        return f"np.{fname}({', '.join(ops)})"

    result, lines = _statements(tree, call_expr, lambda t, name, expr: f"    {name} = {expr}")
    params = ", ".join(f"a{i}" for i in range(len(arg_specs)))
    return f"def kernel({params}):\n" + "\n".join(lines) + f"\n    return {result}\n"


def numba_ufunc(tree: tuple, arg_specs: list[tuple]) -> Any:
    """A compiled ufunc for the tree and input dtypes (cached per process); None without
    numba."""
    from ndflow.backend import jit

    if not jit.enabled():
        return None
    key = (tree, tuple(np.dtype(d).str for _, d in arg_specs))
    with _numba_lock:
        fn = _NUMBA_CACHE.get(key)
        if fn is None:
            numba = jit._load_numba()
            src = numba_scalar_source(tree, arg_specs)
            g = {"np": np, "math": math}
            exec(compile(src, f"<fused {to_source(tree)}>", "exec"), g)  # noqa: S102
            out_dtype = _out_dtype(tree, subtree_types(tree, arg_specs), arg_specs)
            sig = numba.from_dtype(out_dtype)(*[numba.from_dtype(np.dtype(d))
                                                for _, d in arg_specs])
            fn = numba.vectorize([sig], nopython=True, cache=False)(g["kernel"])
            _NUMBA_CACHE[key] = fn
    return fn


# --- CuPy: the C body of an ElementwiseKernel ------------------------------------------------
_C_BINARY = {"add": "+", "subtract": "-", "multiply": "*", "true_divide": "/",
             "greater": ">", "greater_equal": ">=", "less": "<", "less_equal": "<=",
             "equal": "==", "not_equal": "!=", "logical_and": "&&", "logical_or": "||"}
_C_CALL = {"maximum": "max", "minimum": "min", "absolute": "abs", "power": "pow",
           "arcsin": "asin", "arccos": "acos", "arctan": "atan"}
_C_TYPES = {"float32": "float", "float64": "double", "bool": "bool", "float16": "float16"}


def cupy_source(tree: tuple, arg_specs: list[tuple]) -> tuple[str, str, str]:
    """(in_params, out_params, operation) for `cupy.ElementwiseKernel`: the same expression
    as C; NaN-propagating max/min as NumPy's maximum/minimum."""
    types = subtree_types(tree, arg_specs)

    def ctype(dt: np.dtype) -> str:
        return _C_TYPES[np.dtype(dt).name]

    def call_expr(t: tuple, operand: Any) -> str:
        ops = [operand(c) for c in t[1:]]
        fname = t[0]
        if fname in _C_BINARY:
            return f"({ops[0]} {_C_BINARY[fname]} {ops[1]})"
        if fname == "where":
            return f"({ops[0]} ? {ops[1]} : {ops[2]})"
        if fname in ("maximum", "minimum"):
            cmp = ">=" if fname == "maximum" else "<="
            return f"(({ops[0]} {cmp} {ops[1]} || isnan({ops[0]})) ? {ops[0]} : {ops[1]})"
        if fname == "negative":
            return f"(-{ops[0]})"
        if fname == "logical_not":
            return f"(!{ops[0]})"
        if fname == "square":
            return f"({ops[0]} * {ops[0]})"
        if fname == "reciprocal":
            return f"(1 / {ops[0]})"
        if fname == "sign":
            return f"(({ops[0]} > 0) - ({ops[0]} < 0))"
        return f"{_C_CALL.get(fname, fname)}({', '.join(ops)})"

    result, lines = _statements(
        tree, call_expr, lambda t, name, expr: f"{ctype(types[t][1])} {name} = {expr};",
        lambda v: repr(float(v)) if isinstance(v, float) else repr(v))
    ins = ", ".join(f"{ctype(d)} a{i}" for i, (_, d) in enumerate(arg_specs))
    lines.append(f"out = {result};")
    return ins, f"{ctype(_out_dtype(tree, types, arg_specs))} out", "\n".join(lines)


__all__ = ["ARG_NAMES", "cupy_source", "numba_scalar_source", "numba_ufunc", "numpy_lines",
           "subtree_types"]
