"""Optimizers vs PyTorch (where the update rules agree) and vs NumPy references of Keras 3's
published formulas (where PyTorch places epsilon differently)."""

import math
import warnings

import numpy as np
import pytest
import torch

import ndflow as tf
from ndflow.keras import optimizers
from ndflow.keras.optimizers import schedules

SHAPES = [(5, 4), (4,), (3,)]
STEPS = 6


def _data(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(STEPS)]
    return init, grads


def _run_ndflow(opt, init, grads):
    vs = [tf.Variable(a.copy()) for a in init]
    for gs in grads:
        opt.apply_gradients(zip([tf.constant(g) for g in gs], vs))
    return [v.numpy() for v in vs]


def _run_torch(make, init, grads):
    ps = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = make(ps)
    for gs in grads:
        for p, g in zip(ps, gs):
            p.grad = torch.tensor(g)
        opt.step()
    return [p.detach().numpy() for p in ps]


def F(x):
    """The learning rate as the float32 learning-rate variable holds it."""
    return float(np.float32(x))


def _close(a, b, rtol=1e-9, atol=1e-11):
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)


TORCH_CASES = [
    ("sgd", lambda: optimizers.SGD(0.1), lambda p: torch.optim.SGD(p, lr=F(0.1))),
    ("sgd_momentum", lambda: optimizers.SGD(0.1, momentum=0.9),
     lambda p: torch.optim.SGD(p, lr=F(0.1), momentum=0.9)),
    ("sgd_nesterov", lambda: optimizers.SGD(0.05, momentum=0.8, nesterov=True),
     lambda p: torch.optim.SGD(p, lr=F(0.05), momentum=0.8, nesterov=True)),
    ("sgd_wd", lambda: optimizers.SGD(0.1, weight_decay=0.01),
     lambda p: torch.optim.SGD(p, lr=F(0.1), weight_decay=0.01)),
    ("rmsprop", lambda: optimizers.RMSprop(0.01, epsilon=1e-30),
     lambda p: torch.optim.RMSprop(p, lr=F(0.01), alpha=0.9, eps=1e-30)),
    ("rmsprop_momentum", lambda: optimizers.RMSprop(0.01, momentum=0.5, epsilon=1e-30),
     lambda p: torch.optim.RMSprop(p, lr=F(0.01), alpha=0.9, momentum=0.5, eps=1e-30)),
    ("rmsprop_centered", lambda: optimizers.RMSprop(0.01, rho=0.8, centered=True,
                                                    epsilon=1e-30),
     lambda p: torch.optim.RMSprop(p, lr=F(0.01), alpha=0.8, centered=True, eps=1e-30)),
    ("adam", lambda: optimizers.Adam(0.01, epsilon=1e-30),
     lambda p: torch.optim.Adam(p, lr=F(0.01), eps=1e-30)),
    ("adam_amsgrad", lambda: optimizers.Adam(0.01, amsgrad=True, epsilon=1e-30),
     lambda p: torch.optim.Adam(p, lr=F(0.01), amsgrad=True, eps=1e-30)),
    ("adamw", lambda: optimizers.AdamW(0.01, weight_decay=0.1, epsilon=1e-30),
     lambda p: torch.optim.AdamW(p, lr=F(0.01), weight_decay=0.1, eps=1e-30)),
    ("adagrad", lambda: optimizers.Adagrad(0.1, initial_accumulator_value=0.2, epsilon=1e-30),
     lambda p: torch.optim.Adagrad(p, lr=F(0.1), initial_accumulator_value=0.2, eps=1e-30)),
    ("adadelta", lambda: optimizers.Adadelta(1.0, rho=0.9, epsilon=1e-6),
     lambda p: torch.optim.Adadelta(p, lr=F(1.0), rho=0.9, eps=1e-6)),
    ("adamax", lambda: optimizers.Adamax(0.01, epsilon=1e-30),
     lambda p: torch.optim.Adamax(p, lr=F(0.01), eps=1e-30)),
    ("nadam", lambda: optimizers.Nadam(0.01, epsilon=1e-30),
     lambda p: torch.optim.NAdam(p, lr=F(0.01), eps=1e-30, momentum_decay=1.0)),
]


