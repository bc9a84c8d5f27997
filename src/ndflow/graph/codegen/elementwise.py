"""Kernels for fused element-wise groups, generated from the ops' scalar expressions.

One expression tree (`ndflow.core.elementwise`), three targets:

- `numpy_lines`: straight-line ufunc calls for the executor's source, intermediates written
  into the group's output buffer (`out=`) while it is free, so a chain runs in place;
- `numba_ufunc`: one compiled loop (`ndflow[jit]`), a NumPy ufunc made by `numba.vectorize`
  from a generated scalar function, so broadcasting and `out=` work as for any ufunc;
- `cupy_source`: the C body of a `cupy.ElementwiseKernel`, for graphs on a GPU.

Groups with several outputs written in place into some of their inputs (an optimizer's update
of a variable and its slots: `multi_kernel`) have the same three targets: `multi_numpy_source`,
`multi_numba_source` (one plain loop over flat arrays, compiled by `ndflow.backend.jit.Kernel`)
and `multi_cupy_source`. All targets share one statement walker (`_statements`).

The compiled targets are compiled from files of the per-user kernel cache
(`ndflow.graph.codegen.kernel_cache`: ``~/.cache/ndflow/kernels``, or ``$NDFLOW_CACHE_DIR/kernels``;
delete it to clear it, ``NDFLOW_KERNEL_CACHE=0`` to compile in memory only), so numba keeps
their machine code on disk and the next process loads it instead of compiling the same source.

Constants take the dtype of the values they meet (NumPy's rule for Python scalars), so a
float32 group computes in float32 on every target: the generated loop rounds as the ufunc
sequence does. (Arithmetic, sqrt, maximum/minimum, absolute and sign are correctly rounded on
every target, hence bitwise equal; transcendental functions such as power or exp come from
different libraries in NumPy and in the compiled loop and may differ in the last bit.)
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import threading
from typing import Any

import numpy as np

from ndflow.core.elementwise import ARG_NAMES, evaluate, to_source
from ndflow.graph.codegen import kernel_cache

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

# erf for float32 in compiled loops: x * P(x^2) / Q(x^2) on |x| <= 4 (erf rounds to +-1 beyond),
# degrees 6 and 5, coefficients fitted for ndflow by iterated weighted least squares on the
# relative error (max 5e-9), evaluated in float64: within one ulp of the correctly rounded
# float32 value. Unlike libm's erf (a call per element) it vectorises: 16x faster here.
_ERF_P = (1.1283791682293935, 0.1852578523216552, 0.05429432271413769, 0.003848068897277645,
          0.0003783556827579154, 4.64941824984375e-06, -1.3020483904245598e-08)
_ERF_Q = (1.0, 0.49751389311458144, 0.11395460295867206, 0.015454479013798367,
          0.001305590819718427, 6.277826142078362e-05)


def _erf_f32(x: Any) -> Any:
    a = min(abs(np.float64(x)), 4.0)
    t = a * a
    n = _ERF_P[6]
    for k in range(5, -1, -1):
        n = n * t + _ERF_P[k]
    d = _ERF_Q[5]
    for k in range(4, -1, -1):
        d = d * t + _ERF_Q[k]
    return np.float32(math.copysign(min(a * n / d, 1.0), x))


# exp for float32 in compiled loops: exp(t) = 2**k * e**r with k = round(t / ln 2) and
# |r| <= ln(2) / 2, e**r by its Taylor polynomial of degree 10 (truncation error below 3e-14),
# 2**k built from its bits; all in float64, so the float32 result is the correctly rounded value
# on every one of 2 million sampled inputs. Like `_erf_f32` it vectorises (libm's expf is a
# call per element): 2.4x faster here.
_EXP_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(11))


def _exp_f32(x: Any) -> Any:
    t = np.float64(x)
    t = t if t > -110.0 else -110.0  # exp rounds to 0 (float32) below about -103.97
    t = t if t < 89.0 else 89.0  # and to inf above about 88.73
    k = np.floor(t * 1.4426950408889634 + 0.5)
    r = t - k * 0.6931471805599453
    p = _EXP_TAYLOR[10]
    for j in range(9, -1, -1):
        p = p * r + _EXP_TAYLOR[j]
    two_k = np.int64((np.int64(k) + 1023) << 52)
    return np.float32(p * two_k.view(np.float64)) if x == x else x


_HELPERS = {"erf_f32": _erf_f32, "exp_f32": _exp_f32}
_HELPER_DATA = {"erf_f32": (_ERF_P, _ERF_Q), "exp_f32": _EXP_TAYLOR}
_JITTED: dict = {}


def _loop_globals() -> dict:
    """The names generated loop sources use (numba compiles the helpers into them)."""
    if len(_JITTED) < len(_HELPERS):
        from ndflow.backend import jit

        njit = jit._load_numba().njit
        for name, fn in _HELPERS.items():
            _JITTED.setdefault(name, njit(inline="always")(fn))
    return {"np": np, "math": math, **_JITTED}


_DEPENDS: dict = {}


def _depends(src: str) -> str:
    """What a loop source's compiled code depends on besides its text: the helpers it calls
    (for the kernel cache's file names; numba's cache does not see a helper change)."""
    used = tuple(name for name in _HELPERS if f"{name}(" in src)
    if used not in _DEPENDS:
        parts = []
        for name in used:
            code = _HELPERS[name].__code__
            data = repr((code.co_code, code.co_consts, code.co_names, _HELPER_DATA[name]))
            parts.append(f"{name} " + hashlib.sha256(data.encode()).hexdigest()[:16])
        _DEPENDS[used] = " ".join(parts)
    return _DEPENDS[used]


def _c_literal(value: Any, dtype: np.dtype) -> str:
    return f"np.{dtype.name}({float(value) if dtype.kind == 'f' else value!r})"


def _statements(trees: tuple | list, call_expr: Any, statement: Any, const_text: Any = repr
                ) -> tuple[list[str], list[str]]:
    """One statement per distinct call of the trees, in evaluation order (the shared walk of
    the loop targets; subtrees shared between trees are computed once): `call_expr(t,
    operand)` writes a call's expression, `operand(child)` the name of a computed child;
    `statement(t, name, expr)` the line that names it. Returns (each tree's result name, the
    lines)."""
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

    return [operand(t) for t in trees], lines


def _out_dtype(tree: tuple, types: dict, arg_specs: list[tuple]) -> np.dtype:
    return types[tree][1] if tree[0] not in _LEAF else np.dtype(arg_specs[0][1])


def _numba_call(types: dict, arg_specs: list[tuple]) -> Any:
    """`call_expr` for `_statements` writing NumPy scalar calls that numba compiles: constants
    cast to the dtype of what they meet (the result's, for where's branches)."""
    def operand_dtype(t: tuple, siblings: tuple) -> np.dtype:
        for s in siblings:
            if s[0] == "arg":
                return np.dtype(arg_specs[s[1]][1])
            if s[0] not in _LEAF:
                return types[s][1]
        return types[t][1]

    def call_expr(t: tuple, operand: Any) -> str:
        kids, fname = t[1:], t[0]
        dt = types[t][1] if fname == "where" else operand_dtype(t, kids)
        ops = [_c_literal(k[1], dt) if k[0] == "const" and (fname != "where" or i) else
               operand(k) for i, k in enumerate(kids)]
        if fname == "where":
            return f"({ops[1]} if {ops[0]} else {ops[2]})"
        if fname in ("erf", "exp") and types[t][1] == np.float32 \
                and operand_dtype(t, kids) == np.float32:
            return f"{fname}_f32({ops[0]})"
        if fname == "erf":
            return f"np.{types[t][1].name}(math.erf({ops[0]}))"
        return f"np.{fname}({', '.join(ops)})"

    return call_expr


def numba_scalar_source(tree: tuple, arg_specs: list[tuple]) -> str:
    """The scalar function numba vectorizes: one statement per call, constants cast."""
    types = subtree_types(tree, arg_specs)
    (result,), lines = _statements([tree], _numba_call(types, arg_specs),
                                   lambda t, name, expr: f"    {name} = {expr}")
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
            out_dtype = _out_dtype(tree, subtree_types(tree, arg_specs), arg_specs)
            sig = numba.from_dtype(out_dtype)(*[numba.from_dtype(np.dtype(d))
                                                for _, d in arg_specs])
            fn = None
            ns = kernel_cache.load(src, f"{','.join(key[1])}->{out_dtype.str}",
                                   _loop_globals(), _depends(src))
            if ns is not None:  # from its file: numba keeps the machine code on disk
                with contextlib.suppress(RuntimeError):  # (numba found nowhere to write)
                    fn = numba.vectorize([sig], nopython=True, cache=True)(ns["kernel"])
            if fn is None:
                g = _loop_globals()
                exec(compile(src, f"<fused {to_source(tree)}>", "exec"), g)  # noqa: S102
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


def _cupy_call(t: tuple, operand: Any) -> str:
    """`call_expr` for `_statements` writing C."""
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


def _ctype(dt: Any) -> str:
    return _C_TYPES[np.dtype(dt).name]


def _cupy_const(v: Any) -> str:
    return repr(float(v)) if isinstance(v, float) else repr(v)


def cupy_source(tree: tuple, arg_specs: list[tuple]) -> tuple[str, str, str]:
    """(in_params, out_params, operation) for `cupy.ElementwiseKernel`: the same expression
    as C; NaN-propagating max/min as NumPy's maximum/minimum. (Parameters name NumPy dtypes,
    as CuPy requires; the body declares C types.)"""
    types = subtree_types(tree, arg_specs)
    (result,), lines = _statements(
        [tree], _cupy_call, lambda t, name, expr: f"{_ctype(types[t][1])} {name} = {expr};",
        _cupy_const)
    ins = ", ".join(f"{np.dtype(d).name} a{i}" for i, (_, d) in enumerate(arg_specs))
    lines.append(f"out = {result};")
    return ins, f"{_out_dtype(tree, types, arg_specs).name} out", "\n".join(lines)


# --- several outputs over shared inputs (e.g. an optimizer's update) -----------------------
# `trees[j]` is written into input `dests[j]` (in place: the update of a state array). Inputs
# of shape () are scalars, the others arrays of one shape. Every target evaluates each
# distinct subtree once, with the same float operations, so all three agree bitwise.

def _all_types(trees: tuple, arg_specs: list[tuple]) -> dict:
    types: dict = {}
    for t in trees:
        types.update(subtree_types(t, arg_specs))
    return types


def _check_multi(trees: tuple, dests: tuple, arg_specs: list[tuple]) -> None:
    if len(trees) != len(dests) or len(set(dests)) != len(dests):
        raise ValueError(f"multi-output kernel: expected one distinct destination per tree, "
                         f"got destinations {list(dests)} for {len(trees)} trees")
    for d in dests:
        if tuple(arg_specs[d][0]) == ():
            raise ValueError(f"multi-output kernel: destination a{d} is a scalar input; "
                             "outputs are written into array inputs")


def multi_numpy_source(trees: tuple, dests: tuple, arg_specs: list[tuple]
                       ) -> tuple[str, int]:
    """(source of ``def update(a0, .., s0, ..)``, number of scratch arrays ``s*``): ufunc calls
    with ``out=``, each output written into its destination as soon as no later call reads
    that input's old value, intermediates in scratch arrays reused once they die."""
    _check_multi(trees, dests, arg_specs)
    types = _all_types(trees, arg_specs)
    steps: list[tuple] = []  # (node, name, operands)

    def record(t: tuple, name: str, expr: str) -> str:
        steps.append((t, name, expr))
        return name

    def call_expr(t: tuple, operand: Any) -> list:
        return [c if c[0] in ("arg", "const") else operand(c) for c in t[1:]]

    results, _ = _statements(trees, call_expr, record)
    # last reader of each input and of each intermediate (outputs not yet stored live on)
    last_arg: dict[int, int] = {}
    last_use: dict[str, int] = {}
    for j, (_, _, ops) in enumerate(steps):
        for o in ops:
            if isinstance(o, str):
                last_use[o] = j
            elif o[0] == "arg":
                last_arg[o[1]] = j
    end = len(steps)
    wants = {r: k for k, r in reversed(list(enumerate(results))) if r.startswith("t")}
    where: dict[str, str] = {}  # intermediate -> the array (or scalar name) holding it
    scratch_of: dict[str, int] = {}  # intermediate -> scratch index
    free: list[int] = []
    n_scratch = 0
    stored: set[int] = set()
    borrowed: dict[str, int] = {}  # intermediate -> the output whose destination holds it
    root_step = {k: next(j for j, st in enumerate(steps) if st[1] == r)
                 for k, r in enumerate(results) if r.startswith("t")}
    lines: list[str] = []

    def text(o: Any) -> str:
        if isinstance(o, str):
            return where[o]
        return f"a{o[1]}" if o[0] == "arg" else repr(o[1])

    for j, (t, name, ops) in enumerate(steps):
        if not isinstance(getattr(np, t[0], None), np.ufunc):
            raise ValueError(f"multi-output kernel: {t[0]}() has no ufunc to write in place")
        call = f"np.{t[0]}({', '.join(text(o) for o in ops)}"
        just_freed = []
        for o in ops:  # an operand read for the last time frees its buffer for this call
            if isinstance(o, str) and last_use[o] == j:
                if o in scratch_of:
                    just_freed.append(scratch_of[o])
                    free.append(scratch_of.pop(o))
                borrowed.pop(o, None)
        if types[t][0] == ():  # scalars only: a plain call
            lines.append(f"{name} = {call})")
            where[name] = name
            continue
        k = wants.get(name)
        if k is not None and last_arg.get(dests[k], -1) <= j:
            target = f"a{dests[k]}"
            stored.add(k)
        else:
            if k is not None:
                last_use[name] = end  # an output kept until its input's old value is dead
            # a destination whose old value is dead may hold an intermediate that dies by the
            # time that destination's own output is computed (in place, as a hand-written
            # update would do), saving a scratch array
            lender = next((i for i, d in enumerate(dests) if i not in stored
                           and i not in borrowed.values() and last_arg.get(d, -1) <= j
                           and last_use[name] <= root_step.get(i, -1)), None)
            if just_freed or (free and lender is None):
                idx = free.pop()
                scratch_of[name] = idx
                target = f"s{idx}"
            elif lender is not None:
                borrowed[name] = lender
                target = f"a{dests[lender]}"
            else:
                scratch_of[name] = n_scratch
                target = f"s{n_scratch}"
                n_scratch += 1
        where[name] = target
        lines.append(f"{call}, out={target})")
    written = {dests[i] for i in stored}
    for k, r in enumerate(results):
        if k in stored:
            continue
        src = where.get(r, r)
        if r.startswith("a") and int(r[1:]) in written:
            raise ValueError(f"multi-output kernel: output {k} is input {r}'s old value, "
                             "which an earlier output overwrote")
        lines.append(f"np.copyto(a{dests[k]}, {src})")
    params = [f"a{i}" for i in range(len(arg_specs))] + [f"s{i}" for i in range(n_scratch)]
    body = "\n".join(f"    {ln}" for ln in lines) or "    pass"
    return f"def update({', '.join(params)}):\n{body}\n", n_scratch


