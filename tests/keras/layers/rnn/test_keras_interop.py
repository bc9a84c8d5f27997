"""Recurrent and attention models move between real Keras 3 (torch backend) and ndflow through
`.keras` files, computing the same outputs and gradients on both sides: Keras saves and ndflow
loads, and ndflow saves (after changing the weights) and Keras loads.

Keras runs in a subprocess, as in tests/keras/saving/test_saving_keras_interop.py.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("keras") is None or importlib.util.find_spec("torch") is None,
    reason="needs the keras-interop extra (keras + torch==2.13.0)")

SCRIPT = os.path.join(os.path.dirname(__file__), "keras_rnn_script.py")
NAMES = ["stack", "masked", "attn", "attn2", "convlstm", "gqa"]


def _keras(mode: str, folder: str) -> None:
    env = dict(os.environ, KERAS_BACKEND="torch", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, SCRIPT, mode, folder], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"keras subprocess failed:\n{proc.stdout}\n{proc.stderr}"


def _run(model, x, w) -> dict:
    xv = tf.constant(x)
    with tf.GradientTape() as tape:
        if x.dtype.kind == "f":
            tape.watch(xv)
        y = model(xv)
        loss = tf.reduce_sum(y * w)
    srcs = list(model.trainable_weights) + ([xv] if x.dtype.kind == "f" else [])
    grads = tape.gradient(loss, srcs)
    out = {"y": y.numpy()}
    for i in range(len(model.trainable_weights)):
        out[f"g{i}"] = grads[i].numpy()
    if x.dtype.kind == "f":
        out["gx"] = grads[-1].numpy()
    return out


def _close(got: dict, want: dict, what: str) -> None:
    assert sorted(got) == sorted(k for k in want if k not in ("x", "w")), what
    for k in got:
        np.testing.assert_allclose(got[k], want[k], rtol=2e-4, atol=2e-5,
                                   err_msg=f"{what}: {k}")


def test_keras_files_load_and_compute_the_same_and_back(tmp_path):
    folder = str(tmp_path)
    _keras("save", folder)
    for name in NAMES:
        ref = dict(np.load(os.path.join(folder, name + ".keras.npz"), allow_pickle=False))
        model = keras.models.load_model(os.path.join(folder, name + ".keras"))
        _close(_run(model, ref["x"], ref["w"]), ref, f"{name}: Keras -> ndflow")
        rng = np.random.default_rng(9)
        model.set_weights([w + 0.2 * rng.standard_normal(w.shape).astype(w.dtype)
                           for w in model.get_weights()])
        mine = _run(model, ref["x"], ref["w"])
        np.savez(os.path.join(folder, name + ".mine.npz"), **mine)
        model.save(os.path.join(folder, name + ".nd.keras"))
    _keras("load", folder)
    for name in NAMES:
        mine = dict(np.load(os.path.join(folder, name + ".mine.npz"), allow_pickle=False))
        back = dict(np.load(os.path.join(folder, name + ".nd.npz"), allow_pickle=False))
        _close(back, mine, f"{name}: ndflow -> Keras")
