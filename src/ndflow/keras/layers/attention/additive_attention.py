"""`AdditiveAttention`: Bahdanau-style attention, scores `sum(scale * tanh(query + key))`.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> q, v = np.ones((2, 3, 4), "float32"), np.ones((2, 5, 4), "float32")
>>> tuple(layers.AdditiveAttention()([q, v]).shape)
(2, 3, 4)
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.attention.attention import Attention
from ndflow.ops import math as m
from ndflow.ops.array import expand_dims
from ndflow.ops.reduce import reduce_sum


class AdditiveAttention(Attention):
    """Keras 3 `AdditiveAttention(use_scale=True, dropout=0.0)`: the `scale` weight has one
    entry per feature (Glorot-uniform initialised). Call as `Attention`.

    >>> AdditiveAttention().get_config()["use_scale"]
    True
    """

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs: Any) -> None:
        kwargs.pop("score_mode", None)
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape: Any) -> None:
        self._check_inputs(input_shape)
        dim = tuple(input_shape[0])[-1]
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(dim,),
                                         initializer="glorot_uniform")
        self.built = True

    def _score(self, q: Tensor, k: Tensor) -> Tensor:
        a = m.tanh(m.add(expand_dims(q, -2), expand_dims(k, -3)))
        if self.scale is not None:
            a = m.multiply(a, self.scale)
        return reduce_sum(a, -1)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("score_mode", None)
        return config
