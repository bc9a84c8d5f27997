"""Scaled dot-product attention as one op: ``softmax(q @ k^T) @ v`` per batch row and head.

Inputs keep Keras's `(batch, seq, heads, dim)` layout (what EinsumDense projections produce):
`query` (a, b, c, d), already scaled, `key` (a, e, c, d) and `value` (a, e, c, f), and an
optional boolean mask that broadcasts to (a, c, b, e) (Keras's masked softmax). Outputs are
the attended values (a, b, c, f) and the attention probabilities (a, c, b, e), which the
backward pass reads (and `MultiHeadAttention(return_attention_scores=True)` returns).

On the CPU with compiled kernels (`ndflow[jit]`) one head's scores, softmax and products run
together while its (b, e) block is in cache, with NumPy's own BLAS GEMM reading the strided
heads in place and NumPy's exp loop for the softmax; the backward pass likewise per head. The
einsum + softmax composition it replaces read and wrote every (a, c, b, e) array through main
memory, with transposing copies around each batched product. Elsewhere (CuPy, no numba) the
kernels are that composition. A gradient that will itself be differentiated is computed with
primitive ops (so second-order gradients work).

>>> import numpy as np, ndflow as tf
>>> from ndflow.ops.attention import attention
>>> q = k = v = tf.constant(np.ones((1, 2, 1, 4), np.float32))
>>> out, probs = attention(q, k, v)
>>> probs.numpy()[0, 0].tolist()
[[0.5, 0.5], [0.5, 0.5]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.backend import jit, native_calls, parallel
from ndflow.backend.native_calls import call_unary
from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor, constant
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of, t
from ndflow.ops.nn import row_max, softmax
from ndflow.ops.row_sums import pairwise_program, row_sum
from ndflow.ops.shape_ops import broadcast_to, reshape

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
SCORES, ATTEND = "abcd,aecd->acbe", "acbe,aecd->abcd"  # the einsums it computes


@jit.helper
def _gemm(gemm: Any, ta: int, tb: int, M: int, N: int, K: int, a: int, lda: int, b: int,
          ldb: int, c: int, ldc: int, isz: int) -> None:
    """C (M, N) = op(A) @ op(B) by addresses, in calls of few enough rows that OpenBLAS runs
    each on the calling thread (rows are independent: at most rounding changes)."""
    rows = max(1, (1 << 18) // max(1, N * K))
    for r0 in range(0, M, rows):
        r1 = min(r0 + rows, M)
        off = r0 * lda * isz if ta == _NO_TRANS else r0 * isz
        gemm(_ROW_MAJOR, ta, tb, r1 - r0, N, K, 1.0, a + off, lda, b, ldb, 0.0,
             c + r0 * ldc * isz, ldc)


@jit.helper
def _head(x: Any, a: int, c: int) -> int:
    """The address of head c of batch row a, ``x[a, 0, c, 0]``, in a C-ordered
    (batch, seq, heads, dim) array (its rows then lie heads * dim apart)."""
    return x.ctypes.data + ((a * x.shape[1]) * x.shape[2] + c) * x.shape[3] * x.itemsize


@jit.helper
def _dot(x: Any, y: Any) -> Any:
    """sum(x * y) of two rows in eight partial sums (a loop that vectorises)."""
    n = x.shape[0]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = x[0] * 0
    j = 0
    while j + 8 <= n:
        s0 += x[j] * y[j]
        s1 += x[j + 1] * y[j + 1]
        s2 += x[j + 2] * y[j + 2]
        s3 += x[j + 3] * y[j + 3]
        s4 += x[j + 4] * y[j + 4]
        s5 += x[j + 5] * y[j + 5]
        s6 += x[j + 6] * y[j + 6]
        s7 += x[j + 7] * y[j + 7]
        j += 8
    s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    while j < n:
        s += x[j] * y[j]
        j += 1
    return s


@jit.helper
def _softmax_block(p: Any, exp: Any, exp_data: Any, meta: Any, prog: Any, stack: Any) -> None:
    """Row softmax of the contiguous (rows, n) block `p` in place: the row maxima (nn's
    `row_max`), one NumPy exp call for the whole block, the row sums (`row_sum`, `prog` its
    pairwise program) and a multiplication by each row's reciprocal sum."""
    rows, n = p.shape
    for i in range(rows):
        r = p[i]
        mx = row_max(r)
        for j in range(n):
            r[j] = r[j] - mx
    meta[3] = p.itemsize
    meta[4] = p.itemsize
    call_unary(exp, exp_data, p.ctypes.data, p.ctypes.data, rows * n, meta)
    one = p.dtype.type(1)
    for i in range(rows):
        r = p[i]
        scale = one / row_sum(r, prog, stack, one - one)
        for j in range(n):
            r[j] = r[j] * scale


