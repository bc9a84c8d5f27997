"""Pooling: max and average pooling over 1, 2 or 3 spatial dims.

Windows are strided slices of the (padded) input, one per window offset, so a pool of K
offsets costs K vectorised passes and no index arrays. Max pooling returns the window-local
argmax as a second (hidden) output; its backward pass writes the gradient at the argmax
positions with one masked pass per offset (for non-overlapping windows a plain masked write,
no accumulation). Ties go to the first offset in row-major order, like PyTorch and
TensorFlow, so each output passes its gradient to exactly one input.

Gradient pairs: max_pool -> max_pool_grad <-> max_pool_select (each the other's adjoint for a
fixed argmax), avg_pool <-> avg_pool_grad; so second-order gradients work.

>>> import ndflow as tf
>>> x = tf.reshape(tf.range(16.0), [1, 4, 4, 1])
>>> tf.nn.max_pool2d(x, 2, 2, "VALID").numpy()[0, :, :, 0].tolist()
[[5.0, 7.0], [13.0, 15.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.backend import jit
from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor
from ndflow.ops._util import require_float, shape_of, t
from ndflow.ops.conv import (
    _channels_first, _crop_padding, _from_last, _geometry, _offsets, _out_shape, _pad_input,
    _padding_arg, _spatial, _spatial_out, _to_last, _window,
)

__all__ = ["max_pool", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool", "avg_pool1d",
           "avg_pool2d", "avg_pool3d"]

_ONES = (1, 1, 1)


def _idx_dtype(kk: int) -> Any:
    return np.uint8 if kk <= 255 else np.int32


def _geo(op: str, xl_shape: tuple, ksize: tuple, strides: tuple, padding: Any) -> tuple:
    return _geometry(op, tuple(xl_shape[1:-1]), ksize, strides, _ONES[:len(ksize)], padding)


def _max_pool_fwd(xp: Any, x: Any, *, ksize: tuple, strides: tuple, padding: Any,
                  channels_first: bool) -> tuple:
    nd = len(ksize)
    xl = _to_last(xp, x, channels_first)
    pads, out = _geo(f"max_pool{nd}d", xl.shape, ksize, strides, padding)
    xpad = _pad_input(xp, xl, pads, -np.inf)
    if tuple(strides) == tuple(ksize) and xp is np:
        y, idx = _max_pool_tiles(xpad, ksize, out)
        return _from_last(xp, y, channels_first), _from_last(xp, idx, channels_first)
    dil = _ONES[:nd]
    offs = _offsets(ksize)
    views = [xpad[_window(o, out, strides, dil)] for o in offs]
    y = views[0].copy()
    for v in views[1:]:
        xp.maximum(y, v, out=y)
    # window-local argmax, the first maximal offset winning: one compare, two boolean ops and
    # one add per offset (no masked writes)
    idt = _idx_dtype(len(offs))
    idx = xp.zeros(y.shape, idt)
    if len(offs) > 1:
        found = views[0] == y
        for k in range(1, len(offs)):
            hit = views[k] == y
            hit &= ~found
            if k < len(offs) - 1:
                found |= hit
            if idt is np.uint8:
                idx += hit.view(np.uint8) * np.uint8(k)
            else:
                idx += hit.astype(idt) * idt(k)
    return _from_last(xp, y, channels_first), _from_last(xp, idx, channels_first)


def _first_max(xp: Any, slabs: Any, idt: Any, carried: Any = None, inner: int = 1) -> tuple:
    """Element-wise maximum of the same-shaped `slabs` and the label of the first maximal
    slab: `j`, or `j * inner + carried[j]` when each slab already carries a window index. The
    label is selected with integer arithmetic, `a + hit * (b - a)` (exact, uint8 wrap-around
    included), so no masked writes are needed; ties keep the first slab."""
    best = slabs[0]
    idx = None if carried is None else carried[0].copy()
    for j in range(1, len(slabs)):
        hit = (slabs[j] > best).view(np.uint8)
        # the first step writes a new array (no copy of the first slab)
        best = xp.maximum(best, slabs[j]) if j == 1 else xp.maximum(best, slabs[j], out=best)
        if idx is None:  # j == 1 without carried labels: the label is the hit itself
            idx = hit.astype(idt)
            continue
        if carried is None:
            cand = xp.subtract(idt(j), idx)
        else:
            cand = carried[j] + idt(j * inner)
            cand -= idx
        cand *= hit
        idx += cand
    return best, (xp.zeros(best.shape, idt) if idx is None else idx)


def _max_pool_tiles(x: Any, ksize: tuple, out: tuple) -> tuple:
    """Max pooling with non-overlapping windows (strides == ksize), one spatial axis at a time
    from the last: each stage compares k strided slabs, so a 2x2 pool reads its input once
    with half-size intermediates instead of four quarter-size passes per output. The window
    index is carried from stage to stage, so ties keep going to the first offset in row-major
    order."""
    cur = x[(slice(None),) + tuple(slice(0, o * k) for o, k in zip(out, ksize))]
    idx = None
    inner = 1
    idt = _idx_dtype(int(np.prod(ksize)))
    for d in reversed(range(len(ksize))):
        k = ksize[d]
        keys = [(slice(None),) * (1 + d) + (slice(j, None, k),) for j in range(k)]
        cur, idx = _first_max(np, [cur[key] for key in keys], idt,
                              None if idx is None else [idx[key] for key in keys], inner)
        inner *= k
    if all(k == 1 for k in ksize):
        cur = cur.copy()  # a 1x1 pool: never return a view of the input
    return cur, idx


def _max_pool_grad_fwd(xp: Any, g: Any, idx: Any, *, input_shape: tuple, ksize: tuple,
                       strides: tuple, padding: Any, channels_first: bool) -> Any:
    nd = len(ksize)
    gl = _to_last(xp, g, channels_first)
    il = _to_last(xp, idx, channels_first)
    shape_l = (input_shape[0],) + tuple(input_shape[2:]) + (input_shape[1],) \
        if channels_first else tuple(input_shape)
    pads, out = _geo(f"max_pool{nd}d_grad", shape_l, ksize, strides, padding)
    padded = (shape_l[0],) + tuple(s + lo + hi for s, (lo, hi) in zip(shape_l[1:-1], pads)) \
        + (shape_l[-1],)
    disjoint = all(s >= k for s, k in zip(strides, ksize))
    # windows that tile the input exactly write every element: no zero fill needed
    tiled = all(s == k and o * k == p for s, k, o, p in zip(strides, ksize, out, padded[1:-1]))
    dx = xp.empty(padded, g.dtype) if tiled else xp.zeros(padded, g.dtype)
    if disjoint and nd <= 2 and jit.accepts(gl, il):
        if nd == 1:  # as 2-D with a height of one (views, so dx is written in place)
            _scatter_to_argmax_2d(gl[:, None], il[:, None], dx[:, None], 1, ksize[0], 1,
                                  strides[0])
        else:
            _scatter_to_argmax_2d(gl, il, dx, ksize[0], ksize[1], strides[0], strides[1])
    else:
        _scatter_to_argmax(xp, gl, il, dx, ksize, strides, out, disjoint)
    return _from_last(xp, _crop_padding(xp, dx, pads, shape_l[1:-1]), channels_first)


def _scatter_to_argmax(xp: Any, gl: Any, il: Any, dx: Any, ksize: tuple, strides: tuple,
                       out: tuple, disjoint: bool) -> None:
    dil = _ONES[:len(ksize)]
    for k, o in enumerate(_offsets(ksize)):
        view = dx[_window(o, out, strides, dil)]
        if disjoint:
            xp.multiply(gl, il == k, out=view)
        else:
            view += gl * (il == k)


@jit.kernel
def _scatter_to_argmax_2d(g, idx, dx, kh, kw, sh, sw):  # noqa: ANN001
    """`_scatter_to_argmax` for disjoint 2-D windows in one pass: each window position gets
    ``g * (idx == k)``, the NumPy path's values bitwise."""
    zero = g.dtype.type(0)
    one = g.dtype.type(1)
    n_, ph, pw, c_ = g.shape
    for n in range(n_):
        for i in range(ph):
            for j in range(pw):
                for a in range(kh):
                    for b in range(kw):
                        k = a * kw + b
                        r = i * sh + a
                        s = j * sw + b
                        for c in range(c_):
                            dx[n, r, s, c] = g[n, i, j, c] * (one if idx[n, i, j, c] == k
                                                              else zero)


