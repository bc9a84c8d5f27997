"""The runnable examples in the docstrings of the string and text-data modules stay correct
(the layer modules are covered by tests/keras/test_docstring_examples.py)."""

import doctest
import importlib

import pytest

MODULES = [
    "ndflow.core.string_array", "ndflow.strings.hashes", "ndflow.strings.ragged",
    "ndflow.strings.string_ops", "ndflow.keras.utils.sequence_utils",
    "ndflow.keras.utils.timeseries_dataset_utils",
    "ndflow.keras.layers.preprocessing.categorical_utils",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0
