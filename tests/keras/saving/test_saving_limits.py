"""Limits checked before work, weight values checked on load, and temp files that never
accumulate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from ndflow import keras
from ndflow.keras.saving import file_io
from tests.keras.saving import hostile_files as hf

L = keras.layers


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    d = tmp_path_factory.mktemp("limits")
    data = hf.valid_file_bytes(d)
    return data, hf.members(data)


def _write(tmp_path, parts, name="m.keras", **replace):
    path = tmp_path / name
    path.write_bytes(hf.rezip(parts, **replace))
    return str(path)


def _many_layers(n):
    return keras.Sequential([keras.Input((2,))] + [L.Activation("relu") for _ in range(n)])


# --- limits -------------------------------------------------------------------------------------
def test_layer_count_limit_refuses_before_building(tmp_path):
    path = str(tmp_path / "many.keras")
    _many_layers(30).save(path)
    with keras.saving.load_limits(max_layers=25):
        with pytest.raises(keras.saving.LoadLimitError,
                           match=r"number of layers .* is 31, more than the limit max_layers=25"
                                 r".*set_load_limits\(max_layers="):
            keras.models.load_model(path)
    assert len(keras.models.load_model(path).layers) == 30  # the default allows it
    assert keras.saving.get_load_limits().max_layers == 20_000  # restored


def test_config_depth_and_size_limits(tmp_path, base):
    data, parts = base
    cfg = json.loads(parts["config.json"])
    nested = {"a": cfg}
    for _ in range(60):
        nested = {"a": [nested]}
    path = _write(tmp_path, parts, **{"config.json": json.dumps(nested).encode()})
    with keras.saving.load_limits(max_config_depth=50):
        with pytest.raises(keras.saving.LoadLimitError, match="max_config_depth=50"):
            keras.models.load_model(path)
    path = _write(tmp_path, parts)
    with keras.saving.load_limits(max_config_bytes=100):
        with pytest.raises(keras.saving.LoadLimitError, match="size of config.json"):
            keras.models.load_model(path)


def test_declared_weight_bytes_limit(tmp_path, base):
    data, parts = base
    path = _write(tmp_path, parts)
    with keras.saving.load_limits(max_weight_bytes=64):
        with pytest.raises(keras.saving.LoadLimitError, match="max_weight_bytes=64"):
            keras.models.load_model(path)


def test_set_load_limits_validates():
    with pytest.raises(ValueError, match="unknown limit 'max_layer'"):
        keras.saving.set_load_limits(max_layer=3)
    with pytest.raises(ValueError, match="positive integer"):
        keras.saving.set_load_limits(max_layers=0)


def test_sequential_add_is_linear(monkeypatch):
    """Adding n layers builds the name set once, not n times (a file of 8,000 layers used to
    take ~25 s to load: quadratic)."""
    from ndflow.keras.models import sequential

    model = keras.Sequential()
    model.add(keras.Input((2,)))
    for _ in range(200):
        model.add(L.Activation("relu"), rebuild=False)
    seen = model.__dict__["_stack_names"]
    assert len(seen) == 201
    layer = L.Activation("relu", name=model.layers[5].name)
    with pytest.raises(ValueError, match="unique names"):
        model.add(layer)
    model.pop()
    model.add(L.Activation("relu", name=model.layers[-1].name + "_x"), rebuild=False)
    assert len(model.__dict__["_stack_names"]) == 201
    assert sequential.Sequential is type(model)


def test_functional_nodes_in_reverse_order_rebuild(tmp_path):
    x = a = keras.Input((3,), name="a")
    for i in range(40):
        x = L.Dense(3, name=f"d{i}")(x)
    model = keras.Model(a, x)
    cfg = model.get_config()
    cfg["layers"] = cfg["layers"][::-1]  # every layer before the ones it needs
    again = keras.Model.from_config(cfg)
    assert [lyr.name for lyr in again.layers][-1] == "d39"
    cfg["layers"] = cfg["layers"][1:]  # the last layer's input producer removed -> clear error
    cfg["layers"] = [e for e in cfg["layers"] if e["name"] != "d10"]
    with pytest.raises(ValueError, match=r"never produced .*unknown layers/nodes \['d10\[0\]'\]"):
        keras.Model.from_config(cfg)


# --- weight budget and values -------------------------------------------------------------------
def test_declared_but_empty_datasets_do_not_buy_weights(tmp_path, base):
    """A config asking for a huge layer, backed by datasets that declare the shape but store
    nothing (2 KB on disk), is refused before anything is allocated."""
    data, parts = base
    cfg = json.loads(parts["config.json"])
    cfg["config"]["layers"][1]["config"]["units"] = 20_000_000

    def empty(h5):
        del h5["layers/dense/vars/0"]
        del h5["layers/dense/vars/1"]
        h5["layers/dense/vars"].create_dataset("0", shape=(4, 20_000_000), dtype="f4")
        h5["layers/dense/vars"].create_dataset("1", shape=(20_000_000,), dtype="f4")

    path = _write(tmp_path, parts, **{"config.json": json.dumps(cfg).encode(),
                                      "model.weights.h5": hf.copy_h5(parts["model.weights.h5"],
                                                                     empty)})
    assert os.path.getsize(path) < 100_000
    with pytest.raises(ValueError, match="more than the weights file holds"):
        keras.models.load_model(path)


def test_padding_in_the_weights_file_does_not_buy_weights(tmp_path, base):
    """Compressible padding (unused HDF5 space) raises neither the budget nor the temp file."""
    data, parts = base
    cfg = json.loads(parts["config.json"])
    cfg["config"]["layers"][1]["config"]["units"] = 2_000_000
    weights = parts["model.weights.h5"] + b"\x00" * (40 << 20)  # padding after the HDF5 data
    import io
    import zipfile

    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("metadata.json", parts["metadata.json"])
        zf.writestr("config.json", json.dumps(cfg).encode())
        zf.writestr("model.weights.h5", weights)
    path = tmp_path / "padded.keras"
    path.write_bytes(bio.getvalue())
    assert path.stat().st_size < 200_000
    with pytest.raises(keras.saving.LoadLimitError, match="max_expansion_ratio"):
        keras.models.load_model(str(path))


def _edit_weight(parts, name, array, **attrs):
    def edit(h5):
        del h5[name]
        parent, key = name.rsplit("/", 1)
        ds = h5[parent].create_dataset(key, data=array)
        for k, v in attrs.items():
            ds.attrs[k] = v
    return hf.copy_h5(parts["model.weights.h5"], edit)


@pytest.mark.parametrize("value,dtype,pattern", [
    (np.nan, "f4", "non-finite values"),
    (np.inf, "f8", "non-finite values"),
    (1e300, "f8", "overflow float32"),
    (True, "?", "booleans"),
    (2**24 + 1, "i8", "cannot be stored exactly"),
])
def test_weight_values_are_checked(tmp_path, base, value, dtype, pattern):
    data, parts = base
    shape = (4, 3)
    arr = np.zeros(shape, dtype)
    arr[0, 0] = value
    path = _write(tmp_path, parts, **{"model.weights.h5": _edit_weight(
        parts, "layers/dense/vars/0", arr)})
    with pytest.raises(ValueError, match=pattern):
        keras.models.load_model(path)


def test_exact_integers_load_into_float_weights(tmp_path, base):
    data, parts = base
    arr = np.arange(12, dtype="i8").reshape(4, 3)
    path = _write(tmp_path, parts, **{"model.weights.h5": _edit_weight(
        parts, "layers/dense/vars/0", arr)})
    model = keras.models.load_model(path)
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), arr.astype("f4"))


def test_nonfinite_weights_saved_by_ndflow_load_back(tmp_path):
    """A variable that really held NaN/inf when ndflow saved it is marked so, and loads back;
    the same values from an unmarked file need the explicit opt-in."""
    model = keras.Sequential([keras.Input((2,)), L.Dense(2)])
    w = model.layers[0].kernel
    w.assign(np.array([[np.nan, 1.0], [np.inf, -np.inf]], "float32"))
    path = str(tmp_path / "nan.keras")
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_array_equal(again.layers[0].kernel.numpy(), w.numpy())
    parts = hf.members(open(path, "rb").read())
    unmarked = _edit_weight(parts, "layers/dense/vars/0", w.numpy())
    path2 = _write(tmp_path, parts, name="unmarked.keras", **{"model.weights.h5": unmarked})
    with pytest.raises(ValueError, match="allow_nonfinite_weights=True"):
        keras.models.load_model(path2)
    with keras.saving.load_limits(allow_nonfinite_weights=True):
        keras.models.load_model(path2)


@pytest.mark.parametrize("value,pattern", [(np.nan, "non-finite"), (-5, "cannot be negative"),
                                           (2.5, "non-integer")])
def test_optimizer_iterations_are_checked(tmp_path, base, value, pattern):
    data, parts = base
    arr = np.array(value, dtype="f8" if isinstance(value, float) else "i8")
    path = _write(tmp_path, parts, **{"model.weights.h5": _edit_weight(
        parts, "optimizer/vars/0", arr)})
    with pytest.raises(ValueError, match=pattern):
        keras.models.load_model(path)


# --- temp files ---------------------------------------------------------------------------------
def test_loading_leaves_no_named_temp_files(tmp_path, base, monkeypatch):
    data, parts = base
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = _write(tmp_path, parts)
    seen = []
    real = file_io.SafeZipReader.copy_to

    def spy(self, name, dest, *a, **k):
        seen.append(os.listdir(scratch))  # while the weights are being copied
        return real(self, name, dest, *a, **k)

    monkeypatch.setattr(file_io.SafeZipReader, "copy_to", spy)
    keras.models.load_model(path)
    assert seen == [[]], "the load's scratch file had a name in the temp folder"
    assert os.listdir(scratch) == []


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_next_save_removes_temp_files_of_killed_saves(tmp_path):
    target = tmp_path / "model.keras"
    dead = _dead_pid()
    stale = tmp_path / f".model.keras.{dead}.abc123.tmp"
    stale.write_bytes(b"x" * 1000)
    alive = tmp_path / f".model.keras.{os.getppid()}.def456.tmp"  # a live writer: kept
    alive.write_bytes(b"y")
    other = tmp_path / f".other.keras.{dead}.abc.tmp"  # another file's: not ours to touch
    other.write_bytes(b"z")
    keras.Sequential([keras.Input((2,)), L.Dense(1)]).save(target)
    names = sorted(os.listdir(tmp_path))
    assert stale.name not in names
    assert alive.name in names and other.name in names and "model.keras" in names


def test_stale_temp_cleanup_reports_names(tmp_path):
    dead = _dead_pid()
    (tmp_path / f".w.weights.h5.{dead}.q.tmp").write_bytes(b"")
    removed = file_io.remove_stale_temp_files(tmp_path / "w.weights.h5")
    assert removed == [f".w.weights.h5.{dead}.q.tmp"]
