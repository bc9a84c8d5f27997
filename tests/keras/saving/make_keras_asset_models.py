"""Make (and check) the `.keras` files of text/lookup models whose vocabularies Keras stores as
assets; needs Keras 3.15 on TensorFlow (Keras's text layers need TensorFlow), so it is run by
hand, not by the tests:

    KERAS_BACKEND=tensorflow python make_keras_asset_models.py make
        writes keras_asset_models/<name>.keras and keras_asset_models/expected.json
        (the inputs and Keras's predictions), read by test_saving_assets.py;
    KERAS_BACKEND=tensorflow python make_keras_asset_models.py check FOLDER
        loads FOLDER/<name>.keras (written by ndflow: test_saving_assets.py's
        `write_ndflow_files`) and compares Keras's predictions with expected.json.
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import keras  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras_asset_models")
CORPUS = ["The cat sat on the mat.", "The dog ate my homework!", "my cat is the best cat",
          "a dog and a cat", "the bird sat"]
TEXT_IN = [["the cat ate"], ["a dog"], [""], ["the best bird sat on my cat"]]
WORDS = ["cat", "dog", "cat", "bird", "cat", "fish", "dog"]
WORDS_IN = [["cat"], ["fish"], ["cow"], ["dog"]]
INTS = [7, 3, 7, 7, 12, 3, 5]
INTS_IN = [[7], [5], [99], [3]]


def models():
    """name -> (model, inputs)."""
    L = keras.layers
    out = {}
    text = keras.Input(shape=(1,), dtype="string")
    tv = L.TextVectorization(max_tokens=20, output_sequence_length=6)
    tv.adapt(np.array(CORPUS))
    out["tv_int"] = (keras.Model(text, tv(text)), TEXT_IN)
    for mode, kw in (("tf_idf", {"max_tokens": 10}), ("multi_hot", {"ngrams": 2}),
                     ("count", {"max_tokens": 8, "pad_to_max_tokens": True})):
        text = keras.Input(shape=(1,), dtype="string")
        tv = L.TextVectorization(output_mode=mode, **kw)
        tv.adapt(np.array(CORPUS))
        dense = L.Dense(2, kernel_initializer="glorot_uniform")
        model = keras.Model(text, dense(tv(text)))
        shape = tuple(dense.kernel.shape)
        dense.kernel.assign(np.arange(np.prod(shape), dtype="float32").reshape(shape) / 10)
        out[f"tv_{mode}"] = (model, TEXT_IN)
    word = keras.Input(shape=(1,), dtype="string")
    sl = L.StringLookup(output_mode="one_hot")
    sl.adapt(np.array(WORDS))
    out["string_lookup"] = (keras.Model(word, sl(word)), WORDS_IN)
    word = keras.Input(shape=(1,), dtype="string")
    sl = L.StringLookup(output_mode="tf_idf", num_oov_indices=2)
    sl.adapt(np.array(WORDS))
    out["string_lookup_tf_idf"] = (keras.Model(word, sl(word)), WORDS_IN)
    num = keras.Input(shape=(1,), dtype="int64")
    il = L.IntegerLookup(output_mode="count")
    il.adapt(np.array(INTS))
    out["integer_lookup"] = (keras.Model(num, il(num)), INTS_IN)
    return out


def _predict(model, inputs, name):
    import tensorflow as tf

    x = tf.constant(inputs, dtype="int64" if name == "integer_lookup" else tf.string)
    return np.asarray(keras.ops.convert_to_numpy(model(x)))


def make():
    os.makedirs(HERE, exist_ok=True)
    expected = {"keras_version": keras.__version__, "models": {}}
    for name, (model, inputs) in models().items():
        model.save(os.path.join(HERE, f"{name}.keras"))
        pred = _predict(model, inputs, name)
        expected["models"][name] = {"inputs": inputs, "outputs": pred.tolist()}
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=0)


def check(folder):
    with open(os.path.join(HERE, "expected.json")) as f:
        expected = json.load(f)["models"]
    for name, case in expected.items():
        model = keras.saving.load_model(os.path.join(folder, f"{name}.keras"))
        pred = _predict(model, case["inputs"], name)
        np.testing.assert_allclose(pred, np.array(case["outputs"]), rtol=1e-5, atol=1e-6,
                                   err_msg=name)
        print(f"{name}: Keras reads ndflow's file and predicts as expected")


if __name__ == "__main__":
    make() if sys.argv[1] == "make" else check(sys.argv[2])
