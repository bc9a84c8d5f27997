"""Recurrent sequence ops: a whole SimpleRNN / LSTM / GRU recurrence as one op each.

The input projection of every time step (`x @ kernel + bias`) is one matmul done by the caller;
these ops run only the recurrence `h_t = f(xw_t, h_{t-1})`, looping over time inside the kernel
(no Python dispatch, tape or graph node per step), and each carries its backward pass as a
second op that loops back over time. The gate activations (and for the GRU the recurrent
pre-activation of the candidate) are extra outputs that the backward pass reads.

Conventions (Keras 3 weight layouts): `xw` (batch, time, G*units) holds the projected inputs
(with the input bias) in gate order i, f, c, o (LSTM, G=4) or z, r, h (GRU, G=3);
`recurrent_kernel` is (units, G*units). `mask` (batch, time) of 0/1 in the float dtype: at a
masked step every state keeps its previous value. `rdrop` (batch, units) multiplies the state
before the recurrent matmul (Keras's recurrent dropout; ones when unused).

>>> import numpy as np
>>> import ndflow as tf
>>> from ndflow.ops import rnn
>>> xw = tf.constant(np.zeros((1, 3, 4), "float32"))
>>> h0 = tf.zeros([1, 1])
>>> hs, = rnn.simple_rnn_sequence(xw[..., :1], h0, tf.ones([1, 1]))
>>> tuple(hs.shape)
(1, 3, 1)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.backend import jit, native_calls, parallel
from ndflow.backend.native_calls import call_unary
from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor
from ndflow.ops import math as m
from ndflow.ops import rnn_unrolled
from ndflow.ops._util import mm, npdt, shape_of, t

__all__ = ["ACTIVATIONS", "simple_rnn_sequence", "lstm_sequence", "gru_sequence"]


# --- activations the kernels know: value, and derivative from the value -------------------------
def _sigmoid(xp: Any, x: Any) -> Any:
    y = xp.tanh(x * 0.5)
    y *= 0.5
    y += 0.5
    return y


def _hard_sigmoid(xp: Any, x: Any) -> Any:
    return xp.clip(x * (1.0 / 6.0) + 0.5, 0.0, 1.0)


_ACT = {
    "tanh": lambda xp, x: xp.tanh(x),
    "sigmoid": _sigmoid,
    "relu": lambda xp, x: xp.maximum(x, 0),
    "linear": lambda xp, x: x,
    "hard_sigmoid": _hard_sigmoid,
}
_DACT = {  # d act / d pre-activation, from the activation's value y
    "tanh": lambda xp, y: 1.0 - y * y,
    "sigmoid": lambda xp, y: y * (1.0 - y),
    "relu": lambda xp, y: (y > 0).astype(y.dtype),
    "linear": lambda xp, y: xp.ones_like(y),
    "hard_sigmoid": lambda xp, y: ((y > 0) & (y < 1)).astype(y.dtype) * (1.0 / 6.0),
}
ACTIVATIONS = frozenset(_ACT)


def _check_act(op: str, name: str) -> None:
    if name not in _ACT:
        raise fail(op, f"an activation among {sorted(_ACT)}", repr(name),
                   "Other activations run through the generic RNN loop.")


def _mix(xp: Any, mk: Any, new: Any, old: Any) -> Any:
    """`new` where the step is kept (mk=1), `old` where it is masked (mk=0); mk is (batch, 1)."""
    return old + mk * (new - old)


# --- SimpleRNN ---------------------------------------------------------------------------------
@jit.kernel
def _srnn_seq_jit(gemm: Any, tanh: Any, tanh_data: Any, xw: Any, h0: Any, R: Any, rd: Any,
                  mask: Any, hs: Any, hd: Any, z: Any, meta: Any, masked: bool, dropped: bool,
                  b0: int, b1: int) -> None:
    """The whole tanh SimpleRNN forward recurrence for rows b0:b1 in one call (no GIL): the
    NumPy path's operations, with NumPy's GEMM and tanh loop (native_calls)."""
    B, T, H = xw.shape
    meta[3] = xw.itemsize
    meta[4] = xw.itemsize
    for s in range(T):
        h = hs[:, s - 1] if s else h0
        _product_rows(gemm, _state_rows(h, hd, rd, dropped, b0, b1), R, z, b0, b1)
        for b in range(b0, b1):
            for j in range(H):
                z[b, j] = xw[b, s, j] + z[b, j]
        call_unary(tanh, tanh_data, z[b0].ctypes.data, z[b0].ctypes.data, (b1 - b0) * H, meta)
        for b in range(b0, b1):
            for j in range(H):
                v = z[b, j]
                if masked:
                    v = h[b, j] + mask[b, s] * (v - h[b, j])
                hs[b, s, j] = v


@jit.kernel
def _srnn_seq_back_jit(gemm: Any, dhs: Any, dh: Any, hs: Any, RT: Any, rd: Any, mask: Any,
                       dxw: Any, dhp: Any, masked: bool, dropped: bool, one: Any, zero: Any,
                       b0: int, b1: int) -> None:
    """The whole tanh SimpleRNN backward recurrence for rows b0:b1 in one call (no GIL): the
    NumPy path's operations and GEMM calls."""
    B, T, H = hs.shape
    for s in range(T - 1, -1, -1):
        for b in range(b0, b1):
            m = mask[b, s] if masked else one
            for j in range(H):
                tot = dhs[b, s, j] + dh[b, j]
                dn = m * tot if masked else tot
                y = hs[b, s, j]
                dxw[b, s, j] = dn * (one - y * y)
                dh[b, j] = (one - m) * tot if masked else zero  # the direct part, for now
        _product_rows(gemm, dxw[b0:, s], RT, dhp, b0, b1)
        _state_grad_rows(dh, dhp, rd, dh, dropped, b0, b1)


def _srnn_native(xp: Any, activation: str, *arrays: Any) -> tuple | None:
    return _native(activation == "tanh" and _fast_acts(xp, "tanh", "sigmoid", *arrays),
                   *arrays)


def _srnn_fwd(xp: Any, xw: Any, h0: Any, R: Any, mask: Any, rdrop: Any, activation: str,
              masked: bool, dropped: bool) -> Any:
    B, T, H = xw.shape
    act = _ACT[activation]
    hs = xp.empty((B, T, H), xw.dtype)
    native = _srnn_native(xp, activation, xw, h0, R) \
        if h0.shape == (B, H) and R.shape == (H, H) else None
    if native is not None:
        (gemm, (tanh, tanh_data)), seq = native, _srnn_seq_jit.function
        hd, z = xp.empty((B, H), xw.dtype), xp.empty((B, H), xw.dtype)
        _row_blocks(xp, lambda b0, b1: seq(gemm, tanh, tanh_data, xw, h0, R, rdrop, mask, hs,
                                           hd, z, np.empty(5, np.intp), masked, dropped, b0,
                                           b1), B)
        return hs
    h = h0
    for s in range(T):
        hp = h * rdrop if dropped else h
        hn = act(xp, xw[:, s] + hp @ R)
        if masked:
            hn = _mix(xp, mask[:, s, None], hn, h)
        hs[:, s] = hn
        h = hn
    return hs


