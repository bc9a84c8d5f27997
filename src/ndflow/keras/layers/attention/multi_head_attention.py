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

from ndflow.core.tensor import SymbolicTensor, Tensor, convert_to_tensor
from ndflow.keras import constraints, initializers, regularizers
from ndflow.keras.layers.activations.softmax import Softmax
from ndflow.keras.layers.attention.masking import combine, masked_softmax
from ndflow.keras.layers.core.einsum_dense import EinsumDense
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.regularization.dropout import Dropout
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of
from ndflow.ops.array import expand_dims
from ndflow.ops.linalg import einsum


def _rank3(layer: Layer, what: str, shape: tuple) -> None:
    if len(shape) != 3:
        raise ValueError(
            f"{type(layer).__name__} layer '{layer.name}': expected {what} of shape (batch, "
            f"sequence, features), got shape {shape}. Inputs of other ranks (attention_axes) "
            "are not supported by ndflow.")


class MultiHeadAttention(Layer):
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
        if use_gate or sliding_window is not None or flash_attention:
            raise ValueError(f"{cls}: use_gate, sliding_window and flash_attention are not "
                             "supported by ndflow; leave them at their defaults")
        if attention_axes is not None and list(
                [attention_axes] if isinstance(attention_axes, int) else attention_axes) not in (
                [1], [-2]):
            raise ValueError(f"{cls}: only attention over the sequence axis is supported "
                             f"(attention_axes=None or [1]), got {attention_axes!r}")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.supports_masking = True
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim if value_dim else key_dim
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        if output_shape is not None and not isinstance(output_shape, int):
            shape = list(output_shape)
            if len(shape) != 1:
                raise ValueError(f"{cls}: output_shape must be an int or a 1-tuple, got "
                                 f"{output_shape!r}")
            output_shape = shape[0]
        self._output_dim = output_shape
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
        _rank3(self, "a query", query_shape)
        _rank3(self, "a value", value_shape)
        _rank3(self, "a key", key_shape)
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
        q = self.query_dense(q_in)
        k = self.key_dense(k_in)
        v = self.value_dense(v_in)
        q = m.multiply(q, m.cast(convert_to_tensor(1.0 / math.sqrt(self.key_dim)), npdt(q)))
        scores = einsum("aecd,abcd->acbe", k, q)
        probs = masked_softmax(scores, None if mask is None else expand_dims(mask, 1))
        dropped = self._dropout_layer(probs, training=training) if self.dropout else probs
        out = einsum("acbe,aecd->abcd", dropped, v)
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

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return previous_mask

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads, "key_dim": self.key_dim,
            "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
            "output_shape": self._output_dim, "attention_axes": [1],
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
