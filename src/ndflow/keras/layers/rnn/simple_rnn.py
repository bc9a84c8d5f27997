"""`SimpleRNN`: a fully connected RNN whose output is fed back as the next step's state.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> tuple(layers.SimpleRNN(4)(np.ones((2, 5, 3), "float32")).shape)
(2, 4)
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.rnn.builtin_rnn import BuiltinRNN
from ndflow.keras.layers.rnn.simple_rnn_cell import SimpleRNNCell


class SimpleRNN(BuiltinRNN):
    """Keras 3 `SimpleRNN(units, activation="tanh", use_bias=True, ..., dropout=0.0,
    recurrent_dropout=0.0, return_sequences=False, return_state=False, go_backwards=False,
    stateful=False, unroll=False, seed=None)`; weights live in `cell` (`SimpleRNNCell`).

    >>> SimpleRNN(3, return_sequences=True).get_config()["units"]
    3
    """

    _cell_class = SimpleRNNCell
    _cell_name = "simple_rnn_cell"

    def __init__(self, units: int, activation: Any = "tanh", **kwargs: Any) -> None:
        super().__init__(units, activation=activation, **kwargs)
