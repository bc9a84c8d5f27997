"""`LayerNormalization`: normalise each sample over `axis` (default the last), then scale by
`gamma` and shift by `beta`.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> out = layers.LayerNormalization()(np.array([[1.0, 2.0, 3.0]], "float32")).numpy()
>>> [round(float(v), 3) for v in out[0]]
[-1.224, 0.0, 1.224]
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.normalization.scale_offset import scale_offset_config, set_scale_offset
from ndflow.ops import math as m
from ndflow.ops.normalization import normalize
from ndflow.ops.reduce import reduce_mean
from ndflow.ops.shape_ops import reshape


def _axes(name: str, axis: Any, ndim: int) -> tuple:
    axes = [axis] if isinstance(axis, int) else list(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"{name}: axis {a} is out of range for inputs of rank {ndim}")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: duplicate axes {axes}")
    return tuple(sorted(out))


class LayerNormalization(Layer):
    """Layer normalization (Ba et al., 2016): `gamma * (x - mean) / sqrt(var + epsilon) +
    beta`, with mean and variance over `axis` of each sample.

    Args:
        axis: int or list of ints to normalise over (default -1).
        epsilon: added to the variance (default 1e-3).
        center, scale: whether to learn `beta` / `gamma` (shape: the sizes of `axis`).
        rms_scaling: scale by the root mean square only, without centring (RMSNorm).

    >>> LayerNormalization(axis=[1, 2]).get_config()["axis"]
    [1, 2]
    """

    def __init__(self, axis: Any = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, rms_scaling: bool = False,
                 beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 beta_regularizer: Any = None, gamma_regularizer: Any = None,
                 beta_constraint: Any = None, gamma_constraint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = [int(a) for a in axis]
        elif isinstance(axis, int):
            self.axis = int(axis)
        else:
            raise TypeError(f"LayerNormalization: expected axis to be an int or a list of "
                            f"ints, got {axis!r}")
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.rms_scaling = bool(rms_scaling)
        set_scale_offset(self, beta_initializer, gamma_initializer, beta_regularizer,
                         gamma_regularizer, beta_constraint, gamma_constraint)
        self.supports_masking = True
        self.autocast = False

    def build(self, input_shape: Any) -> None:
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        self._axes = _axes(f"LayerNormalization layer '{self.name}'", self.axis, ndim)
        shape = tuple(input_shape[a] for a in self._axes)
        if any(d is None for d in shape):
            raise ValueError(f"LayerNormalization layer '{self.name}': the normalised axes "
                             f"{self.axis} must have known sizes, got input shape "
                             f"{input_shape}")
        self._ndim = ndim
        self._bshape = None if self._axes == (ndim - 1,) else tuple(
            input_shape[i] if i in self._axes else 1 for i in range(ndim))
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(name="gamma", shape=shape,
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint, trainable=True)
        else:
            self.gamma = None
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(name="beta", shape=shape,
                                        initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint, trainable=True)
        else:
            self.beta = None
        self.built = True

    def _param(self, w: Any) -> Any:
        return w if self._bshape is None else reshape(w, self._bshape)

    def call(self, inputs: Tensor) -> Tensor:
        if len(inputs.shape) != self._ndim:
            raise ValueError(f"LayerNormalization layer '{self.name}': expected inputs of rank "
                             f"{self._ndim} (it was built for that), got shape "
                             f"{tuple(inputs.shape)}")
        x = inputs
        w = self.gamma if self.gamma is not None else self.beta
        if w is not None and x.dtype != w.dtype:  # compute in the weights' dtype, return the
            return m.cast(self.call(m.cast(x, w.dtype)), x.dtype)  # input's
        axes = self._axes
        if self.rms_scaling:
            ms = reduce_mean(m.square(x), axis=axes, keepdims=True)
            inv = m.rsqrt(m.add(ms, self.epsilon))
            out = m.multiply(x, inv)
            return m.multiply(out, self._param(self.gamma)) if self.gamma is not None else out
        if self.gamma is not None and self.beta is not None:
            return normalize(x, self.gamma, self.beta, axes, self.epsilon, self._bshape)[0]
        mean = reduce_mean(x, axis=axes, keepdims=True)
        d = m.subtract(x, mean)
        var = reduce_mean(m.square(d), axis=axes, keepdims=True)
        out = m.multiply(d, m.rsqrt(m.add(var, self.epsilon)))
        if self.gamma is not None:
            out = m.multiply(out, self._param(self.gamma))
        if self.beta is not None:
            out = m.add(out, self._param(self.beta))
        return out

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
            "scale": self.scale, "rms_scaling": self.rms_scaling,
        })
        config.update(scale_offset_config(self))
        return config
