"""`tf.signal`: Fourier transforms of complex tensors (`fft`, `ifft`, `fft2d`, `ifft2d`,
`rfft`, `irfft`).

>>> import ndflow as tf
>>> x = tf.complex(tf.constant([1.0, 0.0]), tf.constant([0.0, 0.0]))
>>> tf.math.real(tf.signal.fft(x)).numpy().tolist()
[1.0, 1.0]
"""

from ndflow.ops.spectral import fft, fft2d, ifft, ifft2d, irfft, rfft

__all__ = ["fft", "fft2d", "ifft", "ifft2d", "irfft", "rfft"]
