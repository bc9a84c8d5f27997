"""ndflow.data against TensorFlow on a table of pipelines (tf_cases.py): recorded TF 2 outputs
(reference/tf_data_cases.json) always, and live TensorFlow too when it is importable."""

import json
import os
import sys

import numpy as np
import pytest

import ndflow

sys.path.insert(0, os.path.dirname(__file__))
from tf_cases import CARDINALITY, CASES, run  # noqa: E402

with open(os.path.join(os.path.dirname(__file__), "reference", "tf_data_cases.json")) as f:
    REF = json.load(f)

try:  # TensorFlow is not a test dependency; when a developer has it, compare live as well
    import tensorflow as real_tf
except ImportError:
    real_tf = None


@pytest.mark.parametrize("name", sorted(CASES))
def test_elements_and_cardinality_match_recorded_tensorflow(name):
    ref = REF["cases"][name]
    assert run(ndflow, CASES[name]) == ref["elements"]
    assert int(CASES[name](ndflow).cardinality()) == ref["cardinality"]


@pytest.mark.parametrize("name", sorted(CARDINALITY))
def test_cardinality_matches_recorded_tensorflow(name):
    assert int(CARDINALITY[name](ndflow).cardinality()) == REF["cardinality"][name]


def test_every_case_has_a_recording():
    assert set(REF["cases"]) == set(CASES) and set(REF["cardinality"]) == set(CARDINALITY)


@pytest.mark.skipif(real_tf is None, reason="TensorFlow not installed (recorded outputs are "
                                            "compared in the tests above)")
@pytest.mark.parametrize("name", sorted(CASES))
def test_live_tensorflow(name):
    assert run(ndflow, CASES[name]) == run(real_tf, CASES[name])


def test_shuffle_statistics_follow_the_buffer_semantics():
    # TF's shuffle: the first output is uniform over the first `buffer_size` elements, and no
    # element can come out before `buffer_size` - 1 positions ahead of its place.
    n, buf, trials = 20, 5, 2000
    firsts = np.zeros(n, int)
    for seed in range(trials):
        out = list(ndflow.data.Dataset.range(n).shuffle(buf, seed=seed).as_numpy_iterator())
        assert sorted(out) == list(range(n))
        assert all(v <= j + buf - 1 for j, v in enumerate(out))
        firsts[out[0]] += 1
    assert firsts[buf:].sum() == 0
    expected = trials / buf
    chi2 = ((firsts[:buf] - expected) ** 2 / expected).sum()
    assert chi2 < 20.5  # 4 degrees of freedom: p < 0.0004 for a fair draw to exceed this


def test_shuffle_full_buffer_is_a_uniform_permutation():
    n, trials = 6, 3000
    pos = np.zeros((n, n), int)
    ds = ndflow.data.Dataset.range(n).shuffle(n, seed=7)
    for _ in range(trials):  # reshuffled each iteration
        for j, v in enumerate(ds.as_numpy_iterator()):
            pos[v, j] += 1
    expected = trials / n
    chi2 = ((pos - expected) ** 2 / expected).sum()
    assert chi2 < 70  # 25 degrees of freedom; p < 1e-5 for a fair shuffle to exceed this
