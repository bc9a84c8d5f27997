"""`STFT` (alias `STFTInitializer`): kernels of a 1D convolution that computes the real or
the imaginary part of a windowed discrete Fourier transform, as `STFTSpectrogram` uses.
Also `get_window`, the named window functions (SciPy's definitions, in NumPy).

>>> from ndflow.keras import initializers
>>> k = initializers.STFT("real", "hann")((8, 1, 5))
>>> tuple(k.shape)
(8, 1, 5)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.keras.initializers.initializers import Initializer, _dtype, _shape
from ndflow.ops.random import place as _place

# generalized cosine windows: w[n] = sum_k (-1)^k a_k cos(2 pi k n / (M - 1))
_COSINE = {
    "hann": (0.5, 0.5),
    "hamming": (0.54, 0.46),
    "blackman": (0.42, 0.50, 0.08),
    "nuttall": (0.3635819, 0.4891775, 0.1365995, 0.0106411),
    "blackmanharris": (0.35875, 0.48829, 0.14128, 0.01168),
    "flattop": (0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368),
}
_ALIASES = {
    "hann": "hann", "han": "hann", "hamming": "hamming", "hamm": "hamming", "ham": "hamming",
    "blackman": "blackman", "black": "blackman", "blk": "blackman",
    "nuttall": "nuttall", "nutl": "nuttall", "nut": "nuttall",
    "blackmanharris": "blackmanharris", "blackharr": "blackmanharris",
    "bkh": "blackmanharris", "flattop": "flattop", "flat": "flattop", "flt": "flattop",
    "boxcar": "boxcar", "box": "boxcar", "ones": "boxcar", "rect": "boxcar",
    "rectangular": "boxcar", "bartlett": "bartlett", "bart": "bartlett", "brt": "bartlett",
    "triang": "triang", "triangle": "triang", "tri": "triang", "cosine": "cosine",
    "halfcosine": "cosine",
}
WINDOW_NAMES = tuple(sorted(_ALIASES))


def _symmetric(kind: str, m: int) -> np.ndarray:
    n = np.arange(m, dtype=np.float64)
    if kind in _COSINE:
        fac = np.linspace(-np.pi, np.pi, m)
        w = np.zeros(m)
        for k, a in enumerate(_COSINE[kind]):
            w += a * np.cos(k * fac)
        return w
    if kind == "boxcar":
        return np.ones(m)
    if kind == "bartlett":
        return np.where(n <= (m - 1) / 2.0, 2.0 * n / (m - 1), 2.0 - 2.0 * n / (m - 1))
    if kind == "triang":
        k = np.arange(1, (m + 1) // 2 + 1, dtype=np.float64)
        if m % 2 == 0:
            w = (2 * k - 1.0) / m
            return np.concatenate([w, w[::-1]])
        w = 2 * k / (m + 1.0)
        return np.concatenate([w, w[-2::-1]])
    return np.sin(np.pi / m * (n + 0.5))  # cosine


def get_window(window: str, length: int, periodic: bool = True) -> np.ndarray:
    """A named window of `length` points (float64), as ``scipy.signal.get_window(window,
    length, fftbins=periodic)``: periodic windows suit spectral analysis, symmetric ones
    filter design.

    >>> [round(float(v), 3) for v in get_window("hann", 4, periodic=False)]
    [0.0, 0.75, 0.75, 0.0]
    """
    kind = _ALIASES.get(window) if isinstance(window, str) else None
    if kind is None:
        raise ValueError(f"get_window: unknown window {window!r}; expected one of "
                         f"{sorted(set(_ALIASES.values()))} (or an alias such as 'han', 'rect')")
    length = int(length)
    if length < 0:
        raise ValueError(f"get_window: expected a non-negative length, got {length}")
    if length <= 1:
        return np.ones(length)
    if periodic and kind != "boxcar":
        return _symmetric(kind, length + 1)[:-1]
    return _symmetric(kind, length)


def check_window(owner: str, window: Any) -> None:
    """Reject unknown window names early (as Keras does by asking SciPy)."""
    if isinstance(window, str) and window not in _ALIASES:
        raise ValueError(f"{owner}: unknown window {window!r}; expected one of "
                         f"{sorted(set(_ALIASES.values()))}, an array of window values, or None")


class STFT(Initializer):
    """Kernels of shape `(frame_length, 1, n_bins)` holding ``cos`` (`side="real"`) or
    ``sin`` (`side="imag"`) of ``-2 pi t f / fft_length`` (``fft_length = 2 (n_bins - 1)``),
    times the window, divided by its L2 norm (`scaling="density"`) or L1 norm
    (`"spectrum"`); convolving a signal with them gives the real/imaginary STFT.

    Args:
        side: ``"real"`` or ``"imag"``.
        window: a window name (see `get_window`), an array of `frame_length` values, or None.
        scaling: ``"density"``, ``"spectrum"`` or None.
        periodic: use the periodic form of a named window (default False: symmetric).

    >>> STFT("imag", "hamming", "spectrum", True).get_config()["side"]
    'imag'
    """

    def __init__(self, side: str = "real", window: Any = "hann", scaling: str | None =
                 "density", periodic: bool = False) -> None:
        if side not in ("real", "imag"):
            raise ValueError(f"STFT: side should be 'real' or 'imag', got side={side!r}")
        check_window("STFT", window)
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError("STFT: scaling must be None, 'density' or 'spectrum', got "
                             f"scaling={scaling!r}")
        if isinstance(window, np.ndarray):
            window = window.tolist()
        self.side = side
        self.window = window
        self.scaling = scaling
        self.periodic = periodic

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        shape = _shape("STFT", shape)
        if len(shape) != 3:
            raise ValueError(f"STFT: expected a kernel shape (frame_length, 1, n_bins), got "
                             f"{shape}")
        dt = _dtype("STFT", dtype)
        frame_length, _, n_bins = shape
        win = None
        scale = np.asarray(1.0, dt)
        if self.window is not None:
            win = (get_window(self.window, frame_length, self.periodic)
                   if isinstance(self.window, str) else np.asarray(self.window))
            win = win.astype(dt)
            if win.ndim != 1 or win.shape[-1] != frame_length:
                raise ValueError(f"STFT: the window must have shape ({frame_length},) (the "
                                 f"frame length), got {win.shape}")
            win = win.reshape(frame_length, 1, 1)
            if self.scaling == "density":
                scale = np.sqrt(np.sum(np.square(win)))
            elif self.scaling == "spectrum":
                scale = np.sum(np.abs(win))
        # computed in the target dtype, step by step as Keras does, for identical kernels
        freq = (np.arange(n_bins, dtype=dt).reshape(1, 1, n_bins) / dt.type((n_bins - 1) * 2))
        time = np.arange(frame_length, dtype=dt).reshape(frame_length, 1, 1)
        args = (dt.type(-2) * time) * freq * np.arccos(dt.type(-1))
        kernel = np.cos(args) if self.side == "real" else np.sin(args)
        if win is not None:
            kernel = (kernel * win) / scale
        return _place(np.ascontiguousarray(np.broadcast_to(kernel, shape), dtype=dt))

    def get_config(self) -> dict:
        return {"side": self.side, "window": self.window, "periodic": self.periodic,
                "scaling": self.scaling}


STFTInitializer = STFT