def _srnn_bwd_fwd(xp: Any, dhs: Any, h0: Any, R: Any, mask: Any, rdrop: Any, hs: Any,
                  activation: str, masked: bool, dropped: bool) -> tuple:
    B, T, H = hs.shape
    dact = _DACT[activation]
    dxw = xp.empty_like(hs)
    dh = xp.zeros_like(h0)
    RT = xp.ascontiguousarray(R.T)
    native = _srnn_native(xp, activation, dhs, h0, R, hs) \
        if dhs.shape == hs.shape and h0.shape == (B, H) and R.shape == (H, H) else None
    if native is not None:
        gemm, seq, dhp = native[0], _srnn_seq_back_jit.function, xp.empty_like(h0)
        one, zero = hs.dtype.type(1), hs.dtype.type(0)
        _row_blocks(xp, lambda b0, b1: seq(gemm, dhs, dh, hs, RT, rdrop, mask, dxw, dhp,
                                           masked, dropped, one, zero, b0, b1), B)
    else:  # the step loop in Python
        for s in range(T - 1, -1, -1):
            tot = dhs[:, s] + dh
            if masked:
                mk = mask[:, s, None]
                dn, direct = mk * tot, (1.0 - mk) * tot
            else:
                dn, direct = tot, 0.0
            da = dn * dact(xp, hs[:, s])
            dxw[:, s] = da
            dhp = da @ RT
            dh = (dhp * rdrop if dropped else dhp) + direct
    hprev = xp.concatenate([h0[:, None], hs[:, :-1]], axis=1)
    if dropped:
        hprev = hprev * rdrop[:, None]
    dR = mm(xp, hprev.reshape(-1, H).T, dxw.reshape(-1, H))
    return dxw, dh, dR


def _srnn_grad(node: Any, g: Tensor) -> tuple:
    xw, h0, R, mask, rdrop = node.inputs
    a = node.attrs
    if rnn_unrolled.recording_gradient():  # this gradient will be differentiated again
        return tuple(rnn_unrolled.gradients(
            lambda xw_, h0_, R_: rnn_unrolled.simple_rnn(
                xw_, h0_, R_, mask if a["masked"] else None, rdrop if a["dropped"] else None,
                a["activation"]), (xw, h0, R), (g,))) + (None, None)
    dxw, dh0, dR = execute(_SRNN_BWD, (g, h0, R, mask, rdrop, node.outputs), node.attrs)
    return dxw, dh0, dR, None, None


def _srnn_infer(xw: Spec, h0: Spec, R: Spec, mask: Spec, rdrop: Spec, **_: Any) -> Spec:
    _check_shapes("simple_rnn_sequence", xw, h0, R, 1)
    return Spec(xw.shape, xw.dtype)


def _compiled_steps(attrs: dict, dtype: Any) -> bool:
    """Whether the recurrence runs its compiled whole-sequence kernels (given numba; a
    SimpleRNN has no recurrent activation)."""
    return _fast_kind(attrs.get("activation"), attrs.get("recurrent_activation", "sigmoid"),
                      dtype)


def _steps_blas(attrs: dict, specs: list) -> Any:
    """The ``blas`` trait of a recurrence: the compiled kernels cut their per-step products
    into single-thread calls; the NumPy step loop does not."""
    return [] if _compiled_steps(attrs, specs[0][1]) else "any"


def _grad_blas(r_index: int) -> Any:
    """The ``blas`` trait of a recurrence's gradient: its steps, and the recurrent kernel's
    gradient over all steps, (units, batch * time) @ (batch * time, gates * units)."""
    def blas(attrs: dict, specs: list) -> Any:
        if not _compiled_steps(attrs, specs[0][1]):
            return "any"
        (b, t, _), (h, g) = specs[0][0], specs[r_index][0]
        return [(False, h, None if b is None or t is None else b * t, g)]
    return blas


_SRNN = register_op("simple_rnn_sequence", _srnn_fwd, _srnn_infer, _srnn_grad,
                    blas=_steps_blas)
_SRNN_BWD = register_op(
    "simple_rnn_sequence_grad", _srnn_bwd_fwd,
    lambda g, h0, R, mk, rd, hs, **_: (Spec(hs.shape, hs.dtype), Spec(h0.shape, h0.dtype),
                                       Spec(R.shape, R.dtype)), None, num_outputs=3,
    blas=_grad_blas(2))


# --- LSTM --------------------------------------------------------------------------------------
# The kernels keep per-step values time-major and gate-major: `gates` is (T, 5, B, H), the
# activated gates i, f, o, g and act(c) of every step (note: o before g), so a step's values are
# one contiguous block and each gate one contiguous (B, H) array (NumPy's fast paths,
# vectorised compiled loops), with the three sigmoid gates adjacent. The recurrent matmul runs
# as one batched product against the kernel split into (4, H, H) blocks.
_ORDER = (0, 1, 3, 2)  # internal block k holds Keras gate _ORDER[k] (Keras order i, f, c, o)


@jit.kernel
def _gate_blocks_jit(w: Any, out: Any, scale: Any) -> None:
    """out[t, k, b] = w[b, t, gate _ORDER[k]] * scale[k] for w (B, T, 4H), out (T, 4, B, H)."""
    B, T = w.shape[0], w.shape[1]
    H = out.shape[3]
    for b in range(B):
        for s in range(T):
            for k in range(4):
                src = k if k < 2 else 5 - k
                sk = scale[k]
                for j in range(H):
                    out[s, k, b, j] = w[b, s, src * H + j] * sk


def _gate_blocks(xp: Any, w: Any, H: int, scale: Any) -> Any:
    """(B, T, 4H) in Keras gate order -> (T, 4, B, H) in internal order, one new array, gate
    block k multiplied by scale[k] (1 or 1/2: exact)."""
    B, T = w.shape[:2]
    out = xp.empty((T, 4, B, H), w.dtype)
    if xp is np and jit.enabled() and w.dtype in (np.float32, np.float64):
        _gate_blocks_jit(w, out, scale)
        return out
    v = w.reshape(B, T, 4, H).transpose(1, 2, 0, 3)
    for k, src in enumerate(_ORDER):
        xp.multiply(v[:, src], scale[k], out=out[:, k])
    return out


@jit.helper
def _lstm_cell_rows(gates: Any, cs: Any, c0: Any, mk: Any, s: int, masked: bool, half: Any,
                    b0: int, b1: int) -> None:
    """Step s after tanh, rows b0:b1: sigmoid from tanh(z / 2) for i, f, o (in place), then
    cs[s] = f * c + i * g (c itself at masked steps); the NumPy path's operations in order."""
    g = gates[s]
    c = cs[s - 1] if s else c0
    cn = cs[s]
    H = c.shape[1]
    for k in range(3):
        gk = g[k]
        for b in range(b0, b1):
            for j in range(H):
                gk[b, j] = gk[b, j] * half + half
    gi, gf, gg = g[0], g[1], g[3]
    for b in range(b0, b1):
        if masked and mk[s, b, 0] == 0:
            for j in range(H):
                cn[b, j] = c[b, j]
        else:
            for j in range(H):
                cn[b, j] = gf[b, j] * c[b, j] + gi[b, j] * gg[b, j]


