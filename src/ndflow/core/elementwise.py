"""Scalar expressions of element-wise ops: one definition that every target reads.

An element-wise op declares what it computes per element as an expression over a small
vocabulary of scalar functions (`SCALAR_FUNCTIONS`), e.g. relu is ``maximum(x, 0)``. From that
one expression ndflow derives the op's eager kernel (`kernel`, run with the array module of the
inputs: NumPy or CuPy), and the graph compiler generates fused kernels for groups of such ops
(an in-place NumPy ufunc sequence, a Numba loop, a CuPy elementwise kernel): an edit to the
expression reaches every path.

Expressions are parsed once into trees of tuples: ``("arg", i)`` for the op's i-th input
(named x, y, z in the source text), ``("const", value)``, ``("attr", name)`` for an op
attribute (substituted per node), and ``(function, child, ...)`` for a call.

>>> import numpy as np
>>> relu = kernel(parse("maximum(x, 0)"))
>>> relu(np, np.array([-1.0, 2.0], np.float32)).tolist()
[0.0, 2.0]
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

# name -> number of arguments. Every function here exists as a NumPy/CuPy ufunc of that name,
# except those in `_SPECIAL` (erf: SciPy's or a float64 polynomial; where: not a ufunc).
SCALAR_FUNCTIONS: dict[str, int] = {
    "add": 2, "subtract": 2, "multiply": 2, "true_divide": 2, "power": 2, "maximum": 2,
    "minimum": 2, "negative": 1, "absolute": 1, "sign": 1, "square": 1, "sqrt": 1,
    "reciprocal": 1, "exp": 1, "expm1": 1, "log": 1, "log1p": 1, "sin": 1, "cos": 1, "tan": 1,
    "tanh": 1, "sinh": 1, "cosh": 1, "arcsin": 1, "arccos": 1, "arctan": 1, "floor": 1,
    "ceil": 1, "erf": 1, "greater": 2, "greater_equal": 2, "less": 2, "less_equal": 2,
    "equal": 2, "not_equal": 2, "logical_and": 2, "logical_or": 2, "logical_not": 1,
    "where": 3,
}
ARG_NAMES = ("x", "y", "z")


_INFIX = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "true_divide",
          ast.Pow: "power"}


def parse(source: str, args: tuple[str, ...] = ARG_NAMES) -> tuple:
    """Parse ``"maximum(x, 0)"`` into an expression tree (checked against the vocabulary).

    Infix ``+ - * / **`` and unary minus stand for add, subtract, multiply, true_divide,
    power and negative (left to right, as Python groups them). `args` names the inputs
    (``("arg", i)``); any other name is an attribute.

    >>> to_source(parse("m + (g - m) * c", args=("m", "g")))
    'add(x, multiply(subtract(y, x), c))'
    """
    def walk(n: ast.AST) -> tuple:
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and not n.keywords:
            fname = n.func.id
            if SCALAR_FUNCTIONS.get(fname) != len(n.args):
                raise ValueError(f"element-wise expression {source!r}: {fname}() with "
                                 f"{len(n.args)} arguments is not a known scalar function")
            return (fname,) + tuple(walk(a) for a in n.args)
        if isinstance(n, ast.BinOp) and type(n.op) in _INFIX:
            return (_INFIX[type(n.op)], walk(n.left), walk(n.right))
        if isinstance(n, ast.Name):
            if n.id in args:
                return ("arg", args.index(n.id))
            return ("attr", n.id)
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float, bool)):
            return ("const", n.value)
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            if isinstance(n.operand, ast.Constant):
                return ("const", -n.operand.value)
            return ("negative", walk(n.operand))
        raise ValueError(f"element-wise expression {source!r}: cannot read {ast.dump(n)}")

    return walk(ast.parse(source.strip(), mode="eval").body)


def parse_assignments(source: str, inputs: tuple[str, ...]) -> tuple[tuple[int, tuple], ...]:
    r"""Parse lines ``name = expression`` run in order (a later line sees the values assigned
    before it) into one tree over `inputs` per assigned input: ``((input index, tree), ...)``
    in the order of their last assignment. Names assigned that are not inputs are local.

    >>> [(i, to_source(t)) for i, t in parse_assignments("m = m * 2\nw = w - m", ("w", "m"))]
    [(1, 'multiply(y, 2)'), (0, 'subtract(x, multiply(y, 2))')]
    """
    env: dict[str, tuple] = {name: ("arg", i) for i, name in enumerate(inputs)}
    order: list[str] = []
    for line in source.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        target, sep, expr = line.partition("=")
        target = target.strip()
        if not sep or not target.isidentifier():
            raise ValueError(f"element-wise assignments: expected `name = expression`, got "
                             f"{line!r}")
        names = tuple(env)
        tree = parse(expr, args=names)
        if _has_attr(tree):
            raise ValueError(f"element-wise assignments: {line!r} uses a name that is neither "
                             f"an input {list(inputs)} nor assigned before")
        env[target] = substitute(tree, [env[n] for n in names])
        if target in inputs:
            if target in order:
                order.remove(target)
            order.append(target)
    return tuple((inputs.index(n), env[n]) for n in order)


def _has_attr(tree: tuple) -> bool:
    if tree[0] == "attr":
        return True
    return tree[0] not in ("arg", "const") and any(_has_attr(c) for c in tree[1:])


def substitute(tree: tuple, args: list | tuple = (), attrs: dict | None = None) -> tuple:
    """Replace ``("arg", i)`` by ``args[i]`` (trees) and ``("attr", k)`` by constants."""
    kind = tree[0]
    if kind == "arg":
        return args[tree[1]] if args else tree
    if kind == "attr":
        if attrs is None or tree[1] not in attrs:
            return tree
        return ("const", attrs[tree[1]])
    if kind == "const":
        return tree
    return (kind,) + tuple(substitute(c, args, attrs) for c in tree[1:])


def calls(tree: tuple) -> int:
    """Number of scalar-function calls in the tree (shared subtrees counted once)."""
    seen: set = set()

    def walk(t: tuple) -> None:
        if t[0] in ("arg", "const", "attr", "val") or t in seen:
            return
        seen.add(t)
        for c in t[1:]:
            walk(c)

    walk(tree)
    return len(seen)


def to_source(tree: tuple) -> str:
    kind = tree[0]
    if kind == "arg":
        return ARG_NAMES[tree[1]] if tree[1] < 3 else f"a{tree[1]}"
    if kind == "const":
        return repr(tree[1])
    if kind == "attr":
        return tree[1]
    return f"{kind}({', '.join(to_source(c) for c in tree[1:])})"


# --- evaluating with an array module (eager kernels, constant folding, the fallback path) ----
def _erf(xp: Any, a: Any) -> Any:
    if xp is np:
        try:
            from scipy.special import erf as serf  # optional, exact
        except ImportError:
            serf = None
        if serf is not None:
            return serf(a).astype(a.dtype, copy=False)
        arr = np.asarray(a)
        if arr.dtype == np.float64:
            import math

            return np.vectorize(math.erf, otypes=[np.float64])(arr)
        # Abramowitz & Stegun 7.1.26 in float64, |error| < 1.5e-7: below float32's resolution.
        x = arr.astype(np.float64)
        s = np.sign(x)
        x = np.abs(x)
        t = 1.0 / (1.0 + 0.3275911 * x)
        y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t
                    - 0.284496736) * t + 0.254829592) * t * np.exp(-x * x)
        return (s * y).astype(arr.dtype)
    import cupyx.scipy.special as cps  # GPU path only

    return cps.erf(a)


_SPECIAL: dict[str, Callable] = {
    "erf": _erf,
    "where": lambda xp, c, a, b: xp.where(c, a, b),
}


def xp_function(xp: Any, fname: str) -> Callable:
    """The array module's callable for a scalar function: ``f(*arrays)``."""
    special = _SPECIAL.get(fname)
    if special is not None:
        return functools.partial(special, xp)
    return getattr(xp, fname)