def _max_pool_select_fwd(xp: Any, x: Any, idx: Any, *, ksize: tuple, strides: tuple,
                         padding: Any, channels_first: bool) -> Any:
    nd = len(ksize)
    xl = _to_last(xp, x, channels_first)
    il = _to_last(xp, idx, channels_first)
    pads, out = _geo(f"max_pool{nd}d", xl.shape, ksize, strides, padding)
    xpad = _pad_input(xp, xl, pads)
    y = xp.zeros(il.shape, x.dtype)
    for k, o in enumerate(_offsets(ksize)):
        v = xpad[_window(o, out, strides, _ONES[:nd])]
        y += v * (il == k)
    return _from_last(xp, y, channels_first)


def _pool_infer_shape(op: str, x: Spec, ksize: tuple, strides: tuple, padding: Any,
                      channels_first: bool) -> tuple:
    nd = len(ksize)
    if x.ndim != nd + 2:
        raise fail(op, f"an input of rank {nd + 2} (batch, {nd} spatial dims, channels)",
                   f"input shape {list(x.shape)}")
    out = _spatial_out(op, _spatial(x.shape, channels_first), ksize, strides, _ONES[:nd],
                       padding)
    c = x.shape[1] if channels_first else x.shape[-1]
    return _out_shape(x.shape[0], out, c, channels_first)


