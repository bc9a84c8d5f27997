"""More of `keras.ops.math`: Fourier transforms on (real, imag) pairs (`fft`, `fft2`,
`ifft2`, `rfft`, `irfft`), short-time transforms (`stft`, `istft`), `segment_min`,
`segment_prod`, `erfc` and `erfinv`.

As in Keras 3, complex values travel as a tuple `(real, imag)` of float tensors, so every
transform differentiates with real arithmetic.

>>> from ndflow.keras import ops
>>> re, im = ops.rfft(ops.convert_to_tensor([1.0, 2.0, 3.0, 4.0]))
>>> re.numpy().tolist(), im.numpy().tolist()
([10.0, -2.0, -2.0], [0.0, 2.0, 0.0])
>>> ops.irfft((re, im)).numpy().tolist()
[1.0, 2.0, 3.0, 4.0]
"""

from __future__ import annotations

import math as _pymath
from typing import Any

import numpy as np

from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor, constant
from ndflow.keras.ops._common import as_tensor, rank, to_float
from ndflow.keras.ops.math import _segments
from ndflow.ops import array as a_
from ndflow.ops import math as m
from ndflow.ops import reduce as r_
from ndflow.ops import shape_ops as s_
from ndflow.ops import spectral as sp_
from ndflow.ops._util import npdt, shape_of


def _name(op: str) -> str:
    return f"keras.ops.{op}"


def _pair(op: str, x: Any) -> tuple:
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise fail(_name(op), "a tuple (real, imag) of two float tensors",
                   f"{type(x).__name__}", "Keras passes complex values as (real, imag).")
    re, im = to_float(x[0]), to_float(x[1])
    if npdt(re) != npdt(im) or tuple(shape_of(re)) != tuple(shape_of(im)):
        raise fail(_name(op), "real and imag of one shape and dtype",
                   f"{npdt(re).name}{list(shape_of(re))} and {npdt(im).name}"
                   f"{list(shape_of(im))}")
    return re, im


def fft(x: Any) -> tuple:
    """Fourier transform over the last axis of `(real, imag)`."""
    return sp_.fft_pair(*_pair("fft", x))


def fft2(x: Any) -> tuple:
    """Fourier transform over the last two axes of `(real, imag)`."""
    return sp_.fft_pair(*_pair("fft2", x), rank=2)


def ifft2(x: Any) -> tuple:
    """Inverse Fourier transform over the last two axes of `(real, imag)`."""
    return sp_.fft_pair(*_pair("ifft2", x), rank=2, inverse=True)


def rfft(x: Any, fft_length: int | None = None) -> tuple:
    """Transform of a real signal over its last axis (`fft_length` points, cut or
    zero-padded): the `fft_length // 2 + 1` non-negative frequencies as `(real, imag)`."""
    return sp_.rfft_pair(to_float(x), fft_length)


def irfft(x: Any, fft_length: int | None = None) -> Tensor:
    """Inverse of `rfft`: a real signal of `fft_length` points (default
    `2 * (bins - 1)`)."""
    return sp_.irfft_pair(*_pair("irfft", x), fft_length)


def _stft_window(op: str, window: Any, sequence_length: int, fft_length: int,
                 dt: np.dtype) -> np.ndarray | Tensor:
    """The window, zero-padded on both sides to `fft_length` (None: rectangular)."""
    l_pad = (fft_length - sequence_length) // 2
    r_pad = fft_length - sequence_length - l_pad
    if window is None:
        return np.ones(fft_length, dt)
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise fail(_name(op), "window 'hann', 'hamming', a tensor or None", repr(window))
        n = np.arange(sequence_length)
        a0 = 0.5 if window == "hann" else 0.54
        win = a0 - (1 - a0) * np.cos(2 * np.pi * n / sequence_length)  # periodic
        return np.pad(win, (l_pad, r_pad)).astype(dt)
    w = to_float(window)
    if npdt(w) != dt:
        w = m.cast(w, dt)
    if tuple(shape_of(w)) != (sequence_length,):
        raise fail(_name(op), f"a window of shape [{sequence_length}] (sequence_length)",
                   f"shape {list(shape_of(w))}")
    return a_.pad(w, [[l_pad, r_pad]])


def _check_lengths(op: str, sequence_length: int, sequence_stride: int,
                   fft_length: int) -> tuple:
    sl, ss, fl = int(sequence_length), int(sequence_stride), int(fft_length)
    if sl < 1 or ss < 1 or fl < sl:
        raise fail(_name(op), "positive sequence_length and sequence_stride, fft_length >= "
                   "sequence_length", f"{sl}, {ss}, {fl}")
    return sl, ss, fl


