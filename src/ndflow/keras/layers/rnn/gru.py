"""`GRU`: the gated recurrent unit layer (Cho et al., 2014).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> tuple(layers.GRU(4, go_backwards=True)(np.ones((2, 5, 3), "float32")).shape)
(2, 4)
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.rnn.builtin_rnn import BuiltinRNN
from ndflow.keras.layers.rnn.gru_cell import GRUCell


class GRU(BuiltinRNN):
    """Keras 3 `GRU(units, activation="tanh", recurrent_activation="sigmoid",
    use_bias=True, reset_after=True, dropout=0.0, recurrent_dropout=0.0,
    return_sequences=False, return_state=False, go_backwards=False, stateful=False,
    unroll=False, seed=None, ...)`. Weights live in `cell` (`GRUCell`), gate blocks z, r, h;
    with `reset_after=True` the bias is (2, 3 * units) as in Keras and cuDNN.

    >>> GRU(8).get_config()["reset_after"]
    True
    """

    _cell_class = GRUCell
    _cell_name = "gru_cell"

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", reset_after: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(units, activation=activation,
                         recurrent_activation=recurrent_activation, reset_after=reset_after,
                         **kwargs)