@jit.kernel
def _attention_jit(gemm: Any, exp: Any, exp_data: Any, meta: Any, prog: Any, q: Any, k: Any,
                   v: Any, mask: Any, masked: bool, big: Any, out: Any, probs: Any, a0: int,
                   a1: int) -> None:
    """Batch rows a0:a1, head by head: scores into `probs` (`big` where `mask` is False),
    softmax in place (then 0 where masked), then out."""
    A, B, C, D = q.shape
    E, F = k.shape[1], v.shape[3]
    isz = q.itemsize
    stack = np.empty(64, q.dtype)
    for a in range(a0, a1):
        for c in range(C):
            p = probs[a, c]
            qa, ka, va, oa = _head(q, a, c), _head(k, a, c), _head(v, a, c), _head(out, a, c)
            _gemm(gemm, _NO_TRANS, _TRANS, B, E, D, qa, C * D, ka, C * D, p.ctypes.data, E,
                  isz)
            if masked:
                mk = mask[a, c if mask.shape[1] > 1 else 0]
                for i in range(B):
                    for j in range(E):
                        p[i, j] = p[i, j] if mk[i, j] else big
            _softmax_block(p, exp, exp_data, meta, prog, stack)
            if masked:
                for i in range(B):
                    for j in range(E):
                        p[i, j] = p[i, j] if mk[i, j] else big - big
            _gemm(gemm, _NO_TRANS, _NO_TRANS, B, F, E, p.ctypes.data, E, va, C * F, oa, C * F,
                  isz)


@jit.kernel
def _attention_grad_jit(gemm: Any, q: Any, k: Any, v: Any, probs: Any, dout: Any, dprobs: Any,
                        has_dprobs: bool, dq: Any, dk: Any, dv: Any, ds: Any, a0: int,
                        a1: int) -> None:
    """Batch rows a0:a1, head by head: dv = p^T dout, dp = dout v^T (+ dprobs),
    ds = p * (dp - rowsum(dp * p)), dq = ds k, dk = ds^T q (`ds` is scratch (B, E))."""
    A, B, C, D = q.shape
    E, F = k.shape[1], v.shape[3]
    isz = q.itemsize
    for a in range(a0, a1):
        for c in range(C):
            p = probs[a, c]
            qa, ka, va, ga = _head(q, a, c), _head(k, a, c), _head(v, a, c), _head(dout, a, c)
            _gemm(gemm, _TRANS, _NO_TRANS, E, F, B, p.ctypes.data, E, ga, C * F,
                  _head(dv, a, c), C * F, isz)
            _gemm(gemm, _NO_TRANS, _TRANS, B, E, F, ga, C * F, va, C * F, ds.ctypes.data, E,
                  isz)
            for i in range(B):
                row, pr = ds[i], p[i]
                if has_dprobs:
                    gp = dprobs[a, c, i]
                    for j in range(E):
                        row[j] += gp[j]
                s = _dot(row, pr)
                for j in range(E):
                    row[j] = pr[j] * (row[j] - s)
            _gemm(gemm, _NO_TRANS, _NO_TRANS, B, D, E, ds.ctypes.data, E, ka, C * D,
                  _head(dq, a, c), C * D, isz)
            _gemm(gemm, _TRANS, _NO_TRANS, E, D, B, ds.ctypes.data, E, qa, C * D,
                  _head(dk, a, c), C * D, isz)


def _compiled(xp: Any, *arrays: Any) -> Any:
    """NumPy's GEMM for the compiled kernels, or None where they do not apply."""
    dtype = arrays[0].dtype
    if xp is not np or not jit.enabled() or dtype not in (np.float32, np.float64) \
            or any(a.dtype != dtype or not a.flags.c_contiguous for a in arrays):
        return None
    return native_calls.gemm(dtype)


def _big(dtype: Any) -> Any:
    """The score masked positions get before the softmax (Keras's masked softmax)."""
    return np.dtype(dtype).type(-3e4 if np.dtype(dtype) == np.float16 else -1e9)


