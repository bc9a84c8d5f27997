"""`MelSpectrogram`: audio signals to (log-)mel spectrograms: a centred short-time Fourier
transform, power, a bank of triangular mel filters (HTK mel scale), then decibels.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> x = np.random.default_rng(0).standard_normal((2, 4000)).astype("float32")
>>> layer = layers.MelSpectrogram(fft_length=256, sequence_stride=128, num_mel_bins=40)
>>> tuple(layer(x).shape)
(2, 40, 32)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.keras.initializers.stft import check_window, get_window
from ndflow.keras.layers.layer import Layer
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of
from ndflow.ops.array import gather, pad, transpose
from ndflow.ops.linalg import matmul, tensordot
from ndflow.ops.reduce import reduce_max

_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def hertz_to_mel(freq: np.ndarray) -> np.ndarray:
    """HTK mel scale: ``1127 * ln(1 + f / 700)``."""
    return _MEL_HIGH_FREQUENCY_Q * np.log(1.0 + freq / _MEL_BREAK_FREQUENCY_HERTZ)


def linear_to_mel_weight_matrix(num_mel_bins: int = 20, num_spectrogram_bins: int = 129,
                                sampling_rate: float = 8000, lower_edge_hertz: float = 125.0,
                                upper_edge_hertz: float = 3800.0,
                                dtype: Any = "float32") -> np.ndarray:
    """`(num_spectrogram_bins, num_mel_bins)` triangular filters with peaks of 1, linear in
    mel between their neighbours' centres; the DC bin gets no weight (HTK). Computed in
    `dtype` as Keras and TensorFlow do.

    >>> w = linear_to_mel_weight_matrix(4, 9, 8000, 100.0, 4000.0)
    >>> w.shape, float(w[0].sum())
    ((9, 4), 0.0)
    """
    dt = np.dtype(dtype)
    nyquist = dt.type(sampling_rate) / dt.type(2.0)
    linear = np.linspace(dt.type(0.0), nyquist, num_spectrogram_bins, dtype=dt)[1:]
    bins_mel = hertz_to_mel(linear).astype(dt)[:, None]
    edges = np.linspace(hertz_to_mel(dt.type(lower_edge_hertz)),
                        hertz_to_mel(dt.type(upper_edge_hertz)), num_mel_bins + 2,
                        dtype=dt)
    lower, center, upper = edges[:-2][None], edges[1:-1][None], edges[2:][None]
    lower_slopes = (bins_mel - lower) / (center - lower)
    upper_slopes = (upper - bins_mel) / (upper - center)
    weights = np.maximum(dt.type(0), np.minimum(lower_slopes, upper_slopes))
    return np.pad(weights, [[1, 0], [0, 0]]).astype(dt)


def _dft_matrices(fft_length: int, window: np.ndarray, dtype: np.dtype) -> tuple:
    """`(fft_length, bins)` real and imaginary DFT matrices with the window folded in."""
    n = np.arange(fft_length)[:, None]
    k = np.arange(fft_length // 2 + 1)[None, :]
    ang = 2.0 * np.pi * ((n * k) % fft_length) / fft_length
    return ((np.cos(ang) * window[:, None]).astype(dtype),
            (-np.sin(ang) * window[:, None]).astype(dtype))


class MelSpectrogram(Layer):
    """Mel spectrograms of `(batch, time)` (or `(time,)`) signals, as `(batch, num_mel_bins,
    frames)` with ``frames = 1 + time // sequence_stride``.

    The signal is reflect-padded by ``fft_length // 2`` on each side; frames of
    `sequence_length` samples, every `sequence_stride`, are windowed (periodic `window`,
    centred in `fft_length`) and transformed; the magnitude raised to `mag_exp` is mapped to
    `num_mel_bins` mel bands between `min_freq` and `max_freq`; with `power_to_db`, the result
    is ``10 log10(max(x, min_power) / ref_power)`` clipped to `top_db` below its maximum
    (over the whole batch, as Keras does).

    Args:
        fft_length (2048), sequence_stride (512), sequence_length (default `fft_length`),
        window ("hann", "hamming", or None), sampling_rate (16000), num_mel_bins (128),
        min_freq (20.0), max_freq (default ``sampling_rate / 2``), power_to_db (True),
        top_db (80.0), mag_exp (2.0), min_power (1e-10), ref_power (1.0).

    >>> MelSpectrogram().get_config()["max_freq"]
    8000
    """

    def __init__(self, fft_length: int = 2048, sequence_stride: int = 512,
                 sequence_length: int | None = None, window: str | None = "hann",
                 sampling_rate: int = 16000, num_mel_bins: int = 128, min_freq: float = 20.0,
                 max_freq: float | None = None, power_to_db: bool = True, top_db: float = 80.0,
                 mag_exp: float = 2.0, min_power: float = 1e-10, ref_power: float = 1.0,
                 **kwargs: Any) -> None:
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise ValueError("MelSpectrogram: fft_length must be greater than or equal to "
                             f"sequence_length, got sequence_length={self.sequence_length}, "
                             f"fft_length={self.fft_length}")
        if sequence_stride < 1:
            raise ValueError(f"MelSpectrogram: sequence_stride must be positive, got "
                             f"{sequence_stride}")
        if isinstance(window, str) and window not in ("hann", "hamming"):
            raise ValueError(f"MelSpectrogram: window must be 'hann', 'hamming' or None, got "
                             f"window={window!r}")
        check_window("MelSpectrogram", window)
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        super().__init__(**kwargs)
        self._cache: dict = {}

    def _constants(self, dt: np.dtype, bins: int) -> tuple:
        key = (dt.str, bins)
        if key not in self._cache:
            n = self.sequence_length
            l_pad = (self.fft_length - n) // 2
            if self.window is None:
                win = np.ones(self.fft_length)
            else:
                win = np.zeros(self.fft_length)
                win[l_pad:l_pad + n] = get_window(self.window, n, periodic=True).astype(dt)
            re, im = _dft_matrices(self.fft_length, win, dt)
            mel = linear_to_mel_weight_matrix(self.num_mel_bins, bins, self.sampling_rate,
                                              self.min_freq, self.max_freq).astype(dt)
            self._cache[key] = (re, im, mel)
        return self._cache[key]

    def call(self, inputs: Any) -> Tensor:
        dt = np.dtype(self.compute_dtype if self.compute_dtype in ("float32", "float64")
                      else "float32")
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        if npdt(x) != dt:
            x = m.cast(x, dt)
        shape = tuple(shape_of(x))
        if len(shape) not in (1, 2):
            raise ValueError(f"MelSpectrogram layer '{self.name}': expected signals of shape "
                             f"(batch, time) or (time,), got shape {shape}")
        half = self.fft_length // 2
        if shape[-1] is not None and shape[-1] <= half:
            raise ValueError(f"MelSpectrogram layer '{self.name}': the signals ({shape[-1]} "
                             f"samples) must be longer than fft_length // 2 = {half} for the "
                             "reflect padding")
        x = pad(x, [[0, 0]] * (len(shape) - 1) + [[half, half]], mode="REFLECT")
        total = int(shape_of(x)[-1])
        frames = 1 + (total - self.fft_length) // self.sequence_stride
        idx = (np.arange(frames)[:, None] * self.sequence_stride
               + np.arange(self.fft_length)[None, :])
        framed = gather(x, idx, axis=len(shape) - 1)  # (..., frames, fft_length)
        bins = self.fft_length // 2 + 1
        re_m, im_m, mel = self._constants(dt, bins)
        real, imag = matmul(framed, re_m), matmul(framed, im_m)
        power = m.add(m.square(real), m.square(imag))
        if self.mag_exp == 2:
            spec = power
        elif self.mag_exp == 1:
            spec = m.sqrt(power)
        else:
            spec = m.pow(m.sqrt(power), float(self.mag_exp))
        out = tensordot(spec, mel, axes=1)
        if self.power_to_db:
            out = self._dbscale(out)
        rank = len(shape_of(out))
        out = transpose(out, tuple(range(rank - 2)) + (rank - 1, rank - 2))
        return m.cast(out, self.compute_dtype)

    def _dbscale(self, x: Tensor) -> Tensor:
        log_spec = m.multiply(m.log(m.maximum(x, self.min_power)), 10.0 / np.log(10.0))
        ref = max(abs(float(self.ref_power)), self.min_power)
        log_spec = m.subtract(log_spec, 10.0 * np.log10(ref))
        return m.maximum(log_spec, m.subtract(reduce_max(log_spec), self.top_db))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shape = tuple(input_shape)
        steps = shape[-1]
        frames = None if steps is None else 1 + (
            steps + 2 * (self.fft_length // 2) - self.fft_length) // self.sequence_stride
        if len(shape) == 1:
            return (self.num_mel_bins, frames)
        return (shape[0], self.num_mel_bins, frames)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "fft_length": self.fft_length, "sequence_stride": self.sequence_stride,
            "sequence_length": self.sequence_length, "window": self.window,
            "sampling_rate": self.sampling_rate, "num_mel_bins": self.num_mel_bins,
            "min_freq": self.min_freq, "max_freq": self.max_freq,
            "power_to_db": self.power_to_db, "top_db": self.top_db, "mag_exp": self.mag_exp,
            "min_power": self.min_power, "ref_power": self.ref_power,
        })
        return config