def _max_pool_infer(x: Spec, *, ksize: tuple, strides: tuple, padding: Any,
                    channels_first: bool) -> tuple:
    shape = _pool_infer_shape(f"max_pool{len(ksize)}d", x, ksize, strides, padding,
                              channels_first)
    return Spec(shape, x.dtype), Spec(shape, _idx_dtype(int(np.prod(ksize))))


def _max_pool_grad(node: Any, g: Tensor, _g_idx: Any = None) -> tuple:
    x = node.inputs[0]
    idx = node.outputs[1]
    return (execute(_MAX_POOL_GRAD, (g, idx), dict(node.attrs, input_shape=tuple(shape_of(x)))),)


def _max_pool_grad_grad(node: Any, gg: Tensor) -> tuple:
    a = dict(node.attrs)
    a.pop("input_shape")
    return (execute(_MAX_POOL_SELECT, (gg, node.inputs[1]), a), None)


def _max_pool_select_grad(node: Any, g: Tensor) -> tuple:
    x, idx = node.inputs
    return (execute(_MAX_POOL_GRAD, (g, idx), dict(node.attrs, input_shape=tuple(shape_of(x)))),
            None)


_MAX_POOL = register_op("max_pool", _max_pool_fwd, _max_pool_infer, _max_pool_grad,
                        num_outputs=2)
_MAX_POOL_GRAD = register_op(
    "max_pool_grad", _max_pool_grad_fwd,
    lambda g, i, *, input_shape, **_: Spec(input_shape, g.dtype), _max_pool_grad_grad)
_MAX_POOL_SELECT = register_op(
    "max_pool_select", _max_pool_select_fwd,
    lambda x, i, **_: Spec(i.shape, x.dtype), _max_pool_select_grad)


# --- average pooling -------------------------------------------------------------------------


def _avg_counts(xp: Any, spatial: tuple, pads: tuple, out: tuple, ksize: tuple,
                strides: tuple, dtype: Any) -> Any:
    """Number of real (unpadded) inputs under each window, shaped (1, *out, 1); None when
    every window is full."""
    if not any(lo or hi for lo, hi in pads):
        return None
    ones = xp.ones((1,) + spatial + (1,), dtype)
    op = _pad_input(xp, ones, pads)
    cnt = xp.zeros((1,) + out + (1,), dtype)
    for o in _offsets(ksize):
        cnt += op[_window(o, out, strides, _ONES[:len(ksize)])]
    return cnt


