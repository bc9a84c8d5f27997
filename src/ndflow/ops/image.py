"""Image ops: resizing (nearest, bilinear) with gradients, flips, crops, pads, colour
adjustments, and a projective-transform sampler for the augmentation layers.

Resizing is separable: along each spatial axis the output gathers one (nearest) or two
(bilinear, blended with fixed weights) input rows, so it is differentiable through `gather`
and costs O(output) work. Coordinates follow TensorFlow 2's `tf.image.resize` (half-pixel
centres, no antialiasing), which is PyTorch's `align_corners=False` / `nearest-exact`.

>>> import ndflow as tf
>>> tf.image.resize(tf.ones([4, 4, 3]), [8, 6]).shape.as_list()
[8, 6, 3]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import Tensor
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of, t
from ndflow.ops.array import concat, gather, pad, reverse

__all__ = ["resize", "ResizeMethod", "flip_left_right", "flip_up_down", "central_crop",
           "crop_to_bounding_box", "pad_to_bounding_box", "resize_with_crop_or_pad",
           "adjust_brightness", "adjust_contrast", "rgb_to_grayscale", "grayscale_to_rgb",
           "rot90", "transpose"]


class ResizeMethod:
    """Names accepted by `resize` (TensorFlow's `tf.image.ResizeMethod`)."""

    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"


def _axis_bilinear(in_size: int, out_size: int) -> tuple:
    """Indices i0, i1 and weight f of the second one, for each output position."""
    scale = in_size / out_size
    src = (np.arange(out_size, dtype=np.float64) + 0.5) * scale - 0.5
    src = np.clip(src, 0, in_size - 1)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, in_size - 1)
    return i0, i1, src - i0


def _axis_nearest(in_size: int, out_size: int) -> np.ndarray:
    scale = in_size / out_size
    src = np.floor((np.arange(out_size, dtype=np.float64) + 0.5) * scale).astype(np.int64)
    return np.minimum(src, in_size - 1)


def _resize_axis(x: Tensor, axis: int, out_size: int, method: str) -> Tensor:
    in_size = shape_of(x)[axis]
    if in_size == out_size:
        return x
    if method == "nearest":
        return gather(x, _axis_nearest(in_size, out_size), axis=axis)
    i0, i1, f = _axis_bilinear(in_size, out_size)
    shape = [1] * len(shape_of(x))
    shape[axis] = out_size
    fw = Tensor(f.astype(npdt(x)).reshape(shape))
    a = gather(x, i0, axis=axis)
    b = gather(x, i1, axis=axis)
    return m.add(a, m.multiply(m.subtract(b, a), fw))


def resize(images: Any, size: Any, method: str = "bilinear", preserve_aspect_ratio: bool = False,
           antialias: bool = False, name: str | None = None) -> Tensor:
    """Resize `(h, w, c)` or `(batch, h, w, c)` images to `size = (new_h, new_w)`.

    Methods: "bilinear" (default) and "nearest". Integer images come back as float32, like
    TensorFlow's bilinear resize.

    >>> import ndflow as tf
    >>> tf.image.resize([[[0.0], [2.0]]], [1, 4]).numpy().ravel().tolist()
    [0.0, 0.5, 1.5, 2.0]
    """
    x = t(images)
    sx = shape_of(x)
    if len(sx) not in (3, 4):
        raise fail("resize", "images of rank 3 (h, w, c) or 4 (batch, h, w, c)",
                   f"shape {list(sx)}")
    method = {"bilinear": "bilinear", "nearest": "nearest", "nearest_neighbor": "nearest"}.get(
        str(method).lower())
    if method is None:
        raise fail("resize", "method 'bilinear' or 'nearest'", repr(method),
                   "bicubic, area, lanczos and gaussian are not implemented.")
    if antialias:
        raise fail("resize", "antialias=False", "antialias=True",
                   "Antialiased resizing is not implemented.")
    if isinstance(size, Tensor):
        size = size.numpy().tolist()
    size = [int(s) for s in size]
    if len(size) != 2 or min(size) <= 0:
        raise fail("resize", "size = [new_height, new_width] of positive ints", f"{size}")
    h, w = sx[-3], sx[-2]
    if preserve_aspect_ratio:
        scale = min(size[0] / h, size[1] / w)
        size = [max(int(round(h * scale)), 1), max(int(round(w * scale)), 1)]
    if npdt(x).kind != "f":
        if method == "nearest":
            pass
        else:
            x = m.cast(x, np.float32)
    nd = len(sx)
    y = _resize_axis(x, nd - 3, size[0], method)
    return _resize_axis(y, nd - 2, size[1], method)


