"""Losses vs PyTorch and NumPy references (Keras 3 formulas), reductions, sample weights,
gradients vs finite differences, configs and bad-label errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ndflow as tf
from ndflow.keras import losses

EPS = 1e-7
rng = np.random.default_rng(0)
B, C = 6, 4
Y_REG = rng.standard_normal((B, C)).astype(np.float32)
P_REG = rng.standard_normal((B, C)).astype(np.float32)
Y_POS = rng.uniform(0.1, 2.0, (B, C)).astype(np.float32)
P_POS = rng.uniform(0.1, 2.0, (B, C)).astype(np.float32)
LOGITS = rng.standard_normal((B, C)).astype(np.float32) * 2
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)
IDS = rng.integers(0, C, B)
ONEHOT = np.eye(C, dtype=np.float32)[IDS]
Y_BIN = rng.integers(0, 2, (B, C)).astype(np.float32)
SIG = 1 / (1 + np.exp(-LOGITS))
SW = rng.uniform(0.0, 2.0, B).astype(np.float32)


def _np(x):
    return np.asarray(x, np.float64)


def ref_bce(y, p):
    p = np.clip(_np(p), EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(-1)


def ref_cce(y, p):
    p = _np(p) / _np(p).sum(-1, keepdims=True)
    return -(y * np.log(np.clip(p, EPS, 1 - EPS))).sum(-1)


def ref_logcosh(y, p):
    return np.log(np.cosh(_np(p) - y)).mean(-1)


def ref_hinge_labels(y):
    return 2 * y - 1 if np.isin(y, [0, 1]).all() else y


def ref_cos(y, p):
    a = _np(y) / np.linalg.norm(y, axis=-1, keepdims=True)
    b = _np(p) / np.linalg.norm(p, axis=-1, keepdims=True)
    return -(a * b).sum(-1)


def ref_bfocal(y, p, gamma=2.0, alpha=0.25, balance=False):
    bce = -(y * np.log(np.clip(p, EPS, 1 - EPS)) + (1 - y) * np.log(np.clip(1 - p, EPS, 1)))
    pt = y * p + (1 - y) * (1 - p)
    out = (1 - pt) ** gamma * bce
    if balance:
        out = (y * alpha + (1 - y) * (1 - alpha)) * out
    return out.mean(-1)


def ref_cfocal(y, p, gamma=2.0, alpha=0.25):
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return (alpha * (1 - p) ** gamma * -y * np.log(p)).sum(-1)


def ref_tversky(y, p, a=0.5, b=0.5):
    tp = (y * p).sum()
    fp = ((1 - y) * p).sum()
    fn = (y * (1 - p)).sum()
    return 1 - tp / (tp + a * fp + b * fn + EPS)


def t_(x):
    return torch.tensor(_np(x))


# name, loss object, y_true, y_pred, per-sample reference
CASES = [
    ("mse", losses.MeanSquaredError(), Y_REG, P_REG,
     F.mse_loss(t_(P_REG), t_(Y_REG), reduction="none").mean(-1).numpy()),
    ("mae", losses.MeanAbsoluteError(), Y_REG, P_REG,
     F.l1_loss(t_(P_REG), t_(Y_REG), reduction="none").mean(-1).numpy()),
    ("mape", losses.MeanAbsolutePercentageError(), Y_REG, P_REG,
     100 * np.abs((_np(Y_REG) - P_REG) / np.maximum(np.abs(Y_REG), EPS)).mean(-1)),
    ("msle", losses.MeanSquaredLogarithmicError(), Y_POS, P_POS,
     ((np.log1p(_np(P_POS)) - np.log1p(_np(Y_POS))) ** 2).mean(-1)),
    ("cosine", losses.CosineSimilarity(), Y_REG, P_REG,
     -F.cosine_similarity(t_(Y_REG), t_(P_REG), dim=-1).numpy()),
    ("huber", losses.Huber(delta=0.7), Y_REG, P_REG,
     F.huber_loss(t_(P_REG), t_(Y_REG), delta=0.7, reduction="none").mean(-1).numpy()),
    ("log_cosh", losses.LogCosh(), Y_REG, P_REG, ref_logcosh(_np(Y_REG), P_REG)),
    ("hinge", losses.Hinge(), Y_BIN, P_REG,
     np.maximum(1 - ref_hinge_labels(_np(Y_BIN)) * P_REG, 0).mean(-1)),
    ("squared_hinge", losses.SquaredHinge(), Y_BIN, P_REG,
     (np.maximum(1 - ref_hinge_labels(_np(Y_BIN)) * P_REG, 0) ** 2).mean(-1)),
    ("categorical_hinge", losses.CategoricalHinge(), ONEHOT, P_REG,
     np.maximum(((1 - ONEHOT) * _np(P_REG)).max(-1) - (ONEHOT * _np(P_REG)).sum(-1) + 1, 0)),
    ("kld", losses.KLDivergence(), PROBS[::-1].copy(), PROBS,
     F.kl_div(torch.log(t_(PROBS)), t_(PROBS[::-1].copy()), reduction="none").sum(-1).numpy()),
    ("poisson", losses.Poisson(), Y_POS, P_POS,
     F.poisson_nll_loss(t_(P_POS), t_(Y_POS), log_input=False, eps=EPS,
                        reduction="none").mean(-1).numpy()),
    ("bce", losses.BinaryCrossentropy(), Y_BIN, SIG, ref_bce(Y_BIN, SIG)),
    ("bce_torch", losses.BinaryCrossentropy(), Y_BIN, SIG,
     F.binary_cross_entropy(t_(SIG), t_(Y_BIN), reduction="none").mean(-1).numpy()),
    ("bce_logits", losses.BinaryCrossentropy(from_logits=True), Y_BIN, LOGITS,
     F.binary_cross_entropy_with_logits(t_(LOGITS), t_(Y_BIN),
                                        reduction="none").mean(-1).numpy()),
    ("bce_smooth", losses.BinaryCrossentropy(label_smoothing=0.2), Y_BIN, SIG,
     ref_bce(Y_BIN * 0.8 + 0.1, SIG)),
    ("bfocal", losses.BinaryFocalCrossentropy(gamma=1.5), Y_BIN, SIG,
     ref_bfocal(Y_BIN, _np(SIG), 1.5)),
    ("bfocal_logits_balanced", losses.BinaryFocalCrossentropy(
        apply_class_balancing=True, alpha=0.3, from_logits=True), Y_BIN, LOGITS,
     ref_bfocal(Y_BIN, 1 / (1 + np.exp(-_np(LOGITS))), 2.0, 0.3, True)),
    ("cce", losses.CategoricalCrossentropy(), ONEHOT, PROBS, ref_cce(ONEHOT, PROBS)),
    ("cce_logits", losses.CategoricalCrossentropy(from_logits=True), ONEHOT, LOGITS,
     F.cross_entropy(t_(LOGITS), t_(ONEHOT), reduction="none").numpy()),
    ("cce_logits_smooth", losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
     ONEHOT, LOGITS,
     F.cross_entropy(t_(LOGITS), torch.tensor(IDS), label_smoothing=0.1,
                     reduction="none").numpy()),
    ("cfocal", losses.CategoricalFocalCrossentropy(gamma=1.0, alpha=0.5), ONEHOT, PROBS,
     ref_cfocal(ONEHOT, _np(PROBS), 1.0, 0.5)),
    ("scce", losses.SparseCategoricalCrossentropy(), IDS, PROBS, ref_cce(ONEHOT, PROBS)),
    ("scce_col", losses.SparseCategoricalCrossentropy(), IDS[:, None], PROBS,
     ref_cce(ONEHOT, PROBS)),
    ("scce_logits", losses.SparseCategoricalCrossentropy(from_logits=True), IDS, LOGITS,
     F.cross_entropy(t_(LOGITS), torch.tensor(IDS), reduction="none").numpy()),
    ("tversky", losses.Tversky(alpha=0.3, beta=0.7), Y_BIN, SIG,
     ref_tversky(_np(Y_BIN), _np(SIG), 0.3, 0.7)),
    ("dice", losses.Dice(), Y_BIN, SIG, ref_tversky(_np(Y_BIN), _np(SIG))),
]


@pytest.mark.parametrize("name,loss,y,p,ref", CASES, ids=[c[0] for c in CASES])
def test_values_and_reductions(name, loss, y, p, ref):
    ref = np.asarray(ref, np.float64)
    got = loss(y, p)
    assert got.dtype == tf.float32 and got.shape == ()
    np.testing.assert_allclose(float(got), ref.mean(), rtol=2e-5, atol=1e-6)
    if ref.ndim == 0:
        return
    cfg = loss.get_config()
    none = type(loss).from_config({**cfg, "reduction": "none"})(y, p)
    np.testing.assert_allclose(none.numpy(), ref, rtol=2e-5, atol=1e-6)
    s = type(loss).from_config({**cfg, "reduction": "sum"})(y, p)
    np.testing.assert_allclose(float(s), ref.sum(), rtol=2e-5, atol=1e-5)
    w = loss(y, p, sample_weight=SW)
    np.testing.assert_allclose(float(w), (ref * SW).sum() / B, rtol=2e-5, atol=1e-6)
    mw = type(loss).from_config({**cfg, "reduction": "mean_with_sample_weight"})
    np.testing.assert_allclose(float(mw(y, p, sample_weight=SW)), (ref * SW).sum() / SW.sum(),
                               rtol=2e-5, atol=1e-6)


FUNCS = [
    (losses.mean_squared_error, "mse"), (losses.mean_absolute_error, "mae"),
    (losses.mean_absolute_percentage_error, "mape"),
    (losses.mean_squared_logarithmic_error, "msle"), (losses.kl_divergence, "kld"),
    (losses.binary_crossentropy, "binary_crossentropy"),
    (losses.categorical_crossentropy, "categorical_crossentropy"),
    (losses.sparse_categorical_crossentropy, "sparse_categorical_crossentropy"),
    (losses.huber, "huber"), (losses.log_cosh, "logcosh"), (losses.hinge, "hinge"),
    (losses.poisson, "poisson"), (losses.cosine_similarity, "cosine_similarity"),
    (losses.categorical_hinge, "categorical_hinge"), (losses.squared_hinge, "squared_hinge"),
]


@pytest.mark.parametrize("fn,alias", FUNCS, ids=[a for _, a in FUNCS])
def test_function_forms_and_aliases(fn, alias):
    assert losses.get(alias) is fn
    y, p = (IDS, PROBS) if "sparse" in alias else (Y_BIN, SIG)
    out = fn(y, p)
    assert tuple(out.shape) == (B,)
    assert losses.get(losses.serialize(fn)) is fn


def test_weighted_3d_and_mask_reduction():
    y = rng.standard_normal((2, 3, 4)).astype(np.float32)
    p = rng.standard_normal((2, 3, 4)).astype(np.float32)
    per = ((y.astype(np.float64) - p) ** 2).mean(-1)  # (2, 3)
    sw = np.array([1.0, 3.0], np.float32)
    got = losses.MeanSquaredError()(y, p, sample_weight=sw)
    np.testing.assert_allclose(float(got), (per * sw[:, None]).sum() / per.size, rtol=1e-5)


def test_ignore_class():
    ids = np.array([0, 1, 2, 1, 3, 0])
    loss = losses.SparseCategoricalCrossentropy(ignore_class=1)
    per = ref_cce(np.eye(C)[ids], PROBS)
    keep = ids != 1
    np.testing.assert_allclose(float(loss(ids, PROBS)), per[keep].mean(), rtol=1e-4)


def test_keras_logits_are_used():
    class Probs(tf.Tensor):
        __slots__ = ("_keras_logits",)

    big = np.array([[30.0, -30.0, 0.0]], np.float32)
    probs = Probs(tf.nn.softmax(tf.constant(big))._value)
    probs._keras_logits = tf.constant(big)
    got = float(losses.sparse_categorical_crossentropy(np.array([1]), probs)[0])
    assert got == pytest.approx(60.0, rel=1e-4)  # exact; clipped probabilities give ~16.1


def _fd_grad(f, x, h=1e-3):
    g = np.zeros_like(x, np.float64)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (f(xp) - f(xm)) / (2 * h)
    return g


GRAD_CASES = [
    ("cce_logits", losses.CategoricalCrossentropy(from_logits=True), ONEHOT, LOGITS),
    ("scce_probs", losses.SparseCategoricalCrossentropy(), IDS, PROBS),
    ("bce_probs", losses.BinaryCrossentropy(label_smoothing=0.1), Y_BIN, SIG),
    ("huber", losses.Huber(), Y_REG, P_REG),
    ("cfocal", losses.CategoricalFocalCrossentropy(), ONEHOT, PROBS),
    ("log_cosh", losses.LogCosh(), Y_REG, P_REG),
]


@pytest.mark.parametrize("name,loss,y,p", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradient_vs_finite_differences(name, loss, y, p):
    p64 = p.astype(np.float64)
    v = tf.Variable(p64)
    with tf.GradientTape() as tape:
        out = type(loss).from_config({**loss.get_config(), "dtype": "float64"})(y, v,
                                                                                sample_weight=SW)
    g = tape.gradient(out, v).numpy()
    lf = type(loss).from_config({**loss.get_config(), "dtype": "float64"})
    fd = _fd_grad(lambda x: float(lf(y, x, sample_weight=SW)), p64, 1e-5)
    np.testing.assert_allclose(g, fd, rtol=1e-4, atol=1e-7)


ALL_CLASSES = [losses.MeanSquaredError, losses.MeanAbsoluteError,
               losses.MeanAbsolutePercentageError, losses.MeanSquaredLogarithmicError,
               losses.CosineSimilarity, losses.Huber, losses.LogCosh, losses.Tversky,
               losses.Dice, losses.BinaryCrossentropy, losses.BinaryFocalCrossentropy,
               losses.CategoricalCrossentropy, losses.CategoricalFocalCrossentropy,
               losses.SparseCategoricalCrossentropy, losses.KLDivergence, losses.Poisson,
               losses.Hinge, losses.SquaredHinge, losses.CategoricalHinge]


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_config_round_trip(cls):
    obj = cls(reduction="sum", name="my_loss")
    cfg = obj.get_config()
    assert cfg["name"] == "my_loss" and cfg["reduction"] == "sum"
    again = cls.from_config(cfg)
    assert again.get_config() == cfg
    d = losses.deserialize(losses.serialize(obj))
    assert type(d) is cls and d.get_config() == cfg
    assert type(losses.get(cls.__name__)) is cls


def test_class_arguments_in_config():
    c = losses.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=3.0).get_config()
    assert c["apply_class_balancing"] is True and c["gamma"] == 3.0
    assert losses.CategoricalCrossentropy(True, 0.1).get_config()["label_smoothing"] == 0.1
    assert losses.Huber().name == "huber_loss"


def test_default_names():
    assert losses.MeanSquaredError().name == "mean_squared_error"
    assert losses.SparseCategoricalCrossentropy().name == "sparse_categorical_crossentropy"
    assert losses.KLDivergence().name == "kl_divergence"


def test_subclassing_loss():
    class Scaled(losses.Loss):
        def __init__(self, k=2.0, **kw):
            super().__init__(**kw)
            self.k = k

        def call(self, y_true, y_pred):
            return tf.reduce_mean(tf.square(y_true - y_pred), axis=-1) * self.k

    got = Scaled(name="scaled")(Y_REG, P_REG)
    ref = ((Y_REG.astype(np.float64) - P_REG) ** 2).mean() * 2
    np.testing.assert_allclose(float(got), ref, rtol=1e-5)


def test_bad_labels_errors():
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy.*\[6\].*one-hot"):
        losses.SparseCategoricalCrossentropy()(ONEHOT, PROBS)
    with pytest.raises(ValueError, match=r"categorical_crossentropy.*integer class ids"):
        losses.CategoricalCrossentropy()(IDS, PROBS)
    with pytest.raises(ValueError, match=r"labels in \[0, 4\).*got a label of 7"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 1, 2, 3, 7, 0]), PROBS)
    with pytest.raises(ValueError, match="binary_crossentropy.*same shape"):
        losses.BinaryCrossentropy()(Y_BIN[:, :2], SIG)
    with pytest.raises(ValueError, match="mean_squared_error.*shape"):
        losses.MeanSquaredError()(np.zeros((6, 3), np.float32), P_REG)
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="unknown loss 'msee'"):
        losses.get("msee")
    with pytest.raises(TypeError, match="unexpected argument"):
        losses.Huber(deltaa=1.0)


def test_keras_mask_on_predictions():
    from ndflow.keras.layers.layer import set_keras_mask

    y = rng.standard_normal((2, 3, 4)).astype(np.float32)
    p = tf.constant(rng.standard_normal((2, 3, 4)).astype(np.float32))
    mask = np.array([[True, True, False], [True, False, False]])
    set_keras_mask(p, tf.constant(mask))
    per = ((y.astype(np.float64) - p.numpy()) ** 2).mean(-1)
    got = losses.MeanSquaredError()(y, p)
    np.testing.assert_allclose(float(got), per[mask].mean(), rtol=1e-5)
    got = losses.MeanSquaredError(reduction="sum")(y, p)
    np.testing.assert_allclose(float(got), per[mask].sum(), rtol=1e-5)


def test_positional_arguments_follow_keras_order():
    assert losses.MeanSquaredError("sum", "m").get_config()["name"] == "m"
    assert losses.MeanSquaredError("sum").reduction == "sum"
    c = losses.BinaryCrossentropy(True, 0.1, -1, "none").get_config()
    assert c["from_logits"] and c["label_smoothing"] == 0.1 and c["reduction"] == "none"
    with pytest.raises(TypeError, match="multiple values"):
        losses.Huber(2.0, delta=1.0)


@pytest.mark.parametrize("loss,true_shape,true_dtype", [
    (losses.SparseCategoricalCrossentropy(), (None,), "int64"),
    (losses.CategoricalCrossentropy(from_logits=True), (None, C), "float32"),
    (losses.BinaryCrossentropy(), (None, C), "float32"),
    (losses.Hinge(), (None, C), "float32"),
    (losses.MeanSquaredError(), (None, C), "float32"),
], ids=lambda x: type(x).__name__ if isinstance(x, losses.Loss) else None)
def test_symbolic_inputs_give_a_scalar(loss, true_shape, true_dtype):
    from ndflow.core.tensor import SymbolicTensor

    out = loss(SymbolicTensor(true_shape, true_dtype), SymbolicTensor((None, C), "float32"))
    assert tuple(out.shape) == () and out.dtype == tf.float32


def test_hinge_keeps_signed_labels():
    y = np.where(Y_BIN > 0, 1.0, -1.0).astype(np.float32)
    want = np.maximum(1 - y * _np(P_REG), 0).mean()
    np.testing.assert_allclose(float(losses.Hinge()(y, P_REG)), want, rtol=1e-5)


def _torch_ctc(z, y, reduction="none"):
    zt = torch.tensor(_np(z), requires_grad=True)
    lens = torch.tensor((y != 0).sum(-1))
    out = F.ctc_loss(zt.log_softmax(-1).transpose(0, 1), torch.tensor(y),
                     torch.full((z.shape[0],), z.shape[1]), lens, blank=0, reduction=reduction)
    return out, zt


def test_ctc_vs_torch_values_and_gradient():
    z = rng.standard_normal((4, 9, 6)).astype(np.float32)
    y = np.array([[1, 2, 2, 0], [3, 0, 0, 0], [5, 1, 3, 4], [2, 2, 2, 2]])
    ref, zt = _torch_ctc(z, y)
    got = losses.CTC(reduction=None)(y, z)
    np.testing.assert_allclose(got.numpy(), ref.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(float(losses.CTC()(y, z)), ref.detach().numpy().mean(),
                               rtol=1e-5)
    ref.sum().backward()
    v = tf.Variable(z.astype(np.float64))
    with tf.GradientTape() as tape:
        out = tf.reduce_sum(losses.ctc(y, v))
    np.testing.assert_allclose(tape.gradient(out, v).numpy(), zt.grad.numpy(), atol=1e-6)


def test_ctc_infeasible_and_errors():
    z = np.zeros((1, 2, 3), np.float32)
    assert np.isinf(losses.ctc(np.array([[1, 1]]), z).numpy()[0])  # needs 3 frames
    with pytest.raises(ValueError, match=r"ctc.*\(batch_size, max_length\)"):
        losses.ctc(np.array([1, 2]), z)
    with pytest.raises(ValueError, match=r"ctc.*labels in \[0, 3\)"):
        losses.ctc(np.array([[4]]), z)
    cfg = losses.CTC(name="c").get_config()
    assert losses.CTC.from_config(cfg).get_config() == cfg


def test_signatures_match_keras():
    import inspect

    def params(cls):
        return list(inspect.signature(cls).parameters)

    assert params(losses.Tversky) == ["alpha", "beta", "reduction", "name", "axis", "dtype"]
    assert params(losses.Dice) == ["reduction", "name", "axis", "dtype"]
    assert params(losses.SparseCategoricalCrossentropy) == [
        "from_logits", "ignore_class", "reduction", "name", "dtype"]
    assert params(losses.BinaryFocalCrossentropy)[:6] == [
        "apply_class_balancing", "alpha", "gamma", "from_logits", "label_smoothing", "axis"]
