"""Behaviour of the text and categorical layers beyond the Keras value tables: configs and
.keras files, adapt on datasets, use in Dataset.map and inside compiled models, custom
standardize/split callables, vocabulary files, and clear errors for bad input."""

import json
import os
import zipfile

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras

L = keras.layers
CORPUS = ["The cat sat on the mat.", "The dog ate my homework!", "my cat is the best cat",
          "a dog and a cat"]


@pytest.mark.parametrize("kwargs", [
    {}, {"output_mode": "tf_idf", "max_tokens": 8}, {"ngrams": 2, "output_mode": "count"},
    {"output_mode": "multi_hot", "max_tokens": 12, "pad_to_max_tokens": True},
    {"output_sequence_length": 3, "split": "character", "standardize": "lower"},
])
def test_text_vectorization_config_round_trip_keeps_vocabulary(kwargs):
    tv = L.TextVectorization(**kwargs)
    tv.adapt(CORPUS)
    clone = L.TextVectorization.from_config(tv.get_config())
    assert clone.get_vocabulary() == tv.get_vocabulary()
    x = ["the cat ate the bird", "zebra"]
    np.testing.assert_allclose(clone(x).numpy(), tv(x).numpy())


@pytest.mark.parametrize("layer", [
    lambda: L.StringLookup(vocabulary=["a", "b"], num_oov_indices=2, mask_token=""),
    lambda: L.IntegerLookup(vocabulary=[3, 9], output_mode="count"),
    lambda: L.Hashing(num_bins=5, salt=7, mask_value="a"),
    lambda: L.CategoryEncoding(num_tokens=4, output_mode="one_hot"),
    lambda: L.Discretization(bin_boundaries=[0.0, 1.0], output_mode="multi_hot"),
])
def test_layer_configs_round_trip(layer):
    layer = layer()
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_model_with_adapted_tf_idf_vectorizer_saves_and_loads(tmp_path):
    tv = L.TextVectorization(output_mode="tf_idf", max_tokens=10)
    tv.adapt(CORPUS)
    inp = keras.Input(shape=(1,), dtype="string")
    model = keras.Model(inp, L.Dense(2)(tv(inp)))
    path = str(tmp_path / "text.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    x = np.array([["the cat ate"], ["a dog"], [""]])
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    assert loaded.layers[1].get_vocabulary() == tv.get_vocabulary()


def test_adapt_on_datasets_and_iterables_equals_adapt_on_arrays():
    ref = L.TextVectorization()
    ref.adapt(CORPUS)
    for data in (tf.data.Dataset.from_tensor_slices(CORPUS).batch(3),
                 (np.array(CORPUS[i:i + 2]) for i in range(0, 4, 2)),
                 tf.constant(CORPUS)):
        tv = L.TextVectorization()
        tv.adapt(data)
        assert tv.get_vocabulary() == ref.get_vocabulary()
    tv = L.TextVectorization()
    tv.adapt(tf.data.Dataset.from_tensor_slices(CORPUS).batch(1), steps=1)
    assert set(tv.get_vocabulary()) == {"", "[UNK]", "the", "cat", "sat", "on", "mat"}
    with pytest.raises(ValueError, match="map the dataset first"):
        tv.adapt(tf.data.Dataset.from_tensor_slices((CORPUS, [0, 1, 0, 1])).batch(2))


def test_vectorizer_mapped_over_a_dataset():
    tv = L.TextVectorization(output_mode="multi_hot")
    tv.adapt(CORPUS)
    ds = tf.data.Dataset.from_tensor_slices((CORPUS, [0, 1, 0, 1])).batch(2)
    xs = [x.numpy() for x, _ in ds.map(lambda x, y: (tv(x), y))]
    np.testing.assert_array_equal(np.concatenate(xs), tv(CORPUS).numpy())
    assert xs[0].shape == (2, tv.vocabulary_size())


def test_custom_standardize_and_split_callables():
    def standardize(x):
        return tf.strings.regex_replace(tf.strings.lower(x), "[^a-z ]", "")

    def split(x):
        return tf.strings.split(x, sep=" ")

    tv = L.TextVectorization(standardize=standardize, split=split)
    tv.adapt(["Hello, World!", "hello there"])
    assert tv.get_vocabulary() == ["", "[UNK]", "hello", "world", "there"]
    assert tv(["HELLO world?"]).numpy().tolist() == [[2, 3]]


def test_vocabulary_get_set_and_files(tmp_path):
    tv = L.TextVectorization()
    tv.set_vocabulary(["cat", "dog"])
    assert tv.get_vocabulary() == ["", "[UNK]", "cat", "dog"]
    assert tv.get_vocabulary(include_special_tokens=False) == ["cat", "dog"]
    assert tv(["dog cat cow"]).numpy().tolist() == [[3, 2, 1]]
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("x\ny\nz\n")
    sl = L.StringLookup(vocabulary=str(vocab))
    assert sl(["z", "x", "q"]).numpy().tolist() == [3, 1, 0]
    assert sl.get_config()["vocabulary"] == ["x", "y", "z"]
    sl.save_assets(str(tmp_path))
    assert (tmp_path / "vocabulary.txt").read_text().split("\n") == ["[UNK]", "x", "y", "z"]
    il = L.IntegerLookup()
    (tmp_path / "vocabulary.txt").write_text("-1\n7\n5\n")
    il.load_assets(str(tmp_path))
    assert il([5, 7, 8]).numpy().tolist() == [2, 1, 0]
    with pytest.raises(ValueError, match="vocabulary file .*missing.txt does not exist"):
        L.TextVectorization(vocabulary=str(tmp_path / "missing.txt"))
    with pytest.raises(ValueError, match="repeated"):
        L.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="after setting a static vocabulary"):
        L.TextVectorization(vocabulary=["a"]).adapt(CORPUS)


