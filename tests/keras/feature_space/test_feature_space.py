"""`keras.utils.FeatureSpace` against Keras 3: on the cases of cases.py, ndflow's encoded
outputs (a batch, one element, one element through `Dataset.map`), the learned vocabularies and
bin boundaries, and the encoded features' shapes equal those Keras 3.15.1 gave on TensorFlow
2.21 (keras_reference.json, made by make_keras_reference.py: Keras's FeatureSpace needs
TensorFlow, which the tests do not install). `.keras` files Keras saved (a FeatureSpace, and a
model built on one) load in ndflow and give Keras's outputs."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from tests.keras.feature_space.cases import CASES, adapt_data, build, call_data

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "keras_reference.json")) as _f:
    REFERENCE = json.load(_f)["cases"]
FS = keras.utils.FeatureSpace


def assert_same(got, want, what):
    if "values" not in want:  # dict output
        assert isinstance(got, dict) and sorted(got) == sorted(want), what
        for k in want:
            assert_same(got[k], want[k], f"{what}[{k}]")
        return
    arr = np.asarray(got)
    assert list(arr.shape) == want["shape"], f"{what}: shape"
    assert str(arr.dtype) == want["dtype"], f"{what}: dtype {arr.dtype} != {want['dtype']}"
    np.testing.assert_allclose(arr, np.array(want["values"], arr.dtype), rtol=1e-5, atol=1e-6,
                               err_msg=what)


def _adapted(case):
    fs = build(FS, case)
    fs.adapt(adapt_data(tf.data.Dataset, case))
    return fs


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_encoded_outputs_equal_keras(case):
    want = REFERENCE[case["id"]]
    fs = _adapted(case)
    for name, state in want["state"].items():
        pre = fs.preprocessors[name]
        got = pre.get_vocabulary() if hasattr(pre, "get_vocabulary") else pre.bin_boundaries
        if isinstance(state[0], float) or (len(state) > 1 and isinstance(state[1], float)):
            np.testing.assert_allclose(got, state, rtol=1e-6, err_msg=name)
        else:
            assert [v.decode() if isinstance(v, bytes) else v for v in got] == state, name
    enc = fs.get_encoded_features()
    shapes = ({k: [None if d is None else int(d) for d in v.shape] for k, v in enc.items()}
              if isinstance(enc, dict) else [None if d is None else int(d) for d in enc.shape])
    assert shapes == want["encoded_shapes"]
    assert_same(fs(call_data(case)), want["batch"], "batch")
    assert_same(fs(call_data(case, 2)), want["single"], "single element")
    mapped = tf.data.Dataset.from_tensor_slices(call_data(case)).skip(4).map(fs)
    assert_same(next(iter(mapped)), want["mapped"], "Dataset.map")


def _objects(config, path="$"):
    """{path: (module, class_name, sorted config keys)} of every serialized object in a
    config (vocabularies and dtype policies aside: ndflow keeps adapted vocabularies in the
    config, and writes dtypes as plain names)."""
    out = {}
    if isinstance(config, dict):
        if "class_name" in config and "config" in config:
            inner = config["config"] if isinstance(config["config"], dict) else {}
            if config["class_name"] != "DTypePolicy":
                out[path] = (config.get("module"), config["class_name"], sorted(inner))
        for k, v in config.items():
            if k != "dtype":
                out.update(_objects(v, f"{path}.{k}"))
    elif isinstance(config, list):
        for i, v in enumerate(config):
            out.update(_objects(v, f"{path}[{i}]"))
    return out


def test_keras_saved_file_loads_and_ndflow_file_has_keras_layout(tmp_path):
    import zipfile

    case = CASES[0]
    src = os.path.join(HERE, "keras_feature_space.keras")
    fs = keras.models.load_model(src)  # lookups read their vocabulary.txt assets
    assert_same(fs(call_data(case)), REFERENCE[case["id"]]["batch"], "Keras's file")
    path = str(tmp_path / "fs.keras")
    fs.save(path)
    again = keras.models.load_model(path)
    assert_same(again(call_data(case)), REFERENCE[case["id"]]["batch"], "ndflow's file")
    with zipfile.ZipFile(src) as z:
        theirs = json.loads(z.read("config.json"))
    with zipfile.ZipFile(path) as z:
        ours = json.loads(z.read("config.json"))
    assert _objects(ours) == _objects(theirs)


def test_save_and_load_round_trip_of_adapted_space(tmp_path):
    case = CASES[1]
    fs = _adapted(case)
    path = str(tmp_path / "fs.keras")
    fs.save(path)
    loaded = keras.models.load_model(path)
    assert_same(loaded(call_data(case)), REFERENCE[case["id"]]["batch"], "reloaded")
    fresh = FS.from_config(build(FS, case).get_config())
    assert fresh.get_config() == build(FS, case).get_config()


def _structured(n, seed):
    """Rows whose label is (city in {"b", "c"}) xor (age > 40), with a distractor; ages
    come in four bands, so that four quantile bins can separate them."""
    rng = np.random.default_rng(seed)
    age = (rng.choice([20.0, 30.0, 50.0, 60.0], n) + rng.uniform(0, 5, n)).astype("float32")
    city = rng.choice(["a", "b", "c", "d"], n)
    noise = rng.integers(0, 50, n).astype("int32")
    y = (np.isin(city, ["b", "c"]) ^ (age > 40)).astype("float32")
    return {"age": age, "city": city, "noise": noise}, y


def test_training_on_encoded_features_and_end_to_end_model():
    x, y = _structured(600, 0)
    fs = FS({"age": FS.float_discretized(num_bins=4), "city": "string_categorical",
             "noise": "integer_hashed"}, crosses=[("age", "city")], crossing_dim=64)
    fs.adapt(tf.data.Dataset.from_tensor_slices(x))
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(32).map(
        lambda f, label: (fs(f), label))
    keras.utils.set_random_seed(1)
    head = keras.Sequential([keras.Input((fs.get_encoded_features().shape[-1],)),
                             keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(1, activation="sigmoid")])
    head.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy",
                 metrics=["accuracy"])
    head.fit(train, epochs=8, verbose=0)
    xt, yt = _structured(300, 1)
    acc = head.evaluate(tf.data.Dataset.from_tensor_slices((xt, yt)).batch(64).map(
        lambda f, label: (fs(f), label)), verbose=0)[1]
    assert acc > 0.9  # the xor needs the cross or the hidden layer; chance is 0.5
    # the inference model: raw feature dict in, prediction out
    inputs = fs.get_inputs()
    model = keras.Model(inputs, head(fs.get_encoded_features()))
    raw = {k: v[:5][:, None] for k, v in xt.items()}
    np.testing.assert_allclose(model.predict(raw, verbose=0),
                               head.predict(fs({k: v[:5] for k, v in xt.items()}), verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_custom_preprocessor_feature():
    texts = np.array(["the cat sat", "the dog", "a cat and a dog", "birds"])
    tv = keras.layers.TextVectorization(output_mode="tf_idf")
    fs = FS({"text": FS.feature(preprocessor=tv, dtype="string", output_mode="float"),
             "n": FS.float_rescaled(scale=2.0)})
    fs.adapt({"text": texts, "n": np.arange(4.0)})
    ref = keras.layers.TextVectorization(output_mode="tf_idf")
    ref.adapt(texts)
    out = fs({"text": texts[:2], "n": [1.0, 3.0]}).numpy()
    np.testing.assert_allclose(out[:, 0], [2.0, 6.0])  # "n" sorts before "text"
    np.testing.assert_allclose(out[:, 1:], ref(texts[:2]).numpy(), rtol=1e-6)


def test_float_features_need_no_adapt_and_dict_mode_keeps_names():
    fs = FS({"a": "float", "b": FS.float_rescaled(scale=0.5, offset=1.0)}, output_mode="dict")
    out = fs({"a": 2.0, "b": 4})
    assert sorted(out) == ["a", "b"]
    assert out["a"].shape == (1,) and float(out["b"].numpy()[0]) == 3.0


@pytest.mark.parametrize("make, match", [
    (lambda: FS({}), "cannot be None or empty"),
    (lambda: FS({"a": "floaty"}), "Invalid feature type"),
    (lambda: FS({"a": "float"}, crosses=[("a", "b")]), "unknown features"),
    (lambda: FS({"a": "float"}, output_mode="list"), "Expected one of {'dict', 'concat'}"),
    (lambda: FS.cross(("a", "b"), 8, output_mode="float"), "Expected one of {'int', "),
    (lambda: FS.feature("float32", keras.layers.Normalization(), "bad"), "'float'"),
    (lambda: FS.feature("float32", "not a layer", "float"), "a Keras layer"),
    (lambda: FS({"a": FS.integer_categorical(output_mode="int")}).adapt({"a": [1, 2]}),
     "Cannot concatenate features because feature 'a'"),
    (lambda: FS({"a": FS.feature("float32", keras.layers.Rescaling(1.0), "one_hot")})
     .get_encoded_features(), "should return an integer dtype"),
    (lambda: FS({"a": "string_categorical"})({"a": ["x"]}), r"call `.adapt\(dataset\)`"),
    (lambda: FS({"a": "float"})([1.0]), "can only be called with a dict"),
    (lambda: FS({"a": "string_categorical"}).adapt([["x"]]), "tf.data.Dataset or a dict"),
])
def test_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_keras_saved_end_to_end_model_loads(tmp_path):
    """Keras's guide's model (FeatureSpace inputs and encoded features, then a Dense layer),
    saved by Keras: it loads in ndflow (FeatureSpace's helper layers resolve by Keras's
    module name) and predicts as Keras did; ndflow's own save of it reloads the same."""
    case = CASES[0]
    model = keras.models.load_model(os.path.join(HERE, "keras_feature_space_model.keras"))
    x = {k: v[:, None] for k, v in call_data(case).items()}
    want = REFERENCE[case["id"]]["model_output"]
    assert_same(model(x), want, "Keras's model in ndflow")
    path = str(tmp_path / "m.keras")
    model.save(path)
    assert_same(keras.models.load_model(path)(x), want, "ndflow's save of it")