@pytest.mark.parametrize("name,make,make_torch", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_matches_torch(name, make, make_torch):
    init, grads = _data()
    rtol = 1e-8 if name == "nadam" else 1e-9  # Nadam's bias terms cancel: a few ulps more
    _close(_run_ndflow(make(), init, grads), _run_torch(make_torch, init, grads), rtol=rtol)


# --- NumPy references of Keras 3's formulas (default epsilons) ---------------------------------


def ref_rmsprop(init, grads, lr=0.001, rho=0.9, mom=0.0, eps=1e-7, centered=False):
    lr = F(lr)
    out = []
    for i, x in enumerate(init):
        x = x.copy()
        v = np.zeros_like(x)
        m = np.zeros_like(x)
        a = np.zeros_like(x)
        for gs in grads:
            g = gs[i]
            v = rho * v + (1 - rho) * g * g
            if centered:
                a = rho * a + (1 - rho) * g
                den = v - a * a + eps
            else:
                den = v + eps
            inc = lr * g / np.sqrt(den)
            if mom:
                m = mom * m + inc
                x -= m
            else:
                x -= inc
        out.append(x)
    return out


def ref_adam(init, grads, lr=0.001, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=None):
    lr = F(lr)
    out = []
    for i, x in enumerate(init):
        x = x.copy()
        m = np.zeros_like(x)
        v = np.zeros_like(x)
        vh = np.zeros_like(x)
        for t, gs in enumerate(grads, 1):
            g = gs[i]
            if wd:
                x -= x * wd * lr
            alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            m += (g - m) * (1 - b1)
            v += (g * g - v) * (1 - b2)
            vv = v
            if amsgrad:
                vh = np.maximum(vh, v)
                vv = vh
            x -= m * alpha / (np.sqrt(vv) + eps)
        out.append(x)
    return out


def ref_adagrad(init, grads, lr=0.001, acc0=0.1, eps=1e-7):
    lr = F(lr)
    out = []
    for i, x in enumerate(init):
        x = x.copy()
        acc = np.full_like(x, acc0)
        for gs in grads:
            g = gs[i]
            acc += g * g
            x -= lr * g / np.sqrt(acc + eps)
        out.append(x)
    return out


def ref_adamax(init, grads, lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
    lr = F(lr)
    out = []
    for i, x in enumerate(init):
        x = x.copy()
        m = np.zeros_like(x)
        u = np.zeros_like(x)
        for t, gs in enumerate(grads, 1):
            g = gs[i]
            m += (g - m) * (1 - b1)
            u = np.maximum(b2 * u, np.abs(g))
            x -= lr * m / ((1 - b1 ** t) * (u + eps))
        out.append(x)
    return out


def ref_nadam(init, grads, lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
    lr = F(lr)
    out = []
    for i, x in enumerate(init):
        x = x.copy()
        m = np.zeros_like(x)
        v = np.zeros_like(x)
        up = 1.0
        for t, gs in enumerate(grads, 1):
            g = gs[i]
            u_t = b1 * (1 - 0.5 * 0.96 ** t)
            u_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
            up = up * u_t
            m += (g - m) * (1 - b1)
            v += (g * g - v) * (1 - b2)
            mh = u_t1 * m / (1 - up * u_t1) + (1 - u_t) * g / (1 - up)
            vh = v / (1 - b2 ** t)
            x -= lr * mh / (np.sqrt(vh) + eps)
        out.append(x)
    return out


def ref_lion(init, grads, lr=0.001, b1=0.9, b2=0.99):
    lr = F(lr)
    out = []
    for i, x in enumerate(init):
        x = x.copy()
        m = np.zeros_like(x)
        for gs in grads:
            g = gs[i]
            x -= lr * np.sign(m * b1 + g * (1 - b1))
            m = m * b2 + g * (1 - b2)
        out.append(x)
    return out


def ref_ftrl(init, grads, lr=0.001, power=-0.5, acc0=0.1, l1=0.0, l2=0.0, shrink=0.0, beta=0.0):
    lr = F(lr)
    out = []
    for i, x in enumerate(init):
        x = x.copy()
        acc = np.full_like(x, acc0)
        lin = np.zeros_like(x)
        for gs in grads:
            g = gs[i]
            l2r = l2 + beta / (2 * lr)
            gg = g + 2 * shrink * x
            na = acc + g * g
            lin += gg - (na ** -power - acc ** -power) / lr * x
            quad = na ** -power / lr + 2 * l2r
            x = (np.clip(lin, -l1, l1) - lin) / quad
            acc = na
        out.append(x)
    return out


def ref_sgd_clipped(init, grads, lr, clip):
    lr = F(lr)
    out = [x.copy() for x in init]
    for gs in grads:
        gs = clip(gs)
        for x, g in zip(out, gs):
            x -= lr * g
    return out


REF_CASES = [
    ("rmsprop", lambda: optimizers.RMSprop(), lambda i, g: ref_rmsprop(i, g)),
    ("rmsprop_all", lambda: optimizers.RMSprop(0.01, rho=0.8, momentum=0.3, centered=True),
     lambda i, g: ref_rmsprop(i, g, 0.01, 0.8, 0.3, centered=True)),
    ("adam", lambda: optimizers.Adam(), lambda i, g: ref_adam(i, g)),
    ("adam_amsgrad", lambda: optimizers.Adam(0.02, amsgrad=True),
     lambda i, g: ref_adam(i, g, 0.02, amsgrad=True)),
    ("adamw", lambda: optimizers.AdamW(0.01), lambda i, g: ref_adam(i, g, 0.01, wd=0.004)),
    ("adagrad", lambda: optimizers.Adagrad(), lambda i, g: ref_adagrad(i, g)),
    ("adamax", lambda: optimizers.Adamax(), lambda i, g: ref_adamax(i, g)),
    ("nadam", lambda: optimizers.Nadam(), lambda i, g: ref_nadam(i, g)),
    ("lion", lambda: optimizers.Lion(0.01, beta_1=0.8, beta_2=0.95),
     lambda i, g: ref_lion(i, g, 0.01, 0.8, 0.95)),
    ("ftrl", lambda: optimizers.Ftrl(0.1), lambda i, g: ref_ftrl(i, g, 0.1)),
    ("ftrl_reg", lambda: optimizers.Ftrl(0.1, learning_rate_power=-0.7,
                                         l1_regularization_strength=0.01,
                                         l2_regularization_strength=0.02,
                                         l2_shrinkage_regularization_strength=0.03, beta=0.5),
     lambda i, g: ref_ftrl(i, g, 0.1, -0.7, 0.1, 0.01, 0.02, 0.03, 0.5)),
    ("clipvalue", lambda: optimizers.SGD(0.1, clipvalue=0.5),
     lambda i, g: ref_sgd_clipped(i, g, 0.1, lambda gs: [np.clip(x, -0.5, 0.5) for x in gs])),
    ("clipnorm", lambda: optimizers.SGD(0.1, clipnorm=1.0),
     lambda i, g: ref_sgd_clipped(i, g, 0.1, lambda gs: [
         x * min(1.0, 1.0 / np.linalg.norm(x)) for x in gs])),
    ("global_clipnorm", lambda: optimizers.SGD(0.1, global_clipnorm=1.5),
     lambda i, g: ref_sgd_clipped(i, g, 0.1, lambda gs: [
         x * min(1.0, 1.5 / math.sqrt(sum(np.sum(y * y) for y in gs))) for x in gs])),
]


@pytest.mark.parametrize("name,make,ref", REF_CASES, ids=[c[0] for c in REF_CASES])
def test_matches_keras_formula(name, make, ref):
    init, grads = _data(1)
    _close(_run_ndflow(make(), init, grads), ref(init, grads))


@pytest.mark.parametrize("name,make,ref", REF_CASES[:8], ids=[c[0] for c in REF_CASES[:8]])
def test_float32_close_to_reference(name, make, ref):
    init, grads = _data(2, np.float32)
    got = _run_ndflow(make(), init, grads)
    want = ref([x.astype(np.float64) for x in init], [[g.astype(np.float64) for g in gs]
                                                       for gs in grads])
    for a, b in zip(got, want):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


# --- behaviour -------------------------------------------------------------------------------

ALL = ["SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion",
       "Ftrl"]


@pytest.mark.parametrize("cls", ALL)
def test_updates_in_place_and_iterations(cls):
    opt = getattr(optimizers, cls)()
    v = tf.Variable(np.ones((3, 2), np.float32))
    buf = v._value
    for _ in range(3):
        opt.apply_gradients([(tf.constant(np.full((3, 2), 0.5, np.float32)), v)])
    assert v._value is buf
    assert np.all(v.numpy() != 1.0)
    assert int(opt.iterations) == 3 and opt.iterations.dtype == tf.int64
    assert opt.iterations in opt.variables or any(x is opt.iterations for x in opt.variables)
    slots = [s._value for s in opt.variables[2:]]
    opt.apply([tf.constant(np.full((3, 2), 0.5, np.float32))], [v])
    assert all(a is b for a, b in zip(slots, [s._value for s in opt.variables[2:]]))


@pytest.mark.parametrize("cls", ALL)
def test_config_round_trip(cls):
    opt = getattr(optimizers, cls)(learning_rate=0.0123, clipnorm=2.0)
    config = opt.get_config()
    again = getattr(optimizers, cls).from_config(config)
    assert again.get_config() == config
    ser = optimizers.serialize(opt)
    assert ser["class_name"] == cls
    assert optimizers.deserialize(ser).get_config() == config
    assert math.isclose(config["learning_rate"], 0.0123, rel_tol=1e-6)


def test_config_with_schedule_round_trip():
    s = schedules.ExponentialDecay(0.1, 10, 0.5)
    opt = optimizers.Adam(learning_rate=s)
    config = opt.get_config()
    assert config["learning_rate"]["class_name"] == "ExponentialDecay"
    again = optimizers.Adam.from_config(config)
    assert isinstance(again._learning_rate, schedules.ExponentialDecay)
    assert again.get_config() == config


def test_get_identifiers():
    for name, cls in [("adam", "Adam"), ("rmsprop", "RMSprop"), ("sgd", "SGD"),
                      ("adamw", "AdamW"), ("nadam", "Nadam"), ("Adagrad", "Adagrad"),
                      ("lion", "Lion"), ("ftrl", "Ftrl"), ("adamax", "Adamax"),
                      ("adadelta", "Adadelta")]:
        assert type(optimizers.get(name)).__name__ == cls
    opt = optimizers.SGD()
    assert optimizers.get(opt) is opt
    d = optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.5, "momentum": 0.9}})
    assert d.momentum == 0.9 and math.isclose(float(d.learning_rate), 0.5)
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'.*adam"):
        optimizers.get("adamm")
    with pytest.raises(ValueError):
        optimizers.get(3)


