"""`Embedding`: turn integer ids into dense vectors (`embeddings[ids]`).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layer = layers.Embedding(10, 3, mask_zero=True)
>>> out = layer(np.array([[1, 2, 0]]))
>>> out.shape, layer.compute_mask(np.array([[1, 2, 0]])).numpy().tolist()
(TensorShape([1, 3, 3]), [[True, True, False]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.keras import constraints, initializers, regularizers
from ndflow.keras.layers.layer import Layer
from ndflow.ops import math as m
from ndflow.ops._util import npdt
from ndflow.ops.array import gather


class Embedding(Layer):
    """Map integer ids in `[0, input_dim)` to vectors of size `output_dim`.

    Inputs of shape `(batch, ...)` (integers) give outputs `(batch, ..., output_dim)`. The
    weight `embeddings` has shape `(input_dim, output_dim)`. With `mask_zero=True`, id 0 is
    padding: the layer emits a mask (`ids != 0`) that downstream layers receive, and
    `input_dim` should count the padding id.

    >>> import numpy as np
    >>> Embedding(5, 2, embeddings_initializer="ones")(np.array([4])).numpy().tolist()
    [[1.0, 1.0]]
    """

    def __init__(self, input_dim: int, output_dim: int,
                 embeddings_initializer: Any = "uniform", embeddings_regularizer: Any = None,
                 embeddings_constraint: Any = None, mask_zero: bool = False,
                 weights: Any = None, **kwargs: Any) -> None:
        for nm, v in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"Embedding: expected {nm} to be a positive integer, got "
                                 f"{nm}={v!r}")
        from ndflow.keras.layers.core.dense import _reject_unsupported

        _reject_unsupported("Embedding", kwargs)
        input_length = kwargs.pop("input_length", None)  # Keras 2 argument, ignored in Keras 3
        del input_length
        super().__init__(**kwargs)
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self._initial_weights = weights
        self.autocast = False

    def build(self, input_shape: Any = None) -> None:
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim), initializer=self.embeddings_initializer,
            name="embeddings", regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint, trainable=True)
        self.built = True
        if self._initial_weights is not None:
            w = self._initial_weights
            self.set_weights(w if isinstance(w, (list, tuple)) else [w])
            self._initial_weights = None

    def call(self, inputs: Any) -> Tensor:
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        dt = npdt(x)
        if dt.kind not in "iu":
            if dt.kind == "f" and not x._symbolic:
                v = x._value
                if not np.array_equal(v, np.floor(v)):
                    raise ValueError(
                        f"Embedding layer '{self.name}': expected integer ids, got float inputs "
                        "with fractional values. Pass integer arrays (e.g. x.astype('int32')).")
            elif dt.kind not in "fb":
                raise ValueError(f"Embedding layer '{self.name}': expected integer ids, got "
                                 f"dtype {dt.name}")
            x = m.cast(x, np.int32)
        if not x._symbolic and x._value.size:
            lo, hi = int(x._value.min()), int(x._value.max())
            if lo < 0 or hi >= self.input_dim:
                raise ValueError(
                    f"Embedding layer '{self.name}': expected ids in [0, {self.input_dim}) "
                    f"(input_dim={self.input_dim}), got an id of {lo if lo < 0 else hi}. "
                    "Increase input_dim to cover the largest id (plus one for padding id 0).")
        return gather(self.embeddings, x)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if not self.mask_zero:
            return None
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        return m.not_equal(x, 0)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape) + (self.output_dim,)

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        from ndflow.core.tensor import SymbolicTensor

        x = args[0] if args else kwargs["inputs"]
        return SymbolicTensor(tuple(x.shape) + (self.output_dim,), self.embeddings.dtype
                              if self.built else self.compute_dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
        })
        return config
