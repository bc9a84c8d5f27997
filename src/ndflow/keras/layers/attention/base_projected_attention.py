"""The part `MultiHeadAttention` and `GroupQueryAttention` share: EinsumDense projections with
one set of initializers/regularizers/constraints, (batch, sequence, features) inputs, Keras
masks on the inputs, and the build config Keras writes for them (``shapes_dict``).

>>> from ndflow.keras import layers
>>> isinstance(layers.MultiHeadAttention(2, 4), ProjectedAttention)
True
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.keras import constraints, initializers, regularizers
from ndflow.keras.layers.activations.softmax import Softmax
from ndflow.keras.layers.attention.masking import combine, masked_softmax
from ndflow.keras.layers.core.einsum_dense import EinsumDense
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.regularization.dropout import Dropout
from ndflow.ops.array import expand_dims
from ndflow.ops.attention import ATTEND, SCORES, attention
from ndflow.ops.linalg import einsum


def _rank3(layer: Layer, what: str, shape: tuple) -> None:
    if len(shape) != 3:
        raise ValueError(
            f"{type(layer).__name__} layer '{layer.name}': expected {what} of shape (batch, "
            f"sequence, features), got shape {shape}. Inputs of other ranks (attention_axes) "
            "are not supported by ndflow.")


def refuse_unsupported(cls: str, use_gate: bool, sliding_window: Any, flash_attention: Any
                       ) -> None:
    if use_gate or sliding_window is not None or flash_attention:
        raise ValueError(f"{cls}: use_gate, sliding_window and flash_attention are not "
                         "supported by ndflow; leave them at their defaults")


class ProjectedAttention(Layer):
    """Base of the attention layers with learned query/key/value/output projections."""

    def _init_projections(self, dropout: float, use_bias: bool, kernel_initializer: Any,
                          bias_initializer: Any, kernel_regularizer: Any, bias_regularizer: Any,
                          kernel_constraint: Any, bias_constraint: Any, seed: Any) -> None:
        self.supports_masking = True
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

    def _build_shapes_of(self, query_shape: Any, value_shape: Any, key_shape: Any) -> tuple:
        """The three input shapes, checked to be (batch, sequence, features)."""
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        for what, s in (("a query", query_shape), ("a value", value_shape), ("a key", key_shape)):
            _rank3(self, what, s)
        self._build_shapes = {"query_shape": query_shape, "value_shape": value_shape,
                              "key_shape": None if key_shape == value_shape else key_shape}
        return query_shape, value_shape, key_shape

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

    def _inputs(self, query: Any, value: Any, key: Any, query_mask: Any, value_mask: Any,
                key_mask: Any, attention_mask: Any, use_causal_mask: bool) -> tuple:
        """``(query, value, key, mask)`` as tensors, with the combined attention mask."""
        q_in = query if isinstance(query, Tensor) else convert_to_tensor(query)
        v_in = value if isinstance(value, Tensor) else convert_to_tensor(value)
        k_is_v = key is None or key is value
        k_in = v_in if key is None else (key if isinstance(key, Tensor)
                                         else convert_to_tensor(key))
        mask = combine(self, None, None, k_is_v, query_mask, value_mask, key_mask,
                       attention_mask, use_causal_mask, q_in, v_in, k_in)
        return q_in, v_in, k_in, mask

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return previous_mask

    def _attend(self, q: Tensor, k: Tensor, v: Tensor, mask: Any, training: Any) -> tuple:
        """(attended values, probabilities) of the scaled `q` against `k` and `v`, all
        (batch, seq, heads, dim): one attention op, or with attention dropout the einsum and
        masked-softmax form."""
        mk = None if mask is None else expand_dims(mask, 1)
        if not self.dropout:
            return attention(q, k, v, mk)  # each head's scores stay in cache
        probs = masked_softmax(einsum(SCORES, q, k), mk)
        return einsum(ATTEND, self._dropout_layer(probs, training=training), v), probs

    def _projection_config(self) -> dict:
        return {
            "dropout": self.dropout, "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "seed": self.seed,
        }
