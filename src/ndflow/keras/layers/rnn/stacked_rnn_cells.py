"""`StackedRNNCells`: several cells run as one, each step feeding the next cell's output.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> cells = layers.StackedRNNCells([layers.LSTMCell(4), layers.GRUCell(2)])
>>> tuple(layers.RNN(cells)(np.ones((3, 5, 6), "float32")).shape)
(3, 2)
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.rnn.rnn import _deserialize, _flat_sizes, _serialize


class StackedRNNCells(Layer):
    """Wrap a list of RNN cells; `state_size` lists every cell's states in order.

    >>> from ndflow.keras import layers
    >>> StackedRNNCells([layers.SimpleRNNCell(3), layers.LSTMCell(2)]).state_size
    [3, [2, 2]]
    """

    def __init__(self, cells: list, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for c in cells:
            if not hasattr(c, "call") or getattr(c, "state_size", None) is None:
                raise ValueError(f"StackedRNNCells: every cell needs a state_size and "
                                 f"call(inputs, states); got {c!r}")
        self.cells = list(cells)

    @property
    def state_size(self) -> list:
        return [c.state_size for c in self.cells]

    @property
    def output_size(self) -> int:
        last = self.cells[-1]
        out = getattr(last, "output_size", None)
        return int(out if out is not None else _flat_sizes(last.state_size)[0])

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        for c in self.cells:
            if isinstance(c, Layer) and not c.built:
                c.build(shape)
                c.built = True
            out = getattr(c, "output_size", None)
            shape = shape[:-1] + (int(out if out is not None else
                                      _flat_sizes(c.state_size)[0]),)
        self.built = True

    def call(self, inputs: Any, states: Any, training: Any = None) -> tuple:
        new_states = []
        x = inputs
        for c, s in zip(self.cells, states):
            s = list(s) if isinstance(s, (list, tuple)) else [s]
            kw = {"training": training} if isinstance(c, Layer) and c._info().has_training \
                else {}
            x, ns = c(x, s, **kw)
            ns = list(ns) if isinstance(ns, (list, tuple)) else [ns]
            new_states.append(ns if isinstance(c.state_size, (list, tuple)) else ns[0])
        return x, new_states

    def get_config(self) -> dict:
        config = super().get_config()
        config["cells"] = [_serialize(c) for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> StackedRNNCells:
        config = dict(config)
        cells = [_deserialize(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)
