"""`BaseImageLayer`: shared plumbing of the image preprocessing/augmentation layers.

Images are `(batch, h, w, c)` or a single `(h, w, c)` (channels_first: `(c, h, w)`), or, as in
Keras 3, a dict `{"images", "labels", "bounding_boxes": {"boxes", "labels"},
"segmentation_masks"}` (boxes need `bounding_box_format`; dicts run on the host, see
`base_augmentation_layer`). Random
layers act only when called with `training=True` (as inside `fit`) and otherwise return their
inputs, cast to the layer's compute dtype. Their random parameters come from a `SeedGenerator`
through `random_sample` nodes, and the transforms themselves are ndflow ops, so the layers work
eagerly and inside `ndflow.function` (a compiled `fit` step draws fresh parameters on every
call); a seeded layer repeats its sequence.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core import dispatch
from ndflow.core.tensor import SymbolicTensor, Tensor, convert_to_tensor
from ndflow.keras import config as _config
from ndflow.keras.layers.layer import Layer
from ndflow.keras.utils.rng_utils import SeedGenerator
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of
from ndflow.ops.array import expand_dims, transpose
from ndflow.ops.random import sample
from ndflow.ops.shape_ops import reshape


def is_keras_symbolic(x: Any) -> bool:
    """A `keras.Input` graph tensor (shape only), as opposed to real tensors and tensors being
    traced by `ndflow.function`."""
    return bool(getattr(x, "_symbolic", False)) and dispatch.trace_hook is None


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
                 bounding_box_format: str | None = None, **kwargs: Any) -> None:
        from ndflow.keras.layers.preprocessing.image.bounding_boxes import check_format

        super().__init__(**kwargs)
        self.bounding_box_format = check_format(type(self).__name__, bounding_box_format)
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
        if npdt(x) != dt:
            x = m.cast(x, dt)
        return x

    def _hw_axes(self, nd: int) -> tuple:
        if self.data_format == "channels_first":
            return nd - 2, nd - 1
        return nd - 3, nd - 2

    def _symbolic(self, x: Tensor) -> Tensor:
        return SymbolicTensor(self.compute_output_shape(tuple(x.shape)), self.compute_dtype)

    def _nhwc(self, x: Tensor) -> tuple:
        """`x` as (N, H, W, C) and whether it was a single image."""
        single = len(shape_of(x)) == 3
        if single:
            x = expand_dims(x, 0)
        if self.data_format == "channels_first":
            x = transpose(x, (0, 2, 3, 1))
        return x, single

    def _back(self, y: Tensor, single: bool) -> Tensor:
        if self.data_format == "channels_first":
            y = transpose(y, (0, 3, 1, 2))
        if single:
            y = reshape(y, tuple(shape_of(y))[1:])
        return y

    def _sample(self, fn: Any, shape: tuple, dtype: Any = np.float64) -> Tensor:
        """A tensor `fn(rng)` of the given shape, drawn on every (compiled) call."""
        gen = self.seed_generator

        def draw() -> np.ndarray:
            return np.asarray(fn(gen.next_rng()), dtype).reshape(shape)

        return sample(draw, tuple(shape), np.dtype(dtype))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"seed": self.seed, "data_format": self.data_format})
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
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

    def call(self, inputs: Any, training: Any = None) -> Any:
        if isinstance(inputs, dict):  # Keras's {"images", "bounding_boxes", ...} input
            from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
                augment_call,
            )
            from ndflow.keras.layers.preprocessing.image.host_ops import HostAffine

            return augment_call(self, HostAffine(self), inputs, bool(training))
        x = self._tensor(inputs)
        if not training or is_keras_symbolic(x):
            return x
        x4, single = self._nhwc(x)
        return self._back(self.transform(x4, self._matrices), single)

    def transform(self, x4: Tensor, matrices: Any, output_shape: tuple | None = None,
                  interpolation: str | None = None, fill_mode: str | None = None) -> Tensor:
        """Apply `matrices(rng, n, h, w) -> (n, 8)` transforms drawn on every call."""
        from ndflow.ops.image import apply_sampling, sampling_table

        n, h, w, _ = shape_of(x4)
        oh, ow = output_shape or (h, w)
        interp = interpolation or self.interpolation
        fill = fill_mode or self.fill_mode
        k = 1 if interp == "nearest" else 4

        def table(rng: np.random.Generator) -> np.ndarray:
            idx, wts, out = sampling_table(matrices(rng, n, h, w), (n, h, w), interp, fill,
                                           (oh, ow))
            return np.concatenate([idx.astype(np.float64), wts, out[..., None]], axis=-1)

        tab = self._sample(table, (n, oh, ow, 2 * k + 1))
        dt = npdt(x4)
        idx = m.cast(tab[..., :k], np.int64)
        wts = m.cast(tab[..., k:2 * k], dt)
        outside = m.cast(tab[..., 2 * k], dt)
        return apply_sampling(x4, idx, wts, outside, self.fill_value if fill == "constant"
                              else 0.0)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"fill_mode": self.fill_mode, "interpolation": self.interpolation,
                       "fill_value": self.fill_value})
        return config
