"""Regenerates keras_reference.json: what Keras 3's FeatureSpace gives on the cases of
cases.py. Keras's FeatureSpace needs TensorFlow (tf.data and its lookup/hashing layers), which
the test environment does not install; run this once where `tensorflow-cpu` is installed
(it brings Keras 3) and commit the JSON:

    python tests/keras/feature_space/make_keras_reference.py
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from cases import CASES, adapt_data, build, call_data  # noqa: E402


def plain(x):
    x = np.asarray(x)
    return {"dtype": str(x.dtype), "shape": list(x.shape), "values": x.tolist()}


def encode(out):
    if isinstance(out, dict):
        return {k: plain(v) for k, v in out.items()}
    return plain(out)


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    result = {"keras": keras.__version__, "tensorflow": tf.__version__, "cases": {}}
    for case in CASES:
        fs = build(keras.utils.FeatureSpace, case)
        fs.adapt(adapt_data(tf.data.Dataset, case))
        enc = fs.get_encoded_features()
        shapes = ({k: list(v.shape) for k, v in enc.items()} if isinstance(enc, dict)
                  else list(enc.shape))
        rec = {"batch": encode(fs(call_data(case))), "single": encode(fs(call_data(case, 2))),
               "encoded_shapes": shapes,
               "mapped": encode(next(iter(tf.data.Dataset.from_tensor_slices(
                   call_data(case)).skip(4).map(fs))))}
        vocab = {}
        for name, pre in fs.preprocessors.items():
            if hasattr(pre, "get_vocabulary"):
                vocab[name] = [v.decode() if isinstance(v, bytes) else
                               v if isinstance(v, str) else int(v)
                               for v in pre.get_vocabulary()]
            elif hasattr(pre, "bin_boundaries") and pre.bin_boundaries is not None:
                vocab[name] = [float(b) for b in pre.bin_boundaries]
        rec["state"] = vocab
        result["cases"][case["id"]] = rec
        if case["id"] == "defaults_concat":
            fs.save(os.path.join(here, "keras_feature_space.keras"))
            # the end-to-end model of Keras's guide: raw features in, a prediction out
            keras.utils.set_random_seed(0)
            model = keras.Model(fs.get_inputs(),
                                keras.layers.Dense(1)(fs.get_encoded_features()))
            model.save(os.path.join(here, "keras_feature_space_model.keras"))
            x = {k: tf.constant(v[:, None]) for k, v in call_data(case).items()}
            rec["model_output"] = plain(model(x))
    path = os.path.join(here, "keras_reference.json")
    with open(path + ".tmp", "w") as f:
        json.dump(result, f, indent=None, separators=(",", ":"))
        f.write("\n")
    os.replace(path + ".tmp", path)
    print("wrote", path)
