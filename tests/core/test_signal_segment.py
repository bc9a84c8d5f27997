"""tf.signal (framing, windows, stft/inverse_stft) against PyTorch and NumPy, and the
tf.math segment reductions against NumPy, with their gradients."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf

rng = np.random.default_rng(11)


def test_frame_and_overlap_and_add():
    x = rng.normal(size=(2, 11))
    fr = tf.signal.frame(x, 4, 3).numpy()
    np.testing.assert_array_equal(fr, np.stack([x[:, i:i + 4] for i in (0, 3, 6)], 1))
    padded = tf.signal.frame(x, 4, 3, pad_end=True).numpy()
    assert padded.shape == (2, 4, 4) and np.all(padded[:, -1, 2:] == 0)
    frames = rng.normal(size=(2, 5, 6))
    ref = np.zeros((2, 6 + 4 * 2))
    for i in range(5):
        ref[:, 2 * i:2 * i + 6] += frames[:, i]
    np.testing.assert_allclose(tf.signal.overlap_and_add(frames, 2).numpy(), ref, atol=1e-12)


def test_windows_and_stft_match_torch():
    torch = pytest.importorskip("torch")
    for n in (1, 5, 8):
        np.testing.assert_allclose(tf.signal.hann_window(n).numpy(),
                                   torch.hann_window(n, periodic=True).numpy(), atol=1e-6)
        np.testing.assert_allclose(tf.signal.hamming_window(n, periodic=False).numpy(),
                                   torch.hamming_window(n, periodic=False).numpy(), atol=1e-6)
    x = rng.normal(size=(2, 64))
    ours = tf.signal.stft(x, 16, 4).numpy()
    ref = torch.stft(torch.tensor(x), 16, 4, window=torch.hann_window(16, dtype=torch.float64),
                     center=False, return_complex=True).numpy().transpose(0, 2, 1)
    np.testing.assert_allclose(ours, ref, atol=1e-10)
    assert tf.signal.stft(x, 12, 4).shape.as_list() == [2, 14, 9]  # fft_length 16
    back = tf.signal.inverse_stft(tf.signal.stft(x, 16, 4), 16, 4,
                                  window_fn=tf.signal.inverse_stft_window_fn(4)).numpy()
    np.testing.assert_allclose(back[:, 16:-16], x[:, 16:-16], atol=1e-10)


def _np_segments(data, ids, n, fn, empty):
    out = np.full((n,) + data.shape[1:], empty, dtype=data.dtype)
    for s in range(n):
        rows = data[ids == s]
        if len(rows):
            out[s] = fn(rows, axis=0)
    return out


def test_segment_reductions_match_numpy():
    d = rng.normal(size=(6, 3))
    ids = np.array([0, 0, 1, 3, 3, 3])
    np.testing.assert_allclose(tf.math.segment_sum(d, ids).numpy(),
                               _np_segments(d, ids, 4, np.sum, 0.0))
    np.testing.assert_allclose(tf.math.segment_mean(d, ids).numpy(),
                               _np_segments(d, ids, 4, np.mean, 0.0))
    np.testing.assert_allclose(tf.math.segment_prod(d, ids).numpy(),
                               _np_segments(d, ids, 4, np.prod, 1.0))
    np.testing.assert_allclose(tf.math.segment_max(d, ids).numpy(),
                               _np_segments(d, ids, 4, np.max, 0.0))
    np.testing.assert_allclose(tf.math.segment_min(d, ids).numpy(),
                               _np_segments(d, ids, 4, np.min, 0.0))
    uid = np.array([2, 0, 2, 1, 0, 2])
    lo, hi = np.finfo(np.float64).min, np.finfo(np.float64).max
    for fn, ref, empty in ((tf.math.unsorted_segment_sum, np.sum, 0.0),
                           (tf.math.unsorted_segment_mean, np.mean, 0.0),
                           (tf.math.unsorted_segment_prod, np.prod, 1.0),
                           (tf.math.unsorted_segment_max, np.max, lo),
                           (tf.math.unsorted_segment_min, np.min, hi)):
        np.testing.assert_allclose(fn(d, uid, 4).numpy(), _np_segments(d, uid, 4, ref, empty))
    with pytest.raises(ValueError, match="integer segment ids"):
        tf.math.segment_sum(d, ids.astype(float))


def test_segment_and_stft_gradients():
    d = tf.constant(rng.normal(size=(5, 2)))
    ids = np.array([1, 0, 1, 1, 2])
    w = rng.normal(size=(3, 2))
    with tf.GradientTape() as tape:
        tape.watch(d)
        y = tf.reduce_sum(tf.math.unsorted_segment_max(d, ids, 3) * w)
    g = tape.gradient(y, d).numpy()
    ref = np.zeros((5, 2))
    for s in range(3):
        rows = np.where(ids == s)[0]
        best = rows[np.argmax(d.numpy()[rows], axis=0)]
        ref[best, [0, 1]] += w[s]
    np.testing.assert_allclose(g, ref)
    x = tf.constant(rng.normal(size=(1, 12)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.math.real(tf.signal.stft(x, 4, 2, 4)) ** 2)
    eps, xv = 1e-6, x.numpy()
    num = np.zeros_like(xv)
    for i in range(12):
        e = np.zeros_like(xv)
        e[0, i] = eps
        f = lambda v: float(np.sum(np.real(tf.signal.stft(v, 4, 2, 4).numpy()) ** 2))  # noqa
        num[0, i] = (f(xv + e) - f(xv - e)) / (2 * eps)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), num, rtol=1e-5, atol=1e-7)
