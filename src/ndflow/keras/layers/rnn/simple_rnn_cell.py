"""`SimpleRNNCell`: one step of `h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel
+ bias)`.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> cell = layers.SimpleRNNCell(3)
>>> out, states = cell(np.ones((2, 4), "float32"), [np.zeros((2, 3), "float32")])
>>> tuple(out.shape), len(states)
((2, 3), 1)
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.keras.layers.rnn.cell_base import BuiltinCell, kernel_name
from ndflow.ops import math as m
from ndflow.ops import rnn as rnn_ops
from ndflow.ops.linalg import matmul


class SimpleRNNCell(BuiltinCell):
    """The cell of `SimpleRNN`; weights `kernel` (input_dim, units), `recurrent_kernel`
    (units, units) and `bias` (units,), as in Keras.

    >>> SimpleRNNCell(4, activation="relu").get_config()["activation"]
    'relu'
    """

    def build(self, input_shape: Any) -> None:
        self._add_kernels(self._input_dim(input_shape))
        self.bias = None
        if self.use_bias:
            self._add_bias((self.units,))
        self.built = True

    def call(self, inputs: Any, states: Any, training: Any = False) -> tuple:
        h = states[0] if isinstance(states, (list, tuple)) else states
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        h = h if isinstance(h, Tensor) else convert_to_tensor(h)
        dp = self.get_dropout_mask(x) if training else None
        rd = self.get_recurrent_dropout_mask(h) if training else None
        if dp is not None:
            x = m.multiply(x, dp)
        if rd is not None:
            h = m.multiply(h, rd)
        z = matmul(x, self.kernel)
        if self.bias is not None:
            z = m.add(z, self.bias)
        out = self.activation(m.add(z, matmul(h, self.recurrent_kernel)))
        return out, [out]

    def _sequence(self, x: Tensor, states: list, mask: Any, training: Any) -> tuple:
        xw, rd = self._sequence_inputs(x, states, training)
        if self.bias is not None:
            xw = m.add(xw, self.bias)
        hs, = rnn_ops.simple_rnn_sequence(xw, states[0], self.recurrent_kernel, mask=mask,
                                          recurrent_dropout_mask=rd,
                                          activation=kernel_name(self.activation))
        return hs, [hs[:, -1]]

    def get_config(self) -> dict:
        return self._base_config()
