"""`ndflow.function`: trace a Python function into a graph once per input signature.

While tracing, every op goes to the tracer (the dispatch `trace_hook`): ops on graph tensors or
variables become graph nodes; ops on constants only run at once and their results are captured
as constants (constant folding for free). `GradientTape` works inside because the tracer records
graph nodes on active tapes like eager dispatch does, so backward graphs come from the same
gradient rules.

>>> import ndflow as tf
>>> @tf.function
... def f(x):
...     return x * x + 1.0
>>> float(f(tf.constant(3.0)))
10.0
>>> f.experimental_get_tracing_count()
1
"""

from __future__ import annotations

import functools
import inspect
import threading
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from ndflow.backend.devices import get_array_module

from ndflow.core import dispatch
from ndflow.core.dispatch import Spec
from ndflow.core.dtypes import as_dtype
from ndflow.core.shape import TensorShape
from ndflow.core.tensor import Tensor
from ndflow.core.variable import Variable
from ndflow.errors import InvalidArgumentError
from ndflow.graph.ir import Graph, GNode, Value
from ndflow.util import nest


class TensorSpec:
    """Describes a tensor argument: shape (None for any size; the shape None for any rank)
    and dtype.

    >>> TensorSpec([None, 3], "float32")
    TensorSpec(shape=(None, 3), dtype=tf.float32, name=None)
    >>> TensorSpec(None, "float32")
    TensorSpec(shape=<unknown>, dtype=tf.float32, name=None)
    """

    def __init__(self, shape: Any, dtype: Any = "float32", name: str | None = None) -> None:
        self.shape = TensorShape(shape)
        self.dtype = as_dtype(dtype)
        self.name = name

    @classmethod
    def from_tensor(cls, tensor: Tensor, name: str | None = None) -> TensorSpec:
        return cls(tensor.shape, tensor.dtype, name)

    def is_compatible_with(self, value: Any) -> bool:
        if isinstance(value, TensorSpec):
            return self.dtype == value.dtype and self.shape.is_compatible_with(value.shape)
        t = value if isinstance(value, Tensor) else np.asarray(value)
        return np.dtype(t.dtype.as_numpy_dtype if hasattr(t.dtype, "as_numpy_dtype") else
                        t.dtype) == self.dtype._np and self.shape.is_compatible_with(t.shape)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TensorSpec) and self.shape == other.shape
                and self.dtype == other.dtype)

    def __hash__(self) -> int:
        return hash((tuple(self.shape), self.dtype))

    def __repr__(self) -> str:
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype!r}, name={self.name!r})"


class AbstractArray:
    """What a traced tensor holds instead of an array: its shape and dtype only.

    Code that reads `tensor._value.shape` / `.dtype` works while tracing; any attempt to use
    the numbers fails with a clear error instead of silently computing garbage.
    """

    __slots__ = ("shape", "dtype", "_fn")
    _abstract = True

    def __init__(self, shape: tuple, dtype: Any, fn_name: str) -> None:
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self._fn = fn_name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"{self._fn}: a traced tensor (shape={self.shape}, dtype={self.dtype.name}) has no "
            "value while ndflow.function traces the Python code; use ndflow ops on it, return "
            "it from the function, or use tf.print to print it on every call")

    __array__ = _fail
    __float__ = _fail
    __int__ = _fail
    __index__ = _fail
    __bool__ = _fail

    def __getattr__(self, name: str) -> Any:
        self._fail()