def test_learning_rate_settable_and_schedule():
    opt = optimizers.SGD(learning_rate=0.1)
    v = tf.Variable([1.0])
    opt.learning_rate = 0.5
    opt.apply_gradients([(tf.constant([1.0]), v)])
    np.testing.assert_allclose(v.numpy(), [0.5])
    opt.learning_rate.assign(0.25)
    opt.apply_gradients([(tf.constant([1.0]), v)])
    np.testing.assert_allclose(v.numpy(), [0.25])
    s = schedules.PiecewiseConstantDecay([0], [1.0, 0.1])
    opt = optimizers.SGD(learning_rate=s)
    v = tf.Variable([1.0])
    opt.apply_gradients([(tf.constant([1.0]), v)])  # step 0 -> lr 1.0
    opt.apply_gradients([(tf.constant([1.0]), v)])  # step 1 -> lr 0.1
    np.testing.assert_allclose(v.numpy(), [-0.1], rtol=1e-6)
    assert math.isclose(float(opt.learning_rate), 0.1, rel_tol=1e-6)
    with pytest.raises(TypeError, match="schedule"):
        opt.learning_rate = 0.3


def test_none_gradient_skipped_with_warning():
    opt = optimizers.Adam(0.1)
    a, b = tf.Variable([1.0]), tf.Variable([2.0], name="frozen_b")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        opt.apply_gradients([(tf.constant([1.0]), a), (None, b)])
    assert any("frozen_b" in str(x.message) for x in w)
    assert float(b.numpy()[0]) == 2.0 and float(a.numpy()[0]) < 1.0


