"""`SpectralNormalization`: keep the spectral norm of a wrapped layer's kernel near 1
(Miyato et al., 2018), estimating the top singular vector by power iteration during
training.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> sn = layers.SpectralNormalization(layers.Dense(3), power_iterations=5)
>>> x = np.ones((2, 4), "float32")
>>> for _ in range(5):
...     y = sn(x, training=True)
>>> round(float(np.linalg.norm(sn.layer.kernel.numpy(), 2)), 3)
1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.keras import initializers
from ndflow.keras.layers.core.wrapper import Wrapper
from ndflow.keras.layers.layer import InputSpec
from ndflow.ops import math as m
from ndflow.ops._util import npdt
from ndflow.ops.linalg import matmul
from ndflow.ops.reduce import reduce_all, reduce_sum
from ndflow.ops.shape_ops import reshape


def _l2_normalize(v: Tensor) -> Tensor:
    """``v * min(rsqrt(sum(v^2)), 1/eps)`` over all entries (Keras's normalize, axis=None)."""
    return m.multiply(v, m.minimum(m.rsqrt(reduce_sum(m.square(v))), 1.0 / 1e-7))


class SpectralNormalization(Wrapper):
    """Wrap a layer with a `kernel` (Dense, Conv...) or `embeddings` (Embedding) weight.

    On each call with `training=True`, `power_iterations` steps of power iteration refine the
    non-trainable estimate `vector_u` of the kernel's top singular vector, and the kernel is
    divided in place by the estimated spectral norm before the wrapped layer runs (a zero
    kernel is left as it is). With `training=False` the wrapped layer runs unchanged.

    Args:
        layer: the layer to normalise.
        power_iterations: power-iteration steps per training call (default 1).

    >>> from ndflow.keras import layers
    >>> SpectralNormalization(layers.Dense(2), power_iterations=2).get_config()[
    ...     "power_iterations"]
    2
    """

    def __init__(self, layer: Any, power_iterations: int = 1, **kwargs: Any) -> None:
        super().__init__(layer, **kwargs)
        if power_iterations <= 0:
            raise ValueError("SpectralNormalization: power_iterations should be greater than "
                             f"zero, got power_iterations={power_iterations}")
        self.power_iterations = power_iterations

    def build(self, input_shape: Any) -> None:
        super().build(input_shape)
        shape = tuple(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: shape[-1]})
        if hasattr(self.layer, "kernel") and self.layer.kernel is not None:
            self.kernel = self.layer.kernel
        elif hasattr(self.layer, "embeddings"):
            self.kernel = self.layer.embeddings
        else:
            raise ValueError(f"SpectralNormalization layer '{self.name}': the wrapped "
                             f"{type(self.layer).__name__} has no attribute 'kernel' nor "
                             "'embeddings'; wrap a layer such as Dense, Conv2D or Embedding")
        self.kernel_shape = tuple(self.kernel.shape)
        self.vector_u = self.add_weight(
            shape=(1, self.kernel_shape[-1]),
            initializer=initializers.TruncatedNormal(stddev=0.02), trainable=False,
            name="vector_u", dtype=self.kernel.dtype)
        self.built = True

    def normalized_weights(self) -> tuple:
        """``(new vector_u, kernel / sigma)`` after `power_iterations` steps."""
        w = reshape(self.kernel, (-1, self.kernel_shape[-1]))
        u = self.vector_u.value()
        v = None
        for _ in range(self.power_iterations):
            v = _l2_normalize(matmul(u, w, transpose_b=True))
            u = _l2_normalize(matmul(v, w))
        u, v = m.stop_gradient(u), m.stop_gradient(v)
        sigma = matmul(matmul(v, w), u, transpose_b=True)
        kernel = reshape(m.divide(self.kernel, sigma), self.kernel_shape)
        return m.cast(u, self.vector_u.dtype), m.cast(kernel, self.kernel.dtype)

    def call(self, inputs: Tensor, training: Any = False) -> Tensor:
        if training:
            with np.errstate(divide="ignore", invalid="ignore"):  # a zero kernel: kept below
                new_u, new_kernel = self.normalized_weights()
            zero = reduce_all(m.equal(self.kernel, 0))
            self.vector_u.assign(m.where(zero, self.vector_u.value(), new_u))
            self.kernel.assign(m.where(zero, self.kernel.value(), new_kernel))
        out = self.layer(inputs)
        # Keras casts to the inputs' dtype, which for Embedding's integer ids truncates the
        # vectors to integers; only float inputs set the output dtype here
        return m.cast(out, inputs.dtype) if npdt(inputs).kind == "f" else out

    def compute_output_shape(self, input_shape: Any) -> Any:
        return self.layer.compute_output_shape(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["power_iterations"] = self.power_iterations
        return config
