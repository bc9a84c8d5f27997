"""Reductions (`reduce_sum`, `reduce_mean`, …), arg-reductions and cumulative sums.

>>> import ndflow as tf
>>> x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
>>> tf.reduce_sum(x, axis=0).numpy().tolist(), float(tf.reduce_mean(x))
([4.0, 6.0], 2.5)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor
from ndflow.ops import math as m
from ndflow.ops.row_sums import leading_sum, takes_leading_sum
from ndflow.ops._util import norm_axis, norm_one_axis, npdt, require_float, shape_of, t
from ndflow.ops.shape_ops import broadcast_to, reshape


def _reduced_shape(shape: tuple, axis: tuple | None, keepdims: bool) -> tuple:
    if axis is None:
        axis = tuple(range(len(shape)))
    if keepdims:
        return tuple(1 if i in axis else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axis)


def _red_infer(name: str, out_dtype: Any = None):
    def infer(x: Spec, axis: tuple | None, keepdims: bool) -> Spec:
        if axis is not None:
            for a in axis:
                if not 0 <= a < max(x.ndim, 1):
                    raise fail(name, f"axis in [-{x.ndim}, {x.ndim})", f"axis={a}")
        return Spec(_reduced_shape(x.shape, axis, keepdims),
                    x.dtype if out_dtype is None else out_dtype)
    return infer


def _keep_shape(node: Any) -> tuple:
    x = node.inputs[0]
    return _reduced_shape(shape_of(x), node.attrs["axis"], True)


def _sum_grad(node: Any, g: Tensor) -> tuple:
    x = node.inputs[0]
    return (broadcast_to(reshape(g, _keep_shape(node)), shape_of(x)),)


def _extreme_grad(node: Any, g: Tensor) -> tuple:
    x = node.inputs[0]
    keep = _keep_shape(node)
    y = reshape(node.outputs, keep)
    mask = m.cast(m.equal(x, y), npdt(x))
    count = reshape(reduce_sum(mask, axis=node.attrs["axis"], keepdims=True), keep)
    return (m.multiply(mask, m.divide(reshape(g, keep), count)),)


def _prod_grad(node: Any, g: Tensor) -> tuple:
    # Exact without division, so zeros in x are handled: d(prod)/dx_i = prod_{j != i} x_j,
    # computed with exclusive cumulative products from both ends along a flattened axis.
    x = node.inputs[0]
    axis = node.attrs["axis"]
    nd = len(shape_of(x))
    axes = tuple(range(nd)) if axis is None else axis
    rest = tuple(i for i in range(nd) if i not in axes)
    perm = rest + axes
    xt = m_transpose(x, perm)
    sh = shape_of(xt)
    n_rest = int(np.prod([sh[i] for i in range(len(rest))])) if rest else 1
    flat = reshape(xt, (n_rest, -1))
    left = cumprod(flat, axis=1, exclusive=True)
    right = cumprod(flat, axis=1, exclusive=True, reverse=True)
    others = reshape(m.multiply(left, right), sh)
    inv = tuple(np.argsort(perm))
    others = m_transpose(others, inv)
    gk = broadcast_to(reshape(g, _keep_shape(node)), shape_of(x))
    return (m.multiply(gk, others),)


def m_transpose(x: Tensor, perm: tuple) -> Tensor:
    from ndflow.ops.array import transpose

    return transpose(x, perm)


def _leading_sum(shape: tuple, dtype: Any, axis: tuple | None) -> bool:
    """A float sum over the leading axes of a large array (a size None: not known)."""
    return (axis is not None and 0 < len(axis) < len(shape)
            and (None in shape or math.prod(shape) >= 65536)
            and np.dtype(dtype) in (np.float32, np.float64)
            and tuple(axis) == tuple(range(len(axis))))


def _leading_column_sum(a: Any, axis: tuple | None) -> bool:
    """A float sum over the leading axes of a large C-contiguous array (a bias gradient):
    a compiled pass in NumPy's order (`row_sums.leading_sum`), else one BLAS matrix-vector
    product with ones, either several times faster than NumPy's one ufunc call per row."""
    return _leading_sum(a.shape, a.dtype, axis) and a.flags.c_contiguous


