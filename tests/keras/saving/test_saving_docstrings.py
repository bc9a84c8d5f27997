"""The runnable examples in the saving modules' and checkpoint callbacks' docstrings."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "ndflow.keras.saving", "ndflow.keras.saving.object_registration",
    "ndflow.keras.saving.serialization_lib", "ndflow.keras.saving.saving_api",
    "ndflow.keras.saving.saving_lib", "ndflow.keras.saving.file_io",
    "ndflow.keras.callbacks.model_checkpoint", "ndflow.keras.callbacks.backup_and_restore",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
