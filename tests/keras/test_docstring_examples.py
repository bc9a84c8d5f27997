"""The runnable examples in the docstrings of the layers, activations, initializers,
regularizers, constraints, datasets and utils modules stay correct."""

from __future__ import annotations

import doctest
import importlib
import os

import pytest

import ndflow.keras.layers as layers_pkg

_FAMILIES = ("core", "activations", "regularization", "reshaping", "merging", "normalization",
             "preprocessing")
_MINE = {
    "core": None, "activations": None, "merging": None, "normalization": None,
    "preprocessing": None,
    "regularization": ("dropout", "gaussian_noise", "gaussian_dropout",
                       "activity_regularization"),
    "reshaping": ("flatten", "reshape", "permute", "repeat_vector"),
}


def _modules() -> list:
    base = os.path.dirname(layers_pkg.__file__)
    mods = []
    for fam in _FAMILIES:
        only = _MINE[fam]
        for f in sorted(os.listdir(os.path.join(base, fam))):
            if f.endswith(".py") and f != "__init__.py" and (only is None or f[:-3] in only):
                mods.append(f"ndflow.keras.layers.{fam}.{f[:-3]}")
    return mods + [
        "ndflow.keras.activations.activations", "ndflow.keras.activations",
        "ndflow.keras.initializers.initializers", "ndflow.keras.initializers",
        "ndflow.keras.regularizers.regularizers", "ndflow.keras.regularizers",
        "ndflow.keras.constraints.constraints", "ndflow.keras.constraints",
        "ndflow.keras.datasets.digits", "ndflow.keras.datasets",
        "ndflow.keras.utils.numerical_utils", "ndflow.keras.utils.rng_utils",
        "ndflow.keras.utils.file_utils",
    ]


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