# --- flips, crops, pads ----------------------------------------------------------------------


def _check_image(op: str, x: Tensor) -> int:
    nd = len(shape_of(x))
    if nd not in (3, 4):
        raise fail(op, "images of rank 3 (h, w, c) or 4 (batch, h, w, c)",
                   f"shape {list(shape_of(x))}")
    return nd


def flip_left_right(image: Any) -> Tensor:
    """Mirror the width axis."""
    x = t(image)
    return reverse(x, [_check_image("flip_left_right", x) - 2])


def flip_up_down(image: Any) -> Tensor:
    """Mirror the height axis."""
    x = t(image)
    return reverse(x, [_check_image("flip_up_down", x) - 3])


def rot90(image: Any, k: int = 1, name: str | None = None) -> Tensor:
    """Rotate counter-clockwise by 90 degrees `k` times."""
    x = t(image)
    nd = _check_image("rot90", x)
    from ndflow.ops.array import transpose as _tr

    perm = list(range(nd))
    perm[nd - 3], perm[nd - 2] = perm[nd - 2], perm[nd - 3]
    for _ in range(int(k) % 4):
        x = reverse(_tr(x, perm), [nd - 3])
    return x


def transpose(image: Any, name: str | None = None) -> Tensor:
    """Swap height and width."""
    x = t(image)
    nd = _check_image("transpose", x)
    from ndflow.ops.array import transpose as _tr

    perm = list(range(nd))
    perm[nd - 3], perm[nd - 2] = perm[nd - 2], perm[nd - 3]
    return _tr(x, perm)


def crop_to_bounding_box(image: Any, offset_height: int, offset_width: int, target_height: int,
                         target_width: int) -> Tensor:
    """The `target_height x target_width` window whose top-left corner is at the offsets."""
    x = t(image)
    nd = _check_image("crop_to_bounding_box", x)
    h, w = shape_of(x)[nd - 3], shape_of(x)[nd - 2]
    if offset_height < 0 or offset_width < 0 or offset_height + target_height > h or \
            offset_width + target_width > w or target_height <= 0 or target_width <= 0:
        raise fail("crop_to_bounding_box", f"a box inside the {h}x{w} image",
                   f"offset ({offset_height}, {offset_width}) and size "
                   f"({target_height}, {target_width})")
    key = (slice(None),) * (nd - 3) + (slice(offset_height, offset_height + target_height),
                                       slice(offset_width, offset_width + target_width))
    return x[key]


def pad_to_bounding_box(image: Any, offset_height: int, offset_width: int, target_height: int,
                        target_width: int) -> Tensor:
    """Zero-pad to `target_height x target_width` with the image at the offsets."""
    x = t(image)
    nd = _check_image("pad_to_bounding_box", x)
    h, w = shape_of(x)[nd - 3], shape_of(x)[nd - 2]
    after_h = target_height - offset_height - h
    after_w = target_width - offset_width - w
    if min(offset_height, offset_width, after_h, after_w) < 0:
        raise fail("pad_to_bounding_box", f"a target box that contains the {h}x{w} image",
                   f"offset ({offset_height}, {offset_width}) and target size "
                   f"({target_height}, {target_width})")
    pads = [[0, 0]] * (nd - 3) + [[offset_height, after_h], [offset_width, after_w], [0, 0]]
    return pad(x, pads)


