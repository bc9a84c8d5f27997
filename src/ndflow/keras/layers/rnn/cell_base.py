"""What the built-in cells share: weight arguments, config, and the sequence fast path."""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras import activations, constraints, initializers, regularizers
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.regularization.dropout import check_rate
from ndflow.keras.layers.rnn.dropout_rnn_cell import DropoutRNNCell, dropout_multiplier
from ndflow.keras.utils.rng_utils import SeedGenerator
from ndflow.ops import math as m
from ndflow.ops import rnn as rnn_ops
from ndflow.ops.array import expand_dims
from ndflow.ops.linalg import matmul


def kernel_name(act: Any) -> str | None:
    """The name the sequence kernels know `act` by, or None (then the generic loop runs)."""
    try:
        name = activations.serialize(act)
    except ValueError:
        return None
    return name if isinstance(name, str) and name in rnn_ops.ACTIVATIONS else None


class BuiltinCell(DropoutRNNCell, Layer):
    """A cell with kernel / recurrent_kernel / bias weights (SimpleRNN, LSTM, GRU cells)."""

    _gates = 1

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 **kwargs: Any) -> None:
        cls = type(self).__name__
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"{cls}: expected units to be a positive integer, got "
                             f"units={units!r}")
        kwargs.pop("implementation", None)  # Keras's kernel choice: one kernel here
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, check_rate(cls, dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, check_rate(cls, recurrent_dropout)))
        self.seed = seed
        self.seed_generator = SeedGenerator(seed)
        self.state_size: Any = units
        self.output_size = units

    def _add_kernels(self, input_dim: int) -> None:
        g = self._gates
        self.kernel = self.add_weight(
            shape=(input_dim, g * self.units), name="kernel",
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, g * self.units), name="recurrent_kernel",
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)

    def _add_bias(self, shape: tuple, initializer: Any = None) -> None:
        self.bias = self.add_weight(
            shape=shape, name="bias", initializer=initializer or self.bias_initializer,
            regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def _input_dim(self, input_shape: Any) -> int:
        d = tuple(input_shape)[-1]
        if d is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': the last dimension of the "
                             f"inputs must be known, got input shape {tuple(input_shape)}")
        return int(d)

    def get_initial_state(self, batch_size: Any = None) -> list:
        from ndflow.ops.creation import zeros

        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [
            self.state_size]
        return [zeros((batch_size, s), self.compute_dtype) for s in sizes]

    # --- the whole-sequence path -----------------------------------------------------------------
    def _fast_ok(self) -> bool:
        return kernel_name(self.activation) is not None

    def _sequence_inputs(self, x: Tensor, states: list, training: Any) -> tuple:
        """Projected inputs for all steps (one GEMM) and the recurrent dropout multiplier."""
        if training and 0.0 < self.dropout < 1.0:
            dp = dropout_multiplier(self.seed_generator, x[:, 0], self.dropout)
            x = m.multiply(x, expand_dims(dp, 1))
        xw = matmul(x, self.kernel)
        rd = None
        if training and 0.0 < self.recurrent_dropout < 1.0:
            rd = dropout_multiplier(self.seed_generator, states[0], self.recurrent_dropout)
        return xw, rd

    def _base_config(self) -> dict:
        config = Layer.get_config(self)
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        })
        return config
