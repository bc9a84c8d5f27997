"""The AutoGraph source transformation: a function's AST rewritten so that `if`, `while` and
`for` statements call the runtime operators in `operators.py`.

The passes, in order, over one function (nested `def`s get their own run):

1. `return` inside `if`/`for`/`while`/`with`/`try` becomes `do_return = True; retval_ = value`
   with the statements after it guarded by `if not do_return:` (single exit).
2. `break`/`continue` become flags in the same way; a loop also stops when its flags say so.
3. Expressions: `and`/`or`/`not`, `a if c else b` and calls become `ag__` calls (calls so
   that user functions they reach are converted too, as TensorFlow does).
4. Loads of names the function assigns go through `ag__.ld`, which raises TensorFlow's
   messages for a name left undefined by a branch or a loop.
5. Each `if`/`while`/`for` becomes nested functions (branches, loop body, test) that share the
   function's variables through `nonlocal`, plus `get_state`/`set_state` functions, handed to
   `ag__.if_stmt`/`while_stmt`/`for_stmt`, which decide at run time between plain Python and
   `tf.cond`/`tf.while_loop` (only tensor conditions convert).
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterable

AG = "ag__"
_FRAME_BUILTINS = frozenset({"super", "locals", "globals", "vars", "eval", "exec", "dir"})


class NotConvertible(Exception):
    """The function uses something AutoGraph leaves alone (generators, async)."""


# --- small AST builders -------------------------------------------------------------------------

def _ag(attr: str) -> ast.expr:
    return ast.Attribute(value=ast.Name(AG, ast.Load()), attr=attr, ctx=ast.Load())


def _agcall(attr: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=_ag(attr), args=list(args), keywords=[])


def _load(name: str) -> ast.Name:
    return ast.Name(name, ast.Load())


def _store(name: str) -> ast.Name:
    return ast.Name(name, ast.Store())


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[_store(name)], value=value)


def _const(v: object) -> ast.Constant:
    return ast.Constant(v)


def _lambda(body: ast.expr) -> ast.Lambda:
    return ast.Lambda(args=_no_args(), body=body)


def _no_args(*names: str) -> ast.arguments:
    return ast.arguments(posonlyargs=[], args=[ast.arg(n) for n in names], vararg=None,
                         kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])


def _def(name: str, params: list[str], body: list[ast.stmt]) -> ast.FunctionDef:
    node = ast.FunctionDef(name=name, args=_no_args(*params), body=body or [ast.Pass()],
                           decorator_list=[], returns=None)
    if "type_params" in ast.FunctionDef._fields:  # Python 3.12+
        node.type_params = []
    return node


def _is_ag_call(node: ast.AST) -> bool:
    f = node.func if isinstance(node, ast.Call) else None
    return (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
            and f.value.id == AG)


# --- scope-aware walks ----------------------------------------------------------------------

_NEW_SCOPE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
              ast.SetComp, ast.DictComp, ast.GeneratorExp)
_LOOPS = (ast.For, ast.While, ast.AsyncFor)


def _walk_local(nodes: Iterable[ast.AST], into_loops: bool = True) -> Iterable[ast.AST]:
    """Nodes of these statements in the same function scope (nested scopes not entered;
    nested loops entered unless `into_loops` is False)."""
    stack = list(nodes)[::-1]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _NEW_SCOPE):
            continue
        if not into_loops and isinstance(node, _LOOPS):
            continue
        stack.extend(list(ast.iter_child_nodes(node))[::-1])


def assigned_names(stmts: Iterable[ast.AST]) -> set[str]:
    """Names bound by these statements in their own scope."""
    out: set[str] = set()
    for node in _walk_local(stmts):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            out.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                out.add((a.asname or a.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.add(node.name)
    # the top-level nodes themselves may be scopes (a def): their bodies were not entered
    return out


def _contains(stmts: Iterable[ast.AST], kinds: tuple, into_loops: bool) -> bool:
    return any(isinstance(n, kinds) for n in _walk_local(stmts, into_loops=into_loops)
               if not isinstance(n, _NEW_SCOPE) or isinstance(n, kinds))


def _declared(fn: ast.FunctionDef, kind: type) -> set[str]:
    out: set[str] = set()
    for node in _walk_local(fn.body):
        if isinstance(node, kind):
            out.update(node.names)
    return out


# --- passes 1 and 2: single exit for return, flags for break/continue -------------------------

def _always_returns(stmts: list[ast.stmt]) -> bool:
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    if isinstance(last, ast.If):
        return _always_returns(last.body) and _always_returns(last.orelse)
    return False


class _Lowering:
    """Rewrites a jump statement kind into a flag assignment plus guarded continuations."""

    def __init__(self, fresh: itertools.count) -> None:
        self.fresh = fresh

    def guard(self, stmts: list[ast.stmt], kinds: tuple, flag: str, into_loops: bool,
              replace: object) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for i, s in enumerate(stmts):
            rest = stmts[i + 1:]
            if isinstance(s, kinds):
                out.extend(replace(s))
                return out  # what follows a jump never runs
            if not _contains([s], kinds, into_loops):
                out.append(s)
                continue
            if (isinstance(s, ast.If) and not s.orelse and rest and kinds == (ast.Return,)
                    and _always_returns(s.body)):
                # `if c: return a` + rest  ==  `if c: return a` else: rest (no guard needed)
                s.orelse, rest = rest, []
            self._guard_inside(s, kinds, flag, into_loops, replace)
            out.append(s)
            if rest:
                out.append(ast.If(test=_agcall("not_", _load(flag)),
                                  body=self.guard(rest, kinds, flag, into_loops, replace),
                                  orelse=[]))
            return out
        return out

    def _guard_inside(self, s: ast.stmt, kinds: tuple, flag: str, into_loops: bool,
                      replace: object) -> None:
        if isinstance(s, _LOOPS):
            s.body = self.guard(s.body, kinds, flag, into_loops, replace)
            getattr(s, "_ag_flags", None) or setattr(s, "_ag_flags", [])
            s._ag_flags.append(flag)  # type: ignore[attr-defined]
            return
        for field in ("body", "orelse", "finalbody"):
            block = getattr(s, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(s, field, self.guard(block, kinds, flag, into_loops, replace))
        for h in getattr(s, "handlers", []) or []:
            h.body = self.guard(h.body, kinds, flag, into_loops, replace)
        for c in getattr(s, "cases", []) or []:
            c.body = self.guard(c.body, kinds, flag, into_loops, replace)

    def returns(self, body: list[ast.stmt]) -> list[ast.stmt]:
        nested = any(isinstance(n, ast.Return) for s in body if not isinstance(s, ast.Return)
                     for n in _walk_local([s]))
        if not nested:
            return body

        def replace(r: ast.Return) -> list[ast.stmt]:
            return [_assign("do_return", _const(True)),
                    _assign("retval_", r.value if r.value is not None else _const(None))]

        new = self.guard(body, (ast.Return,), "do_return", True, replace)
        return ([_assign("do_return", _const(False)),
                 _assign("retval_", _agcall("UndefinedReturnValue"))] + new
                + [ast.Return(value=_agcall("retval", _load("retval_")))])

    def loops(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in stmts:
            if isinstance(s, (ast.For, ast.While)):
                out.extend(self._loop(s))
                continue
            if not isinstance(s, _NEW_SCOPE):
                for field in ("body", "orelse", "finalbody"):
                    block = getattr(s, field, None)
                    if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                        setattr(s, field, self.loops(block))
                for h in getattr(s, "handlers", []) or []:
                    h.body = self.loops(h.body)
            out.append(s)
        return out

    def _loop(self, loop: ast.For | ast.While) -> list[ast.stmt]:
        loop.body = self.loops(loop.body)
        n = next(self.fresh)
        pre: list[ast.stmt] = []
        post: list[ast.stmt] = []
        if _contains(loop.body, (ast.Break,), into_loops=False):
            flag = f"break_{n}"
            loop.body = self.guard(loop.body, (ast.Break,), flag, False,
                                   lambda _s: [_assign(flag, _const(True))])
            pre.append(_assign(flag, _const(False)))
            flags = getattr(loop, "_ag_flags", [])
            loop._ag_flags = flags + [flag]  # type: ignore[attr-defined]
            if loop.orelse:
                post.append(ast.If(test=_agcall("not_", _load(flag)), body=loop.orelse,
                                   orelse=[]))
        else:
            post.extend(loop.orelse)
        loop.orelse = []
        if _contains(loop.body, (ast.Continue,), into_loops=False):
            flag = f"continue_{n}"
            loop.body = [_assign(flag, _const(False))] + self.guard(
                loop.body, (ast.Continue,), flag, False,
                lambda _s: [_assign(flag, _const(True))])
        return pre + [loop] + post


# --- pass 3: expressions ------------------------------------------------------------------------

class _Expressions(ast.NodeTransformer):
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return node  # converted on its own

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]
    visit_ClassDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        fn = "and_" if isinstance(node.op, ast.And) else "or_"
        expr = node.values[-1]
        for v in reversed(node.values[:-1]):
            expr = _agcall(fn, _lambda(v), _lambda(expr))
        return expr

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return _agcall("not_", node.operand)
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        return _agcall("if_exp", node.test, _lambda(node.body), _lambda(node.orelse))

    def visit_For(self, node: ast.For) -> ast.AST:
        it = node.iter
        is_range = isinstance(it, ast.Call) and (
            (isinstance(it.func, ast.Name) and it.func.id == "range")
            or (isinstance(it.func, ast.Attribute) and it.func.attr == "range"))
        self.generic_visit(node)
        if is_range and isinstance(node.iter, ast.Call):
            # the call was turned into converted_call(range, args, kwargs): make it lazy, so
            # that a range over traced bounds becomes a counted tf.while_loop
            node.iter.func = _ag("range_")
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        f = node.func
        if _is_ag_call(node) or (isinstance(f, ast.Name) and f.id in _FRAME_BUILTINS):
            return node
        args = ast.Tuple(elts=list(node.args), ctx=ast.Load())
        keys: list = []
        vals: list = []
        for kw in node.keywords:
            keys.append(None if kw.arg is None else _const(kw.arg))
            vals.append(kw.value)
        kwargs = ast.Dict(keys=keys, values=vals)
        return ast.Call(func=_ag("converted_call"), args=[f, args, kwargs], keywords=[])


# --- pass 4: checked loads ----------------------------------------------------------------------

class _Loads(ast.NodeTransformer):
    def __init__(self, names: set[str]) -> None:
        self.names = names

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]
    visit_ClassDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.id in self.names:
            return ast.Call(func=_ag("ld"), args=[node], keywords=[])
        return node


# --- pass 5: control flow -----------------------------------------------------------------------

class FunctionConverter:
    """Converts one parsed function definition in place (and the `def`s nested in it)."""

    def __init__(self) -> None:
        self.fresh = itertools.count(1)

    def convert(self, fn: ast.FunctionDef) -> ast.FunctionDef:
        for node in _walk_local(fn.body):
            if isinstance(node, (ast.Yield, ast.YieldFrom, ast.Await)):
                raise NotConvertible("generator or coroutine")
        if isinstance(fn, ast.AsyncFunctionDef):
            raise NotConvertible("coroutine")
        low = _Lowering(self.fresh)
        fn.body = low.loops(low.returns(fn.body))
        fn.body = [_Expressions().visit(s) for s in fn.body]
        self.globals = _declared(fn, ast.Global)
        local = assigned_names(fn.body) - self.globals
        fn.body = [_Loads(local).visit(s) for s in fn.body]
        fn.body = self._stmts(fn.body)
        return fn

    def _stmts(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in stmts:
            if isinstance(s, ast.If):
                names = self._state(s.body + s.orelse)  # before nested statements convert
                s.body, s.orelse = self._stmts(s.body), self._stmts(s.orelse)
                out.extend(self._if(s, names))
            elif isinstance(s, ast.While):
                names = self._state(s.body)
                s.body = self._stmts(s.body)
                out.extend(self._while(s, names))
            elif isinstance(s, ast.For):
                names = self._state([ast.Assign(targets=[s.target], value=_const(0))] + s.body)
                s.body = self._stmts(s.body)
                out.extend(self._for(s, names))
            elif isinstance(s, (ast.FunctionDef,)):
                saved = self.globals
                try:
                    out.append(FunctionConverter().convert(s))
                except NotConvertible:
                    out.append(s)
                self.globals = saved
            else:
                if not isinstance(s, _NEW_SCOPE):
                    for field in ("body", "orelse", "finalbody"):
                        block = getattr(s, field, None)
                        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                            setattr(s, field, self._stmts(block))
                    for h in getattr(s, "handlers", []) or []:
                        h.body = self._stmts(h.body)
                out.append(s)
        return out

    # shared pieces
    def _state(self, stmts: list[ast.AST]) -> list[str]:
        return sorted(assigned_names(stmts) - self.globals)

    def _scope_decls(self, names: list[str], used: list[ast.stmt]) -> list[ast.stmt]:
        decls: list[ast.stmt] = []
        if names:
            decls.append(ast.Nonlocal(names=list(names)))
        g = sorted(self.globals & assigned_names(used))
        if g:
            decls.append(ast.Global(names=g))
        return decls

    def _init(self, names: list[str]) -> list[ast.stmt]:
        """`try: x / except NameError: x = ag__.Undefined('x')` for each name: binds every
        state name in this scope, which `nonlocal` in the nested functions needs."""
        out: list[ast.stmt] = []
        for n in names:
            out.append(ast.Try(
                body=[ast.Expr(_load(n))],
                handlers=[ast.ExceptHandler(type=_load("NameError"), name=None,
                                            body=[_assign(n, _agcall("Undefined", _const(n)))])],
                orelse=[], finalbody=[]))
        return out

    def _state_fns(self, k: int, names: list[str]) -> tuple[list[ast.stmt], list[ast.expr]]:
        get = _def(f"get_state_{k}", [], [ast.Return(ast.Tuple(
            elts=[_load(n) for n in names], ctx=ast.Load()))])
        body: list[ast.stmt] = []
        if names:
            body = [ast.Nonlocal(names=list(names)),
                    ast.Assign(targets=[ast.Tuple(elts=[_store(n) for n in names],
                                                  ctx=ast.Store())],
                               value=_load("vars_"))]
        setter = _def(f"set_state_{k}", ["vars_"], body)
        names_t = ast.Tuple(elts=[_const(n) for n in names], ctx=ast.Load())
        return [get, setter], [_load(f"get_state_{k}"), _load(f"set_state_{k}"), names_t]

    def _if(self, s: ast.If, names: list[str]) -> list[ast.stmt]:
        k = next(self.fresh)
        body = _def(f"if_body_{k}", [], self._scope_decls(names, s.body) + s.body)
        orelse = _def(f"else_body_{k}", [], self._scope_decls(names, s.orelse) + s.orelse)
        fns, state_args = self._state_fns(k, names)
        call = ast.Expr(_agcall("if_stmt", s.test, _load(body.name), _load(orelse.name),
                                *state_args))
        return self._init(names) + fns + [body, orelse, call]

    def _extra_test(self, loop: ast.AST) -> ast.expr | None:
        flags = getattr(loop, "_ag_flags", [])
        if not flags:
            return None
        expr: ast.expr = _agcall("not_", _load(flags[-1]))
        for f in reversed(flags[:-1]):
            expr = _agcall("and_", _lambda(_agcall("not_", _load(f))), _lambda(expr))
        return expr

    def _while(self, s: ast.While, names: list[str]) -> list[ast.stmt]:
        k = next(self.fresh)
        test = s.test
        extra = self._extra_test(s)
        if extra is not None:
            test = _agcall("and_", _lambda(extra), _lambda(test))
        test_fn = _def(f"loop_test_{k}", [], [ast.Return(test)])
        body = _def(f"loop_body_{k}", [], self._scope_decls(names, s.body) + s.body)
        fns, state_args = self._state_fns(k, names)
        call = ast.Expr(_agcall("while_stmt", _load(test_fn.name), _load(body.name),
                                *state_args))
        return self._init(names) + fns + [test_fn, body, call]

    def _for(self, s: ast.For, names: list[str]) -> list[ast.stmt]:
        k = next(self.fresh)
        target_assign = ast.Assign(targets=[s.target], value=_load(f"itr_{k}"))
        body_stmts = [target_assign] + s.body
        body = _def(f"loop_body_{k}", [f"itr_{k}"],
                    self._scope_decls(names, body_stmts) + body_stmts)
        extra = self._extra_test(s)
        out: list[ast.stmt] = []
        extra_ref: ast.expr = _const(None)
        if extra is not None:
            out.append(_def(f"extra_test_{k}", [], [ast.Return(extra)]))
            extra_ref = _load(f"extra_test_{k}")
        fns, state_args = self._state_fns(k, names)
        call = ast.Expr(_agcall("for_stmt", s.iter, extra_ref, _load(body.name), *state_args))
        return self._init(names) + fns + out + [body, call]
