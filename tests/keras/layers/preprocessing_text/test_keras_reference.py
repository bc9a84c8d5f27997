"""Text and categorical preprocessing layers against real Keras 3.

TextVectorization, StringLookup, IntegerLookup, Hashing and HashedCrossing need TensorFlow in
Keras, so their outputs were recorded once with Keras 3.15.1 on TensorFlow 2.21 by
make_keras_reference.py (keras_reference.json). CategoryEncoding and Discretization run in
Keras without TensorFlow, so they are compared live (Keras on torch, in a subprocess).
"""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ndflow import keras

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "keras_reference.json")) as f:
    REFERENCE = json.load(f)["cases"]


def _plain(arr: np.ndarray):
    if arr.dtype.kind == "O":
        return np.vectorize(lambda b: b.decode(), otypes=[object])(arr).tolist()
    return arr.tolist()


@pytest.mark.parametrize("case", REFERENCE, ids=[f"{i}-{c['cls']}" for i, c in
                                                 enumerate(REFERENCE)])
def test_matches_keras(case):
    kwargs = dict(case["kwargs"])
    if isinstance(kwargs.get("ngrams"), list):
        kwargs["ngrams"] = tuple(kwargs["ngrams"])
    layer = getattr(keras.layers, case["cls"])(**kwargs)
    if case["adapt"] is not None:
        layer.adapt(np.array(case["adapt"]))
    inputs = case["inputs"]
    inputs = tuple(np.array(v) for v in inputs) if case["cls"] == "HashedCrossing" else \
        np.array(inputs)
    out = layer(inputs).numpy()
    assert (str(out.dtype) if out.dtype.kind != "O" else "object") == case["dtype"]
    if out.dtype.kind == "f":
        np.testing.assert_allclose(out, np.array(case["output"], np.float32), rtol=1e-6,
                                   atol=1e-6)
    else:
        assert _plain(out) == case["output"]
    if "vocabulary" in case:
        assert layer.get_vocabulary() == case["vocabulary"]
        assert layer.vocabulary_size() == case["vocabulary_size"]



# ndflow's HashedCrossing also writes `trainable`, which Keras's constructor accepts
_EXTRA_KEYS = {"HashedCrossing": {"trainable"}}


@pytest.mark.parametrize("case", [c for c in REFERENCE if "config_keys" in c],
                         ids=lambda c: c["cls"])
def test_config_keys_equal_keras(case):
    """Keras rebuilds a layer from ndflow's config with cls(**config): no key it refuses
    (StringLookup's `vocabulary_dtype` was one), none missing."""
    kwargs = dict(case["kwargs"])
    if isinstance(kwargs.get("ngrams"), list):
        kwargs["ngrams"] = tuple(kwargs["ngrams"])
    keys = set(getattr(keras.layers, case["cls"])(**kwargs).get_config())
    assert keys - _EXTRA_KEYS.get(case["cls"], set()) == set(case["config_keys"])


_LIVE = r'''
import json, sys
import numpy as np
import keras
rng = np.random.default_rng(0)
data = rng.normal(size=(300, 2)).astype("float32")
cases = [
    ("CategoryEncoding", {"num_tokens": 4, "output_mode": "multi_hot"}, [[0, 1], [2, 3]]),
    ("CategoryEncoding", {"num_tokens": 4, "output_mode": "count"}, [[0, 1, 1], [3, 3, 2]]),
    ("CategoryEncoding", {"num_tokens": 5, "output_mode": "one_hot"}, [[0], [4], [2]]),
    ("CategoryEncoding", {"num_tokens": 5, "output_mode": "one_hot"}, [0, 4, 2]),
    ("CategoryEncoding", {"num_tokens": 3, "output_mode": "multi_hot"}, [0, 2]),
    ("Discretization", {"bin_boundaries": [0.0, 1.0, 2.5]}, [[-1.0, 0.0, 0.5], [1.0, 2.5, 9.0]]),
    ("Discretization", {"bin_boundaries": [0.0, 1.0], "output_mode": "one_hot"}, [[-1.0], [0.5]]),
    ("Discretization", {"bin_boundaries": [0.0, 1.0], "output_mode": "count"},
     [[-1.0, 0.5, 0.7], [2.0, 2.0, -3.0]]),
    ("Discretization", {"num_bins": 4}, "adapt"),
    ("Discretization", {"num_bins": 7, "epsilon": 0.05}, "adapt"),
]
out = []
for cls, kw, inputs in cases:
    layer = getattr(keras.layers, cls)(**kw)
    if inputs == "adapt":
        # Keras's adapt() checks for tf.data first (needs TensorFlow); for an array it runs
        # exactly these two steps
        layer.reset_state()
        layer.update_state(data)
        layer.finalize_state()
        inputs = data[:20].tolist()
    y = keras.ops.convert_to_numpy(layer(np.array(inputs)))
    entry = {"cls": cls, "kwargs": kw, "inputs": inputs, "output": y.tolist(),
             "dtype": str(y.dtype)}
    if cls == "Discretization":
        entry["bin_boundaries"] = [float(b) for b in layer.bin_boundaries]
    out.append(entry)
# count_weights
layer = keras.layers.CategoryEncoding(num_tokens=3, output_mode="count")
y = layer(np.array([[0, 1, 1]]), count_weights=np.array([[0.5, 1.0, 2.0]]))
out.append({"count_weights": keras.ops.convert_to_numpy(y).tolist()})
json.dump(out, sys.stdout)
'''


@pytest.fixture(scope="module")
def live_keras():
    for mod in ("keras", "torch"):  # imported only in the subprocess (torch backend)
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"{mod} (ndflow[keras-interop]) is not installed")
    env = dict(os.environ, KERAS_BACKEND="torch", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, "-c", _LIVE], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_category_encoding_and_discretization_match_live_keras(live_keras):
    rng = np.random.default_rng(0)
    data = rng.normal(size=(300, 2)).astype("float32")
    for case in live_keras[:-1]:
        layer = getattr(keras.layers, case["cls"])(**case["kwargs"])
        if case["cls"] == "Discretization" and "num_bins" in case["kwargs"]:
            layer.adapt(data)
            np.testing.assert_allclose(layer.bin_boundaries, case["bin_boundaries"],
                                       rtol=1e-6)
        out = layer(np.array(case["inputs"])).numpy()
        assert str(out.dtype) == case["dtype"], case
        np.testing.assert_allclose(out, np.array(case["output"]), err_msg=str(case))
    layer = keras.layers.CategoryEncoding(num_tokens=3, output_mode="count")
    out = layer(np.array([[0, 1, 1]]), count_weights=np.array([[0.5, 1.0, 2.0]]))
    np.testing.assert_allclose(out.numpy(), live_keras[-1]["count_weights"])
