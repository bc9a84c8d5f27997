"""`Model.to_json`, `keras.models.model_from_json`, `keras.layers.serialize/deserialize` and
`get_compile_config`/`compile_from_config` (honoured by `.keras` saving), against real
Keras 3 (torch backend, in a subprocess) where it is installed."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from ndflow import keras

HAS_KERAS = importlib.util.find_spec("keras") is not None and \
    importlib.util.find_spec("torch") is not None
SCRIPT = os.path.join(os.path.dirname(__file__), "keras_json_script.py")
L = keras.layers


def _models():
    seq = keras.Sequential([keras.Input((4,)), L.Dense(6, activation="relu"), L.Dropout(0.1),
                            L.Dense(2)], name="seq")
    seq.compile(optimizer=keras.optimizers.Adam(0.003), loss="mse", metrics=["mae"])
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    h = L.Concatenate()([L.Dense(4, name="da")(a), b])
    func = keras.Model([a, b], [L.Dense(1, activation="sigmoid", name="out")(h)], name="func")
    func.compile(optimizer=keras.optimizers.Lamb(0.01), loss="binary_crossentropy",
                 metrics=["accuracy"])
    plain = keras.Sequential([keras.Input((7,)), L.Dense(3)], name="plain")  # not compiled
    return {"seq": seq, "func": func, "plain": plain}


@pytest.fixture(scope="module")
def keras_side(tmp_path_factory):
    if not HAS_KERAS:
        pytest.skip("needs the keras-interop extra (keras + torch==2.13.0)")
    d = tmp_path_factory.mktemp("json")
    for name, model in _models().items():
        (d / f"ndflow_{name}.json").write_text(model.to_json())
    env = dict(os.environ, KERAS_BACKEND="torch", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, SCRIPT, str(d)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"keras subprocess failed:\n{proc.stdout}\n{proc.stderr}"
    return d


@pytest.mark.parametrize("name", ["seq", "func", "plain"])
def test_keras_reads_ndflow_json(keras_side, name):
    model = _models()[name]
    got = json.loads((keras_side / f"keras_read_{name}.json").read_text())
    # (the order of a Functional model's `layers` list is not compared: Keras lists its
    # inputs first)
    assert sorted(got["layers"]) == sorted(type(layer).__name__ for layer in model.layers)
    assert got["params"] == model.count_params()
    assert got["compiled"] == (name != "plain")
    if name != "plain":
        cfg = got["compile_config"]
        mine = model.get_compile_config()
        assert cfg["loss"] == mine["loss"] and cfg["metrics"] == mine["metrics"]
        assert cfg["optimizer"]["class_name"] == mine["optimizer"]["class_name"]
        assert np.isclose(cfg["optimizer"]["config"]["learning_rate"],
                          mine["optimizer"]["config"]["learning_rate"])


def test_ndflow_reads_keras_json(keras_side):
    model = keras.models.model_from_json((keras_side / "keras_model.json").read_text())
    assert [type(layer).__name__ for layer in model.layers] == \
        ["InputLayer", "Dense", "Dropout", "Dense"][-len(model.layers):]
    assert model.compiled and isinstance(model.optimizer, keras.optimizers.RMSprop)
    assert np.isclose(float(model.optimizer.learning_rate.numpy()), 0.01)
    assert model.get_layer("probs").activation.__name__ == "softmax"
    # compiled as Keras compiled it: it trains and reports the same metric names
    x = np.random.default_rng(0).random((16, 5), dtype=np.float32)
    y = np.eye(3, dtype=np.float32)[np.arange(16) % 3]
    hist = model.fit(x, y, epochs=1, verbose=0)
    assert {"loss", "accuracy", "auc"} <= set(hist.history)


def test_layers_deserialize_keras_serialized_layers(keras_side):
    configs = json.loads((keras_side / "keras_layers.json").read_text())
    layers = [keras.layers.deserialize(c) for c in configs]
    assert [type(layer).__name__ for layer in layers] == ["Dense", "Conv2D", "LSTM",
                                                          "BatchNormalization"]
    assert layers[0].units == 4 and layers[0].activation.__name__ == "tanh"
    assert layers[0].kernel_regularizer is not None
    assert layers[1].strides == (2, 2) and layers[1].padding == "same"
    assert layers[2].return_sequences and layers[3].momentum == 0.9
    # and ndflow's serialized form has Keras's keys and module names
    for layer, theirs in zip(layers, configs):
        mine = keras.layers.serialize(layer)
        assert mine["module"] == theirs["module"] == "keras.layers"
        assert mine["class_name"] == theirs["class_name"]


def test_json_round_trip_and_bad_input():
    for name, model in _models().items():
        again = keras.models.model_from_json(model.to_json(indent=2))
        assert again.get_config() == model.get_config(), name
        assert again.get_compile_config() == model.get_compile_config(), name
        assert again.compiled == model.compiled
    with pytest.raises(ValueError, match="not valid JSON"):
        keras.models.model_from_json("{nope")
    with pytest.raises(ValueError, match="not a model"):
        keras.models.model_from_json(json.dumps(keras.optimizers.serialize(
            keras.optimizers.SGD())))
    with pytest.raises(ValueError, match="not a layer"):
        keras.layers.deserialize({"class_name": "SGD", "config": {}, "module":
                                  "keras.optimizers"})
    with keras.saving.load_limits(max_config_depth=3):
        with pytest.raises(ValueError, match="max_config_depth"):
            keras.models.model_from_json(_models()["seq"].to_json())
    lam = keras.Sequential([keras.Input((2,)), L.Lambda(lambda t: t * 2)])
    with pytest.raises(ValueError, match="safe_mode|unsafe|lambda"):
        keras.models.model_from_json(lam.to_json())
    with pytest.raises(ValueError, match="expected a Keras layer"):
        keras.layers.serialize("dense")


def test_layers_serialize_deserialize_round_trip():
    layer = L.Dense(5, activation="relu", use_bias=False, name="d5")
    cfg = keras.layers.serialize(layer)
    assert set(cfg) >= {"module", "class_name", "config", "registered_name"}
    again = keras.layers.deserialize(json.loads(json.dumps(cfg)))
    assert again.get_config() == layer.get_config()
    assert keras.layers.deserialize({"class_name": "Dropout", "config": {"rate": 0.3}}).rate == 0.3


class _Tuned(keras.Model):
    """A subclass that stores one extra compile setting in its compile config."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = L.Dense(1)
        self.tuning = None

    def call(self, x):
        return self.dense(x)

    def get_compile_config(self):
        return {**super().get_compile_config(), "tuning": self.tuning}

    def compile_from_config(self, config):
        config = dict(config)
        self.tuning = config.pop("tuning")
        super().compile_from_config(config)


