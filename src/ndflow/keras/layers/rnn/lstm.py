"""`LSTM`: the long short-term memory layer (Hochreiter and Schmidhuber, 1997).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> out, h, c = layers.LSTM(4, return_sequences=True, return_state=True)(
...     np.ones((2, 5, 3), "float32"))
>>> tuple(out.shape), tuple(h.shape), tuple(c.shape)
((2, 5, 4), (2, 4), (2, 4))
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.rnn.builtin_rnn import BuiltinRNN
from ndflow.keras.layers.rnn.lstm_cell import LSTMCell


class LSTM(BuiltinRNN):
    """Keras 3 `LSTM(units, activation="tanh", recurrent_activation="sigmoid",
    use_bias=True, unit_forget_bias=True, dropout=0.0, recurrent_dropout=0.0,
    return_sequences=False, return_state=False, go_backwards=False, stateful=False,
    unroll=False, seed=None, ...)`. Weights live in `cell` (`LSTMCell`): `kernel`,
    `recurrent_kernel`, `bias` with gate blocks i, f, c, o, so `.keras` files move between
    Keras and ndflow. The whole sequence runs as one op (see `ndflow.ops.rnn`).

    >>> LSTM(8).get_config()["recurrent_activation"]
    'sigmoid'
    """

    _cell_class = LSTMCell
    _cell_name = "lstm_cell"

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", **kwargs: Any) -> None:
        super().__init__(units, activation=activation,
                         recurrent_activation=recurrent_activation, **kwargs)
