"""`GRUCell`: one step of a gated recurrent unit (gates z, r, h, as in Keras).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> cell = layers.GRUCell(3)
>>> out, states = cell(np.ones((2, 4), "float32"), [np.zeros((2, 3), "float32")])
>>> tuple(out.shape), [tuple(w.shape) for w in cell.weights]
((2, 3), [(4, 9), (3, 9), (2, 9)])
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.keras import activations
from ndflow.keras.layers.rnn.cell_base import BuiltinCell, kernel_name
from ndflow.ops import math as m
from ndflow.ops import rnn as rnn_ops
from ndflow.ops.array import gather
from ndflow.ops.linalg import matmul


class GRUCell(BuiltinCell):
    """The cell of `GRU`. Weights: `kernel` (input_dim, 3 * units), `recurrent_kernel`
    (units, 3 * units), gate blocks z, r, h; `bias` (2, 3 * units) with `reset_after=True`
    (row 0 for the inputs, row 1 for the recurrent term; PyTorch's and cuDNN's form) or
    (3 * units,) with `reset_after=False` (the reset gate multiplies the state before the
    recurrent matmul).

    >>> GRUCell(2, reset_after=False).get_config()["reset_after"]
    False
    """

    _gates = 3

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def build(self, input_shape: Any) -> None:
        self._add_kernels(self._input_dim(input_shape))
        self.bias = None
        if self.use_bias:
            self._add_bias((2, 3 * self.units) if self.reset_after else (3 * self.units,))
        self.built = True

    def _biases(self) -> tuple:
        if self.bias is None:
            return None, None
        if self.reset_after:
            # gathered copies, not slices: a compiled graph may reuse a slice's buffer, which
            # for a view of the variable would write into the weights
            return gather(self.bias, 0), gather(self.bias, 1)
        return self.bias, None

    def call(self, inputs: Any, states: Any, training: Any = False) -> tuple:
        h = states[0] if isinstance(states, (list, tuple)) else states
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        h = h if isinstance(h, Tensor) else convert_to_tensor(h)
        dp = self.get_dropout_mask(x) if training else None
        rd = self.get_recurrent_dropout_mask(h) if training else None
        hr = m.multiply(h, rd) if rd is not None else h
        u = self.units
        xz = matmul(m.multiply(x, dp) if dp is not None else x, self.kernel)
        ib, rb = self._biases()
        if ib is not None:
            xz = m.add(xz, ib)
        if self.reset_after:
            rz = matmul(hr, self.recurrent_kernel)
            if rb is not None:
                rz = m.add(rz, rb)
            z = self.recurrent_activation(m.add(xz[:, :u], rz[:, :u]))
            r = self.recurrent_activation(m.add(xz[:, u:2 * u], rz[:, u:2 * u]))
            hh = self.activation(m.add(xz[:, 2 * u:], m.multiply(r, rz[:, 2 * u:])))
        else:
            rz = matmul(hr, self.recurrent_kernel[:, :2 * u])
            z = self.recurrent_activation(m.add(xz[:, :u], rz[:, :u]))
            r = self.recurrent_activation(m.add(xz[:, u:2 * u], rz[:, u:]))
            hh = self.activation(m.add(xz[:, 2 * u:], matmul(
                m.multiply(r, hr), self.recurrent_kernel[:, 2 * u:])))
        h_new = m.add(m.multiply(z, h), m.multiply(m.subtract(1.0, z), hh))
        return h_new, [h_new]

    def _fast_ok(self) -> bool:
        return super()._fast_ok() and kernel_name(self.recurrent_activation) is not None

    def _sequence(self, x: Tensor, states: list, mask: Any, training: Any) -> tuple:
        xw, rd = self._sequence_inputs(x, states, training)
        ib, rb = self._biases()
        if ib is not None:
            xw = m.add(xw, ib)
        hs, = rnn_ops.gru_sequence(
            xw, states[0], self.recurrent_kernel, rb, mask=mask, recurrent_dropout_mask=rd,
            activation=kernel_name(self.activation),
            recurrent_activation=kernel_name(self.recurrent_activation),
            reset_after=self.reset_after)
        return hs, [hs[:, -1]]

    def get_config(self) -> dict:
        config = self._base_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["reset_after"] = self.reset_after
        return config