def _attention_fwd(xp: Any, q: Any, k: Any, v: Any, mask: Any, masked: bool) -> tuple:
    gemm = _compiled(xp, q, k, v)
    exp = native_calls.unary_loop(np.exp, q.dtype) if gemm is not None else None
    if masked and exp is not None:  # (batch, 1 or heads, queries, keys), as the kernel reads it
        shape = (q.shape[0], 1 if mask.shape[1] == 1 else q.shape[2], q.shape[1], k.shape[1])
        mask = np.ascontiguousarray(np.broadcast_to(mask, shape), dtype=np.bool_)
    if exp is None:
        scores = xp.einsum(SCORES, q, k)
        if masked:
            scores = xp.where(mask, scores, _big(q.dtype))
        e = xp.exp(scores - scores.max(axis=-1, keepdims=True))
        probs = e / e.sum(axis=-1, keepdims=True)
        if masked:
            probs = xp.where(mask, probs, probs.dtype.type(0))
        return xp.einsum(ATTEND, probs, v), probs
    A, B, C, _ = q.shape
    E, F = k.shape[1], v.shape[3]
    out = np.empty((A, B, C, F), q.dtype)
    probs = np.empty((A, C, B, E), q.dtype)
    prog = pairwise_program(E)

    def rows(a0: int, a1: int) -> None:
        _attention_jit.function(gemm, exp[0], exp[1], np.empty(5, np.intp), prog, q, k, v,
                                mask, masked, _big(q.dtype), out, probs, a0, a1)

    parallel.run_blocks(rows, A, 1)
    return out, probs


def _attention_grad_fwd(xp: Any, q: Any, k: Any, v: Any, probs: Any, dout: Any,
                        dprobs: Any, has_dprobs: bool) -> tuple:
    gemm = _compiled(xp, q, k, v, probs, dout, dprobs)
    if gemm is None:
        dv = xp.einsum("acbe,abcf->aecf", probs, dout)
        dp = xp.einsum("abcf,aecf->acbe", dout, v)
        if has_dprobs:
            dp = dp + dprobs
        ds = probs * (dp - (dp * probs).sum(axis=-1, keepdims=True))
        return xp.einsum("acbe,aecd->abcd", ds, k), xp.einsum("acbe,abcd->aecd", ds, q), dv
    dq, dk, dv = np.empty_like(q), np.empty_like(k), np.empty_like(v)
    B, E = q.shape[1], k.shape[1]

    def rows(a0: int, a1: int) -> None:
        _attention_grad_jit.function(gemm, q, k, v, probs, dout, dprobs, has_dprobs, dq, dk,
                                     dv, np.empty((B, E), q.dtype), a0, a1)

    parallel.run_blocks(rows, q.shape[0], 1)
    return dq, dk, dv


def _primitive_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None) -> tuple:
    from ndflow.ops.linalg import einsum

    scores = einsum(SCORES, q, k)
    if mask is None:
        probs = softmax(scores, axis=-1)
    else:
        probs = softmax(m.where(mask, scores, m.cast(_big(npdt(q)), npdt(q))), axis=-1)
        probs = m.where(mask, probs, m.zeros_like_(probs))
    return einsum(ATTEND, probs, v), probs


def _attention_grad(node: Any, dout: Any, dprobs: Any) -> tuple:
    q, k, v, mask = node.inputs
    out, probs = node.outputs
    from ndflow.ops import rnn_unrolled

    if rnn_unrolled.recording_gradient():  # this gradient will be differentiated again
        grads = [m.zeros_like_(out) if dout is None else dout,
                 m.zeros_like_(probs) if dprobs is None else dprobs]
        mk = mask if node.attrs["masked"] else None
        return tuple(rnn_unrolled.gradients(lambda q_, k_, v_: _primitive_attention(
            q_, k_, v_, mk), (q, k, v), grads)) + (None,)
    # the probabilities are 0 at masked positions: the same backward pass covers masks
    has = dprobs is not None
    return tuple(execute(_ATTENTION_GRAD, (
        m.zeros_like_(out) if dout is None else dout, q, k, v, probs,
        dprobs if has else m.zeros_like_(probs[:1, :1, :1, :1])),
        {"has_dprobs": has})) + (None,)


