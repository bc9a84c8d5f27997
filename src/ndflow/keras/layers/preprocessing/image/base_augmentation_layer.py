"""`BaseAugmentationLayer`: the image augmentation layers that run on the host with NumPy.

Inputs are images `(batch, h, w, c)` / `(h, w, c)` or, as in Keras 3, a dict
`{"images", "labels", "bounding_boxes": {"boxes", "labels"}, "segmentation_masks"}`; boxes
need `bounding_box_format`. Each call draws its random parameters from the layer's
`SeedGenerator` (so a seeded layer repeats its sequence) and transforms every entry
consistently. The work runs through `ndflow.numpy_function`, so the same code serves eager
calls, `Dataset.map` and compiled `ndflow.function` steps (where each call of the compiled
function draws fresh parameters); outputs carry no gradient. As in Keras, a direct call
augments (training defaults to True), `predict`/`evaluate` (training=False) return the
inputs unchanged for most layers, and `fit` augments.

Subclasses implement hooks on NumPy arrays (images channels-last, in the compute dtype):
`draw(rng, n, h, w, c)`, `augment_images`, and where they move pixels `augment_boxes`
(absolute xyxy boxes), `augment_labels`, `augment_masks`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.keras.layers.preprocessing.image import bounding_boxes as bbox
from ndflow.keras.layers.preprocessing.image.augmentation_hooks import AugmentationHooks
from ndflow.keras.layers.preprocessing.image.base_image_layer import (
    BaseImageLayer, is_keras_symbolic,
)
from ndflow.ops import math as m
from ndflow.ops._util import npdt


def keras_factor(layer: str, name: str, factor: Any, bounds: tuple = (-1.0, 1.0)) -> tuple:
    """Keras's factor rule: a number `f` -> (max(-|f|, lower bound), |f|); a pair -> sorted;
    both within `bounds`."""
    msg = (f"{layer}: expected {name} to be a number or a (lower, upper) pair within "
           f"[{bounds[0]}, {bounds[1]}], got {name}={factor!r}")
    if isinstance(factor, (int, float, np.integer, np.floating)) and not isinstance(factor, bool):
        f = float(factor)
        if f < bounds[0] or f > bounds[1]:
            raise ValueError(msg)
        return (max(-abs(f), bounds[0]), abs(f))
    try:
        lo, hi = sorted(float(v) for v in factor)
    except (TypeError, ValueError):
        raise ValueError(msg) from None
    if lo < bounds[0] or hi > bounds[1]:
        raise ValueError(msg)
    return (lo, hi)


def value_range_arg(layer: str, value_range: Any) -> tuple:
    try:
        lo, hi = sorted(float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(f"{layer}: expected value_range to be a (min, max) pair, got "
                         f"value_range={value_range!r}") from None
    return (lo, hi)


def chance(rng: np.random.Generator, n: int, factor: tuple) -> np.ndarray:
    """Keras's per-image 'apply' draw: probability uniform in `factor`, then a coin."""
    p = rng.uniform(factor[0], factor[1], n)
    return rng.uniform(0.0, 1.0, n) < p


class BaseAugmentationLayer(AugmentationHooks, BaseImageLayer):
    """Base of the host-side augmentation layers (see the module docstring); hooks and flags
    from `AugmentationHooks`."""

    def __init__(self, bounding_box_format: str | None = None, seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format,
                         bounding_box_format=bounding_box_format, **kwargs)

    # --- call ------------------------------------------------------------------------------
    def call(self, data: Any, training: Any = None) -> Any:
        # None (a direct call outside fit/predict) means True, as Keras's default; a
        # predict/evaluate context passes False down
        apply = training is None or bool(training) or not self._inference_identity
        return augment_call(self, self, data, apply)


def augment_call(layer: Any, op: Any, data: Any, apply: bool) -> Any:
    """The call of an image layer on images or a Keras dict, with `op`'s host hooks
    (`draw`, `augment_images`, ... and the class flags of `BaseAugmentationLayer`)."""
    name = type(layer).__name__
    if not isinstance(data, dict):
        x = layer._tensor(data)
        if is_keras_symbolic(x):
            return layer._symbolic(x)
        return _run(layer, op, {"images": x})["images"] if apply else x
    if "images" not in data:
        raise ValueError(f"{name}: expected a dict input to have an 'images' key, got keys "
                         f"{sorted(data)}")
    out = dict(data)
    x = layer._tensor(data["images"])
    batched = len(tuple(x.shape)) == 4
    parts: dict[str, Tensor] = {"images": x}
    if "labels" in data:
        parts["labels"] = convert_to_tensor(data["labels"])
    if "bounding_boxes" in data:
        if not getattr(layer, "bounding_box_format", None):
            raise ValueError(f"{name}: got an input with a 'bounding_boxes' key but no "
                             "bounding_box_format; pass e.g. bounding_box_format='xyxy'")
        if not op._supports_boxes and apply:
            raise ValueError(f"{name} does not transform bounding boxes (neither does "
                             "Keras); drop the 'bounding_boxes' key or use another layer")
        boxes, labels = bbox.densify(name, data["bounding_boxes"], batched)
        parts["boxes"] = m.cast(convert_to_tensor(boxes), np.float32)
        parts["box_labels"] = convert_to_tensor(labels)
    if "segmentation_masks" in data:
        parts["masks"] = convert_to_tensor(data["segmentation_masks"])
    if is_keras_symbolic(x):
        parts["images"] = layer._symbolic(x)
    elif apply:
        parts = _run(layer, op, parts)
    out["images"] = parts["images"]
    if "labels" in parts:
        out["labels"] = parts["labels"]
    if "boxes" in parts:
        out["bounding_boxes"] = dict(data["bounding_boxes"], boxes=parts["boxes"],
                                     labels=parts["box_labels"])
    if "masks" in parts:
        out["segmentation_masks"] = parts["masks"]
    return out


