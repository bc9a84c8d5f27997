"""Model configs (Keras 3 layout), from_config round trips, clone_model, masks in models."""

import json

import numpy as np
import pytest

from ndflow import keras
from ndflow.keras import layers


def _two_io_model():
    x = keras.Input((3,), name="x")
    y = keras.Input((2,), name="y")
    shared = layers.Dense(4, name="shared")
    c = layers.Concatenate(name="cat")([shared(x), y])
    o1 = layers.Dense(1, name="o1")(c)
    o2 = layers.Dense(2, activation="softmax", name="o2")(c)
    return keras.Model({"x": x, "y": y}, [o1, o2], name="two_io")


def test_functional_config_layout_and_round_trip():
    model = _two_io_model()
    config = model.get_config()
    json.dumps(config)  # JSON-serializable
    assert config["name"] == "two_io"
    assert [entry["name"] for entry in config["layers"]] == ["x", "y", "shared", "cat", "o1",
                                                             "o2"]
    cat = config["layers"][3]
    assert cat["class_name"] == "Concatenate"
    args = cat["inbound_nodes"][0]["args"][0]
    assert args[0]["class_name"] == "__keras_tensor__"
    assert args[0]["config"]["keras_history"] == ["shared", 0, 0]
    assert config["output_layers"] == [["o1", 0, 0], ["o2", 0, 0]]
    assert config["input_layers"] == {"x": ["x", 0, 0], "y": ["y", 0, 0]}
    again = keras.Model.from_config(config)
    assert again.output_shape == model.output_shape
    again.set_weights(model.get_weights())
    data = {"x": np.random.default_rng(0).random((4, 3)), "y": np.ones((4, 2))}
    for a, b in zip(model.predict(data, verbose=0), again.predict(data, verbose=0)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_sequential_config_round_trip():
    model = keras.Sequential([keras.Input((5,)), layers.Dense(3, activation="relu"),
                              layers.Dropout(0.2), layers.Dense(1)], name="seq")
    config = model.get_config()
    json.dumps(config)
    again = keras.Sequential.from_config(config)
    assert again.name == "seq" and [type(x).__name__ for x in again.layers] == [
        "Dense", "Dropout", "Dense"]
    assert again.output_shape == (None, 1)
    assert again.layers[0].get_config()["activation"] == "relu"


def test_clone_model_has_new_weights_same_architecture():
    for model in (_two_io_model(),
                  keras.Sequential([keras.Input((3,)), layers.Dense(2), layers.Dense(1)])):
        clone = keras.models.clone_model(model)
        assert clone.output_shape == model.output_shape
        assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
        assert all(a is not b for a, b in zip(clone.weights, model.weights))
    seq = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    custom = keras.models.clone_model(
        seq, clone_function=lambda layer: layers.Dense(7) if isinstance(layer, layers.Dense)
        else layer)
    assert custom.output_shape == (None, 7)


def test_raw_op_models_explain_how_to_serialize():
    x = keras.Input((2,))
    model = keras.Model(x, layers.Dense(2)(x) * 2.0)
    with pytest.raises(ValueError, match="Lambda"):
        model.get_config()


def test_masks_flow_through_sequential_and_functional():
    class Probe(layers.Layer):
        def call(self, x, mask=None):
            self.mask = mask
            return x

    emb = layers.Embedding(10, 4, mask_zero=True)
    probe = Probe()
    model = keras.Sequential([keras.Input((5,), dtype="int32"), emb, probe])
    model(np.array([[1, 2, 0, 0, 3]]))
    assert probe.mask.numpy().tolist() == [[True, True, False, False, True]]
    inp = keras.Input((5,), dtype="int32")
    fmodel = keras.Model(inp, probe(emb(inp)))
    fmodel(np.array([[0, 4, 0, 0, 3]]))
    assert probe.mask.numpy().tolist() == [[False, True, False, False, True]]