def _check(q: Spec, k: Spec, v: Spec) -> None:
    for name, s in (("query", q), ("key", k), ("value", v)):
        if len(s.shape) != 4:
            raise fail("attention", f"a 4-D {name} (batch, seq, heads, dim)",
                       f"shape {list(s.shape)}")

    def clash(x: Any, y: Any) -> bool:
        return x is not None and y is not None and x != y

    if clash(q.shape[0], k.shape[0]) or clash(q.shape[2], k.shape[2]) \
            or clash(q.shape[3], k.shape[3]):
        raise fail("attention", "query and key of one batch, head count and key dim",
                   f"query {list(q.shape)} and key {list(k.shape)}")
    if any(clash(a, b) for a, b in zip(k.shape[:3], v.shape[:3])):
        raise fail("attention", "key and value of one batch, length and head count",
                   f"key {list(k.shape)} and value {list(v.shape)}")


def _attention_infer(q: Spec, k: Spec, v: Spec, mask: Spec, masked: bool) -> tuple:
    _check(q, k, v)
    a, b, c, _ = q.shape
    want = (a, c, b, k.shape[1])
    if masked and (len(mask.shape) != 4 or any(
            m_ is not None and w is not None and m_ not in (1, w)
            for m_, w in zip(mask.shape, want))):
        raise fail("attention", f"a mask that broadcasts to (batch, heads, queries, keys) = "
                   f"{want}", f"shape {list(mask.shape)}")
    return (Spec((a, b, c, v.shape[3]), q.dtype), Spec((a, c, b, k.shape[1]), q.dtype))


def _grad_infer(dout: Spec, q: Spec, k: Spec, v: Spec, probs: Spec, dprobs: Spec,
                **_: Any) -> tuple:
    return Spec(q.shape, q.dtype), Spec(k.shape, k.dtype), Spec(v.shape, v.dtype)


def _grad_kernel(xp: Any, dout: Any, q: Any, k: Any, v: Any, probs: Any, dprobs: Any,
                 has_dprobs: bool) -> tuple:
    return _attention_grad_fwd(xp, q, k, v, probs, dout, dprobs, has_dprobs)


def _blas(attrs: dict, specs: list) -> Any:
    """The ``blas`` trait: the compiled kernels (float32, float64) cut each head's products
    into single-thread calls; the einsum path does not."""
    return [] if np.dtype(specs[0][1]) in (np.float32, np.float64) else "any"


_ATTENTION = register_op("attention", _attention_fwd, _attention_infer, _attention_grad,
                         num_outputs=2, blas=_blas)
_ATTENTION_GRAD = register_op("attention_grad", _grad_kernel, _grad_infer, None,
                              num_outputs=3, blas=_blas)


def attention(query: Any, key: Any, value: Any, mask: Any = None) -> tuple[Tensor, Tensor]:
    """``(softmax(query @ key^T) @ value, probabilities)`` per batch row and head, for
    (batch, seq, heads, dim) inputs; scale `query` first (by ``1 / sqrt(dim)`` for the usual
    scaled attention). `mask` (broadcast to (batch, heads, queries, keys), True where a
    query may attend to a key) works as Keras's masked softmax: masked scores become -1e9
    and their probabilities 0 (a fully masked row is all zeros)."""
    q, k, v = t(query), t(key), t(value)
    if not npdt(q) == npdt(k) == npdt(v):
        raise fail("attention", "query, key and value of one dtype",
                   f"{npdt(q)}, {npdt(k)} and {npdt(v)}", "Cast them to one float dtype.")
    if mask is None:
        mk = constant(np.ones((1, 1, 1, 1), bool))
    else:
        mk = t(mask)
        if npdt(mk) != np.bool_:
            mk = m.not_equal(mk, m.zeros_like_(mk))
        qs, ks, ms = tuple(shape_of(q)), tuple(shape_of(k)), tuple(shape_of(mk))
        if len(qs) == len(ks) == 4:
            want = (qs[0], 1 if len(ms) == 4 and ms[1] == 1 else qs[2], qs[1], ks[1])
            if len(ms) > 4 or not all(a is None or b is None or a in (1, b)
                                      for a, b in zip(ms[::-1], want[::-1])):
                raise fail("attention", "a mask that broadcasts to (batch, heads, queries, "
                           f"keys) = {(qs[0], qs[2], qs[1], ks[1])}", f"shape {list(ms)}")
            if None not in want:
                mk = broadcast_to(reshape(mk, (1,) * (4 - len(ms)) + ms), want)
    return tuple(execute(_ATTENTION, (q, k, v, mk), {"masked": mask is not None}))
