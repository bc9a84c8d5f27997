"""Complex numbers and Fourier transforms (`tf.complex`, `tf.math.real/imag/conj/angle`,
`tf.signal.fft/ifft/fft2d/ifft2d/rfft/irfft`).

The transforms are primitives on pairs of real tensors (real part, imaginary part), the form
Keras 3's `ops.fft` uses, so their gradients are plain real arithmetic: the adjoint of the
discrete Fourier transform is `n` times its inverse. The complex-valued TensorFlow functions
are built on them with `complex`/`real`/`imag`, which carry TensorFlow's gradient
conventions for complex tensors.

>>> import ndflow as tf
>>> re, im = fft_pair([1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0])
>>> re.numpy().tolist(), im.numpy().tolist()
([1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0])
>>> tf.signal.irfft(tf.signal.rfft([1.0, 2.0, 3.0, 4.0])).numpy().tolist()
[1.0, 2.0, 3.0, 4.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor
from ndflow.ops import array as a_
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of, t


def _complex_of(dt: np.dtype) -> np.dtype:
    return np.dtype(np.complex128 if dt == np.float64 else np.complex64)


def _real_of(dt: np.dtype) -> np.dtype:
    if dt.kind == "c":
        return np.dtype(np.float64 if dt == np.complex128 else np.float32)
    return dt


# --- complex numbers -----------------------------------------------------------------------------


def _complex_infer(re: Spec, im: Spec) -> Spec:
    if re.dtype != im.dtype or re.dtype.kind != "f" or re.dtype.itemsize < 4:
        raise fail("complex", "real and imag of one dtype, float32 or float64",
                   f"{re.dtype.name} and {im.dtype.name}")
    if tuple(re.shape) != tuple(im.shape):
        raise fail("complex", "real and imag of one shape", f"{list(re.shape)} and "
                   f"{list(im.shape)}")
    return Spec(tuple(re.shape), _complex_of(re.dtype))


def _complex_grad(node: Any, g: Tensor) -> tuple:
    return (execute(_REAL, (g,)), execute(_IMAG, (g,)))


_COMPLEX = register_op("complex", lambda xp, re, im: re + 1j * im.astype(_complex_of(re.dtype)),
                       _complex_infer, _complex_grad)


def _part_infer(x: Spec) -> Spec:
    return Spec(tuple(x.shape), _real_of(x.dtype))


def _as_input_dtype(node: Any, g: Tensor, imag: bool = False) -> Tensor:
    """A real gradient `g` back in the input's dtype (complex inputs get `g` or `i g`)."""
    x = node.inputs[0]
    if npdt(x).kind != "c":
        return m.zeros_like_(g) if imag else g
    z = m.zeros_like_(g)
    return execute(_COMPLEX, (z, g) if imag else (g, z))


_REAL = register_op("real", lambda xp, x: xp.real(x).copy() if x.dtype.kind == "c" else x,
                    _part_infer, lambda node, g: (_as_input_dtype(node, g),))
_IMAG = register_op("imag", lambda xp, x: xp.imag(x).copy() if x.dtype.kind == "c"
                    else xp.zeros_like(x), _part_infer,
                    lambda node, g: (_as_input_dtype(node, g, imag=True),))
_CONJ = register_op("conj", lambda xp, x: xp.conj(x) if x.dtype.kind == "c" else x,
                    lambda x: Spec(tuple(x.shape), x.dtype),
                    lambda node, g: (execute(_CONJ, (g,)),))


def complex(real: Any, imag: Any, name: str | None = None) -> Tensor:  # noqa: A001
    """The complex tensor `real + 1j * imag` (complex64 from float32, complex128 from
    float64)."""
    re, im = t(real), t(imag)
    if npdt(re).kind != "f":
        re = m.cast(re, np.float32)
    if npdt(im) != npdt(re):
        im = m.cast(im, npdt(re))
    return execute(_COMPLEX, (re, im))


