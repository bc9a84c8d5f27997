"""The op registry and eager dispatch.

Every primitive op is one `Op`: a `forward(xp, *arrays, **attrs)` kernel written against the
array module (NumPy or CuPy), a shape rule `infer(*specs, **attrs)` used by symbolic tensors
and for readable errors, and a gradient rule `grad(node, *output_grads)` written with ndflow
ops so that gradients of gradients work.

Eager dispatch runs the kernel first and only validates when the kernel fails; the tape
records a node only when an input is watched by an active tape.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ndflow.backend.devices import get_array_module
from ndflow.core.tensor import SymbolicTensor, Tensor
from ndflow.errors import InvalidArgumentError

_ndarray = np.ndarray
_EMPTY: dict = {}


class Spec:
    """Shape (with None for unknown dims) and NumPy dtype: what shape rules see and return."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: Sequence[int | None], dtype: Any) -> None:
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"Spec({self.shape}, {self.dtype.name})"


class Op:
    """One primitive op: kernel, shape rule, gradient rule and traits kept together.

    Traits are what the graph compiler reads (never op names):

    - ``elementwise``: the op's scalar expression tree (`ndflow.core.elementwise`); the op
      broadcasts its inputs and computes each output element from the same-position inputs.
    - ``monotone``: ``"increasing"`` or ``"nondecreasing"`` in its first input, the other
      inputs held fixed (or a function of the node's attributes giving one of those or None).
    - ``linear_in``: input positions in which the op is linear (f(0, ...) == 0 there).
    - ``flat_mask``: for a non-decreasing op with flat regions, the op that zeros a gradient
      where the function is flat (relu: relu_grad(g, relu(x))).
    """

    __slots__ = ("name", "forward", "infer", "grad", "num_outputs", "differentiable",
                 "stateful", "onnx", "traits", "__dict__")

    def __init__(self, name: str, forward: Callable, infer: Callable | None,
                 grad: Callable | None, num_outputs: int = 1, stateful: bool = False,
                 traits: dict | None = None) -> None:
        self.name = name
        self.stateful = stateful  # e.g. random sampling: never folded, merged or cached
        self.forward = forward
        self.infer = infer
        self.grad = grad
        self.num_outputs = num_outputs
        self.differentiable = grad is not None
        self.onnx = None
        self.traits: dict = dict(traits or {})

    def __repr__(self) -> str:
        return f"<Op {self.name}>"


REGISTRY: dict[str, Op] = {}


def register_op(name: str, forward: Callable | None, infer: Callable | None = None,
                grad: Callable | None = None, num_outputs: int = 1,
                stateful: bool = False, **traits: Any) -> Op:
    """Add a primitive to the registry; `grad=None` marks it non-differentiable.

    Traits go as keywords (see `Op`). ``elementwise="maximum(x, 0)"`` declares the op's
    scalar expression; with ``forward=None`` the eager kernel is generated from it, so the
    expression is the op's one definition.
    """
    if name in REGISTRY:
        raise ValueError(f"register_op: an op named {name!r} is already registered")
    expr = traits.get("elementwise")
    if isinstance(expr, str):
        from ndflow.core import elementwise

        traits["elementwise"] = elementwise.parse(expr)
        if forward is None:
            forward = elementwise.kernel(traits["elementwise"])
    if forward is None:
        raise ValueError(f"register_op {name!r}: a forward kernel or an element-wise "
                         "expression is needed")
    op = Op(name, forward, infer, grad, num_outputs, stateful, traits)
    REGISTRY[name] = op
    return op


class OpsByOutputCount(dict):
    """A family of ops that differ only in their number of outputs (an op's output count is
    fixed): `family[n]` registers the n-output member on first use."""

    def __init__(self, name_for: Callable[[int], str], forward: Callable,
                 infer: Callable | None, grad: Callable | None) -> None:
        super().__init__()
        self._name_for, self._forward, self._infer, self._grad = name_for, forward, infer, grad

    def __missing__(self, n: int) -> Op:
        op = register_op(self._name_for(n), self._forward, self._infer, self._grad,
                         num_outputs=n)
        self[n] = op
        return op


class Node:
    """One recorded op application on a tape."""

    __slots__ = ("op", "inputs", "outputs", "attrs", "needs")

    def __init__(self, op: Op, inputs: tuple, outputs: Any, attrs: dict) -> None:
        self.op = op
        self.inputs = inputs
        self.outputs = outputs  # a Tensor, or a tuple for multi-output ops
        self.attrs = attrs
        self.needs: tuple[bool, ...] = ()  # which inputs need a gradient, set by the tape


