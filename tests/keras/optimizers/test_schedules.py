"""Learning-rate schedules vs their closed forms, and serialization."""

import math

import pytest

from ndflow.keras.optimizers import schedules


def _v(s, step):
    return float(s(step))


def test_exponential_decay():
    s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.9)
    for k in (0, 3, 10, 25):
        assert math.isclose(_v(s, k), 0.1 * 0.9 ** (k / 10), rel_tol=1e-6)
    s = schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True)
    assert math.isclose(_v(s, 19), 0.1 * 0.9, rel_tol=1e-6)


def test_piecewise_constant():
    s = schedules.PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])
    assert [_v(s, k) for k in (0, 100, 101, 200, 201)] == pytest.approx(
        [1.0, 1.0, 0.5, 0.5, 0.1])
    with pytest.raises(ValueError, match="len\\(values\\)"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0])


def test_polynomial_decay():
    s = schedules.PolynomialDecay(1.0, 10, end_learning_rate=0.1, power=2.0)
    for k in (0, 4, 10, 15):
        p = min(k, 10) / 10
        assert math.isclose(_v(s, k), 0.9 * (1 - p) ** 2 + 0.1, rel_tol=1e-6)
    s = schedules.PolynomialDecay(1.0, 10, end_learning_rate=0.0, cycle=True)
    assert math.isclose(_v(s, 15), 1.0 * (1 - 15 / 20), rel_tol=1e-6)


def test_inverse_time_decay():
    s = schedules.InverseTimeDecay(0.5, 5, 2.0)
    assert math.isclose(_v(s, 7), 0.5 / (1 + 2.0 * 7 / 5), rel_tol=1e-6)
    s = schedules.InverseTimeDecay(0.5, 5, 2.0, staircase=True)
    assert math.isclose(_v(s, 7), 0.5 / (1 + 2.0 * 1), rel_tol=1e-6)


def test_cosine_decay_with_warmup():
    s = schedules.CosineDecay(1.0, 100, alpha=0.1)
    for k in (0, 30, 100, 150):
        f = min(k, 100) / 100
        want = 0.9 * 0.5 * (1 + math.cos(math.pi * f)) + 0.1
        assert math.isclose(_v(s, k), want, rel_tol=1e-6)
    s = schedules.CosineDecay(0.0, 100, warmup_target=1.0, warmup_steps=10)
    assert math.isclose(_v(s, 5), 0.5, rel_tol=1e-6)
    assert math.isclose(_v(s, 10), 1.0, rel_tol=1e-6)
    assert math.isclose(_v(s, 60), 0.5 * (1 + math.cos(math.pi * 0.5)), abs_tol=1e-6)
    assert math.isclose(_v(s, 500), 0.0, abs_tol=1e-6)


def test_cosine_decay_restarts():
    s = schedules.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5)
    assert math.isclose(_v(s, 0), 1.0, rel_tol=1e-6)
    assert math.isclose(_v(s, 5), 0.5, rel_tol=1e-6)
    # second period has length 20 and peak 0.5
    assert math.isclose(_v(s, 10), 0.5, rel_tol=1e-6)
    assert math.isclose(_v(s, 20), 0.5 * 0.5 * (1 + math.cos(math.pi * 0.5)), rel_tol=1e-6)
    s = schedules.CosineDecayRestarts(1.0, 10, t_mul=1.0)
    assert math.isclose(_v(s, 13), 0.5 * (1 + math.cos(math.pi * 0.3)), rel_tol=1e-6)


ALL = [
    schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True),
    schedules.PiecewiseConstantDecay([1, 2], [0.3, 0.2, 0.1]),
    schedules.PolynomialDecay(0.1, 10, 0.01, 2.0, True),
    schedules.InverseTimeDecay(0.1, 10, 0.5),
    schedules.CosineDecay(0.1, 10, 0.1, warmup_target=0.2, warmup_steps=3),
    schedules.CosineDecayRestarts(0.1, 10, 1.5, 0.9, 0.05),
]


@pytest.mark.parametrize("s", ALL, ids=lambda s: type(s).__name__)
def test_round_trip(s):
    again = type(s).from_config(s.get_config())
    assert again.get_config() == s.get_config()
    d = schedules.deserialize(schedules.serialize(s))
    assert type(d) is type(s)
    for k in (0, 4, 13):
        assert _v(d, k) == _v(s, k)


def test_bad_arguments():
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.9)
    with pytest.raises(ValueError, match="unknown schedule"):
        schedules.deserialize({"class_name": "Nope", "config": {}})
