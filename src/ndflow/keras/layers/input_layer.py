"""`keras.Input` and `InputLayer`: the symbolic entry points of Functional models.

>>> from ndflow import keras
>>> x = keras.Input(shape=(784,), name="pixels")
>>> x.shape, x.dtype.name
(TensorShape([None, 784]), 'float32')
"""

from __future__ import annotations

from typing import Any

from ndflow.core import dtypes as _dt
from ndflow.core.tensor import SymbolicTensor
from ndflow.keras import config as _config
from ndflow.keras.layers.layer import KerasHistory, Layer, Node


class InputLayer(Layer):
    """The layer behind `keras.Input`: it holds one symbolic tensor and has no weights.

    Args:
        shape: shape of one sample, without the batch dimension, e.g. ``(784,)``.
        batch_size: optional fixed batch size.
        dtype: dtype of the input (default ``keras.config.floatx()``).
        batch_shape: full shape including the batch dimension (instead of ``shape``).
        name: layer name (default ``input_layer``, ``input_layer_1``, ...).
    """

    def __init__(self, shape: Any = None, batch_size: int | None = None, dtype: Any = None,
                 sparse: bool | None = None, batch_shape: Any = None, input_tensor: Any = None,
                 optional: bool = False, name: str | None = None, **kwargs: Any) -> None:
        if "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        super().__init__(name=name, **kwargs)
        if sparse:
            raise ValueError(f"InputLayer '{self.name}': sparse inputs are not supported by "
                             "ndflow; pass dense arrays")
        if input_tensor is not None:
            if not isinstance(input_tensor, SymbolicTensor):
                raise TypeError(f"InputLayer '{self.name}': input_tensor must be a symbolic "
                                f"tensor (keras.Input), got {type(input_tensor).__name__}")
            batch_shape = tuple(input_tensor.shape)
            dtype = dtype or input_tensor.dtype.name
        if shape is not None and batch_shape is not None:
            raise ValueError(f"InputLayer '{self.name}': pass either shape or batch_shape, not "
                             "both")
        if batch_shape is None:
            if shape is None:
                raise ValueError(
                    f"InputLayer '{self.name}': a shape is required, e.g. keras.Input(shape=(784,))"
                    " for vectors of 784 features (the batch dimension is not included)")
            if isinstance(shape, int):
                shape = (shape,)
            try:
                batch_shape = (batch_size,) + tuple(shape)
            except TypeError:
                raise TypeError(f"InputLayer '{self.name}': shape must be a tuple of ints or None, "
                                f"got {shape!r}") from None
        batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self._batch_shape = batch_shape
        self._input_dtype = _dt.as_dtype(dtype or _config.floatx()).name
        self.sparse = False
        self.optional = optional
        self.built = True
        tensor = SymbolicTensor(batch_shape, self._input_dtype, name=self.name)
        node = Node(self, (), {}, tensor)
        tensor._keras_history = KerasHistory(self, node.index, 0)
        self._tensor = tensor

    @property
    def batch_shape(self) -> tuple:
        return self._batch_shape

    @property
    def dtype(self) -> str:
        return self._input_dtype

    @property
    def output(self) -> SymbolicTensor:
        return self._tensor

    def call(self) -> SymbolicTensor:
        return self._tensor

    def get_config(self) -> dict:
        return {"batch_shape": list(self._batch_shape), "dtype": self._input_dtype,
                "sparse": False, "name": self.name}


def Input(shape: Any = None, batch_size: int | None = None, dtype: Any = None,
          sparse: bool | None = None, batch_shape: Any = None, name: str | None = None,
          tensor: Any = None, optional: bool = False) -> SymbolicTensor:
    """A symbolic input for a Functional model: shape and dtype, no data.

    >>> from ndflow import keras
    >>> inputs = keras.Input(shape=(3,))
    >>> outputs = keras.layers.Dense(2)(inputs)
    >>> model = keras.Model(inputs, outputs)
    >>> model.output_shape
    (None, 2)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       batch_shape=batch_shape, name=name, input_tensor=tensor,
                       optional=optional)
    return layer.output
