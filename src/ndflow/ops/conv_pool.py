"""`conv_max_pool`: a convolution immediately max-pooled with non-overlapping windows, in one
kernel. The graph compiler rewrites `max_pool(conv(x, w))` into it (`graph/passes/pool_rules.py`);
it is not a TensorFlow API.

The im2col columns are laid out pool-offset-major: rows `(pool offset, batch, pooled
position)`. One GEMM then yields, for each offset of the pooling window, a contiguous block of
conv outputs, so the pool is a running maximum over whole blocks (long contiguous passes
instead of strided window slices), and conv outputs that no window reads (the trailing rows a
VALID pool drops) are never computed. Outputs: the pooled values and the window index (first
maximum in row-major order), exactly what `max_pool(conv(x, w))` returns; gradients reuse
`max_pool_grad` and the convolution's backprop ops.

>>> import numpy as np
>>> import ndflow as tf
>>> from ndflow.ops.conv_pool import conv_max_pool
>>> x = tf.constant(np.arange(32.0, dtype=np.float32).reshape(1, 4, 4, 2))
>>> w = tf.ones([3, 3, 2, 1])
>>> y, idx = conv_max_pool(x, w, pool_size=(2, 2))
>>> y.numpy().reshape(-1).tolist(), tf.nn.max_pool2d(tf.nn.conv2d(x, w, 1, "VALID"), 2, 2,
...                                                   "VALID").numpy().reshape(-1).tolist()
([369.0], [369.0])
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ndflow.backend import jit
from ndflow.core.dispatch import Spec, execute, register_op
from ndflow.core.tensor import Tensor
from ndflow.ops._util import mm, shape_of, t
from ndflow.ops.conv import (
    _BP_FILTER, _BP_INPUT, _check_ranks, _geometry, _im2col_kernel_major, _pad_input,
    _spatial_out,
)
from ndflow.ops.pooling import _MAX_POOL_GRAD, _first_max, _idx_dtype

__all__ = ["conv_max_pool"]


def _columns(xp: Any, xpad: Any, ks: tuple, pooled: tuple, pool: tuple, strides: tuple,
             dilations: tuple) -> tuple:
    """Columns for the conv outputs that the pool reads, rows ordered (pool offset, batch,
    pooled position); returns (matrix, transposed?) with the matrix (rows, K*C) or, for few
    channels, (K*C, rows)."""
    c = xpad.shape[-1]
    if c < 8:
        return _im2col_kernel_major(xp, xpad, ks, pooled, strides, dilations, pool), True
    nd = len(ks)
    xs = xpad.strides
    shape = tuple(pool) + (xpad.shape[0],) + tuple(pooled) + tuple(ks) + (c,)
    st = (tuple(xs[1 + d] * strides[d] for d in range(nd)) + (xs[0],)
          + tuple(xs[1 + d] * strides[d] * pool[d] for d in range(nd))
          + tuple(xs[1 + d] * dilations[d] for d in range(nd)) + (xs[-1],))
    view = xp.lib.stride_tricks.as_strided(xpad, shape, st)
    return xp.ascontiguousarray(view).reshape(-1, int(np.prod(ks)) * c), False


def _conv_pool_cols_fwd(xp: Any, x: Any, w: Any, b: Any = None, *, strides: tuple,
                        dilations: tuple, padding: Any, pool_size: tuple, relu: bool = False,
                        keep_columns: bool = True) -> tuple:
    """`conv_max_pool`, then optionally ``relu(pooled + b)``, also returning the im2col
    columns (empty unless `keep_columns`) for the gradient to reuse: the graph compiler's
    `conv_max_pool_fused`."""
    nd = x.ndim - 2
    ks = w.shape[:nd]
    o = w.shape[-1]
    pads, out = _geometry(f"conv{nd}d", x.shape[1:-1], ks, strides, dilations, padding)
    pooled = tuple(s // p for s, p in zip(out, pool_size))
    xpad = _pad_input(xp, x, pads)
    cols, kernel_major = _columns(xp, xpad, ks, pooled, pool_size, strides, dilations)
    wm = w.reshape(-1, o)
    kp = int(np.prod(pool_size))
    shape = (x.shape[0],) + pooled + (o,)
    rows = x.shape[0] * int(np.prod(pooled))
    if kernel_major and jit.accepts(cols, wm) and worth_chunking(kp, rows, o, x.dtype):
        # few input channels: a GEMM with K = 9 or so, bound by writing its output
        best = xp.empty(shape, x.dtype)
        idx = xp.empty(shape, _idx_dtype(kp))
        _pooled_products(cols, wm, kernel_major, kp, rows, best.reshape(rows, o),
                         idx.reshape(rows, o))
        if b is not None or relu:
            _bias_relu(xp, best, b, relu)
        return best, idx, (cols if keep_columns else xp.empty(0, x.dtype))
    y = mm(xp, cols.T, wm) if kernel_major else mm(xp, cols, wm)
    blocks = y.reshape((kp, -1))
    if jit.accepts(blocks):
        best = xp.empty(shape, y.dtype)
        idx = xp.empty(shape, _idx_dtype(kp))
        _first_max_of_blocks(blocks, best.reshape(-1), idx.reshape(-1))
    else:
        best, idx = _first_max(xp, blocks, _idx_dtype(kp))
        best, idx = best.reshape(shape), idx.reshape(shape)
    if b is not None or relu:
        _bias_relu(xp, best, b, relu)
    return best, idx, (cols if keep_columns else xp.empty(0, x.dtype))


# The conv outputs of one chunk of pooled positions (all pool offsets) stay below this size,
# so the pool reads them from cache instead of memory.
_CHUNK_BYTES = 1 << 20


def worth_chunking(kp: int, rows: int, o: int, dtype: Any) -> bool:
    """Whether (kp, rows, o) conv outputs or gradients span more than two chunks."""
    return kp * rows * o * np.dtype(dtype).itemsize > 2 * _CHUNK_BYTES


def offset_chunks(rows: int, kp: int, o: int, dtype: Any) -> Iterator[tuple]:
    """``(start, count, buffer)`` for the chunks of `rows` pooled positions whose (kp, count,
    o) conv outputs or gradients fit in `_CHUNK_BYTES` (one buffer, reused; the last, partial
    chunk gets its own)."""
    chunk = max(1, _CHUNK_BYTES // (kp * o * np.dtype(dtype).itemsize))
    buf = np.empty((kp, chunk, o), dtype)
    for c0 in range(0, rows, chunk):
        n = min(chunk, rows - c0)
        yield c0, n, (buf if n == chunk else np.empty((kp, n, o), dtype))


def _pooled_products(cols: Any, wm: Any, kernel_major: bool, kp: int, rows: int, best: Any,
                     idx: Any) -> None:
    """The GEMM and the running maximum over pool offsets, chunk by chunk of pooled
    positions: each chunk's (kp, chunk, O) conv outputs are written and read back while in
    cache (the whole conv output, written by one GEMM, went through memory twice)."""
    for c0, n, part in offset_chunks(rows, kp, wm.shape[1], wm.dtype):
        for k in range(kp):
            r0 = k * rows + c0
            a = cols[:, r0:r0 + n].T if kernel_major else cols[r0:r0 + n]
            np.matmul(a, wm, out=part[k])
        _first_max_of_blocks(part.reshape(kp, -1), best[c0:c0 + n].reshape(-1),
                             idx[c0:c0 + n].reshape(-1))


def _bias_relu(xp: Any, y: Any, b: Any, relu: bool) -> None:
    """``y = relu(y + b)`` in place (per-channel bias `b` or None)."""
    rows = y.reshape(-1, y.shape[-1])
    if jit.accepts(rows) and (b is None or jit.accepts(b) and b.dtype == y.dtype):
        _bias_relu_rows(rows, rows[0] if b is None else b, b is not None, relu)
        return
    if b is not None:
        y += b
    if relu:
        xp.maximum(y, 0, out=y)


@jit.kernel
def _bias_relu_rows(rows, b, has_bias, relu):  # noqa: ANN001
    """One pass of `_bias_relu`; ``max(v, 0)`` keeps NaN and takes v when v >= 0, as
    np.maximum's definition does."""
    m, c_ = rows.shape
    zero = rows.dtype.type(0)
    for i in range(m):
        for c in range(c_):
            v = rows[i, c] + b[c] if has_bias else rows[i, c]
            if relu and not (v >= zero or v != v):
                v = zero
            rows[i, c] = v