class GraphTensor(Tensor):
    """A tensor inside a graph being traced: it looks like an eager tensor whose value is an
    `AbstractArray`, so Keras layers run their normal (non-symbolic) path while tracing."""

    __slots__ = ("_graph", "_gv")
    _symbolic = True  # no concrete value...
    _traced = True  # ...but computed for real by the compiled graph (not a Keras Input)

    def __init__(self, graph: Graph, value: Value) -> None:
        self._value = AbstractArray(value.shape, value.dtype, graph.name)
        self._graph = graph
        self._gv = value

    @property
    def _shape(self) -> TensorShape:
        return TensorShape(self._value.shape)

    @property
    def _np_dtype(self) -> np.dtype:
        return self._value.dtype

    @property
    def device(self) -> str:
        from ndflow.backend.devices import current_device

        return current_device().name

    def numpy(self) -> np.ndarray:
        return self._value._fail()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self._value._fail()

    def __bool__(self) -> bool:
        raise TypeError(
            f"{self._graph.name}: using a traced tensor as a Python bool is not allowed: its "
            "value is not known while ndflow.function traces. Use tf.cond(pred, true_fn, "
            "false_fn) (or tf.where) for control flow on tensor values."
        )

    def __float__(self) -> float:
        return self._value._fail()

    def __int__(self) -> int:
        return self._value._fail()

    def __index__(self) -> int:
        return self._value._fail()

    def __repr__(self) -> str:
        return f"<GraphTensor {self._gv.label} in {self._graph.name}>"

    __str__ = __repr__


# --- the tracing state ---------------------------------------------------------------------------

class _TraceState:
    def __init__(self, graph: Graph, fn_name: str, owner: Function | None,
                 parent: _TraceState | None = None) -> None:
        self.graph = graph
        self.fn_name = fn_name
        self.owner = owner
        self.parent = parent
        self.captured: dict[int, Value] = {}
        self.keepalive: list = []
        # tensors of enclosing graphs used here (loop bodies): (outer tensor, inner arg value)
        self.outer_captures: list[tuple[GraphTensor, Value]] = []

    def _encloses(self, graph: Graph) -> bool:
        p = self.parent
        while p is not None:
            if p.graph is graph:
                return True
            p = p.parent
        return False


_local = threading.local()


def current_trace() -> _TraceState | None:
    return getattr(_local, "trace", None)


class replaying:
    """While tracing a recomputation (a loop body traced again for its gradient), assigns and
    calls back into Python that return nothing (prints, updates) are not recorded again: they
    happened in the forward pass."""

    def __enter__(self) -> None:
        self._prev = getattr(_local, "replay", False)
        _local.replay = True

    def __exit__(self, *exc: Any) -> None:
        _local.replay = self._prev


def _replaying() -> bool:
    return getattr(_local, "replay", False)


def _value_of(state: _TraceState, t: Tensor) -> Value:
    """The graph value for an op input: a graph tensor, or a captured variable or constant."""
    if isinstance(t, GraphTensor):
        if t._graph is not state.graph and state._encloses(t._graph):
            v = state.captured.get(id(t))
            if v is None:
                v = state.graph.new_value("arg", t._gv.shape, t._gv.dtype,
                                          index=len(state.graph.args))
                state.graph.args.append(v)
                state.captured[id(t)] = v
                state.keepalive.append(t)
                state.outer_captures.append((t, v))
            return v
        if t._graph is not state.graph:
            raise InvalidArgumentError(
                f"{state.fn_name}: a tensor from another traced function was used here; "
                "return it from that function instead of keeping it"
            )
        return t._gv
    key = id(t)
    v = state.captured.get(key)
    if v is not None:
        return v
    if t._symbolic and not t._traced:
        raise TypeError(
            f"{state.fn_name}: a symbolic (Keras Input) tensor cannot be used inside "
            "ndflow.function; call the model on the function's arguments instead"
        )
    if isinstance(t, Variable):
        v = state.graph.new_value("var", t._value.shape, t._value.dtype, payload=t)
    else:
        v = state.graph.new_value("const", t._value.shape, t._value.dtype, payload=t._value)
    state.captured[key] = v
    state.keepalive.append(t)
    return v


