"""`CategoryEncoding`: integer category indices to one-hot, multi-hot or count vectors.

>>> from ndflow.keras import layers
>>> layers.CategoryEncoding(num_tokens=4, output_mode="count")([[0, 1, 1], [3, 3, 2]]).numpy()
array([[1., 2., 0., 0.],
       [0., 0., 1., 2.]], dtype=float32)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import SymbolicTensor, Tensor
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.preprocessing import categorical_utils as cu


class CategoryEncoding(Layer):
    """Encode integer indices in [0, num_tokens) (Keras 3 API).

    Args:
        num_tokens: the number of categories (the output's last dimension).
        output_mode: "multi_hot" (default), "one_hot" or "count"; `call(inputs,
            count_weights=...)` weights the counts in "count" mode.
    """

    def __init__(self, num_tokens: int | None = None, output_mode: str = "multi_hot",
                 sparse: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError("num_tokens must be set to use this layer. If the number of "
                             "tokens is not known beforehand, use the IntegerLookup layer "
                             "instead.")
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise ValueError("CategoryEncoding: `sparse=True` needs TensorFlow sparse tensors, "
                             "which ndflow does not have; use sparse=False")
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = False
        self.built = True

    def _compute(self, inputs: Any, count_weights: Any = None) -> Tensor:
        idx = cu.int_array(inputs, self, "integer category indices")
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_tokens):
            raise fail(f"CategoryEncoding layer '{self.name}'",
                       f"values in [0, {self.num_tokens})",
                       f"values in [{int(idx.min())}, {int(idx.max())}]",
                       "raise num_tokens, or map values with IntegerLookup")
        w = None if count_weights is None else cu.as_array(count_weights).astype(
            self.compute_dtype)
        return Tensor(cu.encode_categorical(idx, self.output_mode, self.num_tokens,
                                            self.compute_dtype, w))

    def call(self, inputs: Any, count_weights: Any = None) -> Any:
        if count_weights is not None and self.output_mode != "count":
            raise ValueError("`count_weights` is not used when `output_mode` is not "
                             f"`'count'`. Received `count_weights={count_weights}`.")
        if cu.is_traced(inputs):
            shape = self.compute_output_shape(tuple(inputs.shape))
            if count_weights is None:
                return cu.run_on_host(self, self._compute, inputs, shape, self.compute_dtype)
            from ndflow.graph.trace import host_call

            return host_call(self._compute, (inputs, count_weights), {},
                             example=np.zeros(shape, self.compute_dtype))
        return self._compute(inputs, count_weights)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        input_shape = tuple(input_shape)
        if not input_shape:
            return (self.num_tokens,)
        if self.output_mode == "one_hot":
            if input_shape[-1] != 1 or len(input_shape) == 1:
                return input_shape + (self.num_tokens,)
            return input_shape[:-1] + (self.num_tokens,)
        return input_shape[:-1] + (self.num_tokens,)

    def compute_output_spec(self, inputs: Any, *args: Any, **kwargs: Any) -> SymbolicTensor:
        return SymbolicTensor(self.compute_output_shape(tuple(inputs.shape)),
                              self.compute_dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config