def _sentiment(n=120, seed=0):
    rng = np.random.default_rng(seed)
    pos, neg = ["good", "great", "fine", "nice"], ["bad", "awful", "poor", "sad"]
    noise = ["the", "a", "movie", "was", "plot", "it"]
    texts, labels = [], []
    for _ in range(n):
        y = int(rng.integers(0, 2))
        words = list(rng.choice(pos if y else neg, 2)) + list(rng.choice(noise, 3))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(y)
    return np.array(texts), np.array(labels, "float32")


def test_text_model_trains_compiled_exactly_as_eagerly():
    texts, labels = _sentiment()
    tv = L.TextVectorization(output_mode="multi_hot", max_tokens=30)
    tv.adapt(texts)
    histories = []
    for eager in (True, False):
        keras.utils.set_random_seed(0)
        inp = keras.Input(shape=(1,), dtype="string")
        model = keras.Model(inp, L.Dense(1, activation="sigmoid")(tv(inp)))
        model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy",
                      metrics=["accuracy"], run_eagerly=eager)
        h = model.fit(texts[:, None], labels, epochs=5, batch_size=16, shuffle=False,
                      verbose=0)
        histories.append(h.history["loss"])
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-5)
    assert h.history["accuracy"][-1] == 1.0
    # plain lists of strings go in too, and a Sequential model builds on text
    model = keras.Sequential([L.TextVectorization(vocabulary=["good", "bad"],
                                                  output_sequence_length=4),
                              L.Embedding(4, 3), L.GlobalAveragePooling1D(), L.Dense(1)])
    model.compile("adam", "mse")
    model.fit(list(texts[:8]), labels[:8], epochs=1, verbose=0)
    assert model.predict(["good good"], verbose=0).shape == (1, 1)