def _avg_pool_fwd(xp: Any, x: Any, *, ksize: tuple, strides: tuple, padding: Any,
                  channels_first: bool) -> Any:
    nd = len(ksize)
    xl = _to_last(xp, x, channels_first)
    pads, out = _geo(f"avg_pool{nd}d", xl.shape, ksize, strides, padding)
    xpad = _pad_input(xp, xl, pads)
    offs = _offsets(ksize)
    y = xpad[_window(offs[0], out, strides, _ONES[:nd])].copy()
    for o in offs[1:]:
        y += xpad[_window(o, out, strides, _ONES[:nd])]
    cnt = _avg_counts(xp, tuple(xl.shape[1:-1]), pads, out, ksize, strides, x.dtype)
    if cnt is None:
        y *= x.dtype.type(1.0 / len(offs))
    else:
        y /= cnt
    return _from_last(xp, y, channels_first)


def _avg_pool_grad_fwd(xp: Any, g: Any, *, input_shape: tuple, ksize: tuple, strides: tuple,
                       padding: Any, channels_first: bool) -> Any:
    nd = len(ksize)
    gl = _to_last(xp, g, channels_first)
    shape_l = (input_shape[0],) + tuple(input_shape[2:]) + (input_shape[1],) \
        if channels_first else tuple(input_shape)
    pads, out = _geo(f"avg_pool{nd}d_grad", shape_l, ksize, strides, padding)
    offs = _offsets(ksize)
    cnt = _avg_counts(xp, tuple(shape_l[1:-1]), pads, out, ksize, strides, g.dtype)
    gs = gl * g.dtype.type(1.0 / len(offs)) if cnt is None else gl / cnt
    padded = (shape_l[0],) + tuple(s + lo + hi for s, (lo, hi) in zip(shape_l[1:-1], pads)) \
        + (shape_l[-1],)
    dx = xp.zeros(padded, g.dtype)
    disjoint = all(s >= k for s, k in zip(strides, ksize))
    for o in offs:
        view = dx[_window(o, out, strides, _ONES[:nd])]
        if disjoint:
            view[...] = gs
        else:
            view += gs
    return _from_last(xp, _crop_padding(xp, dx, pads, shape_l[1:-1]), channels_first)


def _avg_pool_infer(x: Spec, *, ksize: tuple, strides: tuple, padding: Any,
                    channels_first: bool) -> Spec:
    return Spec(_pool_infer_shape(f"avg_pool{len(ksize)}d", x, ksize, strides, padding,
                                  channels_first), x.dtype)


def _avg_pool_grad(node: Any, g: Tensor) -> tuple:
    return (execute(_AVG_POOL_GRAD, (g,), dict(node.attrs,
                                               input_shape=tuple(shape_of(node.inputs[0])))),)


def _avg_pool_grad_grad(node: Any, gg: Tensor) -> tuple:
    a = dict(node.attrs)
    a.pop("input_shape")
    return (execute(_AVG_POOL, (gg,), a),)


_AVG_POOL = register_op("avg_pool", _avg_pool_fwd, _avg_pool_infer, _avg_pool_grad)
_AVG_POOL_GRAD = register_op(
    "avg_pool_grad", _avg_pool_grad_fwd,
    lambda g, *, input_shape, **_: Spec(input_shape, g.dtype), _avg_pool_grad_grad)


# --- public functions --------------------------------------------------------------------------


def _int_tuple(op: str, name: str, v: Any, nd: int, cf: bool) -> tuple:
    if isinstance(v, Tensor):
        v = v.numpy().tolist()
    if isinstance(v, (int, np.integer)):
        vals: tuple = (int(v),) * nd
    else:
        vals = tuple(int(i) for i in v)
        if len(vals) == 1:
            vals = vals * nd
        elif len(vals) == nd + 2:
            outer = (vals[0], vals[1]) if cf else (vals[0], vals[-1])
            if outer != (1, 1):
                raise fail(op, f"{name} of 1 on the batch and channel dims",
                           f"{name}={list(vals)}")
            vals = vals[2:] if cf else vals[1:-1]
        elif len(vals) != nd:
            raise fail(op, f"{name} as an int or a list of 1, {nd} or {nd + 2} ints",
                       f"{name}={list(vals)}")
    if any(i <= 0 for i in vals):
        raise fail(op, f"positive {name}", f"{name}={list(vals)}")
    return vals


