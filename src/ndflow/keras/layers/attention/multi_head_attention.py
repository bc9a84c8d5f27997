"""`MultiHeadAttention` (Vaswani et al., 2017), with Keras 3's weights and masks.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
>>> q, v = np.ones((3, 5, 8), "float32"), np.ones((3, 7, 8), "float32")
>>> out, scores = mha(q, v, return_attention_scores=True)
>>> tuple(out.shape), tuple(scores.shape)
((3, 5, 8), (3, 2, 5, 7))
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


class MultiHeadAttention(ProjectedAttention):
    """Keras 3 `MultiHeadAttention(num_heads, key_dim, value_dim=None, dropout=0.0,
    use_bias=True, output_shape=None, attention_axes=None, ...)`.

    Call: `mha(query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
    attention_mask=None, return_attention_scores=False, training=None,
    use_causal_mask=False)` on (batch, sequence, features) inputs. Keras masks on the inputs
    (e.g. from `Embedding(mask_zero=True)`) are used automatically. Weights live in the
    EinsumDense sublayers `query_dense`, `key_dense`, `value_dense` (kernels (dim, heads,
    key_dim)) and `output_dense` ((heads, value_dim, out)), as in Keras.

    >>> MultiHeadAttention(4, 32).get_config()["value_dim"]
    32
    """

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None,
                 dropout: float = 0.0, use_bias: bool = True, output_shape: Any = None,
                 attention_axes: Any = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None,
                 seed: int | None = None, use_gate: bool = False, sliding_window: Any = None,
                 flash_attention: Any = None, **kwargs: Any) -> None:
        cls = type(self).__name__
        for nm, v in (("num_heads", num_heads), ("key_dim", key_dim)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"{cls}: expected {nm} to be a positive integer, got {v!r}")
        refuse_unsupported(cls, use_gate, sliding_window, flash_attention)
        if attention_axes is not None and list(
                [attention_axes] if isinstance(attention_axes, int) else attention_axes) not in (
                [1], [-2]):
            raise ValueError(f"{cls}: only attention over the sequence axis is supported "
                             f"(attention_axes=None or [1]), got {attention_axes!r}")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim if value_dim else key_dim
        if output_shape is not None and not isinstance(output_shape, int):
            shape = list(output_shape)
            if len(shape) != 1:
                raise ValueError(f"{cls}: output_shape must be an int or a 1-tuple, got "
                                 f"{output_shape!r}")
            output_shape = shape[0]
        self._output_dim = output_shape
        self._init_projections(dropout, use_bias, kernel_initializer, bias_initializer,
                               kernel_regularizer, bias_regularizer, kernel_constraint,
                               bias_constraint, seed)

    def build(self, query_shape: Any, value_shape: Any, key_shape: Any = None) -> None:
        query_shape, value_shape, key_shape = self._build_shapes_of(query_shape, value_shape,
                                                                    key_shape)
        n, kd, vd = self.num_heads, self.key_dim, self.value_dim
        self.query_dense = self._dense("abc,cde->abde", (None, n, kd), "de", "query")
        self.key_dense = self._dense("abc,cde->abde", (None, n, kd), "de", "key")
        self.value_dense = self._dense("abc,cde->abde", (None, n, vd), "de", "value")
        out = self._output_dim or query_shape[-1]
        self.output_dense = self._dense("abcd,cde->abe", (None, out), "e", "attention_output")
        self.query_dense.build(query_shape)
        self.key_dense.build(key_shape)
        self.value_dense.build(value_shape)
        self.output_dense.build((query_shape[0], query_shape[1], n, vd))
        self.built = True

    def call(self, query: Any, value: Any, key: Any = None, query_mask: Any = None,
             value_mask: Any = None, key_mask: Any = None, attention_mask: Any = None,
             return_attention_scores: bool = False, training: Any = None,
             use_causal_mask: bool = False) -> Any:
        q_in, v_in, k_in, mask = self._inputs(query, value, key, query_mask, value_mask,
                                              key_mask, attention_mask, use_causal_mask)
        q = self.query_dense(q_in)
        k = self.key_dense(k_in)
        v = self.value_dense(v_in)
        q = m.multiply(q, m.cast(convert_to_tensor(1.0 / math.sqrt(self.key_dim)), npdt(q)))
        out, probs = self._attend(q, k, v, mask, training)
        out = self.output_dense(out)
        if return_attention_scores:
            return out, probs
        return out

    def compute_output_shape(self, query_shape: Any, value_shape: Any,
                             key_shape: Any = None) -> tuple:
        query_shape = tuple(query_shape)
        return query_shape[:-1] + (self._output_dim or query_shape[-1],)

    def compute_output_spec(self, query: Any, value: Any, key: Any = None, **kwargs: Any) -> Any:
        qs, vs = tuple(shape_of(query)), tuple(shape_of(value))
        out = SymbolicTensor(self.compute_output_shape(qs, vs), self.compute_dtype)
        if kwargs.get("return_attention_scores"):
            return out, SymbolicTensor((qs[0], self.num_heads, qs[1], vs[1]),
                                       self.compute_dtype)
        return out

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads, "key_dim": self.key_dim,
            "value_dim": self.value_dim, "output_shape": self._output_dim,
            "attention_axes": [1], **self._projection_config(),
        })
        return config