def _acc_fwd(fn_name: str):
    """Sum/prod kernels that keep the input dtype (NumPy widens int32 to int64 and would sum
    float16 in float16); float16 accumulates in float32, as TensorFlow does."""
    def fwd(xp: Any, a: Any, axis: tuple | None, keepdims: bool) -> Any:
        fn = getattr(xp, fn_name)
        if fn_name == "sum" and _leading_column_sum(a, axis):
            k = len(axis)
            out = leading_sum(a, k)
            if out is None:
                rows = int(np.prod(a.shape[:k]))
                out = xp.ones(rows, a.dtype) @ a.reshape(rows, -1)
            return out.reshape((1,) * k * keepdims + a.shape[k:])
        if a.dtype == np.float16:
            return fn(a, axis=axis, keepdims=keepdims, dtype=np.float32).astype(np.float16)
        return fn(a, axis=axis, keepdims=keepdims, dtype=a.dtype)
    return fwd


def _sum_blas(attrs: dict, specs: list) -> Any:
    """The ``blas`` trait of reduce_sum: "any" where it may take the matrix-vector product
    (`_leading_column_sum` without compiled kernels, or with one value per row), which
    NumPy's BLAS runs on all its threads."""
    (shape, dtype), axis = specs[0], attrs["axis"]
    if not _leading_sum(shape, dtype, axis) or takes_leading_sum(shape[len(axis):], dtype):
        return []
    return "any"


_SUM = register_op("reduce_sum", _acc_fwd("sum"), _red_infer("reduce_sum"), _sum_grad,
                   blas=_sum_blas)


def _extreme_fwd(fn_name: str):
    """max/min; an empty reduction gives the identity (lowest/highest value), as in TF."""
    def fwd(xp: Any, a: Any, axis: tuple | None, keepdims: bool) -> Any:
        fn = getattr(xp, fn_name)
        if a.size == 0:
            info = np.finfo(a.dtype) if a.dtype.kind == "f" else np.iinfo(
                np.int8 if a.dtype.kind == "b" else a.dtype)
            if a.dtype.kind == "f":
                ident = -np.inf if fn_name == "max" else np.inf
            else:
                ident = info.min if fn_name == "max" else info.max
            if a.dtype.kind == "b":
                ident = fn_name != "max"
            return fn(a, axis=axis, keepdims=keepdims, initial=ident)
        return fn(a, axis=axis, keepdims=keepdims)
    return fwd


_MAX = register_op("reduce_max", _extreme_fwd("max"), _red_infer("reduce_max"), _extreme_grad)
_MIN = register_op("reduce_min", _extreme_fwd("min"), _red_infer("reduce_min"), _extreme_grad)
_PROD = register_op("reduce_prod", _acc_fwd("prod"), _red_infer("reduce_prod"), _prod_grad)
_ANY = register_op("reduce_any", lambda xp, a, axis, keepdims: xp.any(a, axis=axis,
                                                                       keepdims=keepdims),
                   _red_infer("reduce_any"), None)
_ALL = register_op("reduce_all", lambda xp, a, axis, keepdims: xp.all(a, axis=axis,
                                                                       keepdims=keepdims),
                   _red_infer("reduce_all"), None)


def _reduce(op: Any, name: str, input_tensor: Any, axis: Any, keepdims: bool) -> Tensor:
    x = t(input_tensor)
    ax = norm_axis(name, axis, len(shape_of(x)))
    if ax is not None and not ax and not keepdims:
        return x
    if npdt(x).kind == "b" and op in (_SUM, _PROD):
        x = m.cast(x, np.int32)
    return execute(op, (x,), {"axis": ax, "keepdims": bool(keepdims)})