def _pool_args(kind: str, input: Any, ksize: Any, strides: Any, padding: Any,
               data_format: Any, rank: int | None) -> tuple:
    x = t(input)
    sx = shape_of(x)
    nd = len(sx) - 2
    op = f"{kind}{nd if nd > 0 else ''}d" if rank is None else f"{kind}{rank}d"
    if rank is not None and nd != rank or nd not in (1, 2, 3):
        want = rank + 2 if rank is not None else "3, 4 or 5"
        raise fail(op, f"an input of rank {want} (batch, spatial dims, channels)",
                   f"input shape {list(sx)}",
                   "Add a batch dimension with tf.expand_dims(x, 0) for a single example.")
    require_float(op, x)
    cf = _channels_first(op, data_format)
    if strides is None:
        strides = ksize
    attrs = {"ksize": _int_tuple(op, "ksize", ksize, nd, cf),
             "strides": _int_tuple(op, "strides", strides, nd, cf),
             "padding": _padding_arg(op, padding, nd, cf), "channels_first": cf}
    return x, attrs


def max_pool(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str | None = None,
             name: str | None = None) -> Tensor:
    """Max pooling; the number of spatial dims comes from the input's rank.

    >>> import ndflow as tf
    >>> tf.nn.max_pool(tf.ones([2, 5, 5, 3]), 2, 2, "SAME").shape.as_list()
    [2, 3, 3, 3]
    """
    x, attrs = _pool_args("max_pool", input, ksize, strides, padding, data_format, None)
    return execute(_MAX_POOL, (x,), attrs)[0]


def max_pool1d(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NWC",
               name: str | None = None) -> Tensor:
    x, attrs = _pool_args("max_pool", input, ksize, strides, padding, data_format, 1)
    return execute(_MAX_POOL, (x,), attrs)[0]


def max_pool2d(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NHWC",
               name: str | None = None) -> Tensor:
    x, attrs = _pool_args("max_pool", input, ksize, strides, padding, data_format, 2)
    return execute(_MAX_POOL, (x,), attrs)[0]


def max_pool3d(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NDHWC",
               name: str | None = None) -> Tensor:
    x, attrs = _pool_args("max_pool", input, ksize, strides, padding, data_format, 3)
    return execute(_MAX_POOL, (x,), attrs)[0]


def avg_pool(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str | None = None,
             name: str | None = None) -> Tensor:
    """Average pooling; with SAME padding each output averages only the real inputs under its
    window (TensorFlow's rule).

    >>> import ndflow as tf
    >>> tf.nn.avg_pool(tf.ones([1, 3, 3, 1]), 2, 2, "SAME").numpy().ravel().tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    x, attrs = _pool_args("avg_pool", input, ksize, strides, padding, data_format, None)
    return execute(_AVG_POOL, (x,), attrs)


def avg_pool1d(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NWC",
               name: str | None = None) -> Tensor:
    x, attrs = _pool_args("avg_pool", input, ksize, strides, padding, data_format, 1)
    return execute(_AVG_POOL, (x,), attrs)


def avg_pool2d(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NHWC",
               name: str | None = None) -> Tensor:
    x, attrs = _pool_args("avg_pool", input, ksize, strides, padding, data_format, 2)
    return execute(_AVG_POOL, (x,), attrs)


def avg_pool3d(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NDHWC",
               name: str | None = None) -> Tensor:
    x, attrs = _pool_args("avg_pool", input, ksize, strides, padding, data_format, 3)
    return execute(_AVG_POOL, (x,), attrs)


def pool(input: Tensor, mode: str, ksize: tuple, strides: tuple, padding: str,
         channels_first: bool = False) -> Tensor:
    """Max (`mode="max"`) or average (`"avg"`) pooling with arguments already in canonical
    form, for callers that check them once (Keras pooling layers): `ksize` and `strides` are
    tuples of one positive int per spatial dim, `padding` is "VALID" or "SAME".

    >>> import ndflow as tf
    >>> pool(tf.ones([1, 4, 4, 2]), "avg", (2, 2), (2, 2), "VALID").shape.as_list()
    [1, 2, 2, 2]
    """
    attrs = {"ksize": ksize, "strides": strides, "padding": padding,
             "channels_first": channels_first}
    if mode == "max":
        return execute(_MAX_POOL, (input,), attrs)[0]
    if mode == "avg":
        return execute(_AVG_POOL, (input,), attrs)
    raise fail("pool", 'mode "max" or "avg"', f"mode={mode!r}")
