"""`tf.signal`: Fourier transforms of complex tensors (`fft`, `ifft`, `fft2d`, `ifft2d`,
`rfft`, `irfft`), framing (`frame`, `overlap_and_add`), windows and short-time transforms
(`stft`, `inverse_stft`).

>>> import ndflow as tf
>>> x = tf.complex(tf.constant([1.0, 0.0]), tf.constant([0.0, 0.0]))
>>> tf.math.real(tf.signal.fft(x)).numpy().tolist()
[1.0, 1.0]
"""

from ndflow.ops.spectral import (
    fft, fft2d, frame, hamming_window, hann_window, ifft, ifft2d, inverse_stft,
    inverse_stft_window_fn, irfft, overlap_and_add, rfft, stft,
)

__all__ = ["fft", "fft2d", "frame", "hamming_window", "hann_window", "ifft", "ifft2d",
           "inverse_stft", "inverse_stft_window_fn", "irfft", "overlap_and_add", "rfft", "stft"]
