"""The FeatureSpace cases compared with Keras 3 (shared by make_keras_reference.py, run with
TensorFlow, and by the tests, run with ndflow). A feature is given as a type string or as
[type, keyword arguments]; a cross as a list of names or as the keyword arguments of
`FeatureSpace.cross`."""

import numpy as np

_rng = np.random.default_rng(7)
N = 40
DATA = {
    "float_a": _rng.normal(3.0, 2.0, N).round(3).astype("float32"),
    "float_b": _rng.uniform(-1.0, 1.0, N).round(3).astype("float32"),
    "int_c": _rng.integers(0, 7, N).astype("int32"),
    "str_d": _rng.choice(["red", "green", "blue", "black", "white"], N, p=[.4, .3, .1, .1, .1]),
    "int_e": _rng.integers(100, 200, N).astype("int32"),
    "str_f": _rng.choice(["x", "yy", "zzz", "w", "ab", "cd"], N),
}
# calls: a batch with unseen values (out of vocabulary) and values seen in adapt
CALL = {
    "float_a": np.array([0.5, 3.0, 10.0, -2.0, 3.5, 1.0], "float32"),
    "float_b": np.array([0.0, 0.9, -0.9, 0.25, -0.3, 0.6], "float32"),
    "int_c": np.array([0, 3, 6, 9, -1, 2], "int32"),
    "str_d": np.array(["red", "blue", "purple", "white", "", "green"]),
    "int_e": np.array([100, 150, 199, 7, 123456, 120], "int32"),
    "str_f": np.array(["x", "zzz", "new", "ab", "w", "yy"]),
}
CASES = [
    {"id": "defaults_concat",
     "features": {"float_a": "float_normalized", "int_c": "integer_categorical",
                  "str_d": "string_categorical", "int_e": "integer_hashed",
                  "str_f": "string_hashed", "float_b": "float"},
     "crosses": [["str_d", "int_c"], ["int_e", "str_f"]],
     "output_mode": "concat", "adapt": "unbatched"},
    {"id": "custom_dict",
     "features": {"float_a": ["float_discretized", {"num_bins": 4}],
                  "float_b": ["float_rescaled", {"scale": 0.5, "offset": 1.0}],
                  "int_c": ["integer_categorical", {"max_tokens": 4, "output_mode": "int"}],
                  "str_d": ["string_categorical", {"num_oov_indices": 2}],
                  "int_e": ["integer_hashed", {"num_bins": 5}],
                  "str_f": ["string_hashed", {"num_bins": 8, "output_mode": "int"}]},
     "crosses": [{"feature_names": ["int_c", "str_f"], "crossing_dim": 16,
                  "output_mode": "int"},
                 {"feature_names": ["str_d", "int_e"], "crossing_dim": 8}],
     "output_mode": "dict", "adapt": "batched"},
    {"id": "dims_concat",
     "features": {"float_a": "float_discretized", "float_b": "float_rescaled",
                  "str_d": ["string_categorical", {"max_tokens": 3}],
                  "str_f": "string_hashed", "int_e": "integer_hashed"},
     "crosses": [["str_d", "str_f"]], "crossing_dim": 10, "hashing_dim": 6,
     "num_discretization_bins": 5, "output_mode": "concat", "adapt": "dict"},
]


def build(FeatureSpace, case):
    """The FeatureSpace of a case, with the given FeatureSpace class (Keras's or ndflow's)."""
    features = {}
    for name, spec in case["features"].items():
        if isinstance(spec, str):
            features[name] = spec
        else:
            kind, kwargs = spec
            features[name] = getattr(FeatureSpace, kind)(name=name, **kwargs)
    crosses = [FeatureSpace.cross(**c) if isinstance(c, dict) else tuple(c)
               for c in case["crosses"]]
    extra = {k: case[k] for k in ("crossing_dim", "hashing_dim", "num_discretization_bins")
             if k in case}
    return FeatureSpace(features=features, crosses=crosses, output_mode=case["output_mode"],
                        **extra)


def adapt_data(Dataset, case):
    """What a case adapts on: a Dataset of single elements or of batches, or a dict."""
    data = {k: DATA[k] for k in case["features"]}
    if case["adapt"] == "dict":
        return data
    ds = Dataset.from_tensor_slices(data)
    return ds.batch(8) if case["adapt"] == "batched" else ds


def call_data(case, index=None):
    data = {k: CALL[k] for k in case["features"]}
    return data if index is None else {k: v[index] for k, v in data.items()}
