"""tf.sequence_mask, tf.linalg.band_part, tf.clip_by_norm / clip_by_global_norm /
linalg.global_norm and tf.linalg's inverse, determinant and solve: values against NumPy (and
PyTorch's clip_grad_norm_), TensorFlow's documented edge cases, errors."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow.errors import InvalidArgumentError

rng = np.random.default_rng(5)


def test_sequence_mask_values_dtypes_and_default_maxlen():
    assert tf.sequence_mask([1, 3, 2], 5).numpy().tolist() == [
        [True, False, False, False, False], [True, True, True, False, False],
        [True, True, False, False, False]]
    m = tf.sequence_mask(tf.constant([[0, 2], [1, 1]]), dtype=tf.float32)
    assert m.dtype == tf.float32 and m.shape == [2, 2, 2]  # maxlen = the largest length
    assert m.numpy().tolist() == [[[0, 0], [1, 1]], [[1, 0], [1, 0]]]
    assert tf.sequence_mask([2], tf.constant(3)).numpy().tolist() == [[True, True, False]]


def test_sequence_mask_in_a_traced_function_needs_maxlen():
    f = tf.function(lambda n: tf.sequence_mask(n, 4))
    assert f(tf.constant([1, 4])).numpy().sum() == 5
    with pytest.raises(InvalidArgumentError, match="sequence_mask.*maxlen"):
        tf.function(lambda n: tf.sequence_mask(n))(tf.constant([1, 4]))
    with pytest.raises(InvalidArgumentError, match="integer lengths"):
        tf.sequence_mask([1.5, 2.0], 3)


@pytest.mark.parametrize("lo,hi", [(0, 0), (-1, 0), (0, -1), (1, 2), (-1, -1), (2, 0)])
def test_band_part_matches_numpy(lo, hi):
    x = rng.normal(size=(2, 4, 5)).astype(np.float32)
    i, j = np.arange(4)[:, None], np.arange(5)[None, :]
    keep = ((lo < 0) | (i - j <= lo)) & ((hi < 0) | (j - i <= hi))
    np.testing.assert_array_equal(tf.linalg.band_part(x, lo, hi).numpy(), np.where(keep, x, 0))


def test_band_part_zeroes_nan_outside_the_band_and_makes_causal_masks():
    x = np.full((3, 3), np.nan, np.float32)
    out = tf.linalg.band_part(x, 0, 0).numpy()
    assert np.isnan(np.diag(out)).all() and (out[~np.eye(3, dtype=bool)] == 0).all()
    look_ahead = 1 - tf.linalg.band_part(tf.ones((3, 3)), -1, 0)  # TF's transformer tutorial
    assert look_ahead.numpy().tolist() == [[0, 1, 1], [0, 0, 1], [0, 0, 0]]
    with pytest.raises(InvalidArgumentError, match="band_part.*rank >= 2"):
        tf.linalg.band_part(tf.ones([3]), 0, 0)


def test_clip_by_global_norm_matches_torch_clip_grad_norm():
    torch = pytest.importorskip("torch")
    grads = [rng.normal(size=(3, 4)), rng.normal(size=(5,))]
    clipped, norm = tf.clip_by_global_norm([tf.constant(g) for g in grads], 0.7)
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g)
    total = torch.nn.utils.clip_grad_norm_(params, 0.7)
    np.testing.assert_allclose(float(norm), float(total), rtol=1e-12)
    for c, p in zip(clipped, params):
        # torch scales by clip / (norm + 1e-6); TensorFlow by clip / norm
        np.testing.assert_allclose(c.numpy(), p.grad.numpy(), rtol=1e-5)


def test_clip_by_global_norm_edge_cases_of_tensorflow():
    small = [tf.constant([0.3, 0.4]), None]
    clipped, norm = tf.clip_by_global_norm(small, 1.0)
    assert clipped[1] is None and float(norm) == pytest.approx(0.5)
    np.testing.assert_allclose(clipped[0].numpy(), [0.3, 0.4], rtol=1e-6)  # under the limit
    clipped, _ = tf.clip_by_global_norm([tf.constant([3.0, 4.0])], 1.0, use_norm=10.0)
    np.testing.assert_allclose(clipped[0].numpy(), [0.3, 0.4], rtol=1e-6)
    clipped, norm = tf.clip_by_global_norm([tf.constant([np.inf, 1.0])], 1.0)
    assert np.isinf(float(norm)) and np.isnan(clipped[0].numpy()).all()
    zero, norm = tf.clip_by_global_norm([tf.zeros([2])], 1.0)
    assert float(norm) == 0.0 and zero[0].numpy().tolist() == [0.0, 0.0]
    assert float(tf.linalg.global_norm([tf.constant([3.0]), tf.constant([[4.0]])])) == 5.0
    with pytest.raises(InvalidArgumentError, match="list or tuple"):
        tf.clip_by_global_norm(tf.constant([1.0]), 1.0)
    with pytest.raises(InvalidArgumentError, match="one dtype"):
        tf.linalg.global_norm([tf.constant([1.0]), tf.constant([1.0], tf.float64)])


def test_clip_by_norm_values_axes_and_zero_norm_gradient():
    x = tf.constant([[3.0, 4.0], [0.3, 0.4]])
    np.testing.assert_allclose(tf.clip_by_norm(x, 1.0, axes=[1]).numpy(),
                               [[0.6, 0.8], [0.3, 0.4]], rtol=1e-6)
    np.testing.assert_allclose(tf.clip_by_norm(x, 1.0).numpy(), x.numpy() / np.linalg.norm(x),
                               rtol=1e-6)
    z = tf.zeros([3])
    with tf.GradientTape() as tape:
        tape.watch(z)
        y = tf.reduce_sum(tf.clip_by_norm(z, 1.0))
    assert np.isfinite(tape.gradient(y, z).numpy()).all()


def test_linalg_inverse_determinant_solve_match_numpy():
    a = rng.normal(size=(2, 3, 3)) + 3 * np.eye(3)
    b = rng.normal(size=(2, 3, 2))
    np.testing.assert_allclose(tf.linalg.inv(a).numpy(), np.linalg.inv(a), rtol=1e-12)
    np.testing.assert_allclose(tf.linalg.inv(a, adjoint=True).numpy(),
                               np.linalg.inv(np.swapaxes(a, -1, -2)), rtol=1e-12)
    np.testing.assert_allclose(tf.linalg.det(a).numpy(), np.linalg.det(a), rtol=1e-12)
    sign, logabs = tf.linalg.slogdet(-a)
    np.testing.assert_allclose(sign.numpy(), np.linalg.slogdet(-a)[0])
    np.testing.assert_allclose(logabs.numpy(), np.linalg.slogdet(-a)[1], rtol=1e-12)
    np.testing.assert_allclose(tf.linalg.solve(a, b).numpy(), np.linalg.solve(a, b), rtol=1e-12)
    np.testing.assert_allclose(tf.linalg.solve(a, b, adjoint=True).numpy(),
                               np.linalg.solve(np.swapaxes(a, -1, -2), b), rtol=1e-12)
    assert tf.linalg.matrix_transpose(tf.ones([2, 3, 4])).shape == [2, 4, 3]
    with pytest.raises(InvalidArgumentError, match="linalg.inv.*square"):
        tf.linalg.inv(tf.ones([2, 3]))
    with pytest.raises(InvalidArgumentError, match="linalg.det.*floating-point"):
        tf.linalg.det(tf.ones([2, 2], tf.int32))
    with pytest.raises(InvalidArgumentError, match="linalg.solve.*right-hand side"):
        tf.linalg.solve(tf.eye(3), tf.ones([3]))
