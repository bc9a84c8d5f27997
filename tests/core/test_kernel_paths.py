"""Kernels with two implementations (a compiled loop when numba is on, NumPy otherwise) and
kernels with a planned fast path: each path against the other and against a plain reference.

- the LSTM and GRU sequence kernels (compiled per-step loops for tanh/sigmoid): bitwise equal
  to the NumPy path; the LSTM also against a step-by-step reference and finite differences;
- the embedding gradient's row scatter-add: bitwise equal to `np.add.at`;
- two-operand einsum as one batched matmul: equal to `np.einsum`, with the fallbacks.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from ndflow.backend import jit
from ndflow.ops import rnn
from ndflow.ops.array import _scatter_add_fwd
from ndflow.ops.linalg import _einsum_fwd
from tests.blas_rounding import assert_equal_up_to_row_splits

numba = pytest.importorskip("numba")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _lstm_reference(xw, h0, c0, R, mask, rdrop):
    """The LSTM recurrence step by step in float64 (Keras gate order i, f, c, o)."""
    xw, h, c, R = (a.astype(np.float64) for a in (xw, h0, c0, R))
    H = h.shape[1]
    hs, cs = [], []
    for s in range(xw.shape[1]):
        z = xw[:, s] + (h * rdrop if rdrop is not None else h) @ R
        i, f, g, o = (z[:, k * H:(k + 1) * H] for k in range(4))
        cn = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        hn = _sigmoid(o) * np.tanh(cn)
        if mask is not None:
            keep = mask[:, s, None] != 0
            cn, hn = np.where(keep, cn, c), np.where(keep, hn, h)
        h, c = hn, cn
        hs.append(h)
        cs.append(c)
    return np.stack(hs, 1), np.stack(cs, 1)


def _lstm_inputs(rng, B, T, H, masked, dropped, dtype):
    xw = rng.standard_normal((B, T, 4 * H)).astype(dtype)
    R = (rng.standard_normal((H, 4 * H)) * 0.4).astype(dtype)
    h0 = rng.standard_normal((B, H)).astype(dtype)
    c0 = rng.standard_normal((B, H)).astype(dtype)
    mk = (rng.random((B, T)) > 0.3).astype(dtype) if masked else np.zeros((B, 1), dtype)
    rd = (rng.random((B, H)) > 0.4).astype(dtype) * 2 if dropped else np.zeros((B, 1), dtype)
    return xw, h0, c0, R, mk, rd


ACTS = [("tanh", "sigmoid"), ("relu", "hard_sigmoid"), ("tanh", "tanh"), ("relu", "sigmoid"),
        ("linear", "sigmoid")]


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("dropped", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("acts", ACTS, ids=lambda a: "-".join(a))
def test_lstm_compiled_and_numpy_paths_are_bitwise_equal(masked, dropped, dtype, acts):
    rng = np.random.default_rng(7)
    B, T, H = 3, 6, 5
    args = _lstm_inputs(rng, B, T, H, masked, dropped, dtype)
    dhs = rng.standard_normal((B, T, H)).astype(dtype)
    dcs = rng.standard_normal((B, T, H)).astype(dtype)
    results = []
    for on in (True, False):
        with jit.switched(on):
            fwd = rnn._lstm_fwd(np, *args, *acts, masked, dropped)
            bwd = rnn._lstm_bwd_fwd(np, dhs, dcs, *args[1:], *fwd, *acts, masked, dropped)
        results.append(fwd + bwd)
    for a, b in zip(*results):
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("dropped", [False, True])
@pytest.mark.parametrize("on", [True, False], ids=["jit", "numpy"])
def test_lstm_kernel_matches_step_by_step_reference(masked, dropped, on):
    rng = np.random.default_rng(3)
    xw, h0, c0, R, mk, rd = _lstm_inputs(rng, 4, 9, 6, masked, dropped, "float32")
    with jit.switched(on):
        hs, cs, _ = rnn._lstm_fwd(np, xw, h0, c0, R, mk, rd, "tanh", "sigmoid", masked,
                                  dropped)
    ref_h, ref_c = _lstm_reference(xw, h0, c0, R, mk if masked else None,
                                   rd if dropped else None)
    np.testing.assert_allclose(hs, ref_h, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(cs, ref_c, rtol=2e-5, atol=2e-6)


def test_lstm_kernel_gradient_matches_finite_differences_of_reference():
    """The backward kernel's dxw, dh0, dc0 and dR against central differences (float64)."""
    rng = np.random.default_rng(5)
    xw, h0, c0, R, mk, rd = _lstm_inputs(rng, 2, 4, 3, True, True, "float64")
    w_h = rng.standard_normal((2, 4, 3))
    w_c = rng.standard_normal((2, 4, 3))

    def loss(xw, h0, c0, R):
        h, c = _lstm_reference(xw, h0, c0, R, mk, rd)
        return float((h * w_h).sum() + (c * w_c).sum())

    hs, cs, gates = rnn._lstm_fwd(np, xw, h0, c0, R, mk, rd, "tanh", "sigmoid", True, True)
    grads = rnn._lstm_bwd_fwd(np, w_h, w_c, h0, c0, R, mk, rd, hs, cs, gates, "tanh",
                              "sigmoid", True, True)
    params = [xw, h0, c0, R]
    for k, (p, g) in enumerate(zip(params, grads)):
        num = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            up, down = [q.copy() for q in params], [q.copy() for q in params]
            up[k][idx] += 1e-6
            down[k][idx] -= 1e-6
            num[idx] = (loss(*up) - loss(*down)) / 2e-6
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("dropped", [False, True])
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("acts", [("tanh", "sigmoid"), ("relu", "hard_sigmoid")],
                         ids=lambda a: "-".join(a))
