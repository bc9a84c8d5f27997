"""pad_sequences, timeseries_dataset_from_array and text_dataset_from_directory against real
Keras 3 (recorded with TensorFlow 2.21 by make_keras_reference.py: keras_reference.json)."""

import json
import os

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from tests.keras.utils_text.make_keras_reference import make_text_tree

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "keras_reference.json")) as f:
    REF = json.load(f)


@pytest.mark.parametrize("case", REF["pad"])
def test_pad_sequences_matches_keras(case):
    out = keras.utils.pad_sequences(case["sequences"], **case["kwargs"])
    assert str(out.dtype) == case["dtype"]
    np.testing.assert_array_equal(out, np.array(case["output"], out.dtype))


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="non-iterable 3 at position 1"):
        keras.utils.pad_sequences([[1], 3])
    with pytest.raises(ValueError, match='padding type "mid"'):
        keras.utils.pad_sequences([[1]], padding="mid")
    with pytest.raises(ValueError, match="dtype=object"):
        keras.utils.pad_sequences([["a"]], value="x")


@pytest.mark.parametrize("case", REF["timeseries"], ids=lambda c: str(c["kwargs"]))
def test_timeseries_dataset_matches_keras(case):
    data = np.arange(40 * 2).reshape(40, 2).astype("float32")
    targets = np.arange(100, 140)
    ds = keras.utils.timeseries_dataset_from_array(data, targets, **case["kwargs"])
    xs, ys = [], []
    for x, y in ds:
        xs.append(x.numpy().tolist())
        ys.append(y.numpy().tolist())
    assert xs == case["x"] and ys == case["y"]
    assert len(ds) == len(case["x"])


def test_timeseries_shuffle_is_a_seeded_permutation_of_the_windows():
    data = np.arange(50)
    plain = keras.utils.timeseries_dataset_from_array(data, None, 5, batch_size=None)
    shuffled = keras.utils.timeseries_dataset_from_array(data, None, 5, batch_size=8,
                                                         shuffle=True, seed=3)
    again = keras.utils.timeseries_dataset_from_array(data, None, 5, batch_size=8,
                                                      shuffle=True, seed=3)
    a = np.concatenate([b.numpy() for b in shuffled])
    assert np.array_equal(a, np.concatenate([b.numpy() for b in again]))
    assert sorted(map(tuple, a.tolist())) == [tuple(w.numpy().tolist()) for w in plain]
    assert not np.array_equal(a, np.stack([w.numpy() for w in plain]))
    with pytest.raises(ValueError, match="`sampling_rate` must be higher than 0"):
        keras.utils.timeseries_dataset_from_array(data, None, 5, sampling_rate=0)
    with pytest.raises(ValueError, match="`end_index` must be lower than the length"):
        keras.utils.timeseries_dataset_from_array(data, None, 5, end_index=50)


@pytest.mark.parametrize("case", REF["text"], ids=lambda c: str(c["kwargs"]))
def test_text_dataset_from_directory_matches_keras(case, tmp_path, capsys):
    make_text_tree(str(tmp_path))
    res = keras.utils.text_dataset_from_directory(str(tmp_path), **case["kwargs"])
    dss = res if isinstance(res, list) else [res]
    assert len(dss) == len(case["parts"])
    for ds, part in zip(dss, case["parts"]):
        texts, labels = [], []
        for x, y in ds:
            assert x.dtype == tf.string
            x, y = np.atleast_1d(x.numpy()), y.numpy()
            if y.ndim == 0 or (case["kwargs"].get("batch_size", 32) is None and
                               case["kwargs"].get("label_mode") != "int"):
                y = y[None]
            texts += [t.decode() for t in x]
            labels += y.tolist()
        assert ds.class_names == part["class_names"]
        if case["kwargs"]["shuffle"]:
            # Keras also shuffles batches with tf.data's buffer (its own RNG); the split and
            # the pairing of texts and labels are what must agree
            assert sorted(zip(texts, map(str, labels))) == sorted(
                zip(part["texts"], map(str, part["labels"])))
        else:
            assert texts == part["texts"] and labels == part["labels"]
    classes = len(case["kwargs"].get("class_names", "abc"))
    files = {2: 16, 3: 20}[classes]
    assert f"Found {files} files belonging to {classes} classes." in capsys.readouterr().out


def test_text_dataset_errors_and_training(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        keras.utils.text_dataset_from_directory(str(tmp_path / "nope"))
    make_text_tree(str(tmp_path))
    with pytest.raises(ValueError, match="must provide a `seed`"):
        keras.utils.text_dataset_from_directory(str(tmp_path), validation_split=0.2,
                                                subset="training")
    with pytest.raises(ValueError, match="exactly 2 class_names"):
        keras.utils.text_dataset_from_directory(str(tmp_path), label_mode="binary")
    ds = keras.utils.text_dataset_from_directory(str(tmp_path), batch_size=4, seed=1,
                                                 verbose=False)
    tv = keras.layers.TextVectorization(output_mode="multi_hot")
    tv.adapt(ds.map(lambda x, y: x))
    assert {"neg", "pos", "zzz", "text", "number"} <= set(tv.get_vocabulary())
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.1), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(ds.map(lambda x, y: (tv(x), y)), epochs=20, verbose=0)
    assert hist.history["accuracy"][-1] == 1.0  # the class word is in every text