def _trace_op(op: Any, inputs: tuple, attrs: dict) -> Any:
    state = getattr(_local, "trace", None)
    if state is None:
        # the hook is process-wide, the trace is per thread: this thread (e.g. a tf.data map
        # worker) is not tracing, so its ops run eagerly
        return dispatch.execute_eager(op, inputs, attrs)
    if not op.stateful and not any(isinstance(t, (GraphTensor, Variable)) for t in inputs):
        # constants only: run now (constant folding at trace time)
        return dispatch.execute_eager(op, inputs, attrs)
    if op.infer is None:
        raise TypeError(f"{state.fn_name}: op {op.name} has no shape rule and cannot be traced")
    ins = [_value_of(state, t) for t in inputs]
    specs = op.infer(*[Spec(v.shape, v.dtype) for v in ins], **attrs)
    node = GNode("op", op, ins, dict(attrs))
    multi = op.num_outputs != 1
    spec_list = list(specs) if multi else [specs]
    for i, s in enumerate(spec_list):
        if any(d is None for d in s.shape):
            raise InvalidArgumentError(
                f"{state.fn_name}: op {op.name} gave an output of unknown shape {s.shape} while "
                "tracing; ndflow.function needs known shapes"
            )
        node.outputs.append(state.graph.new_value("node", s.shape, s.dtype, node, i))
    state.graph.nodes.append(node)
    outs = tuple(GraphTensor(state.graph, v) for v in node.outputs)
    result = outs if multi else outs[0]
    if dispatch.recording and op.grad is not None:
        dispatch.record(op, inputs, result, attrs)
    return result


def trace_assign(var: Variable, value: Any, mode: str) -> Variable:
    """`var.assign*(value)` with a traced value: an ordered assign node in the graph."""
    state = current_trace()
    assert state is not None
    if _replaying():
        return var
    from ndflow.ops.shape_ops import broadcast_to

    if not isinstance(value, Tensor):
        value = Tensor(np.asarray(value, dtype=var._value.dtype))
    if value.dtype != var.dtype:
        raise InvalidArgumentError(
            f"{state.fn_name}: {('assign_' + mode) if mode != 'set' else 'assign'} expected a "
            f"value of dtype {var.dtype.name} for variable {var._name}, got {value.dtype.name}")
    if tuple(value.shape) != tuple(var._value.shape):
        value = broadcast_to(value, var._value.shape)
    node = GNode("assign", None, [_value_of(state, var), _value_of(state, value)],
                 {"mode": mode})
    state.graph.nodes.append(node)
    return var


def host_call(fn: Callable, args: tuple, kwargs: dict, example: Any = None) -> Any:
    """Record a call back into Python, run on every call of the compiled function.

    Traced tensors among the arguments are fed in with their values at run time. When
    `example` (the call's result computed once now) is given, the node also returns values of
    that structure into the graph; otherwise the call returns None.
    """
    state = current_trace()
    assert state is not None
    if example is None and _replaying():
        return None
    leaves = nest.flatten((list(args), kwargs))
    ins, slots = [], []
    for i, leaf in enumerate(leaves):
        if isinstance(leaf, GraphTensor):
            ins.append(_value_of(state, leaf))
            slots.append(i)
    node = GNode("host", fn, ins, {"tree": (list(args), kwargs), "slots": tuple(slots),
                                   "leaves": leaves, "returns": example is not None})
    state.graph.nodes.append(node)
    if example is None:
        return None
    outs = []
    for leaf in nest.flatten(example):
        arr = np.asarray(leaf)
        v = state.graph.new_value("node", arr.shape, arr.dtype, node, len(node.outputs))
        node.outputs.append(v)
        outs.append(GraphTensor(state.graph, v))
    node.attrs["out_structure"] = example
    return nest.pack_sequence_as(example, outs)


