"""`cond` and `while_loop`: control flow on tensor values, eager and inside `ndflow.function`.

Eagerly both are plain Python control flow (and so differentiable by the tape). While tracing,
`cond` with a traced predicate traces both branches and selects with `where` (branches must be
free of side effects); `while_loop` with a traced condition becomes one graph node that runs
compiled condition/body graphs in a loop.

>>> import ndflow as tf
>>> x = tf.constant(2.0)
>>> float(tf.cond(x > 1.0, lambda: x * 10.0, lambda: x))
20.0
>>> tf.while_loop(lambda i: i < 5, lambda i: (i + 1,), [tf.constant(0)])[0].numpy().item()
5
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ndflow.core import dispatch
from ndflow.core.dispatch import OpsByOutputCount, Spec, fail
from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.errors import InvalidArgumentError
from ndflow.util import nest


def _is_traced(x: Any) -> bool:
    from ndflow.graph.trace import GraphTensor

    return isinstance(x, GraphTensor)


def cond(pred: Any, true_fn: Callable | None = None, false_fn: Callable | None = None,
         name: str | None = None) -> Any:
    """`true_fn()` if `pred` else `false_fn()`, for a scalar boolean `pred`."""
    if true_fn is None or false_fn is None:
        raise TypeError("cond: both true_fn and false_fn are required")
    if not _is_traced(pred):
        p = pred.numpy() if isinstance(pred, Tensor) else np.asarray(pred)
        if p.size != 1:
            raise fail("cond", "a scalar predicate", f"shape {list(p.shape)}")
        return true_fn() if bool(p) else false_fn()
    from ndflow.graph.trace import current_trace
    from ndflow.ops.math import where

    if pred.dtype.name != "bool" or pred.shape.num_elements() != 1:
        raise fail("cond", "a scalar bool predicate", f"{pred.dtype.name}{list(pred.shape)}")
    graph = current_trace().graph
    n0 = len(graph.nodes)
    t_out = true_fn()
    f_out = false_fn()
    if any(n.has_side_effect for n in graph.nodes[n0:]):
        raise InvalidArgumentError(
            "cond: inside ndflow.function, a branch with side effects (assign, print, optimizer "
            "or metric updates) depending on a traced predicate is not supported; move the "
            "side effect out of the branch or run eagerly")
    t_leaves, f_leaves = nest.flatten(t_out), nest.flatten(f_out)
    if len(t_leaves) != len(f_leaves):
        raise fail("cond", "both branches to return the same structure",
                   f"{len(t_leaves)} and {len(f_leaves)} values")
    out = []
    for a, b in zip(t_leaves, f_leaves):
        a = convert_to_tensor(a)
        b = convert_to_tensor(b, dtype=a.dtype) if not isinstance(b, Tensor) else b
        if tuple(a.shape) != tuple(b.shape):
            raise fail("cond", "branch outputs of the same shape",
                       f"{list(a.shape)} and {list(b.shape)}")
        from ndflow.ops.shape_ops import reshape

        out.append(where(reshape(pred, [1] * len(a.shape)) if a.shape else reshape(pred, []),
                         a, b))
    return nest.pack_sequence_as(t_out, out)


def _while_fwd(xp: Any, *arrays: Any, cond_fn: Any, body_fn: Any, n_vars: int, n_cond: int,
               max_iter: int | None) -> tuple:
    vars_ = list(arrays[:n_vars])
    cond_extra = arrays[n_vars:n_vars + n_cond]
    body_extra = arrays[n_vars + n_cond:]
    i = 0
    while (max_iter is None or i < max_iter) and bool(cond_fn(*vars_, *cond_extra)[0]):
        vars_ = list(body_fn(*vars_, *body_extra))
        i += 1
    return tuple(np.asarray(v) for v in vars_)


def _while_infer(*specs: Spec, cond_fn: Any, body_fn: Any, n_vars: int, n_cond: int,
                 max_iter: Any) -> tuple:
    return tuple(Spec(s.shape, s.dtype) for s in specs[:n_vars])


_WHILE = OpsByOutputCount(lambda n: f"while_loop_{n}", _while_fwd, _while_infer, None)


def while_loop(cond: Callable, body: Callable, loop_vars: Any, shape_invariants: Any = None,
               parallel_iterations: int = 10, back_prop: bool = True, swap_memory: bool = False,
               maximum_iterations: int | None = None, name: str | None = None) -> Any:
    """Repeat `loop_vars = body(*loop_vars)` while `cond(*loop_vars)` is true."""
    flat = nest.flatten(loop_vars)
    if not any(_is_traced(v) for v in flat):
        vars_ = loop_vars
        i = 0
        while maximum_iterations is None or i < maximum_iterations:
            c = cond(*_as_args(vars_))
            if _is_traced(c):  # the condition reads traced tensors: compile the loop
                return _traced_while(cond, body, loop_vars, maximum_iterations)
            if not bool(c.numpy() if isinstance(c, Tensor) else c):
                break
            vars_ = _repack(vars_, body(*_as_args(vars_)))
            i += 1
        return vars_
    return _traced_while(cond, body, loop_vars, maximum_iterations)


def _as_args(v: Any) -> tuple:
    return tuple(v) if isinstance(v, (list, tuple)) else (v,)


def _repack(template: Any, new: Any) -> Any:
    if isinstance(template, (list, tuple)):
        new = new if isinstance(new, (list, tuple)) else (new,)
        return type(template)(new)
    return new[0] if isinstance(new, (list, tuple)) and len(new) == 1 else new


def _traced_while(cond: Callable, body: Callable, loop_vars: Any, max_iter: Any) -> Any:
    from ndflow.graph.trace import Function, current_trace

    if dispatch.current_tapes():
        raise InvalidArgumentError(
            "while_loop: gradients through a while_loop whose condition depends on traced "
            "tensors are not supported inside ndflow.function; run the loop eagerly or use a "
            "Python loop over a fixed count (it unrolls at trace time)")
    flat = [convert_to_tensor(v) for v in nest.flatten(loop_vars)]
    n = len(flat)
    outer = current_trace()
    structure = loop_vars

    def cond_py(*vs: Any) -> Any:
        return cond(*_as_args(nest.pack_sequence_as(structure, list(vs))))

    def body_py(*vs: Any) -> Any:
        out = body(*_as_args(nest.pack_sequence_as(structure, list(vs))))
        return tuple(convert_to_tensor(o) for o in nest.flatten(out))

    specs = [np.zeros(tuple(v.shape), v.dtype.as_numpy_dtype) for v in flat]
    cf_cond = Function(cond_py, name=f"{outer.fn_name}/while_cond").get_concrete_function(*specs)
    cf_body = Function(body_py, name=f"{outer.fn_name}/while_body").get_concrete_function(*specs)
    for a, b in zip(flat, cf_body.graph.outputs):
        if tuple(a.shape) != tuple(b.shape) or a.dtype != b.dtype:
            raise fail("while_loop", "body outputs with the loop variables' shapes and dtypes",
                       f"{b.dtype.name}{list(b.shape)} for a loop variable "
                       f"{a.dtype.name}{list(a.shape)}")
    op = _WHILE[n]
    inputs = tuple(flat) + tuple(cf_cond.outer_captures) + tuple(cf_body.outer_captures)
    outs = dispatch.execute(op, inputs, {"cond_fn": cf_cond._run, "body_fn": cf_body._run,
                                         "n_vars": n, "n_cond": len(cf_cond.outer_captures),
                                         "max_iter": max_iter})
    outs = outs if isinstance(outs, tuple) else (outs,)
    return nest.pack_sequence_as(structure, list(outs))