def test_bad_gradients():
    opt = optimizers.SGD()
    v = tf.Variable(np.zeros((2, 3), np.float32), name="kernel")
    with pytest.raises(ValueError, match=r"kernel.*shape \[2, 3\].*got shape \[3, 2\]"):
        opt.apply_gradients([(tf.constant(np.zeros((3, 2), np.float32)), v)])
    with pytest.raises(ValueError, match="kernel.*float32.*float64"):
        opt.apply_gradients([(tf.constant(np.zeros((2, 3), np.float64)), v)])
    with pytest.raises(ValueError, match="one gradient per variable"):
        opt.apply([tf.constant(np.zeros((2, 3), np.float32))], [v, v])


def test_bad_arguments():
    with pytest.raises(ValueError, match="only one of"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="lr"):
        optimizers.Adam(lr=0.1)
    with pytest.raises(ValueError, match="not recognized"):
        optimizers.Adam(foo=1)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        optimizers.Ftrl(initial_accumulator_value=-1.0)
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.SGD(learning_rate="fast")


def test_subnormal_state_is_flushed():
    # A dead unit: its gradient was non-zero once, then stays zero, so its RMSprop velocity
    # decays geometrically towards the subnormal range (slow on x86); it must be flushed to 0.
    opt = optimizers.RMSprop(0.001)
    v = tf.Variable(np.ones(4, np.float32))
    opt.apply_gradients([(tf.constant(np.array([1e-2, 1e-3, 3e-4, 1.0], np.float32)), v)])
    vel = opt.variables[-1]
    zero = tf.constant(np.zeros(4, np.float32))
    tiny = np.finfo(np.float32).tiny
    for _ in range(900):
        opt.apply_gradients([(zero, v)])
        a = np.abs(vel._value)
        assert np.all((a == 0) | (a >= tiny)), "subnormal optimizer state"
    assert np.all(vel._value[:3] == 0)
    ref = optimizers.RMSprop(0.001)
    w = tf.Variable(np.ones(4, np.float32))
    ref._flush_every = 0  # no flushing: the weights must come out the same
    ref.apply_gradients([(tf.constant(np.array([1e-2, 1e-3, 3e-4, 1.0], np.float32)), w)])
    for _ in range(900):
        ref.apply_gradients([(zero, w)])
    np.testing.assert_array_equal(v.numpy(), w.numpy())


