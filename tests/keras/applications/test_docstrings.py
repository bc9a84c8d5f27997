"""The runnable examples in the docstrings of keras.applications stay correct."""

from __future__ import annotations

import doctest
import importlib
import os

import pytest

import ndflow.keras.applications as apps_pkg

MODULES = sorted(f"ndflow.keras.applications.{f[:-3]}"
                 for f in os.listdir(os.path.dirname(apps_pkg.__file__))
                 if f.endswith(".py") and not f.startswith("_")) + ["ndflow.keras.applications"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
