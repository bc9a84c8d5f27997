"""The runnable examples in the docstrings of the recurrent and attention layers and of
ndflow.ops.rnn stay correct."""

from __future__ import annotations

import doctest
import importlib
import os

import pytest

import ndflow.keras.layers as layers_pkg


def _modules() -> list:
    base = os.path.dirname(layers_pkg.__file__)
    mods = ["ndflow.ops.rnn"]
    for fam in ("rnn", "attention"):
        for f in sorted(os.listdir(os.path.join(base, fam))):
            if f.endswith(".py") and f != "__init__.py":
                mods.append(f"ndflow.keras.layers.{fam}.{f[:-3]}")
    return mods


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
