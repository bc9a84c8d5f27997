"""`cond` and `while_loop`: control flow on tensor values, eager and inside `ndflow.function`.

Eagerly both are plain Python control flow (and so differentiable by the tape). While tracing,
`cond` with a traced predicate traces both branches and selects with `where` (branches must be
free of side effects); `while_loop` with a traced condition becomes one graph node that runs
compiled condition/body graphs in a loop. That node is stateful (never folded or merged) when
the loop reads or assigns variables, prints or draws random numbers, and is kept even with
unused outputs when it has side effects. Under a tape it records the loop variables of every
iteration, and its gradient runs the body's compiled vector-Jacobian product backwards over
them (the body is traced again for it, without its side effects).

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
from ndflow.core.dispatch import Spec, fail
from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.core.variable import Variable
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


# --- while_loop ---------------------------------------------------------------------------------
#
# A traced loop is one node whose inputs are, in order: the loop variables, the enclosing
# graph's tensors that the condition and then the body read ("captures"), the traced
# maximum_iterations (when it is a tensor) and, when a tape records the loop, the variables the
# body reads (for the tape only: the compiled body reads them by reference). With a tape
# recording, the node has one more output: a host object holding the loop variables' values at
# the start of every iteration, from which the gradient replays the body's gradient in reverse.


class _Loop:
    """The compiled condition and body of one traced loop (an attribute of its node)."""

    def __init__(self, name: str, cond_cf: Any, body_cf: Any, body_py: Callable,
                 flat: list) -> None:
        self.name = name
        self.cond_cf = cond_cf
        self.body_cf = body_cf
        self.body_py = body_py  # flat loop variables -> flat new values (traced again for VJPs)
        self.specs = [Spec(tuple(v.shape), v.dtype.as_numpy_dtype) for v in flat]
        self.caps: list = list(body_cf.outer_captures)  # the body's captures, as its node sees
        self.variables: list = []  # the variables the body reads, when a tape records the loop
        # what the condition and body do, nested loops included
        self.reads: dict[int, Variable] = {}
        self.writes: dict[int, Variable] = {}
        self.effects = self.random = False
        self._scan(cond_cf.graph)
        body_reads = dict(self.reads)
        self.reads = {}
        self._scan(body_cf.graph)
        self.body_reads = list(self.reads.values())
        self.reads.update(body_reads)
        self._vjps: dict = {}

    def _scan(self, graph: Any) -> None:
        for nd in graph.nodes:
            ins = nd.inputs
            if nd.kind == "assign":
                var = nd.inputs[0].payload
                self.writes.setdefault(id(var), var)
                ins = nd.inputs[1:]
            for v in ins:
                if v.kind == "var":
                    self.reads.setdefault(id(v.payload), v.payload)
            self.effects = self.effects or nd.has_side_effect
            loop = nd.attrs.get("loop") if nd.kind == "op" else None
            if isinstance(loop, _Loop):
                self.reads.update(loop.reads)
                self.writes.update(loop.writes)
                self.random = self.random or loop.random
            elif nd.kind == "op" and nd.op.stateful:
                self.random = True  # e.g. random sampling: a new draw on every run
        for v in graph.outputs:
            if v.kind == "var":
                self.reads.setdefault(id(v.payload), v.payload)

    @property
    def stateful(self) -> bool:
        """Never folded or merged: it reads or changes state, or draws random numbers."""
        return bool(self.effects or self.random or self.reads or self.writes)

    def check_differentiable(self) -> None:
        """The backward pass traces the body again and recomputes each iteration from the
        loop variables it recorded: refuse what that recomputation cannot reproduce."""
        if self.random:
            raise fail("while_loop", "a loop body without random ops to differentiate a loop "
                       "whose condition depends on traced tensors",
                       "a body that draws random numbers",
                       "Draw the random values before the loop and pass them in, or loop a "
                       "fixed Python count (it unrolls at trace time).")
        read = {id(v) for v in self.body_reads}  # the condition is not recomputed
        both = [v for k, v in self.writes.items() if k in read]
        if both:
            raise fail("while_loop", "a loop body that does not both assign and read a "
                       "variable, to differentiate a loop whose condition depends on traced "
                       "tensors", f"variable {both[0]._name} assigned and read in the body",
                       "Carry the value as a loop variable and assign it after the loop.")

    def __repr__(self) -> str:
        return f"<loop {self.name}>"

    def vjp(self, xp: Any, diff: tuple, cap_idx: tuple, var_idx: tuple) -> Any:
        """The body's vector-Jacobian product, compiled: (loop vars, cotangents of the outputs
        `diff`) -> cotangents of the loop vars `diff`, the captures `cap_idx` and the variables
        `var_idx` (zeros for those the body does not use)."""
        key = (diff, cap_idx, var_idx)
        cf = self._vjps.get(key)
        if cf is not None:
            return cf
        from ndflow.core.tape import GradientTape
        from ndflow.graph.trace import Function, replaying

        n = len(self.specs)
        caps = [self.caps[k] for k in cap_idx]
        variables = [self.variables[k] for k in var_idx]

        def vjp_py(*arrays: Any) -> tuple:
            vs, cots = list(arrays[:n]), list(arrays[n:])
            with GradientTape(watch_accessed_variables=False) as tape:
                tape.watch([vs[k] for k in diff] + caps + variables)
                outs = self.body_py(*vs)
            sources = [vs[k] for k in diff] + caps + variables
            return tuple(tape.gradient([outs[k] for k in diff], sources, output_gradients=cots,
                                       unconnected_gradients="zero"))

        specs = ([xp.zeros(s.shape, s.dtype) for s in self.specs]
                 + [xp.zeros(self.specs[k].shape, self.specs[k].dtype) for k in diff])
        with dispatch.tapes_paused(), replaying():
            cf = Function(vjp_py, name=f"{self.name}_grad").get_concrete_function(*specs)
        self._vjps[key] = cf
        return cf


def _split(arrays: tuple, attrs: dict) -> tuple:
    n, nc, nb = attrs["n_vars"], attrs["n_cond"], attrs["n_body"]
    return (arrays[:n], arrays[n:n + nc], arrays[n + nc:n + nc + nb],
            arrays[n + nc + nb] if attrs["dyn_max"] else attrs["max_iter"])


def _while_fwd(xp: Any, *arrays: Any, **attrs: Any) -> Any:
    init, cond_extra, body_extra, limit = _split(arrays, attrs)
    loop = attrs["loop"]
    limit = None if limit is None else int(limit)
    history: list | None = [] if attrs["record"] else None
    vars_ = list(init)
    i = 0
    while (limit is None or i < limit) and bool(loop.cond_cf._run(*vars_, *cond_extra)[0]):
        if history is not None:
            history.append(tuple(vars_))
        vars_ = list(loop.body_cf._run(*vars_, *body_extra))
        i += 1
    outs = [xp.asarray(v) for v in vars_]
    if history is not None:
        h = np.empty((), dtype=object)  # TensorFlow keeps such stacks in a variant tensor
        h[()] = history
        outs.append(h)
    return outs[0] if len(outs) == 1 else tuple(outs)


def _while_infer(*specs: Spec, **attrs: Any) -> Any:
    outs = [Spec(s.shape, s.dtype) for s in specs[:attrs["n_vars"]]]
    if attrs["record"]:
        outs.append(Spec((), np.dtype(object)))
    return outs[0] if len(outs) == 1 else tuple(outs)


def _differentiable(dtype: Any) -> bool:
    return np.dtype(getattr(dtype, "as_numpy_dtype", dtype)).kind in "fc"


def _while_grad(node: Any, *grads: Any) -> list:
    """Run the body's gradient backwards over the iterations the forward loop recorded."""
    from ndflow.ops.creation import zeros_like

    attrs = node.attrs
    ins = node.inputs
    if not attrs["record"]:  # back_prop=False
        return [None] * len(ins)
    n = attrs["n_vars"]
    outs = node.outputs if isinstance(node.outputs, tuple) else (node.outputs,)
    diff = tuple(k for k in range(n) if _differentiable(outs[k].dtype))
    if all(grads[k] is None for k in diff):
        return [None] * len(ins)
    loop = attrs["loop"]
    loop.check_differentiable()
    lo = n + attrs["n_cond"]
    var_lo = lo + attrs["n_body"] + int(attrs["dyn_max"])
    needs = node.needs or [True] * len(ins)
    cap_idx = tuple(k for k, c in enumerate(loop.caps)
                    if needs[lo + k] and _differentiable(c.dtype))
    var_idx = tuple(k for k in range(len(ins) - var_lo) if needs[var_lo + k])
    from ndflow.graph.trace import current_trace

    state = current_trace()
    xp = state.graph.xp if state is not None else np
    cf = loop.vjp(xp, diff, cap_idx, var_idx)
    cots = [grads[k] if grads[k] is not None else zeros_like(outs[k]) for k in diff]
    res = dispatch.execute(
        _WHILE_GRAD[len(diff) + len(cap_idx) + len(var_idx)],
        (outs[n], *cots, *cf.outer_captures),
        {"vjp": cf, "n_diff": len(diff), "loop": loop,
         "out_specs": tuple([loop.specs[k] for k in diff]
                        + [Spec(tuple(loop.caps[k].shape), loop.caps[k].dtype.as_numpy_dtype)
                           for k in cap_idx]
                        + [Spec(tuple(loop.variables[k].shape),
                                loop.variables[k].dtype.as_numpy_dtype) for k in var_idx])})
    res = list(res) if isinstance(res, tuple) else [res]
    out: list = [None] * len(ins)
    for pos, r in zip([*diff, *(lo + k for k in cap_idx), *(var_lo + k for k in var_idx)], res):
        out[pos] = r
    return out


