"""`keras.utils.FeatureSpace` against Keras 3: on the cases of cases.py, ndflow's encoded
outputs (a batch, one element, one element through `Dataset.map`), the learned vocabularies and
bin boundaries, and the encoded features' shapes equal those Keras 3.15.1 gave on TensorFlow
2.21 (keras_reference.json, made by make_keras_reference.py: Keras's FeatureSpace needs
TensorFlow, which the tests do not install). A `.keras` file Keras saved loads in ndflow."""

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