def _conv_pool_fwd(xp: Any, x: Any, w: Any, **attrs: Any) -> tuple:
    return _conv_pool_cols_fwd(xp, x, w, keep_columns=False, **attrs)[:2]


def columns_shape(x_shape: tuple, w_shape: tuple, pooled: tuple, pool_size: tuple) -> tuple:
    """Shape of `_columns`' matrix: (K*C, rows) for fewer than 8 channels, else (rows, K*C)."""
    nd = len(pool_size)
    kc = int(np.prod(w_shape[:nd])) * w_shape[-2]
    rows = int(np.prod(pool_size)) * x_shape[0] * int(np.prod(pooled))
    return (kc, rows) if x_shape[-1] < 8 else (rows, kc)


@jit.kernel
def _first_max_of_blocks(blocks, best, idx):  # noqa: ANN001
    """`pooling._first_max` over the rows of `blocks`: the element-wise maximum (NaN wins, as
    in np.maximum) and the first row holding it; branch-free selects, one pass per row."""
    kp, m = blocks.shape
    for i in range(m):
        best[i] = blocks[0, i]
        idx[i] = 0
    for j in range(1, kp):
        label = idx.dtype.type(j)
        for i in range(m):
            v = blocks[j, i]
            b = best[i]
            hit = v > b
            best[i] = v if hit or v != v else b
            idx[i] = label if hit else idx[i]