def _while_grad_fwd(xp: Any, history: Any, *arrays: Any, vjp: Any, n_diff: int, loop: Any,
                    out_specs: tuple) -> Any:
    cots = list(arrays[:n_diff])
    extra = arrays[n_diff:]
    acc: list | None = None
    for state in reversed(history[()]):
        out = vjp._run(*state, *cots, *extra)
        cots = list(out[:n_diff])
        if acc is None:
            acc = [xp.array(o, copy=True) for o in out[n_diff:]]
        else:
            for a, o in zip(acc, out[n_diff:]):
                a += o
    if acc is None:  # no iteration ran: nothing reached the captures and variables
        acc = [xp.zeros(s.shape, s.dtype) for s in out_specs[n_diff:]]
    res = [xp.asarray(c) for c in cots] + acc
    return res[0] if len(res) == 1 else tuple(res)


def _while_grad_infer(*specs: Spec, **attrs: Any) -> Any:
    out = [Spec(s.shape, s.dtype) for s in attrs["out_specs"]]
    return out[0] if len(out) == 1 else tuple(out)


def _second_order(node: Any, *grads: Any) -> list:
    raise fail("while_loop", "first-order gradients through a while_loop whose condition "
               "depends on traced tensors", "a second-order gradient (the gradient of such a "
               "loop's gradient)", "Compute higher-order gradients eagerly (outside "
               "ndflow.function the loop is plain Python), or loop a fixed Python count (it "
               "unrolls at trace time).")