def test_ema_accumulation_and_loss_scale():
    v = tf.Variable([1.0])
    opt = optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5)
    for _ in range(3):
        opt.apply_gradients([(tf.constant([1.0]), v)])
    # weights 0.9, 0.8, 0.7; EMA: 0.9 -> 0.85 -> 0.775
    np.testing.assert_allclose(v.numpy(), [0.7], rtol=1e-6)
    opt.finalize_variable_values([v])
    np.testing.assert_allclose(v.numpy(), [0.775], rtol=1e-6)

    v = tf.Variable([1.0])
    opt = optimizers.SGD(1.0, gradient_accumulation_steps=2)
    opt.apply_gradients([(tf.constant([1.0]), v)])
    np.testing.assert_allclose(v.numpy(), [1.0])
    opt.apply_gradients([(tf.constant([3.0]), v)])
    np.testing.assert_allclose(v.numpy(), [-1.0])  # mean gradient 2
    assert int(opt.iterations) == 2

    v = tf.Variable([1.0])
    opt = optimizers.SGD(1.0, loss_scale_factor=4.0)
    opt.apply_gradients([(tf.constant([2.0]), v)])
    np.testing.assert_allclose(v.numpy(), [0.5])
    assert float(opt.scale_loss(tf.constant(1.0))) == 4.0