def multi_numba_source(trees: tuple, dests: tuple, arg_specs: list[tuple]) -> str:
    """``def update(p0/a0, ..)``: one loop over the flat arrays ``p*`` (scalars ``a*`` as
    they are); per element, the inputs are loaded, every distinct call computed once in the
    arrays' dtype (calls on scalars only hoisted before the loop), then the outputs stored."""
    _check_multi(trees, dests, arg_specs)
    types = _all_types(trees, arg_specs)
    hoisted: list[str] = []
    body: list[str] = []

    def statement(t: tuple, name: str, expr: str) -> str:
        (hoisted if types[t][0] == () else body).append(f"{name} = {expr}")
        return ""

    results, _ = _statements(trees, _numba_call(types, arg_specs), statement)
    arrays = [i for i, (shape, _) in enumerate(arg_specs) if tuple(shape) != ()]
    params = [f"p{i}" if i in arrays else f"a{i}" for i in range(len(arg_specs))]
    loads = [f"a{i} = p{i}[i]" for i in arrays]
    stores = []
    for (k, r), tree in zip(enumerate(results), trees):
        dt = np.dtype(arg_specs[dests[k]][1])
        value = _c_literal(tree[1], dt) if tree[0] == "const" else r
        stores.append(f"p{dests[k]}[i] = {value}")
    lines = [f"    {ln}" for ln in hoisted]
    lines.append(f"    for i in range(p{arrays[0]}.size):")
    lines += [f"        {ln}" for ln in loads + body + stores]
    return f"def update({', '.join(params)}):\n" + "\n".join(lines) + "\n"


