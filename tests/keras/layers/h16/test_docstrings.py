"""The runnable examples in the docstrings of the issue-16 modules stay correct."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "ndflow.keras.layers.core.wrapper", "ndflow.keras.layers.core.reversible_embedding",
    "ndflow.keras.layers.normalization.group_normalization",
    "ndflow.keras.layers.normalization.rms_normalization",
    "ndflow.keras.layers.normalization.spectral_normalization",
    "ndflow.keras.layers.regularization.alpha_dropout",
    "ndflow.keras.layers.pooling.base_adaptive_pooling",
    "ndflow.keras.layers.preprocessing.pipeline",
    "ndflow.keras.layers.preprocessing.stft_spectrogram",
    "ndflow.keras.layers.preprocessing.mel_spectrogram",
    "ndflow.keras.initializers.stft", "ndflow.keras.losses.circle",
    "ndflow.keras.losses.generalized_cross_entropy", "ndflow.keras.metrics.correlation_metrics",
] + [f"ndflow.keras.layers.pooling.adaptive_{mode}_pooling{d}d"
     for mode in ("average", "max") for d in (1, 2, 3)]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
    assert result.attempted > 0, f"{name} has no runnable example"