class _Family(dict):
    """Loop ops that differ only in their number of outputs: `family[n]` registers the
    n-output member on first use."""

    def __init__(self, prefix: str, forward: Callable, infer: Callable, grad: Any,
                 stateful: bool = False, after: Callable | None = None, **traits: Any) -> None:
        super().__init__()
        self._args = (prefix, forward, infer, grad, stateful, after, traits)

    def __missing__(self, n: int) -> Any:
        prefix, forward, infer, grad, stateful, after, traits = self._args
        op = dispatch.register_op(f"{prefix}_{n}", forward, infer, grad, num_outputs=n,
                                  stateful=stateful, **traits)
        if after is not None:
            after(op)
        self[n] = op
        return op


def _explain_second_order(op: Any) -> None:
    # not differentiable, but a tape records it so that differentiating it explains why
    op.grad = _second_order


# TensorFlow's StatelessWhile and While: a loop whose condition or body reads or assigns
# variables, prints or draws random numbers is never folded or merged, and one with side
# effects is kept even when its outputs are unused.
_WHILE = _Family("while_loop", _while_fwd, _while_infer, _while_grad)
_WHILE_STATEFUL = _Family("while_loop_stateful", _while_fwd, _while_infer, _while_grad,
                          stateful=True, side_effect=lambda attrs: attrs["effects"])
_WHILE_GRAD = _Family("while_loop_grad", _while_grad_fwd, _while_grad_infer, None,
                      after=_explain_second_order)