def multi_cupy_source(trees: tuple, dests: tuple, arg_specs: list[tuple]
                      ) -> tuple[str, str, str]:
    """(in_params, out_params, operation) for one `cupy.ElementwiseKernel` updating the
    destinations in place: call it with the inputs that are not destinations, in order, then
    the destinations (in `dests` order); the body reads every input before it stores."""
    _check_multi(trees, dests, arg_specs)
    types = _all_types(trees, arg_specs)
    results, lines = _statements(
        trees, _cupy_call, lambda t, name, expr: f"{_ctype(types[t][1])} {name} = {expr};",
        _cupy_const)
    ins = ", ".join(f"{np.dtype(d).name} a{i}" for i, (_, d) in enumerate(arg_specs)
                    if i not in dests)
    outs = ", ".join(f"{np.dtype(arg_specs[d][1]).name} a{d}" for d in dests)
    # every input is read before the first store; an output that is an input's old value
    # is copied first
    for d, r in zip(dests, results):
        if r.startswith("a"):
            lines.append(f"{_ctype(arg_specs[d][1])} o{d} = {r};")
    lines += [f"a{d} = {'o' + str(d) if r.startswith('a') else r};"
              for d, r in zip(dests, results)]
    return ins, outs, "\n".join(lines)


class MultiKernel:
    """The targets of one multi-output group (see `multi_kernel`): `numpy(xp)` is the ufunc
    sequence ``update(*inputs, *scratch)`` (`n_scratch` arrays shaped like the inputs),
    `loop()` the compiled loop ``update(*flat_inputs)`` or None without numba, `cupy(cupy)`
    ``update(*inputs)`` through one `cupy.ElementwiseKernel`."""

    def __init__(self, trees: tuple, dests: tuple, arg_specs: list[tuple]) -> None:
        self.trees, self.dests, self.specs = trees, dests, arg_specs
        self.numpy_source, self.n_scratch = multi_numpy_source(trees, dests, arg_specs)
        self._numpy: dict = {}
        self._cupy: dict = {}
        self._loop: Any = None
        self._label = "; ".join(f"a{d} = {to_source(t)}" for d, t in zip(dests, trees))

    def numpy(self, xp: Any = np) -> Any:
        fn = self._numpy.get(xp)
        if fn is None:
            g = {"np": xp}
            exec(compile(self.numpy_source, f"<update {self._label}>", "exec"), g)  # noqa: S102
            fn = self._numpy[xp] = g["update"]
        return fn

    def cupy(self, cp: Any) -> Any:
        fn = self._cupy.get(cp)
        if fn is None:
            kernel = cp.ElementwiseKernel(*multi_cupy_source(self.trees, self.dests, self.specs),
                                          name="ndflow_update")
            # the kernel takes the inputs that are not written, then the destinations
            order = [i for i in range(len(self.specs)) if i not in self.dests] + \
                list(self.dests)

            def fn(*inputs: Any) -> None:
                kernel(*[inputs[i] for i in order])

            self._cupy[cp] = fn
        return fn

    def loop(self) -> Any:
        from ndflow.backend import jit

        if not jit.enabled():
            return None
        if self._loop is None:
            with _numba_lock:
                if self._loop is None:
                    src = multi_numba_source(self.trees, self.dests, self.specs)
                    signature = ",".join(f"{np.dtype(d).str}{'[:]' if tuple(sh) else ''}"
                                         for sh, d in self.specs)
                    ns = kernel_cache.load(src, signature, _loop_globals(), _depends(src))
                    if ns is not None:  # from its file: compiled with numba's disk cache
                        with contextlib.suppress(RuntimeError):  # (nowhere to write)
                            self._loop = jit.Kernel(ns["update"]).function
                    if self._loop is None:
                        g = _loop_globals()
                        code = compile(src, f"<update loop {self._label}>", "exec")
                        exec(code, g)  # noqa: S102
                        self._loop = jit.Kernel(g["update"]).function
        return self._loop


