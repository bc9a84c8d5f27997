"""`save_assets`/`load_assets` in `.keras` files (Keras's ``assets/<object path>/`` folders),
named state such as TF-IDF ``idf_weights``, and the text/lookup layers that use them.

The Keras files in keras_asset_models/ were written by Keras 3.15.1 on TensorFlow (its text
layers need TensorFlow) by make_keras_asset_models.py, with Keras's predictions in
expected.json. The other direction (Keras reading ndflow's files) is checked by running that
script's ``check`` mode on the files `write_ndflow_files` writes; it passed for every model
listed here when these tests were written.
"""

from __future__ import annotations

import json
import os
import zipfile

import h5py
import io
import numpy as np
import pytest

from ndflow import keras

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras_asset_models")
with open(os.path.join(HERE, "expected.json")) as f:
    EXPECTED = json.load(f)["models"]


def _x(name: str, inputs: list) -> np.ndarray:
    return np.array(inputs, dtype="int64" if name == "integer_lookup" else str)


def _predict(model, name):
    return np.asarray(model(_x(name, EXPECTED[name]["inputs"])))


def _members(path: str) -> list:
    with zipfile.ZipFile(path) as z:
        return sorted(n for n in z.namelist() if n.startswith("assets/"))


def _named_datasets(path: str) -> dict:
    with zipfile.ZipFile(path) as z:
        h5 = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
        out = {}
        h5.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset)
                      and not n.split("/")[-1].isdigit() else None)
        return out


def _layer_config_keys(path: str) -> list:
    with zipfile.ZipFile(path) as z:
        layers = json.loads(z.read("config.json"))["config"]["layers"]
    return [(e["class_name"], sorted(e["config"])) for e in layers
            if e["class_name"] in ("TextVectorization", "StringLookup", "IntegerLookup")]


def write_ndflow_files(folder: str) -> None:
    """Load each Keras file and save it again with ndflow into `folder` (for the manual
    Keras check: make_keras_asset_models.py check FOLDER)."""
    for name in EXPECTED:
        model = keras.models.load_model(os.path.join(HERE, f"{name}.keras"))
        model.save(os.path.join(folder, f"{name}.keras"))


@pytest.mark.parametrize("name", list(EXPECTED))
def test_keras_file_loads_with_its_assets_and_predicts_as_keras(name, tmp_path):
    model = keras.models.load_model(os.path.join(HERE, f"{name}.keras"))
    np.testing.assert_allclose(_predict(model, name), EXPECTED[name]["outputs"], rtol=1e-5,
                               atol=1e-6)
    # ndflow writes the same asset files and named datasets as Keras, and reads them back
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    assert _members(path) == _members(os.path.join(HERE, f"{name}.keras"))
    ours, theirs = _named_datasets(path), _named_datasets(os.path.join(HERE, f"{name}.keras"))
    assert sorted(ours) == sorted(theirs)
    # the same config keys as Keras's (Keras refuses unknown constructor arguments)
    assert _layer_config_keys(path) == _layer_config_keys(os.path.join(HERE, f"{name}.keras"))
    for k in ours:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-6)
    again = keras.models.load_model(path)
    np.testing.assert_allclose(_predict(again, name), EXPECTED[name]["outputs"], rtol=1e-5,
                               atol=1e-6)


def test_adapted_tf_idf_vectorizer_round_trip_writes_keras_layout(tmp_path):
    L = keras.layers
    tv = L.TextVectorization(output_mode="tf_idf", max_tokens=10)
    tv.adapt(np.array(["the cat sat", "the dog", "a cat", "a bird"]))
    inp = keras.Input(shape=(1,), dtype="string")
    model = keras.Model(inp, L.Dense(2)(tv(inp)))
    path = str(tmp_path / "m.keras")
    model.save(path)
    assert _members(path) == ["assets/layers/text_vectorization/_lookup_layer/vocabulary.txt",
                              "assets/layers/text_vectorization/vocabulary.txt"]
    named = _named_datasets(path)
    np.testing.assert_allclose(named["layers/text_vectorization/vars/idf_weights"],
                               tv._lookup_layer.idf_weights.numpy())
    x = np.array([["the cat"], ["a bird sat"]])
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-6)


class NotesLayer(keras.layers.Layer):
    """A layer whose state lives in an asset file (save_assets/load_assets)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.notes = ""

    def call(self, x):
        return x * float(len(self.notes))

    def save_assets(self, dir_path):
        with open(os.path.join(dir_path, "notes.txt"), "w") as f:
            f.write(self.notes)

    def load_assets(self, dir_path):
        with open(os.path.join(dir_path, "notes.txt")) as f:
            self.notes = f.read()


def test_custom_layer_assets_round_trip_and_limits(tmp_path):
    inp = keras.Input((2,))
    layer = NotesLayer(name="notes")
    model = keras.Model(inp, layer(inp))
    layer.notes = "abc"
    path = str(tmp_path / "n.keras")
    model.save(path)
    assert _members(path) == ["assets/layers/notes_layer/notes.txt"]
    loaded = keras.models.load_model(path, custom_objects={"NotesLayer": NotesLayer})
    assert loaded.layers[1].notes == "abc"
    with keras.saving.load_limits(max_asset_bytes=2):
        with pytest.raises(ValueError, match="notes.txt.*limit 2|max_asset_bytes"):
            keras.models.load_model(path, custom_objects={"NotesLayer": NotesLayer})


def test_assets_outside_an_objects_folder_are_not_given_to_it(tmp_path):
    # only plain files directly in assets/<path>/ are extracted: a deeper member is not
    inp = keras.Input((2,))
    model = keras.Model(inp, NotesLayer(name="notes")(inp))
    model.layers[1].notes = "xy"
    path = str(tmp_path / "n.keras")
    model.save(path)
    hostile = str(tmp_path / "h.keras")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(hostile, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "assets/layers/notes_layer/notes.txt":
                dst.writestr("assets/layers/notes_layer/deeper/notes.txt", b"zzzzzzzz")
                continue
            dst.writestr(item, data)
    loaded = keras.models.load_model(hostile, custom_objects={"NotesLayer": NotesLayer})
    assert loaded.layers[1].notes == ""  # load_assets was not called without its folder