class _CustomCompile(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = L.Dense(1)

    def call(self, x):
        return self.dense(x)

    def compile(self, *args, **kwargs):
        super().compile(*args, **kwargs)


def test_compile_config_hooks_are_honoured_by_keras_files(tmp_path):
    custom = {"_Tuned": _Tuned, "_CustomCompile": _CustomCompile}
    model = _Tuned()
    model.compile(optimizer="sgd", loss="mse")
    model.tuning = "fast"
    model(np.ones((2, 3), np.float32))
    path = str(tmp_path / "t.keras")
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects=custom)
    assert loaded.tuning == "fast" and loaded.compiled
    assert isinstance(loaded.optimizer, keras.optimizers.SGD)
    # the public method compiles and builds the optimizer, as Keras's does
    fresh = _Tuned()
    fresh(np.ones((2, 3), np.float32))
    fresh.compile_from_config(model.get_compile_config())
    assert fresh.tuning == "fast" and fresh.optimizer.built
    assert keras.Sequential([keras.Input((1,)), L.Dense(1)]).get_compile_config() == {}
    # a custom compile() without compile_from_config: Keras warns and leaves it uncompiled
    other = _CustomCompile()
    other.compile(optimizer="adam", loss="mse")
    other(np.ones((2, 3), np.float32))
    other.save(str(tmp_path / "c.keras"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = keras.models.load_model(str(tmp_path / "c.keras"), custom_objects=custom)
    assert not loaded.compiled
    assert any("compile() method is custom" in str(w.message) for w in caught)
