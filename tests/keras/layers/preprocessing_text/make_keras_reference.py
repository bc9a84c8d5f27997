"""Regenerates keras_reference.json: outputs of real Keras 3 text/categorical layers.

Keras's TextVectorization, StringLookup, IntegerLookup, Hashing and HashedCrossing need
TensorFlow, which the test environment does not install. Run this script once in an
environment with `tensorflow-cpu` (which brings Keras 3) and commit the JSON:

    KERAS_BACKEND=tensorflow python make_keras_reference.py

Each case is (layer class, constructor kwargs, adapt data or None, call inputs); the file
stores the outputs, their dtypes and the vocabulary so the tests can compare ndflow with them.
"""

import json
import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402

CORPUS = [
    "The cat sat on the mat.", "The dog ate my homework!", "A cat, a dog; a bird?",
    "the THE The", "Dogs and cats: friends or foes?", "my cat is the best cat",
]
TEXTS = ["the cat ate the bird", "Unknown words here!", "", "dog, DOG, dog."]

CASES = [
    ("TextVectorization", {}, CORPUS, TEXTS),
    ("TextVectorization", {"max_tokens": 6, "output_sequence_length": 4}, CORPUS, TEXTS),
    ("TextVectorization", {"ngrams": 2, "output_mode": "multi_hot"}, CORPUS, TEXTS),
    ("TextVectorization", {"ngrams": (1, 3), "output_mode": "count", "max_tokens": 12},
     CORPUS, TEXTS),
    ("TextVectorization", {"output_mode": "tf_idf", "max_tokens": 8}, CORPUS, TEXTS),
    ("TextVectorization", {"output_mode": "tf_idf", "max_tokens": 20,
                           "pad_to_max_tokens": True}, CORPUS, TEXTS),
    ("TextVectorization", {"output_mode": "multi_hot", "max_tokens": 30,
                           "pad_to_max_tokens": True}, CORPUS, TEXTS),
    ("TextVectorization", {"standardize": "lower", "split": "character",
                           "output_sequence_length": 6}, CORPUS, TEXTS),
    ("TextVectorization", {"standardize": "strip_punctuation"}, CORPUS, TEXTS),
    ("TextVectorization", {"standardize": None, "split": None,
                           "vocabulary": ["the cat", "dog", "A"]},
     None, [["the cat"], ["dog"], ["x"], ["A"]]),
    ("TextVectorization", {"vocabulary": ["cat", "dog", "the"], "output_mode": "multi_hot"},
     None, TEXTS),
    ("TextVectorization", {"vocabulary": ["cat", "dog", "the"], "output_mode": "count"},
     None, [["the cat the"], ["dog"]]),
    ("TextVectorization", {"output_mode": "one_hot", "split": None,
                           "vocabulary": ["cat", "dog"]}, None, [["cat"], ["dog"], ["cow"]]),
    ("StringLookup", {"vocabulary": ["a", "b", "c", "d"]},
     None, [["a", "c", "d"], ["d", "z", "b"]]),
    ("StringLookup", {"vocabulary": ["a", "b", "c", "d"], "num_oov_indices": 2},
     None, [["a", "c", "d"], ["d", "z", "b"], ["y", "x", "w"]]),
    ("StringLookup", {"vocabulary": ["a", "b", "c", "d"], "mask_token": ""},
     None, [["a", "", "d"], ["", "z", "b"]]),
    ("StringLookup", {"vocabulary": ["a", "b", "c", "d"], "invert": True},
     None, [[1, 3, 4], [4, 0, 2], [7, 2, 1]]),
    ("StringLookup", {"vocabulary": ["a", "b", "c", "d"], "invert": True, "mask_token": "[M]"},
     None, [[0, 3, 5], [1, 0, 2]]),
    ("StringLookup", {"vocabulary": ["a", "b", "c", "d"], "output_mode": "multi_hot"},
     None, [["a", "c", "d", "d"], ["d", "z", "b", "z"]]),
    ("StringLookup", {"vocabulary": ["a", "b", "c", "d"], "output_mode": "count"},
     None, [["a", "c", "d", "d"], ["d", "z", "b", "z"]]),
    ("StringLookup", {"vocabulary": ["a", "b", "c", "d"], "output_mode": "one_hot"},
     None, [["a"], ["b"], ["c"], ["d"], ["z"]]),
    ("StringLookup", {"vocabulary": ["a", "b", "c", "d"], "output_mode": "multi_hot",
                      "mask_token": ""}, None, [["a", "", "d"], ["", "z", "b"]]),
    ("StringLookup", {"vocabulary": ["a", "b", "c", "d"], "output_mode": "tf_idf",
                      "idf_weights": [0.25, 0.75, 0.6, 0.4]},
     None, [["a", "c", "d", "d"], ["d", "z", "b", "z"]]),
    ("StringLookup", {"max_tokens": 4}, [["a", "b", "c"], ["c", "d", "c"], ["b", "e", "a"],
                                         ["a", "b", "c"]], [["a", "b", "c", "d", "e"]]),
    ("StringLookup", {"output_mode": "tf_idf"}, [["a", "b", "c"], ["c", "d", "c"],
                                                 ["b", "e", "a"]], [["a", "b", "c", "d", "x"]]),
    ("StringLookup", {"output_mode": "multi_hot", "max_tokens": 8, "pad_to_max_tokens": True},
     [["a", "b"], ["b", "c"]], [["a", "c"], ["q", "b"]]),
    ("IntegerLookup", {"vocabulary": [12, 36, 1138, 42]},
     None, [[12, 1138, 42], [42, 1000, 36]]),
    ("IntegerLookup", {"vocabulary": [12, 36, 1138, 42], "num_oov_indices": 2},
     None, [[12, 1138, 42], [42, 1000, 37]]),
    ("IntegerLookup", {"vocabulary": [12, 36, 1138, 42], "mask_token": 0},
     None, [[12, 0, 42], [42, 1000, 0]]),
    ("IntegerLookup", {"vocabulary": [12, 36, 1138, 42], "invert": True},
     None, [[1, 3, 4], [4, 0, 2]]),
    ("IntegerLookup", {"vocabulary": [12, 36, 1138, 42], "output_mode": "multi_hot"},
     None, [[12, 1138, 42, 42], [42, 7, 36, 7]]),
    ("IntegerLookup", {"vocabulary": [12, 36, 1138, 42], "output_mode": "count"},
     None, [[12, 1138, 42, 42], [42, 7, 36, 7]]),
    ("IntegerLookup", {}, [[12, 1138, 42], [42, 1000, 36], [42, 12, 12]],
     [[12, 1138, 42, 1000, 36, 5]]),
    ("IntegerLookup", {"max_tokens": 3, "num_oov_indices": 1},
     [[12, 1138, 42], [42, 1000, 36], [42, 12, 12]], [[12, 1138, 42, 1000, 36, 5]]),
    ("Hashing", {"num_bins": 3}, None, [["A"], ["B"], ["C"], ["D"], ["E"]]),
    ("Hashing", {"num_bins": 3, "salt": 133}, None, [["A"], ["B"], ["C"], ["D"], ["E"]]),
    ("Hashing", {"num_bins": 3, "salt": [133, 137]}, None, [["A"], ["B"], ["C"]]),
    ("Hashing", {"num_bins": 3, "mask_value": ""}, None, [["A"], ["B"], [""], ["C"], ["D"]]),
    ("Hashing", {"num_bins": 10}, None, [[1, 2], [3, 4], [-5, 123456789012]]),
    ("Hashing", {"num_bins": 10, "mask_value": 0}, None, [[0, 2], [3, 0]]),
    ("Hashing", {"num_bins": 10}, None, [[1.0, 2.7], [-3.5, 4.0]]),
    ("Hashing", {"num_bins": 4, "output_mode": "one_hot"}, None, [["A"], ["B"], ["C"]]),
    ("Hashing", {"num_bins": 4, "output_mode": "multi_hot"}, None, [["A", "B"], ["C", "D"]]),
    ("Hashing", {"num_bins": 4, "output_mode": "count"}, None, [["A", "A"], ["C", "D"]]),
    ("HashedCrossing", {"num_bins": 5}, None, ([1, 2, 3, 4], ["a", "b", "c", "d"])),
    ("HashedCrossing", {"num_bins": 1000}, None, ([[1], [2]], [[10], [20]])),
    ("HashedCrossing", {"num_bins": 1000}, None, (["x", "y"], ["p", "q"], [7, 8])),
    ("HashedCrossing", {"num_bins": 7, "output_mode": "one_hot"}, None, ([1, 2], [3, 4])),
    ("HashedCrossing", {"num_bins": 1000}, None, (5, "z")),
]