def resize_with_crop_or_pad(image: Any, target_height: int, target_width: int) -> Tensor:
    """Centre-crop or zero-pad (evenly) to the target size."""
    x = t(image)
    nd = _check_image("resize_with_crop_or_pad", x)
    h, w = shape_of(x)[nd - 3], shape_of(x)[nd - 2]
    if h > target_height or w > target_width:
        ch, cw = min(h, target_height), min(w, target_width)
        x = crop_to_bounding_box(x, (h - ch) // 2, (w - cw) // 2, ch, cw)
        h, w = ch, cw
    if h < target_height or w < target_width:
        x = pad_to_bounding_box(x, (target_height - h) // 2, (target_width - w) // 2,
                                target_height, target_width)
    return x


def central_crop(image: Any, central_fraction: float) -> Tensor:
    """Keep the central `central_fraction` of each spatial dim."""
    x = t(image)
    nd = _check_image("central_crop", x)
    if not 0 < central_fraction <= 1:
        raise fail("central_crop", "central_fraction in (0, 1]", f"{central_fraction}")
    h, w = shape_of(x)[nd - 3], shape_of(x)[nd - 2]
    oh = int((h - h * central_fraction) / 2)
    ow = int((w - w * central_fraction) / 2)
    return crop_to_bounding_box(x, oh, ow, h - 2 * oh, w - 2 * ow)


# --- colour ------------------------------------------------------------------------------------


def adjust_brightness(image: Any, delta: float) -> Tensor:
    """Add `delta` to every pixel."""
    return m.add(t(image), delta)


def adjust_contrast(images: Any, contrast_factor: float) -> Tensor:
    """`(x - mean) * factor + mean`, the mean taken per image and channel over h and w."""
    from ndflow.ops.reduce import reduce_mean

    x = t(images)
    nd = _check_image("adjust_contrast", x)
    mean = reduce_mean(x, axis=[nd - 3, nd - 2], keepdims=True)
    return m.add(m.multiply(m.subtract(x, mean), contrast_factor), mean)


def rgb_to_grayscale(images: Any, name: str | None = None) -> Tensor:
    """ITU-R 601 luma: `0.2989 R + 0.5870 G + 0.1140 B`, keeping a channel axis of 1."""
    x = t(images)
    if shape_of(x)[-1] != 3:
        raise fail("rgb_to_grayscale", "images with 3 channels", f"shape {list(shape_of(x))}")
    dt = npdt(x) if npdt(x).kind == "f" else np.dtype(np.float32)
    xf = m.cast(x, dt) if npdt(x) != dt else x
    wts = Tensor(np.asarray([[0.2989], [0.5870], [0.1140]], dt))
    from ndflow.ops.linalg import matmul

    return matmul(xf, wts)


def grayscale_to_rgb(images: Any, name: str | None = None) -> Tensor:
    x = t(images)
    return concat([x, x, x], axis=-1)


# --- projective transforms (augmentation layers) --------------------------------------------


def _fill_index(idx: np.ndarray, size: int, fill_mode: str) -> tuple:
    """Map integer coordinates through the fill mode; returns (index, inside) where `inside`
    is False for coordinates that take the constant fill value."""
    if fill_mode == "reflect":  # (d c b a | a b c d | d c b a)
        if size == 1:
            return np.zeros_like(idx), np.ones(idx.shape, bool)
        period = 2 * size
        r = np.mod(idx, period)
        return np.where(r >= size, period - 1 - r, r), np.ones(idx.shape, bool)
    if fill_mode == "wrap":
        return np.mod(idx, size), np.ones(idx.shape, bool)
    if fill_mode == "mirror":  # (d c b | a b c d | c b a): the edge pixel is not repeated
        if size == 1:
            return np.zeros_like(idx), np.ones(idx.shape, bool)
        period = 2 * size - 2
        r = np.mod(idx, period)
        return np.where(r >= size, period - r, r), np.ones(idx.shape, bool)
    if fill_mode == "nearest":
        return np.clip(idx, 0, size - 1), np.ones(idx.shape, bool)
    inside = (idx >= 0) & (idx < size)
    return np.clip(idx, 0, size - 1), inside


def sampling_table(transforms: np.ndarray, shape: tuple, interpolation: str = "bilinear",
                   fill_mode: str = "reflect", output_shape: tuple | None = None) -> tuple:
    """Where each output pixel of a projective transform reads its input (host arrays).

    `transforms` (N, 8) rows `[a0, a1, a2, b0, b1, b2, c0, c1]` map each output pixel (x, y)
    to the input point `((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)` with
    `k = c0 x + c1 y + 1` (TensorFlow's convention); `shape` is the input's (N, H, W).

    Returns `(index, weight, outside)`: flat indices into the `N * H * W` input pixels and their
    weights, each (N, OH, OW, K) with K = 4 (bilinear) or 1 (nearest), and the total weight
    (N, OH, OW) of neighbours outside the image (which take the constant fill value).
    """
    n, h, w = shape
    oh, ow = output_shape or (h, w)
    ys, xs = np.meshgrid(np.arange(oh, dtype=np.float64), np.arange(ow, dtype=np.float64),
                         indexing="ij")
    tr = np.asarray(transforms, np.float64).reshape(n, 8, 1, 1)
    k = tr[:, 6] * xs + tr[:, 7] * ys + 1.0
    sx = (tr[:, 0] * xs + tr[:, 1] * ys + tr[:, 2]) / k
    sy = (tr[:, 3] * xs + tr[:, 4] * ys + tr[:, 5]) / k
    return point_sampling_table(sx, sy, (n, h, w), interpolation, fill_mode)


def apply_sampling(images: Tensor, index: Tensor, weight: Tensor, outside: Tensor | None = None,
                   fill_value: float = 0.0) -> Tensor:
    """`sum_k weight[..., k] * pixel[index[..., k]]` (+ `fill_value * outside`) for images
    (N, H, W, C), with ndflow ops (so it is traced by `ndflow.function` and differentiable in
    the images)."""
    from ndflow.ops.reduce import reduce_sum
    from ndflow.ops.shape_ops import reshape

    n, h, w, c = shape_of(images)
    flat = reshape(images, (n * h * w, c))
    vals = gather(flat, index)  # (N, OH, OW, K, C)
    out = reduce_sum(m.multiply(vals, reshape(weight, tuple(shape_of(weight)) + (1,))), axis=3)
    if outside is not None and fill_value != 0.0:
        out = m.add(out, m.multiply(reshape(outside, tuple(shape_of(outside)) + (1,)),
                                    fill_value))
    return out


def projective_transform(images: Any, transforms: Any, interpolation: str = "bilinear",
                         fill_mode: str = "reflect", fill_value: float = 0.0,
                         output_shape: tuple | None = None) -> Tensor:
    """Sample images (N, H, W, C) at projectively transformed pixel coordinates (see
    `sampling_table` for the transform convention; fill modes as in Keras: "reflect",
    "wrap", "nearest", "constant").

    >>> import numpy as np
    >>> shift = np.array([[1, 0, 1, 0, 1, 0, 0, 0]], float)  # output x reads input x + 1
    >>> img = np.arange(3.0).reshape(1, 1, 3, 1)
    >>> projective_transform(img, shift, fill_mode="constant").numpy().ravel().tolist()
    [1.0, 2.0, 0.0]
    """
    x = t(images)
    n, h, w, _ = shape_of(x)
    dt = npdt(x) if npdt(x).kind == "f" else np.dtype(np.float32)
    if npdt(x) != dt:
        x = m.cast(x, dt)
    idx, wts, outside = sampling_table(np.asarray(transforms), (n, h, w), interpolation,
                                       fill_mode, output_shape)
    return apply_sampling(x, Tensor(idx), Tensor(wts.astype(dt)), Tensor(outside.astype(dt)),
                          fill_value if fill_mode == "constant" else 0.0)


def point_sampling_table(sx: np.ndarray, sy: np.ndarray, shape: tuple,
                         interpolation: str = "bilinear", fill_mode: str = "reflect") -> tuple:
    """Like `sampling_table`, for explicit input points: output pixel (i, j) of image b reads
    the input at `(x, y) = (sx[b, i, j], sy[b, i, j])` (host arrays of shape (N, OH, OW)).
    Fill modes: "reflect", "mirror", "wrap", "nearest", "constant"."""
    n, h, w = shape
    base = (np.arange(n) * (h * w)).reshape(n, 1, 1)
    if interpolation == "nearest":
        corners = [(np.floor(sy + 0.5), np.floor(sx + 0.5), np.ones_like(sx))]
    else:
        y0, x0 = np.floor(sy), np.floor(sx)
        fy, fx = sy - y0, sx - x0
        corners = [(y0, x0, (1 - fy) * (1 - fx)), (y0, x0 + 1, (1 - fy) * fx),
                   (y0 + 1, x0, fy * (1 - fx)), (y0 + 1, x0 + 1, fy * fx)]
    idx, wts = [], []
    outside = np.zeros(sx.shape)
    for cy, cx, wt in corners:
        jy, in_y = _fill_index(cy.astype(np.int64), h, fill_mode)
        jx, in_x = _fill_index(cx.astype(np.int64), w, fill_mode)
        inside = in_y & in_x
        idx.append(base + jy * w + jx)
        wts.append(np.where(inside, wt, 0.0))
        outside += np.where(inside, 0.0, wt)
    return np.stack(idx, -1), np.stack(wts, -1), outside
