"""Initializers: distributions (moments and bounds against the formulas), seeds, fans,
get/serialize round trips, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ndflow.keras import initializers as I
from ndflow.keras.utils.rng_utils import SeedGenerator, set_random_seed

SHAPE = (400, 300)
FAN_IN, FAN_OUT = 400.0, 300.0


def _std_for(scale, n):
    return math.sqrt(scale / n)


@pytest.mark.parametrize("cls,limit", [
    (I.GlorotUniform, math.sqrt(6 / (FAN_IN + FAN_OUT))),
    (I.HeUniform, math.sqrt(6 / FAN_IN)),
    (I.LecunUniform, math.sqrt(3 / FAN_IN)),
])
def test_uniform_variance_scaling(cls, limit):
    w = cls(seed=1)(SHAPE).numpy()
    assert w.dtype == np.float32 and w.shape == SHAPE
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit
    assert w.std() == pytest.approx(limit / math.sqrt(3), rel=0.02)
    assert abs(w.mean()) < 0.01 * limit


@pytest.mark.parametrize("cls,std", [
    (I.GlorotNormal, _std_for(2.0, FAN_IN + FAN_OUT)),
    (I.HeNormal, _std_for(2.0, FAN_IN)),
    (I.LecunNormal, _std_for(1.0, FAN_IN)),
])
def test_truncated_normal_variance_scaling(cls, std):
    w = cls(seed=2)(SHAPE).numpy()
    # the truncated samples keep variance scale / n (the stddev is corrected for truncation)
    assert w.std() == pytest.approx(std, rel=0.02)
    assert np.abs(w).max() <= 2 * std / 0.87962566103423978 + 1e-6


def test_variance_scaling_modes_and_distributions():
    for mode, n in (("fan_in", FAN_IN), ("fan_out", FAN_OUT), ("fan_avg", (FAN_IN + FAN_OUT) / 2)):
        w = I.VarianceScaling(3.0, mode, "untruncated_normal", seed=0)(SHAPE).numpy()
        assert w.std() == pytest.approx(math.sqrt(3.0 / n), rel=0.02)
    assert I.VarianceScaling(distribution="normal").distribution == "truncated_normal"
    with pytest.raises(ValueError, match="positive scale"):
        I.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match="mode"):
        I.VarianceScaling(mode="fan_sideways")
    with pytest.raises(ValueError, match="distribution"):
        I.VarianceScaling(distribution="cauchy")


def test_compute_fans_conv_kernel():
    assert I.compute_fans((3, 3, 16, 32)) == (144.0, 288.0)
    assert I.compute_fans((5,)) == (5.0, 5.0)
    assert I.compute_fans(()) == (1.0, 1.0)


def test_random_normal_uniform_truncated():
    w = I.RandomNormal(mean=1.0, stddev=2.0, seed=3)((200, 200)).numpy()
    assert w.mean() == pytest.approx(1.0, abs=0.03) and w.std() == pytest.approx(2.0, rel=0.02)
    u = I.RandomUniform(-1.0, 3.0, seed=3)((200, 200)).numpy()
    assert u.min() >= -1.0 and u.max() < 3.0 and u.mean() == pytest.approx(1.0, abs=0.03)
    t = I.TruncatedNormal(mean=0.0, stddev=1.0, seed=3)((200, 200)).numpy()
    assert np.abs(t).max() <= 2.0
    # std of a unit normal truncated to [-2, 2]
    assert t.std() == pytest.approx(0.87962566, rel=0.02)
    ints = I.RandomUniform(0, 5, seed=0)((100,), dtype="int32").numpy()
    assert ints.dtype == np.int32 and set(np.unique(ints)) <= set(range(5))
    assert I.RandomUniform()((3,), dtype="float64").numpy().dtype == np.float64


def test_constant_zeros_ones_identity_orthogonal():
    assert (I.Zeros()((2, 3)).numpy() == 0).all()
    assert (I.Ones()((2, 3)).numpy() == 1).all()
    assert (I.Constant(2.5)((2,)).numpy() == 2.5).all()
    np.testing.assert_array_equal(I.Constant([1.0, 2.0])((3, 2)).numpy(), [[1, 2]] * 3)
    np.testing.assert_array_equal(I.Identity(gain=2.0)((2, 3)).numpy(),
                                  [[2, 0, 0], [0, 2, 0]])
    for shape in ((6, 4), (4, 6), (3, 3, 2, 8)):
        q = I.Orthogonal(gain=1.5, seed=0)(shape).numpy().reshape(-1, shape[-1])
        if q.shape[0] >= q.shape[1]:
            np.testing.assert_allclose(q.T @ q, 2.25 * np.eye(q.shape[1]), atol=1e-5)
        else:
            np.testing.assert_allclose(q @ q.T, 2.25 * np.eye(q.shape[0]), atol=1e-5)
    with pytest.raises(ValueError, match="2D shape"):
        I.Identity()((2, 2, 2))
    with pytest.raises(ValueError, match="rank >= 2"):
        I.Orthogonal()((3,))
    with pytest.raises(ValueError, match="does not broadcast"):
        I.Constant([1.0, 2.0, 3.0])((2, 2))


def test_seed_semantics():
    # an int seed (or None) gives the same values on every call, as in Keras 3
    a = I.GlorotUniform(seed=7)
    np.testing.assert_array_equal(a((3, 3)).numpy(), a((3, 3)).numpy())
    np.testing.assert_array_equal(a((3, 3)).numpy(), I.GlorotUniform(seed=7)((3, 3)).numpy())
    assert not np.array_equal(a((3, 3)).numpy(), I.GlorotUniform(seed=8)((3, 3)).numpy())
    u = I.RandomNormal()
    np.testing.assert_array_equal(u((4,)).numpy(), u((4,)).numpy())
    # a SeedGenerator gives new values on each call, reproducibly
    g1, g2 = I.RandomNormal(seed=SeedGenerator(5)), I.RandomNormal(seed=SeedGenerator(5))
    x1, x2 = g1((4,)).numpy(), g1((4,)).numpy()
    assert not np.array_equal(x1, x2)
    np.testing.assert_array_equal(x1, g2((4,)).numpy())
    # set_random_seed makes unseeded initializers reproducible
    set_random_seed(11)
    v1 = I.HeNormal()((5,)).numpy()
    set_random_seed(11)
    np.testing.assert_array_equal(v1, I.HeNormal()((5,)).numpy())
    with pytest.raises(ValueError, match="seed"):
        I.RandomNormal(seed="abc")


ALL = ["zeros", "ones", "constant", "random_normal", "random_uniform", "truncated_normal",
       "variance_scaling", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
       "lecun_uniform", "lecun_normal", "orthogonal", "identity", "GlorotUniform", "Orthogonal",
       "OrthogonalInitializer", "IdentityInitializer", "uniform", "normal", "one", "zero"]


@pytest.mark.parametrize("name", ALL)
def test_get_and_serialize_round_trip(name):
    init = I.get(name)
    assert isinstance(init, I.Initializer)
    config = I.serialize(init)
    json.dumps(config)
    assert config["module"] == "keras.initializers"
    clone = I.deserialize(config)
    assert type(clone) is type(init) and clone.get_config() == init.get_config()
    w1, w2 = init((4, 4)).numpy(), I.deserialize(I.serialize(init))((4, 4)).numpy()
    assert w1.shape == w2.shape


def test_get_identifiers_and_errors():
    assert I.get(None) is None
    assert isinstance(I.get(I.HeNormal), I.HeNormal)
    fn = lambda shape, dtype=None: np.zeros(shape)  # noqa: E731
    assert I.get(fn) is fn
    assert I.get({"class_name": "Constant", "config": {"value": 4.0}})((1,)).numpy()[0] == 4.0
    cfg = I.serialize(I.VarianceScaling(2.0, "fan_out", "uniform", seed=3))
    assert cfg["config"] == {"seed": 3, "scale": 2.0, "mode": "fan_out",
                             "distribution": "uniform"}
    assert I.serialize(I.GlorotUniform(seed=4))["config"] == {"seed": 4}
    with pytest.raises(ValueError, match="unknown initializer 'glorot'"):
        I.get("glorot")
    with pytest.raises(ValueError, match="could not interpret"):
        I.get(3)


def test_initializer_dtype_default_follows_floatx():
    from ndflow.keras import config

    config.set_floatx("float64")
    try:
        assert I.GlorotUniform(seed=0)((2, 2)).numpy().dtype == np.float64
    finally:
        config.set_floatx("float32")
    with pytest.raises(ValueError, match="floating-point"):
        I.GlorotUniform()((2, 2), dtype="int32")
