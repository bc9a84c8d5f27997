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

from ndflow.core.tensor import SymbolicTensor, Tensor, convert_to_tensor
from ndflow.keras import constraints, initializers, regularizers
from ndflow.keras.layers.activations.softmax import Softmax
from ndflow.keras.layers.attention.masking import combine, masked_softmax
from ndflow.keras.layers.attention.multi_head_attention import _rank3
from ndflow.keras.layers.core.einsum_dense import EinsumDense
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.regularization.dropout import Dropout
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of
from ndflow.ops.array import expand_dims, repeat
from ndflow.ops.linalg import einsum


class GroupQueryAttention(Layer):
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
        if use_gate or sliding_window is not None or flash_attention:
            raise ValueError(f"{cls}: use_gate, sliding_window and flash_attention are not "
                             "supported by ndflow; leave them at their defaults")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.supports_masking = True
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._softmax = Softmax(axis=-1, dtype=self.dtype_policy.name)
        self._dropout_layer = Dropout(self.dropout, seed=seed, dtype=self.dtype_policy.name)

    def _dense(self, equation: str, shape: tuple, bias: str, name: str) -> EinsumDense:
        return EinsumDense(
            equation, output_shape=shape, bias_axes=bias if self.use_bias else None,
            kernel_initializer=self.kernel_initializer, bias_initializer=self.bias_initializer,
            kernel_regularizer=self.kernel_regularizer, bias_regularizer=self.bias_regularizer,
            kernel_constraint=self.kernel_constraint, bias_constraint=self.bias_constraint,
            dtype=self.dtype_policy.name, name=name)

    def build(self, query_shape: Any, value_shape: Any, key_shape: Any = None) -> None:
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        for what, s in (("a query", query_shape), ("a value", value_shape), ("a key", key_shape)):
            _rank3(self, what, s)
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
        self._build_shapes = {"query_shape": query_shape, "value_shape": value_shape,
                              "key_shape": None if key_shape == value_shape else key_shape}
        self.built = True

    def get_build_config(self) -> dict | None:
        shapes = self._build_shapes
        if not shapes:
            return None
        return {"shapes_dict": {k: list(v) for k, v in shapes.items() if v is not None}}

    def build_from_config(self, config: dict | None) -> None:
        if config and not self.built:
            shapes = config.get("shapes_dict") or config.get("input_shape")
            if isinstance(shapes, dict):
                self.build(**{k: tuple(v) for k, v in shapes.items() if v is not None})

    def call(self, query: Any, value: Any, key: Any = None, query_mask: Any = None,
             value_mask: Any = None, key_mask: Any = None, attention_mask: Any = None,
             return_attention_scores: bool = False, training: Any = None,
             use_causal_mask: bool = False) -> Any:
        q_in = query if isinstance(query, Tensor) else convert_to_tensor(query)
        v_in = value if isinstance(value, Tensor) else convert_to_tensor(value)
        k_is_v = key is None or key is value
        k_in = v_in if key is None else (key if isinstance(key, Tensor)
                                         else convert_to_tensor(key))
        mask = combine(self, None, None, k_is_v, query_mask, value_mask, key_mask,
                       attention_mask, use_causal_mask, q_in, v_in, k_in)
        q = self._query_dense(q_in)
        k = repeat(self._key_dense(k_in), self.num_repeats, axis=2)
        v = repeat(self._value_dense(v_in), self.num_repeats, axis=2)
        q = m.multiply(q, m.cast(convert_to_tensor(1.0 / math.sqrt(self.head_dim)), npdt(q)))
        scores = einsum("bquh,bkuh->buqk", q, k)
        probs = masked_softmax(scores, None if mask is None else expand_dims(mask, 1))
        dropped = self._dropout_layer(probs, training=training) if self.dropout else probs
        out = self._output_dense(einsum("buqk,bkuh->bquh", dropped, v))
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

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return previous_mask

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "head_dim": self.head_dim, "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads, "use_bias": self.use_bias,
            "dropout": self.dropout,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "seed": self.seed,
        })
        return config