def _out_dtype(layer: Any, op: Any, key: str, t: Tensor) -> np.dtype:
    if key == "images":
        return np.dtype(layer.compute_dtype)
    if key == "boxes":
        return np.dtype(np.float32)
    if (key == "labels" and op._mixes_labels) or (key == "masks" and (
            op._mixes_labels or getattr(op, "_float_masks", False))):
        return np.dtype(layer.compute_dtype)
    return npdt(t)


def _run(layer: Any, op: Any, parts: dict) -> dict:
    from ndflow.ops.py_function import numpy_function

    keys = list(parts)
    single = len(tuple(parts["images"].shape)) == 3

    def host(*vals: np.ndarray) -> list:
        res = _host(layer, op, dict(zip(keys, vals)), single)
        return [res[k] for k in keys]

    outs = numpy_function(host, [parts[k] for k in keys],
                          [_out_dtype(layer, op, k, parts[k]) for k in keys])
    return dict(zip(keys, outs if isinstance(outs, list) else [outs]))


def _host(layer: Any, op: Any, d: dict, single: bool) -> dict:
    cf = layer.data_format == "channels_first"

    def nhwc(a: np.ndarray) -> np.ndarray:
        a = a[None] if single else a
        return np.moveaxis(a, 1, -1) if cf else a

    def back(a: np.ndarray) -> np.ndarray:
        a = np.moveaxis(a, -1, 1) if cf else a
        return np.ascontiguousarray(a[0] if single else a)

    dt = np.dtype(layer.compute_dtype)
    x = nhwc(np.asarray(d["images"])).astype(dt)
    n, h, w, c = x.shape
    rng = None
    if op._random:
        from ndflow.graph.trace import current_trace

        # while ndflow.function traces, numpy_function probes this once on zeros to learn
        # the output shapes: that probe must not advance the layer's random stream
        rng = (np.random.default_rng(0) if current_trace() is not None
               else layer.seed_generator.next_rng())
    p = op.draw(rng, n, h, w, c)
    y = np.asarray(op.augment_images(x, p), dt)
    oh, ow = y.shape[1:3]
    out = {"images": back(y)}
    if "labels" in d:
        lab = np.asarray(d["labels"])
        lab = op.augment_labels(lab[None] if single else lab, p)
        out["labels"] = lab[0] if single else lab
    if "boxes" in d:
        b, lab = np.asarray(d["boxes"], np.float64), np.asarray(d["box_labels"])
        if single:
            b, lab = b[None], lab[None]
        if op._geometric:
            fmt = layer.bounding_box_format
            xyxy = bbox.to_xyxy(b, fmt, h, w)
            nb, lab = op.augment_boxes(xyxy, lab, p, h, w)
            if nb is not xyxy or (oh, ow) != (h, w):
                nb, lab = bbox.clip_to_image(nb, lab, oh, ow)
                b = bbox.from_xyxy(nb, fmt, oh, ow)
        b, lab = op.augment_box_sets(b, lab, p)
        out["boxes"] = (b[0] if single else b).astype(np.float32)
        out["box_labels"] = lab[0] if single else lab
    if "masks" in d:
        out["masks"] = back(np.asarray(op.augment_masks(nhwc(np.asarray(d["masks"])), p)))
    return out


class BaseHostWarp(BaseAugmentationLayer):
    """Geometric host layers defined by per-image projective maps: `matrices(p, n, h, w)`
    returns (N, 8) maps from output pixels to input points (identities for kept images)."""

    _geometric = True

    def __init__(self, interpolation: str = "bilinear", fill_mode: str = "reflect",
                 fill_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        name = type(self).__name__
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"{name}: expected interpolation 'bilinear' or 'nearest', got "
                             f"interpolation={interpolation!r}")
        modes = ("reflect", "wrap", "constant", "nearest")
        if fill_mode not in modes:
            raise ValueError(f"{name}: expected fill_mode in {modes}, got "
                             f"fill_mode={fill_mode!r}")
        self.interpolation = interpolation
        self.fill_mode = fill_mode
        self.fill_value = float(fill_value)

    def matrices(self, p: Any, n: int, h: int, w: int) -> np.ndarray:
        out = np.zeros((n, 8))  # the identity; subclasses draw their own maps
        out[:, 0] = out[:, 4] = 1.0
        return out

    def _warp(self, x: np.ndarray, p: Any, interpolation: str) -> np.ndarray:
        from ndflow.keras.layers.preprocessing.image.augment_kernels import warp

        n, h, w, _ = x.shape
        return warp(x, self.matrices(p, n, h, w), interpolation, self.fill_mode,
                    self.fill_value)

    def augment_images(self, x: np.ndarray, p: Any) -> np.ndarray:
        return self._warp(x, p, self.interpolation)

    def augment_masks(self, masks: np.ndarray, p: Any) -> np.ndarray:
        dt = masks.dtype
        return self._warp(masks.astype(np.float32), p, "nearest").astype(dt)

    def augment_boxes(self, boxes: np.ndarray, labels: np.ndarray, p: Any, h: int,
                      w: int) -> tuple:
        from ndflow.keras.layers.preprocessing.image.augment_kernels import invert_projective

        n = boxes.shape[0]
        return bbox.transform_boxes(boxes, invert_projective(self.matrices(p, n, h, w))), labels
