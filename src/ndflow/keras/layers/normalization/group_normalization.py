"""`GroupNormalization`: split the channels into groups and normalise each group of each
sample by its own mean and variance (Wu & He, 2018).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> x = np.arange(8, dtype="float32").reshape(1, 2, 4)
>>> y = layers.GroupNormalization(groups=2)(x).numpy()
>>> [round(float(v), 3) for v in y[0, :, 0]]
[-1.213, 0.728]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.layer import InputSpec, Layer
from ndflow.keras.layers.normalization.scale_offset import scale_offset_config, set_scale_offset
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of
from ndflow.ops.reduce import reduce_mean
from ndflow.ops.shape_ops import reshape


class GroupNormalization(Layer):
    """Group normalization over the channels axis `axis`, with `groups` groups.

    `groups=1` is layer normalization over all non-batch axes; `groups=-1` (one group per
    channel) is instance normalization. Statistics are computed in float32 at least.

    Args:
        groups: number of groups (default 32), dividing the channel count; -1 for one
            group per channel.
        axis: the channels axis (default -1).
        epsilon: added to the variance (default 1e-3).
        center, scale: learn `beta` / `gamma` (shape `(channels,)`).

    >>> GroupNormalization(groups=4).get_config()["groups"]
    4
    """

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any) -> None:
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or (
                groups <= 0 and groups != -1):
            raise ValueError("GroupNormalization: expected groups to be a positive integer "
                             f"(or -1 for instance normalization), got groups={groups!r}")
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"GroupNormalization: expected axis to be an int, got "
                             f"axis={axis!r}")
        super().__init__(**kwargs)
        self.supports_masking = True
        self.autocast = False
        self.groups = int(groups)
        self.axis = int(axis)
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        set_scale_offset(self, beta_initializer, gamma_initializer, beta_regularizer,
                         gamma_regularizer, beta_constraint, gamma_constraint)

    def _where(self) -> str:
        return f"GroupNormalization layer '{self.name}'"

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        ndim = len(shape)
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"{self._where()}: axis {self.axis} is out of range for inputs "
                             f"of shape {shape}")
        dim = shape[self.axis]
        if dim is None:
            raise ValueError(f"{self._where()}: axis {self.axis} of the inputs must have a "
                             f"known size, got input shape {shape}")
        if self.groups == -1:
            self.groups = int(dim)  # as Keras: the config then records the channel count
        if dim < self.groups:
            raise ValueError(f"{self._where()}: the number of groups ({self.groups}) cannot "
                             f"be more than the number of channels ({dim})")
        if dim % self.groups:
            raise ValueError(f"{self._where()}: the number of channels ({dim}) must be a "
                             f"multiple of the number of groups ({self.groups})")
        self.input_spec = InputSpec(ndim=ndim, axes={self.axis: dim})
        self._axis = self.axis % ndim
        self._ndim = ndim
        self.gamma = self.add_weight(
            shape=(dim,), name="gamma", initializer=self.gamma_initializer,
            regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
            autocast=False) if self.scale else None
        self.beta = self.add_weight(
            shape=(dim,), name="beta", initializer=self.beta_initializer,
            regularizer=self.beta_regularizer, constraint=self.beta_constraint,
            autocast=False) if self.center else None
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        x = inputs
        in_dt = npdt(x)
        work = np.result_type(in_dt, np.float32)
        if in_dt != work:  # float16 statistics overflow: compute in float32 at least
            x = m.cast(x, work)
        shape = tuple(shape_of(x))
        a, g = self._axis, self.groups
        dim = shape[a]
        if any(s is None for s in shape[1:]):
            raise ValueError(f"{self._where()}: all non-batch axes must have known sizes, got "
                             f"input shape {shape}")
        grouped = [-1] + list(shape[1:])
        grouped[a:a + 1] = [g, dim // g]
        xg = reshape(x, grouped)
        axes = tuple(i for i in range(1, len(grouped)) if i != a)
        mean = reduce_mean(xg, axis=axes, keepdims=True)
        var = reduce_mean(m.square(m.subtract(xg, mean)), axis=axes, keepdims=True)
        inv = m.rsqrt(m.add(var, self.epsilon))
        bshape = [1] * len(grouped)
        bshape[a], bshape[a + 1] = g, dim // g
        if self.gamma is not None:
            inv = m.multiply(inv, reshape(m.cast(self.gamma, work), bshape))
        shift = m.multiply(m.negative(mean), inv)
        if self.beta is not None:
            shift = m.add(shift, reshape(m.cast(self.beta, work), bshape))
        out = m.add(m.multiply(xg, inv), shift)
        out = reshape(out, [-1] + list(grouped[1:a]) + [dim] + list(grouped[a + 2:]))
        return m.cast(out, self.compute_dtype)

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = tuple(input_shape)
        if not -len(shape) <= self.axis < len(shape):
            raise ValueError(f"{self._where()}: axis {self.axis} is out of bounds for input "
                             f"shape {shape}")
        return shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "groups": self.groups, "axis": self.axis, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
        })
        config.update(scale_offset_config(self))
        return config
