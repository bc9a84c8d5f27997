"""`Normalization`: standardise features with a mean and variance that are given or learned
from data with `adapt`.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layer = layers.Normalization(axis=None)
>>> layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0], "float32"))
>>> [round(float(v), 4) for v in layer(np.array([1.0, 2.0, 3.0], "float32")).numpy()]
[-1.4142, -0.7071, 0.0]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor, constant, convert_to_tensor
from ndflow.keras.layers.layer import Layer
from ndflow.ops import math as m
from ndflow.ops._util import npdt
from ndflow.ops.shape_ops import reshape


class Normalization(Layer):
    """`(x - mean) / max(sqrt(variance), epsilon)` per index of `axis` (`invert=True` undoes
    it: `mean + x * max(sqrt(variance), epsilon)`).

    Args:
        axis: axis or axes that keep a separate mean and variance (default -1: one per
            feature); None for a single scalar mean and variance.
        mean, variance: values to use directly (both or neither); otherwise call `adapt`.
        invert: apply the inverse transformation.

    Weights (when adapted): non-trainable `mean`, `variance` (shape: the kept axes) and
    `count`, as in Keras.

    >>> Normalization(mean=3.0, variance=4.0)(np.array([[5.0]], "float32")).numpy().tolist()
    [[1.0]]
    """

    def __init__(self, axis: Any = -1, mean: Any = None, variance: Any = None,
                 invert: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(int(a) for a in axis)
        self.axis = axis
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization: pass both mean and variance, or neither (to use "
                             f"adapt). Got mean={mean!r}, variance={variance!r}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(f"Normalization: mean and variance must have the same shape, "
                                 f"got {np.shape(mean)} and {np.shape(variance)}")
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(f"Normalization: the rank of mean ({len(np.shape(mean))}) must "
                                 f"be at most the number of axes ({len(self.axis)})")
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self.supports_masking = True
        self._build_input_shape = None
        self.mean = None
        self.variance = None

    def build(self, input_shape: Any) -> None:
        if input_shape is None:
            return
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"Normalization layer '{self.name}': axis {self.axis} is out of "
                             f"range for inputs of rank {ndim} (shape {input_shape})")
        self._build_input_shape = input_shape
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(f"Normalization layer '{self.name}': the kept axis {d} must "
                                 f"have a known size, got input shape {input_shape}")
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = [input_shape[d] if d in self._keep_axis else 1
                                 for d in range(ndim)]
        shape = tuple(input_shape[d] for d in self._keep_axis)
        self._mean_and_var_shape = shape
        dt = np.dtype(self.compute_dtype)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=shape, initializer="zeros",
                                              trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=shape,
                                                  initializer="ones", trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int64",
                                         initializer="zeros", trainable=False)
            self.built = True
            self.finalize_state()
        else:
            mean = np.asarray(self.input_mean, dt)
            var = np.asarray(self.input_variance, dt)
            if mean.ndim:
                expanded = [1] * ndim
                for i in range(1, mean.ndim + 1):
                    expanded[self._keep_axis[-i]] = mean.shape[-i]
                mean, var = mean.reshape(expanded), var.reshape(expanded)
            try:
                self.mean = constant(np.broadcast_to(mean, self._broadcast_shape).copy())
                self.variance = constant(np.broadcast_to(var, self._broadcast_shape).copy())
            except ValueError:
                raise ValueError(
                    f"Normalization layer '{self.name}': mean of shape {np.shape(mean)} does "
                    f"not broadcast to the kept axes of the inputs {self._broadcast_shape}"
                ) from None
            self.built = True

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Compute the mean and variance of `data` (an array or tensor, or an iterable of
        batches) over every axis but `axis`, and store them in the layer's weights."""
        if self.input_mean is not None:
            raise ValueError(f"Normalization layer '{self.name}': adapt() cannot be used when "
                             "mean and variance were passed to the constructor")
        if isinstance(data, Tensor):
            batches = [data.numpy()]
        elif isinstance(data, np.ndarray):
            batches = [data]
        elif hasattr(data, "__iter__") and not isinstance(data, (str, bytes, list)):
            batches = data
        elif isinstance(data, list):
            if data and all(isinstance(b, (np.ndarray, Tensor, tuple)) for b in data):
                batches = data  # a list of batches
            else:
                batches = [np.asarray(data)]
        else:
            raise TypeError(f"Normalization.adapt: expected an array, a tensor or an iterable "
                            f"of batches, got {type(data).__name__}")
        total_mean = total_var = None
        total_count = 0
        for i, batch in enumerate(batches):
            if steps is not None and i >= steps:
                break
            if isinstance(batch, tuple):
                batch = batch[0]
            arr = np.asarray(batch.numpy() if isinstance(batch, Tensor) else batch,
                             dtype=np.float64)
            if not self.built:
                self.build(arr.shape)
            self._check_adapt_shape(arr.shape)
            bm = arr.mean(axis=self._reduce_axis)
            bv = arr.var(axis=self._reduce_axis)
            n = math.prod(arr.shape[d] for d in self._reduce_axis) if self._reduce_axis else 1
            if total_mean is None:
                total_mean, total_var, total_count = bm, bv, n
                continue
            new_count = total_count + n
            w = n / new_count
            new_mean = total_mean * (1 - w) + bm * w
            total_var = ((total_var + (total_mean - new_mean) ** 2) * (1 - w)
                         + (bv + (bm - new_mean) ** 2) * w)
            total_mean, total_count = new_mean, new_count
        if total_mean is None:
            raise ValueError("Normalization.adapt: received no data (an empty iterable)")
        self.adapt_mean.assign(np.asarray(total_mean, self.adapt_mean.dtype.as_numpy_dtype))
        self.adapt_variance.assign(np.asarray(total_var,
                                              self.adapt_variance.dtype.as_numpy_dtype))
        self.count.assign(np.asarray(total_count, np.int64))
        self.finalize_state()

    def _check_adapt_shape(self, shape: tuple) -> None:
        if len(shape) != len(self._build_input_shape):
            raise ValueError(f"Normalization layer '{self.name}' was built for inputs of shape "
                             f"{self._build_input_shape}, but adapt() got data of shape {shape}")
        for d in self._keep_axis:
            if shape[d] != self._build_input_shape[d]:
                raise ValueError(f"Normalization layer '{self.name}' was built for inputs of "
                                 f"shape {self._build_input_shape}, but adapt() got data of "
                                 f"shape {shape}")

    def finalize_state(self) -> None:
        if self.input_mean is not None or not self.built:
            return
        self.mean = reshape(self.adapt_mean, self._broadcast_shape)
        self.variance = reshape(self.adapt_variance, self._broadcast_shape)

    def load_own_variables(self, store: Any) -> None:
        parent = getattr(super(), "load_own_variables", None)
        if parent is not None:
            parent(store)
        self.finalize_state()

    def call(self, inputs: Any) -> Tensor:
        if self.mean is None:
            raise ValueError(f"Normalization layer '{self.name}' has no mean and variance yet: "
                             "call adapt(data) or pass mean= and variance= first")
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        dt = np.dtype(self.compute_dtype)
        if npdt(x) != dt:
            x = m.cast(x, dt)
        if self.input_mean is None:
            self.finalize_state()  # the weights may have been set since (set_weights, loading)
        mean, var = self.mean, self.variance
        if npdt(mean) != dt:
            mean, var = m.cast(mean, dt), m.cast(var, dt)
        from ndflow.keras import config

        std = m.maximum(m.sqrt(var), config.epsilon())
        if self.invert:
            return m.add(mean, m.multiply(x, std))
        return m.divide(m.subtract(x, mean), std)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "axis": list(self.axis),
            "invert": self.invert,
            "mean": np.array(self.input_mean).tolist(),
            "variance": np.array(self.input_variance).tolist(),
        })
        return config

    def get_build_config(self) -> dict | None:
        if self._build_input_shape:
            return {"input_shape": list(self._build_input_shape)}
        return None

    def build_from_config(self, config: dict | None) -> None:
        if config and config.get("input_shape") is not None:
            self.build(tuple(config["input_shape"]))