def test_text_into_numeric_layers_fails_clearly():
    with pytest.raises(ValueError, match="Dense layer .* expected numeric inputs, got a string "
                                         "tensor of shape \\(2, 1\\).*TextVectorization"):
        L.Dense(2)(tf.constant([["a b"], ["c"]]))
    model = keras.Sequential([keras.Input((1,)), L.Dense(1)])
    with pytest.raises(ValueError, match="predict: x holds strings .* expects numeric inputs "
                                         r"\(float32\), got a string array.*TextVectorization"):
        model.predict(np.array([["a"]]), verbose=0)
    with pytest.raises(ValueError, match="cast: .* string tensor.*tf.strings.to_number"):
        tf.cast(tf.constant(["1"]), tf.float32)
    with pytest.raises(ValueError, match="IntegerLookup layer .* string tensor"):
        L.IntegerLookup(vocabulary=[1, 2])(["a"])
    with pytest.raises(ValueError, match="StringLookup layer .* expected string inputs, got a "
                                         "int64 tensor"):
        L.StringLookup(vocabulary=["a"])(np.array([1, 2]))
    with pytest.raises(ValueError, match="CategoryEncoding layer .* string tensor"):
        L.CategoryEncoding(num_tokens=3)(["a"])
    with pytest.raises(ValueError, match="num_oov_indices=0 .* OOV values \\['b'\\]"):
        L.StringLookup(vocabulary=["a"], num_oov_indices=0)(["b"])
    with pytest.raises(ValueError, match="values in \\[0, 3\\)"):
        L.CategoryEncoding(num_tokens=3)([[0, 5]])
    with pytest.raises(RuntimeError, match="must set the layer's vocabulary"):
        L.StringLookup(output_mode="multi_hot")(["a"])
    seq = keras.Sequential([L.TextVectorization(vocabulary=["a"]), L.Embedding(4, 2)])
    seq.compile("adam", "mse")
    with pytest.raises(ValueError, match="set output_sequence_length"):
        seq.predict(np.array(["a b"]), verbose=0)


def test_ragged_output_and_scalar_inputs():
    tv = L.TextVectorization(vocabulary=["a", "b"], ragged=True)
    assert tv(["a b a", "b"]).to_list() == [[2, 3, 2], [3]]
    tv = L.TextVectorization(vocabulary=["a", "b"])
    assert tv("b a").numpy().tolist() == [3, 2]
    assert L.StringLookup(vocabulary=["a"])("a").numpy() == 1
    sym = L.TextVectorization(vocabulary=["a"], output_mode="count")(
        keras.Input(shape=(1,), dtype="string"))
    assert tuple(sym.shape) == (None, 2) and sym.dtype == tf.int64


def test_assets_dir_round_trip_for_keras_layout(tmp_path):
    tv = L.TextVectorization(max_tokens=6)
    tv.adapt(CORPUS)
    tv.save_assets(str(tmp_path))
    fresh = L.TextVectorization(max_tokens=6)
    fresh.load_assets(str(tmp_path))
    assert fresh.get_vocabulary() == tv.get_vocabulary()
    assert os.path.exists(tmp_path / "vocabulary.txt")


def test_text_model_saved_by_keras_loads_with_its_vocabulary_asset(tmp_path):
    # load_model hands assets/layers/text_vectorization/vocabulary.txt to the layer
    path = os.path.join(os.path.dirname(__file__), "keras_text_model.keras")
    model = keras.models.load_model(path)  # reads assets/.../vocabulary.txt from the archive
    x = np.array([["the cat ate"], ["a dog"]])
    assert model.layers[1].get_vocabulary()[:4] == ["[UNK]", "the", "cat", "my"]
    np.testing.assert_allclose(model(x).numpy(), [[3.0, 3.0], [2.0, 2.0]])  # Keras's output
    # a layer built from Keras's config alone says where its vocabulary is
    zipfile.ZipFile(path).extractall(tmp_path)
    with open(tmp_path / "config.json") as f:
        cfg = json.load(f)["config"]["layers"][1]["config"]
    layer = L.TextVectorization.from_config(cfg)
    with pytest.raises(ValueError, match="vocabulary of 12 entries stored outside its config"):
        layer(x)
    layer.load_assets(str(tmp_path / "assets" / "layers" / "text_vectorization"))
    assert layer.get_vocabulary() == model.layers[1].get_vocabulary()
