"""The runnable examples in the image preprocessing modules' docstrings stay correct."""

from __future__ import annotations

import doctest
import importlib
import os

import pytest

import ndflow.keras.layers.preprocessing.image as image_pkg

MODULES = sorted(f[:-3] for f in os.listdir(os.path.dirname(image_pkg.__file__))
                 if f.endswith(".py") and f != "__init__.py")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(f"ndflow.keras.layers.preprocessing.image.{name}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{name}: {result.failed} docstring example(s) failed"
