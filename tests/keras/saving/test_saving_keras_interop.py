"""Files move between ndflow and real Keras 3 (torch backend) in both directions.

Needs the `keras-interop` extra (keras + torch==2.13.0); skipped cleanly without `keras`.
Keras runs in a subprocess (KERAS_BACKEND=torch) so the two libraries never share a process.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from ndflow import keras

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("keras") is None or
                       importlib.util.find_spec("torch") is None,
                       reason="needs the keras-interop extra (keras + torch==2.13.0)"),
]

SCRIPT = os.path.join(os.path.dirname(__file__), "keras_interop_script.py")
L = keras.layers


def _has(*names: str) -> bool:
    return all(hasattr(L, n) for n in names)


def _model_names() -> list:
    names = ["seq_dense_bn", "seq_embedding", "func_multi_io", "func_nested"]
    if _has("Conv2D", "MaxPooling2D", "AveragePooling2D"):
        names.append("seq_conv")
    if _has("Conv2D", "MaxPooling2D", "GlobalAveragePooling2D"):
        names.append("func_conv")
    return names


def _run_keras(mode: str, folder: str, names: list) -> None:
    env = dict(os.environ, KERAS_BACKEND="torch", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, SCRIPT, mode, folder, *names], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"keras subprocess failed:\n{proc.stdout}\n{proc.stderr}"


def _ndflow_model(name: str) -> tuple:
    rng = np.random.default_rng(0)
    if name == "seq_dense_bn":
        m = keras.Sequential([keras.Input((6,)), L.Dense(8, activation="relu"),
                              L.BatchNormalization(), L.Dropout(0.3),
                              L.Dense(3, activation="softmax")])
        x = rng.random((32, 6), dtype=np.float32)
        y = np.eye(3, dtype="float32")[rng.integers(0, 3, 32)]
        return m, x, y, "categorical_crossentropy"
    if name == "seq_embedding":
        m = keras.Sequential([keras.Input((7,), dtype="int32"), L.Embedding(20, 4),
                              L.Flatten(), L.Dense(2)])
        x = rng.integers(0, 20, (32, 7)).astype("int32")
        return m, x, rng.random((32, 2), dtype=np.float32), "mse"
    if name == "func_multi_io":
        a = keras.Input((5,), name="a")
        b = keras.Input((3,), name="b")
        ha = L.Dense(6, activation="tanh")(a)
        hb = L.Dense(6, activation="relu")(b)
        h = L.Concatenate()([ha, hb])
        h = L.BatchNormalization()(h)
        h = L.Dropout(0.2)(h)
        o1 = L.Dense(2, name="o1")(h)
        o2 = L.Dense(1, activation="sigmoid", name="o2")(h)
        m = keras.Model([a, b], [o1, o2])
        x = [rng.random((32, 5), dtype=np.float32), rng.random((32, 3), dtype=np.float32)]
        y = [rng.random((32, 2), dtype=np.float32),
             rng.integers(0, 2, (32, 1)).astype("float32")]
        return m, x, y, ["mse", "binary_crossentropy"]
    if name == "seq_conv":
        m = keras.Sequential([keras.Input((8, 8, 3)), L.Conv2D(4, 3, activation="relu"),
                              L.MaxPooling2D(2), L.BatchNormalization(),
                              L.Conv2D(5, 2, padding="same"), L.AveragePooling2D(2),
                              L.Flatten(), L.Dropout(0.2), L.Dense(2)])
        x = rng.random((16, 8, 8, 3), dtype=np.float32)
        return m, x, rng.random((16, 2), dtype=np.float32), "mse"
    if name == "func_conv":
        inp = keras.Input((9, 9, 2))
        h = L.Conv2D(3, 3, strides=2, padding="same", activation="relu")(inp)
        h = L.BatchNormalization()(h)
        h = L.MaxPooling2D(pool_size=2, strides=1)(h)
        h = L.GlobalAveragePooling2D()(h)
        out = L.Dense(2)(h)
        m = keras.Model(inp, out)
        x = rng.random((16, 9, 9, 2), dtype=np.float32)
        return m, x, rng.random((16, 2), dtype=np.float32), "mse"
    if name == "func_nested":
        inner = keras.Sequential([keras.Input((6,)), L.Dense(5, activation="relu"),
                                  L.BatchNormalization()], name="inner")
        i = keras.Input((6,))
        h = inner(i)
        out = L.Dense(2)(L.Concatenate()([h, L.Dense(3)(i)]))
        m = keras.Model(i, out)
        x = rng.random((32, 6), dtype=np.float32)
        return m, x, rng.random((32, 2), dtype=np.float32), "mse"
    raise AssertionError(name)


def _as_list(p) -> list:
    return [np.asarray(v) for v in p] if isinstance(p, (list, tuple)) else [np.asarray(p)]


def test_keras_files_load_in_ndflow(tmp_path):
    names = _model_names()
    _run_keras("save", str(tmp_path), names)
    for name in names:
        model = keras.models.load_model(str(tmp_path / f"keras_{name}.keras"))
        data = np.load(tmp_path / f"keras_{name}.npz")
        xs = [data[k] for k in sorted(k for k in data.files if k.startswith("x"))]
        want = [data[k] for k in sorted(k for k in data.files if k.startswith("p"))]
        got = _as_list(model.predict(xs if len(xs) > 1 else xs[0], verbose=0))
        assert len(got) == len(want), name
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=name)
        # Keras's .weights.h5 loads into the same architecture built from code in ndflow
        fresh = _ndflow_model(name)[0]
        fresh.load_weights(str(tmp_path / f"keras_{name}.weights.h5"))
        for g, w in zip(_as_list(fresh.predict(xs if len(xs) > 1 else xs[0], verbose=0)),
                        want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=name)
        # the compiled state came along: Keras trained 2 epochs of 4 (or 2) batches
        assert model.optimizer is not None, name
        assert int(model.optimizer.iterations.numpy()) == 2 * (len(xs[0]) // 8), name
        # and training continues from Keras's optimizer state (Adam's moments included):
        # where Keras also trained one more epoch, both end at the same weights (float noise)
        ys = [data[k] for k in sorted(k for k in data.files if k.startswith("y"))]
        model.fit(xs if len(xs) > 1 else xs[0], ys if len(ys) > 1 else ys[0], epochs=1,
                  batch_size=8, shuffle=False, verbose=0)
        after = [data[k] for k in sorted(k for k in data.files if k.startswith("q"))]
        assert after or name != "seq_embedding"
        if after:
            got = _as_list(model.predict(xs if len(xs) > 1 else xs[0], verbose=0))
            for g, w in zip(got, after):
                np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4, err_msg=name)


def test_ndflow_files_load_in_keras(tmp_path):
    names = _model_names()
    expected = {}
    for name in names:
        keras.utils.set_random_seed(1) if hasattr(keras.utils, "set_random_seed") else None
        model, x, y, loss = _ndflow_model(name)
        model.compile(optimizer="adam", loss=loss)
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        model.save(str(tmp_path / f"ndflow_{name}.keras"))
        model.save_weights(str(tmp_path / f"ndflow_{name}.weights.h5"))
        xs = x if isinstance(x, list) else [x]
        np.savez(tmp_path / f"ndflow_{name}.npz", **{f"x{i}": v for i, v in enumerate(xs)})
        expected[name] = (_as_list(model.predict(x, verbose=0)),
                          int(model.optimizer.iterations.numpy()))
    _run_keras("load", str(tmp_path), names)
    for name in names:
        data = np.load(tmp_path / f"keras_pred_{name}.npz")
        want, iterations = expected[name]
        got = [data[k] for k in sorted(k for k in data.files if k.startswith("p"))]
        assert len(got) == len(want), name
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=name)
        assert int(data["iterations"]) == iterations, name
        wgot = [data[k] for k in sorted(k for k in data.files if k.startswith("w"))]
        assert len(wgot) == len(want), name
        for g, w in zip(wgot, want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=name)
