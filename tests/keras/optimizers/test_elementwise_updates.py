"""Optimizer updates generated from their element-wise declarations (`ElementwiseUpdate`):
the compiled loop and the ufunc sequence give bitwise the values of a plain NumPy reference
written from Keras 3's update formulas (in the operation order of ndflow's previous hand-written
updates), over several steps, in float32 and float64."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ndflow as tf
from ndflow.backend import jit
from ndflow.keras import optimizers

LR = float(np.float32(0.01))  # the learning-rate variable is float32, as in Keras
SHAPE = (7, 5)


def _sgd(var, g, s, t, momentum=0.0, nesterov=False):
    if momentum == 0:
        return var - g * LR, s
    (m,) = s
    m = m * momentum - g * LR
    var = var - g * LR + m * momentum if nesterov else var + m
    return var, [m]


def _rmsprop(var, g, s, t, rho=0.9, momentum=0.0, centered=False, eps=1e-7):
    v = s[0] * rho + g * g * (1 - rho)
    if centered:
        a = s[-1] * rho + g * (1 - rho)
        inc = g / np.sqrt(v - a * a + eps) * LR
    else:
        inc = g / np.sqrt(v + eps) * LR
    out = [v]
    if momentum:
        inc = s[1] * momentum + inc
        out.append(inc)
    if centered:
        out.append(a)
    return var - inc, out


def _adam(var, g, s, t, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, weight_decay=None):
    if weight_decay:
        var = var * (1 - LR * weight_decay)
    m = s[0] + (g - s[0]) * (1 - b1)
    v = s[1] + (g * g - s[1]) * (1 - b2)
    alpha = LR * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    out = [m, v]
    if amsgrad:
        v = np.maximum(s[2], v)
        out.append(v)
    return var - m / (np.sqrt(v) + eps) * alpha, out


def _nadam(var, g, s, t, state, b1=0.9, b2=0.999, eps=1e-7):
    u_t = b1 * (1.0 - 0.5 * 0.96 ** t)
    u_t1 = b1 * (1.0 - 0.5 * 0.96 ** (t + 1))
    state["u_prod"] = state["u_prod"] * var.dtype.type(u_t)  # kept in the variables' dtype
    u_prod = float(state["u_prod"])
    m = s[0] + (g - s[0]) * (1 - b1)
    v = s[1] + (g * g - s[1]) * (1 - b2)
    m_hat = m * (u_t1 / (1 - u_prod * u_t1)) + g * ((1 - u_t) / (1 - u_prod))
    v_hat = v * (1 / (1 - b2 ** t))
    return var - m_hat / (np.sqrt(v_hat) + eps) * LR, [m, v]


def _adamax(var, g, s, t, b1=0.9, b2=0.999, eps=1e-7):
    m = s[0] + (g - s[0]) * (1 - b1)
    u = np.maximum(s[1] * b2, np.abs(g))
    return var - m / (u + eps) * (LR / (1 - b1 ** t)), [m, u]


def _adagrad(var, g, s, t, eps=1e-7):
    acc = s[0] + g * g
    return var - g / np.sqrt(acc + eps) * LR, [acc]


def _lion(var, g, s, t, b1=0.9, b2=0.99):
    var = var - np.sign(s[0] * b1 + g * (1 - b1)) * LR
    return var, [s[0] * b2 + g * (1 - b2)]


def _adadelta(var, g, s, t, rho=0.95, eps=1e-7):
    a = s[0] * rho + g * g * (1 - rho)
    neg_delta = np.sqrt(s[1] + eps) * g / np.sqrt(a + eps)
    u = s[1] * rho + neg_delta * neg_delta * (1 - rho)
    return var - neg_delta * LR, [a, u]


def _lamb(var, g, s, t, b1=0.9, b2=0.999, eps=1e-7):
    m = s[0] + (g - s[0]) * (1 - b1)
    v = s[1] + (g * g - s[1]) * (1 - b2)
    u = m / (np.sqrt(v / (1 - b2 ** t)) + eps) / (1 - b1 ** t)
    w_norm = math.sqrt(float(np.dot(var.ravel(), var.ravel())))
    u_norm = math.sqrt(float(np.dot(u.ravel(), u.ravel())))
    ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
    return var - u * (ratio * LR), [m, v]


def _schedule_free(var, g, s, t, b1=0.9, b2=0.999, eps=1e-8, warmup_steps=0):
    lr = LR * min(t / warmup_steps, 1.0) if warmup_steps else LR
    z, v = s
    v = v + (g * g - v) * (1 - b2)
    x = (var - z * (1 - b1)) / b1  # the average, recovered from y and the old z
    z = z - g / (np.sqrt(v / (1 - b2 ** t)) + eps) * lr
    x = x * (1 - 1 / t) + z * (1 / t)
    return x * b1 + z * (1 - b1), [z, v]


CASES = [
    ("SGD", {}, _sgd, 0), ("SGD", {"momentum": 0.9}, _sgd, 1),
    ("SGD", {"momentum": 0.9, "nesterov": True}, _sgd, 1),
    ("RMSprop", {}, _rmsprop, 1), ("RMSprop", {"momentum": 0.5}, _rmsprop, 2),
    ("RMSprop", {"centered": True}, _rmsprop, 2),
    ("RMSprop", {"centered": True, "momentum": 0.5}, _rmsprop, 3),
    ("Adam", {}, _adam, 2), ("Adam", {"amsgrad": True}, _adam, 3),
    ("AdamW", {"weight_decay": 0.01}, _adam, 2),
    ("AdamW", {"weight_decay": 0.01, "amsgrad": True}, _adam, 3),
    ("Nadam", {}, _nadam, 2), ("Adamax", {}, _adamax, 2), ("Adagrad", {}, _adagrad, 1),
    ("Lion", {}, _lion, 1), ("Adadelta", {}, _adadelta, 2), ("Lamb", {}, _lamb, 2),
    ("ScheduleFreeAdamW", {}, _schedule_free, 2),
    ("ScheduleFreeAdamW", {"warmup_steps": 3}, _schedule_free, 2),
]
JIT = [False] + ([True] if jit._load_numba() else [])


def _reference(fn, kwargs, var, grads, n_slots, dtype):
    slots = [np.full(SHAPE, 0.1 if fn is _adagrad else 0.0, dtype) for _ in range(n_slots)]
    if fn is _schedule_free:
        slots[0] = var.copy()  # z starts at the initial weights
    state = {"u_prod": np.ones((), dtype)}
    for t, g in enumerate(grads, start=1):
        with np.errstate(all="ignore"):
            if fn is _nadam:
                var, slots = fn(var, g, slots, t, state, **kwargs)
            else:
                var, slots = fn(var, g, slots, t, **kwargs)
    return var, slots


@pytest.mark.parametrize("on", JIT, ids=lambda on: "jit" if on else "numpy")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kwargs,fn,n_slots", CASES,
                         ids=[f"{c[0]}{''.join(f'-{k}' for k in c[1])}" for c in CASES])
def test_generated_update_equals_the_reference_bitwise(name, kwargs, fn, n_slots, dtype, on):
    rng = np.random.default_rng(3)
    var0 = rng.standard_normal(SHAPE).astype(dtype)
    grads = [rng.standard_normal(SHAPE).astype(dtype) for _ in range(5)]
    grads[2][0, 0] = 0.0  # a zero gradient: amsgrad's max, Lion's sign, Adamax's max
    grads[3][1, :2] = [1e-30, -1e-30]
    var = tf.Variable(var0.copy())
    opt = getattr(optimizers, name)(learning_rate=LR, **kwargs)
    with jit.switched(on):
        for g in grads:
            opt.apply_gradients([(tf.constant(g), var)])
    want_var, want_slots = _reference(fn, kwargs, var0, grads, n_slots, np.dtype(dtype))
    got_slots = [s.numpy() for s in opt._slots[0]]
    assert len(got_slots) == n_slots
    np.testing.assert_array_equal(var.numpy(), want_var)
    for got, want in zip(got_slots, want_slots):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(var.numpy(), var0)  # it moved


def test_the_compiled_loop_is_what_runs_when_jit_is_on():
    if not jit._load_numba():
        pytest.skip("numba not installed")
    from ndflow.keras.optimizers.adam import _ADAM

    var = tf.Variable(np.ones(SHAPE, np.float64))
    opt = optimizers.Adam()
    with jit.switched(True):
        opt.apply_gradients([(tf.constant(np.ones(SHAPE)), var)])
    k = _ADAM.kernel(np.float64)
    assert k._loop is not None  # compiled on first use, by this update
    assert k.n_scratch == 1  # the NumPy path needs a single scratch buffer


def test_non_contiguous_or_readonly_gradients_take_the_ufunc_path_and_agree():
    rng = np.random.default_rng(1)
    g = rng.standard_normal((5, 7)).astype(np.float32).T  # not C-contiguous
    results = []
    for on in JIT:
        var = tf.Variable(np.ones(SHAPE, np.float32))
        opt = optimizers.RMSprop(momentum=0.3)
        with jit.switched(on):
            opt.apply_gradients([(g, var)])
            opt.apply_gradients([(g, var)])
        results.append(var.numpy())
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_a_large_variable_updates_in_blocks_across_threads_bitwise():
    """A variable of >= parallel.ELEMENTWISE_SPLIT_SIZE elements is updated in blocks on the
    pool (inside a graph whose products split, or with threads set): same bits as one call."""
    if not jit._load_numba():
        pytest.skip("numba not installed")
    from ndflow.backend import parallel

    rng = np.random.default_rng(4)
    shape = (1000, 300)
    var0 = rng.standard_normal(shape).astype(np.float32)
    grads = [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]
    before = parallel.requested_threads()
    calls = []
    real = parallel.run_blocks
    results = []
    try:
        for n in (1, 3):
            parallel.set_threads(n)
            var = tf.Variable(var0.copy())
            opt = optimizers.Adam(learning_rate=LR)
            parallel.run_blocks = lambda fn, rows, mn: calls.append(rows) or real(fn, rows, mn)
            with jit.switched(True):
                for g in grads:
                    opt.apply_gradients([(tf.constant(g), var)])
            results.append(var.numpy())
    finally:
        parallel.run_blocks = real
        parallel.set_threads(before)
    assert calls == [var0.size] * len(grads)  # the three-thread run split each update
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.array_equal(results[0], var0)
