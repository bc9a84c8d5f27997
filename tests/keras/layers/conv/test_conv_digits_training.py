"""Real data: the chapter-8-style convnet reaches >= 97% test accuracy on the bundled digits
(examples/ch08_convnet_digits.py), and a Conv1D network learns MNIST-1D."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))


def _load_example(name: str):
    path = os.path.join(ROOT, "examples", name)
    spec = importlib.util.spec_from_file_location(name[:-3], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_convnet_on_digits_reaches_97_percent():
    mod = _load_example("ch08_convnet_digits.py")
    acc = mod.main(epochs=15, verbose=0)
    assert acc >= 0.97, f"test accuracy {acc:.3f} < 0.97"


def test_convnet_summary_matches_keras_param_counts():
    mod = _load_example("ch08_convnet_digits.py")
    model = mod.build_model()
    counts = [int(sum(np.prod(w.shape) for w in layer.weights)) for layer in model.layers]
    assert counts == [0, 320, 0, 18496, 0, 0, 0, 2570] or counts == [320, 0, 18496, 0, 0, 0,
                                                                     2570]
    assert model.count_params() == 21386


@pytest.mark.skipif(os.environ.get("NDFLOW_SLOW_TESTS") != "1"
                    and os.environ.get("CI", "").lower() != "true",
                    reason="MNIST-1D training takes a minute or two; set NDFLOW_SLOW_TESTS=1 "
                           "(CI runs it)")
def test_conv1d_on_mnist1d():
    pytest.importorskip("mnist1d")
    mod = _load_example("conv1d_mnist1d.py")
    acc = mod.main(verbose=0)
    assert acc >= 0.92, f"test accuracy {acc:.3f} < 0.92"
