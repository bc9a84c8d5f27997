"""`audio_dataset_from_directory`: a folder of ``.wav`` files (one subfolder per class) as a
`Dataset` of ``(audio, labels)`` batches, with Keras's arguments, file order, labels, split and
seeded shuffling (see `image_dataset_from_directory`). WAV files are decoded with Python's
`wave` module (no extra needed) to float32 in [-1, 1) of shape (samples, channels), as
TensorFlow's ``decode_wav`` does; batches are padded with zeros to their longest clip.
`sampling_rate` resamples each clip with a band-limited (Kaiser-windowed sinc) interpolator
to ``floor(samples * sampling_rate / file_rate)`` samples, the length Keras's resampler
(tensorflow-io's Speex) gives; the two filters differ in their details, so values agree to the
band-limited signal, not bit for bit.

>>> from ndflow import keras
>>> ds = keras.utils.audio_dataset_from_directory("speech/", batch_size=16,
...                                               output_sequence_length=16000)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import wave
from typing import Any

import numpy as np

from ndflow.keras.utils.image_dataset_utils import (
    _labels_array, check_validation_split_arg, index_directory, training_or_validation_split,
)

ALLOWED_FORMATS = (".wav",)


def read_wav(path: str, output_sequence_length: int | None = None,
             sampling_rate: int | None = None) -> np.ndarray:
    """float32 samples (n, channels) of a PCM WAV file: 16-bit values / 32768 (8-bit
    unsigned and 32-bit signed are scaled to the same range); `output_sequence_length`
    truncates or pads with zeros, then `sampling_rate` resamples (Keras's order)."""
    try:
        with wave.open(path, "rb") as w:
            channels, width, frames = w.getnchannels(), w.getsampwidth(), w.getnframes()
            rate = w.getframerate()
            raw = w.readframes(frames)
    except (wave.Error, EOFError) as e:
        raise ValueError(f"audio_dataset_from_directory: {path} is not a PCM WAV file ({e})"
                         ) from None
    if width == 2:
        x = np.frombuffer(raw, "<i2").astype(np.float32) / np.float32(32768.0)
    elif width == 1:
        x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / np.float32(128.0)
    elif width == 4:
        x = np.frombuffer(raw, "<i4").astype(np.float64) / 2.0 ** 31
        x = x.astype(np.float32)
    else:
        raise ValueError(f"audio_dataset_from_directory: {path} has {8 * width}-bit samples; "
                         "expected 8-, 16- or 32-bit PCM")
    x = x.reshape(-1, channels)
    if output_sequence_length is not None and output_sequence_length >= 0:
        n = int(output_sequence_length)
        x = x[:n] if len(x) >= n else np.concatenate(
            [x, np.zeros((n - len(x), channels), np.float32)])
    if sampling_rate is not None and sampling_rate != rate:
        x = resample(x, rate, sampling_rate)
    return x


def resample(x: np.ndarray, rate_in: int, rate_out: int, zero_crossings: int = 16,
             beta: float = 8.6) -> np.ndarray:
    """Resample `x` (samples, channels) from `rate_in` to `rate_out` Hz: each output sample
    is the windowed-sinc interpolation of the input at its time, low-passed at the lower of
    the two Nyquist frequencies (`zero_crossings` lobes each side, Kaiser window `beta`);
    ``floor(samples * rate_out / rate_in)`` samples come out, zeros assumed outside.

    >>> t = np.arange(480) / 48000.0
    >>> y = resample(np.sin(2 * np.pi * 440 * t)[:, None], 48000, 16000)
    >>> y.shape, bool(np.abs(y[40:-40, 0] - np.sin(2 * np.pi * 440 * t[::3][40:-40])).max()
    ...                     < 1e-3)
    ((160, 1), True)
    """
    if rate_in <= 0 or rate_out <= 0:
        raise ValueError(f"resample: rates must be positive, got {rate_in} -> {rate_out}")
    n_in = x.shape[0]
    n_out = n_in * rate_out // rate_in
    out = np.zeros((n_out,) + x.shape[1:], np.float32)
    if n_out == 0 or n_in == 0:
        return out
    fc = min(1.0, rate_out / rate_in)  # cutoff as a fraction of the input Nyquist
    half = int(np.ceil(zero_crossings / fc))  # taps each side, in input samples
    xp = np.concatenate([np.zeros((half,) + x.shape[1:], np.float64), x.astype(np.float64),
                         np.zeros((half + 1,) + x.shape[1:], np.float64)])
    offsets = np.arange(-half + 1, half + 1)
    norm = np.i0(beta)
    chunk = max(1, (1 << 20) // len(offsets))  # bounded memory for long clips
    for s in range(0, n_out, chunk):
        m = np.arange(s, min(n_out, s + chunk))
        t = m * (rate_in / rate_out)  # output times in input samples
        base = np.floor(t).astype(np.int64)
        k = base[:, None] + offsets[None, :]  # the input samples around each time
        d = t[:, None] - k
        u = np.clip(d / (half + 1), -1.0, 1.0)
        w = fc * np.sinc(fc * d) * np.i0(beta * np.sqrt(1.0 - u * u)) / norm
        out[m] = np.einsum("mk,mk...->m...", w, xp[k + half]).astype(np.float32)
    return out


def _pad_batch(clips: list) -> np.ndarray:
    n = max(len(c) for c in clips)
    ch = clips[0].shape[1]
    out = np.zeros((len(clips), n, ch), np.float32)
    for i, c in enumerate(clips):
        if c.shape[1] != ch:
            raise ValueError(f"audio_dataset_from_directory: cannot batch clips with {ch} and "
                             f"{c.shape[1]} channels")
        out[i, :len(c)] = c
    return out


def _dataset(paths: list, labels: Any, label_mode: Any, num_classes: int, batch_size: Any,
             output_sequence_length: Any, shuffle: bool, seed: int,
             sampling_rate: int | None = None) -> Any:
    from ndflow.data.dataset import Dataset

    lab = _labels_array(labels, label_mode, num_classes)
    n = len(paths)
    order = Dataset.from_tensor_slices(np.arange(n))
    if shuffle:
        order = order.shuffle(n, seed=seed, reshuffle_each_iteration=True)

    def make(ctx: Any = None) -> Any:  # (Dataset passes an iteration context)
        idx = np.fromiter((int(i) for i in order.as_numpy_iterator()), dtype=np.int64, count=n)
        step = batch_size or 1
        for s in range(0, n, step):
            sel = idx[s:s + step]
            clips = [read_wav(paths[i], output_sequence_length, sampling_rate) for i in sel]
            x = _pad_batch(clips) if batch_size else clips[0]
            if lab is None:
                yield x
            else:
                yield (x, lab[sel] if batch_size else lab[sel[0]])

    return Dataset(make, n if batch_size is None else -(-n // batch_size))


def audio_dataset_from_directory(directory: str, labels: Any = "inferred",
                                 label_mode: str | None = "int", class_names: Any = None,
                                 batch_size: int | None = 32, sampling_rate: int | None = None,
                                 output_sequence_length: int | None = None,
                                 ragged: bool = False, shuffle: bool = True,
                                 seed: int | None = None, validation_split: float | None = None,
                                 subset: str | None = None, follow_links: bool = False,
                                 verbose: bool = True) -> Any:
    """A `Dataset` of ``(audio, labels)`` (audio float32 (batch, samples, channels)) from the
    ``.wav`` files under `directory`, labelled as in Keras (int32, one-hot float32 with
    ``"categorical"``, float32 (n, 1) with ``"binary"``), with ``.class_names``; the last
    `validation_split` of the seed-shuffled files for ``subset="validation"`` (``"both"``
    returns both). `sampling_rate` resamples every clip to that rate (see `resample`).
    Not supported, with a clear error: ``ragged=True`` (ndflow has no ragged tensors)."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError("The `labels` argument should be a list/tuple of integer labels, "
                             "of the same size as the number of audio files in the target "
                             'directory, "inferred" or None. Received: labels={labels!r}')
        if class_names:
            raise ValueError(f'You can only pass `class_names` if `labels="inferred"`. '
                             f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError('`label_mode` argument must be one of "int", "categorical", '
                         f'"binary", or None. Received: label_mode={label_mode}')
    if ragged and output_sequence_length is not None:
        raise ValueError("Cannot set both `ragged` and `output_sequence_length`")
    if ragged:
        raise ValueError("audio_dataset_from_directory: ragged=True is not supported (ndflow "
                         "has no ragged tensors); batches are padded to their longest clip, "
                         "or set output_sequence_length")
    if sampling_rate is not None:
        if not isinstance(sampling_rate, int) or isinstance(sampling_rate, bool):
            raise ValueError("`sampling_rate` should have an integer value. Received: "
                             f"sampling_rate={sampling_rate}")
        if sampling_rate <= 0:
            raise ValueError("`sampling_rate` should be higher than 0. Received: "
                             f"sampling_rate={sampling_rate}")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, labs, names = index_directory(os.fspath(directory), labels, ALLOWED_FORMATS,
                                         class_names=class_names, shuffle=shuffle, seed=seed,
                                         follow_links=follow_links, verbose=verbose)
    if label_mode == "binary" and len(names) != 2:
        raise ValueError(f'When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={names}")
    num_classes = len(names) if names else 0

    def make(subset_name: str | None, shuffled: bool) -> Any:
        p, lab = training_or_validation_split(paths, labs, validation_split, subset_name)
        if not p:
            raise ValueError(f"No {'' if subset_name is None else subset_name + ' '}audio files "
                             f"found in directory {directory}. Allowed format(s): "
                             f"{ALLOWED_FORMATS}")
        ds = _dataset(p, lab, label_mode, num_classes, batch_size, output_sequence_length,
                      shuffled, seed, sampling_rate)
        ds.class_names = names
        return ds

    if subset == "both":
        return [make("training", shuffle), make("validation", False)]
    return make(subset, shuffle)
