"""`BatchNormalization`: normalise with the batch's statistics in training and with moving
averages of them at inference.

Keras 3 semantics: `training=True` uses (and updates) batch statistics; a layer with
`trainable=False` always runs in inference mode (frozen), which is what fine-tuning needs.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> bn = layers.BatchNormalization()
>>> x = np.array([[0.0], [2.0]], "float32")
>>> [round(float(v), 4) for v in bn(x, training=True).numpy().ravel()]
[-0.9995, 0.9995]
>>> [round(float(v), 3) for v in bn.moving_mean.numpy()]
[0.01]
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras import initializers
from ndflow.keras.layers.layer import InputSpec, Layer
from ndflow.keras.layers.normalization.scale_offset import scale_offset_config, set_scale_offset
from ndflow.ops import math as m
from ndflow.ops.array import expand_dims
from ndflow.ops.normalization import normalize
from ndflow.ops.reduce import reduce_mean, reduce_sum
from ndflow.ops.shape_ops import reshape


class BatchNormalization(Layer):
    """Batch normalization (Ioffe & Szegedy, 2015).

    Training (`training=True` and the layer trainable): normalise with the batch mean and
    (biased) variance over every axis but `axis`, and update
    `moving = moving * momentum + batch * (1 - momentum)`. Otherwise normalise with
    `moving_mean` and `moving_variance`. Output: `gamma * (x - mean) / sqrt(var + epsilon) +
    beta`.

    Weights: `gamma`, `beta` (trainable, if `scale` / `center`), `moving_mean`,
    `moving_variance` (non-trainable), all of shape `(input_shape[axis],)`.

    >>> BatchNormalization().get_config()["momentum"]
    0.99
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, synchronized: bool = False,
                 **kwargs: Any) -> None:
        renorm = kwargs.pop("renorm", False)
        kwargs.pop("renorm_clipping", None)
        kwargs.pop("renorm_momentum", None)
        if renorm:
            raise ValueError("BatchNormalization: renorm=True (batch renormalization) is not "
                             "supported by ndflow")
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        set_scale_offset(self, beta_initializer, gamma_initializer, beta_regularizer,
                         gamma_regularizer, beta_constraint, gamma_constraint)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.synchronized = bool(synchronized)
        self.supports_masking = True
        self.autocast = False

    def build(self, input_shape: Any) -> None:
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"BatchNormalization layer '{self.name}': axis {self.axis} is out "
                             f"of range for inputs of shape {input_shape}")
        ax = self.axis % ndim
        dim = input_shape[ax]
        if dim is None:
            raise ValueError(f"BatchNormalization layer '{self.name}': axis {self.axis} of the "
                             f"inputs must have a known size, got input shape {input_shape}")
        shape = (dim,)
        if self.scale:
            self.gamma = self.add_weight(name="gamma", shape=shape,
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint, trainable=True)
        else:
            self.gamma = None
        if self.center:
            self.beta = self.add_weight(name="beta", shape=shape,
                                        initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint, trainable=True)
        else:
            self.beta = None
        self.moving_mean = self.add_weight(name="moving_mean", shape=shape,
                                           initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=shape,
                                               initializer=self.moving_variance_initializer,
                                               trainable=False)
        self.input_spec = InputSpec(ndim=ndim, axes={ax: dim})
        self._ax = ax
        self._reduction_axes = tuple(i for i in range(ndim) if i != ax)
        self._bshape = None if ax == ndim - 1 else tuple(
            dim if i == ax else 1 for i in range(ndim))
        self.built = True

    def _b(self, v: Any) -> Any:
        return v if self._bshape is None else reshape(v, self._bshape)

    def _moments(self, x: Tensor, mask: Any) -> tuple:
        axes = self._reduction_axes
        if mask is None:
            mean = reduce_mean(x, axis=axes, keepdims=True)
            var = reduce_mean(m.squared_difference(x, m.stop_gradient(mean)), axis=axes,
                              keepdims=True)
            return mean, var
        w = m.cast(mask, x.dtype)
        while len(w.shape) < len(x.shape):
            w = expand_dims(w, -1)
        total = m.maximum(reduce_sum(m.multiply(w, m.ones_like_(x)), axis=axes,
                                     keepdims=True), 1.0)
        mean = m.divide(reduce_sum(m.multiply(x, w), axis=axes, keepdims=True), total)
        var = m.divide(reduce_sum(m.multiply(m.squared_difference(x, m.stop_gradient(mean)), w),
                                  axis=axes, keepdims=True), total)
        return mean, var

    def call(self, inputs: Tensor, training: Any = None, mask: Any = None) -> Tensor:
        x = inputs
        if x.dtype != self.moving_mean.dtype:
            x = m.cast(x, self.moving_mean.dtype)
        if (training and self.trainable and mask is None and self.gamma is not None
                and self.beta is not None and (not x._symbolic or x._traced)):
            out, mean, var = normalize(x, self.gamma, self.beta, self._reduction_axes,
                                       self.epsilon, self._bshape)
            self._update_moving(mean, var)
            return out if out.dtype == inputs.dtype else m.cast(out, inputs.dtype)
        if training and self.trainable:
            mean, var = self._moments(x, mask)
            if not x._symbolic or x._traced:
                self._update_moving(mean, var)
        else:
            mean, var = self._b(self.moving_mean), self._b(self.moving_variance)
        inv = m.rsqrt(m.add(var, self.epsilon))
        if self.gamma is not None:
            inv = m.multiply(inv, self._b(self.gamma))
        shift = m.negative(m.multiply(mean, inv))
        if self.beta is not None:
            shift = m.add(shift, self._b(self.beta))
        out = m.add(m.multiply(x, inv), shift)
        if out.dtype != inputs.dtype:
            out = m.cast(out, inputs.dtype)
        return out

    def _update_moving(self, mean: Tensor, var: Tensor) -> None:
        mom = self.momentum
        shape = tuple(self.moving_mean.shape)
        for v, new in ((self.moving_mean, mean), (self.moving_variance, var)):
            new = reshape(m.stop_gradient(new), shape)
            v.assign(m.add(m.multiply(v, mom), m.multiply(new, 1.0 - mom)))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(
                self.moving_variance_initializer),
            "synchronized": self.synchronized,
        })
        config.update(scale_offset_config(self))
        return config
