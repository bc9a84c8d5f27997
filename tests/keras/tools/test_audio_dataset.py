"""keras.utils.audio_dataset_from_directory on WAV files the test writes: decoding as
TensorFlow's decode_wav (int16 / 32768, (samples, channels)), truncation and zero padding,
padded batches, labels, class names, split and seeded shuffling (Keras's file order). Keras's
own version needs TensorFlow, which is not installed, so the reference values are computed
from the samples written."""

from __future__ import annotations

import os
import wave

import numpy as np
import pytest

from ndflow import keras
from ndflow.keras.utils.image_dataset_utils import index_directory


def _write(path, samples, rate=8000, width=2):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


@pytest.fixture
def tree(tmp_path):
    rng = np.random.default_rng(0)
    data = {}
    for c, cls in enumerate(["no", "yes"]):
        (tmp_path / cls).mkdir()
        for i in range(5):
            s = rng.integers(-32768, 32767, (20 + 7 * i + c, 1), dtype=np.int64)
            _write(tmp_path / cls / f"clip{i}.wav", s)
            data[os.path.join(str(tmp_path), cls, f"clip{i}.wav")] = s
    (tmp_path / "yes" / "readme.txt").write_text("not audio")
    return str(tmp_path), data


def test_unshuffled_batches_decode_pad_and_label(tree):
    root, data = tree
    ds = keras.utils.audio_dataset_from_directory(root, batch_size=4, shuffle=False,
                                                  verbose=False)
    assert ds.class_names == ["no", "yes"]
    batches = list(ds)
    assert [tuple(x.shape) for x, _ in batches] == [(4, 41, 1), (4, 48, 1), (2, 49, 1)]
    paths, _, _ = index_directory(root, "inferred", (".wav",), shuffle=False, verbose=False)
    x0 = batches[0][0].numpy()
    for j, p in enumerate(paths[:4]):
        want = data[p][:, 0].astype(np.float32) / 32768
        np.testing.assert_array_equal(x0[j, :len(want), 0], want)
        assert not x0[j, len(want):].any()  # zero padded to the longest clip
    labels = np.concatenate([y.numpy() for _, y in batches])
    assert labels.tolist() == [0] * 5 + [1] * 5 and labels.dtype == np.int32


def test_fixed_length_categorical_split_and_shuffle(tree):
    root, data = tree
    tr, va = keras.utils.audio_dataset_from_directory(
        root, batch_size=None, output_sequence_length=30, label_mode="categorical",
        validation_split=0.3, subset="both", seed=3, verbose=False)
    paths, labels, _ = index_directory(root, "inferred", (".wav",), seed=3, verbose=False)
    val_paths = paths[-3:]  # Keras's split: the last int(0.3 * 10) of the seeded order
    got = list(va)
    for (x, y), p, lab in zip(got, val_paths, labels[-3:]):
        want = np.zeros(30, np.float32)
        s = data[p][:30, 0].astype(np.float32) / 32768
        want[:len(s)] = s
        np.testing.assert_array_equal(x.numpy()[:, 0], want)
        assert y.numpy().tolist() == np.eye(2)[lab].tolist()
    train = [(x.numpy().tobytes(), int(np.argmax(y.numpy()))) for x, y in tr]
    again = [(x.numpy().tobytes(), int(np.argmax(y.numpy()))) for x, y in tr]
    assert len(train) == 7 and sorted(train) == sorted(again)  # the same clips each pass
    assert train != again  # reshuffled each pass


def test_unsupported_and_bad_arguments(tree):
    root, _ = tree
    f = keras.utils.audio_dataset_from_directory
    with pytest.raises(ValueError, match="tensorflow|resampl"):
        f(root, sampling_rate=16000)
    with pytest.raises(ValueError, match="ragged"):
        f(root, ragged=True)
    with pytest.raises(ValueError, match="Cannot set both"):
        f(root, ragged=True, output_sequence_length=10)
    with pytest.raises(ValueError, match="seed"):
        f(root, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="label_mode"):
        f(root, label_mode="onehot")
    ds = f(root, labels=None, batch_size=3, shuffle=False, verbose=False)
    assert ds.class_names is None and tuple(next(iter(ds)).shape) == (3, 34, 1)