def _arr(x):
    if isinstance(x, tuple):
        return tuple(np.array(v) for v in x)
    return np.array(x)


def _plain(v):
    v = np.asarray(v)
    if v.dtype.kind in "OSU":
        return np.vectorize(lambda s: s.decode() if isinstance(s, bytes) else str(s),
                            otypes=[object])(v).tolist()
    return v.tolist()


def main():
    out = []
    for cls, kwargs, adapt, inputs in CASES:
        layer = getattr(keras.layers, cls)(**kwargs)
        if adapt is not None:
            layer.adapt(np.array(adapt))
        y = layer(_arr(inputs))
        y = keras.ops.convert_to_numpy(y)
        entry = {"cls": cls, "kwargs": kwargs, "adapt": adapt, "inputs": inputs,
                 "output": _plain(y), "dtype": str(y.dtype)}
        if hasattr(layer, "get_vocabulary"):
            entry["vocabulary"] = [v.decode() if isinstance(v, bytes) else
                                   int(v) if isinstance(v, np.integer) else v
                                   for v in layer.get_vocabulary()]
            entry["vocabulary_size"] = int(layer.vocabulary_size())
        cfg = layer.get_config()
        entry["config_keys"] = sorted(cfg)
        out.append(entry)
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "keras_reference.json"), "w") as f:
        json.dump({"keras_version": keras.__version__, "cases": out}, f, indent=0)


def make_text_model_file():
    """keras_text_model.keras: an adapted multi_hot TextVectorization + Dense(2, ones) model
    saved by Keras (its vocabulary is an asset file in the archive). On
    [["the cat ate"], ["a dog"]] Keras predicts [[3, 3], [2, 2]]."""
    corpus = ["The cat sat on the mat.", "The dog ate my homework!", "my cat is the best cat",
              "a dog and a cat"]
    tv = keras.layers.TextVectorization(output_mode="multi_hot", max_tokens=12)
    tv.adapt(np.array(corpus))
    inp = keras.Input(shape=(1,), dtype="string")
    out = keras.layers.Dense(2, kernel_initializer="ones", bias_initializer="zeros")(tv(inp))
    here = os.path.dirname(os.path.abspath(__file__))
    keras.Model(inp, out).save(os.path.join(here, "keras_text_model.keras"))


if __name__ == "__main__":
    main()
    make_text_model_file()
