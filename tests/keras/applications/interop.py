"""Shared driver of the application interop tests: ndflow and real Keras 3 (torch backend, in
one subprocess per test module) build the same architectures; each side perturbs its weights
(non-zero biases, non-trivial BatchNormalization statistics), saves them, and the other side
loads them and must give the same outputs. Layer names, classes, weight shapes and parameter
counts must be equal too.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field

import numpy as np
import pytest

from ndflow import keras

HAVE_KERAS = (importlib.util.find_spec("keras") is not None
              and importlib.util.find_spec("torch") is not None)
needs_keras = pytest.mark.skipif(not HAVE_KERAS, reason="needs the keras-interop extra "
                                 "(keras + torch==2.13.0)")
SCRIPT = os.path.join(os.path.dirname(__file__), "keras_apps_script.py")


@dataclass
class Spec:
    """One model to compare: `keras.applications.<module>.<fn>(weights=None, **kwargs)`."""

    key: str
    module: str
    fn: str
    kwargs: dict = field(default_factory=dict)
    legacy: bool = False
    batch: int = 2
    numeric: bool = True  # False: names, classes, shapes and counts only (deep variants of a
    # family whose blocks a numeric spec already covers; keeps the weights files small)


def perturb(model: keras.Model, seed: int) -> None:
    """The same rule as the Keras script: variances in [0.5, 1.5], unit scales and zero
    vectors replaced by random values, so that every loaded number matters."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        val = v.numpy()
        name = v.name.split("/")[-1]
        if not np.issubdtype(val.dtype, np.floating):
            continue
        if "variance" in name:
            new = rng.uniform(0.5, 1.5, val.shape)
        elif name in ("gamma", "scale") and np.all(val == 1):
            new = rng.uniform(0.8, 1.2, val.shape)
        elif not np.any(val):
            new = rng.normal(0, 0.05, val.shape)
        else:
            continue
        v.assign(new.astype(val.dtype))


def _owner(module: str):
    if module.startswith("src:"):  # a family's generic builder (e.g. convnext.ConvNeXt)
        return getattr(keras.applications, module[4:])
    return getattr(keras.applications, module) if module else keras.applications


def build(spec: Spec, **extra) -> keras.Model:
    keras.backend.clear_session(free_memory=False)  # automatic names restart, as in Keras
    module = _owner(spec.module)
    return getattr(module, spec.fn)(weights=None, **spec.kwargs, **extra)


def input_for(spec: Spec, model: keras.Model) -> np.ndarray:
    shape = tuple(model.input_shape[1:])
    rng = np.random.default_rng(abs(hash(spec.key)) % 2**32)
    return rng.uniform(0, 255, (spec.batch,) + shape).astype("float32")


def run(specs: list, folder: str) -> dict:
    """Save ndflow's weights and outputs, run Keras once on all specs; returns
    ``{key: ndflow output}``."""
    nd_out = {}
    for i, spec in enumerate(specs):
        if not spec.numeric:
            continue
        model = build(spec)
        perturb(model, 1000 + i)
        x = input_for(spec, model)
        np.save(os.path.join(folder, f"x_{spec.key}.npy"), x)
        model.save_weights(os.path.join(folder, f"nd_{spec.key}.weights.h5"))
        nd_out[spec.key] = np.asarray(model(x, training=False))
    with open(os.path.join(folder, "specs.json"), "w") as f:
        json.dump([{"key": s.key, "module": s.module, "fn": s.fn, "kwargs": s.kwargs,
                    "legacy": s.legacy, "seed": i,
                    "numeric": s.numeric} for i, s in enumerate(specs)], f)
    env = dict(os.environ, KERAS_BACKEND="torch", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, SCRIPT, folder], env=env, capture_output=True,
                          text=True, timeout=1800)  # one Keras run for every family
    assert proc.returncode == 0, f"keras subprocess failed:\n{proc.stdout}\n{proc.stderr}"
    return nd_out


def assert_close(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert np.all(np.isfinite(want)), f"{what}: reference has non-finite values"
    scale = max(1.0, float(np.abs(want).max()))
    err = float(np.abs(got - want).max())
    assert err <= 2e-4 * scale, f"{what}: max abs error {err:.3g} (scale {scale:.3g})"


def check(spec: Spec, folder: str, nd_out: dict) -> None:
    """Every comparison for one model (see the module docstring)."""
    key = spec.key
    with open(os.path.join(folder, f"meta_{key}.json")) as f:
        meta = json.load(f)
    model = build(spec)
    assert model.name == meta["name"]
    ours = [[la.name, type(la).__name__, [list(w.shape) for w in la.weights]]
            for la in model.layers]
    assert [r[0] for r in ours] == [r[0] for r in meta["layers"]], "layer names/order differ"
    assert ours == meta["layers"], "layer classes or weight shapes differ"
    assert model.count_params() == meta["params"]
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == meta["trainable"]
    if not spec.numeric:
        return
    x = np.load(os.path.join(folder, f"x_{key}.npy"))
    want = np.load(os.path.join(folder, f"kout_{key}.npy"))
    model.load_weights(os.path.join(folder, f"k_{key}.weights.h5"))
    assert_close(np.asarray(model(x, training=False)), want, f"{key}: Keras weights in ndflow")
    assert_close(np.load(os.path.join(folder, f"kfromnd_{key}.npy")), nd_out[key],
                 f"{key}: ndflow weights in Keras")
    if spec.legacy:
        module = _owner(spec.module)
        again = getattr(module, spec.fn)(weights=os.path.join(folder, f"k_{key}.h5"),
                                         **spec.kwargs)
        assert_close(np.asarray(again(x, training=False)), want,
                     f"{key}: legacy .h5 through weights=PATH")
