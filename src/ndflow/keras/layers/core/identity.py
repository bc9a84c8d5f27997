"""`Identity`: returns its inputs unchanged (a placeholder layer).

>>> from ndflow.keras import layers
>>> layers.Identity()([1.0, 2.0]).numpy().tolist()
[1.0, 2.0]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.layer import Layer


class Identity(Layer):
    """A layer that returns its inputs (and passes masks through).

    >>> import numpy as np
    >>> Identity()(np.zeros((2, 3), "float32")).shape
    TensorShape([2, 3])
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        from ndflow.core.tensor import SymbolicTensor
        from ndflow.util import nest

        x = args[0] if args else kwargs["inputs"]
        return nest.map_structure(lambda t: SymbolicTensor(t.shape, t.dtype), x)
