"""`audio_dataset_from_directory`: a folder of ``.wav`` files (one subfolder per class) as a
`Dataset` of ``(audio, labels)`` batches, with Keras's arguments, file order, labels, split and
seeded shuffling (see `image_dataset_from_directory`). WAV files are decoded with Python's
`wave` module (no extra needed) to float32 in [-1, 1) of shape (samples, channels), as
TensorFlow's ``decode_wav`` does; batches are padded with zeros to their longest clip.

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


def read_wav(path: str, output_sequence_length: int | None = None) -> np.ndarray:
    """float32 samples (n, channels) of a PCM WAV file: 16-bit values / 32768 (8-bit
    unsigned and 32-bit signed are scaled to the same range); `output_sequence_length`
    truncates or pads with zeros."""
    try:
        with wave.open(path, "rb") as w:
            channels, width, frames = w.getnchannels(), w.getsampwidth(), w.getnframes()
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
    return x


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
             output_sequence_length: Any, shuffle: bool, seed: int) -> Any:
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
            clips = [read_wav(paths[i], output_sequence_length) for i in sel]
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
    returns both). Not supported, with a clear error: `sampling_rate` (Keras resamples with
    tensorflow-io) and ``ragged=True`` (ndflow has no ragged tensors)."""
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
        if not isinstance(sampling_rate, int) or sampling_rate <= 0:
            raise ValueError(f"`sampling_rate` should be a positive integer. Received: "
                             f"sampling_rate={sampling_rate}")
        raise ValueError("audio_dataset_from_directory: resampling (`sampling_rate`) is not "
                         "supported in ndflow; resample the files first, or leave "
                         "sampling_rate=None to keep each file's rate")
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
                      shuffled, seed)
        ds.class_names = names
        return ds

    if subset == "both":
        return [make("training", shuffle), make("validation", False)]
    return make(subset, shuffle)
