"""`STFTSpectrogram`: the short-time Fourier transform of 1D signals as a layer, computed as
a strided 1D convolution with windowed Fourier kernels (`initializers.STFT`), which are
weights and so can be fine-tuned.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> x = np.random.default_rng(0).standard_normal((2, 64, 1)).astype("float32")
>>> tuple(layers.STFTSpectrogram(frame_length=16, frame_step=8)(x).shape)
(2, 7, 9)
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.keras import config as kconfig
from ndflow.keras.initializers.stft import STFT, check_window
from ndflow.keras.layers.layer import InputSpec, Layer
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of
from ndflow.ops.array import concat, pad, transpose
from ndflow.ops.conv import conv, conv_output_length
from ndflow.ops.shape_ops import reshape

MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")


class STFTSpectrogram(Layer):
    """Spectrogram of `(batch, time, channels)` signals (`channels_last`) or `(batch,
    channels, time)` (`channels_first`), each channel transformed on its own.

    Args:
        mode: ``"log"`` (log magnitude, default), ``"magnitude"``, ``"psd"`` (power, with the
            interior bins doubled for a one-sided spectrum), ``"real"``, ``"imag"``,
            ``"angle"`` or ``"stft"`` (real bins then imaginary bins).
        frame_length: window length in samples (default 256).
        frame_step: hop in samples (default ``frame_length // 2``).
        fft_length: DFT size (default the next power of two >= `frame_length`); the layer
            gives ``fft_length // 2 + 1`` frequency bins.
        window: a window name, an array of `frame_length` values, or None (default "hann").
        periodic: periodic instead of symmetric named window (default False).
        scaling: ``"density"`` (default), ``"spectrum"`` or None (see `initializers.STFT`).
        padding: ``"valid"`` (default) or ``"same"``.
        expand_dims: keep channels and frequencies on separate axes (default False: they
            are flattened into one, channel-major).
        data_format: ``"channels_last"`` or ``"channels_first"``.

    The weights are `real_kernel` (unless ``mode="imag"``) and `imag_kernel` (unless
    ``mode="real"``), each `(frame_length, 1, fft_length // 2 + 1)`.

    >>> STFTSpectrogram(mode="psd").get_config()["frame_length"]
    256
    """

    def __init__(self, mode: str = "log", frame_length: int = 256,
                 frame_step: int | None = None, fft_length: int | None = None,
                 window: Any = "hann", periodic: bool = False, scaling: str | None = "density",
                 padding: str = "valid", expand_dims: bool = False,
                 data_format: str | None = None, **kwargs: Any) -> None:
        if frame_step is not None and (frame_step > frame_length or frame_step < 1):
            raise ValueError("STFTSpectrogram: frame_step should be a positive integer not "
                             f"greater than frame_length, got frame_step={frame_step}, "
                             f"frame_length={frame_length}")
        if fft_length is not None and fft_length < frame_length:
            raise ValueError("STFTSpectrogram: fft_length should be at least frame_length, "
                             f"got fft_length={fft_length}, frame_length={frame_length}")
        if fft_length is not None and (fft_length & -fft_length) != fft_length:
            warnings.warn("STFTSpectrogram: fft_length is recommended to be a power of two, "
                          f"got fft_length={fft_length}", stacklevel=2)
        if mode not in MODES:
            raise ValueError(f"STFTSpectrogram: mode must be one of {', '.join(MODES)}, got "
                             f"mode={mode!r}")
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError("STFTSpectrogram: scaling must be None, 'density' or 'spectrum', "
                             f"got scaling={scaling!r}")
        if padding not in ("valid", "same"):
            raise ValueError(f"STFTSpectrogram: padding must be 'valid' or 'same', got "
                             f"padding={padding!r}")
        check_window("STFTSpectrogram", window)
        super().__init__(**kwargs)
        self.mode = mode
        self.frame_length = frame_length
        self.frame_step = frame_step
        self._frame_step = frame_step or frame_length // 2
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window = window.tolist() if isinstance(window, np.ndarray) else window
        self.periodic = periodic
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = expand_dims
        self.data_format = kconfig.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape: Any) -> None:
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        if self.mode != "imag":
            self.real_kernel = self.add_weight(
                name="real_kernel", shape=shape,
                initializer=STFT("real", self.window, self.scaling, self.periodic))
        if self.mode != "real":
            self.imag_kernel = self.add_weight(
                name="imag_kernel", shape=shape,
                initializer=STFT("imag", self.window, self.scaling, self.periodic))
        self.built = True

    def _apply_conv(self, x: Tensor, kernel: Any) -> Tensor:
        """`(batch * channels, time', bins)` from the `(batch * channels, time, 1)` signals."""
        out = conv(x, m.cast(kernel, npdt(x)), strides=self._frame_step,
                   padding=self.padding.upper())
        return out

    def _arrange(self, y: Tensor, batch: int, channels: int) -> Tensor:
        """`(batch * channels, time', bins)` to the layer's output layout."""
        _, steps, bins = tuple(shape_of(y))
        y = reshape(y, (batch, channels, steps, bins))
        if self.data_format == "channels_last":
            if self.expand_dims:
                return transpose(y, (0, 2, 3, 1))  # (batch, time', bins, channels)
            return reshape(transpose(y, (0, 2, 1, 3)), (batch, steps, channels * bins))
        if self.expand_dims:
            return y  # (batch, channels, time', bins)
        return reshape(transpose(y, (0, 1, 3, 2)), (batch, channels * bins, steps))

    def call(self, inputs: Tensor) -> Tensor:
        dt = npdt(inputs)
        if dt.name not in ("float16", "float32", "float64"):
            raise TypeError(f"STFTSpectrogram layer '{self.name}': expected float16, float32 "
                            f"or float64 inputs, got {dt.name}")
        shape = tuple(shape_of(inputs))
        if self.data_format == "channels_last":
            batch, steps, channels = shape
            x = transpose(inputs, (0, 2, 1))
        else:
            batch, channels, steps = shape
            x = inputs
        batch = -1 if batch is None else batch
        x = reshape(x, (-1, steps, 1))
        real = self._apply_conv(x, self.real_kernel) if self.mode != "imag" else None
        imag = self._apply_conv(x, self.imag_kernel) if self.mode != "real" else None
        if batch == -1:
            batch = int(shape_of(x)[0]) // channels
        if self.mode == "real":
            return self._arrange(real, batch, channels)
        if self.mode == "imag":
            return self._arrange(imag, batch, channels)
        if self.mode == "angle":
            return self._arrange(m.atan2(imag, real), batch, channels)
        if self.mode == "stft":
            return self._arrange(concat([real, imag], axis=-1), batch, channels)
        power = m.add(m.square(real), m.square(imag))
        if self.mode == "psd":
            inner = pad(power[:, :, 1:-1], [[0, 0], [0, 0], [1, 1]])
            return self._arrange(m.add(power, inner), batch, channels)
        eps = kconfig.epsilon()
        linear = self._arrange(m.sqrt(m.maximum(power, eps)), batch, channels)
        if self.mode == "magnitude":
            return linear
        return m.log(m.maximum(linear, eps))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shape = tuple(input_shape)
        if len(shape) != 3:
            raise ValueError(f"STFTSpectrogram layer '{self.name}': expected inputs of rank 3 "
                             f"(batch, time, channels), got shape {shape}")
        if self.data_format == "channels_last":
            batch, steps, channels = shape
        else:
            batch, channels, steps = shape
        bins = self._fft_length // 2 + 1
        if self.mode == "stft":
            bins *= 2
        out_steps = conv_output_length(steps, self.frame_length, self._frame_step, 1,
                                       self.padding.upper())
        if self.expand_dims:
            if self.data_format == "channels_last":
                return (batch, out_steps, bins, channels)
            return (batch, channels, out_steps, bins)
        flat = None if channels is None else bins * channels
        if self.data_format == "channels_last":
            return (batch, out_steps, flat)
        return (batch, flat, out_steps)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "mode": self.mode, "frame_length": self.frame_length,
            "frame_step": self.frame_step, "fft_length": self.fft_length,
            "window": self.window, "periodic": self.periodic, "scaling": self.scaling,
            "padding": self.padding, "data_format": self.data_format,
            "expand_dims": self.expand_dims,
        })
        return config
