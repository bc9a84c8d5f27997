"""`GroupQueryAttention` (Ainslie et al., 2023): fewer key/value heads than query heads, each
key/value head shared by a group of query heads.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> gqa = layers.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)
>>> tuple(gqa(np.ones((2, 5, 8), "float32"), np.ones((2, 3, 8), "float32")).shape)
(2, 5, 8)
"""

from __future__ import annotations

import math
from typing import Any

from ndflow.core.tensor import SymbolicTensor, convert_to_tensor
from ndflow.keras.layers.attention.base_projected_attention import (
    ProjectedAttention,
    refuse_unsupported,
)
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of
from ndflow.ops.array import repeat


class GroupQueryAttention(ProjectedAttention):
    """Keras 3 `GroupQueryAttention(head_dim, num_query_heads, num_key_value_heads,
    dropout=0.0, use_bias=True, ...)`; called like `MultiHeadAttention`. Weights live in
    `_query_dense` (dim, query heads, head_dim), `_key_dense` / `_value_dense` (dim, key/value
    heads, head_dim) and `_output_dense`, as in Keras.

    >>> GroupQueryAttention(8, 4, 2).get_config()["num_key_value_heads"]
    2
    """

    # Keras's class is named GroupedQueryAttention (exported as GroupQueryAttention); weight
    # files name its h5 group after the class, "grouped_query_attention".
    _keras_class_name = "GroupedQueryAttention"

    def _default_name(self) -> str:
        return "grouped_query_attention"  # Keras's class is GroupedQueryAttention

    def __init__(self, head_dim: int, num_query_heads: int, num_key_value_heads: int,
                 dropout: float = 0.0, use_bias: bool = True, flash_attention: Any = None,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, seed: int | None = None, use_gate: bool = False,
                 sliding_window: Any = None, **kwargs: Any) -> None:
        cls = type(self).__name__
        for nm, v in (("head_dim", head_dim), ("num_query_heads", num_query_heads),
                      ("num_key_value_heads", num_key_value_heads)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"{cls}: expected {nm} to be a positive integer, got {v!r}")
        if num_query_heads % num_key_value_heads:
            raise ValueError(f"{cls}: num_query_heads ({num_query_heads}) must be a multiple of "
                             f"num_key_value_heads ({num_key_value_heads})")
        refuse_unsupported(cls, use_gate, sliding_window, flash_attention)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads
        self._init_projections(dropout, use_bias, kernel_initializer, bias_initializer,
                               kernel_regularizer, bias_regularizer, kernel_constraint,
                               bias_constraint, seed)

    def build(self, query_shape: Any, value_shape: Any, key_shape: Any = None) -> None:
        query_shape, value_shape, key_shape = self._build_shapes_of(query_shape, value_shape,
                                                                    key_shape)
        hq, hkv, hd = self.num_query_heads, self.num_key_value_heads, self.head_dim
        self._query_dense = self._dense("bqm,muh->bquh", (None, hq, hd), "uh", "query")
        self._key_dense = self._dense("bkm,mvh->bkvh", (None, hkv, hd), "vh", "key")
        self._value_dense = self._dense("bkm,mvh->bkvh", (None, hkv, hd), "vh", "value")
        self._output_dense = self._dense("bquh,uhm->bqm", (None, query_shape[-1]), "m",
                                         "attention_output")
        self._query_dense.build(query_shape)
        self._key_dense.build(key_shape)
        self._value_dense.build(value_shape)
        self._output_dense.build((query_shape[0], query_shape[1], hq, hd))
        self.built = True

    def call(self, query: Any, value: Any, key: Any = None, query_mask: Any = None,
             value_mask: Any = None, key_mask: Any = None, attention_mask: Any = None,
             return_attention_scores: bool = False, training: Any = None,
             use_causal_mask: bool = False) -> Any:
        q_in, v_in, k_in, mask = self._inputs(query, value, key, query_mask, value_mask,
                                              key_mask, attention_mask, use_causal_mask)
        q = self._query_dense(q_in)
        k = repeat(self._key_dense(k_in), self.num_repeats, axis=2)
        v = repeat(self._value_dense(v_in), self.num_repeats, axis=2)
        q = m.multiply(q, m.cast(convert_to_tensor(1.0 / math.sqrt(self.head_dim)), npdt(q)))
        out, probs = self._attend(q, k, v, mask, training)
        out = self._output_dense(out)
        if return_attention_scores:
            return out, probs
        return out

    def compute_output_shape(self, query_shape: Any, value_shape: Any,
                             key_shape: Any = None) -> tuple:
        return tuple(query_shape)

    def compute_output_spec(self, query: Any, value: Any, key: Any = None, **kwargs: Any) -> Any:
        qs, vs = tuple(shape_of(query)), tuple(shape_of(value))
        out = SymbolicTensor(qs, self.compute_dtype)
        if kwargs.get("return_attention_scores"):
            return out, SymbolicTensor((qs[0], self.num_query_heads, qs[1], vs[1]),
                                       self.compute_dtype)
        return out

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "head_dim": self.head_dim, "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads, **self._projection_config(),
        })
        return config