def test_gru_compiled_and_numpy_paths_are_bitwise_equal(masked, dropped, reset_after, dtype,
                                                         acts):
    rng = np.random.default_rng(11)
    B, T, H = 3, 6, 5
    xw = rng.standard_normal((B, T, 3 * H)).astype(dtype)
    R = (rng.standard_normal((H, 3 * H)) * 0.4).astype(dtype)
    rb = rng.standard_normal(3 * H).astype(dtype)
    h0 = rng.standard_normal((B, H)).astype(dtype)
    mk = (rng.random((B, T)) > 0.3).astype(dtype) if masked else np.zeros((B, 1), dtype)
    rd = (rng.random((B, H)) > 0.4).astype(dtype) * 2 if dropped else np.zeros((B, 1), dtype)
    dhs = rng.standard_normal((B, T, H)).astype(dtype)
    results = []
    for on in (True, False):
        with jit.switched(on):
            fwd = rnn._gru_fwd(np, xw, h0, R, rb, mk, rd, *acts, reset_after, masked, dropped)
            bwd = rnn._gru_bwd_fwd(np, dhs, h0, R, rb, mk, rd, *fwd, *acts, reset_after, masked,
                                   dropped)
        results.append(fwd + bwd)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("on", [True, False], ids=["jit", "numpy"])
def test_row_scatter_add_equals_add_at(on):
    rng = np.random.default_rng(0)
    for shape, gshape, ishape in [((50, 8), (30, 8), (30,)), ((20, 3, 2), (4, 5, 3, 2), (4, 5)),
                                  ((7,), (9,), (9,))]:
        idx = rng.integers(-shape[0], shape[0], ishape)
        g = rng.standard_normal(gshape).astype("float32")
        expected = np.zeros(shape, "float32")
        np.add.at(expected, idx.reshape(-1), g.reshape((-1,) + shape[1:]))
        with jit.switched(on):
            got = _scatter_add_fwd(np, g, idx, shape, 0, 0)
        np.testing.assert_array_equal(got, expected)


def test_row_scatter_add_out_of_range_raises():
    g = np.ones((2, 3), "float32")
    with pytest.raises(IndexError):
        _scatter_add_fwd(np, g, np.array([0, 5]), (4, 3), 0, 0)


EINSUMS = [
    ("abc", "cde", "abde", (2, 3, 4), (4, 5, 6)),    # EinsumDense projection
    ("aecd", "abcd", "acbe", (2, 5, 3, 4), (2, 6, 3, 4)),  # attention scores
    ("acbe", "aecd", "abcd", (2, 3, 6, 5), (2, 5, 3, 4)),  # attention output
    ("ij", "jk", "ik", (3, 4), (4, 5)),
    ("ij", "ij", "", (3, 4), (3, 4)),                # full contraction
    ("ij", "k", "ijk", (2, 3), (4,)),                # outer product
    ("bij", "jk", "bki", (2, 3, 4), (4, 5)),
    ("ijk", "kj", "i", (2, 3, 4), (4, 3)),           # a letter summed inside one operand
    ("ij", "ji", "ij", (3, 3), (3, 3)),              # element-wise product, transposed
    ("ab", "cd", "", (2, 3), (4, 5)),
    ("bij", "bjk", "bik", (1, 3, 4), (2, 4, 5)),     # broadcast batch: falls back to einsum
    ("ii", "ij", "j", (3, 3), (3, 4)),               # a diagonal: falls back to einsum
]