def real(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Real part (real inputs pass through)."""
    return execute(_REAL, (t(input),))


def imag(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Imaginary part (zeros for real inputs)."""
    return execute(_IMAG, (t(input),))


def conj(x: Any, name: str | None = None) -> Tensor:
    """Complex conjugate (real inputs pass through)."""
    return execute(_CONJ, (t(x),))


def angle(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Argument of complex numbers, in radians (0 or pi for real inputs)."""
    x = t(input)
    if npdt(x).kind != "c":
        zero = m.zeros_like_(x)
        return m.atan2(zero, x)
    return m.atan2(imag(x), real(x))


# --- Fourier transforms on (real, imag) pairs ----------------------------------------------------


def _fft_pair_fwd(xp: Any, re: Any, im: Any, rank: int, inverse: bool) -> tuple:
    z = re + 1j * im.astype(_complex_of(re.dtype))
    axes = tuple(range(-rank, 0))
    y = xp.fft.ifftn(z, axes=axes) if inverse else xp.fft.fftn(z, axes=axes)
    return xp.real(y).astype(re.dtype), xp.imag(y).astype(re.dtype)


def _fft_pair_infer(re: Spec, im: Spec, rank: int, inverse: bool) -> tuple:
    if re.dtype != im.dtype or re.dtype.kind != "f":
        raise fail("fft", "real and imaginary parts of one floating-point dtype",
                   f"{re.dtype.name} and {im.dtype.name}")
    if tuple(re.shape) != tuple(im.shape) or re.ndim < rank:
        raise fail("fft", f"real and imaginary parts of one shape, rank >= {rank}",
                   f"{list(re.shape)} and {list(im.shape)}")
    return (Spec(tuple(re.shape), re.dtype), Spec(tuple(re.shape), re.dtype))


def _fft_size(x: Tensor, rank: int) -> int:
    dims = shape_of(x)[-rank:]
    if any(d is None for d in dims):
        raise fail("fft", "known transform sizes for the gradient", f"shape {shape_of(x)}")
    return int(np.prod(dims))


def _fft_pair_grad(node: Any, gre: Any, gim: Any) -> tuple:
    rank, inverse = node.attrs["rank"], node.attrs["inverse"]
    re = node.inputs[0]
    gre = m.zeros_like_(re) if gre is None else gre
    gim = m.zeros_like_(re) if gim is None else gim
    n = float(_fft_size(re, rank))
    # adjoint of F is n F^-1; adjoint of F^-1 is F / n
    out = execute(_FFT_PAIR, (gre, gim), {"rank": rank, "inverse": not inverse})
    scale = 1.0 / n if inverse else n
    return tuple(m.multiply(o, scale) for o in out)


_FFT_PAIR = register_op("fft_pair", _fft_pair_fwd, _fft_pair_infer, _fft_pair_grad,
                        num_outputs=2)


def _fit_last(x: Tensor, n: int) -> Tensor:
    """`x` cut or zero-padded to length `n` on the last axis."""
    size = shape_of(x)[-1]
    if size == n:
        return x
    nd = len(shape_of(x))
    if size > n:
        return a_.slice_(x, [0] * nd, [-1] * (nd - 1) + [n])
    return a_.pad(x, [[0, 0]] * (nd - 1) + [[0, n - size]])


def _rfft_fwd(xp: Any, x: Any, n: int) -> tuple:
    y = xp.fft.rfft(x, n=n, axis=-1)
    return xp.real(y).astype(x.dtype), xp.imag(y).astype(x.dtype)


def _rfft_infer(x: Spec, n: int) -> tuple:
    if x.dtype.kind != "f" or x.ndim < 1:
        raise fail("rfft", "a real floating-point input of rank >= 1",
                   f"dtype {x.dtype.name}, shape {list(x.shape)}")
    s = Spec(tuple(x.shape[:-1]) + (n // 2 + 1,), x.dtype)
    return (s, Spec(s.shape, s.dtype))


def _rfft_grad(node: Any, gre: Any, gim: Any) -> tuple:
    x = node.inputs[0]
    n = node.attrs["n"]
    ref = node.outputs[0]
    gre = m.zeros_like_(ref) if gre is None else gre
    gim = m.zeros_like_(ref) if gim is None else gim
    # gx[t] = Re(sum_k G_k e^{+2 pi i k t / n}) = n * Re(ifft(G padded to n))
    full_re, full_im = _fit_last(gre, n), _fit_last(gim, n)
    back = execute(_FFT_PAIR, (full_re, full_im), {"rank": 1, "inverse": True})[0]
    return (_fit_last(m.multiply(back, float(n)), shape_of(x)[-1]),)


_RFFT = register_op("rfft", _rfft_fwd, _rfft_infer, _rfft_grad, num_outputs=2)


def _irfft_fwd(xp: Any, re: Any, im: Any, n: int) -> Any:
    z = re + 1j * im.astype(_complex_of(re.dtype))
    return xp.fft.irfft(z, n=n, axis=-1).astype(re.dtype)


def _irfft_infer(re: Spec, im: Spec, n: int) -> Spec:
    if re.dtype != im.dtype or re.dtype.kind != "f" or tuple(re.shape) != tuple(im.shape):
        raise fail("irfft", "real and imaginary parts of one shape and floating-point dtype",
                   f"{re.dtype.name}{list(re.shape)} and {im.dtype.name}{list(im.shape)}")
    return Spec(tuple(re.shape[:-1]) + (n,), re.dtype)


def _irfft_grad(node: Any, g: Tensor) -> tuple:
    n = node.attrs["n"]
    re = node.inputs[0]
    size = shape_of(re)[-1]
    gr, gi = execute(_RFFT, (g,), {"n": n})
    h = n // 2 + 1
    c = np.full(h, 2.0 / n)
    c[0] = 1.0 / n
    if n % 2 == 0:
        c[-1] = 1.0 / n
    from ndflow.core.tensor import constant

    w = constant(c.astype(npdt(re)))
    return (_fit_last(m.multiply(gr, w), size), _fit_last(m.multiply(gi, w), size))


_IRFFT = register_op("irfft", _irfft_fwd, _irfft_infer, _irfft_grad)


def _float_pair(op: str, re: Any, im: Any) -> tuple:
    re, im = t(re), t(im)
    if npdt(re).kind != "f":
        re = m.cast(re, np.float32)
    if npdt(im) != npdt(re):
        im = m.cast(im, npdt(re))
    return re, im


def fft_pair(real: Any, imag: Any, rank: int = 1, inverse: bool = False) -> tuple:
    """The (inverse) Fourier transform over the last `rank` axes of `real + 1j * imag`, as
    a pair (real part, imaginary part)."""
    re, im = _float_pair("fft", real, imag)
    return execute(_FFT_PAIR, (re, im), {"rank": int(rank), "inverse": bool(inverse)})


def _length(op: str, x: Tensor, fft_length: Any, half: bool) -> int:
    if fft_length is not None:
        if isinstance(fft_length, Tensor):
            fft_length = fft_length.numpy().tolist()
        if isinstance(fft_length, (list, tuple)):
            fft_length = fft_length[-1]
        n = int(fft_length)
    else:
        size = shape_of(x)[-1]
        if size is None:
            raise fail(op, "a known last dimension (or fft_length)", f"shape {shape_of(x)}")
        n = 2 * (size - 1) if half else size
    if n < 1:
        raise fail(op, "a positive fft_length", repr(fft_length))
    return n


def rfft_pair(x: Any, fft_length: Any = None) -> tuple:
    """The real-input transform over the last axis (`fft_length` points, cut or
    zero-padded): the `fft_length // 2 + 1` non-negative frequencies as (real, imag)."""
    x = t(x)
    if npdt(x).kind != "f":
        x = m.cast(x, np.float32)
    return execute(_RFFT, (x,), {"n": _length("rfft", x, fft_length, False)})


def irfft_pair(real: Any, imag: Any, fft_length: Any = None) -> Tensor:
    """The inverse of `rfft_pair`: a real signal of `fft_length` points (default
    `2 * (bins - 1)`)."""
    re, im = _float_pair("irfft", real, imag)
    return execute(_IRFFT, (re, im), {"n": _length("irfft", re, fft_length, True)})


def _split(op: str, x: Any) -> tuple:
    x = t(x)
    if npdt(x).kind != "c":
        raise fail(f"signal.{op}", "a complex64 or complex128 input", f"dtype {npdt(x).name}",
                   "Build one with tf.complex(real, imag) or tf.cast(x, tf.complex64).")
    return real(x), imag(x)


def fft(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Discrete Fourier transform over the last axis of a complex tensor."""
    return complex(*fft_pair(*_split("fft", input)))


def ifft(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Inverse discrete Fourier transform over the last axis."""
    return complex(*fft_pair(*_split("ifft", input), inverse=True))


def fft2d(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """2-D discrete Fourier transform over the last two axes."""
    return complex(*fft_pair(*_split("fft2d", input), rank=2))


def ifft2d(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Inverse 2-D discrete Fourier transform over the last two axes."""
    return complex(*fft_pair(*_split("ifft2d", input), rank=2, inverse=True))


def rfft(input_tensor: Any, fft_length: Any = None, name: str | None = None) -> Tensor:
    """Real-input transform over the last axis, as a complex tensor of
    `fft_length // 2 + 1` bins."""
    return complex(*rfft_pair(input_tensor, fft_length))


def irfft(input_tensor: Any, fft_length: Any = None, name: str | None = None) -> Tensor:
    """Inverse of `rfft`: a real signal of `fft_length` points."""
    return irfft_pair(*_split("irfft", input_tensor), fft_length)


__all__ = ["angle", "complex", "conj", "fft", "fft2d", "fft_pair", "ifft", "ifft2d", "imag",
           "irfft", "irfft_pair", "real", "rfft", "rfft_pair"]


# --- framing, windows and short-time transforms (tf.signal) -------------------------------------


def frame(signal: Any, frame_length: int, frame_step: int, pad_end: bool = False,
          pad_value: float = 0.0, axis: int = -1, name: str | None = None) -> Tensor:
    """Frames of `frame_length` samples every `frame_step` along the last axis:
    `(..., frames, frame_length)` (`pad_end` pads the tail so every sample is framed).

    >>> frame([1.0, 2.0, 3.0, 4.0, 5.0], 2, 2).numpy().tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    """
    from ndflow.core.tensor import constant

    x = t(signal)
    nd = len(shape_of(x))
    if axis not in (-1, nd - 1):
        raise fail("signal.frame", "axis=-1 (the last axis)", f"axis={axis}")
    n = shape_of(x)[-1]
    fl, fs = int(frame_length), int(frame_step)
    if n is None or fl < 1 or fs < 1:
        raise fail("signal.frame", "a known last axis and positive frame_length/frame_step",
                   f"shape {shape_of(x)}, {fl}, {fs}")
    if pad_end:
        frames = -(-n // fs)
        extra = max((frames - 1) * fs + fl - n, 0)
        x = a_.pad(x, [[0, 0]] * (nd - 1) + [[0, extra]], constant_values=pad_value)
    else:
        frames = 0 if n < fl else 1 + (n - fl) // fs
    idx = np.arange(frames)[:, None] * fs + np.arange(fl)[None, :]
    return a_.gather(x, constant(idx.astype(np.int32).reshape(frames, fl)), axis=nd - 1)


def overlap_and_add(signal: Any, frame_step: int, name: str | None = None) -> Tensor:
    """Sum of frames `(..., frames, frame_length)` placed every `frame_step` samples:
    `(..., frame_length + frame_step * (frames - 1))`."""
    from ndflow.core.tensor import constant
    from ndflow.ops.shape_ops import reshape

    frames = t(signal)
    shp = shape_of(frames)
    if len(shp) < 2 or shp[-1] is None or shp[-2] is None:
        raise fail("signal.overlap_and_add", "known (frames, frame_length) last axes",
                   f"shape {list(shp)}")
    f, n, step = int(shp[-2]), int(shp[-1]), int(frame_step)
    k = -(-n // step)
    nd = len(shp)
    padded = a_.pad(frames, [[0, 0]] * (nd - 1) + [[0, k * step - n]])
    lead = [-1 if d is None else d for d in shp[:-2]]
    blocks = reshape(padded, lead + [f, k, step])
    total = None
    for j in range(k):
        part = a_.gather(blocks, constant(np.int32(j)), axis=nd - 1)  # [..., F, step]
        part = a_.pad(part, [[0, 0]] * (nd - 2) + [[j, k - 1 - j], [0, 0]])
        total = part if total is None else m.add(total, part)
    out = reshape(total, lead + [(f + k - 1) * step])
    return a_.slice_(out, [0] * (nd - 1), [-1] * (nd - 2) + [n + step * (f - 1)])


def _cosine_window(length: int, periodic: bool, a0: float, dtype: Any) -> Tensor:
    from ndflow.core.dtypes import np_dtype
    from ndflow.core.tensor import constant

    n = int(length)
    if n == 1:
        return constant(np.ones(1, np_dtype(dtype)))
    denom = n if periodic else n - 1
    w = a0 - (1 - a0) * np.cos(2 * np.pi * np.arange(n) / max(denom, 1))
    return constant(w.astype(np_dtype(dtype)))


def hann_window(window_length: int, periodic: bool = True, dtype: Any = np.float32,
                name: str | None = None) -> Tensor:
    """Hann window (periodic by default, as TensorFlow)."""
    return _cosine_window(window_length, periodic, 0.5, dtype)


def hamming_window(window_length: int, periodic: bool = True, dtype: Any = np.float32,
                   name: str | None = None) -> Tensor:
    """Hamming window (periodic by default, as TensorFlow)."""
    return _cosine_window(window_length, periodic, 0.54, dtype)


def _fft_len(frame_length: int, fft_length: Any) -> int:
    if fft_length is None:
        return 1 << max(int(frame_length) - 1, 0).bit_length()
    return int(fft_length)


def stft(signals: Any, frame_length: int, frame_step: int, fft_length: Any = None,
         window_fn: Any = hann_window, pad_end: bool = False,
         name: str | None = None) -> Tensor:
    """TensorFlow's `stft`: windowed frames (no centring) through `rfft`, as a complex tensor
    `(..., frames, fft_length // 2 + 1)`; `fft_length` defaults to the next power of 2."""
    x = t(signals)
    if npdt(x).kind != "f":
        x = m.cast(x, np.float32)
    framed = frame(x, frame_length, frame_step, pad_end)
    if window_fn is not None:
        framed = m.multiply(framed, window_fn(int(frame_length), dtype=npdt(x)))
    return complex(*rfft_pair(framed, _fft_len(frame_length, fft_length)))


def inverse_stft(stfts: Any, frame_length: int, frame_step: int, fft_length: Any = None,
                 window_fn: Any = hann_window, name: str | None = None) -> Tensor:
    """TensorFlow's `inverse_stft`: `irfft` of each frame, cut to `frame_length`, windowed
    and overlap-added (pass `inverse_stft_window_fn(frame_step)` for a perfect inverse)."""
    re, im = _split("inverse_stft", stfts)
    frames = irfft_pair(re, im, _fft_len(frame_length, fft_length))
    frames = _fit_last(frames, int(frame_length))
    if window_fn is not None:
        frames = m.multiply(frames, window_fn(int(frame_length), dtype=npdt(frames)))
    return overlap_and_add(frames, frame_step)


def inverse_stft_window_fn(frame_step: int, forward_window_fn: Any = hann_window,
                           name: str | None = None) -> Any:
    """The window that makes `inverse_stft` invert `stft`: the forward window divided by
    the overlapped sum of its squares."""
    def window_fn(frame_length: int, dtype: Any = np.float32) -> Tensor:
        from ndflow.core.tensor import constant

        w = np.asarray(forward_window_fn(frame_length, dtype=dtype).numpy(), np.float64)
        step = int(frame_step)
        k = -(-frame_length // step)
        sq = np.pad(w ** 2, (0, k * step - frame_length)).reshape(k, step).sum(0)
        denom = np.tile(sq, k)[:frame_length]
        return constant((w / denom).astype(np.dtype(dtype)))

    return window_fn


__all__ += ["frame", "hamming_window", "hann_window", "inverse_stft", "inverse_stft_window_fn",
            "overlap_and_add", "stft"]