def while_loop(cond: Callable, body: Callable, loop_vars: Any, shape_invariants: Any = None,
               parallel_iterations: int = 10, back_prop: bool = True, swap_memory: bool = False,
               maximum_iterations: Any = None, name: str | None = None) -> Any:
    """Repeat `loop_vars = body(*loop_vars)` while `cond(*loop_vars)` is true.

    `loop_vars` is a tensor or a (nested) list/tuple of tensors, and the result has its
    structure. Eagerly this is a Python loop; inside `ndflow.function` a condition that reads
    traced tensors makes it one graph node that runs compiled condition and body graphs, with
    gradients (the loop records its iterations when a tape watches it). Shapes and dtypes of
    the loop variables must stay the same there; `shape_invariants`, `parallel_iterations` and
    `swap_memory` are accepted for compatibility.

    >>> import ndflow as tf
    >>> int(tf.while_loop(lambda i: i < 10, lambda i: i + 1, tf.constant(0)))
    10
    """
    if not callable(cond) or not callable(body):
        raise TypeError("while_loop: cond and body must be callables, got "
                        f"{type(cond).__name__} and {type(body).__name__}")
    if not isinstance(parallel_iterations, (int, np.integer)) or parallel_iterations < 1:
        raise TypeError("while_loop: parallel_iterations must be a positive integer, got "
                        f"{parallel_iterations!r}")
    if not nest.flatten(loop_vars):
        raise fail("while_loop", "at least one loop variable", "none",
                   "pass the loop's state as loop_vars, e.g. [tf.constant(0)]")
    loop_vars = nest.map_structure(
        lambda v: _read(v) if isinstance(v, Variable) else v, loop_vars)
    if maximum_iterations is not None and not _is_traced(maximum_iterations):
        m = maximum_iterations
        maximum_iterations = int(m.numpy() if isinstance(m, Tensor) else m)
    from ndflow.graph.trace import current_trace

    state = current_trace()
    if _is_traced(maximum_iterations) or any(_is_traced(v) for v in nest.flatten(loop_vars)):
        return _traced_while(cond, body, loop_vars, maximum_iterations, back_prop)
    n0 = len(state.graph.nodes) if state is not None else 0
    vars_ = loop_vars
    i = 0
    while maximum_iterations is None or i < maximum_iterations:
        c = cond(*_as_args(vars_))
        if _is_traced(c):
            # the condition reads traced tensors: compile the loop, and drop what the
            # iterations run so far recorded (their assigns and prints would run twice)
            del state.graph.nodes[n0:]
            return _traced_while(cond, body, loop_vars, maximum_iterations, back_prop)
        if not bool(c.numpy() if isinstance(c, Tensor) else c):
            break
        vars_ = _repack(vars_, body(*_as_args(vars_)))
        i += 1
    return vars_


def _read(v: Variable) -> Tensor:
    from ndflow.ops.math import identity

    return identity(v)  # a copy: the loop starts from the value the variable has now


def _as_args(v: Any) -> tuple:
    return tuple(v) if isinstance(v, (list, tuple)) else (v,)


def _repack(template: Any, new: Any) -> Any:
    """The body's result in the loop variables' structure (a one-element list or tuple may
    come back as a bare value, as TensorFlow allows)."""
    if isinstance(template, (list, tuple)) and len(template) == 1 and not isinstance(
            new, (list, tuple)):
        new = [new]
    try:
        return nest.pack_sequence_as(template, nest.flatten(new))
    except ValueError:
        raise fail("while_loop", f"a body that returns {len(nest.flatten(template))} values "
                   "in the structure of loop_vars", f"{len(nest.flatten(new))} values") from None


def compiled_while_loop(cond: Callable, body: Callable, loop_vars: Any,
                        maximum_iterations: Any = None, back_prop: bool = True) -> Any:
    """`while_loop` as one op even outside `ndflow.function`: the condition and body are
    compiled once and the op runs them (what a traced loop does, usable eagerly, e.g. for
    gradient checks). Outside a trace, tensors the body reads from outside the loop are
    constants of the compiled body: pass what needs a gradient as a loop variable.

    >>> import ndflow as tf
    >>> int(compiled_while_loop(lambda i: i < 4, lambda i: i * 2, tf.constant(1)))
    4
    """
    if maximum_iterations is not None and not _is_traced(maximum_iterations):
        m = maximum_iterations
        maximum_iterations = int(m.numpy() if isinstance(m, Tensor) else m)
    return _traced_while(cond, body, loop_vars, maximum_iterations, back_prop)