def _conv_pool_infer(x: Spec, w: Spec, *, strides: tuple, dilations: tuple, padding: Any,
                     pool_size: tuple) -> tuple:
    nd = _check_ranks(f"conv{w.ndim - 2}d", x, w)
    out = _spatial_out(f"conv{nd}d", tuple(x.shape[1:-1]), tuple(w.shape[:nd]), strides,
                       dilations, padding)
    pooled = tuple(None if s is None else s // p for s, p in zip(out, pool_size))
    shape = (x.shape[0],) + pooled + (w.shape[-1],)
    return Spec(shape, x.dtype), Spec(shape, _idx_dtype(int(np.prod(pool_size))))


def _conv_pool_grad(node: Any, g: Tensor, _g_idx: Any = None) -> tuple:
    x, w = node.inputs
    a = node.attrs
    xs, ws = tuple(shape_of(x)), tuple(shape_of(w))
    nd = len(xs) - 2
    out = _spatial_out(f"conv{nd}d", xs[1:-1], ws[:nd], a["strides"], a["dilations"],
                       a["padding"])
    geo = dict(strides=a["strides"], dilations=a["dilations"], padding=a["padding"], groups=1,
               channels_first=False)
    gz = execute(_MAX_POOL_GRAD, (g, node.outputs[1]),
                 dict(ksize=a["pool_size"], strides=a["pool_size"], padding="VALID",
                      channels_first=False, input_shape=(xs[0],) + out + (ws[-1],)))
    gx = execute(_BP_INPUT, (gz, w), dict(geo, input_shape=xs)) if node.needs[0] else None
    gw = execute(_BP_FILTER, (x, gz), dict(geo, filter_shape=ws)) if node.needs[1] else None
    return (gx, gw)


_CONV_POOL = register_op("conv_max_pool", _conv_pool_fwd, _conv_pool_infer, _conv_pool_grad,
                         num_outputs=2, blas="any")


def _conv_pool_fused_infer(x: Spec, w: Spec, b: Spec | None = None, *, relu: bool = False,
                           keep_columns: bool = True, **attrs: Any) -> tuple:
    y, idx = _conv_pool_infer(x, w, **attrs)
    shape = columns_shape(tuple(x.shape), tuple(w.shape), tuple(y.shape[1:-1]),
                          tuple(attrs["pool_size"])) if keep_columns else (0,)
    return y, idx, Spec(shape, x.dtype)


# graph-only (substituted after differentiation, so it needs no gradient): conv_max_pool with
# the bias and ReLU that follow it, keeping its columns for `conv_max_pool_grad` to reuse
_CONV_POOL_FUSED = register_op("conv_max_pool_fused", _conv_pool_cols_fwd,
                               _conv_pool_fused_infer, None, num_outputs=3, blas="any")


def conv_max_pool(x: Any, w: Any, pool_size: tuple, strides: Any = 1, padding: str = "VALID",
                  dilations: Any = 1) -> tuple[Tensor, Tensor]:
    """`max_pool(conv(x, w), pool_size, pool_size, "VALID")` for channels-last `x` and
    `groups=1`; returns (pooled values, window index)."""
    x, w = t(x), t(w)
    nd = len(shape_of(w)) - 2
    strides = (strides,) * nd if isinstance(strides, int) else tuple(strides)
    dilations = (dilations,) * nd if isinstance(dilations, int) else tuple(dilations)
    return execute(_CONV_POOL, (x, w), dict(strides=strides, dilations=dilations,
                                            padding=padding.upper(),
                                            pool_size=tuple(pool_size)))
