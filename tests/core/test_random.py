"""Seeded randomness: bit-identical repeats, op-level seeds, generators and distributions."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf

DRAWS = {
    "normal": lambda seed=None: tf.random.normal([4, 5], seed=seed),
    "uniform": lambda seed=None: tf.random.uniform([4, 5], seed=seed),
    "uniform-int": lambda seed=None: tf.random.uniform([20], 0, 10, dtype=tf.int32, seed=seed),
    "truncated_normal": lambda seed=None: tf.random.truncated_normal([4, 5], seed=seed),
    "categorical": lambda seed=None: tf.random.categorical(
        tf.math.log([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]]), 10, seed=seed),
    "shuffle": lambda seed=None: tf.random.shuffle(tf.range(20), seed=seed),
}


@pytest.fixture(autouse=True)
def _reset_seed():
    yield
    tf.random.set_seed(None)


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_global_seed_gives_identical_sequences(name):
    draw = DRAWS[name]
    tf.random.set_seed(42)
    first = [draw().numpy() for _ in range(3)]
    tf.random.set_seed(42)
    second = [draw().numpy() for _ in range(3)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
        assert a.tobytes() == b.tobytes()
    assert not all(np.array_equal(first[0], f) for f in first[1:]), "successive draws repeat"
    tf.random.set_seed(43)
    assert not np.array_equal(draw().numpy(), first[0])


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_op_level_seed(name):
    draw = DRAWS[name]
    tf.random.set_seed(1)
    a = [draw(seed=7).numpy() for _ in range(2)]
    tf.random.set_seed(1)
    b = [draw(seed=7).numpy() for _ in range(2)]
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    tf.random.set_seed(1)
    c = draw(seed=8).numpy()
    assert not np.array_equal(a[0], c)


def test_op_seed_stream_does_not_depend_on_unseeded_draws():
    tf.random.set_seed(5)
    a = tf.random.normal([3], seed=1).numpy()
    tf.random.set_seed(5)
    tf.random.normal([100])  # draws from the global stream only
    b = tf.random.normal([3], seed=1).numpy()
    np.testing.assert_array_equal(a, b)


def test_generator_from_seed():
    g1, g2 = tf.random.Generator.from_seed(3), tf.random.Generator.from_seed(3)
    for _ in range(2):
        np.testing.assert_array_equal(g1.normal([5]).numpy(), g2.normal([5]).numpy())
        np.testing.assert_array_equal(g1.uniform([5]).numpy(), g2.uniform([5]).numpy())
        np.testing.assert_array_equal(g1.truncated_normal([5]).numpy(),
                                      g2.truncated_normal([5]).numpy())
    g3 = tf.random.Generator.from_seed(4)
    assert not np.array_equal(g3.normal([5]).numpy(), tf.random.Generator.from_seed(3).normal(
        [5]).numpy())
    g1.reset_from_seed(3)
    np.testing.assert_array_equal(g1.normal([5]).numpy(),
                                  tf.random.Generator.from_seed(3).normal([5]).numpy())
    a, b = tf.random.Generator.from_seed(9).split(2)
    assert not np.array_equal(a.normal([4]).numpy(), b.normal([4]).numpy())


def test_stateless_ops_depend_only_on_the_seed():
    a = tf.random.stateless_normal([4], seed=[1, 2]).numpy()
    tf.random.normal([10])
    np.testing.assert_array_equal(a, tf.random.stateless_normal([4], seed=[1, 2]).numpy())
    assert not np.array_equal(a, tf.random.stateless_normal([4], seed=[1, 3]).numpy())
    u = tf.random.stateless_uniform([100], seed=[3, 4]).numpy()
    assert u.min() >= 0 and u.max() < 1


def test_dtypes_and_shapes():
    assert tf.random.normal([2, 3]).dtype == tf.float32
    assert tf.random.normal([2], dtype=tf.float64).dtype == tf.float64
    assert tf.random.uniform([2], dtype=tf.float16).dtype == tf.float16
    assert tf.random.uniform([3], 0, 5, dtype=tf.int64).dtype == tf.int64
    assert tf.random.normal(tf.constant([2, 3])).shape == (2, 3)
    assert tf.random.categorical(tf.zeros([2, 4]), 5).dtype == tf.int64
    with pytest.raises(tf.errors.InvalidArgumentError, match="random.normal.*floating"):
        tf.random.normal([2], dtype=tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="maxval"):
        tf.random.uniform([2], dtype=tf.int32)


def test_truncated_normal_stays_within_two_stddev():
    tf.random.set_seed(0)
    x = tf.random.truncated_normal([20000], mean=1.0, stddev=0.5).numpy()
    assert x.min() >= 0.0 and x.max() <= 2.0
    # moments of a standard normal truncated to [-2, 2]: mean 0, variance ~0.7737
    assert abs(x.mean() - 1.0) < 0.01
    assert abs(x.var() / 0.25 - 0.7737) < 0.02


def test_normal_moments():
    tf.random.set_seed(1)
    x = tf.random.normal([40000], mean=2.0, stddev=3.0, dtype=tf.float64).numpy()
    assert abs(x.mean() - 2.0) < 0.05
    assert abs(x.std() - 3.0) < 0.05
    skew = np.mean(((x - x.mean()) / x.std()) ** 3)
    kurt = np.mean(((x - x.mean()) / x.std()) ** 4)
    assert abs(skew) < 0.05 and abs(kurt - 3.0) < 0.1


def test_uniform_moments_and_range():
    tf.random.set_seed(2)
    x = tf.random.uniform([40000], minval=-1.0, maxval=3.0).numpy()
    assert x.min() >= -1.0 and x.max() < 3.0
    assert abs(x.mean() - 1.0) < 0.03
    assert abs(x.var() - 16 / 12) < 0.03
    hist = np.histogram(x, bins=8, range=(-1, 3))[0] / x.size
    np.testing.assert_allclose(hist, 1 / 8, atol=0.01)
    i = tf.random.uniform([40000], 2, 7, dtype=tf.int32).numpy()
    assert set(np.unique(i).tolist()) == {2, 3, 4, 5, 6}


def test_categorical_frequencies():
    tf.random.set_seed(3)
    probs = np.array([[0.1, 0.2, 0.7], [0.6, 0.0, 0.4]])
    logits = np.log(np.maximum(probs, 1e-30))
    s = tf.random.categorical(logits, 20000).numpy()
    assert s.shape == (2, 20000)
    for row in range(2):
        freq = np.bincount(s[row], minlength=3) / 20000
        np.testing.assert_allclose(freq, probs[row], atol=0.015)
    assert not (s[1] == 1).any()


def test_shuffle_is_a_permutation():
    tf.random.set_seed(4)
    x = tf.reshape(tf.range(12), [6, 2])
    y = tf.random.shuffle(x).numpy()
    assert sorted(y[:, 0].tolist()) == [0, 2, 4, 6, 8, 10]
    np.testing.assert_array_equal(y[:, 1], y[:, 0] + 1)


def test_dropout_reproducible_with_seed():
    tf.random.set_seed(6)
    a = tf.nn.dropout(tf.ones([50]), 0.5).numpy()
    tf.random.set_seed(6)
    b = tf.nn.dropout(tf.ones([50]), 0.5).numpy()
    np.testing.assert_array_equal(a, b)