def test_exclude_from_weight_decay_and_constraints():
    a = tf.Variable([1.0], name="kernel")
    b = tf.Variable([1.0], name="bias")
    opt = optimizers.AdamW(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    zero = tf.constant([0.0])
    opt.apply_gradients([(zero, a), (zero, b)])
    np.testing.assert_allclose(a.numpy(), [0.95], rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), [1.0])

    c = tf.Variable([1.0], constraint=lambda x: tf.clip_by_value(x, 0.0, 0.5))
    optimizers.SGD(0.1).apply_gradients([(tf.constant([1.0]), c)])
    np.testing.assert_allclose(c.numpy(), [0.5])


def test_new_variables_after_build():
    opt = optimizers.Adam(0.1)
    a, b = tf.Variable([1.0]), tf.Variable([2.0])
    opt.apply_gradients([(tf.constant([1.0]), a)])
    opt.apply_gradients([(tf.constant([1.0]), a), (tf.constant([1.0]), b)])
    assert float(b.numpy()[0]) < 2.0
    assert len(opt.variables) == 2 + 4


def test_custom_optimizer_update_step():
    class SignSGD(optimizers.Optimizer):
        def __init__(self, learning_rate=0.1, name="sign_sgd"):
            super().__init__(learning_rate=learning_rate, name=name)

        def build(self, variables):
            super().build(variables)
            self.counts = [self.add_variable_from_reference(v, "count") for v in variables]

        def update_step(self, gradient, variable, learning_rate):
            self.assign_sub(variable, tf.sign(gradient) * tf.cast(learning_rate, "float32"))
            i = self._trainable_variables.index(variable)
            self.assign_add(self.counts[i], tf.ones_like(gradient))

    v = tf.Variable([1.0, -1.0])
    opt = SignSGD()
    for _ in range(2):
        opt.apply_gradients([(tf.constant([3.0, -0.1]), v)])
    np.testing.assert_allclose(v.numpy(), [0.8, -0.8], rtol=1e-6)
    np.testing.assert_allclose(opt.counts[0].numpy(), [2.0, 2.0])


def test_gradient_tape_training_reduces_loss():
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((32, 3)).astype(np.float32))
    y = tf.matmul(x, tf.constant([[1.0], [-2.0], [0.5]]))
    w = tf.Variable(np.zeros((3, 1), np.float32))
    opt = optimizers.RMSprop(0.05)
    losses = []
    for _ in range(20):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
        opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]))
        losses.append(float(loss))
    assert losses[-1] < losses[0] * 0.9


def test_save_and_load_own_variables():
    init, grads = _data(3, np.float32)
    opt = optimizers.Adam(0.01)
    vs = [tf.Variable(a.copy()) for a in init]
    for gs in grads[:3]:
        opt.apply_gradients(zip([tf.constant(g) for g in gs], vs))
    store = {}
    opt.save_own_variables(store)
    assert len(store) == len(opt.variables) == 2 + 2 * len(vs)
    fresh = optimizers.Adam(0.01)
    ws = [tf.Variable(v.numpy()) for v in vs]
    fresh.build(ws)
    fresh.load_own_variables(store)
    for gs in grads[3:]:
        opt.apply_gradients(zip([tf.constant(g) for g in gs], vs))
        fresh.apply_gradients(zip([tf.constant(g) for g in gs], ws))
    for a, b in zip(vs, ws):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.warns(UserWarning, match="Skipping variable loading"):
        optimizers.Adam().load_own_variables(store)


def test_minimize_callable_and_tape():
    v = tf.Variable([3.0])
    opt = optimizers.SGD(0.25)
    opt.minimize(lambda: tf.reduce_sum(tf.square(v)), [v])  # grad 6 -> 3 - 1.5
    np.testing.assert_allclose(v.numpy(), [1.5])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(v))
    opt.minimize(loss, lambda: [v], tape=tape)
    np.testing.assert_allclose(v.numpy(), [0.75])
    with pytest.raises(ValueError, match="tape"):
        opt.minimize(loss, [v])