@pytest.mark.parametrize("a,b,out,sa,sb", EINSUMS, ids=[f"{e[0]},{e[1]}->{e[2]}" for e in EINSUMS])
def test_two_operand_einsum_plan_equals_numpy(a, b, out, sa, sb):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(sa), rng.standard_normal(sb)
    got = _einsum_fwd(np, x, y, ins=(a, b), out=out)
    expected = np.einsum(f"{a},{b}->{out}", x, y)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(4, 7, 128), (5, 3), (2, 3, 200), (33, 1000), (3, 1)],
                         ids=str)
def test_layer_norm_compiled_and_numpy_paths_are_bitwise_equal(shape, dtype):
    """The compiled layer-norm loops sum rows in NumPy's pairwise order: same bits, forward
    (output, x_hat, 1/std, mean, variance) and backward (dx, d scale, d offset)."""
    from ndflow.ops.normalization import _norm_fwd, _norm_grad_fwd

    rng = np.random.default_rng(2)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    gamma, beta = (rng.standard_normal(shape[-1]).astype(dtype) for _ in range(2))
    gy = rng.standard_normal(shape).astype(dtype)
    axes = (len(shape) - 1,)
    results = []
    for on in (True, False):
        with jit.switched(on):
            fwd = _norm_fwd(np, x, gamma, beta, axes, 1e-3, None)
            bwd = _norm_grad_fwd(np, gy, fwd[1], fwd[2], gamma, axes, None)
        results.append(fwd + bwd)
    for a, b in zip(*results):
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("dropped", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstm_whole_sequence_kernel_in_row_blocks_equals_every_other_path(
        masked, dropped, dtype, monkeypatch):
    """The compiled whole-sequence kernels (NumPy's GEMM and tanh called from the loop, batch
    rows split across threads) give the NumPy path's values bitwise, for any split."""
    from ndflow.backend import native_calls, parallel

    rng = np.random.default_rng(11)
    B, T, H = 40, 7, 9
    args = _lstm_inputs(rng, B, T, H, masked, dropped, dtype)
    dhs = rng.standard_normal((B, T, H)).astype(dtype)
    dcs = rng.standard_normal((B, T, H)).astype(dtype)
    acts = ("tanh", "sigmoid")

    def run():
        fwd = rnn._lstm_fwd(np, *args, *acts, masked, dropped)
        return fwd + rnn._lstm_bwd_fwd(np, dhs, dcs, *args[1:], *fwd, *acts, masked, dropped)

    assert rnn._native(True, *args[1:3]) is not None or native_calls.gemm(dtype) is None
    with _threads(3):
        assert parallel.blocks(B, rnn._MIN_ROWS) == 2  # 40 rows: two blocks of >= 16
    _assert_every_path_equals_numpy(run, monkeypatch, (1, 2, 3))


@contextlib.contextmanager
def _threads(n):
    from ndflow.backend import parallel

    before = parallel.requested_threads()
    parallel.set_threads(n)
    try:
        yield
    finally:
        parallel.set_threads(before)


def _assert_every_path_equals_numpy(run, monkeypatch, thread_counts):
    """`run()` on the whole-sequence kernels (each thread count), on the per-step compiled
    kernels and on NumPy alone: bitwise the same values (with rows split across threads,
    bitwise where this machine's BLAS rounds a row the same whatever the call's row count;
    see tests/blas_rounding.py)."""
    results = {}
    for n in thread_counts:
        with _threads(n):
            results[f"sequence kernel, {n} threads"] = run()
    with monkeypatch.context() as mp:
        mp.setattr(rnn, "_native", lambda *a: None)
        results["step kernels"] = run()
    with jit.switched(False):
        ref = run()
    for name, got in results.items():
        for a, b in zip(got, ref):
            assert a.shape == b.shape, name
            if name.endswith(" 1 threads") or name == "step kernels":
                np.testing.assert_array_equal(a, b, err_msg=name)
            else:
                assert_equal_up_to_row_splits(a, b, err_msg=name)


@pytest.mark.parametrize("shape", [(32, 4, 16, 128), (7, 3), (5, 1000), (4, 129), (600, 9),
                                   (3, 1)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 3])
def test_softmax_compiled_rows_equal_the_numpy_path(shape, dtype, threads):
    """The compiled softmax (row max, NumPy's exp loop, NumPy-order row sums; rows split
    across threads) gives the NumPy path's bits, NaN and inf rows included."""
    from ndflow.ops import nn

    rng = np.random.default_rng(5)
    x = (rng.standard_normal(shape) * 6).astype(dtype)
    flat = x.reshape(-1)
    if flat.size > 20:
        flat[3], flat[-1], flat[-7] = np.nan, np.inf, -np.inf
    with _threads(threads):
        got = nn._softmax_fwd(np, x, -1)
        noncontig = nn._softmax_fwd(np, np.asfortranarray(x), -1)
    with jit.switched(False), np.errstate(invalid="ignore"):
        ref = nn._softmax_fwd(np, x, -1)
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(noncontig, ref)
    assert got.dtype == ref.dtype and got.shape == ref.shape


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("dropped", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gru_whole_sequence_kernel_in_row_blocks_equals_every_other_path(
        masked, dropped, dtype, monkeypatch):
    """The compiled whole-sequence GRU kernels (reset_after; NumPy's GEMM and tanh from the
    loop; batch rows split across threads) give the NumPy path's values bitwise."""

    rng = np.random.default_rng(12)
    B, T, H = 37, 6, 7
    xw = rng.standard_normal((B, T, 3 * H)).astype(dtype)
    R = (rng.standard_normal((H, 3 * H)) * 0.4).astype(dtype)
    rb = rng.standard_normal(3 * H).astype(dtype)
    h0 = rng.standard_normal((B, H)).astype(dtype)
    mk = (rng.random((B, T)) > 0.3).astype(dtype) if masked else np.zeros((B, 1), dtype)
    rd = (rng.random((B, H)) > 0.4).astype(dtype) * 2 if dropped else np.zeros((B, 1), dtype)
    dhs = rng.standard_normal((B, T, H)).astype(dtype)
    acts = ("tanh", "sigmoid")

    def run():
        fwd = rnn._gru_fwd(np, xw, h0, R, rb, mk, rd, *acts, True, masked, dropped)
        return fwd + rnn._gru_bwd_fwd(np, dhs, h0, R, rb, mk, rd, *fwd, *acts, True, masked,
                                      dropped)

    _assert_every_path_equals_numpy(run, monkeypatch, (1, 2))


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("dropped", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_simple_rnn_whole_sequence_kernel_equals_the_numpy_path(masked, dropped, dtype):
    """The compiled whole-sequence tanh SimpleRNN kernels (NumPy's GEMM and tanh from the
    loop; batch rows split across threads) give the NumPy path's values bitwise."""

    rng = np.random.default_rng(13)
    B, T, H = 35, 5, 6
    xw = rng.standard_normal((B, T, H)).astype(dtype)
    R = (rng.standard_normal((H, H)) * 0.5).astype(dtype)
    h0 = rng.standard_normal((B, H)).astype(dtype)
    mk = (rng.random((B, T)) > 0.3).astype(dtype) if masked else np.zeros((B, 1), dtype)
    rd = (rng.random((B, H)) > 0.4).astype(dtype) * 2 if dropped else np.zeros((B, 1), dtype)
    dhs = rng.standard_normal((B, T, H)).astype(dtype)
    dhs[:, 1] = -0.0  # the unmasked backward adds +0.0: signs of zeros must match too

    def run():
        hs = rnn._srnn_fwd(np, xw, h0, R, mk, rd, "tanh", masked, dropped)
        return (hs,) + rnn._srnn_bwd_fwd(np, dhs, h0, R, mk, rd, hs, "tanh", masked, dropped)

    assert rnn._srnn_native(np, "tanh", xw, h0, R) is not None or \
        rnn.native_calls.gemm(dtype) is None
    results = {}
    for n in (1, 2):
        with _threads(n):
            results[f"sequence kernel, {n} threads"] = run()
    with jit.switched(False):
        ref = run()
    for name, got in results.items():
        for a, b in zip(got, ref):
            np.testing.assert_array_equal(a, b, err_msg=name)
            assert np.array_equal(np.signbit(a), np.signbit(b)), name


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("on", [True, False], ids=["jit", "numpy"])
def test_lstm_backward_without_a_carry_gradient_equals_zero_carry_gradient(masked, on):
    """Without a gradient for the carry states the backward pass reads no zeros array; its
    values are those of an explicit zero gradient, bit for bit (signs of zeros included)."""
    rng = np.random.default_rng(21)
    B, T, H = 20, 5, 4
    args = _lstm_inputs(rng, B, T, H, masked, False, "float32")
    dhs = rng.standard_normal((B, T, H)).astype("float32")
    dhs[:, 2] = -0.0
    acts = ("tanh", "sigmoid")
    with jit.switched(on):
        fwd = rnn._lstm_fwd(np, *args, *acts, masked, False)
        ref = rnn._lstm_bwd_fwd(np, dhs, np.zeros_like(dhs), *args[1:], *fwd, *acts, masked,
                                False)
        got = rnn._lstm_bwd_fwd(np, dhs, np.zeros((B, 1), "float32"), *args[1:], *fwd, *acts,
                                masked, False, carry_grad=False)
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a, b)
        assert np.array_equal(np.signbit(a), np.signbit(b))
