"""Atomic writes: a save that fails half-way leaves the previous file intact and no litter."""

from __future__ import annotations

import os

import numpy as np
import pytest

from ndflow import keras
from ndflow.keras.saving import file_io, saving_lib

L = keras.layers


def _model(value):
    model = keras.Sequential([keras.Input((3,)), L.Dense(2)])
    for w in model.weights:
        w.assign(np.full(tuple(w.shape), value, "float32"))
    return model


@pytest.mark.parametrize("kind", ["model", "weights"])
def test_failed_save_keeps_previous_file(tmp_path, monkeypatch, kind):
    path = str(tmp_path / ("m.keras" if kind == "model" else "m.weights.h5"))
    save = (lambda m: m.save(path)) if kind == "model" else (lambda m: m.save_weights(path))
    save(_model(1.0))
    before = open(path, "rb").read()

    real = saving_lib.write_h5_state

    def half_then_crash(h5, root, include_optimizer=True):
        real(h5, root, include_optimizer)
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(saving_lib, "write_h5_state", half_then_crash)
    with pytest.raises(OSError, match="disk full"):
        save(_model(2.0))
    monkeypatch.undo()
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == [os.path.basename(path)], "a temp file was left behind"
    fresh = _model(0.0)
    fresh.load_weights(path)
    assert all(np.all(w == 1.0) for w in fresh.get_weights())


def test_atomic_write_replaces_and_keeps_permissions(tmp_path):
    p = tmp_path / "f.bin"
    p.write_bytes(b"old")
    with file_io.atomic_write(str(p)) as (f, tmp):
        f.write(b"new")
        assert os.path.dirname(tmp) == str(tmp_path)  # same folder: rename is atomic
        assert p.read_bytes() == b"old"  # untouched until the rename
    assert p.read_bytes() == b"new"
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(p).st_mode & 0o777 == 0o666 & ~umask
    with pytest.raises(FileNotFoundError):
        with file_io.atomic_write(str(tmp_path / "missing" / "x.bin")):
            pass


def test_overwrite_false_keeps_file(tmp_path):
    path = str(tmp_path / "m.keras")
    _model(1.0).save(path)
    before = open(path, "rb").read()
    with pytest.warns(UserWarning, match="overwrite=False"):
        _model(2.0).save(path, overwrite=False)
    assert open(path, "rb").read() == before
