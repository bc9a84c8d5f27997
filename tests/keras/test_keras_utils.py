"""keras.utils helpers: to_categorical, normalize, set_random_seed, SeedGenerator."""

from __future__ import annotations

import random

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras.utils.numerical_utils import normalize, to_categorical
from ndflow.keras.utils.rng_utils import SeedGenerator, set_random_seed


def test_to_categorical():
    out = to_categorical([0, 1, 2, 3], num_classes=4)
    np.testing.assert_array_equal(out, np.eye(4))
    assert out.dtype == np.float32
    assert to_categorical(np.array([[2], [0]])).shape == (2, 3)
    assert to_categorical(np.zeros((2, 3), int), num_classes=5).shape == (2, 3, 5)
    assert to_categorical([1.0, 0.0]).tolist() == [[0, 1], [1, 0]]
    t = to_categorical(tf.constant([1, 0]), num_classes=2)
    assert isinstance(t, tf.Tensor) and t.numpy().tolist() == [[0, 1], [1, 0]]
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="integer class ids"):
        to_categorical([0.5, 1.0])


def test_normalize():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x, order=1), [[3 / 7, 4 / 7], [0, 0]])
    np.testing.assert_allclose(normalize(tf.constant(x.astype("float32"))).numpy(),
                               [[0.6, 0.8], [0.0, 0.0]], rtol=1e-6)


def test_set_random_seed_seeds_python_numpy_and_ndflow():
    set_random_seed(123)
    a = (random.random(), np.random.rand(), tf.random.normal([3]).numpy())
    set_random_seed(123)
    b = (random.random(), np.random.rand(), tf.random.normal([3]).numpy())
    assert a[0] == b[0] and a[1] == b[1]
    np.testing.assert_array_equal(a[2], b[2])
    with pytest.raises(ValueError, match="integer seed"):
        set_random_seed(1.5)


def test_seeded_models_are_reproducible():
    from ndflow.keras import layers

    def run():
        set_random_seed(5)
        d = layers.Dense(3)
        drop = layers.Dropout(0.5)
        x = np.ones((4, 2), "float32")
        return d(x).numpy(), drop(np.ones((4, 6), "float32"), training=True).numpy()

    (w1, m1), (w2, m2) = run(), run()
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(m1, m2)


def test_seed_generator():
    g = SeedGenerator(1)
    a, b = g.next_rng().random(), g.next_rng().random()
    assert a != b
    h = SeedGenerator(1)
    assert h.next_rng().random() == a
    assert SeedGenerator.from_config(g.get_config()).seed == 1
    with pytest.raises(ValueError, match="seed"):
        SeedGenerator("x")