def evaluate(tree: tuple, xp: Any, arrays: tuple, attrs: dict | None = None) -> Any:
    """Evaluate the tree on arrays with `xp`; identical subtrees are computed once."""
    memo: dict = {}

    def ev(t: tuple) -> Any:
        kind = t[0]
        if kind == "arg":
            return arrays[t[1]]
        if kind == "const":
            return t[1]
        if kind == "attr":
            return attrs[t[1]]  # type: ignore[index]
        r = memo.get(t)
        if r is None:
            r = memo[t] = xp_function(xp, kind)(*[ev(c) for c in t[1:]])
        return r

    return ev(tree)


def kernel(tree: tuple) -> Callable:
    """An op's `forward(xp, *arrays, **attrs)` generated from its expression: straight-line
    calls of the array module's functions (no tree walk per call)."""
    lines: list[str] = []
    names: dict[tuple, str] = {}
    g: dict[str, Any] = {"_special": _SPECIAL, "__name__": __name__}
    attr_names: list[str] = []

    def emit(t: tuple) -> str:
        kind = t[0]
        if kind == "arg":
            return f"a{t[1]}"
        if kind == "const":
            return repr(t[1])
        if kind == "attr":
            if t[1] not in attr_names:
                attr_names.append(t[1])
            return t[1]
        if t in names:
            return names[t]
        args = [emit(c) for c in t[1:]]
        name = f"t{len(names)}"
        fn = f"_special[{kind!r}](xp, " if kind in _SPECIAL else f"xp.{kind}("
        lines.append(f"    {name} = {fn}{', '.join(args)})")
        names[t] = name
        return name

    result = emit(tree)
    n_args = 1 + max([_max_arg(tree)] + [-1])
    params = ", ".join(["xp"] + [f"a{i}" for i in range(n_args)])
    kw = "".join(f", {a}" for a in attr_names)
    if tree[0] in ("arg", "const"):
        lines.append(f"    {result} = xp.asarray({result})")
    src = f"def forward({params}{', *' if kw else ''}{kw}):\n" + "\n".join(lines) + \
        f"\n    return {result}\n"
    exec(compile(src, f"<element-wise {to_source(tree)}>", "exec"), g)  # noqa: S102
    fwd = g["forward"]
    fwd.expression = tree
    return fwd


def _max_arg(tree: tuple) -> int:
    if tree[0] == "arg":
        return tree[1]
    if tree[0] in ("const", "attr"):
        return -1
    return max([-1] + [_max_arg(c) for c in tree[1:]])
