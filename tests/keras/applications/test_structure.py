"""Every application variant has Keras 3's structure: model name, layer names and order,
layer classes, weight shapes and parameter counts equal those recorded from real Keras 3.15
(keras_structure.json, made by make_keras_structure.py; no Keras needed at test time)."""

from __future__ import annotations

import json
import os

import pytest

from ndflow import keras
from tests.keras.applications.structure import layer_table, summary
from tests.keras.applications.variants import VARIANTS

with open(os.path.join(os.path.dirname(__file__), "keras_structure.json")) as _f:
    KERAS = json.load(_f)


# the largest variants take seconds each to build (hundreds of millions of weights to draw)
HEAVY = {"ConvNeXtLarge", "ConvNeXtXLarge", "EfficientNetB6", "EfficientNetB7", "NASNetLarge",
         "EfficientNetV2L"}
RUN_HEAVY = os.environ.get("NDFLOW_SLOW_TESTS") == "1" or os.environ.get("CI") == "true"


@pytest.mark.parametrize("key", [
    pytest.param(k, marks=pytest.mark.skipif(
        not RUN_HEAVY, reason="large variant: runs in CI or with NDFLOW_SLOW_TESTS=1"))
    if k in HEAVY else k for k in sorted(VARIANTS)])
def test_structure_equals_keras(key):
    module, fn, kwargs = VARIANTS[key]
    keras.backend.clear_session(free_memory=False)
    owner = getattr(keras.applications, module) if module else keras.applications
    model = getattr(owner, fn)(weights=None, **kwargs)
    ours, want = summary(model), KERAS[key]
    assert ours["name"] == want["name"]
    assert ours["params"] == want["params"], "parameter count differs from Keras's"
    assert ours["trainable"] == want["trainable"]
    assert ours["layers"] == want["layers"], "layer count differs from Keras's"
    assert ours["digest"] == want["digest"], (
        "layer names, order, classes or weight shapes differ from Keras's; first layers: "
        f"{layer_table(model)[:5]}")
    assert model.count_params() == want["params"]
