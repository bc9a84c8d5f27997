"""The keras.ops names added under #16 against NumPy and PyTorch, their gradients against
finite differences, traced (ndflow.function) against eager, and their errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras import ops

rng = np.random.default_rng(7)


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


# --- against NumPy ---------------------------------------------------------------------------


@pytest.mark.parametrize("la,lv", [(5, 3), (6, 3), (5, 4), (3, 5), (3, 6), (4, 4), (1, 3)])
def test_correlate_matches_numpy(la, lv):
    a, v = rng.normal(size=la), rng.normal(size=lv)
    for mode in ("valid", "same", "full"):
        np.testing.assert_allclose(_np(ops.correlate(a, v, mode)), np.correlate(a, v, mode),
                                   rtol=1e-12, atol=1e-12)


def test_nan_reductions_match_numpy():
    x = rng.normal(size=(4, 5, 3))
    x[0, 1, 2] = x[2, :, 1] = x[3, 0, 0] = np.nan
    for name, ax, keep in itertools.product(
            ["nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin",
             "nanmedian"], [None, 0, 1, (0, 2)], [False, True]):
        with _quiet():
            exp = getattr(np, name)(x, axis=ax, keepdims=keep)
        got = _np(getattr(ops, name)(x, axis=ax, keepdims=keep))
        np.testing.assert_allclose(got, exp, rtol=1e-12, equal_nan=True, err_msg=name)
    for q, meth in itertools.product([0, 37.5, [5, 50, 100]],
                                     ["linear", "lower", "higher", "midpoint", "nearest"]):
        with _quiet():
            exp = np.nanpercentile(x, q, axis=1, method=meth)
        np.testing.assert_allclose(_np(ops.nanpercentile(x, q, axis=1, method=meth)), exp,
                                   equal_nan=True)
        y = rng.normal(size=(3, 8))
        np.testing.assert_allclose(_np(ops.percentile(y, q, axis=1, method=meth)),
                                   np.percentile(y, q, axis=1, method=meth))


class _quiet:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *a):
        self._w.__exit__(*a)


def test_elementwise_and_windows_match_numpy():
    x = rng.normal(size=(3, 4)) * 5
    np.testing.assert_allclose(_np(ops.i0(np.linspace(-60, 60, 41))),
                               np.i0(np.linspace(-60, 60, 41)), rtol=1e-12)
    y = np.linspace(-0.999999, 0.999999, 101)
    np.testing.assert_allclose(_np(tf.math.erf(ops.erfinv(y))), y, atol=1e-14)
    np.testing.assert_allclose(_np(ops.sinc(x)), np.sinc(x), rtol=1e-12)
    np.testing.assert_allclose(_np(ops.fmod(x, 1.5)), np.fmod(x, 1.5), atol=1e-12)
    ia, ib = rng.integers(-40, 40, 20), rng.integers(1, 30, 20)
    np.testing.assert_array_equal(_np(ops.fmod(ia, ib)), np.fmod(ia, ib))
    np.testing.assert_array_equal(_np(ops.gcd(ia, ib)), np.gcd(ia, ib))
    np.testing.assert_array_equal(_np(ops.lcm(ia, ib)), np.lcm(ia, ib))
    np.testing.assert_array_equal(_np(ops.nextafter(x, 0.0)), np.nextafter(x, 0.0))
    z = np.array([-0.0, 0.0, -np.inf, np.inf, np.nan, -2.0])
    np.testing.assert_array_equal(_np(ops.signbit(z)), np.signbit(z) & ~np.isnan(z))
    for n in (0, 1, 2, 9, 10):
        for name in ("hamming", "hanning", "blackman", "bartlett"):
            np.testing.assert_allclose(_np(getattr(ops, name)(n)),
                                       getattr(np, name)(n).astype(np.float32), atol=1e-6)
        np.testing.assert_allclose(_np(ops.kaiser(n, 5.0)), np.kaiser(n, 5.0), atol=1e-6)
    np.testing.assert_allclose(_np(ops.vander(x[0], 5)), np.vander(x[0], 5), rtol=1e-12)
    np.testing.assert_allclose(_np(ops.geomspace(2.0, 512.0, 5)), np.geomspace(2, 512, 5),
                               rtol=1e-6)
    np.testing.assert_allclose(_np(ops.corrcoef(x)), np.corrcoef(x), atol=1e-12)


def test_histogram_unique_and_splits_match_numpy():
    x = rng.normal(size=50)
    counts, edges = ops.histogram(x, bins=7)
    ec, ee = np.histogram(x, bins=7)
    np.testing.assert_array_equal(_np(counts), ec)
    np.testing.assert_allclose(_np(edges), ee)
    counts, _ = ops.histogram(x, bins=3, range=(-0.5, 0.5))
    np.testing.assert_array_equal(_np(counts), np.histogram(x, 3, range=(-0.5, 0.5))[0])
    v = np.array([4, 1, 4, 2, 9, 1, 1])
    u, idx, inv, cnt = ops.unique(v, return_index=True, return_inverse=True,
                                  return_counts=True)
    eu, eidx, einv, ecnt = np.unique(v, return_index=True, return_inverse=True,
                                     return_counts=True)
    for a, b in ((u, eu), (idx, eidx), (inv, einv), (cnt, ecnt)):
        np.testing.assert_array_equal(_np(a), b)
    assert _np(ops.unique(v, sorted=False)).tolist() == [4, 1, 2, 9]
    assert _np(ops.unique(v, size=6, fill_value=-1)).tolist() == [1, 2, 4, 9, -1, -1]
    for got, exp in zip(ops.array_split(np.arange(11), 4), np.array_split(np.arange(11), 4)):
        np.testing.assert_array_equal(_np(got), exp)


def test_stft_matches_a_numpy_reference_and_istft_inverts():
    x = rng.normal(size=(2, 50))
    for sl, ss, fl, window, center in [(8, 2, 8, "hann", True), (6, 3, 8, "hamming", False),
                                       (8, 4, 16, None, True), (5, 1, 5, None, False)]:
        re, im = ops.stft(x, sl, ss, fl, window=window, center=center)
        xp = np.pad(x, [(0, 0), (fl // 2, fl // 2)], mode="reflect") if center else x
        lp = (fl - sl) // 2
        if window is None:
            win = np.ones(fl)
        else:
            a0 = 0.5 if window == "hann" else 0.54
            win = np.pad(a0 - (1 - a0) * np.cos(2 * np.pi * np.arange(sl) / sl),
                         (lp, fl - sl - lp))
        n = 1 + (xp.shape[-1] - fl) // ss
        frames = np.stack([xp[:, i * ss: i * ss + fl] * win for i in range(n)], 1)
        ref = np.fft.rfft(frames, fl)
        np.testing.assert_allclose(_np(re) + 1j * _np(im), ref, atol=1e-10)
        back = _np(ops.istft((re, im), sl, ss, fl, length=50, window=window, center=center))
        if center:  # every sample is covered by a full overlap: exact reconstruction
            np.testing.assert_allclose(back, x, atol=1e-10)
        else:
            np.testing.assert_allclose(back[:, fl:-fl], x[:, fl:-fl], atol=1e-10)


def test_decompositions_reconstruct():
    a = rng.normal(size=(3, 4, 4))
    q, r = ops.qr(a)
    np.testing.assert_allclose(_np(q) @ _np(r), a, atol=1e-12)
    assert np.allclose(np.tril(_np(r), -1), 0)
    u, s, vh = ops.svd(a)
    np.testing.assert_allclose((_np(u) * _np(s)[..., None, :]) @ _np(vh), a, atol=1e-12)
    w, v = ops.eig(a[0])
    np.testing.assert_allclose(a[0] @ _np(v), _np(v) * _np(w), atol=1e-10)
    lu, piv = ops.lu_factor(a)
    for b in range(3):
        low = np.tril(_np(lu)[b], -1) + np.eye(4)
        up = np.triu(_np(lu)[b])
        perm = np.arange(4)
        for i, p in enumerate(_np(piv)[b]):
            perm[[i, p]] = perm[[p, i]]
        np.testing.assert_allclose(a[b][perm], low @ up, atol=1e-12)
    packed, p = tf.linalg.lu(a[0])
    np.testing.assert_allclose(a[0][_np(p)], (np.tril(_np(packed), -1) + np.eye(4))
                               @ np.triu(_np(packed)), atol=1e-12)
    m = rng.normal(size=(6, 3))
    rhs = rng.normal(size=(6, 2))
    np.testing.assert_allclose(_np(ops.lstsq(m, rhs)), np.linalg.lstsq(m, rhs, rcond=None)[0],
                               atol=1e-12)
    np.testing.assert_allclose(_np(ops.pinv(m)), np.linalg.pinv(m), atol=1e-12)
    assert int(_np(ops.matrix_rank(np.outer([1.0, 2, 3], [1.0, 0, 1])))) == 1
    spd = a @ np.swapaxes(a, -1, -2) + np.eye(4)
    np.testing.assert_allclose(_np(ops.cholesky_inverse(np.linalg.cholesky(spd))),
                               np.linalg.inv(spd), atol=1e-10)
    np.testing.assert_allclose(_np(ops.solve_triangular(np.triu(a[0]) + 4 * np.eye(4), m[:4])),
                               np.linalg.solve(np.triu(a[0]) + 4 * np.eye(4), m[:4]), atol=1e-12)


def test_fft_family_matches_numpy():
    x, y = rng.normal(size=(2, 3, 6)), rng.normal(size=(2, 3, 6))
    z = x + 1j * y
    for fn, ref in ((ops.fft, np.fft.fft(z)), (ops.fft2, np.fft.fft2(z)),
                    (ops.ifft2, np.fft.ifft2(z))):
        re, im = fn((x, y))
        np.testing.assert_allclose(_np(re) + 1j * _np(im), ref, atol=1e-12)
    for n in (None, 4, 9):
        re, im = ops.rfft(x, n)
        np.testing.assert_allclose(_np(re) + 1j * _np(im), np.fft.rfft(x, n), atol=1e-12)
        np.testing.assert_allclose(_np(ops.irfft((x, y), n)), np.fft.irfft(z, n), atol=1e-12)
    c = tf.complex(tf.constant(x), tf.constant(y))
    np.testing.assert_allclose(_np(tf.signal.ifft(tf.signal.fft(c))), z, atol=1e-12)
    np.testing.assert_allclose(_np(ops.angle(c)), np.angle(z))
    np.testing.assert_allclose(_np(ops.view_as_real(c)), np.stack([x, y], -1))


# --- against PyTorch -------------------------------------------------------------------------


def test_ctc_and_blocks_match_torch():
    torch = pytest.importorskip("torch")
    logits = rng.normal(size=(3, 9, 5))
    target = np.array([[1, 2, 2, 0], [4, 0, 0, 0], [3, 1, 4, 2]])
    tl, ol = np.array([3, 1, 4]), np.array([9, 7, 8])
    lp = torch.log_softmax(torch.tensor(logits), -1).transpose(0, 1)
    ref = torch.nn.functional.ctc_loss(lp, torch.tensor(target), torch.tensor(ol),
                                       torch.tensor(tl), reduction="none", blank=0)
    np.testing.assert_allclose(_np(ops.ctc_loss(target, logits, tl, ol)), ref.numpy(),
                               rtol=1e-10)
    img = rng.normal(size=(2, 3, 7, 6))
    for kw in (dict(kernel_size=3), dict(kernel_size=(2, 3), dilation=2, padding=1, stride=2)):
        cols = ops.unfold(img, **kw)
        np.testing.assert_allclose(_np(cols), torch.nn.functional.unfold(
            torch.tensor(img), **kw).numpy(), rtol=1e-12)
        np.testing.assert_allclose(_np(ops.fold(cols, (7, 6), **kw)), torch.nn.functional.fold(
            torch.tensor(_np(cols)), (7, 6), **kw).numpy(), rtol=1e-12)
    x = rng.normal(size=(2, 3, 10, 7))
    for size in ((4, 3), (10, 7), (1, 1), (6, 5)):
        tx = torch.tensor(x)
        np.testing.assert_allclose(
            _np(ops.adaptive_average_pool(x, size, data_format="channels_first")),
            torch.nn.functional.adaptive_avg_pool2d(tx, size).numpy(), rtol=1e-12)
        np.testing.assert_allclose(
            _np(ops.adaptive_max_pool(x, size, data_format="channels_first")),
            torch.nn.functional.adaptive_max_pool2d(tx, size).numpy(), rtol=1e-12)


def test_ctc_beam_search_is_exact_with_a_wide_beam():
    logits = rng.normal(size=(1, 4, 3))
    paths, scores = ops.ctc_decode(logits, np.array([4]), strategy="beam_search",
                                   beam_width=100, top_paths=3)
    logp = logits[0] - np.log(np.exp(logits[0]).sum(-1, keepdims=True))
    totals: dict = {}
    for align in itertools.product(range(3), repeat=4):  # brute force over all alignments
        lab, prev = [], None
        for c in align:
            if c != prev and c != 0:
                lab.append(c)
            prev = c
        totals[tuple(lab)] = np.logaddexp(totals.get(tuple(lab), -np.inf),
                                          sum(logp[t, c] for t, c in enumerate(align)))
    best = sorted(totals.items(), key=lambda kv: -kv[1])[:3]
    for j, (lab, score) in enumerate(best):
        got = [int(c) for c in _np(paths)[j, 0] if c >= 0]
        assert got == list(lab)
        np.testing.assert_allclose(_np(scores)[0, j], score, rtol=1e-6)


# --- core helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 10))
def test_associative_scan_matches_cumulative_ops(n):
    x = rng.normal(size=(n, 3))
    np.testing.assert_allclose(_np(ops.associative_scan(lambda a, b: a + b, x)),
                               np.cumsum(x, 0), atol=1e-12)
    np.testing.assert_allclose(_np(ops.associative_scan(lambda a, b: a + b, x, reverse=True,
                                                        axis=0)),
                               np.cumsum(x[::-1], 0)[::-1], atol=1e-12)
    mx = ops.associative_scan(lambda a, b: {"m": ops.maximum(a["m"], b["m"])}, {"m": x.T},
                              axis=1)
    np.testing.assert_allclose(_np(mx["m"]), np.maximum.accumulate(x.T, 1))


def test_rearrange_and_jvp():
    x = rng.normal(size=(2, 6, 4))
    np.testing.assert_array_equal(_np(ops.rearrange(x, "b (h w) c -> b h (c w)", h=3)),
                                  x.reshape(2, 3, 2, 4).transpose(0, 1, 3, 2).reshape(2, 3, 8))
    np.testing.assert_array_equal(_np(ops.rearrange(x, "b n c -> c 1 b n")),
                                  x.transpose(2, 0, 1)[:, None])
    with pytest.raises(ValueError, match="rearrange"):
        ops.rearrange(x, "b n -> n b")
    f = lambda a, b: (ops.sin(a) * b, ops.sum(a * a))  # noqa: E731
    a, b = rng.normal(size=3), rng.normal(size=3)
    ta, tb = rng.normal(size=3), rng.normal(size=3)
    out, tan = ops.jvp(f, (a, b), (ta, tb))
    eps = 1e-6
    hi = [_np(v) for v in f(tf.constant(a + eps * ta), tf.constant(b + eps * tb))]
    lo = [_np(v) for v in f(tf.constant(a - eps * ta), tf.constant(b - eps * tb))]
    for t_, h, lo_ in zip(tan, hi, lo):
        np.testing.assert_allclose(_np(t_), (h - lo_) / (2 * eps), rtol=1e-6, atol=1e-8)


# --- gradients of the composites: finite differences -----------------------------------------


def _fd_check(fn, *arrays, eps=1e-6, rtol=1e-5, atol=1e-6):
    xs = [tf.constant(a) for a in arrays]
    w = [rng.normal(size=np.shape(_np(o))) for o in _flat(fn(*xs))]
    with tf.GradientTape() as tape:
        for x in xs:
            tape.watch(x)
        loss = sum(tf.reduce_sum(o * tf.constant(wi)) for o, wi in zip(_flat(fn(*xs)), w))
    grads = tape.gradient(loss, xs)
    for i, (a, g) in enumerate(zip(arrays, grads)):
        num = np.zeros_like(a)
        for idx in np.ndindex(*a.shape):
            hi, lo = [np.array(v, copy=True) for v in arrays], [np.array(v, copy=True)
                                                                for v in arrays]
            hi[i][idx] += eps
            lo[i][idx] -= eps
            f = lambda vs: sum(float(np.sum(_np(o) * wi)) for o, wi in  # noqa: E731
                               zip(_flat(fn(*[tf.constant(v) for v in vs])), w))
            num[idx] = (f(hi) - f(lo)) / (2 * eps)
        np.testing.assert_allclose(_np(g), num, rtol=rtol, atol=atol)


def _flat(o):
    return list(o) if isinstance(o, (list, tuple)) else [o]


@pytest.mark.parametrize("name,fn,inputs", [
    ("nanmean", lambda x: ops.nanmean(x, axis=1), [np.where(np.eye(3, 4) > 0, np.nan,
                                                             rng.normal(size=(3, 4)))]),
    ("nanstd", lambda x: ops.nanstd(x, axis=0), [rng.normal(size=(4, 3))]),
    ("nanpercentile", lambda x: ops.nanpercentile(x, [30, 70], axis=1),
     [rng.permutation(12).reshape(3, 4) * 0.3]),
    ("i0", ops.i0, [rng.normal(size=5) * 3]),
    ("sinc", ops.sinc, [rng.normal(size=5)]),
    ("erfinv", ops.erfinv, [rng.uniform(-0.9, 0.9, size=5)]),
    ("cdist", ops.cdist, [rng.normal(size=(3, 2)), rng.normal(size=(4, 2))]),
    ("correlate", lambda a, v: ops.correlate(a, v, "full"), [rng.normal(size=5),
                                                             rng.normal(size=3)]),
    ("stft", lambda x: ops.stft(x, 6, 2, 8), [rng.normal(size=(1, 16))]),
    ("istft", lambda r, i: ops.istft((r, i), 8, 4, 8), [rng.normal(size=(4, 5)),
                                                        rng.normal(size=(4, 5))]),
    ("adaptive_average_pool", lambda x: ops.adaptive_average_pool(x, 2),
     [rng.normal(size=(1, 5, 3, 2))]),
    ("unfold-fold", lambda x: ops.fold(ops.unfold(x, 2, stride=1), (3, 4), 2),
     [rng.normal(size=(1, 2, 3, 4))]),
    ("ctc_loss", lambda z: ops.ctc_loss(np.array([[1, 2]]), z, np.array([2]), np.array([4])),
     [rng.normal(size=(1, 4, 3))]),
    ("associative_scan", lambda x: ops.associative_scan(lambda a, b: a * b, x),
     [rng.normal(size=(5, 2))]),
    ("fmod", lambda x: ops.fmod(x, 0.7), [rng.uniform(0.05, 0.6, size=4) + np.arange(4)]),
    ("polar-view", lambda r, a: ops.view_as_real(ops.polar(r, a)), [rng.uniform(0.5, 2, 3),
                                                                   rng.normal(size=3)]),
    ("cholesky_inverse", lambda x: ops.cholesky_inverse(ops.tril(x, -1) + 2.0 * np.eye(3)),
     [rng.normal(size=(3, 3)) * 0.3]),
    ("lstsq", lambda a, b: ops.lstsq(a, b), [rng.normal(size=(5, 3)), rng.normal(size=(5, 2))]),
    ("depth_to_space", lambda x: ops.depth_to_space(x, 2), [rng.normal(size=(1, 2, 2, 4))]),
])
def test_composite_gradients_match_finite_differences(name, fn, inputs):
    _fd_check(fn, *inputs)


def test_composites_trace_like_eager():
    x = rng.normal(size=(2, 20)).astype(np.float32)
    n = x.copy()
    n[0, 3] = np.nan

    def body(x, n):
        re, im = ops.stft(x, 8, 4, 8)
        return [ops.istft((re, im), 8, 4, 8), ops.nanmean(n, axis=1), ops.i0(x),
                ops.nanpercentile(n, 40, axis=1), ops.cdist(x, x),
                ops.associative_scan(lambda a, b: a + b, x, axis=1)]

    eager = body(tf.constant(x), tf.constant(n))
    traced = tf.function(body)(tf.constant(x), tf.constant(n))
    for e, t_ in zip(eager, traced):
        np.testing.assert_allclose(_np(t_), _np(e), rtol=1e-6, atol=1e-6)


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("call,match", [
    (lambda: ops.cholesky(np.ones(3)), "cholesky"),
    (lambda: ops.qr(np.ones((3, 3)), mode="raw"), "qr"),
    (lambda: ops.fft(np.ones(3)), r"\(real, imag\)"),
    (lambda: ops.stft(np.ones(10), 8, 2, 4), "fft_length"),
    (lambda: ops.percentile(np.ones(3), 120), "q in"),
    (lambda: ops.correlate(np.ones((2, 2)), np.ones(2)), "1-D"),
    (lambda: ops.depth_to_space(np.ones((1, 2, 2, 3)), 2), "divisible"),
    (lambda: ops.ctc_decode(np.ones((1, 3, 2)), [3], strategy="best"), "strategy"),
    (lambda: ops.view_as_complex(np.ones((2, 3))), "size 2"),
    (lambda: ops.gcd(np.ones(2), np.ones(2)), "gcd"),
])
def test_bad_input_gives_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("module", [
    "ndflow.keras.ops.numpy_more", "ndflow.keras.ops.linalg_more", "ndflow.keras.ops.math_more",
    "ndflow.keras.ops.nn_more", "ndflow.keras.ops.core_more", "ndflow.ops.decomp",
    "ndflow.ops.spectral", "ndflow.ops.segment", "ndflow.signal"])
def test_docstring_examples(module):
    import doctest
    import importlib

    failures, _ = doctest.testmod(importlib.import_module(module),
                                  optionflags=doctest.ELLIPSIS)
    assert failures == 0


# --- keras.ops.image ---------------------------------------------------------------------------


def test_gaussian_blur_matches_a_numpy_reference():
    # (Keras's torch backend mixes channels here; its NumPy backend and this agree.)
    x = rng.normal(size=(2, 6, 7, 3))
    for ks, sg in (((3, 3), (1.0, 1.0)), ((5, 3), (1.5, 0.7))):
        g = [np.exp(-0.5 * ((np.arange(k) - (k - 1) / 2) / s) ** 2) for k, s in zip(ks, sg)]
        kern = np.outer(g[1] / g[1].sum(), g[0] / g[0].sum())
        kh, kw = kern.shape
        xp = np.pad(x, [(0, 0), ((kh - 1) // 2, kh - 1 - (kh - 1) // 2),
                        ((kw - 1) // 2, kw - 1 - (kw - 1) // 2), (0, 0)])
        ref = sum(kern[i, j] * xp[:, i:i + 6, j:j + 7] for i in range(kh) for j in range(kw))
        np.testing.assert_allclose(_np(ops.image.gaussian_blur(x, ks, sg)), ref, atol=1e-12)
        cf = ops.image.gaussian_blur(np.transpose(x, (0, 3, 1, 2)), ks, sg,
                                     data_format="channels_first")
        np.testing.assert_allclose(np.transpose(_np(cf), (0, 2, 3, 1)), ref, atol=1e-12)


@pytest.mark.parametrize("name,fn,inputs", [
    ("rgb_to_hsv", lambda x: ops.image.rgb_to_hsv(x), [rng.uniform(0.1, 0.9, (1, 2, 2, 3))]),
    ("hsv_to_rgb", lambda x: ops.image.hsv_to_rgb(x), [rng.uniform(0.1, 0.9, (1, 2, 2, 3))]),
    ("extract_patches", lambda x: ops.image.extract_patches(x, 2, 1, padding="same"),
     [rng.normal(size=(1, 3, 3, 2))]),
    ("affine_transform", lambda x: ops.image.affine_transform(
        x, [0.9, 0.1, 0.3, -0.2, 1.1, 0.2, 0, 0], fill_mode="reflect"),
     [rng.normal(size=(1, 3, 4, 1))]),
    ("map_coordinates", lambda x, c: ops.image.map_coordinates(x, c, 1, "mirror"),
     [rng.normal(size=(3, 4)), rng.uniform(-1.3, 4.3, (2, 5)) + 0.0137]),
    ("ssim", lambda a: ops.image.ssim(a, a[:, ::-1] * 0.5 + 0.2, filter_size=3),
     [rng.uniform(size=(1, 4, 4, 1))]),
    ("sobel_edges", ops.image.sobel_edges, [rng.normal(size=(1, 3, 3, 1))]),
])
def test_image_gradients_match_finite_differences(name, fn, inputs):
    _fd_check(fn, *inputs)


def test_elastic_transform_statistics_and_seeding():
    from ndflow.keras import random as kr

    h = w = 48
    ramp = np.broadcast_to(np.arange(w, dtype=np.float32)[None, :, None], (h, w, 1)).copy()
    img = np.stack([ramp, ramp])  # (2, h, w, 1): the value is the x coordinate
    sigma, alpha = 2.0, 3.0
    out = _np(ops.image.elastic_transform(img, alpha, sigma, fill_mode="nearest", seed=3))
    np.testing.assert_array_equal(
        out, _np(ops.image.elastic_transform(img, alpha, sigma, fill_mode="nearest", seed=3)))
    assert not np.array_equal(out, _np(ops.image.elastic_transform(
        img, alpha, sigma, fill_mode="nearest", seed=4)))
    g = kr.SeedGenerator(1)
    a = _np(ops.image.elastic_transform(img, alpha, sigma, seed=g))
    assert not np.array_equal(a, _np(ops.image.elastic_transform(img, alpha, sigma, seed=g)))
    np.testing.assert_allclose(_np(ops.image.elastic_transform(img, 0.0, sigma, seed=1)), img,
                               atol=1e-5)
    # bilinear sampling of a ramp returns x + dx exactly inside: dx is the smoothed noise
    dx = (out - img)[:, 10:-10, 10:-10, 0]
    k = int(6 * sigma) | 1
    g1 = np.exp(-0.5 * ((np.arange(k) - (k - 1) / 2) / sigma) ** 2)
    g1 /= g1.sum()
    expected_std = alpha * sigma * np.sqrt((np.outer(g1, g1) ** 2).sum())
    assert abs(dx.mean()) < 0.3 * expected_std
    assert 0.75 * expected_std < dx.std() < 1.25 * expected_std, (dx.std(), expected_std)
