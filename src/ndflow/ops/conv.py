"""Convolutions: N-d conv (1/2/3 spatial dims), its two backward ops, transposed convolution,
depthwise and separable convolution.

The kernels are im2col + one GEMM, written against the array module `xp` (NumPy or CuPy):

- forward: the (padded) input's windows are copied into a column buffer `(N, *out, K, C)`
  (one copy of a strided window view, or one strided-slice copy per kernel offset when C is
  small); one matmul with the kernel reshaped to `(K * C, O)` gives the output. Large batches
  are processed a few examples at a time so the buffer stays under `COLUMN_BUFFER_BYTES`.
- input gradient: per kernel offset, one `(N*P, O) x (O, C)` matmul into a reused buffer,
  added into the offset's strided window of the (padded) input gradient (K vectorised adds, no
  `add.at`, no column-gradient buffer).
- filter gradient: the column buffer again, then one matmul `cols^T @ g`.
- grouped convolutions batch the GEMMs over groups; depthwise ones (one input channel per
  group) use one broadcast multiply-add per kernel offset and no column buffer.

The three ops are each other's gradients (conv, conv_backprop_input, conv_backprop_filter are
linear in each input), so gradients of gradients work. Transposed convolution is
`conv_backprop_input`.

>>> import numpy as np
>>> import ndflow as tf
>>> x = tf.ones([1, 4, 4, 1])
>>> w = tf.ones([3, 3, 1, 2])
>>> tf.nn.conv2d(x, w, strides=1, padding="VALID").shape.as_list()
[1, 2, 2, 2]
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ndflow.backend import jit
from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor
from ndflow.ops._util import mm, npdt, require_float, shape_of, t
from ndflow.ops.shape_ops import reshape

__all__ = ["conv", "convolution", "conv1d", "conv2d", "conv3d", "conv_transpose",
           "conv1d_transpose", "conv2d_transpose", "conv3d_transpose", "depthwise_conv2d",
           "separable_conv2d", "conv_output_length", "conv_padding"]


# --- geometry -------------------------------------------------------------------------------------


def conv_padding(size: int, k: int, stride: int, dilation: int, padding: Any) -> tuple:
    """(pad_before, pad_after, out_size) of one spatial dim.

    `padding` is "SAME" (TensorFlow's rule: out = ceil(size / stride), the odd pixel of padding
    goes after), "VALID", or an explicit (before, after) pair.
    """
    eff = (k - 1) * dilation + 1
    if padding == "SAME":
        out = -(-size // stride)
        total = max((out - 1) * stride + eff - size, 0)
        return total // 2, total - total // 2, out
    lo, hi = (0, 0) if padding == "VALID" else padding
    return lo, hi, (size + lo + hi - eff) // stride + 1


def conv_output_length(size: int | None, k: int, stride: int, dilation: int, padding: Any
                       ) -> int | None:
    if size is None:
        return None
    return conv_padding(size, k, stride, dilation, padding)[2]


def _pad_of(padding: Any, i: int) -> Any:
    return padding if isinstance(padding, str) else padding[i]


def _geometry(op: str, spatial: tuple, ks: tuple, strides: tuple, dilations: tuple,
              padding: Any) -> tuple:
    """Pads and output sizes for all spatial dims; a clear error when the kernel does not fit."""
    pads, out = [], []
    for i, (s, k, st, d) in enumerate(zip(spatial, ks, strides, dilations)):
        lo, hi, o = conv_padding(s, k, st, d, _pad_of(padding, i))
        if o <= 0:
            raise fail(op, f"a (dilated) kernel no larger than the padded input in spatial dim "
                       f"{i} (kernel extent {(k - 1) * d + 1}, padded input {s + lo + hi})",
                       f"input spatial shape {list(spatial)} and kernel spatial shape "
                       f"{list(ks)} with padding {padding!r}",
                       "Use padding='SAME', a smaller kernel or larger inputs.")
        pads.append((lo, hi))
        out.append(o)
    return tuple(pads), tuple(out)


def _window(offs: tuple, out: tuple, strides: tuple, dilations: tuple) -> tuple:
    """The slice key (channels-last, leading batch) that picks kernel offset `offs` for every
    output position."""
    return (slice(None),) + tuple(
        slice(o * d, o * d + (n - 1) * s + 1, s) for o, d, n, s in zip(offs, dilations, out,
                                                                         strides)) + (Ellipsis,)


def _offsets(ks: tuple) -> list:
    return list(itertools.product(*[range(k) for k in ks]))


def _pad_input(xp: Any, x: Any, pads: tuple, value: float = 0.0) -> Any:
    if not any(lo or hi for lo, hi in pads):
        return x
    widths = ((0, 0),) + pads + ((0, 0),)
    return xp.pad(x, widths, constant_values=value)


def _im2col(xp: Any, xpad: Any, ks: tuple, out: tuple, strides: tuple, dilations: tuple) -> Any:
    """Columns `(N, *out, prod(ks), C)` of a padded channels-last input.

    With enough channels, one copy of a strided window view (a single vectorised pass whose
    inner runs are C contiguous values) is fastest; with few channels, one strided-slice copy
    per kernel offset.
    """
    n, c = xpad.shape[0], xpad.shape[-1]
    if c >= 8:
        xs = xpad.strides
        nd = len(ks)
        view = xp.lib.stride_tricks.as_strided(
            xpad, (n,) + out + tuple(ks) + (c,),
            (xs[0],) + tuple(xs[1 + i] * strides[i] for i in range(nd))
            + tuple(xs[1 + i] * dilations[i] for i in range(nd)) + (xs[-1],))
        return xp.ascontiguousarray(view).reshape((n,) + out + (int(np.prod(ks)), c))
    offs = _offsets(ks)
    cols = xp.empty((n,) + out + (len(offs), c), xpad.dtype)
    lead = (slice(None),) * (1 + len(out))
    for k, o in enumerate(offs):
        cols[lead + (k,)] = xpad[_window(o, out, strides, dilations)]
    return cols


def _im2col_kernel_major(xp: Any, xpad: Any, ks: tuple, out: tuple, strides: tuple,
                         dilations: tuple, pool: tuple | None = None) -> Any:
    """Columns `(prod(ks) * C, N * prod(out))` of a padded channels-last input with few
    channels: each row is one contiguous copy of a strided slice, twice as fast as writing
    rows of only C values, and a transposed operand costs BLAS nothing.

    With `pool` (non-overlapping max-pool windows over the conv output, `ops/conv_pool.py`),
    `out` counts pooled positions and the columns are ordered (pool offset, batch, pooled
    position): the conv outputs of one window offset come out as one contiguous block.
    """
    n, c = xpad.shape[0], xpad.shape[-1]
    nd = len(ks)
    pool = pool or (1,) * nd
    offs = _offsets(ks)
    cols = xp.empty((len(offs), c) + tuple(pool) + (n,) + tuple(out), xpad.dtype)
    for k, o in enumerate(offs):
        for poff in _offsets(pool):
            key = (slice(None),)
            for d in range(nd):
                start = poff[d] * strides[d] + o[d] * dilations[d]
                step = strides[d] * pool[d]
                key += (slice(start, start + (out[d] - 1) * step + 1, step),)
            win = xpad[key]
            for ci in range(c):
                cols[(k, ci) + poff] = win[..., ci]
    return cols.reshape(len(offs) * c, -1)


# Largest column buffer (bytes) built at once; bigger batches are processed in chunks of
# examples, which bounds the memory of large images at no cost in GEMM efficiency.
COLUMN_BUFFER_BYTES = 64 * 2**20


# The input gradient's columns are made and scattered back (col2im) a few examples at a time,
# so that col2im reads them from cache: measured 6% faster on W2's second conv than 64 MiB.
COL2IM_BUFFER_BYTES = 2 * 2**20


def _batch_chunk(n: int, out: tuple, kc: int, dtype: Any, limit: int | None = None) -> int:
    per_example = int(np.prod(out)) * kc * np.dtype(dtype).itemsize
    limit = COLUMN_BUFFER_BYTES if limit is None else limit
    return max(1, min(n, limit // max(per_example, 1)))


def _to_last(xp: Any, a: Any, cf: bool) -> Any:
    return xp.moveaxis(a, 1, -1) if cf else a


def _from_last(xp: Any, a: Any, cf: bool) -> Any:
    return xp.ascontiguousarray(xp.moveaxis(a, -1, 1)) if cf else a


# --- kernels -----------------------------------------------------------------------------------


def _conv_core(xp: Any, x: Any, w: Any, strides: tuple, dilations: tuple, padding: Any,
               groups: int) -> Any:
    """Channels-last convolution of x (N, *S, C) with w (*ks, C/groups, O)."""
    nd = x.ndim - 2
    ks = w.shape[:nd]
    cg, o = w.shape[-2], w.shape[-1]
    pads, out = _geometry(f"conv{nd}d", x.shape[1:-1], ks, strides, dilations, padding)
    xpad = _pad_input(xp, x, pads)
    n = x.shape[0]
    kk = int(np.prod(ks))
    if groups == 1:
        wm = w.reshape(kk * cg, o)
        step = _batch_chunk(n, out, kk * cg, x.dtype)
        if step >= n and cg < 8:
            cols = _im2col_kernel_major(xp, xpad, ks, out, strides, dilations)
            return mm(xp, cols.T, wm).reshape((n,) + out + (o,))
        if step >= n:
            cols = _im2col(xp, xpad, ks, out, strides, dilations)
            return mm(xp, cols.reshape(-1, kk * cg), wm).reshape((n,) + out + (o,))
        y = xp.empty((n,) + out + (o,), x.dtype)
        for b in range(0, n, step):
            cols = _im2col(xp, xpad[b:b + step], ks, out, strides, dilations)
            mm(xp, cols.reshape(-1, kk * cg), wm, out=y[b:b + step].reshape(-1, o))
        return y
    og = o // groups
    if cg == 1:  # depthwise: one multiply-add per kernel offset, no column buffer
        wk = w.reshape(kk, groups, og)
        y = None
        for k, off in enumerate(_offsets(ks)):
            xs = xpad[_window(off, out, strides, dilations)][..., None]
            term = xs * wk[k]
            if y is None:
                y = term
            else:
                y += term
        return y.reshape((n,) + out + (o,))
    cols = _im2col(xp, xpad, ks, out, strides, dilations)
    cols = cols.reshape(-1, kk, groups, cg).transpose(2, 0, 1, 3).reshape(groups, -1, kk * cg)
    wg = w.reshape(kk, cg, groups, og).transpose(2, 0, 1, 3).reshape(groups, kk * cg, og)
    y = xp.matmul(cols, wg)  # (G, NP, og)
    return y.transpose(1, 0, 2).reshape((n,) + out + (o,))


def _conv_bp_input_core(xp: Any, g: Any, w: Any, in_spatial: tuple, strides: tuple,
                        dilations: tuple, padding: Any, groups: int) -> Any:
    """Gradient of the channels-last conv with respect to its input (transposed convolution)."""
    nd = g.ndim - 2
    ks = w.shape[:nd]
    cg, o = w.shape[-2], w.shape[-1]
    c = cg * groups
    pads, out = _geometry(f"conv{nd}d_backprop_input", in_spatial, ks, strides, dilations,
                          padding)
    if tuple(g.shape[1:-1]) != out:
        raise fail(f"conv{nd}d_backprop_input", f"an output gradient with spatial shape "
                   f"{list(out)} for input spatial shape {list(in_spatial)}",
                   f"spatial shape {list(g.shape[1:-1])}",
                   "For a transposed convolution, check output_shape, strides and padding.")
    n = g.shape[0]
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(in_spatial, pads))
    dx = xp.zeros((n,) + padded + (c,), g.dtype)
    kk = int(np.prod(ks))
    offs = _offsets(ks)
    lead = (slice(None),) * (1 + nd)
    if groups == 1 and nd <= 2 and jit.accepts(g, dx):
        _bp_input_col2im(xp, g.reshape((1,) * nd + g.shape), w, dx, ks, strides, dilations)
    elif groups == 1:
        # one (NP, O) x (O, C) GEMM per kernel offset into a reused buffer, added into the
        # offset's strided window: no (NP, K*C) column-gradient buffer
        g2 = g.reshape(-1, o)
        wk = w.reshape(kk, c, o)
        buf = xp.empty((g2.shape[0], c), g.dtype)
        for k, off in enumerate(offs):
            xp.matmul(g2, wk[k].T, out=buf)
            dx[_window(off, out, strides, dilations)] += buf.reshape((n,) + out + (c,))
    elif cg == 1:
        og = o // groups
        wk = w.reshape(kk, groups, og)
        gg = g.reshape((n,) + out + (groups, og))
        for k, off in enumerate(offs):
            if og == 1:
                dx[_window(off, out, strides, dilations)] += gg[..., 0] * wk[k, :, 0]
            else:
                dx[_window(off, out, strides, dilations)] += (gg * wk[k]).sum(-1)
    else:
        og = o // groups
        wg = w.reshape(kk, cg, groups, og).transpose(2, 0, 1, 3).reshape(groups, kk * cg, og)
        gt = g.reshape(-1, groups, og).transpose(1, 0, 2)  # (G, NP, og)
        dcols = xp.matmul(gt, wg.transpose(0, 2, 1))  # (G, NP, kk*cg)
        dcols = dcols.reshape((groups,) + (n,) + out + (kk, cg))
        for k, off in enumerate(offs):
            part = xp.moveaxis(dcols[(slice(None),) + lead + (k,)], 0, -2)
            dx[_window(off, out, strides, dilations)] += part.reshape((n,) + out + (c,))
    return _crop_padding(xp, dx, pads, in_spatial)


def _crop_padding(xp: Any, a: Any, pads: tuple, spatial: tuple) -> Any:
    """A channels-last array padded by `pads` cut back to its `spatial` size (contiguous)."""
    if not any(lo or hi for lo, hi in pads):
        return a
    key = (slice(None),) + tuple(slice(lo, lo + s) for (lo, _), s in zip(pads, spatial)) \
        + (slice(None),)
    return xp.ascontiguousarray(a[key])


def _bp_input_col2im(xp: Any, g: Any, w: Any, dx: Any, ks: tuple, strides: tuple,
                     dilations: tuple) -> None:
    """Input gradient of a 1-D/2-D conv with compiled kernels, added into the padded `dx`: one
    GEMM per batch chunk for all kernel offsets at once, (rows, O) x (O, K*C), a wider and
    faster GEMM than one per offset, then one compiled col2im pass.

    `g` is the output gradient with its rows grouped by pool offset, shape
    ``pool + (N,) + pooled + (O,)`` (the column order of `ops/conv_pool.py`; a pool of ones for
    the plain order): row ``(a, b, n, i, j)`` is the conv output ``(i*ph + a, j*pw + b)``.
    """
    if len(ks) == 1:  # as 2-D with a height of one
        ks, strides, dilations = (1,) + ks, (1,) + strides, (1,) + dilations
        g, dx = g[None, :, :, None], dx[:, None]
    ph, pw, n, o = g.shape[0], g.shape[1], g.shape[2], g.shape[-1]
    c = dx.shape[-1]
    kk = ks[0] * ks[1]
    wt = xp.ascontiguousarray(w.reshape(kk, c, o).transpose(2, 0, 1)).reshape(o, kk * c)
    step = _batch_chunk(n, g.shape[3:5], ph * pw * kk * c, g.dtype, COL2IM_BUFFER_BYTES)
    for b in range(0, n, step):
        part = xp.ascontiguousarray(g[:, :, b:b + step])  # a view when the pool is (1, 1)
        dcols = mm(xp, part.reshape(-1, o), wt)
        _col2im_add_2d(dcols.reshape(part.shape[:-1] + (kk, c)), dx[b:b + step], ks[0], ks[1],
                       strides[0], strides[1], dilations[0], dilations[1])


@jit.kernel
def _col2im_add_2d(dcols, dx, kh, kw, sh, sw, dh, dw):  # noqa: ANN001
    """``dx[n, r, s, :] += dcols[pa, pb, n, i, j, a*kw + b, :]`` with the conv output
    ``(oi, oj) = (i*ph + pa, j*pw + pb)`` and ``(r, s) = (oi*sh + a*dh, oj*sw + b*dw)``, for
    every row and kernel offset (a, b)."""
    ph, pw, n_, oh, ow, _, c_ = dcols.shape
    for pa in range(ph):
        for pb in range(pw):
            for n in range(n_):
                for i in range(oh):
                    for j in range(ow):
                        oi = (i * ph + pa) * sh
                        oj = (j * pw + pb) * sw
                        for a in range(kh):
                            for b in range(kw):
                                k = a * kw + b
                                r = oi + a * dh
                                s = oj + b * dw
                                for c in range(c_):
                                    dx[n, r, s, c] += dcols[pa, pb, n, i, j, k, c]


def _conv_bp_filter_core(xp: Any, x: Any, g: Any, ks: tuple, strides: tuple, dilations: tuple,
                         padding: Any, groups: int) -> Any:
    """Gradient of the channels-last conv with respect to its kernel (*ks, C/groups, O)."""
    nd = x.ndim - 2
    c, o = x.shape[-1], g.shape[-1]
    cg = c // groups
    pads, out = _geometry(f"conv{nd}d_backprop_filter", x.shape[1:-1], ks, strides, dilations,
                          padding)
    xpad = _pad_input(xp, x, pads)
    kk = int(np.prod(ks))
    if groups == 1:
        n = x.shape[0]
        step = _batch_chunk(n, out, kk * c, x.dtype)
        dw = None
        for b in range(0, n, step):
            if c < 8:
                cols_t = _im2col_kernel_major(xp, xpad[b:b + step], ks, out, strides,
                                              dilations)
            else:
                cols_t = _im2col(xp, xpad[b:b + step], ks, out, strides,
                                 dilations).reshape(-1, kk * c).T
            part = mm(xp, cols_t, g[b:b + step].reshape(-1, o))
            if dw is None:
                dw = part
            else:
                dw += part
        return dw.reshape(ks + (c, o))
    og = o // groups
    if cg == 1:
        gg = g.reshape(-1, groups, og)
        dw = xp.empty((kk, groups, og), g.dtype)
        for k, off in enumerate(_offsets(ks)):
            xs = xpad[_window(off, out, strides, dilations)].reshape(-1, groups)
            # sum over positions of xs[p, c] * g[p, c, m], batched over channels
            dw[k] = xp.matmul(xs.T[:, None, :], gg.transpose(1, 0, 2))[:, 0, :]
        return dw.reshape(ks + (1, o))
    cols = _im2col(xp, xpad, ks, out, strides, dilations)
    cols = cols.reshape(-1, kk, groups, cg).transpose(2, 0, 1, 3).reshape(groups, -1, kk * cg)
    gt = g.reshape(-1, groups, og).transpose(1, 0, 2)  # (G, NP, og)
    dw = xp.matmul(cols.transpose(0, 2, 1), gt)  # (G, kk*cg, og)
    dw = dw.reshape(groups, kk, cg, og).transpose(1, 2, 0, 3)
    return dw.reshape(ks + (cg, o))


def _conv_fwd(xp: Any, x: Any, w: Any, *, strides: tuple, dilations: tuple, padding: Any,
              groups: int, channels_first: bool) -> Any:
    y = _conv_core(xp, _to_last(xp, x, channels_first), w, strides, dilations, padding, groups)
    return _from_last(xp, y, channels_first)


def _bp_input_fwd(xp: Any, g: Any, w: Any, *, input_shape: tuple, strides: tuple,
                  dilations: tuple, padding: Any, groups: int, channels_first: bool) -> Any:
    nd = g.ndim - 2
    spatial = tuple(input_shape[2:]) if channels_first else tuple(input_shape[1:1 + nd])
    dx = _conv_bp_input_core(xp, _to_last(xp, g, channels_first), w, spatial, strides,
                             dilations, padding, groups)
    return _from_last(xp, dx, channels_first)


def _bp_filter_fwd(xp: Any, x: Any, g: Any, *, filter_shape: tuple, strides: tuple,
                   dilations: tuple, padding: Any, groups: int, channels_first: bool) -> Any:
    nd = x.ndim - 2
    return _conv_bp_filter_core(xp, _to_last(xp, x, channels_first),
                                _to_last(xp, g, channels_first), tuple(filter_shape[:nd]),
                                strides, dilations, padding, groups)


# --- shape rules -------------------------------------------------------------------------------


def _spatial(shape: tuple, cf: bool) -> tuple:
    return tuple(shape[2:]) if cf else tuple(shape[1:-1])


def _channels(shape: tuple, cf: bool) -> Any:
    return shape[1] if cf else shape[-1]


def _out_shape(n: Any, spatial: tuple, c: Any, cf: bool) -> tuple:
    return (n, c) + spatial if cf else (n,) + spatial + (c,)


def _check_ranks(op: str, x: Spec, w: Spec) -> int:
    nd = w.ndim - 2
    if nd < 1 or x.ndim != w.ndim:
        raise fail(op, f"an input of rank {w.ndim} (batch, {nd} spatial dims, channels) for a "
                   f"rank-{w.ndim} kernel", f"input shape {list(x.shape)} and kernel shape "
                   f"{list(w.shape)}")
    if x.dtype != w.dtype:
        raise fail(op, "input and kernel of one dtype", f"{x.dtype.name} and {w.dtype.name}",
                   "Cast one of them with tf.cast.")
    return nd


def _spatial_out(op: str, spatial: tuple, ks: tuple, strides: tuple, dilations: tuple,
                 padding: Any) -> tuple:
    if None in spatial or None in ks:
        return tuple(None if s is None or k is None else
                     conv_output_length(s, k, st, d, _pad_of(padding, i))
                     for i, (s, k, st, d) in enumerate(zip(spatial, ks, strides, dilations)))
    return _geometry(op, spatial, ks, strides, dilations, padding)[1]


def _conv_infer(x: Spec, w: Spec, *, strides: tuple, dilations: tuple, padding: Any,
                groups: int, channels_first: bool) -> Spec:
    op = f"conv{w.ndim - 2}d"
    nd = _check_ranks(op, x, w)
    c = _channels(x.shape, channels_first)
    cg, o = w.shape[-2], w.shape[-1]
    if c is not None and cg is not None and c != cg * groups:
        raise fail(op, f"inputs with {cg * groups} channels (kernel in-channels {cg} x groups "
                   f"{groups})", f"{c} channels (input shape {list(x.shape)})",
                   "The kernel's second-last dim is in_channels / groups.")
    if o is not None and o % groups:
        raise fail(op, f"a number of output channels divisible by groups={groups}",
                   f"{o} output channels")
    out = _spatial_out(op, _spatial(x.shape, channels_first), w.shape[:nd], strides, dilations,
                       padding)
    return Spec(_out_shape(x.shape[0], out, o, channels_first), x.dtype)


def _bp_input_infer(g: Spec, w: Spec, *, input_shape: tuple, **_: Any) -> Spec:
    return Spec(tuple(input_shape), g.dtype)


def _bp_filter_infer(x: Spec, g: Spec, *, filter_shape: tuple, **_: Any) -> Spec:
    return Spec(tuple(filter_shape), x.dtype)


# --- gradient rules ----------------------------------------------------------------------------

_GEOM = ("strides", "dilations", "padding", "groups", "channels_first")


def _geom(attrs: dict) -> dict:
    return {k: attrs[k] for k in _GEOM}


def _conv_grad(node: Any, g: Tensor) -> tuple:
    a = node.attrs
    x, w = node.inputs[0], node.inputs[1]
    geo = _geom(a)
    needs = node.needs
    gx = execute(_BP_INPUT, (g, w), dict(geo, input_shape=tuple(shape_of(x)))) \
        if needs[0] else None
    gw = execute(_BP_FILTER, (x, g), dict(geo, filter_shape=tuple(shape_of(w)))) \
        if needs[1] else None
    return (gx, gw)


def _bp_input_grad(node: Any, gg: Tensor) -> tuple:
    g, w = node.inputs
    geo = _geom(node.attrs)
    d_g = execute(_CONV, (gg, w), geo) if node.needs[0] else None
    d_w = execute(_BP_FILTER, (gg, g), dict(geo, filter_shape=tuple(shape_of(w)))) \
        if node.needs[1] else None
    return (d_g, d_w)


def _bp_filter_grad(node: Any, gg: Tensor) -> tuple:
    x, g = node.inputs
    geo = _geom(node.attrs)
    d_x = execute(_BP_INPUT, (g, gg), dict(geo, input_shape=tuple(shape_of(x)))) \
        if node.needs[0] else None
    d_g = execute(_CONV, (x, gg), geo) if node.needs[1] else None
    return (d_x, d_g)


# blas="any": the im2col products go to NumPy's BLAS on all its threads
_CONV = register_op("conv", _conv_fwd, _conv_infer, _conv_grad, blas="any")
_BP_INPUT = register_op("conv_backprop_input", _bp_input_fwd, _bp_input_infer, _bp_input_grad,
                        blas="any")
_BP_FILTER = register_op("conv_backprop_filter", _bp_filter_fwd, _bp_filter_infer,
                         _bp_filter_grad, blas="any")


# --- argument normalisation --------------------------------------------------------------------

_CF = {"NCW": True, "NCHW": True, "NCDHW": True, "channels_first": True,
       "NWC": False, "NHWC": False, "NDHWC": False, "channels_last": False, None: False}


def _channels_first(op: str, data_format: Any) -> bool:
    if data_format not in _CF:
        raise fail(op, "data_format 'NHWC'-style (channels last) or 'NCHW'-style "
                   "(channels first)", repr(data_format))
    return _CF[data_format]


def _tuple_arg(op: str, name: str, v: Any, nd: int, cf: bool = False) -> tuple:
    """Normalise strides/dilations: an int, `nd` ints, or `nd + 2` ints (batch and channel
    entries must be 1)."""
    if v is None:
        return (1,) * nd
    if isinstance(v, Tensor):
        v = v.numpy().tolist()
    if isinstance(v, (int, np.integer)):
        vals: tuple = (int(v),) * nd
    else:
        vals = tuple(int(i) for i in v)
        if len(vals) == 1:
            vals = vals * nd
        elif len(vals) == nd + 2:
            vals = vals[2:] if cf else vals[1:-1]
        elif len(vals) != nd:
            raise fail(op, f"{name} as an int or a list of {nd} or {nd + 2} ints",
                       f"{name}={list(vals)}")
    if any(i <= 0 for i in vals):
        raise fail(op, f"positive {name}", f"{name}={list(vals)}")
    return vals


def _padding_arg(op: str, padding: Any, nd: int, cf: bool) -> Any:
    if isinstance(padding, str):
        p = padding.upper()
        if p not in ("SAME", "VALID"):
            raise fail(op, "padding 'SAME', 'VALID' or explicit [[before, after], ...] pairs",
                       repr(padding), "'causal' padding is a Keras Conv1D option.")
        return p
    pairs = [tuple(int(i) for i in pr) for pr in padding]
    if len(pairs) == nd + 2:
        pairs = pairs[2:] if cf else pairs[1:-1]
    if len(pairs) != nd or any(len(pr) != 2 or min(pr) < 0 for pr in pairs):
        raise fail(op, f"{nd} (or {nd + 2}) non-negative [before, after] pairs",
                   f"padding={padding!r}")
    return tuple(pairs)


def _check_float_pair(op: str, x: Tensor, w: Tensor) -> None:
    require_float(op, x)
    if npdt(x) != npdt(w):
        raise fail(op, f"input and filters of one dtype (input is {npdt(x).name})",
                   f"filters of dtype {npdt(w).name}", "Cast one of them with tf.cast.")


def conv(input: Any, filters: Any, strides: Any = 1, padding: Any = "VALID",
         data_format: str | None = None, dilations: Any = None, groups: int = 1,
         bias: Any = None, activation: str | None = None, name: str | None = None) -> Tensor:
    """N-d convolution (N = 1, 2 or 3 spatial dims, from the filters' rank).

    `filters` has shape `(*kernel_size, in_channels / groups, out_channels)`. An optional
    `bias` (added per channel) and `activation` (a name from `tf.nn`, e.g. "relu") follow the
    convolution as ops of their own; the graph compiler fuses them with it.

    >>> import ndflow as tf
    >>> conv(tf.ones([1, 5, 2]), tf.ones([3, 2, 4]), padding="SAME").shape.as_list()
    [1, 5, 4]
    """
    x, w = t(input), t(filters)
    sw = shape_of(w)
    nd = len(sw) - 2
    op = f"conv{nd}d" if nd >= 1 else "convolution"
    if nd not in (1, 2, 3):
        raise fail(op, "filters of rank 3, 4 or 5 ((*kernel_size, in_channels, out_channels))",
                   f"filters of shape {list(sw)}")
    if len(shape_of(x)) != nd + 2:
        raise fail(op, f"an input of rank {nd + 2} (batch, {nd} spatial dims, channels)",
                   f"input shape {list(shape_of(x))}",
                   "Add a batch dimension with tf.expand_dims(x, 0) for a single example.")
    _check_float_pair(op, x, w)
    cf = _channels_first(op, data_format)
    if isinstance(groups, bool) or int(groups) <= 0:
        raise fail(op, "a positive number of groups", f"groups={groups!r}")
    attrs = {"strides": _tuple_arg(op, "strides", strides, nd, cf),
             "dilations": _tuple_arg(op, "dilations", dilations, nd, cf),
             "padding": _padding_arg(op, padding, nd, cf), "groups": int(groups),
             "channels_first": cf}
    act = None
    if activation is not None:
        from ndflow import nn as _nn

        act = getattr(_nn, activation, None) if isinstance(activation, str) else None
        if act is None or activation.startswith("_"):
            raise fail(op, "activation None or the name of a tf.nn activation (e.g. 'relu')",
                       repr(activation))
    y = execute(_CONV, (x, w), attrs)
    if bias is not None:
        from ndflow.ops.nn import bias_add

        y = bias_add(y, bias, "channels_first" if cf else None)
    return y if act is None else act(y)


def conv_normalized(x: Tensor, w: Tensor, *, strides: tuple, dilations: tuple, padding: Any,
                    groups: int, channels_first: bool) -> Tensor:
    """The convolution op with attributes already in normal form (per-spatial-dim tuples,
    "VALID"/"SAME" or explicit pads): what layers call on every step, after checking their
    arguments once when built.

    >>> import ndflow as tf
    >>> conv_normalized(tf.ones([1, 4, 1]), tf.ones([2, 1, 1]), strides=(1,), dilations=(1,),
    ...                 padding="VALID", groups=1, channels_first=False).shape.as_list()
    [1, 3, 1]
    """
    return execute(_CONV, (x, w), {"strides": strides, "dilations": dilations,
                                   "padding": padding, "groups": groups,
                                   "channels_first": channels_first})


def conv_backprop_input_normalized(g: Tensor, w: Tensor, *, input_shape: tuple,
                                   strides: tuple, dilations: tuple, padding: Any, groups: int,
                                   channels_first: bool) -> Tensor:
    """The convolution's input gradient (a transposed convolution) with attributes in normal
    form, `input_shape` the shape it produces: what transposed-convolution layers call.

    >>> import ndflow as tf
    >>> conv_backprop_input_normalized(tf.ones([1, 3, 1]), tf.ones([2, 1, 1]),
    ...     input_shape=(1, 4, 1), strides=(1,), dilations=(1,), padding="VALID", groups=1,
    ...     channels_first=False).numpy().ravel().tolist()
    [1.0, 2.0, 2.0, 1.0]
    """
    return execute(_BP_INPUT, (g, w), {"input_shape": tuple(input_shape), "strides": strides,
                                       "dilations": dilations, "padding": padding,
                                       "groups": groups, "channels_first": channels_first})


def convolution(input: Any, filters: Any, strides: Any = None, padding: str = "VALID",
                data_format: str | None = None, dilations: Any = None,
                name: str | None = None) -> Tensor:
    """`tf.nn.convolution`: the rank comes from the filters."""
    return conv(input, filters, strides, padding, data_format, dilations)


def conv1d(input: Any, filters: Any, stride: Any = 1, padding: Any = "VALID",
           data_format: str = "NWC", dilations: Any = None, name: str | None = None) -> Tensor:
    """1-d convolution of `(batch, width, channels)` with filters `(k, in, out)`."""
    _rank_check("conv1d", filters, 3)
    return conv(input, filters, stride, padding, data_format, dilations)


def conv2d(input: Any, filters: Any, strides: Any = 1, padding: Any = "VALID",
           data_format: str = "NHWC", dilations: Any = None, name: str | None = None) -> Tensor:
    """2-d convolution of `(batch, h, w, channels)` with filters `(kh, kw, in, out)`.

    >>> import ndflow as tf
    >>> tf.nn.conv2d(tf.ones([1, 5, 5, 1]), tf.ones([3, 3, 1, 1]), 2, "SAME").numpy()[0, :, :, 0]
    array([[4., 6., 4.],
           [6., 9., 6.],
           [4., 6., 4.]], dtype=float32)
    """
    _rank_check("conv2d", filters, 4)
    return conv(input, filters, strides, padding, data_format, dilations)


def conv3d(input: Any, filters: Any, strides: Any = 1, padding: Any = "VALID",
           data_format: str = "NDHWC", dilations: Any = None, name: str | None = None) -> Tensor:
    """3-d convolution of `(batch, d, h, w, channels)` with filters `(kd, kh, kw, in, out)`."""
    _rank_check("conv3d", filters, 5)
    return conv(input, filters, strides, padding, data_format, dilations)


def _rank_check(op: str, filters: Any, rank: int) -> None:
    s = shape_of(t(filters))
    if len(s) != rank:
        raise fail(op, f"filters of rank {rank}", f"filters of shape {list(s)}")


def conv_transpose(input: Any, filters: Any, output_shape: Any, strides: Any = 1,
                   padding: Any = "SAME", data_format: str | None = None, dilations: Any = None,
                   name: str | None = None) -> Tensor:
    """Transposed convolution (the gradient of `conv` with respect to its input).

    `filters` has shape `(*kernel_size, out_channels, in_channels)`; `output_shape` is the full
    output shape (batch and channels included).

    >>> import ndflow as tf
    >>> tf.nn.conv2d_transpose(tf.ones([1, 2, 2, 3]), tf.ones([3, 3, 4, 3]), [1, 4, 4, 4],
    ...                        strides=2).shape.as_list()
    [1, 4, 4, 4]
    """
    x, w = t(input), t(filters)
    sw = shape_of(w)
    nd = len(sw) - 2
    op = f"conv{nd}d_transpose"
    if nd not in (1, 2, 3) or len(shape_of(x)) != nd + 2:
        raise fail(op, f"an input of rank {len(sw)} and filters of rank 3, 4 or 5",
                   f"input shape {list(shape_of(x))} and filters shape {list(sw)}")
    _check_float_pair(op, x, w)
    cf = _channels_first(op, data_format)
    if isinstance(output_shape, Tensor):
        output_shape = output_shape.numpy().tolist()
    oshape = tuple(int(d) for d in output_shape)
    if len(oshape) != nd + 2:
        raise fail(op, f"an output_shape of {nd + 2} ints", f"output_shape={list(oshape)}")
    cin = _channels(shape_of(x), cf)
    if cin != sw[-1]:
        raise fail(op, f"inputs with {sw[-1]} channels (the filters' last dim)",
                   f"{cin} channels (input shape {list(shape_of(x))})")
    if _channels(oshape, cf) != sw[-2]:
        raise fail(op, f"an output_shape with {sw[-2]} channels (the filters' second-last dim)",
                   f"output_shape={list(oshape)}")
    if oshape[0] != shape_of(x)[0]:
        oshape = (shape_of(x)[0],) + oshape[1:]
    attrs = {"strides": _tuple_arg(op, "strides", strides, nd, cf),
             "dilations": _tuple_arg(op, "dilations", dilations, nd, cf),
             "padding": _padding_arg(op, padding, nd, cf), "groups": 1, "channels_first": cf}
    spatial = _spatial(oshape, cf)
    xs = tuple(_spatial(shape_of(x), cf))
    if None in tuple(sw[:nd]) + xs:  # symbolic: nothing to check yet
        return execute(_BP_INPUT, (x, w), dict(attrs, input_shape=oshape))
    _, out = _geometry(op, spatial, tuple(sw[:nd]), attrs["strides"], attrs["dilations"],
                       attrs["padding"])
    if out != xs:
        raise fail(op, f"an input of spatial shape {list(out)} for output_shape "
                   f"{list(oshape)}", f"input shape {list(shape_of(x))}",
                   "output_shape must be a shape whose convolution gives the input's shape.")
    return execute(_BP_INPUT, (x, w), dict(attrs, input_shape=oshape))


def conv_transpose_output_length(size: int | None, k: int, stride: int, dilation: int,
                                 padding: str, output_padding: int | None = None) -> int | None:
    """Keras's output length of a transposed convolution."""
    if size is None:
        return None
    eff = (k - 1) * dilation + 1
    if output_padding is None:
        if padding == "VALID":
            return size * stride + max(eff - stride, 0)
        return size * stride
    pad = 0 if padding == "VALID" else eff // 2
    return (size - 1) * stride + eff - 2 * pad + output_padding


def conv1d_transpose(input: Any, filters: Any, output_shape: Any, strides: Any = 1,
                     padding: str = "SAME", data_format: str = "NWC", dilations: Any = None,
                     name: str | None = None) -> Tensor:
    _rank_check("conv1d_transpose", filters, 3)
    return conv_transpose(input, filters, output_shape, strides, padding, data_format, dilations)


def conv2d_transpose(input: Any, filters: Any, output_shape: Any, strides: Any = 1,
                     padding: str = "SAME", data_format: str = "NHWC", dilations: Any = None,
                     name: str | None = None) -> Tensor:
    _rank_check("conv2d_transpose", filters, 4)
    return conv_transpose(input, filters, output_shape, strides, padding, data_format, dilations)


def conv3d_transpose(input: Any, filters: Any, output_shape: Any, strides: Any = 1,
                     padding: str = "SAME", data_format: str = "NDHWC", dilations: Any = None,
                     name: str | None = None) -> Tensor:
    _rank_check("conv3d_transpose", filters, 5)
    return conv_transpose(input, filters, output_shape, strides, padding, data_format, dilations)


def depthwise_conv(input: Any, filter: Any, strides: Any = 1, padding: Any = "VALID",
                   data_format: str | None = None, dilations: Any = None) -> Tensor:
    """Depthwise N-d convolution: filter `(*kernel_size, in_channels, depth_multiplier)`;
    output channel `c * depth_multiplier + m`."""
    x, w = t(input), t(filter)
    sw = shape_of(w)
    nd = len(sw) - 2
    op = f"depthwise_conv{nd}d"
    if nd not in (1, 2, 3):
        raise fail(op, "a filter of rank 3, 4 or 5", f"filter shape {list(sw)}")
    cf = _channels_first(op, data_format)
    sx = shape_of(x)
    if len(sx) != nd + 2:
        raise fail(op, f"an input of rank {nd + 2}", f"input shape {list(sx)}")
    c = _channels(sx, cf)
    if c != sw[-2]:
        raise fail(op, f"inputs with {sw[-2]} channels (the filter's in_channels)",
                   f"{c} channels (input shape {list(sx)})")
    if None in (sw[-2], sw[-1]):
        raise fail(op, "a filter with known in_channels and depth_multiplier",
                   f"filter shape {list(sw)}")
    w2 = reshape(w, tuple(-1 if d is None else d for d in sw[:nd]) + (1, sw[-2] * sw[-1]))
    return conv(x, w2, strides, padding, data_format, dilations, groups=int(sw[-2]))


def depthwise_conv2d(input: Any, filter: Any, strides: Any, padding: Any,
                     data_format: str | None = None, dilations: Any = None,
                     name: str | None = None) -> Tensor:
    """`tf.nn.depthwise_conv2d`: filter `(kh, kw, in_channels, channel_multiplier)`.

    >>> import ndflow as tf
    >>> tf.nn.depthwise_conv2d(tf.ones([1, 4, 4, 2]), tf.ones([3, 3, 2, 3]), [1, 1, 1, 1],
    ...                        "VALID").shape.as_list()
    [1, 2, 2, 6]
    """
    _rank_check("depthwise_conv2d", filter, 4)
    return depthwise_conv(input, filter, strides, padding, data_format, dilations)


def separable_conv2d(input: Any, depthwise_filter: Any, pointwise_filter: Any, strides: Any,
                     padding: Any, data_format: str | None = None, dilations: Any = None,
                     name: str | None = None) -> Tensor:
    """Depthwise convolution followed by a 1x1 pointwise convolution."""
    y = depthwise_conv2d(input, depthwise_filter, strides, padding, data_format, dilations)
    return conv(y, pointwise_filter, 1, "VALID", data_format)

