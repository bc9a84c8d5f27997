"""`LSTMCell`: one step of a long short-term memory (gates i, f, c, o, as in Keras).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> cell = layers.LSTMCell(3)
>>> z = np.zeros((2, 3), "float32")
>>> out, (h, c) = cell(np.ones((2, 4), "float32"), [z, z])
>>> tuple(out.shape), tuple(c.shape)
((2, 3), (2, 3))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.keras import activations, initializers
from ndflow.keras.layers.rnn.cell_base import BuiltinCell, kernel_name
from ndflow.ops import math as m
from ndflow.ops import rnn as rnn_ops
from ndflow.ops.linalg import matmul


class LSTMCell(BuiltinCell):
    """The cell of `LSTM`. Weights: `kernel` (input_dim, 4 * units), `recurrent_kernel`
    (units, 4 * units), `bias` (4 * units,), gate blocks in the order i, f, c, o.
    `unit_forget_bias=True` starts the forget gate's bias at 1.

    >>> LSTMCell(2).state_size
    [2, 2]
    """

    _gates = 4

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [units, units]

    def build(self, input_shape: Any) -> None:
        self._add_kernels(self._input_dim(input_shape))
        self.bias = None
        if self.use_bias:
            init = self.bias_initializer
            if self.unit_forget_bias:
                base, n = init, self.units

                def init(shape: Any, dtype: Any = None) -> Any:
                    b = np.asarray(base((n,), dtype=dtype))
                    return np.concatenate([b, np.ones((n,), b.dtype), np.asarray(
                        base((2 * n,), dtype=dtype))])
            self._add_bias((4 * self.units,), initializers.get(init))
        self.built = True

    def call(self, inputs: Any, states: Any, training: Any = False) -> tuple:
        h, c = states[0], states[1]
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        h = h if isinstance(h, Tensor) else convert_to_tensor(h)
        c = c if isinstance(c, Tensor) else convert_to_tensor(c)
        dp = self.get_dropout_mask(x) if training else None
        rd = self.get_recurrent_dropout_mask(h) if training else None
        hr = m.multiply(h, rd) if rd is not None else h
        z = matmul(m.multiply(x, dp) if dp is not None else x, self.kernel)
        z = m.add(z, matmul(hr, self.recurrent_kernel))
        if self.bias is not None:
            z = m.add(z, self.bias)
        u = self.units
        i = self.recurrent_activation(z[:, :u])
        f = self.recurrent_activation(z[:, u:2 * u])
        g = self.activation(z[:, 2 * u:3 * u])
        o = self.recurrent_activation(z[:, 3 * u:])
        c_new = m.add(m.multiply(f, c), m.multiply(i, g))
        h_new = m.multiply(o, self.activation(c_new))
        return h_new, [h_new, c_new]

    def _fast_ok(self) -> bool:
        return super()._fast_ok() and kernel_name(self.recurrent_activation) is not None

    def _sequence(self, x: Tensor, states: list, mask: Any, training: Any) -> tuple:
        xw, rd = self._sequence_inputs(x, states, training)
        if self.bias is not None:
            xw = m.add(xw, self.bias)
        hs, cs = rnn_ops.lstm_sequence(
            xw, states[0], states[1], self.recurrent_kernel, mask=mask,
            recurrent_dropout_mask=rd, activation=kernel_name(self.activation),
            recurrent_activation=kernel_name(self.recurrent_activation))
        return hs, [hs[:, -1], cs[:, -1]]

    def get_config(self) -> dict:
        config = self._base_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["unit_forget_bias"] = self.unit_forget_bias
        return config
