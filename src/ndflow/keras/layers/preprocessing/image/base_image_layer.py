"""`BaseImageLayer`: shared plumbing of the image preprocessing/augmentation layers.

Images are `(batch, h, w, c)` or a single `(h, w, c)` (channels_first: `(c, h, w)`). Random
layers act only when called with `training=True` (as inside `fit`) and otherwise return their
inputs, cast to the layer's compute dtype. Random draws come from a `SeedGenerator`, so a
seeded layer repeats its sequence. Augmentations run on the raw arrays (NumPy or CuPy) and are
not differentiated: they transform data, not activations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.backend.devices import get_array_module
from ndflow.core.tensor import SymbolicTensor, Tensor, convert_to_tensor
from ndflow.keras import config as _config
from ndflow.keras.layers.layer import Layer
from ndflow.keras.utils.rng_utils import SeedGenerator
from ndflow.ops import math as m
from ndflow.ops._util import npdt

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("bilinear", "nearest")


def factor_range(layer: str, name: str, factor: Any, lo_bound: float | None = None,
                 hi_bound: float | None = None) -> tuple:
    """A float `f` -> (-f, f); a pair -> itself (sorted check), with bounds checks."""
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        lo, hi = -abs(float(factor)), abs(float(factor))
    else:
        try:
            lo, hi = (float(v) for v in factor)
        except (TypeError, ValueError):
            raise ValueError(f"{layer}: expected {name} to be a float or a (lower, upper) pair, "
                             f"got {name}={factor!r}") from None
    if lo > hi:
        raise ValueError(f"{layer}: expected {name} lower <= upper, got {name}={factor!r}")
    if (lo_bound is not None and lo < lo_bound) or (hi_bound is not None and hi > hi_bound):
        raise ValueError(f"{layer}: expected {name} within [{lo_bound}, {hi_bound}], got "
                         f"{name}={factor!r}")
    return lo, hi


class BaseImageLayer(Layer):
    """Base of the image layers: data format, seeding, batching and dtype handling."""

    def __init__(self, seed: int | None = None, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _config.standardize_data_format(data_format)
        self.seed = seed
        self.seed_generator = SeedGenerator(seed)
        self.built = True

    # --- helpers ----------------------------------------------------------------------------
    def _tensor(self, inputs: Any) -> Tensor:
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        nd = len(tuple(x.shape))
        if nd not in (3, 4):
            raise ValueError(f"{type(self).__name__} layer '{self.name}': expected images of "
                             f"rank 3 (h, w, c) or 4 (batch, h, w, c), got shape "
                             f"{tuple(x.shape)}")
        dt = np.dtype(self.compute_dtype)
        if not x._symbolic and npdt(x) != dt:
            x = m.cast(x, dt)
        return x

    def _hw_axes(self, nd: int) -> tuple:
        if self.data_format == "channels_first":
            return nd - 2, nd - 1
        return nd - 3, nd - 2

    def _symbolic(self, x: Tensor) -> Tensor:
        return SymbolicTensor(self.compute_output_shape(tuple(x.shape)), self.compute_dtype)

    def _nhwc(self, x: Tensor) -> tuple:
        """The raw array as (N, H, W, C), its array module, and how to undo the layout."""
        a = x._value
        xp = np if type(a) is np.ndarray else get_array_module(a)
        single = a.ndim == 3
        if single:
            a = a[None]
        if self.data_format == "channels_first":
            a = xp.moveaxis(a, 1, -1)
        return a, xp, single

    def _back(self, a: Any, xp: Any, single: bool) -> Tensor:
        if self.data_format == "channels_first":
            a = xp.moveaxis(a, -1, 1)
        if single:
            a = a[0]
        return Tensor(xp.ascontiguousarray(a.astype(np.dtype(self.compute_dtype), copy=False)))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"seed": self.seed, "data_format": self.data_format})
        return config


class BaseRandomAffine(BaseImageLayer):
    """Random geometric transforms sampled per image and applied with
    `ndflow.ops.image.projective_transform`. Subclasses define
    `_matrices(rng, n, h, w) -> (n, 8)` transforms mapping output pixels to input points."""

    def __init__(self, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        cls = type(self).__name__
        if fill_mode not in _FILL_MODES:
            raise ValueError(f"{cls}: expected fill_mode in {_FILL_MODES}, got "
                             f"fill_mode={fill_mode!r}")
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(f"{cls}: expected interpolation in {_INTERPOLATIONS}, got "
                             f"interpolation={interpolation!r}")
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = float(fill_value)

    def call(self, inputs: Any, training: Any = None) -> Tensor:
        x = self._tensor(inputs)
        if x._symbolic or not training:
            return x
        from ndflow.ops.image import projective_transform

        a, xp, single = self._nhwc(x)
        n, h, w, _ = a.shape
        mats = self._matrices(self.seed_generator.next_rng(), n, h, w)
        out = projective_transform(xp, a, xp.asarray(mats), self.interpolation, self.fill_mode,
                                   self.fill_value)
        return self._back(out, xp, single)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"fill_mode": self.fill_mode, "interpolation": self.interpolation,
                       "fill_value": self.fill_value})
        return config
