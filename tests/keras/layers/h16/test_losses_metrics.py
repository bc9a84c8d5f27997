"""Circle and CategoricalGeneralizedCrossEntropy (gradients by finite differences and by
formula, masking, serialization, training on the bundled digits), and the correlation metrics
(NumPy formulas, compile/fit, serialization). Keras's values: test_keras_interop.py."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import losses, metrics

rng = np.random.default_rng(3)


def _unit(n: int, d: int) -> np.ndarray:
    e = rng.standard_normal((n, d))
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def test_circle_gradient_matches_finite_differences():
    emb = _unit(6, 4)
    lab = np.array([0, 0, 1, 1, 2, 2])
    loss = losses.Circle(gamma=4.0, margin=0.3, dtype="float64")
    x = tf.Variable(emb)
    with tf.GradientTape() as tape:
        val = loss(lab, x)
    g = tape.gradient(val, x).numpy()
    eps = 1e-6
    num = np.zeros_like(emb)
    for i in np.ndindex(*emb.shape):
        up, dn = emb.copy(), emb.copy()
        up[i] += eps
        dn[i] -= eps
        num[i] = (float(loss(lab, up)) - float(loss(lab, dn))) / (2 * eps)
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-7)


def test_circle_masks_zero_rows_and_handles_lonely_labels():
    emb = _unit(5, 3).astype("float32")
    lab = np.array([0, 0, 1, 1, 9])  # label 9 has no positive partner: its loss is 0
    per = losses.circle(lab, emb, gamma=6.0).numpy()
    assert per[4] == 0.0 and np.all(per[:4] > 0)
    mean = float(losses.Circle(gamma=6.0)(lab, emb))
    assert mean == pytest.approx(per[:4].mean(), rel=1e-5)  # the zero row is masked out
    x = tf.Variable(emb)
    with tf.GradientTape() as tape:
        val = losses.Circle(gamma=6.0)(lab, x)
    assert np.all(np.isfinite(tape.gradient(val, x).numpy()))
    with pytest.raises(ValueError, match="circle"):
        losses.circle(lab, emb[None])


def test_generalized_cross_entropy_values_and_gradient():
    p = rng.random((5, 3)) + 0.1
    p /= p.sum(1, keepdims=True)
    y = np.array([0, 2, 1, 1, 0])
    q = 0.7
    pt = p[np.arange(5), y]
    got = losses.categorical_generalized_cross_entropy(y, p, q=q).numpy()
    np.testing.assert_allclose(got, (1 - pt ** q) / q, rtol=1e-12)
    np.testing.assert_allclose(
        losses.categorical_generalized_cross_entropy(y[:, None], p, q=q).numpy(), got)
    x = tf.Variable(p)
    with tf.GradientTape() as tape:
        val = losses.CategoricalGeneralizedCrossEntropy(q=q, reduction="sum",
                                                        dtype="float64")(y, x)
    want = np.zeros_like(p)
    want[np.arange(5), y] = -pt ** (q - 1)
    np.testing.assert_allclose(tape.gradient(val, x).numpy(), want, rtol=1e-10)
    with pytest.raises(ValueError, match="q must be"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.0)


def test_losses_serialize_and_resolve_by_name():
    for obj in (losses.Circle(gamma=3.0, remove_diagonal=False),
                losses.CategoricalGeneralizedCrossEntropy(q=0.2, reduction="sum")):
        back = losses.deserialize(losses.serialize(obj))
        assert type(back) is type(obj) and back.get_config() == obj.get_config()
    assert losses.get("circle") is losses.circle
    assert isinstance(losses.get("Circle"), losses.Circle)
    assert losses.get("categorical_generalized_cross_entropy") is \
        losses.categorical_generalized_cross_entropy
    # a Keras-written config (no dtype key) loads
    cfg = {"module": "keras.losses", "class_name": "CategoricalGeneralizedCrossEntropy",
           "config": {"name": "gce", "reduction": "sum_over_batch_size", "q": 0.4},
           "registered_name": None}
    assert losses.deserialize(cfg).q == 0.4


def test_circle_loss_learns_a_digits_embedding():
    """A linear embedding trained with Circle loss on the bundled digits separates the
    classes: nearest class-centroid accuracy on held-out digits >= 0.9."""
    (x, y), (xt, yt) = keras.datasets.digits.load_data()
    x = x.reshape(len(x), -1).astype("float32") / 255.0
    xt = xt.reshape(len(xt), -1).astype("float32") / 255.0
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32),
                              keras.layers.UnitNormalization()])
    model.compile(keras.optimizers.Adam(3e-3), loss=losses.Circle(gamma=16.0))
    hist = model.fit(x, y, batch_size=128, epochs=8, verbose=0, shuffle=True)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    e, et = model.predict(x, verbose=0), model.predict(xt, verbose=0)
    cent = np.stack([e[y == c].mean(0) for c in range(10)])
    acc = float(np.mean(np.argmax(et @ cent.T, axis=1) == yt))
    assert acc >= 0.9, acc


def test_correlation_metrics_match_numpy_and_work_in_fit():
    yt = rng.standard_normal((6, 9))
    yp = 0.5 * yt + rng.standard_normal((6, 9))
    want_p = np.array([np.corrcoef(a, b)[0, 1] for a, b in zip(yt, yp)])
    np.testing.assert_allclose(metrics.pearson_correlation(yt, yp).numpy(), want_p,
                               rtol=1e-10)
    mt, mp = yt.mean(1, keepdims=True), yp.mean(1, keepdims=True)
    want_c = np.mean(2 * (yt - mp) * (yp - mp) / (yt.var(1, keepdims=True)
                                                  + yp.var(1, keepdims=True)
                                                  + (mt - mp) ** 2 + 1e-7), axis=1)
    np.testing.assert_allclose(metrics.concordance_correlation(yt, yp).numpy(), want_c,
                               rtol=1e-10)
    m = metrics.PearsonCorrelation()
    m.update_state(yt[:3], yp[:3])
    m.update_state(yt[3:], yp[3:])
    assert float(m.result()) == pytest.approx(want_p.mean(), rel=1e-6)
    m.reset_state()
    assert float(m.result()) == 0.0
    for cls in (metrics.PearsonCorrelation, metrics.ConcordanceCorrelation):
        obj = cls(axis=0, name="c")
        back = metrics.deserialize(metrics.serialize(obj))
        assert type(back) is cls and back.get_config() == obj.get_config()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
    model.compile("sgd", "mse", metrics=[metrics.PearsonCorrelation(),
                                         metrics.ConcordanceCorrelation()])
    x = rng.standard_normal((32, 3)).astype("float32")
    target = x @ rng.standard_normal((3, 4)).astype("float32")
    hist = model.fit(x, target, epochs=2, verbose=0)
    assert set(hist.history) >= {"loss", "pearson_correlation", "concordance_correlation"}
    assert np.isfinite(hist.history["pearson_correlation"]).all()
