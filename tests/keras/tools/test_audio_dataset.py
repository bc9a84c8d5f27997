"""keras.utils.audio_dataset_from_directory on WAV files the test writes: decoding as
TensorFlow's decode_wav (int16 / 32768, (samples, channels)), truncation and zero padding,
resampling to `sampling_rate` (band-limited signals kept, content above the new Nyquist removed),
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
    with pytest.raises(ValueError, match="integer value"):
        f(root, sampling_rate=16000.0)
    with pytest.raises(ValueError, match="higher than 0"):
        f(root, sampling_rate=0)
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


def _tone(freq, rate, n, amp=0.5):
    return amp * np.sin(2 * np.pi * freq * np.arange(n) / rate)


@pytest.mark.parametrize("rate_in, rate_out", [(8000, 16000), (16000, 8000), (44100, 16000),
                                               (22050, 24000)])
def test_resample_keeps_band_limited_signals(rate_in, rate_out):
    from ndflow.keras.utils.audio_dataset_utils import resample

    n = rate_in // 10
    x = np.stack([_tone(300, rate_in, n), _tone(1100, rate_in, n, 0.3)], -1)
    y = resample(x.astype("float32"), rate_in, rate_out)
    assert y.shape == (n * rate_out // rate_in, 2) and y.dtype == np.float32
    m = len(y)
    want = np.stack([_tone(300, rate_out, m), _tone(1100, rate_out, m, 0.3)], -1)
    edge = rate_out // 200  # the filter's reach: zeros are assumed outside the clip
    np.testing.assert_allclose(y[edge:-edge], want[edge:-edge], atol=2e-3)


def test_resample_removes_what_the_new_rate_cannot_hold():
    from ndflow.keras.utils.audio_dataset_utils import resample

    rate = 16000
    x = (_tone(500, rate, rate) + _tone(6000, rate, rate))[:, None].astype("float32")
    y = resample(x, rate, 8000)[200:-200, 0]  # 6 kHz is above the new 4 kHz Nyquist
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    freqs = np.fft.rfftfreq(len(y), 1 / 8000)
    alias = spec[np.abs(freqs - 2000) < 50].max()  # where 6 kHz would fold to
    assert alias < 1e-3 * spec[np.abs(freqs - 500) < 50].max()


def test_sampling_rate_resamples_each_file_after_truncation(tmp_path):
    (tmp_path / "a").mkdir()
    s = (_tone(440, 8000, 800) * 32767).astype(np.int64)[:, None]
    _write(tmp_path / "a" / "tone.wav", s, rate=8000)
    f = keras.utils.audio_dataset_from_directory
    x, _ = next(iter(f(str(tmp_path), sampling_rate=16000, shuffle=False, verbose=False)))
    assert tuple(x.shape) == (1, 1600, 1)
    want = _tone(440, 16000, 1600) * 32767 / 32768  # the same tone at the new rate
    np.testing.assert_allclose(x.numpy()[0, 100:-100, 0], want[100:-100], atol=3e-3)
    # Keras decodes to output_sequence_length samples first, then resamples them
    x, _ = next(iter(f(str(tmp_path), sampling_rate=16000, output_sequence_length=500,
                       shuffle=False, verbose=False)))
    assert tuple(x.shape) == (1, 1000, 1)
