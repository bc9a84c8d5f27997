"""Adafactor, Lamb, Muon, ScheduleFreeAdamW, LossScaleOptimizer, MultiOptimizer/OptimizerMap
and optimizer EMA against real Keras 3 (torch backend, in a subprocess): the same configs
applied to the same variables and gradients give the same variables, the same optimizer state
in the same order (so `.keras` files with optimizer state move both ways), and configs that
each library can read back. Plus config round trips, bad input and a training run."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import optimizers
from ndflow.keras.variables import KerasVariable

K = optimizers
SCRIPT = os.path.join(os.path.dirname(__file__), "keras_optimizer_script.py")
HAS_KERAS = importlib.util.find_spec("keras") is not None and \
    importlib.util.find_spec("torch") is not None

PATHS = ["dense/kernel", "dense/bias", "conv/kernel", "embedding/embeddings", "head/kernel",
         "scale"]
SHAPES = [(5, 4), (4,), (2, 3, 4), (6, 3), (3, 7), ()]


def _ser(opt):
    return K.serialize(opt)


def _cases():
    """name -> (optimizer, indices of the variables it trains, steps, scale of gradients)."""

    return {
        "adafactor": (K.Adafactor(learning_rate=0.05), [0, 1, 2, 5], 5, 1.0),
        "adafactor_abs": (K.Adafactor(learning_rate=0.02, relative_step=False,
                                      clip_threshold=0.5, weight_decay=0.1), [0, 1, 2], 4, 1.0),
        "lamb": (K.Lamb(learning_rate=0.01), [0, 1, 2, 5], 5, 1.0),
        "lamb_wd": (K.Lamb(learning_rate=0.01, beta_1=0.8, weight_decay=0.05,
                           clipnorm=1.0), [0, 1], 4, 1.0),
        "muon": (K.Muon(learning_rate=0.01), [0, 1, 2, 3, 4], 5, 1.0),
        "muon_plain": (K.Muon(learning_rate=0.02, nesterov=False, rms_rate=None,
                              exclude_layers=["head"], exclude_embeddings=False,
                              adam_lr_ratio=0.5, weight_decay=0.01, ns_steps=3),
                       [0, 3, 4], 4, 1.0),
        "sfadamw": (K.ScheduleFreeAdamW(learning_rate=0.01), [0, 1, 5], 5, 1.0),
        "sfadamw_warm": (K.ScheduleFreeAdamW(learning_rate=0.02, warmup_steps=3, beta_1=0.8,
                                             weight_decay=0.01), [0, 1], 5, 1.0),
        "lso": (K.LossScaleOptimizer(K.SGD(0.1, momentum=0.9), initial_scale=64.0,
                                     dynamic_growth_steps=2), [0, 1], 6, 64.0),
        "multi": (K.MultiOptimizer(K.OptimizerMap(K.SGD(0.1, momentum=0.5),
                                                  {"dense/.*": K.Adam(0.01),
                                                   "head/kernel": K.Lamb(0.01)})),
                  [0, 1, 3, 4], 4, 1.0),
        "adam_ema": (K.Adam(0.05, use_ema=True, ema_momentum=0.8, ema_overwrite_frequency=3),
                     [0, 1], 5, 1.0),
    }


def _data(cases):
    rng = np.random.default_rng(7)
    data = {"paths": np.array(json.dumps(PATHS))}
    for i, s in enumerate(SHAPES):
        data[f"init:{i}"] = rng.standard_normal(s).astype(np.float32)
    for name, (_, idx, steps, scale) in cases.items():
        for step in range(steps):
            for i in idx:
                g = (rng.standard_normal(SHAPES[i]) * scale).astype(np.float32)
                if name == "lso" and step == 2 and i == 1:
                    g = np.full_like(g, np.inf)  # an overflow: the step is skipped
                data[f"{name}:grad:{step}:{i}"] = g
    return data


def _run_ndflow(name, opt, idx, steps, data):
    variables = [KerasVariable(data[f"init:{i}"], name=PATHS[i].split("/")[-1], path=PATHS[i])
                 for i in idx]
    for step in range(steps):
        opt.apply([tf.constant(data[f"{name}:grad:{step}:{i}"]) for i in idx], variables)
    return [v.numpy() for v in variables], [v.numpy() for v in opt.variables]


@pytest.fixture(scope="module")
def keras_results(tmp_path_factory):
    if not HAS_KERAS:
        pytest.skip("needs the keras-interop extra (keras + torch==2.13.0)")
    cases = _cases()
    d = tmp_path_factory.mktemp("kopt")
    data = _data(cases)
    np.savez(d / "data.npz", **data)
    spec = {n: {"optimizer": _ser(c[0]), "variables": c[1], "steps": c[2],
                "snapshot_reads": n.startswith("sfadamw")} for n, c in cases.items()}
    (d / "cases.json").write_text(json.dumps(spec))
    _keras("steps", str(d / "cases.json"), str(d / "data.npz"), str(d / "out.npz"))
    return data, dict(np.load(d / "out.npz"))


def _keras(*args):
    env = dict(os.environ, KERAS_BACKEND="torch", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, SCRIPT, *args], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"keras subprocess failed:\n{proc.stdout}\n{proc.stderr}"


# ScheduleFreeAdamW reads the momentum before updating it; Keras's torch backend returns the
# live tensor there (updated in place by the next assign), unlike its JAX/TF backends and the
# paper, so the Keras side runs with snapshot reads (keras_optimizer_script._snapshot_reads).
# float32 on both sides; Muon's Newton-Schulz matmuls and the reductions sum in different
# orders (torch's BLAS vs NumPy's), which is what the tolerance covers
TOL = {"muon": 2e-5, "muon_plain": 2e-5}


@pytest.mark.parametrize("name", list(_cases()))
def test_matches_keras(keras_results, name):
    data, ref = keras_results
    opt, idx, steps, _ = _cases()[name]
    vs, state = _run_ndflow(name, opt, idx, steps, data)
    tol = TOL.get(name, 2e-6)
    for k, v in zip(idx, vs):
        np.testing.assert_allclose(v, ref[f"{name}:var:{k}"], rtol=tol, atol=tol,
                                   err_msg=f"{name}: variable {PATHS[k]}")
    n_ref = len([k for k in ref if k.startswith(f"{name}:opt:")])
    assert len(state) == n_ref, f"{name}: {len(state)} optimizer variables, Keras has {n_ref}"
    for j, s in enumerate(state):
        r = ref[f"{name}:opt:{j}"]
        assert s.shape == r.shape, f"{name}: optimizer variable {j}"
        np.testing.assert_allclose(s.astype(np.float64), r.astype(np.float64), rtol=tol,
                                   atol=tol, err_msg=f"{name}: optimizer variable {j}")
    # Keras's config reads back in ndflow and gives the same config
    kcfg = json.loads(str(ref[f"{name}:config"]))
    again = K.deserialize(kcfg)
    assert _norm(again.get_config()) == _norm(opt.get_config())


def _file_specs():
    return {
        "adafactor": K.Adafactor(0.05), "lamb": K.Lamb(0.01), "muon": K.Muon(0.01),
        "sfadamw": K.ScheduleFreeAdamW(0.01, warmup_steps=2),
        "lso": K.LossScaleOptimizer(K.Adam(0.01), initial_scale=16.0, dynamic_growth_steps=2),
        "multi": K.MultiOptimizer(K.OptimizerMap(K.SGD(0.1, momentum=0.5),
                                                 {"d1/.*": K.Adam(0.01)})),
        "adam_ema": K.Adam(0.01, use_ema=True),
    }


@pytest.mark.skipif(not HAS_KERAS, reason="needs the keras-interop extra (keras + torch)")
def test_keras_files_with_optimizer_state_move_both_ways(tmp_path):
    specs = _file_specs()
    (tmp_path / "files.json").write_text(json.dumps({n: _ser(o) for n, o in specs.items()}))
    _keras("save", str(tmp_path))
    saved = dict(np.load(tmp_path / "keras_saved.npz"))
    rng = np.random.default_rng(3)
    x = rng.standard_normal((12, 3)).astype("float32")
    y = rng.standard_normal((12, 2)).astype("float32")
    mine = {}
    for name in specs:
        # Keras -> ndflow: the state Keras had is the state ndflow loads
        model = keras.saving.load_model(str(tmp_path / f"keras_{name}.keras"))
        opt = model.optimizer
        assert type(opt).__name__ == type(specs[name]).__name__
        state = [v.numpy() for v in opt.variables]
        assert len(state) == len([k for k in saved if k.startswith(f"{name}:opt:")]), name
        for j, s in enumerate(state):
            np.testing.assert_allclose(s, saved[f"{name}:opt:{j}"], rtol=1e-6,
                                       err_msg=f"{name} optimizer variable {j}")
        # ndflow -> Keras: train on in ndflow, save, Keras loads the same state
        model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
        model.save(str(tmp_path / f"ndflow_{name}.keras"))
        mine[name] = [v.numpy() for v in opt.variables]
    _keras("load", str(tmp_path))
    loaded = dict(np.load(tmp_path / "keras_loaded.npz"))
    for name, state in mine.items():
        assert str(loaded[f"{name}:class"]) == type(specs[name]).__name__
        assert len(state) == len([k for k in loaded if k.startswith(f"{name}:opt:")]), name
        for j, s in enumerate(state):
            np.testing.assert_allclose(loaded[f"{name}:opt:{j}"], s, rtol=1e-6,
                                       err_msg=f"{name} optimizer variable {j}")


def _norm(cfg):
    """Configs compared with floats rounded to float32 and nested optimizers' names dropped
    (Keras numbers optimizer names it creates: adam_1)."""
    if isinstance(cfg, dict):
        return {k: _norm(v) for k, v in cfg.items() if k not in ("module", "registered_name")}
    if isinstance(cfg, list):
        return [_norm(v) for v in cfg]
    if isinstance(cfg, float):
        return float(np.float32(cfg))
    return cfg


def test_adafactor_nan_spreads_like_keras():
    # Keras 3.15 (torch) gives NaN everywhere for this gradient (zero row and zero column)
    v = tf.Variable(np.ones((3, 2), np.float32))
    K.Adafactor().apply([tf.constant([[0.0, 0.0], [0.0, 1.0], [0.0, 2.0]])], [v])
    assert np.isnan(v.numpy()).all()


def test_config_round_trip_and_defaults():

    for cls in (K.Adafactor, K.Lamb, K.Muon, K.ScheduleFreeAdamW):
        opt = cls()
        again = K.deserialize(K.serialize(opt))
        assert type(again) is cls and again.get_config() == opt.get_config()
    assert K.Adafactor().name == "adafactor" and K.Lamb().name == "lamb"
    assert K.ScheduleFreeAdamW().name == "schedule_free_adam_w"
    assert math.isclose(float(K.ScheduleFreeAdamW().learning_rate.numpy()), 0.0025, rel_tol=1e-6)
    m = K.Muon().get_config()
    assert (m["weight_decay"], m["adam_weight_decay"], m["momentum"], m["ns_steps"]) == \
        (0.004, 0.004, 0.95, 5)
    lso = K.LossScaleOptimizer(K.Adam(0.01))
    again = K.deserialize(K.serialize(lso))
    assert isinstance(again.inner_optimizer, K.Adam)
    assert again.get_config()["initial_scale"] == 2.0 ** 15
    multi = K.MultiOptimizer(K.OptimizerMap(K.SGD(), {"enc/.*": K.Adam()}))
    again = K.deserialize(K.serialize(multi))
    assert [type(o).__name__ for o in again.optimizers] == ["Adam", "SGD"]


def test_bad_arguments():

    with pytest.raises(ValueError, match="LossScaleOptimizer.*clipnorm.*inner_optimizer"):
        K.LossScaleOptimizer(K.SGD(), clipnorm=1.0)
    with pytest.raises(TypeError, match="LossScaleOptimizer.*inner_optimizer"):
        K.LossScaleOptimizer("sgd")
    with pytest.raises(ValueError, match="dynamic=False"):
        K.LossScaleOptimizer(K.SGD(), dynamic=False)
    omap = K.OptimizerMap(K.SGD(), {"a/.*": K.Adam()})
    with pytest.raises(ValueError, match="already mapped"):
        omap["a/.*"] = K.Adam()
    with pytest.raises(ValueError, match="LossScaleOptimizer cannot"):
        omap["b"] = K.LossScaleOptimizer(K.SGD())
    omap["a/b.*"] = K.SGD(0.5)
    with pytest.raises(ValueError, match="several keys"):
        _ = omap["a/bc"]
    multi = K.MultiOptimizer(omap)
    with pytest.raises(AttributeError, match="sub-optimizers"):
        _ = multi.learning_rate
    with pytest.raises(ValueError, match="exclude_layers"):
        K.Muon(exclude_layers="dense")


def test_loss_scale_optimizer_scales_the_loss_in_fit_and_trains():
    # fit scales the loss, the optimizer unscales the gradients: the same weights as the inner
    # optimizer alone (powers of two scale exactly), and the scale grows after finite steps
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], np.float32)).astype("float32")
    weights = []
    for opt in (K.SGD(0.1), K.LossScaleOptimizer(
            K.SGD(0.1), initial_scale=1024.0, dynamic_growth_steps=3)):
        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        model.compile(optimizer=opt, loss="mse")
        hist = model.fit(x, y, batch_size=32, epochs=15, verbose=0, shuffle=False)
        assert hist.history["loss"][-1] < 0.2 * hist.history["loss"][0]
        weights.append(model.get_weights())
    np.testing.assert_allclose(weights[1][0], weights[0][0], rtol=1e-5)
    assert float(opt.dynamic_scale.numpy()) == 1024.0 * 2 ** (15 * 4 // 3)
    # a fixed loss_scale_factor on a plain optimizer goes the same way
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=K.SGD(0.1, loss_scale_factor=256.0), loss="mse")
    model.fit(x, y, batch_size=32, epochs=15, verbose=0, shuffle=False)
    np.testing.assert_allclose(model.get_weights()[0], weights[0][0], rtol=1e-5)


@pytest.mark.parametrize("make", [
    lambda: K.Adafactor(0.1), lambda: K.Lamb(0.01),
    lambda: K.Muon(0.02, weight_decay=0.0, adam_weight_decay=0.0),
    lambda: K.ScheduleFreeAdamW(0.02),
    lambda: K.MultiOptimizer(K.OptimizerMap(
        K.Adam(0.02), {"h/.*": K.Muon(0.02)})),
], ids=["adafactor", "lamb", "muon", "sfadamw", "multi"])
def test_training_on_digits(make):
    (x_tr, y_tr), (x_te, y_te) = keras.datasets.digits.load_data()
    x_tr = x_tr.reshape(len(x_tr), -1).astype("float32") / 16.0
    x_te = x_te.reshape(len(x_te), -1).astype("float32") / 16.0
    # blank pixels and dead ReLU units make a kernel gradient with a zero row and a zero
    # column, where Adafactor's factored second moment underflows to 0 and gives NaN (as in
    # Keras): drop the always-blank pixels and use tanh
    keep = x_tr.std(axis=0) > 0
    x_tr, x_te = x_tr[:, keep], x_te[:, keep]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((x_tr.shape[1],)),
                              keras.layers.Dense(32, activation="tanh", name="h"),
                              keras.layers.Dense(10, name="out")])
    model.compile(optimizer=make(), loss=keras.losses.SparseCategoricalCrossentropy(
        from_logits=True), metrics=["accuracy"])
    model.fit(x_tr, y_tr, batch_size=32, epochs=8, verbose=0)
    acc = model.evaluate(x_te, y_te, verbose=0)[1]
    assert acc > 0.85, acc


@pytest.mark.parametrize("wrap", ["loss_scale", "multi"])
def test_swap_ema_weights_through_wrappers(wrap):
    # SwapEMAWeights finds the averages inside LossScaleOptimizer and MultiOptimizer; at the
    # end of fit (swap_on_epoch) the model holds the moving averages
    rng = np.random.default_rng(2)
    x = rng.standard_normal((32, 3)).astype("float32")
    y = rng.standard_normal((32, 2)).astype("float32")
    inp = keras.Input((3,))
    model = keras.Model(inp, keras.layers.Dense(2, name="d2")(
        keras.layers.Dense(4, name="d1")(inp)))
    if wrap == "loss_scale":
        inner = [K.SGD(0.05, use_ema=True, ema_momentum=0.5)]
        opt = K.LossScaleOptimizer(inner[0], initial_scale=8.0)
    else:
        inner = [K.Adam(0.01, use_ema=True, ema_momentum=0.5),
                 K.SGD(0.05, use_ema=True, ema_momentum=0.5)]
        opt = K.MultiOptimizer(K.OptimizerMap(inner[1], {"d1/.*": inner[0]}))
    model.compile(optimizer=opt, loss="mse")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False,
              callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True)])
    for v in model.trainable_variables:
        owner = [o for o in inner if id(v) in o._index]
        assert len(owner) == 1
        avg = owner[0]._ema[owner[0]._index[id(v)]]
        np.testing.assert_array_equal(v.numpy(), avg.numpy())


def test_mixed_float16_compile_wraps_in_a_loss_scale_optimizer():
    # Keras 3: compile(auto_scale_loss=True) wraps the optimizer for a mixed_float16 model
    def model():
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                                 keras.layers.Dense(1)], dtype="mixed_float16")

    m = model()
    m.compile(optimizer=K.SGD(0.05), loss="mse")
    assert isinstance(m.optimizer, K.LossScaleOptimizer)
    assert isinstance(m.optimizer.inner_optimizer, K.SGD)
    x = np.random.default_rng(0).standard_normal((64, 4)).astype("float32")
    hist = m.fit(x, x.sum(axis=1, keepdims=True), epochs=10, verbose=0)
    assert hist.history["loss"][-1] < 0.2 * hist.history["loss"][0]
    m = model()
    m.compile(optimizer=K.SGD(0.05), loss="mse", auto_scale_loss=False)
    assert isinstance(m.optimizer, K.SGD)