_MULTI_CACHE: dict = {}


def multi_kernel(trees: tuple, dests: tuple, arg_specs: list[tuple]) -> MultiKernel:
    """The kernels writing ``trees[j]`` into input ``dests[j]``, for inputs of the given
    (shape, dtype) (shape ``()``: a scalar; any other: an array, all of one shape), cached per
    (trees, destinations, scalar-or-array and dtype of each input).

    >>> from ndflow.core.elementwise import parse_assignments
    >>> outs = parse_assignments("m = m * b + g\\nw = w - m * lr", ("w", "m", "g", "b", "lr"))
    >>> f32, a, s = np.float32, ((1,), np.float32), ((), np.float32)
    >>> k = multi_kernel(tuple(t for _, t in outs), tuple(i for i, _ in outs), [a, a, a, s, s])
    >>> w, m, g = np.ones(2, f32), np.zeros(2, f32), np.full(2, 2.0, f32)
    >>> k.numpy()(w, m, g, f32(0.9), f32(0.5), *[np.empty(2, f32)] * k.n_scratch)
    >>> w.tolist(), m.tolist()
    ([0.0, 0.0], [2.0, 2.0])
    """
    specs = [((1,) if tuple(shape) != () else (), np.dtype(d)) for shape, d in arg_specs]
    key = (tuple(trees), tuple(dests), tuple((len(sh), d.str) for sh, d in specs))
    k = _MULTI_CACHE.get(key)
    if k is None:
        k = _MULTI_CACHE[key] = MultiKernel(tuple(trees), tuple(dests), specs)
    return k


__all__ = ["ARG_NAMES", "MultiKernel", "cupy_source", "multi_cupy_source", "multi_kernel",
           "multi_numba_source", "multi_numpy_source", "numba_scalar_source", "numba_ufunc",
           "numpy_lines", "subtree_types"]
