"""What converted code calls (`ag__.*`): control flow that stays Python for Python values and
becomes `tf.cond` / `tf.while_loop` for tensors whose value is not known (traced by
`ndflow.function`, or symbolic while a Keras model is built)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import threading

import numpy as np

from ndflow.core import dispatch
from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.core.variable import Variable
from ndflow.errors import InvalidArgumentError
from ndflow.util import nest

__all__ = ["Undefined", "UndefinedReturnValue", "and_", "for_stmt", "if_exp", "if_stmt", "ld",
           "not_", "or_", "range_", "retval", "while_stmt"]

_loops = threading.local()  # depth of tensor loops whose bodies are being traced


class _InLoop:
    def __enter__(self) -> None:
        _loops.depth = getattr(_loops, "depth", 0) + 1

    def __exit__(self, *exc: Any) -> None:
        _loops.depth -= 1


# --- undefined values ---------------------------------------------------------------------------


class Undefined:
    """The value of a name that has no value yet where converted code reads it."""

    __slots__ = ("symbol_name", "message", "error")

    def __init__(self, symbol_name: str, message: str | None = None,
                 error: type = UnboundLocalError) -> None:
        self.symbol_name = symbol_name
        self.message = message or (f"local variable '{symbol_name}' referenced before "
                                   "assignment")
        self.error = error

    def raise_error(self) -> None:
        raise self.error(self.message)

    def __repr__(self) -> str:
        return f"Undefined({self.symbol_name!r})"


class UndefinedReturnValue(Undefined):
    """`retval_` before any `return` ran: the function returns None (Python's rule)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__("retval_", message, ValueError)


def ld(value: Any) -> Any:
    """A checked read of a name that converted control flow may have left undefined."""
    if isinstance(value, Undefined):
        value.raise_error()
    return value


def retval(value: Any) -> Any:
    if isinstance(value, Undefined):
        if type(value) is UndefinedReturnValue and value.message == UndefinedReturnValue(
                ).message:
            return None
        value.raise_error()
    return value


# --- tensors whose value is unknown -------------------------------------------------------------

def _in_trace() -> bool:
    return dispatch.trace_hook is not None


def is_dynamic(x: Any) -> bool:
    """True for a tensor whose value Python cannot see now (traced or symbolic)."""
    if isinstance(x, Variable):
        return _in_trace()
    return isinstance(x, Tensor) and x._symbolic


def _is_traced(x: Any) -> bool:
    return isinstance(x, Tensor) and x._traced


def _as_pred(x: Any, what: str) -> Tensor:
    t = convert_to_tensor(x) if not isinstance(x, Tensor) or isinstance(x, Variable) else x
    if isinstance(x, Variable):
        from ndflow.ops.array import identity

        t = identity(x)
    if t.shape.rank is not None and t.shape.num_elements() not in (1, None):
        raise InvalidArgumentError(
            f"{what}: the condition must be a scalar boolean tensor, got shape "
            f"{list(t.shape)}; reduce it first (tf.reduce_all / tf.reduce_any)")
    if t.dtype.name != "bool":
        from ndflow.ops.math import cast

        t = cast(t, "bool")
    if t.shape.rank:
        from ndflow.ops.shape_ops import reshape

        t = reshape(t, [])
    return t


# --- boolean operators --------------------------------------------------------------------------

def not_(x: Any) -> Any:
    if is_dynamic(x):
        from ndflow.ops.math import logical_not

        return logical_not(_as_pred(x, "not"))
    return not x


def and_(a: Callable, b: Callable) -> Any:
    x = a()
    if is_dynamic(x):
        from ndflow.ops.math import logical_and

        return logical_and(_as_pred(x, "and"), _as_pred(b(), "and"))
    if not x:
        return x
    y = b()
    return _as_pred(y, "and") if is_dynamic(y) else y


def or_(a: Callable, b: Callable) -> Any:
    x = a()
    if is_dynamic(x):
        from ndflow.ops.math import logical_or

        return logical_or(_as_pred(x, "or"), _as_pred(b(), "or"))
    if x:
        return x
    y = b()
    return _as_pred(y, "or") if is_dynamic(y) else y


def if_exp(cond: Any, if_true: Callable, if_false: Callable) -> Any:
    if is_dynamic(cond):
        return _select(_as_pred(cond, "if expression"), if_true, if_false)
    return if_true() if cond else if_false()


# --- if -----------------------------------------------------------------------------------------

def _select(pred: Tensor, true_fn: Callable, false_fn: Callable) -> Any:
    """tf.cond for traced predicates; `where` over both branches for symbolic ones."""
    if _is_traced(pred):
        from ndflow.graph.control_flow import cond

        return cond(pred, true_fn, false_fn)
    from ndflow.ops.math import where
    from ndflow.ops.shape_ops import reshape

    t_out, f_out = true_fn(), false_fn()
    t_leaves, f_leaves = nest.flatten(t_out), nest.flatten(f_out)
    out = []
    for a, b in zip(t_leaves, f_leaves):
        a = convert_to_tensor(a)
        b = convert_to_tensor(b, dtype=a.dtype) if not isinstance(b, Tensor) else b
        out.append(where(reshape(pred, [1] * len(a.shape)), a, b))
    return nest.pack_sequence_as(t_out, out)


def if_stmt(cond: Any, body: Callable, orelse: Callable, get_state: Callable,
            set_state: Callable, names: tuple) -> None:
    """`if cond: body() else: orelse()`, as tf.cond when `cond` is a tensor without a value."""
    if not is_dynamic(cond):
        if cond:
            body()
        else:
            orelse()
        return
    pred = _as_pred(cond, "if statement")
    init = get_state()
    if _is_traced(pred) and _has_side_effects(
            pred, body, orelse, get_state, set_state, names, init):
        _if_by_loops(pred, body, orelse, get_state, set_state, names)
        return
    seen: dict[str, tuple] = {}
    emitted: list[list] = []  # the true branch's leaves, per name
    merge: list[bool] = []

    def run_true() -> list:
        set_state(init)
        body()
        vals = seen["true"] = get_state()
        for v in vals:
            emitted.append(_leaves(v) if _tensorlike_struct(v) else [np.int32(0)])
        return [x for e in emitted for x in e]

    def run_false() -> list:
        set_state(init)
        orelse()
        vals = seen["false"] = get_state()
        out: list = []
        for t, f, e in zip(seen["true"], vals, emitted):
            m = (_tensorlike_struct(t) and _tensorlike_struct(f)
                 and _same_structure(t, f) and not _same_python(t, f))
            merge.append(m)
            out.extend(_leaves(f) if m else e)
        return out

    flat = _select(pred, run_true, run_false)
    set_state(init)
    flat = list(flat) if isinstance(flat, (list, tuple)) else [flat]
    out = []
    pos = 0
    for name, t, f, e, m in zip(names, seen["true"], seen["false"], emitted, merge):
        merged = flat[pos:pos + len(e)]
        pos += len(e)
        if m:
            out.append(nest.pack_sequence_as(t, merged) if nest.is_nested(t) else merged[0])
        elif isinstance(t, Undefined) or isinstance(f, Undefined):
            out.append(_undefined_after_if(name, t, f))
            if (name == "retval_" and getattr(_loops, "depth", 0)
                    and (_tensorlike_struct(t) or _tensorlike_struct(f))):
                # the return value only counts where do_return is set: the other branch's
                # value may be anything of the same type (TensorFlow uses a placeholder)
                out[-1] = t if _tensorlike_struct(t) else f
        elif t is f or _same_python(t, f):
            out.append(t)
        elif _tensorlike_struct(t) and _tensorlike_struct(f):
            raise ValueError(f"'{name}' must have the same nested structure in the main and "
                             f"else branches of a tensor condition; got {t!r} and {f!r}")
        else:
            raise ValueError(
                f"'{name}' is a Python value ({type(t).__name__} and {type(f).__name__}) that "
                "the branches of a tensor condition set differently; only tensors (and Python "
                "numbers, which become tensors) can differ between the branches of tf.cond")
    set_state(tuple(out))


_SIDE_EFFECT_MESSAGE = "cond: inside ndflow.function, a branch with side effects"


def _has_side_effects(pred: Tensor, body: Callable, orelse: Callable, get_state: Callable,
                      set_state: Callable, names: tuple, init: tuple) -> bool:
    """Whether a branch assigns, prints or updates state: tried once in a throwaway trace,
    where `tf.cond` (which selects between both branches' values) refuses such branches."""
    from ndflow.graph.control_flow import cond
    from ndflow.graph.trace import Function

    found = []

    def branch(fn: Callable) -> Callable:
        def run() -> list:
            set_state(init)
            fn()
            return [convert_to_tensor(0)]
        return run

    def dry() -> tuple:
        try:
            cond(pred, branch(body), branch(orelse))
        except InvalidArgumentError as e:
            if str(e).startswith(_SIDE_EFFECT_MESSAGE):
                found.append(True)
                return ()
            raise
        return ()

    try:
        with dispatch.tapes_paused():  # a throwaway trace: nothing in it is differentiated
            Function(dry, name="autograph_if_probe").get_concrete_function()
    except Exception:
        found.clear()  # the branches fail on their own: the real trace reports it
    finally:
        set_state(init)
    return bool(found)


def _if_by_loops(pred: Tensor, body: Callable, orelse: Callable, get_state: Callable,
                 set_state: Callable, names: tuple) -> None:
    """An `if` whose branches have side effects: each branch is a loop that runs at most once
    (when its predicate holds), so only the taken branch's effects happen."""
    from ndflow.ops.math import logical_not

    for fn, p in ((body, pred), (orelse, logical_not(pred))):
        _once(p, fn, get_state, set_state, names)


def _once(p: Tensor, fn: Callable, get_state: Callable, set_state: Callable,
          names: tuple) -> None:
    from ndflow.ops.math import logical_and, logical_not

    state = _LoopState(get_state(), names)
    if any(isinstance(v, Undefined) for v in state.init):
        def step(flat: list) -> None:
            set_state(state.rebuild(flat[1:]))
            fn()

        state = _LoopState(state.init, names, _auto_init(
            state.init, set_state, get_state, [convert_to_tensor(False)] + state.flat0, step))
    set_state(state.rebuild(state.flat0))
    flat0 = state.flat0

    def cond_fn(done: Any, *flat: Any) -> Any:
        return logical_and(p, logical_not(done))

    def body_fn(done: Any, *flat: Any) -> tuple:
        set_state(state.rebuild(list(flat)))
        fn()
        out = state.flatten(get_state())
        out = tuple(convert_to_tensor(o, dtype=f.dtype) if not isinstance(o, Tensor) else o
                    for o, f in zip(out, flat0))
        return (logical_not(done),) + out

    outs = _while_loop(cond_fn, body_fn, [convert_to_tensor(False)] + list(flat0))
    set_state(state.finish(outs[1:]))


def _undefined_after_if(name: str, t: Any, f: Any) -> Undefined:
    if isinstance(t, Undefined) and isinstance(f, Undefined):
        return t
    branch = "if" if isinstance(t, Undefined) else "else"
    if name == "retval_":
        return UndefinedReturnValue(
            f"A value must also be returned from the {branch} branch. If a value is returned "
            "from one branch of a conditional a value must be returned from all branches.")
    return Undefined(name, f"'{name}' must also be initialized in the {branch} branch",
                     ValueError)


def _leaves(v: Any) -> list:
    return nest.flatten(v) if nest.is_nested(v) else [v]


def _tensorlike_struct(v: Any) -> bool:
    if isinstance(v, (Undefined, str, bytes, Variable)):
        return False
    leaves = _leaves(v)
    return bool(leaves) and all(
        isinstance(x, (Tensor, np.ndarray, np.generic, int, float, bool))
        and not isinstance(x, Variable) for x in leaves)


def _same_structure(a: Any, b: Any) -> bool:
    if nest.is_nested(a) != nest.is_nested(b):
        return False
    if not nest.is_nested(a):
        return True
    try:
        nest.assert_same_structure(a, b, check_types=False)
    except (ValueError, TypeError):
        return False
    return True


def _same_python(a: Any, b: Any) -> bool:
    """Equal plain Python values (no tensors): they stay Python after the statement."""
    if any(isinstance(x, (Tensor, np.ndarray)) for x in _leaves(a) + _leaves(b)):
        return False
    try:
        return bool(a == b)
    except Exception:
        return False


# --- loops --------------------------------------------------------------------------------------

class _LoopState:
    """Splits a loop's variables into tensor loop variables and the rest (Python objects that
    must stay the same, and names first set inside the body)."""

    def __init__(self, init: tuple, names: tuple, auto: dict | None = None) -> None:
        self.names = names
        self.init = init
        self.auto = auto or {}  # undefined at entry, typed by a dry run: zeros placeholders
        if self.auto:
            init = tuple(self.auto.get(i, v) for i, v in enumerate(init))
        self.carried: list[int] = []
        self.structs: dict[int, Any] = {}
        for i, v in enumerate(init):
            if isinstance(v, Undefined):
                continue
            if _tensorlike_struct(v) or isinstance(v, Variable):
                if isinstance(v, Variable):
                    continue  # a variable is state already: read and assigned in the body
                self.carried.append(i)
                self.structs[i] = v
        self.flat0 = [convert_to_tensor(x) for i in self.carried for x in _leaves(self.structs[i])]

    def rebuild(self, flat: list) -> tuple:
        vals = list(self.init)
        pos = 0
        for i in self.carried:
            s = self.structs[i]
            n = len(_leaves(s))
            vals[i] = nest.pack_sequence_as(s, list(flat[pos:pos + n])) if nest.is_nested(
                s) else flat[pos]
            pos += n
        return tuple(vals)

    def flatten(self, vals: tuple) -> list:
        out = []
        for i in self.carried:
            v = vals[i]
            s = self.structs[i]
            name = self.names[i]
            if not _tensorlike_struct(v) or not _same_structure(v, s):
                raise ValueError(f"'{name}' must keep the same nested structure of tensors "
                                 f"in a loop over tensors; it entered as {s!r} and the body "
                                 f"left {v!r}")
            out.extend(_leaves(v))
        for i, v in enumerate(vals):
            if i in self.structs or isinstance(self.init[i], Undefined):
                continue
            if isinstance(v, Undefined):
                v = self.init[i]
            if v is not self.init[i] and not isinstance(self.init[i], Variable):
                raise ValueError(
                    f"'{self.names[i]}' is a Python {type(self.init[i]).__name__} that a loop "
                    "over tensors changes; only tensors (and Python numbers, which become "
                    "tensors) can be loop variables of tf.while_loop")
        return out

    def finish(self, flat: list) -> tuple:
        vals = list(self.rebuild(flat))
        for i, v in enumerate(self.init):
            if isinstance(v, Undefined) and i not in self.auto:
                vals[i] = Undefined(self.names[i], f"'{self.names[i]}' must be defined before "
                                                   "the loop.", ValueError)
        return tuple(vals)


def _auto_init(init: tuple, set_state: Callable, get_state: Callable, loop_vars: list,
               step: Callable) -> dict:
    """Names undefined before a loop that its body defines as tensors: their types come from
    one dry trace of the body (discarded), and they start as zeros, as in TensorFlow."""
    undefined = [i for i, v in enumerate(init) if isinstance(v, Undefined)]
    if not undefined:
        return {}
    from ndflow.graph.trace import Function
    found: dict = {}

    def zeros(shape: tuple, dtype: Any) -> Tensor:
        return Tensor(np.zeros(shape, dtype.as_numpy_dtype))

    def dry(*flat: Any) -> tuple:
        step(list(flat))
        vals = get_state()
        for i in undefined:
            v = vals[i]
            if _tensorlike_struct(v):
                found[i] = nest.map_structure(
                    lambda t: zeros(tuple(convert_to_tensor(t).shape),
                                    convert_to_tensor(t).dtype), v)
        return ()

    specs = [np.zeros(tuple(t.shape), t.dtype.as_numpy_dtype) for t in loop_vars]
    try:
        with _InLoop(), dispatch.tapes_paused():
            Function(dry, name="autograph_loop_types").get_concrete_function(*specs)
    finally:
        set_state(init)
    return found


def _tf_while(test: Callable, body: Callable, get_state: Callable, set_state: Callable,
              names: tuple, max_iter: int | None = None) -> None:
    state = _LoopState(get_state(), names)
    if any(isinstance(v, Undefined) for v in state.init):
        def step(flat: list) -> None:
            set_state(state.rebuild(flat))
            body()

        state = _LoopState(state.init, names,
                           _auto_init(state.init, set_state, get_state, state.flat0, step))
    set_state(state.rebuild(state.flat0))

    def cond_fn(*flat: Any) -> Any:
        set_state(state.rebuild(list(flat)))
        return _as_pred(test(), "while statement")

    def body_fn(*flat: Any) -> tuple:
        set_state(state.rebuild(list(flat)))
        body()
        out = state.flatten(get_state())
        return tuple(convert_to_tensor(o, dtype=f.dtype) if not isinstance(o, Tensor) else o
                     for o, f in zip(out, state.flat0))

    outs = _while_loop(cond_fn, body_fn, list(state.flat0), max_iter)
    set_state(state.finish(outs))


def _while_loop(cond_fn: Callable, body_fn: Callable, loop_vars: list,
                max_iter: int | None = None) -> list:
    """tf.while_loop over a flat list of tensors; a loop that carries none (it only assigns
    or prints) carries a counter, as tf.while_loop needs a loop variable."""
    from ndflow.graph.control_flow import while_loop
    from ndflow.ops.math import add

    pad = 0 if loop_vars else 1
    counters = [convert_to_tensor(0) for _ in range(pad)]

    def c(*vs: Any) -> Any:
        return cond_fn(*vs[pad:])

    def b(*vs: Any) -> tuple:
        return tuple(add(v, 1) for v in vs[:pad]) + tuple(body_fn(*vs[pad:]))

    with _InLoop():
        outs = while_loop(c, b, counters + list(loop_vars), maximum_iterations=max_iter)
    # a loop run only for its effects (assign, print) is a stateful op: the compiler keeps it
    return list(outs)[pad:]


def while_stmt(test: Callable, body: Callable, get_state: Callable, set_state: Callable,
               names: tuple) -> None:
    """`while test(): body()`, as tf.while_loop once the test is a tensor without a value."""
    while True:
        c = test()
        if is_dynamic(c):
            if not _is_traced(c):
                raise InvalidArgumentError(
                    "while statement: the loop condition is a symbolic tensor (a Keras model "
                    "being built); loops over symbolic values are not supported: use a "
                    "Python count or keras.ops.while_loop inside a compiled function")
            _tf_while(test, body, get_state, set_state, names)
            return
        if not c:
            return
        body()


class _DynamicRange:
    """`range`/`tf.range` over bounds traced by `ndflow.function`: a counted tf.while_loop."""

    def __init__(self, start: Any, limit: Any, delta: Any, dtype: Any) -> None:
        self.start, self.limit, self.delta, self.dtype = start, limit, delta, dtype


def range_(fn: Any, args: tuple, kwargs: dict) -> Any:
    """The iterable of `for x in range(...)` / `tf.range(...)`: lazy when a bound is traced."""
    from ndflow.autograph.conversion import converted_call

    leaves = list(args) + list(kwargs.values())
    if not any(is_dynamic(a) for a in leaves):
        return converted_call(fn, args, kwargs)
    names = ["start", "limit", "delta"]
    bound = dict(zip(names, args))
    bound.update({k: v for k, v in kwargs.items() if k in names})
    if "limit" not in bound:
        bound["start"], bound["limit"] = 0, bound["start"]
    dtype = kwargs.get("dtype")
    start = convert_to_tensor(bound.get("start", 0), dtype=dtype)
    limit = convert_to_tensor(bound["limit"], dtype=dtype or start.dtype)
    delta = convert_to_tensor(bound.get("delta", 1), dtype=dtype or start.dtype)
    from ndflow.ops.math import cast

    dt = start.dtype if start.dtype == limit.dtype else limit.dtype
    return _DynamicRange(cast(start, dt), cast(limit, dt), cast(delta, dt), dt)


def for_stmt(iterable: Any, extra_test: Callable | None, body: Callable, get_state: Callable,
             set_state: Callable, names: tuple) -> None:
    """`for x in iterable: body(x)`; over a traced range or (with no tape recording) a
    tensor inside `ndflow.function` it becomes tf.while_loop, else a Python loop."""
    if isinstance(iterable, _DynamicRange):
        _for_range(iterable, extra_test, body, get_state, set_state, names)
        return
    if isinstance(iterable, Tensor) and _in_trace() and not dispatch.current_tapes():
        if iterable.shape.rank == 0:
            raise TypeError("for statement: cannot iterate over a scalar tensor")
        if not isinstance(iterable, Variable) and iterable._symbolic and not _is_traced(
                iterable):
            raise InvalidArgumentError(
                "for statement: cannot iterate over a symbolic tensor (a Keras model being "
                "built); use keras.ops.scan/fori_loop or a layer that loops")
        n = iterable.shape[0]
        if n is not None:
            _for_tensor(iterable, int(n), extra_test, body, get_state, set_state, names)
            return
    for x in iterable:
        if extra_test is not None:
            ok = extra_test()
            if not is_dynamic(ok) and not ok:
                break
        body(x)


def _counted_loop(n_or_range: Any, item: Callable, extra_test: Callable | None,
                  body: Callable, get_state: Callable, set_state: Callable, names: tuple,
                  start: Any, limit_test: Callable, delta: Any) -> None:
    from ndflow.ops.math import add, logical_and

    state = _LoopState(get_state(), names)
    if any(isinstance(v, Undefined) for v in state.init):
        def step(flat: list) -> None:
            set_state(state.rebuild(flat[1:]))
            body(item(flat[0]))

        state = _LoopState(state.init, names, _auto_init(
            state.init, set_state, get_state, [convert_to_tensor(start)] + state.flat0, step))
    set_state(state.rebuild(state.flat0))
    flat0 = state.flat0

    def cond_fn(i: Any, *flat: Any) -> Any:
        c = limit_test(i)
        if extra_test is not None:
            set_state(state.rebuild(list(flat)))
            c = logical_and(c, _as_pred(extra_test(), "for statement"))
        return c

    def body_fn(i: Any, *flat: Any) -> tuple:
        set_state(state.rebuild(list(flat)))
        body(item(i))
        out = state.flatten(get_state())
        out = tuple(convert_to_tensor(o, dtype=f.dtype) if not isinstance(o, Tensor) else o
                    for o, f in zip(out, flat0))
        return (add(i, delta),) + out

    outs = _while_loop(cond_fn, body_fn, [convert_to_tensor(start)] + list(flat0))
    set_state(state.finish(outs[1:]))


def _for_tensor(xs: Tensor, n: int, extra_test: Callable | None, body: Callable,
                get_state: Callable, set_state: Callable, names: tuple) -> None:
    from ndflow.ops.array import gather
    from ndflow.ops.math import less

    if isinstance(xs, Variable):
        from ndflow.ops.math import identity

        xs = identity(xs)
    _counted_loop(n, lambda i: gather(xs, i), extra_test, body, get_state, set_state, names,
                  convert_to_tensor(0), lambda i: less(i, n), 1)


def _for_range(r: _DynamicRange, extra_test: Callable | None, body: Callable,
               get_state: Callable, set_state: Callable, names: tuple) -> None:
    from ndflow.ops.math import greater, less, where

    def limit_test(i: Any) -> Any:
        return where(greater(r.delta, 0), less(i, r.limit), greater(i, r.limit))

    _counted_loop(None, lambda i: i, extra_test, body, get_state, set_state, names,
                  r.start, limit_test, r.delta)
