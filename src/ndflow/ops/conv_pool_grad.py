"""`conv_max_pool_grad`: the input and filter gradients of `conv_max_pool` from the pooled
gradient, without scattering it to a full-size conv-output gradient first.

The forward kernel (`ops/conv_pool.py`) orders its im2col rows (pool offset, batch, pooled
position). In that order the conv-output gradient is a stack, one block per pool offset `k`,
of ``g * (idx == k)``: contiguous passes instead of a strided scatter, covering only the rows
the pool reads (a VALID pool's dropped border never appears). The filter gradient is then one
GEMM with the forward's columns (kept from the forward by `conv_max_pool_fused` when
the graph has them, else rebuilt); the input gradient one GEMM and a col2im pass.

This is a backward-only kernel: the graph compiler substitutes it for
``max_pool_grad`` followed by the convolution's backprop ops (`graph/passes/pool_rules.py`),
after differentiation, so it has no gradient of its own.

>>> import numpy as np
>>> from ndflow.ops.conv_pool_grad import pool_offset_blocks
>>> g = np.array([[1.0, 2.0]], np.float32); idx = np.array([[1, 0]], np.uint8)
>>> pool_offset_blocks(np, g, idx, 2).tolist()
[[[0.0, 2.0]], [[1.0, 0.0]]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.backend import jit
from ndflow.ops._util import mm
from ndflow.core.dispatch import Spec, register_op
from ndflow.ops.conv import (
    _bp_input_col2im, _conv_bp_input_core, _crop_padding, _geometry, _pad_input,
)
from ndflow.ops.conv_pool import _columns, offset_chunks, worth_chunking
from ndflow.ops.pooling import _max_pool_grad_fwd

__all__: list[str] = []


def pool_offset_blocks(xp: Any, g: Any, idx: Any, kp: int) -> Any:
    """``out[k] = g * (idx == k)`` for each of the `kp` pool offsets: shape (kp,) + g.shape."""
    out = xp.empty((kp,) + g.shape, g.dtype)
    if jit.accepts(g, idx):
        _split_by_offset(g.reshape(-1), idx.reshape(-1), out.reshape(kp, -1))
    else:
        for k in range(kp):
            xp.multiply(g, idx == k, out=out[k])
    return out


@jit.kernel
def _split_by_offset(g, idx, out):  # noqa: ANN001
    """`pool_offset_blocks` in one pass over `g` (bitwise the NumPy path's values)."""
    kp, m = out.shape
    zero = g.dtype.type(0)
    one = g.dtype.type(1)
    for k in range(kp):
        label = idx.dtype.type(k)
        for i in range(m):
            out[k, i] = g[i] * (one if idx[i] == label else zero)


def _filter_grad(xp: Any, x: Any, blocks: Any, ks: tuple, pooled: tuple, pool: tuple,
                 pads: tuple, strides: tuple, dilations: tuple, cols: Any = None) -> Any:
    if cols is None:
        cols, kernel_major = _columns(xp, _pad_input(xp, x, pads), ks, pooled, pool, strides,
                                      dilations)
    else:  # the forward's columns (`conv_max_pool_fused`)
        kernel_major = x.shape[-1] < 8
    gm = blocks.reshape(-1, blocks.shape[-1])
    return mm(xp, cols, gm) if kernel_major else mm(xp, cols.T, gm)


def _filter_grad_chunked(cols: Any, g: Any, idx: Any, kp: int) -> Any:
    """`_filter_grad` for kernel-major `cols` (K, kp * P) and the pooled gradient `g` (P, O)
    with its window index: the offset blocks of one chunk of pooled positions at a time,
    each chunk's products summed into the result while its blocks are in cache (the blocks
    of the whole batch went through memory twice)."""
    rows, o = g.shape
    dw = np.zeros((cols.shape[0], o), g.dtype)
    tmp = np.empty_like(dw)
    for c0, n, part in offset_chunks(rows, kp, o, g.dtype):
        _split_by_offset(g[c0:c0 + n].reshape(-1), idx[c0:c0 + n].reshape(-1),
                         part.reshape(kp, -1))
        for k in range(kp):
            np.matmul(cols[:, k * rows + c0:k * rows + c0 + n], part[k], out=tmp)
            dw += tmp
    return dw


def _input_grad(xp: Any, g: Any, idx: Any, blocks: Any, w: Any, input_shape: tuple,
                out: tuple, pool: tuple, pads: tuple, strides: tuple, dilations: tuple,
                padding: Any) -> Any:
    """`out` is the full conv output's spatial shape (a VALID pool may read less of it)."""
    nd = len(pool)
    ks = tuple(w.shape[:nd])
    c, o = w.shape[-2], w.shape[-1]
    if nd != 2 or not jit.accepts(blocks):
        gz = _max_pool_grad_fwd(xp, g, idx, input_shape=(input_shape[0],) + out + (o,),
                                ksize=pool, strides=pool, padding="VALID",
                                channels_first=False)
        return _conv_bp_input_core(xp, gz, w, tuple(input_shape[1:-1]), strides, dilations,
                                   padding, 1)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(input_shape[1:-1], pads))
    dx = xp.zeros((input_shape[0],) + padded + (c,), g.dtype)
    _bp_input_col2im(xp, blocks.reshape(pool + g.shape), w, dx, ks, strides, dilations)
    return _crop_padding(xp, dx, pads, tuple(input_shape[1:-1]))


def _grad_fwd(xp: Any, x: Any, g: Any, idx: Any, w: Any, cols: Any = None, *, strides: tuple,
              dilations: tuple, padding: Any, pool_size: tuple, needs: tuple) -> tuple:
    nd = len(pool_size)
    ks = tuple(w.shape[:nd])
    pads, out = _geometry(f"conv{nd}d", x.shape[1:-1], ks, strides, dilations, padding)
    pooled = tuple(g.shape[1:-1])
    kp = int(np.prod(pool_size))
    if not needs[0] and needs[1] and x.shape[-1] < 8 and jit.accepts(g, idx) \
            and worth_chunking(kp, g.size // g.shape[-1], g.shape[-1], g.dtype):
        # the filter gradient alone (a first layer) of a few-channel conv: chunk by chunk
        if cols is None or cols.size == 0:
            cols = _columns(xp, _pad_input(xp, x, pads), ks, pooled, tuple(pool_size),
                            strides, dilations)[0]
        if jit.accepts(cols) and cols.dtype == g.dtype:
            dw = _filter_grad_chunked(cols, g.reshape(-1, g.shape[-1]),
                                      idx.reshape(-1, g.shape[-1]), kp)
            return xp.empty(0, g.dtype), dw.reshape(w.shape)
    blocks = pool_offset_blocks(xp, g, idx, kp)
    dx = _input_grad(xp, g, idx, blocks, w, tuple(x.shape), out, tuple(pool_size), pads,
                     strides, dilations, padding) if needs[0] else xp.empty(0, g.dtype)
    dw = _filter_grad(xp, x, blocks, ks, pooled, tuple(pool_size), pads, strides,
                      dilations, cols).reshape(w.shape) if needs[1] else xp.empty(0, g.dtype)
    return dx, dw


def _grad_infer(x: Spec, g: Spec, idx: Spec, w: Spec, cols: Spec | None = None, *,
                needs: tuple, **_: Any) -> tuple:
    return (Spec(x.shape if needs[0] else (0,), g.dtype),
            Spec(w.shape if needs[1] else (0,), g.dtype))


_CONV_POOL_GRAD = register_op("conv_max_pool_grad", _grad_fwd, _grad_infer, None,
                              num_outputs=2, blas="any")