def _untraced(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run `fn` eagerly in the middle of a trace (its ops execute now)."""
    prev_state, prev_hook = current_trace(), dispatch.trace_hook
    _local.trace, dispatch.trace_hook = None, None
    try:
        with np.errstate(all="ignore"):  # e.g. a metric's 0/0 before its first update
            return fn(*args, **kwargs)
    finally:
        _local.trace, dispatch.trace_hook = prev_state, prev_hook


def host_callable(method: Callable | None = None, *, returns: bool = False,
                  retains_args: bool = True) -> Any:
    """Decorate a stateful Python method (optimizer or metric update, print) so that inside
    `ndflow.function` it runs on every call of the compiled function instead of once at trace
    time. With `returns=True` (e.g. `Metric.result`), its result flows back into the graph:
    the call must then take no traced tensors. `retains_args=False` promises that the method
    keeps no reference to its tensor arguments, which lets the executor reuse their buffers.
    """
    def deco(fn: Callable) -> Callable:
        if getattr(fn, "_ndflow_host", False):
            return fn

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_trace() is None:
                return fn(*args, **kwargs)
            args = tuple(list(a) if inspect.isgenerator(a) or isinstance(a, (zip, map)) else a
                         for a in args)
            if returns:
                example = _untraced(fn, *args, **kwargs)
                return host_call(fn, args, kwargs, example=example)
            return host_call(fn, args, kwargs)

        wrapper._ndflow_host = True  # type: ignore[attr-defined]
        fn._retains_args = retains_args  # type: ignore[attr-defined]
        wrapper._retains_args = retains_args  # type: ignore[attr-defined]
        return wrapper

    return deco if method is None else deco(method)


# --- signatures -----------------------------------------------------------------------------------

def _leaf_key(x: Any) -> Any:
    if isinstance(x, Variable):
        return ("V", id(x))
    if isinstance(x, Tensor):
        if x._symbolic and not x._traced:
            raise TypeError("ndflow.function: symbolic tensors cannot be passed to a function")
        v = x._value
        if type(v) is np.ndarray:
            return ("T", v.shape, v.dtype.str)
        return ("T", v.shape, v.dtype.str, type(v).__module__)  # a device array: its own graph
    if isinstance(x, np.ndarray):
        return ("T", x.shape, x.dtype.str)
    if isinstance(x, TensorSpec):
        return ("S", tuple(x.shape) if x.shape.rank is not None else None, x.dtype.name)
    try:
        hash(x)
    except TypeError:
        return ("O", id(x))
    return ("P", type(x).__name__, x)


def _is_tensor_leaf(x: Any) -> bool:
    return isinstance(x, (Tensor, np.ndarray)) and not isinstance(x, Variable)


def _wrap(a: Any) -> Tensor:
    return Tensor(a if type(a) is np.ndarray else np.asarray(a))


class ConcreteFunction:
    """One traced and compiled specialisation of a `Function`.

    `print(cf.graph)` shows the graph after optimisation; `print(cf.code)` the generated code.
    """

    def __init__(self, name: str, graph: Graph, arg_positions: list[int],
                 out_structure: Any, out_leaves: list, signature: list,
                 buffer_pool: dict | None = None) -> None:
        from ndflow.graph.executor import compile_graph

        self.name = name
        self.graph = graph
        self._arg_positions = arg_positions
        self._out_structure = out_structure
        self._out_leaves = out_leaves  # Value (graph output) or a Python value
        self.structured_input_signature = signature
        self._compiled, self.code, self._buffers = compile_graph(graph, buffer_pool, graph.xp)
        self._run = self._compiled

    def _release_buffers(self) -> None:
        """Drop the pooled intermediate buffers until the next call (see Function)."""
        if len(self._buffers) and self._run is self._compiled:
            self._buffers.release()
            self._run = self._bind_and_run

    def _bind_and_run(self, *arrays: Any) -> Any:
        self._buffers.bind()
        self._run = self._compiled
        return self._compiled(*arrays)

    def pretty_printed_graph(self) -> str:
        return str(self.graph)

    def __repr__(self) -> str:
        return f"<ConcreteFunction {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        leaves = nest.flatten((list(args), kwargs))
        arrays = []
        for pos, spec in zip(self._arg_positions, self.graph.args):
            x = leaves[pos]
            a = x._value if isinstance(x, Tensor) else np.asarray(x)
            if a.shape != spec.shape or a.dtype != spec.dtype:
                raise InvalidArgumentError(
                    f"{self.name}: argument {pos} expected a tensor of shape {list(spec.shape)} "
                    f"and dtype {spec.dtype.name}, got shape {list(a.shape)} and dtype "
                    f"{a.dtype.name}; call the Function (not this concrete function) to trace "
                    "a new signature"
                )
            arrays.append(a)
        return self._call_arrays(arrays)

    def _call_arrays(self, arrays: list) -> Any:
        outs = self._run(*arrays)
        it = iter(outs)
        leaves = [_wrap(next(it)) if isinstance(v, Value) else v for v in self._out_leaves]
        return nest.pack_sequence_as(self._out_structure, leaves)


class Function:
    """A Python function compiled per input signature (see `ndflow.function`)."""

    def __init__(self, python_function: Callable, input_signature: Any = None,
                 reduce_retracing: bool = False, jit_compile: Any = None,
                 name: str | None = None) -> None:
        self.python_function = python_function
        self.input_signature = None if input_signature is None else list(input_signature)
        if self.input_signature is not None:
            for s in nest.flatten(self.input_signature):
                if not isinstance(s, TensorSpec):
                    raise TypeError(f"ndflow.function: input_signature must hold TensorSpec "
                                    f"objects, got {type(s).__name__}")
        self.reduce_retracing = reduce_retracing
        self.jit_compile = jit_compile
        self.name = name or getattr(python_function, "__name__", "function")
        self._cache: dict = {}
        self._buffer_pool: dict = {}  # intermediate buffers shared by the specialisations
        self._visible_traced: set = set()
        self._relaxed: dict = {}
        self._trace_count = 0
        self._recent: list[bool] = []
        self._warned = False
        self._instance_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        functools.update_wrapper(self, python_function)

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        bound = self._instance_cache.get(instance)
        if bound is None:
            bound = Function(functools.partial(self.python_function, instance),
                             self.input_signature, self.reduce_retracing, self.jit_compile,
                             self.name)
            self._instance_cache[instance] = bound
        return bound

    def experimental_get_tracing_count(self) -> int:
        return self._trace_count

    def _release_buffers(self) -> None:
        """Free the intermediate buffers its compiled graphs keep between calls; the next
        call allocates them again. Keras calls this when a fit/evaluate/predict loop ends, so
        that a finished loop holds no more memory than eager execution would."""
        for cf in self._cache.values():
            cf._release_buffers()
        self._buffer_pool.clear()

    # --- calling ----------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if current_trace() is not None:  # nested function: inline into the outer trace
            return self.python_function(*args, **kwargs)
        if dispatch.recording and dispatch.current_tapes():
            # An eager GradientTape records around this call: run the Python function op by
            # op so the tape sees every op and gradients flow through the call (TensorFlow
            # records the call as one op with a compiled backward; ndflow does not yet).
            if self.input_signature is not None:
                self._check_signature(args)
            return self.python_function(*args, **kwargs)
        cf, leaves = self._concrete_for(args, kwargs)
        arrays = []
        for pos in cf._arg_positions:
            x = leaves[pos]
            arrays.append(x._value if isinstance(x, Tensor) else np.asarray(x))
        return cf._call_arrays(arrays)

    def get_concrete_function(self, *args: Any, **kwargs: Any) -> ConcreteFunction:
        """The concrete function for these arguments (TensorSpecs allowed), tracing if needed."""
        if not args and not kwargs and self.input_signature is not None:
            args = tuple(self.input_signature)
        return self._concrete_for(args, kwargs)[0]

    def _check_signature(self, args: tuple) -> None:
        sig = self.input_signature
        flat_sig = nest.flatten(sig)
        flat_args = nest.flatten(list(args))
        if len(flat_args) != len(flat_sig):
            raise TypeError(f"{self.name}: expected {len(flat_sig)} tensor arguments matching "
                            f"input_signature, got {len(flat_args)}")
        for i, (s, a) in enumerate(zip(flat_sig, flat_args)):
            if isinstance(a, TensorSpec):
                got = repr(a)
            else:
                arr = a._value if isinstance(a, Tensor) else np.asarray(a)
                got = f"shape {list(arr.shape)} and dtype {arr.dtype.name}"
            if not s.is_compatible_with(a):
                raise InvalidArgumentError(
                    f"{self.name}: argument {i} expected shape {s.shape} and dtype "
                    f"{s.dtype.name} (input_signature), got {got}")

    def _concrete_for(self, args: tuple, kwargs: dict) -> tuple[ConcreteFunction, list]:
        if self.input_signature is not None:
            if kwargs:
                raise TypeError(f"{self.name}: keyword arguments are not allowed with an "
                                "input_signature")
            self._check_signature(args)
        leaves = nest.flatten((list(args), kwargs))
        structure = nest.structure_key((args, kwargs))
        leaf_keys = tuple(_leaf_key(x) for x in leaves)
        key = (structure, leaf_keys)
        cf = self._cache.get(key)
        if cf is None:
            # Graphs are compiled per concrete shape. A call that TensorFlow would serve from
            # an existing relaxed trace (input_signature with None dims, reduce_retracing)
            # gets its own specialisation traced silently: not counted as a retrace, and with
            # the Python function's prints suppressed.
            visible = self._visible_key(structure, leaf_keys)
            silent = visible in self._visible_traced
            self._recent.append(not silent)
            del self._recent[:-10]
            cf = self._trace(args, kwargs, leaves, silent=silent)
            self._visible_traced.add(visible)
            self._cache[key] = cf
        else:
            self._recent.append(False)
            del self._recent[:-10]
        return cf, leaves

    def _visible_key(self, structure: Any, leaf_keys: tuple) -> Any:
        """The trace TensorFlow would use for a call: the key without relaxed dimensions."""
        if self.input_signature is not None:
            # one visible trace per rank, or for all ranks where a spec's rank is unknown
            any_rank = [s.shape.rank is None for s in nest.flatten(self.input_signature)]
            return ("signature", structure, tuple(
                k if k[0] != "T" else
                ("T", None if i < len(any_rank) and any_rank[i] else len(k[1]), k[2])
                for i, k in enumerate(leaf_keys)))
        if not self.reduce_retracing:
            return (structure, leaf_keys)
        base = (structure, tuple(k if k[0] != "T" else ("T", len(k[1]), k[2])
                                 for k in leaf_keys))
        shapes = [k[1] for k in leaf_keys if k[0] == "T"]
        relaxed = self._relaxed.get(base)
        if relaxed is None:
            relaxed = shapes
        elif not all(len(a) == len(b) and all(r is None or r == d for r, d in zip(a, b))
                     for a, b in zip(relaxed, shapes)):
            # a new shape: generalise the differing dimensions (one visible retrace)
            relaxed = [tuple(r if r == d else None for r, d in zip(a, b))
                       for a, b in zip(relaxed, shapes)]
        self._relaxed[base] = relaxed
        return (base, tuple(tuple(r) for r in relaxed))

    def _trace(self, args: tuple, kwargs: dict, leaves: list,
               silent: bool = False) -> ConcreteFunction:
        if silent:
            import contextlib
            import io

            sink = io.StringIO()
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                return self._trace_python(args, kwargs, leaves)
        self._trace_count += 1
        if (self._trace_count > 5 and sum(self._recent[-5:]) >= 5 and not self._warned):
            self._warned = True
            warnings.warn(
                f"5 out of the last 5 calls to {self.name} triggered ndflow.function retracing. "
                "Tracing is expensive; frequent retracing comes from calling it with new tensor "
                "shapes, new Python values, or in a loop that creates new functions. Use "
                "input_signature, pass tensors instead of Python numbers, or "
                "reduce_retracing=True.", stacklevel=4)
        return self._trace_python(args, kwargs, leaves)

    def _trace_python(self, args: tuple, kwargs: dict, leaves: list) -> ConcreteFunction:
        graph = Graph(self.name)
        state = _TraceState(graph, self.name, self, parent=current_trace())
        traced_leaves: list = []
        arg_positions: list[int] = []
        for i, x in enumerate(leaves):
            if isinstance(x, TensorSpec) or _is_tensor_leaf(x):
                if isinstance(x, TensorSpec):
                    if not x.shape.is_fully_defined():
                        raise InvalidArgumentError(
                            f"{self.name}: get_concrete_function needs fully known shapes to "
                            f"compile; got {x}. Call the function with real tensors instead.")
                    shape, dt = tuple(x.shape), x.dtype._np
                else:
                    a = x._value if isinstance(x, Tensor) else np.asarray(x)
                    shape, dt = a.shape, a.dtype
                    if type(a) is not np.ndarray:  # the graph runs where its inputs live
                        graph.xp = get_array_module(a)
                v = graph.new_value("arg", shape, dt, index=len(graph.args))
                graph.args.append(v)
                arg_positions.append(i)
                traced_leaves.append(GraphTensor(graph, v))
            else:
                traced_leaves.append(x)
        targs, tkwargs = nest.pack_sequence_as((list(args), kwargs), traced_leaves)
        prev_state = current_trace()
        prev_hook = dispatch.trace_hook
        _local.trace = state
        dispatch.trace_hook = _trace_op
        try:
            out = self.python_function(*targs, **tkwargs)
        finally:
            _local.trace = prev_state
            dispatch.trace_hook = prev_hook
        out_leaves = []
        for leaf in nest.flatten(out):
            if isinstance(leaf, GraphTensor):
                graph.outputs.append(leaf._gv)
                out_leaves.append(leaf._gv)
            elif isinstance(leaf, Tensor) and not leaf._symbolic:
                v = _value_of(state, leaf)
                graph.outputs.append(v)
                out_leaves.append(v)
            else:
                out_leaves.append(leaf)
        from ndflow.graph.passes import optimize

        optimize(graph)
        signature = [TensorSpec(v.shape, v.dtype) for v in graph.args]
        cf = ConcreteFunction(self.name, graph, arg_positions, out, out_leaves, signature,
                              self._buffer_pool)
        cf.outer_captures = [t for t, _ in state.outer_captures]
        return cf


def function(func: Callable | None = None, input_signature: Any = None, autograph: bool = True,
             jit_compile: Any = None, reduce_retracing: bool = False,
             experimental_relax_shapes: Any = None, name: str | None = None, **kwargs: Any) -> Any:
    """Compile `func` into graphs: traced once per input signature, then run without dispatch.

    Usable as `@ndflow.function` or `ndflow.function(f, input_signature=[...])`.
    """
    def wrap(f: Callable) -> Function:
        from ndflow.autograph.conversion import Entry  # AutoGraph: converted at trace time

        return Function(Entry(f, autograph), input_signature,
                        reduce_retracing or bool(experimental_relax_shapes), jit_compile, name)

    return wrap if func is None else wrap(func)


def variable_created_while_tracing(var: Variable) -> None:
    """Called by `Variable.__init__`: refuse variables created on every call."""
    state = current_trace()
    if state is not None and state.owner is not None and state.owner._trace_count > 1:
        raise ValueError(
            f"{state.fn_name}: ndflow.function only supports variables created on the first "
            "call (trace); this function creates a new tf.Variable on a later trace. Create "
            "variables outside the function, or once (e.g. `if self.v is None:`)."
        )


def trace_graph(fn: Callable, arg_specs: list[tuple[tuple, Any]], name: str) -> Graph:
    """The graph of `fn(*args)` for arguments of these (shape, dtype) specs, as the ops ran:
    no optimisation pass, no compilation (what export lowers)."""
    graph = Graph(name)
    state = _TraceState(graph, name, None, parent=None)
    args = []
    for shape, dtype in arg_specs:
        v = graph.new_value("arg", tuple(shape), np.dtype(dtype), index=len(graph.args))
        graph.args.append(v)
        args.append(GraphTensor(graph, v))
    prev_state, prev_hook = current_trace(), dispatch.trace_hook
    _local.trace = state
    dispatch.trace_hook = _trace_op
    try:
        out = fn(*args)
    finally:
        _local.trace = prev_state
        dispatch.trace_hook = prev_hook
    for leaf in nest.flatten(out):
        if isinstance(leaf, GraphTensor):
            graph.outputs.append(leaf._gv)
        elif isinstance(leaf, Tensor):
            graph.outputs.append(_value_of(state, leaf))
        else:
            raise TypeError(f"{name}: expected a function that returns tensors, got an "
                            f"output of type {type(leaf).__name__}")
    graph.keepalive = state.keepalive  # type: ignore[attr-defined]
    return graph

def _assign_hook(var: Variable, value: Any, mode: str) -> Variable | None:
    # None: this thread is not tracing (e.g. a tf.data worker while the main thread traces),
    # so the variable assigns eagerly
    return trace_assign(var, value, mode) if current_trace() is not None else None


# core hooks into the tracer through dispatch, never by importing it
dispatch.assign_hook = _assign_hook
dispatch.variable_hook = variable_created_while_tracing
dispatch.host_call_hook = host_call
