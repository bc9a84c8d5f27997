"""`Attention`: dot-product (Luong-style) attention between a query and a value sequence.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> q, v = np.ones((2, 3, 4), "float32"), np.ones((2, 5, 4), "float32")
>>> tuple(layers.Attention()([q, v]).shape)
(2, 3, 4)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import SymbolicTensor, Tensor, convert_to_tensor
from ndflow.keras.layers.attention.masking import as_bool, causal_mask
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.regularization.dropout import Dropout
from ndflow.ops import math as m
from ndflow.ops import nn
from ndflow.ops._util import npdt, shape_of
from ndflow.ops.array import expand_dims, transpose
from ndflow.ops.linalg import matmul
from ndflow.ops.reduce import reduce_sum


class Attention(Layer):
    """Keras 3 `Attention(use_scale=False, score_mode="dot", dropout=0.0, seed=None)`.

    Call on `[query, value]` or `[query, value, key]` (batch, steps, dim); `mask` is
    `[query_mask, value_mask]`; `use_causal_mask`, `return_attention_scores`. Scores are
    `query @ key^T` ("dot", times a learned `scale` with `use_scale`) or
    `concat_score_weight * sum(tanh(query + key))` ("concat").

    >>> Attention(score_mode="concat").get_config()["score_mode"]
    'concat'
    """

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, **kwargs: Any) -> None:
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"{type(self).__name__}: expected score_mode 'dot' or 'concat', "
                             f"got score_mode={score_mode!r}")
        super().__init__(**kwargs)
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed
        self.supports_masking = True
        self._dropout_layer = Dropout(self.dropout, seed=seed)

    def build(self, input_shape: Any) -> None:
        self._check_inputs(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(),
                                                       initializer="ones")
        self.built = True

    def _check_inputs(self, shapes: Any) -> None:
        if not isinstance(shapes, (list, tuple)) or len(shapes) not in (2, 3) or not all(
                isinstance(s, (list, tuple)) for s in shapes):
            raise ValueError(f"{type(self).__name__} layer '{self.name}': expected inputs "
                             "[query, value] or [query, value, key], got "
                             f"{shapes!r}")

    def _score(self, q: Tensor, k: Tensor) -> Tensor:
        if self.score_mode == "dot":
            s = matmul(q, transpose(k, [0, 2, 1]))
            return m.multiply(s, self.scale) if self.scale is not None else s
        a = m.add(expand_dims(q, -2), expand_dims(k, -3))
        if self.scale is not None:
            a = m.multiply(a, self.scale)
        return m.multiply(self.concat_score_weight, reduce_sum(m.tanh(a), -1))

    def call(self, inputs: Any, mask: Any = None, training: Any = None,
             return_attention_scores: bool = False, use_causal_mask: bool = False) -> Any:
        xs = [x if isinstance(x, Tensor) else convert_to_tensor(x) for x in inputs]
        q, v = xs[0], xs[1]
        k = xs[2] if len(xs) > 2 else v
        masks = list(mask) if isinstance(mask, (list, tuple)) else [None, None]
        q_mask = as_bool(self, "a query mask", masks[0] if masks else None,
                         tuple(shape_of(q))[:2])
        v_mask = as_bool(self, "a value mask", masks[1] if len(masks) > 1 else None,
                         tuple(shape_of(v))[:2])
        scores = self._score(q, k)
        keep = None if v_mask is None else expand_dims(v_mask, -2)
        if use_causal_mask:
            cm = causal_mask(shape_of(q)[1], shape_of(v)[1])
            keep = cm if keep is None else m.logical_and(keep, cm)
        if keep is not None:
            big = 65504.0 if npdt(scores) == np.float16 else 1.0e9
            scores = m.subtract(scores, m.multiply(
                m.cast(m.logical_not(keep), npdt(scores)), big))
        weights = nn.softmax(scores, axis=-1)
        used = self._dropout_layer(weights, training=training) if self.dropout else weights
        out = matmul(used, v)
        if q_mask is not None:
            out = m.multiply(out, m.cast(expand_dims(q_mask, -1), npdt(out)))
        if return_attention_scores:
            return [out, weights]
        return out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)) and mask:
            return mask[0]
        return None

    def compute_output_spec(self, inputs: Any, mask: Any = None, training: Any = None,
                            return_attention_scores: bool = False,
                            use_causal_mask: bool = False) -> Any:
        q, v = inputs[0], inputs[1]
        qs, vs = tuple(shape_of(q)), tuple(shape_of(v))
        out = SymbolicTensor(qs[:-1] + vs[-1:], self.compute_dtype)
        if return_attention_scores:
            return [out, SymbolicTensor((qs[0], qs[1], vs[1]), self.compute_dtype)]
        return out

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"use_scale": self.use_scale, "score_mode": self.score_mode,
                       "dropout": self.dropout, "seed": self.seed})
        return config