def stft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int,
         window: Any = "hann", center: bool = True) -> tuple:
    """Short-time Fourier transform over the last axis: frames of `fft_length` samples every
    `sequence_stride`, weighted by `window` ('hann', 'hamming' (periodic), a tensor of
    `sequence_length` values, or None), as `(real, imag)` of shape
    `(..., frames, fft_length // 2 + 1)`. `center` reflect-pads `fft_length // 2` samples on
    both sides first."""
    sl, ss, fl = _check_lengths("stft", sequence_length, sequence_stride, fft_length)
    x = to_float(x)
    dt = npdt(x)
    nd = rank(x)
    if center:
        x = a_.pad(x, [[0, 0]] * (nd - 1) + [[fl // 2, fl // 2]], mode="REFLECT")
    n = shape_of(x)[-1]
    if n is None or n < fl:
        raise fail(_name("stft"), f"a known signal length of at least fft_length={fl}",
                   f"shape {list(shape_of(x))}")
    framed = sp_.frame(x, fl, ss)  # [..., F, fl]
    win = _stft_window("stft", window, sl, fl, dt)
    framed = m.multiply(framed, constant(win) if isinstance(win, np.ndarray) else win)
    return sp_.rfft_pair(framed, fl)


def istft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int,
          length: int | None = None, window: Any = "hann", center: bool = True) -> Tensor:
    """Inverse of `stft`: the frames' inverse transforms, weighted by the window, added back
    together and divided by the overlapped squared window (as SciPy's `istft` and
    `torch.istft`); `length` crops (or zero-pads) the result."""
    sl, ss, fl = _check_lengths("istft", sequence_length, sequence_stride, fft_length)
    re, im = _pair("istft", x)
    dt = npdt(re)
    frames = sp_.irfft_pair(re, im, fl)  # [..., F, fl]
    if shape_of(frames)[-2] is None:
        raise fail(_name("istft"), "a known number of frames", f"shape {shape_of(re)}")
    nframes = int(shape_of(frames)[-2])
    win = _stft_window("istft", window, sl, fl, dt)
    if isinstance(win, np.ndarray):
        frames = m.multiply(frames, constant(win))
        env = np.zeros(fl + ss * (nframes - 1))
        for f in range(nframes):
            env[f * ss: f * ss + fl] += win.astype(np.float64) ** 2
        env_t = constant(np.where(env > 1e-11, env, 1.0).astype(dt))
    else:
        frames = m.multiply(frames, win)
        sq = a_.tile(a_.expand_dims(m.square(win), 0), [nframes, 1])
        env_t = sp_.overlap_and_add(sq, ss)
        env_t = m.where(m.greater(env_t, 1e-11), env_t, m.ones_like_(env_t))
    out = m.divide(sp_.overlap_and_add(frames, ss), env_t)
    start = fl // 2 if center else 0
    total = shape_of(out)[-1]
    if length is not None:
        end = start + int(length)
    elif center:
        end = total - fl // 2
    else:
        end = total
    nd = rank(out)
    if end > total:
        out = a_.pad(out, [[0, 0]] * (nd - 1) + [[0, end - total]])
    return a_.slice_(out, [0] * (nd - 1) + [start], [-1] * (nd - 1) + [end - start])


def segment_min(data: Any, segment_ids: Any, num_segments: int | None = None,
                sorted: bool = False) -> Tensor:  # noqa: A002
    """Minimum of the rows of `data` sharing a segment id; empty segments hold +inf (as
    Keras; the largest value for integers)."""
    d, ids, n = _segments("segment_min", data, segment_ids, num_segments)
    dt = npdt(d)
    high = np.inf if dt.kind == "f" else np.iinfo(dt).max
    return _segment_reduce(d, ids, n, high, r_.reduce_min)


def segment_prod(data: Any, segment_ids: Any, num_segments: int | None = None,
                 sorted: bool = False) -> Tensor:  # noqa: A002
    """Product of the rows of `data` sharing a segment id; empty segments hold 1."""
    d, ids, n = _segments("segment_prod", data, segment_ids, num_segments)
    return _segment_reduce(d, ids, n, 1, r_.reduce_prod)


def _segment_reduce(d: Tensor, ids: Tensor, n: int, fill: Any, reduce: Any) -> Tensor:
    oh = a_.one_hot(ids, n, on_value=True, off_value=False, dtype=np.bool_)  # [rows, n]
    nd = rank(d)
    mask = s_.reshape(oh, [-1 if s is None else s for s in shape_of(oh)] + [1] * (nd - 1))
    de = a_.expand_dims(d, 1)
    filled = m.where(mask, de, m.add(m.zeros_like_(de), as_tensor(fill, npdt(d))))
    return reduce(filled, 0)


def erfc(x: Any) -> Tensor:
    """Complementary error function `1 - erf(x)`."""
    return m.erfc(to_float(x))


def _erfinv_fwd(xp: Any, y: Any) -> Any:
    from ndflow.core.elementwise import xp_function

    _erf_fwd = xp_function(xp, "erf")
    y64 = y.astype(np.float64)
    # Giles' single-precision approximation, then Newton steps on erf in float64
    w = -xp.log(xp.maximum((1.0 - y64) * (1.0 + y64), 1e-300))
    small = w < 5.0
    ws = w - 2.5
    p1 = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p1 = c + p1 * ws
    wl = xp.sqrt(xp.maximum(w, 5.0)) - 3.0
    p2 = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        p2 = c + p2 * wl
    x = xp.where(small, p1, p2) * y64
    finite = xp.abs(y64) < 1.0
    for _ in range(2):
        err = _erf_fwd(xp.where(finite, x, 0.0)) - y64
        x = xp.where(finite, x - err / (2.0 / _pymath.sqrt(_pymath.pi) * xp.exp(-x * x)), x)
    x = xp.where(y64 == 1.0, xp.inf, xp.where(y64 == -1.0, -xp.inf, x))
    x = xp.where(xp.abs(y64) > 1.0, xp.nan, x)
    return x.astype(y.dtype)


def _erfinv_grad(node: Any, g: Tensor) -> tuple:
    x = node.outputs
    return (m.multiply(g, m.multiply(m.exp(m.square(x)), _pymath.sqrt(_pymath.pi) / 2.0)),)


_ERFINV = register_op("kops_erfinv", _erfinv_fwd, lambda y: Spec(tuple(y.shape), y.dtype),
                      _erfinv_grad)


def erfinv(x: Any) -> Tensor:
    """Inverse error function (`erf(erfinv(y)) = y` for y in (-1, 1))."""
    return execute(_ERFINV, (to_float(x),))


__all__ = ["erfc", "erfinv", "fft", "fft2", "ifft2", "irfft", "istft", "rfft", "segment_min",
           "segment_prod", "stft"]