def _traced_while(cond: Callable, body: Callable, loop_vars: Any, max_iter: Any,
                  back_prop: bool = True) -> Any:
    """The loop as one graph node (or, outside a trace, one op run now)."""
    from ndflow.graph.trace import Function, current_trace

    outer = current_trace()
    fn_name = outer.fn_name if outer is not None else "while_loop"
    structure = loop_vars
    flat = [convert_to_tensor(v) for v in nest.flatten(loop_vars)]
    n = len(flat)
    for v in flat:
        if not v.shape.is_fully_defined():
            raise fail("while_loop", "loop variables of known shape", f"shape {v.shape}",
                       "a compiled loop needs static shapes; give the model input a fixed "
                       "batch size or run the loop on concrete tensors")

    def cond_py(*vs: Any) -> Any:
        c = convert_to_tensor(cond(*_as_args(nest.pack_sequence_as(structure, list(vs)))))
        if c.dtype.name != "bool" or c.shape.num_elements() != 1:
            raise fail("while_loop", "a condition that returns a scalar bool",
                       f"{c.dtype.name}{list(c.shape)}")
        return c

    def body_py(*vs: Any) -> tuple:
        out = _repack(structure, body(*_as_args(nest.pack_sequence_as(structure, list(vs)))))
        return tuple(o if isinstance(o, Tensor) else convert_to_tensor(o, dtype=f.dtype)
                     for o, f in zip(nest.flatten(out), flat))

    xp = outer.graph.xp if outer is not None else np
    specs = [xp.zeros(tuple(v.shape), v.dtype.as_numpy_dtype) for v in flat]
    with dispatch.tapes_paused():  # the tape sees the loop as one op
        cf_cond = Function(cond_py, name=f"{fn_name}/while_cond").get_concrete_function(*specs)
        cf_body = Function(body_py, name=f"{fn_name}/while_body").get_concrete_function(*specs)
    for a, b in zip(flat, cf_body.graph.outputs):
        if tuple(a.shape) != tuple(b.shape) or a.dtype != b.dtype:
            raise fail("while_loop", "body outputs with the loop variables' shapes and dtypes",
                       f"{b.dtype.name}{list(b.shape)} for a loop variable "
                       f"{a.dtype.name}{list(a.shape)}",
                       "inside ndflow.function loop variables keep their shape; pad them to "
                       "a fixed shape or run the loop eagerly")
    loop = _Loop(f"{fn_name}/while", cf_cond, cf_body, body_py, flat)
    caps = loop.caps
    variables = [v for v in loop.body_reads if _differentiable(v.dtype)]
    record = bool(back_prop) and _taped(flat + caps + variables)
    if record:
        loop.variables = variables
    dyn_max = _is_traced(max_iter)
    if dyn_max and (max_iter.dtype.is_floating or max_iter.shape.num_elements() != 1):
        raise fail("while_loop", "an integer scalar maximum_iterations",
                   f"{max_iter.dtype.name}{list(max_iter.shape)}")
    attrs = {"loop": loop, "n_vars": n, "n_cond": len(cf_cond.outer_captures),
             "n_body": len(caps), "max_iter": None if dyn_max else max_iter,
             "dyn_max": dyn_max, "record": record, "effects": loop.effects}
    inputs = (tuple(flat) + tuple(cf_cond.outer_captures) + tuple(caps)
              + ((max_iter,) if dyn_max else ()) + tuple(loop.variables))
    op = (_WHILE_STATEFUL if loop.stateful else _WHILE)[n + int(record)]
    outs = dispatch.execute(op, inputs, attrs)
    outs = list(outs) if isinstance(outs, tuple) else [outs]
    return nest.pack_sequence_as(structure, outs[:n])


def _taped(tensors: list) -> bool:
    """Whether a recording tape of this thread watches one of `tensors`."""
    for tape in dispatch.current_tapes():
        watched = tape._watched
        for t in tensors:
            if id(t) in watched or (t._auto_watch and tape._watch_accessed):
                return True
    return False
