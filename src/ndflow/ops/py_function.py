"""`tf.numpy_function` and `tf.py_function`: Python work inside pipelines and graph functions.

Eagerly (and in `Dataset.map`, which runs eagerly) the function is simply called: a
`py_function` body is recorded by `GradientTape` like any eager code, so gradients flow through
it; a `numpy_function` sees NumPy arrays and is not differentiable, as in TensorFlow.

Inside `ndflow.function` the call becomes a host node that runs on every call of the compiled
function. ndflow's graphs know every shape, so at trace time the function is probed once with
zero-filled arguments of the traced shapes to learn its output shapes; a later run that returns
other shapes is refused with an error saying so (TensorFlow would give unknown shapes). Outputs
of a traced call carry no gradient.

>>> import ndflow as tf, numpy as np
>>> tf.numpy_function(lambda a: np.sort(a)[::-1].copy(), [tf.constant([2, 9, 4])],
...                   tf.int32).numpy().tolist()
[9, 4, 2]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ndflow.core import dispatch
from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.errors import InvalidArgumentError


def _dtypes(Tout: Any) -> tuple[list, bool]:  # noqa: N803 - TensorFlow's argument name
    from ndflow.core.dtypes import as_dtype

    single = not isinstance(Tout, (list, tuple))
    out = []
    for t in ([Tout] if single else list(Tout)):
        if t in (str, bytes) or getattr(t, "name", t) == "string":
            out.append(None)  # strings stay NumPy object arrays
        else:
            out.append(np.dtype(as_dtype(t).as_numpy_dtype))
    return out, single


def _convert_outputs(op: str, result: Any, dtypes: list, single: bool) -> list:
    vals = [result] if single else (list(result) if isinstance(result, (list, tuple))
                                    else [result])
    if len(vals) != len(dtypes):
        raise InvalidArgumentError(f"{op}: expected {len(dtypes)} outputs (Tout), got "
                                   f"{len(vals)}")
    out = []
    for i, (v, dt) in enumerate(zip(vals, dtypes)):
        a = v.numpy() if isinstance(v, Tensor) else np.asarray(v)
        if dt is None:
            out.append(np.asarray(a, dtype=object))
            continue
        if a.dtype != dt and not (np.can_cast(a.dtype, dt, "same_kind") or a.dtype.kind == "b"
                                  or (a.dtype.kind in "iu" and dt.kind in "iuf")):
            raise InvalidArgumentError(
                f"{op}: output {i} has dtype {a.dtype}, expected {dt} (Tout)")
        out.append(a.astype(dt, copy=False))
    return out


def _wrap(arrays: list, single: bool) -> Any:
    ts = [a if a.dtype.kind == "O" else Tensor(a) for a in arrays]
    return ts[0] if single else ts


def _inputs(inp: Any) -> list:
    if isinstance(inp, (list, tuple)):
        return list(inp)
    return [inp]


def _traced_call(op: str, func: Callable, args: list, dtypes: list, single: bool,
                 as_numpy: bool) -> Any:
    """Inside ndflow.function: a host node, with output shapes from a probe on zeros."""
    def host(*xs: Any) -> tuple:
        vals = [_np(x) if as_numpy and isinstance(x, Tensor) else x for x in xs]
        return tuple(_convert_outputs(op, func(*vals), dtypes, single))

    probe = []
    for x in args:
        if _traced(x):
            z = np.zeros(tuple(x.shape), x.dtype.as_numpy_dtype)
            probe.append(z if as_numpy else Tensor(z))
        else:
            probe.append(_np(x) if as_numpy and isinstance(x, Tensor) else x)
    try:
        with np.errstate(all="ignore"):
            example = host(*probe)
    except Exception as e:
        raise InvalidArgumentError(
            f"{op}({getattr(func, '__name__', 'func')}): inside ndflow.function the function is "
            "probed once with zero-filled arguments to learn its output shapes, and that call "
            f"failed ({type(e).__name__}: {e}). Call it eagerly, or make it accept zeros."
        ) from e
    shapes = [a.shape for a in example]

    def checked(*xs: Any) -> tuple:
        outs = host(*xs)
        for i, (a, s) in enumerate(zip(outs, shapes)):
            if a.shape != s:
                raise InvalidArgumentError(
                    f"{op}: output {i} has shape {a.shape} in this call but {s} when the "
                    "graph function was traced; ndflow graphs fix every shape at trace time "
                    "(run eagerly for data-dependent shapes)")
        return outs

    checked._retains_args = False  # type: ignore[attr-defined]
    result = dispatch.host_call_hook(checked, tuple(args), {}, list(example))
    return result[0] if single else list(result)


def _call(op: str, func: Callable, inp: Any, Tout: Any, as_numpy: bool) -> Any:  # noqa: N803
    if not callable(func):
        raise InvalidArgumentError(f"{op}: expected a callable func, got {type(func).__name__}")
    dtypes, single = _dtypes(Tout)
    args = [x if isinstance(x, Tensor) or (isinstance(x, np.ndarray) and x.dtype.kind == "O")
            or isinstance(x, bytes) else convert_to_tensor(x) for x in _inputs(inp)]
    if dispatch.trace_hook is not None and any(_traced(x) for x in args):
        return _traced_call(op, func, args, dtypes, single, as_numpy)
    if as_numpy:
        vals = [_np(x) if isinstance(x, Tensor) else x for x in args]
        return _wrap(_convert_outputs(op, func(*vals), dtypes, single), single)
    result = func(*args)
    outs = [result] if single else list(result)
    if len(outs) != len(dtypes):
        raise InvalidArgumentError(f"{op}: expected {len(dtypes)} outputs (Tout), got "
                                   f"{len(outs)}")
    from ndflow.ops.math import cast

    conv = []
    for v, dt in zip(outs, dtypes):  # keep tensors (and so their gradients) where possible
        if dt is None:
            conv.append(np.asarray(v, dtype=object))
        elif isinstance(v, Tensor):
            conv.append(v if v.dtype.as_numpy_dtype == dt else cast(v, dt))
        else:
            conv.append(Tensor(np.asarray(v, dtype=dt)))
    return conv[0] if single else conv


def _traced(x: Any) -> bool:
    """A tensor of a graph being traced (in this thread: other threads' tensors are eager)."""
    return isinstance(x, Tensor) and x._traced


def _np(x: Tensor) -> Any:
    """A tensor's value as the Python function sees it in TF: an array, or ``bytes`` for a
    scalar string."""
    v = x.numpy()
    if isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind == "O":
        return v.item()
    return v


def numpy_function(func: Callable, inp: Any, Tout: Any, stateful: bool = True,  # noqa: N803
                   name: str | None = None) -> Any:
    """Call `func` on NumPy arrays; its results (cast to `Tout`) come back as tensors."""
    return _call("numpy_function", func, inp, Tout, as_numpy=True)


def py_function(func: Callable, inp: Any, Tout: Any, name: str | None = None) -> Any:  # noqa: N803
    """Call `func` on eager tensors (differentiable eagerly); results cast to `Tout`."""
    return _call("py_function", func, inp, Tout, as_numpy=False)