def reduce_sum(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    return _reduce(_SUM, "reduce_sum", input_tensor, axis, keepdims)


def reduce_max(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    return _reduce(_MAX, "reduce_max", input_tensor, axis, keepdims)


def reduce_min(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    return _reduce(_MIN, "reduce_min", input_tensor, axis, keepdims)


def reduce_prod(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                name: str | None = None) -> Tensor:
    return _reduce(_PROD, "reduce_prod", input_tensor, axis, keepdims)


def _bool_reduce(op: Any, name: str, input_tensor: Any, axis: Any, keepdims: bool) -> Tensor:
    x = t(input_tensor)
    if npdt(x).kind != "b":
        raise fail(name, "a bool tensor", f"dtype {npdt(x).name}", "Compare first, e.g. x > 0.")
    return _reduce(op, name, x, axis, keepdims)


def reduce_any(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    return _bool_reduce(_ANY, "reduce_any", input_tensor, axis, keepdims)


def reduce_all(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    return _bool_reduce(_ALL, "reduce_all", input_tensor, axis, keepdims)


def _count(x: Tensor, ax: tuple | None) -> int | None:
    """Number of reduced elements, or None when a reduced dimension is unknown (symbolic)."""
    shape = shape_of(x)
    if ax is None:
        ax = tuple(range(len(shape)))
    dims = [shape[a] for a in ax]
    if None in dims:
        return None
    return int(np.prod(dims)) if ax else 1


def reduce_mean(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                name: str | None = None) -> Tensor:
    """Mean over `axis` (all axes when None). Integer inputs give an integer mean, as in TF."""
    x = t(input_tensor)
    ax = norm_axis("reduce_mean", axis, len(shape_of(x)))
    s = _reduce(_SUM, "reduce_mean", x, ax, keepdims)
    n = _count(x, ax)
    if n is None:  # unknown sizes (symbolic tensors): count with the ops themselves
        from ndflow.ops.creation import ones_like

        n = _reduce(_SUM, "reduce_mean", ones_like(x), ax, keepdims)
    if npdt(x).kind in "iu":  # integer division truncating toward zero, as in TensorFlow
        if n == 0:
            raise fail("reduce_mean", "a non-empty reduction for an integer tensor",
                       f"an empty reduction of shape {list(shape_of(x))}")
        q = m.floordiv(m.abs(s), n)
        return m.where(m.less(s, 0), m.negative(q), q) if npdt(x).kind == "i" else q
    if isinstance(n, Tensor):
        return m.divide(s, n)
    return m.multiply(s, 1.0 / n) if n else m.divide(s, 0.0)


def reduce_variance(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                    name: str | None = None) -> Tensor:
    x = t(input_tensor)
    require_float("reduce_variance", x)
    mean = reduce_mean(x, axis, keepdims=True)
    return reduce_mean(m.square(m.subtract(x, mean)), axis, keepdims)


def reduce_std(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    return m.sqrt(reduce_variance(input_tensor, axis, keepdims))


def reduce_logsumexp(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                     name: str | None = None) -> Tensor:
    """log(sum(exp(x))) computed stably by subtracting the maximum first."""
    x = t(input_tensor)
    require_float("reduce_logsumexp", x)
    mx = m.stop_gradient(reduce_max(x, axis, keepdims=True))
    mx = m.where(m.is_finite(mx), mx, m.zeros_like_(mx))
    if not keepdims:
        from ndflow.ops.array import squeeze

        ax = norm_axis("reduce_logsumexp", axis, len(shape_of(x)))
        mx_out = squeeze(mx, tuple(range(len(shape_of(x)))) if ax is None else ax)
    else:
        mx_out = mx
    return m.add(m.log(reduce_sum(m.exp(m.subtract(x, mx)), axis, keepdims=keepdims)), mx_out)


def reduce_euclidean_norm(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                          name: str | None = None) -> Tensor:
    return m.sqrt(reduce_sum(m.square(input_tensor), axis, keepdims))


def count_nonzero(input: Any, axis: Any = None, keepdims: bool = False, dtype: Any = np.int64,
                  name: str | None = None) -> Tensor:
    x = t(input)
    nz = m.not_equal(x, m.zeros_like_(x)) if npdt(x).kind != "b" else x
    return m.cast(reduce_sum(m.cast(nz, np.int64), axis, keepdims), dtype)


# --- arg reductions ---------------------------------------------------------------------------


def _arg_infer(x: Spec, axis: int, output_type: Any) -> Spec:
    return Spec(tuple(d for i, d in enumerate(x.shape) if i != axis), output_type)


_ARGMAX = register_op("argmax", lambda xp, a, axis, output_type:
                      xp.argmax(a, axis=axis).astype(output_type), _arg_infer, None)
_ARGMIN = register_op("argmin", lambda xp, a, axis, output_type:
                      xp.argmin(a, axis=axis).astype(output_type), _arg_infer, None)


def argmax(input: Any, axis: Any = None, output_type: Any = np.int64,
           name: str | None = None) -> Tensor:
    """Index of the largest value along `axis` (default 0, as in TensorFlow)."""
    from ndflow.core.dtypes import np_dtype

    x = t(input)
    ax = norm_one_axis("argmax", 0 if axis is None else axis, len(shape_of(x)))
    return execute(_ARGMAX, (x,), {"axis": ax, "output_type": np_dtype(output_type)})


def argmin(input: Any, axis: Any = None, output_type: Any = np.int64,
           name: str | None = None) -> Tensor:
    from ndflow.core.dtypes import np_dtype

    x = t(input)
    ax = norm_one_axis("argmin", 0 if axis is None else axis, len(shape_of(x)))
    return execute(_ARGMIN, (x,), {"axis": ax, "output_type": np_dtype(output_type)})


# --- cumulative -------------------------------------------------------------------------------


def _cum_fwd(fn_name: str):
    def fwd(xp: Any, a: Any, axis: int, exclusive: bool, reverse: bool) -> Any:
        fn = getattr(xp, fn_name)
        if reverse:
            a = xp.flip(a, axis)
        out = fn(a, axis=axis)
        if exclusive:
            ident = 0 if fn_name == "cumsum" else 1
            pad = [(0, 0)] * a.ndim
            pad[axis] = (1, 0)
            out = xp.pad(out, pad, constant_values=ident)
            out = xp.take(out, xp.arange(a.shape[axis]), axis=axis)
        if reverse:
            out = xp.flip(out, axis)
        return xp.ascontiguousarray(out.astype(a.dtype, copy=False))
    return fwd


def _cumsum_grad(node: Any, g: Tensor) -> tuple:
    at = node.attrs
    return (cumsum(g, at["axis"], exclusive=at["exclusive"], reverse=not at["reverse"]),)


def _cumprod_grad(node: Any, g: Tensor) -> tuple:
    # d/dx_i of y_k = y_k / x_i for k covering i; valid for nonzero x.
    x = node.inputs[0]
    at = node.attrs
    y = node.outputs
    s = cumsum(m.multiply(g, y), at["axis"], exclusive=at["exclusive"], reverse=not at["reverse"])
    return (m.divide(s, x),)


_CUMSUM = register_op("cumsum", _cum_fwd("cumsum"),
                      lambda x, **k: Spec(x.shape, x.dtype), _cumsum_grad)
_CUMPROD = register_op("cumprod", _cum_fwd("cumprod"),
                       lambda x, **k: Spec(x.shape, x.dtype), _cumprod_grad)


def cumsum(x: Any, axis: int = 0, exclusive: bool = False, reverse: bool = False,
           name: str | None = None) -> Tensor:
    """Cumulative sum along `axis`; `exclusive` leaves out the current element."""
    x = t(x)
    ax = norm_one_axis("cumsum", axis, len(shape_of(x)))
    return execute(_CUMSUM, (x,), {"axis": ax, "exclusive": bool(exclusive),
                                   "reverse": bool(reverse)})


def cumprod(x: Any, axis: int = 0, exclusive: bool = False, reverse: bool = False,
            name: str | None = None) -> Tensor:
    x = t(x)
    ax = norm_one_axis("cumprod", axis, len(shape_of(x)))
    return execute(_CUMPROD, (x,), {"axis": ax, "exclusive": bool(exclusive),
                                    "reverse": bool(reverse)})