@jit.helper
def _lstm_back_rows(dhs: Any, dcs: Any, dh: Any, dc: Any, gates: Any, cs: Any, c0: Any,
                    dz: Any, dhd: Any, mk: Any, s: int, masked: bool, one: Any, b0: int,
                    b1: int, carry: bool) -> None:
    """Step s of the LSTM backward pass for tanh / sigmoid, rows b0:b1: the carry gradient
    `dc` (in place) and the pre-activation gradients dz[:, s] (B, T, 4H, Keras order); at
    masked steps the part of dh that skips the step goes to `dhd`. The NumPy path's
    operations, in order. Without `carry` there is no gradient for the carry states (dcs is
    then a placeholder, never read: the NumPy path adds 0)."""
    g = gates[s]
    gi, gf, go, gg, ga = g[0], g[1], g[2], g[3], g[4]
    cprev = cs[s - 1] if s else c0
    H = dh.shape[1]
    zero = one - one
    for b in range(b0, b1):
        dhs_b, dh_b, dc_b = dhs[b, s], dh[b], dc[b]
        dcs_b = dcs[b, s] if carry else dh_b
        i_, f_, o_, g_, a_, cp = gi[b], gf[b], go[b], gg[b], ga[b], cprev[b]
        d = dz[b, s]
        d0, d1, d2, d3 = d[:H], d[H:2 * H], d[2 * H:3 * H], d[3 * H:]
        if not masked:  # its own loop: without the mask's branches it vectorises
            for j in range(H):
                th = dhs_b[j] + dh_b[j]
                tc = (dcs_b[j] if carry else zero) + dc_b[j]
                i, f, o, gv, ac = i_[j], f_[j], o_[j], g_[j], a_[j]
                tc = tc + th * o * (one - ac * ac)
                d0[j] = tc * gv * (i * (one - i))
                d1[j] = tc * cp[j] * (f * (one - f))
                d2[j] = tc * i * (one - gv * gv)
                d3[j] = th * ac * (o * (one - o))
                dc_b[j] = tc * f
            continue
        m = mk[s, b, 0]
        keep = one - m
        for j in range(H):
            th = dhs_b[j] + dh_b[j]
            tc = (dcs_b[j] if carry else zero) + dc_b[j]
            dhd[b, j] = keep * th
            dcd = keep * tc
            th = m * th
            tc = m * tc
            i, f, o, gv, ac = i_[j], f_[j], o_[j], g_[j], a_[j]
            tc = tc + th * o * (one - ac * ac)
            d0[j] = tc * gv * (i * (one - i))
            d1[j] = tc * cp[j] * (f * (one - f))
            d2[j] = tc * i * (one - gv * gv)
            d3[j] = th * ac * (o * (one - o))
            dc_b[j] = dcd + tc * f