class _ThreadTapes(threading.local):
    def __init__(self) -> None:
        self.tapes: list = []


# Recording tapes are per thread, as in TensorFlow: a tape sees the ops of its own thread only
# (not those an input pipeline's workers run meanwhile).
_thread = _ThreadTapes()
# How many tapes record in any thread: the eager fast path reads this one global and looks at
# its thread's stack only when some tape records somewhere.
recording = 0
_recording_lock = threading.Lock()


def current_tapes() -> list:
    """The tapes recording in this thread, innermost last (do not mutate: use push_tape)."""
    return _thread.tapes


def push_tape(tape: Any) -> list:
    """Start recording on `tape` in this thread; returns the stack to pass to `pop_tape`."""
    global recording
    stack = _thread.tapes
    stack.append(tape)
    with _recording_lock:
        recording += 1
    return stack


def pop_tape(tape: Any, stack: list) -> None:
    global recording
    stack.remove(tape)
    with _recording_lock:
        recording -= 1


@contextlib.contextmanager
def tapes_paused() -> Iterator[None]:
    """Ops run inside the block are recorded on no tape of this thread."""
    state = _thread
    saved, state.tapes = state.tapes, []
    try:
        yield
    finally:
        state.tapes = saved


# Called instead of the symbolic rule when a graph tracer is active (see ndflow.graph).
symbolic_hook: Callable | None = None
# While `ndflow.function` traces, every op goes to the tracer instead (see ndflow.graph.trace).
trace_hook: Callable | None = None
# What core does with the other things a trace records, installed by ndflow.graph.trace when it
# loads (core never imports graph; these are only called while `trace_hook` is set):
# `assign_hook(var, value, mode)` records `var.assign*` with mode "set", "add" or "sub";
# `variable_hook(var)` vets a variable created while tracing; `host_call_hook(fn, args,
# kwargs, example)` records a call back into Python (`tf.py_function`) and returns its outputs.
assign_hook: Callable | None = None
variable_hook: Callable | None = None
host_call_hook: Callable | None = None


def execute(op: Op, inputs: tuple, attrs: dict = _EMPTY) -> Any:
    """Run `op` eagerly on `inputs` (Tensors) and record it on the active tapes."""
    if trace_hook is not None:
        return trace_hook(op, inputs, attrs)
    return execute_eager(op, inputs, attrs)


def execute_eager(op: Op, inputs: tuple, attrs: dict = _EMPTY) -> Any:
    """`execute` without the tracer: for the tracer itself (constant folding) and for threads
    that are not tracing while another one is (input pipelines during `fit`'s first step)."""
    try:
        arrays = [t._value for t in inputs]
        a0 = arrays[0] if arrays else None  # no inputs: a stateful source (random_sample)
        xp = np if a0 is None or type(a0) is _ndarray else get_array_module(a0)
        out = op.forward(xp, *arrays, **attrs)
    except AttributeError:
        if any(t._symbolic for t in inputs):
            return execute_symbolic(op, inputs, attrs)
        raise
    except Exception as e:  # numpy's error -> a clear error that names the op
        raise op_error(op, inputs, attrs, e) from None
    if op.num_outputs == 1:
        if type(out) is not _ndarray:
            out = xp.asarray(out)
        result: Any = Tensor(out)
        outs: Any = result
    else:
        result = tuple(Tensor(o if type(o) is _ndarray else xp.asarray(o)) for o in out)
        outs = result
    if recording and op.grad is not None:
        record(op, inputs, outs, attrs)
    return result


def execute1(op: Op, x: Tensor) -> Any:
    """Fast path of `execute` for one host-array input and no attributes."""
    xv = getattr(x, "_value", None)
    if type(xv) is not _ndarray or trace_hook is not None:
        return execute(op, (x,))
    try:
        out = op.forward(np, xv)
    except Exception as e:
        raise op_error(op, (x,), _EMPTY, e) from None
    if type(out) is not _ndarray:
        out = np.asarray(out)
    r = Tensor(out)
    if recording and op.grad is not None:
        record(op, (x,), r, _EMPTY)
    return r


def execute2(op: Op, x: Tensor, y: Tensor) -> Any:
    """Fast path of `execute` for two host-array inputs and no attributes."""
    xv = x._value
    yv = y._value
    if type(xv) is not _ndarray or type(yv) is not _ndarray or trace_hook is not None:
        return execute(op, (x, y))
    try:
        out = op.forward(np, xv, yv)
    except Exception as e:
        raise op_error(op, (x, y), _EMPTY, e) from None
    if type(out) is not _ndarray:
        out = np.asarray(out)
    r = Tensor(out)
    if recording and op.grad is not None:
        record(op, (x, y), r, _EMPTY)
    return r


