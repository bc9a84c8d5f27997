"""`keras.random`: seeds (int, SeedGenerator, global), statistics of every sampler, and draws
inside a layer of a compiled `fit`."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import random as kr

N = 20000


def test_int_seed_repeats_and_generator_advances_reproducibly():
    a = kr.normal((5,), seed=3).numpy()
    np.testing.assert_array_equal(a, kr.normal((5,), seed=3).numpy())
    assert not np.array_equal(a, kr.normal((5,), seed=4).numpy())
    g, h = kr.SeedGenerator(11), kr.SeedGenerator(11)
    first = [kr.uniform((4,), seed=g).numpy() for _ in range(3)]
    second = [kr.uniform((4,), seed=h).numpy() for _ in range(3)]
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(first[0], first[1])
    st = g.state.numpy().tolist()
    assert st == [11, 3]
    assert g.next().numpy().tolist() == [11, 3] and g.state.numpy().tolist() == [11, 4]
    assert kr.SeedGenerator.from_config(g.get_config()).seed == 11


def test_global_seed_makes_unseeded_draws_reproducible():
    keras.utils.set_random_seed(5)
    a = kr.normal((6,)).numpy()
    keras.utils.set_random_seed(5)
    np.testing.assert_array_equal(a, kr.normal((6,)).numpy())


@pytest.mark.parametrize("name,fn,mean,var", [
    ("normal", lambda s: kr.normal((N,), 1.5, 2.0, seed=s), 1.5, 4.0),
    ("uniform", lambda s: kr.uniform((N,), -1.0, 3.0, seed=s), 1.0, 16.0 / 12.0),
    ("truncated_normal", lambda s: kr.truncated_normal((N,), 0.0, 1.0, seed=s), 0.0, 0.7737),
    ("randint", lambda s: kr.randint((N,), 2, 7, seed=s), 4.0, 2.0),
    ("gamma", lambda s: kr.gamma((N,), 2.5, seed=s), 2.5, 2.5),
    ("beta", lambda s: kr.beta((N,), 2.0, 3.0, seed=s), 0.4, 6.0 / (25 * 6)),
    ("binomial", lambda s: kr.binomial((N,), 10, 0.3, seed=s), 3.0, 2.1),
])
def test_sampler_statistics(name, fn, mean, var):
    x = fn(kr.SeedGenerator(1)).numpy().astype(np.float64)
    assert x.shape == (N,)
    se = np.sqrt(var / N)
    assert abs(x.mean() - mean) < 5 * se, (name, x.mean())
    assert abs(x.var() - var) < 0.06 * var, (name, x.var())


def test_dtypes_and_ranges():
    assert kr.normal((2,)).dtype == tf.float32
    assert kr.normal((2,), dtype="float64").dtype == tf.float64
    assert kr.randint((2,), 0, 4).dtype == tf.int32
    u = kr.uniform((1000,), 2.0, 3.0, seed=1).numpy()
    assert u.min() >= 2.0 and u.max() < 3.0
    t = kr.truncated_normal((5000,), 1.0, 0.5, seed=2).numpy()
    assert np.abs(t - 1.0).max() <= 1.0 + 1e-6
    with pytest.raises(ValueError, match="floating-point"):
        kr.normal((2,), dtype="int32")
    with pytest.raises(ValueError, match="seed"):
        kr.normal((2,), seed="abc")


def test_categorical_follows_the_softmax():
    logits = np.log(np.array([[0.2, 0.5, 0.3], [0.9, 0.05, 0.05]], np.float32))
    s = kr.categorical(logits, 20000, seed=kr.SeedGenerator(4)).numpy()
    assert s.shape == (2, 20000) and s.dtype == np.int32
    for row, p in zip(s, np.exp(logits)):
        freq = np.bincount(row, minlength=3) / row.size
        np.testing.assert_allclose(freq, p, atol=0.015)


def test_dropout_and_shuffle():
    x = np.ones((200, 100), np.float32)
    y = kr.dropout(x, 0.3, seed=1).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    y2 = kr.dropout(x, 0.5, noise_shape=(None, 1), seed=2).numpy()
    assert all(len(set(row.tolist())) == 1 for row in y2)  # one decision per row
    z = np.arange(24).reshape(4, 6)
    sh = kr.shuffle(z, axis=1, seed=3).numpy()
    assert sorted(sh[0].tolist()) == z[0].tolist() and not np.array_equal(sh, z)
    np.testing.assert_array_equal(sh, z[:, sh[0]])  # one permutation of the columns


class _Noisy(keras.layers.Layer):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.seed_generator = kr.SeedGenerator(7)

    def call(self, x, training=None):
        if training:
            return x + kr.normal(tuple(x.shape[1:]), stddev=0.1, seed=self.seed_generator)
        return x


def test_generator_in_a_traced_function_draws_anew_each_call():
    g = kr.SeedGenerator(9)
    f = tf.function(lambda x: x + kr.uniform((3,), seed=g))
    z = tf.zeros((3,))
    a, b = f(z).numpy(), f(z).numpy()
    assert not np.array_equal(a, b)
    h = kr.SeedGenerator(9)
    np.testing.assert_array_equal(a, kr.uniform((3,), seed=h).numpy())
    np.testing.assert_array_equal(b, kr.uniform((3,), seed=h).numpy())


def test_seed_generator_in_a_layer_trains_in_compiled_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], np.float32))[:, None]
    model = keras.Sequential([keras.Input((4,)), _Noisy(), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.05), "mse")
    gen = model.layers[0].seed_generator
    before = gen._counter
    hist = model.fit(x, y, epochs=30, batch_size=64, verbose=0)
    assert gen._counter - before == 30 * 4  # one draw per compiled step
    assert hist.history["loss"][-1] < 0.2 * hist.history["loss"][0]


def test_docstring_examples():
    failures, _ = doctest.testmod(kr, optionflags=doctest.ELLIPSIS)
    assert failures == 0


def test_random_ops_on_keras_inputs_refuse_clearly():
    x = keras.Input((4,))
    for call in (lambda: kr.dropout(x, 0.5), lambda: kr.shuffle(x),
                 lambda: kr.categorical(x, 2)):
        with pytest.raises(ValueError, match="symbolic Keras tensor"):
            call()