@jit.helper
def _gemm_rows(n: int, k: int) -> int:
    """Rows per GEMM call so that OpenBLAS runs each on the calling thread (it uses its own
    threads above m * n * k = 2**18, which then compete with the other row blocks' threads);
    rows are independent, so the values change at most by rounding (some BLAS kernels round a
    row differently with the call's row count)."""
    return max(1, (1 << 18) // max(1, n * k))


@jit.helper
def _product_rows(gemm: Any, a: Any, b: Any, out: Any, b0: int, b1: int) -> None:
    """out[b0:b1] = A @ b, A's rows b0:b1 being the rows of `a` (a view that starts at row
    b0): NumPy's GEMM in row chunks small enough for OpenBLAS to run on this thread."""
    K, N = b.shape[0], b.shape[1]
    isz = out.itemsize
    lda = a.strides[0] // isz
    step = _gemm_rows(N, K)
    for r0 in range(b0, b1, step):
        r1 = min(r0 + step, b1)
        gemm(101, 111, 111, r1 - r0, N, K, 1.0, a.ctypes.data + (r0 - b0) * lda * isz, lda,
             b.ctypes.data, N, 0.0, out[r0].ctypes.data, out.strides[0] // isz)


@jit.helper
def _state_rows(h: Any, hd: Any, rd: Any, dropped: bool, b0: int, b1: int) -> Any:
    """The recurrent product's input rows from b0: the previous state `h` itself, or
    h * rd written into `hd` (recurrent dropout), as the NumPy path computes it."""
    if dropped:
        for b in range(b0, b1):
            for j in range(h.shape[1]):
                hd[b, j] = h[b, j] * rd[b, j]
        return hd[b0:]
    return h[b0:]


@jit.helper
def _state_grad_rows(dh: Any, dhp: Any, rd: Any, carry: Any, dropped: bool, b0: int,
                     b1: int) -> None:
    """dh = dhp (* rd under recurrent dropout) + carry, rows b0:b1 (carry may be dh)."""
    for b in range(b0, b1):
        for j in range(dh.shape[1]):
            v = dhp[b, j]
            if dropped:
                v = v * rd[b, j]
            dh[b, j] = v + carry[b, j]


@jit.kernel
def _lstm_cell_jit(gates: Any, cs: Any, c0: Any, mk: Any, s: int, masked: bool, half: Any,
                   b0: int, b1: int) -> None:
    """One forward step's cell update (see `_lstm_cell_rows`)."""
    _lstm_cell_rows(gates, cs, c0, mk, s, masked, half, b0, b1)


@jit.kernel
def _lstm_back_jit(dhs: Any, dcs: Any, dh: Any, dc: Any, gates: Any, cs: Any, c0: Any,
                   dz: Any, dhd: Any, mk: Any, s: int, masked: bool, one: Any, b0: int,
                   b1: int, carry: bool) -> None:
    """One backward step's element-wise part (see `_lstm_back_rows`)."""
    _lstm_back_rows(dhs, dcs, dh, dc, gates, cs, c0, dz, dhd, mk, s, masked, one, b0, b1,
                    carry)


@jit.kernel
def _lstm_seq_jit(gemm: Any, tanh: Any, tanh_data: Any, xw: Any, scale: Any, h0: Any,
                  c0: Any, R4: Any, rd: Any, mk: Any, gates: Any, cs: Any, hs: Any, hd: Any,
                  meta: Any, masked: bool, dropped: bool, half: Any, b0: int,
                  b1: int) -> None:
    """The whole forward recurrence for rows b0:b1 in one call (no GIL): per step the NumPy
    path's calls, made to the same BLAS GEMM and NumPy tanh loop (native_calls), so the
    values are the NumPy path's (bitwise unless the BLAS rounds a row differently in calls
    on fewer rows: `_gemm_rows`). `xw` (B, T, 4H) is read in place (the NumPy path's
    gate blocks, scaled, are these products)."""
    B, T, G = xw.shape
    H = G // 4
    nb = b1 - b0
    isz = gates.itemsize
    meta[3] = isz
    meta[4] = isz
    for s in range(T):
        hp = hs[s - 1] if s else h0
        src = _state_rows(hp, hd, rd, dropped, b0, b1)
        g = gates[s]
        for k in range(4):
            gk = g[k]
            _product_rows(gemm, src, R4[k], gk, b0, b1)
            col = (k if k < 2 else 5 - k) * H
            sk = scale[k]
            for b in range(b0, b1):
                for j in range(H):
                    gk[b, j] = gk[b, j] + xw[b, s, col + j] * sk
            call_unary(tanh, tanh_data, gk[b0].ctypes.data, gk[b0].ctypes.data, nb * H, meta)
        _lstm_cell_rows(gates, cs, c0, mk, s, masked, half, b0, b1)
        cn, ac, go, hn = cs[s], g[4], g[2], hs[s]
        call_unary(tanh, tanh_data, cn[b0].ctypes.data, ac[b0].ctypes.data, nb * H, meta)
        for b in range(b0, b1):
            if masked and mk[s, b, 0] == 0:
                for j in range(H):
                    hn[b, j] = hp[b, j]
            else:
                for j in range(H):
                    hn[b, j] = go[b, j] * ac[b, j]


@jit.kernel
def _lstm_seq_back_jit(gemm: Any, dhs: Any, dcs: Any, c0: Any, RT: Any, rd: Any, mk: Any,
                       gates: Any, cs: Any, dz: Any, dh: Any, dc: Any, dhd: Any,
                       masked: bool, dropped: bool, one: Any, b0: int, b1: int,
                       carry: bool) -> None:
    """The whole backward recurrence for rows b0:b1 in one call (no GIL), the NumPy path's
    operations and GEMM calls (see `_lstm_seq_jit`)."""
    B, T, G = dz.shape
    H = G // 4
    for s in range(T - 1, -1, -1):
        _lstm_back_rows(dhs, dcs, dh, dc, gates, cs, c0, dz, dhd, mk, s, masked, one, b0, b1,
                        carry)
        _product_rows(gemm, dz[b0:, s], RT, dh, b0, b1)
        for b in range(b0, b1):
            if dropped:
                for j in range(H):
                    dh[b, j] = dh[b, j] * rd[b, j]
            if masked:
                for j in range(H):
                    dh[b, j] = dh[b, j] + dhd[b, j]


def _fast_kind(activation: str, recurrent_activation: str, dtype: Any) -> bool:
    """Activations and dtype the compiled whole-sequence kernels take."""
    return activation == "tanh" and recurrent_activation == "sigmoid" \
        and np.dtype(dtype) in (np.float32, np.float64)


def _fast_acts(xp: Any, activation: str, recurrent_activation: str, *arrays: Any) -> bool:
    return xp is np and jit.enabled() \
        and _fast_kind(activation, recurrent_activation, arrays[0].dtype) \
        and all(a.dtype == arrays[0].dtype for a in arrays)


def _native(fast: bool, *arrays: Any) -> tuple | None:
    """(GEMM, tanh loop) for the whole-sequence compiled kernels, when the compiled path is
    on, NumPy's BLAS and tanh loop were found (native_calls) and the state arrays are
    C-contiguous (the kernels address rows by pointer)."""
    if not fast or not all(a.flags.c_contiguous for a in arrays):
        return None
    dtype = arrays[0].dtype
    gemm, tanh = native_calls.gemm(dtype), native_calls.unary_loop(np.tanh, dtype)
    return None if gemm is None or tanh is None else (gemm, tanh)


# Rows per block of the batch-parallel time loops: below this a block's per-step work is too
# small to pay for its own Python dispatch.
_MIN_ROWS = 16


def _row_blocks(xp: Any, fn: Any, batch: int) -> None:
    """The time loop `fn(b0, b1)` over batch rows: the rows are independent, so on the CPU
    they are split into blocks that run on parallel threads (each block's loop releases the
    GIL in its matmuls, ufuncs and compiled steps)."""
    if xp is np:
        parallel.run_blocks(fn, batch, _MIN_ROWS)
    else:
        fn(0, batch)


def _lstm_fwd(xp: Any, xw: Any, h0: Any, c0: Any, R: Any, mask: Any, rdrop: Any,
              activation: str, recurrent_activation: str, masked: bool, dropped: bool) -> tuple:
    B, T, G = xw.shape
    H = G // 4
    act, ract = _ACT[activation], _ACT[recurrent_activation]
    sig = recurrent_activation == "sigmoid"
    fast = _fast_acts(xp, activation, recurrent_activation, xw, h0, c0, R) \
        and h0.shape == c0.shape == (B, H) and R.shape == (H, G)
    # sigmoid(z) = tanh(z / 2) / 2 + 1 / 2: the sigmoid gates' inputs are halved up front
    # (exact, a power of two), so one tanh call serves all four gates
    scale = xp.asarray((0.5, 0.5, 0.5, 1.0) if sig else (1.0,) * 4, xw.dtype)
    R4 = R.reshape(H, 4, H).transpose(1, 0, 2)[list(_ORDER)] * scale[:, None, None]
    gates = xp.empty((T, 5, B, H), xw.dtype)
    hs = xp.empty((T, B, H), xw.dtype)
    cs = xp.empty((T, B, H), xw.dtype)
    mk_t = mask.T[:, :, None] if masked else mask[None, :, :1]
    half = xw.dtype.type(0.5)
    native = _native(fast, xw, h0, c0, rdrop)
    if native is not None:
        gemm, (tanh, tanh_data) = native
        hd = np.empty((B, H), xw.dtype)
        seq = _lstm_seq_jit.function

        def compiled_rows(b0: int, b1: int) -> None:
            seq(gemm, tanh, tanh_data, xw, scale, h0, c0, R4, rdrop, mk_t, gates, cs, hs, hd,
                np.empty(5, np.intp), masked, dropped, half, b0, b1)

        _row_blocks(xp, compiled_rows, B)
        return hs.transpose(1, 0, 2), cs.transpose(1, 0, 2), gates
    xt = _gate_blocks(xp, xw, H, scale)                              # (T, 4, B, H)
    mul, add = xp.multiply, xp.add
    cell = _lstm_cell_jit.function if fast else None

    def rows(b0: int, b1: int) -> None:
        tmp = xp.empty((b1 - b0, H), xw.dtype)
        h, c = h0[b0:b1], c0[b0:b1]
        rd = rdrop[b0:b1] if dropped else None
        for s in range(T):
            g = gates[s, :, b0:b1]
            gz, cn, hn, ac = g[:4], cs[s, b0:b1], hs[s, b0:b1], g[4]
            xp.matmul(h * rd if dropped else h, R4, out=gz)
            add(gz, xt[s, :, b0:b1], out=gz)
            if sig and activation == "tanh":  # always so on the compiled path
                xp.tanh(gz, out=gz)
            else:
                gz[:3] = xp.tanh(gz[:3]) if sig else ract(xp, gz[:3])
                gz[3] = act(xp, gz[3])
            if fast:
                cell(gates, cs, c0, mk_t, s, masked, half, b0, b1)
            else:
                if sig:
                    mul(gz[:3], half, out=gz[:3])
                    add(gz[:3], half, out=gz[:3])
                mul(gz[1], c, out=cn)
                mul(gz[0], gz[3], out=tmp)
                add(cn, tmp, out=cn)
                if masked:
                    xp.copyto(cn, c, where=mk_t[s, b0:b1] == 0)
            if activation == "tanh":
                xp.tanh(cn, out=ac)
            else:
                ac[...] = act(xp, cn)
            mul(gz[2], ac, out=hn)
            if masked:  # a masked step keeps the states exactly
                xp.copyto(hn, h, where=mk_t[s, b0:b1] == 0)
            h, c = hn, cn

    _row_blocks(xp, rows, B)
    return hs.transpose(1, 0, 2), cs.transpose(1, 0, 2), gates


def _lstm_bwd_fwd(xp: Any, dhs: Any, dcs: Any, h0: Any, c0: Any, R: Any, mask: Any,
                  rdrop: Any, hs: Any, cs: Any, gates: Any, activation: str,
                  recurrent_activation: str, masked: bool, dropped: bool,
                  carry_grad: bool = True) -> tuple:
    B, T, H = hs.shape
    dact, drec = _DACT[activation], _DACT[recurrent_activation]
    if not carry_grad:  # no gradient for the carry states: a placeholder, never read
        dcs = xp.zeros((1, 1, H), hs.dtype)
    fast = _fast_acts(xp, activation, recurrent_activation, dhs, dcs, h0, c0, R, hs, gates) \
        and dhs.shape == hs.shape and (dcs.shape == hs.shape or not carry_grad) \
        and h0.shape == c0.shape == (B, H) and gates.shape == (T, 5, B, H)
    cs_t = cs.transpose(1, 0, 2)
    dhs_t, dcs_t = dhs.transpose(1, 0, 2), dcs.transpose(1, 0, 2)
    dz = xp.empty((B, T, 4 * H), hs.dtype)  # the gates' pre-activation gradients
    dh_all = xp.zeros_like(h0)
    dc_all = xp.zeros_like(c0)
    dhd_all = xp.zeros_like(h0)
    RT = xp.ascontiguousarray(R.T)
    mk_t = mask.T[:, :, None] if masked else mask[None, :, :1]
    one = hs.dtype.type(1)
    back = _lstm_back_jit.function if fast else None
    native = _native(fast, h0, c0)
    gemm, seq = (native[0], _lstm_seq_back_jit.function) if native is not None else (None, None)

    def compiled_rows(b0: int, b1: int) -> None:
        seq(gemm, dhs, dcs, c0, RT, rdrop, mk_t, gates, cs_t, dz, dh_all, dc_all, dhd_all,
            masked, dropped, one, b0, b1, carry_grad)

    def rows(b0: int, b1: int) -> None:
        dh, dc, dhd = dh_all[b0:b1], dc_all[b0:b1], dhd_all[b0:b1]
        for s in range(T - 1, -1, -1):
            d = dz[b0:b1, s]
            if fast:
                back(dhs, dcs, dh_all, dc_all, gates, cs_t, c0, dz, dhd_all, mk_t, s, masked,
                     one, b0, b1, carry_grad)
            else:
                th = dhs_t[s, b0:b1] + dh
                tc = dcs_t[s, b0:b1] + dc if carry_grad else dc + 0.0
                if masked:
                    mk = mk_t[s, b0:b1]
                    keep = 1.0 - mk
                    dhd, dcd = keep * th, keep * tc
                    th, tc = mk * th, mk * tc
                i, f, o, g, ac = gates[s, :, b0:b1]
                cprev = cs_t[s - 1, b0:b1] if s else c0[b0:b1]
                tc = tc + th * o * dact(xp, ac)
                d[:, :H] = tc * g * drec(xp, i)
                d[:, H:2 * H] = tc * cprev * drec(xp, f)
                d[:, 2 * H:3 * H] = tc * i * dact(xp, g)
                d[:, 3 * H:] = th * ac * drec(xp, o)
                dc[...] = tc * f
                if masked:
                    dc += dcd
            xp.matmul(d, RT, out=dh)
            if dropped:
                dh *= rdrop[b0:b1]
            if masked:
                dh += dhd

    _row_blocks(xp, rows if seq is None else compiled_rows, B)
    hprev = xp.empty((B, T, H), hs.dtype)
    hprev[:, 0] = h0
    hprev[:, 1:] = hs[:, :-1]
    if dropped:
        hprev *= rdrop[:, None]
    dR = mm(xp, hprev.reshape(B * T, H).T, dz.reshape(B * T, 4 * H))
    return dz, dh_all, dc_all, dR


def _zeros_for(g: Any, like: Tensor) -> Tensor:
    return m.zeros_like_(like) if g is None else g


def _lstm_grad(node: Any, dhs: Any, dcs: Any, dgates: Any) -> tuple:
    xw, h0, c0, R, mask, rdrop = node.inputs
    hs, cs, gates = node.outputs
    if dgates is not None:
        raise fail("lstm_sequence", "no gradient through the gate activations output",
                   "a gradient for it", "Differentiate the states (outputs 0 and 1) only.")
    a = node.attrs
    if rnn_unrolled.recording_gradient():  # this gradient will be differentiated again
        return tuple(rnn_unrolled.gradients(
            lambda xw_, h0_, c0_, R_: rnn_unrolled.lstm(
                xw_, h0_, c0_, R_, mask if a["masked"] else None,
                rdrop if a["dropped"] else None, a["activation"], a["recurrent_activation"]),
            (xw, h0, c0, R), (_zeros_for(dhs, hs), _zeros_for(dcs, cs)))) + (None, None)
    # no gradient for the carry states (the common case: only h is used): a small
    # placeholder instead of a zeros array the backward pass would read at every step
    carry = dcs is not None
    dxw, dh0, dc0, dR = execute(
        _LSTM_BWD, (_zeros_for(dhs, hs), dcs if carry else m.zeros_like_(h0[:, :1]), h0, c0,
                    R, mask, rdrop, hs, cs, gates), {**node.attrs, "carry_grad": carry})
    return dxw, dh0, dc0, dR, None, None


def _check_shapes(op: str, xw: Spec, h0: Spec, R: Spec, gates: int) -> None:
    if len(xw.shape) != 3:
        raise fail(op, "inputs of rank 3 (batch, time, features)", f"shape {list(xw.shape)}")
    units = R.shape[0]
    if len(R.shape) != 2 or (units is not None and R.shape[1] is not None
                             and R.shape[1] != gates * units):
        raise fail(op, f"a recurrent kernel of shape (units, {gates} * units)",
                   f"shape {list(R.shape)}")
    if xw.shape[2] is not None and R.shape[1] is not None and xw.shape[2] != R.shape[1]:
        raise fail(op, f"projected inputs with {R.shape[1]} features (the recurrent kernel's "
                   "columns)", f"shape {list(xw.shape)}")
    if len(h0.shape) != 2 or (h0.shape[1] is not None and units is not None
                              and h0.shape[1] != units):
        raise fail(op, f"an initial state of shape (batch, {units})", f"shape {list(h0.shape)}")


def _lstm_infer(xw: Spec, h0: Spec, c0: Spec, R: Spec, mask: Spec, rdrop: Spec,
                **_: Any) -> tuple:
    _check_shapes("lstm_sequence", xw, h0, R, 4)
    if len(c0.shape) != 2 or any(a is not None and b is not None and a != b
                                 for a, b in zip(c0.shape, h0.shape)):
        raise fail("lstm_sequence", f"a carry state of the hidden state's shape "
                   f"{list(h0.shape)}", f"shape {list(c0.shape)}")
    st = Spec(xw.shape[:2] + (R.shape[0],), xw.dtype)
    return st, st, Spec((xw.shape[1], 5, xw.shape[0], R.shape[0]), xw.dtype)


_LSTM = register_op("lstm_sequence", _lstm_fwd, _lstm_infer, _lstm_grad, num_outputs=3,
                    blas=_steps_blas)
_LSTM_BWD = register_op(
    "lstm_sequence_grad", _lstm_bwd_fwd,
    lambda dh, dc, h0, c0, R, mk, rd, hs, cs, gz, **_: (
        Spec(hs.shape[:2] + R.shape[1:], hs.dtype), Spec(h0.shape, h0.dtype),
        Spec(c0.shape, c0.dtype),
        Spec(R.shape, R.dtype)), None, num_outputs=4, blas=_grad_blas(4))


# --- GRU ---------------------------------------------------------------------------------------
@jit.helper
def _gru_gate_rows(t: Any, hr: Any, xw: Any, gates: Any, hrh: Any, pre: Any, s: int,
                   half: Any, b0: int, b1: int) -> None:
    """Step s, rows b0:b1, from t = tanh((x_zr + hr_zr) / 2): z and r (sigmoids) into
    `gates`, h @ R_h + rb_h into `hrh`, and the candidate's pre-activation
    x_h + r * (h @ R_h + rb_h) into `pre`."""
    H = pre.shape[1]
    for b in range(b0, b1):
        for j in range(2 * H):
            gates[b, s, j] = t[b, j] * half + half
        for j in range(H):
            rh = hr[b, 2 * H + j]
            hrh[b, s, j] = rh
            pre[b, j] = xw[b, s, 2 * H + j] + gates[b, s, H + j] * rh


@jit.helper
def _gru_update_rows(hh: Any, h: Any, gates: Any, hs: Any, mask: Any, s: int, masked: bool,
                     b0: int, b1: int) -> None:
    """Step s, rows b0:b1: the candidate hh into `gates`, hs[:, s] = hh + z * (h - hh),
    blended with h at masked steps as the NumPy path does."""
    H = hh.shape[1]
    for b in range(b0, b1):
        for j in range(H):
            c = hh[b, j]
            gates[b, s, 2 * H + j] = c
            v = c + gates[b, s, j] * (h[b, j] - c)
            if masked:
                v = h[b, j] + mask[b, s] * (v - h[b, j])
            hs[b, s, j] = v


@jit.kernel
def _gru_gate_jit(t: Any, hr: Any, xw: Any, gates: Any, hrh: Any, pre: Any, s: int,
                  half: Any) -> None:
    """One step's gates, all rows (see `_gru_gate_rows`)."""
    _gru_gate_rows(t, hr, xw, gates, hrh, pre, s, half, 0, pre.shape[0])


@jit.kernel
def _gru_update_jit(hh: Any, h: Any, gates: Any, hs: Any, mask: Any, s: int,
                    masked: bool) -> None:
    """One step's state update, all rows (see `_gru_update_rows`)."""
    _gru_update_rows(hh, h, gates, hs, mask, s, masked, 0, hh.shape[0])


@jit.kernel
def _gru_seq_jit(gemm: Any, tanh: Any, tanh_data: Any, xw: Any, h0: Any, R: Any, rb: Any,
                 rd: Any, mask: Any, hs: Any, gates: Any, hrh: Any, hd: Any, hr: Any, t: Any,
                 pre: Any, meta: Any, masked: bool, dropped: bool, half: Any, b0: int,
                 b1: int) -> None:
    """The whole GRU forward recurrence (reset_after, tanh / sigmoid) for rows b0:b1 in one
    call (no GIL): the NumPy path's operations, with NumPy's GEMM and tanh loop
    (native_calls), so its values are the NumPy path's (bitwise unless the BLAS rounds a
    row differently in calls on fewer rows: `_gemm_rows`)."""
    B, T, G = xw.shape
    H = G // 3
    meta[3] = xw.itemsize
    meta[4] = xw.itemsize
    for s in range(T):
        h = hs[:, s - 1] if s else h0
        _product_rows(gemm, _state_rows(h, hd, rd, dropped, b0, b1), R, hr, b0, b1)
        for b in range(b0, b1):
            for j in range(G):
                hr[b, j] = hr[b, j] + rb[j]
            for j in range(2 * H):
                t[b, j] = (xw[b, s, j] + hr[b, j]) * half
        call_unary(tanh, tanh_data, t[b0].ctypes.data, t[b0].ctypes.data, (b1 - b0) * 2 * H,
                   meta)
        _gru_gate_rows(t, hr, xw, gates, hrh, pre, s, half, b0, b1)
        call_unary(tanh, tanh_data, pre[b0].ctypes.data, pre[b0].ctypes.data, (b1 - b0) * H,
                   meta)
        _gru_update_rows(pre, h, gates, hs, mask, s, masked, b0, b1)


def _gru_fwd(xp: Any, xw: Any, h0: Any, R: Any, rb: Any, mask: Any, rdrop: Any,
             activation: str, recurrent_activation: str, reset_after: bool, masked: bool,
             dropped: bool) -> tuple:
    B, T, G = xw.shape
    H = G // 3
    act, ract = _ACT[activation], _ACT[recurrent_activation]
    hs = xp.empty((B, T, H), xw.dtype)
    gates = xp.empty((B, T, G), xw.dtype)
    hrh = xp.empty((B, T, H), xw.dtype)  # reset_after: h @ R_h + rb_h; else (r * h) @ R_h
    fast = reset_after and _fast_acts(xp, activation, recurrent_activation, xw, h0, R, rb) \
        and h0.shape == (B, H) and R.shape == (H, G) and rb.shape == (G,)
    if fast:
        gate, update = _gru_gate_jit.function, _gru_update_jit.function
        hr = xp.empty((B, G), xw.dtype)
        t = xp.empty((B, 2 * H), xw.dtype)
        pre = xp.empty((B, H), xw.dtype)
        half = xw.dtype.type(0.5)
        native = _native(fast, xw, h0, R, rb)
        if native is not None:
            (gemm, (tanh, tanh_data)), seq = native, _gru_seq_jit.function
            hd = xp.empty((B, H), xw.dtype)

            def rows(b0: int, b1: int) -> None:
                seq(gemm, tanh, tanh_data, xw, h0, R, rb, rdrop, mask, hs, gates, hrh, hd, hr,
                    t, pre, np.empty(5, np.intp), masked, dropped, half, b0, b1)

            _row_blocks(xp, rows, B)
            return hs, gates, hrh
    h = h0
    for s in range(T):
        hp = h * rdrop if dropped else h
        x = xw[:, s]
        if fast:  # the NumPy path's operations, in order, in three compiled-or-ufunc passes
            xp.matmul(hp, R, out=hr)
            xp.add(hr, rb, out=hr)
            xp.add(x[:, :2 * H], hr[:, :2 * H], out=t)
            xp.multiply(t, half, out=t)
            xp.tanh(t, out=t)
            gate(t, hr, xw, gates, hrh, pre, s, half)
            xp.tanh(pre, out=pre)
            update(pre, h, gates, hs, mask, s, masked)
            h = hs[:, s]
            continue
        if reset_after:
            hr = hp @ R + rb
            zr = ract(xp, x[:, :2 * H] + hr[:, :2 * H])
            z, r = zr[:, :H], zr[:, H:]
            rh = hr[:, 2 * H:]
            hh = act(xp, x[:, 2 * H:] + r * rh)
        else:
            zr = ract(xp, x[:, :2 * H] + hp @ R[:, :2 * H])
            z, r = zr[:, :H], zr[:, H:]
            rh = (r * hp) @ R[:, 2 * H:]
            hh = act(xp, x[:, 2 * H:] + rh)
        hn = hh + z * (h - hh)
        if masked:
            hn = _mix(xp, mask[:, s, None], hn, h)
        gates[:, s, :2 * H] = zr
        gates[:, s, 2 * H:] = hh
        hrh[:, s] = rh
        hs[:, s] = hn
        h = hn
    return hs, gates, hrh


@jit.helper
def _gru_back_rows(dhs: Any, dh: Any, gates: Any, hs: Any, h0: Any, hrh: Any, dxw: Any,
                  dhr: Any, carry: Any, mk: Any, s: int, masked: bool, one: Any, b0: int,
                   b1: int) -> None:
    """Step s of the GRU backward pass (reset_after, tanh / sigmoid), rows b0:b1, but for the
    recurrent
    matmul: the pre-activation gradients dxw[:, s], dhr[:, s] and `carry`, the part of dh that
    does not go through the matmul. The NumPy path's operations, in order."""
    H = dh.shape[1]
    for b in range(b0, b1):
        for j in range(H):
            tot = dhs[b, s, j] + dh[b, j]
            direct = tot
            if masked:
                m = mk[b, s]
                direct = (one - m) * tot
                tot = m * tot
            z, r, hh = gates[b, s, j], gates[b, s, H + j], gates[b, s, 2 * H + j]
            hprev = hs[b, s - 1, j] if s else h0[b, j]
            da = tot * (one - z) * (one - hh * hh)
            dzp = tot * (hprev - hh) * (z * (one - z))
            dxr = da * hrh[b, s, j] * (r * (one - r))
            dxw[b, s, j] = dzp
            dxw[b, s, H + j] = dxr
            dxw[b, s, 2 * H + j] = da
            dhr[b, s, j] = dzp
            dhr[b, s, H + j] = dxr
            dhr[b, s, 2 * H + j] = da * r
            c = tot * z
            if masked:
                c = c + direct
            carry[b, j] = c


@jit.kernel
def _gru_back_jit(dhs: Any, dh: Any, gates: Any, hs: Any, h0: Any, hrh: Any, dxw: Any,
                  dhr: Any, carry: Any, mk: Any, s: int, masked: bool, one: Any) -> None:
    """One backward step's element-wise part, all rows (see `_gru_back_rows`)."""
    _gru_back_rows(dhs, dh, gates, hs, h0, hrh, dxw, dhr, carry, mk, s, masked, one, 0,
                   dh.shape[0])


@jit.kernel
def _gru_seq_back_jit(gemm: Any, dhs: Any, dh: Any, gates: Any, hs: Any, h0: Any, hrh: Any,
                      dxw: Any, dhr: Any, carry: Any, dhp: Any, RT: Any, rd: Any, mk: Any,
                      masked: bool, dropped: bool, one: Any, b0: int, b1: int) -> None:
    """The whole GRU backward recurrence for rows b0:b1 in one call (no GIL): the NumPy
    path's operations and GEMM calls (see `_gru_seq_jit`)."""
    T = dxw.shape[1]
    for s in range(T - 1, -1, -1):
        _gru_back_rows(dhs, dh, gates, hs, h0, hrh, dxw, dhr, carry, mk, s, masked, one, b0,
                       b1)
        _product_rows(gemm, dhr[b0:, s], RT, dhp, b0, b1)
        _state_grad_rows(dh, dhp, rd, carry, dropped, b0, b1)


def _gru_bwd_fwd(xp: Any, dhs: Any, h0: Any, R: Any, rb: Any, mask: Any, rdrop: Any, hs: Any,
                 gates: Any, hrh: Any, activation: str, recurrent_activation: str,
                 reset_after: bool, masked: bool, dropped: bool) -> tuple:
    B, T, H = hs.shape
    dact, drec = _DACT[activation], _DACT[recurrent_activation]
    dxw = xp.empty_like(gates)
    dhr = xp.empty_like(gates)  # gradient of the recurrent pre-activations (for dR, drb)
    dh = xp.zeros_like(h0)
    Rzr_T = R[:, :2 * H].T
    Rh_T = R[:, 2 * H:].T
    RT = R.T
    fast = reset_after and _fast_acts(xp, activation, recurrent_activation, dhs, h0, R, hs,
                                      gates, hrh) \
        and dhs.shape == hs.shape == hrh.shape and h0.shape == (B, H) \
        and gates.shape == (B, T, 3 * H)
    native = None
    if fast:
        back = _gru_back_jit.function
        carry = xp.empty_like(h0)
        RT = xp.ascontiguousarray(RT)
        one = hs.dtype.type(1)
        native = _native(fast, h0)
        if native is not None:
            gemm, seq, dhp = native[0], _gru_seq_back_jit.function, xp.empty_like(h0)

            def rows(b0: int, b1: int) -> None:
                seq(gemm, dhs, dh, gates, hs, h0, hrh, dxw, dhr, carry, dhp, RT, rdrop, mask,
                    masked, dropped, one, b0, b1)

            _row_blocks(xp, rows, B)
    if native is None:  # the step loop in Python (NumPy, or numba without native calls)
        for s in range(T - 1, -1, -1):
            if fast:
                back(dhs, dh, gates, hs, h0, hrh, dxw, dhr, carry, mask, s, masked, one)
                dhp = dhr[:, s] @ RT
                dh = (dhp * rdrop if dropped else dhp) + carry
                continue
            tot = dhs[:, s] + dh
            if masked:
                mk = mask[:, s, None]
                direct = (1.0 - mk) * tot
                tot = mk * tot
            gz = gates[:, s]
            z, r, hh = gz[:, :H], gz[:, H:2 * H], gz[:, 2 * H:]
            hprev = hs[:, s - 1] if s else h0
            hp = hprev * rdrop if dropped else hprev
            da = tot * (1.0 - z) * dact(xp, hh)
            dzp = tot * (hprev - hh) * drec(xp, z)
            dx = dxw[:, s]
            dx[:, :H] = dzp
            dx[:, 2 * H:] = da
            dr_ = dhr[:, s]
            if reset_after:
                dx[:, H:2 * H] = da * hrh[:, s] * drec(xp, r)
                dr_[:, :2 * H] = dx[:, :2 * H]
                dr_[:, 2 * H:] = da * r
                dhp = dr_ @ RT
            else:
                drh = da @ Rh_T  # gradient of r * hp
                dx[:, H:2 * H] = drh * hp * drec(xp, r)
                dr_[:, :2 * H] = dx[:, :2 * H]
                dr_[:, 2 * H:] = da
                dhp = dx[:, :2 * H] @ Rzr_T + drh * r
            carry = tot * z  # the part of dh that skips the recurrent matmul
            if masked:
                carry = carry + direct
            dh = (dhp * rdrop if dropped else dhp) + carry
    hprev = xp.concatenate([h0[:, None], hs[:, :-1]], axis=1)
    if dropped:
        hprev = hprev * rdrop[:, None]
    if reset_after:
        dR = mm(xp, hprev.reshape(-1, H).T, dhr.reshape(-1, 3 * H))
    else:
        rh_in = hprev * gates[:, :, H:2 * H]
        dR = xp.concatenate([mm(xp, hprev.reshape(-1, H).T, dhr[:, :, :2 * H].reshape(-1, 2 * H)),
                             mm(xp, rh_in.reshape(-1, H).T, dhr[:, :, 2 * H:].reshape(-1, H))],
                            axis=1)
    drb = dhr.sum(axis=(0, 1)) if reset_after else xp.zeros_like(rb)
    return dxw, dh, dR, drb


def _gru_grad(node: Any, dhs: Any, dgates: Any, dhrh: Any) -> tuple:
    xw, h0, R, rb, mask, rdrop = node.inputs
    hs, gates, hrh = node.outputs
    if dgates is not None or dhrh is not None:
        raise fail("gru_sequence", "no gradient through the gate outputs", "a gradient for them",
                   "Differentiate the states (output 0) only.")
    a = node.attrs
    if rnn_unrolled.recording_gradient():  # this gradient will be differentiated again
        return tuple(rnn_unrolled.gradients(
            lambda xw_, h0_, R_, rb_: rnn_unrolled.gru(
                xw_, h0_, R_, rb_, mask if a["masked"] else None,
                rdrop if a["dropped"] else None, a["activation"], a["recurrent_activation"],
                a["reset_after"]), (xw, h0, R, rb), (_zeros_for(dhs, hs),))) + (None, None)
    dxw, dh0, dR, drb = execute(
        _GRU_BWD, (_zeros_for(dhs, hs), h0, R, rb, mask, rdrop, hs, gates, hrh), node.attrs)
    return dxw, dh0, dR, drb, None, None


def _gru_infer(xw: Spec, h0: Spec, R: Spec, rb: Spec, mask: Spec, rdrop: Spec,
               **_: Any) -> tuple:
    _check_shapes("gru_sequence", xw, h0, R, 3)
    st = Spec(xw.shape[:2] + (R.shape[0],), xw.dtype)
    return st, Spec(xw.shape, xw.dtype), st


_GRU = register_op("gru_sequence", _gru_fwd, _gru_infer, _gru_grad, num_outputs=3,
                   blas=_steps_blas)
_GRU_BWD = register_op(
    "gru_sequence_grad", _gru_bwd_fwd,
    lambda dh, h0, R, rb, mk, rd, hs, gz, hrh, **_: (
        Spec(gz.shape, gz.dtype), Spec(h0.shape, h0.dtype), Spec(R.shape, R.dtype),
        Spec(rb.shape, rb.dtype)), None, num_outputs=4, blas=_grad_blas(2))


# --- public functions --------------------------------------------------------------------------
def _aux(name: str, xw: Tensor, h0: Tensor, mask: Any, rdrop: Any) -> tuple:
    """The mask and recurrent-dropout inputs (placeholders of the right dtype when unused)."""
    dt = npdt(xw)
    if mask is None:
        mk = m.zeros_like_(h0[:, :1])
    else:
        mk = t(mask)
        ms, xs = tuple(shape_of(mk)), tuple(shape_of(xw))
        if len(ms) != 2 or any(a is not None and b is not None and a != b
                               for a, b in zip(ms, xs[:2])):
            raise fail(name, f"a mask of shape (batch, timesteps) = {xs[:2]}",
                       f"a mask of shape {ms}",
                       "Pass one boolean per sample and time step.")
        if npdt(mk) != dt:
            mk = m.cast(mk, dt)
    rd = m.zeros_like_(h0[:, :1]) if rdrop is None else t(rdrop)
    return mk, rd


def simple_rnn_sequence(xw: Any, h0: Any, recurrent_kernel: Any, mask: Any = None,
                        recurrent_dropout_mask: Any = None, activation: str = "tanh") -> tuple:
    """Run `h_t = activation(xw_t + h_{t-1} @ recurrent_kernel)` over time; returns `(hs,)`
    with `hs` (batch, time, units), the state after every step."""
    _check_act("simple_rnn_sequence", activation)
    xw, h0 = t(xw), t(h0)
    mk, rd = _aux("simple_rnn_sequence", xw, h0, mask, recurrent_dropout_mask)
    attrs = {"activation": activation, "masked": mask is not None,
             "dropped": recurrent_dropout_mask is not None}
    return (execute(_SRNN, (xw, h0, t(recurrent_kernel), mk, rd), attrs),)


def lstm_sequence(xw: Any, h0: Any, c0: Any, recurrent_kernel: Any, mask: Any = None,
                  recurrent_dropout_mask: Any = None, activation: str = "tanh",
                  recurrent_activation: str = "sigmoid") -> tuple:
    """Run the LSTM recurrence (gates i, f, c, o) over time; returns `(hs, cs)`, the hidden
    and carry states after every step, each (batch, time, units)."""
    _check_act("lstm_sequence", activation)
    _check_act("lstm_sequence", recurrent_activation)
    xw, h0, c0 = t(xw), t(h0), t(c0)
    hsh, csh = tuple(shape_of(h0)), tuple(shape_of(c0))
    if len(hsh) != len(csh) or any(a is not None and b is not None and a != b
                                   for a, b in zip(hsh, csh)):
        raise fail("lstm_sequence", f"a carry state of the hidden state's shape {list(hsh)}",
                   f"shape {list(csh)}", "Pass initial states [h, c] of one shape.")
    mk, rd = _aux("lstm_sequence", xw, h0, mask, recurrent_dropout_mask)
    attrs = {"activation": activation, "recurrent_activation": recurrent_activation,
             "masked": mask is not None, "dropped": recurrent_dropout_mask is not None}
    hs, cs, _ = execute(_LSTM, (xw, h0, c0, t(recurrent_kernel), mk, rd), attrs)
    return hs, cs


def gru_sequence(xw: Any, h0: Any, recurrent_kernel: Any, recurrent_bias: Any = None,
                 mask: Any = None, recurrent_dropout_mask: Any = None,
                 activation: str = "tanh", recurrent_activation: str = "sigmoid",
                 reset_after: bool = True) -> tuple:
    """Run the GRU recurrence (gates z, r, h) over time; returns `(hs,)`.

    With `reset_after=True` (Keras's default, cuDNN's and PyTorch's form) the reset gate
    multiplies `h @ R_h + recurrent_bias_h`; otherwise it multiplies `h` before the matmul.
    """
    _check_act("gru_sequence", activation)
    _check_act("gru_sequence", recurrent_activation)
    xw, h0 = t(xw), t(h0)
    R = t(recurrent_kernel)
    mk, rd = _aux("gru_sequence", xw, h0, mask, recurrent_dropout_mask)
    if recurrent_bias is None:
        rb = m.zeros_like_(R[0])
    else:
        rb = t(recurrent_bias)
    attrs = {"activation": activation, "recurrent_activation": recurrent_activation,
             "reset_after": bool(reset_after), "masked": mask is not None,
             "dropped": recurrent_dropout_mask is not None}
    hs, _, _ = execute(_GRU, (xw, h0, R, rb, mk, rd), attrs)
    return (hs,)
