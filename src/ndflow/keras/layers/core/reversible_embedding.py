"""`ReversibleEmbedding`: an `Embedding` that can also project hidden states back to
vocabulary logits (`reverse=True`), with the embedding matrix tied (default) or a separate
`reverse_embeddings` weight.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> emb = layers.ReversibleEmbedding(10, 4)
>>> h = emb(np.array([[1, 2, 3]]))
>>> tuple(h.shape), tuple(emb(h, reverse=True).shape)
((1, 3, 4), (1, 3, 10))
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import SymbolicTensor, Tensor, convert_to_tensor
from ndflow.keras.layers.core.embedding import Embedding
from ndflow.ops import math as m
from ndflow.ops._util import npdt
from ndflow.ops.array import transpose
from ndflow.ops.linalg import matmul


class ReversibleEmbedding(Embedding):
    """Embedding with a reverse projection ``logits = hidden @ embeddings.T`` (or
    ``hidden @ reverse_embeddings`` when `tie_weights=False`).

    Args:
        input_dim, output_dim: vocabulary size and embedding size.
        tie_weights: share the embedding matrix with the reverse projection (default True).
        embeddings_initializer, embeddings_regularizer, embeddings_constraint, mask_zero:
            as in `Embedding` (the initializer also initialises `reverse_embeddings`).
        reverse_dtype: dtype of the reverse projection (default: the compute dtype).
        logit_soft_cap: if set, reverse logits become ``tanh(logits / cap) * cap``.

    >>> ReversibleEmbedding(5, 2, tie_weights=False).get_config()["tie_weights"]
    False
    """

    def __init__(self, input_dim: int, output_dim: int, tie_weights: bool = True,
                 embeddings_initializer: Any = "uniform", embeddings_regularizer: Any = None,
                 embeddings_constraint: Any = None, mask_zero: bool = False,
                 reverse_dtype: Any = None, logit_soft_cap: float | None = None,
                 **kwargs: Any) -> None:
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero,
                         **kwargs)
        self.tie_weights = tie_weights
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap

    def build(self, input_shape: Any = None) -> None:
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                shape=(self.output_dim, self.input_dim),
                initializer=self.embeddings_initializer, name="reverse_embeddings",
                trainable=True)
        self.built = True

    def call(self, inputs: Any, reverse: bool = False) -> Tensor:
        if not reverse:
            return super().call(inputs)
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        kernel = transpose(self.embeddings) if self.tie_weights else self.reverse_embeddings
        if self.reverse_dtype is not None:
            x = m.cast(x, self.reverse_dtype)
            kernel = m.cast(kernel, self.reverse_dtype)
        elif npdt(x) != npdt(kernel):
            x = m.cast(x, npdt(kernel))
        logits = matmul(x, kernel)
        if self.logit_soft_cap is not None:
            cap = float(self.logit_soft_cap)
            logits = m.multiply(m.tanh(m.divide(logits, cap)), cap)
        return logits

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        # the padding mask belongs to forward calls (integer ids), not to reverse projections
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        if npdt(x).kind not in "iu":
            return None
        return super().compute_mask(inputs, mask)

    def compute_output_shape(self, input_shape: Any, reverse: bool = False) -> tuple:
        shape = list(input_shape)
        if reverse:
            shape[-1] = self.input_dim
        else:
            shape.append(self.output_dim)
        return tuple(shape)

    def compute_output_spec(self, inputs: Any, reverse: bool = False) -> Any:
        dtype = self.reverse_dtype if reverse and self.reverse_dtype else self.compute_dtype
        return SymbolicTensor(self.compute_output_shape(tuple(inputs.shape), reverse), dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"tie_weights": self.tie_weights, "reverse_dtype": self.reverse_dtype,
                       "logit_soft_cap": self.logit_soft_cap})
        return config