def record(op: Op, inputs: tuple, outputs: Any, attrs: dict) -> None:
    """Record an op application on this thread's tapes that watch one of its inputs."""
    node = None
    for tape in _thread.tapes:
        watched = tape._watched
        hit = False
        for t in inputs:
            if id(t) in watched:
                hit = True
            elif t._auto_watch and tape._watch_accessed:
                tape._watch_variable(t)
                hit = True
        if hit:
            if node is None:
                for t in inputs:  # a plain loop: any() over a generator costs more per op
                    if t._mutable:  # a variable among the inputs: snapshot what the op read
                        node = Node(op, _read_inputs(inputs, outputs), outputs, attrs)
                        break
                else:
                    node = Node(op, inputs, outputs, attrs)
            if node.inputs is not inputs:
                for t, s in zip(inputs, node.inputs):
                    if s is not t and id(t) in watched:
                        watched[id(s)] = s
                        tape._aliases[id(s)] = id(t)
            tape._nodes.append(node)
            if type(outputs) is tuple:
                for o in outputs:
                    watched[id(o)] = o
            else:
                watched[id(outputs)] = outputs


def _read_inputs(inputs: tuple, outputs: Any) -> tuple:
    """The inputs as the op read them: a variable is replaced by a snapshot of its value, so a
    gradient uses the values of the forward pass even if the variable is assigned before
    `tape.gradient` (as in TensorFlow, where reading a variable yields a tensor). An output
    that is a view of a variable's buffer is made a copy for the same reason. Called by
    `record` when one of the inputs is a variable."""
    first = outputs[0] if type(outputs) is tuple else outputs
    if first._symbolic:  # traced: the graph reads the variable when it runs
        return inputs
    for o in (outputs if type(outputs) is tuple else (outputs,)):
        ov = o._value
        if any(t._mutable and (ov is t._value or (getattr(ov, "base", None) is not None
                                                   and _shares(ov, t._value))) for t in inputs):
            o._value = ov.copy()
    return tuple(Tensor(t._value.copy()) if t._mutable else t for t in inputs)


def _shares(a: Any, b: Any) -> bool:
    if type(a) is _ndarray and type(b) is _ndarray:
        return bool(np.may_share_memory(a, b))
    return True  # other array modules: copy to be safe


def spec_of(t: Tensor) -> Spec:
    if t._symbolic:
        return Spec(t._shape, t._np_dtype)
    return Spec(t._value.shape, t._value.dtype)


def execute_symbolic(op: Op, inputs: tuple, attrs: dict) -> Any:
    """Apply `op` to symbolic tensors: compute output shape and dtype with the shape rule."""
    if symbolic_hook is not None:
        return symbolic_hook(op, inputs, attrs)
    specs = infer_specs(op, inputs, attrs)
    if op.num_outputs == 1:
        return SymbolicTensor(specs.shape, specs.dtype, node=(op, inputs, attrs))
    return tuple(SymbolicTensor(s.shape, s.dtype, node=(op, inputs, attrs, i))
                 for i, s in enumerate(specs))


def infer_specs(op: Op, inputs: tuple, attrs: dict) -> Any:
    if op.infer is None:
        raise TypeError(f"{op.name}: this op cannot be applied to symbolic tensors")
    return op.infer(*[spec_of(t) for t in inputs], **attrs)


def op_error(op: Op, inputs: tuple, attrs: dict, cause: Exception) -> Exception:
    """Turn a kernel failure into an error naming the op, what it expected and what came."""
    if isinstance(cause, InvalidArgumentError):
        return cause
    if op.infer is not None:
        try:
            infer_specs(op, inputs, attrs)
        except (InvalidArgumentError, TypeError) as e:
            return e
        except Exception:
            pass
    got = ", ".join(f"{tuple(t._value.shape)} {t._value.dtype.name}" for t in inputs
                    if hasattr(t, "_value"))
    return InvalidArgumentError(f"{op.name}: {cause} (inputs: {got})")


def fail(op_name: str, expected: str, got: str, hint: str = "") -> InvalidArgumentError:
    """Build the standard error: `op: expected X, got Y. hint`."""
    msg = f"{op_name}: expected {expected}, got {got}."
    return InvalidArgumentError(msg + (" " + hint if hint else ""))
