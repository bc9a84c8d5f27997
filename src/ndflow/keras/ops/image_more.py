"""More of `keras.ops.image`: colour spaces (`rgb_to_hsv`, `hsv_to_rgb`), padding and
cropping, patches (`extract_patches`, `extract_patches_3d`), filters (`gaussian_blur`,
`sobel_edges`), `ssim`, and resampling (`map_coordinates`, `affine_transform`,
`perspective_transform`), all built from ndflow ops (so they differentiate in the images and
trace).

>>> from ndflow.keras import ops
>>> import numpy as np
>>> ops.image.rgb_to_hsv(np.array([[[1.0, 0.0, 0.0]]])).numpy().tolist()
[[[0.0, 1.0, 1.0]]]
>>> ops.image.extract_patches(np.ones((1, 4, 4, 1)), 2).shape.as_list()
[1, 2, 2, 4]
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import Tensor, constant
from ndflow.keras.ops._common import as_tensor, rank, static_value, to_float
from ndflow.keras.ops.image import _channels_first, _images_last, _to_first
from ndflow.ops import array as a_
from ndflow.ops import linalg as la_
from ndflow.ops import math as m
from ndflow.ops import reduce as r_
from ndflow.ops import shape_ops as s_
from ndflow.ops._util import npdt, shape_of


def _name(op: str) -> str:
    return f"keras.ops.image.{op}"


def _float_images(op: str, images: Any, data_format: Any) -> tuple:
    x, cf = _images_last(op, images, data_format)
    if npdt(x).kind != "f":
        raise fail(_name(op), "float images", f"dtype {npdt(x).name}")
    return x, cf


def _batched(x: Tensor) -> tuple:
    return (a_.expand_dims(x, 0), True) if rank(x) == 3 else (x, False)


def _finish(y: Tensor, squeeze: bool, cf: bool) -> Tensor:
    if squeeze:
        y = a_.squeeze(y, 0)
    return _to_first(y) if cf else y


# --- colour spaces -------------------------------------------------------------------------------


def rgb_to_hsv(images: Any, data_format: Any = None) -> Tensor:
    """RGB in [0, 1] to hue, saturation and value (each in [0, 1])."""
    x, cf = _float_images("rgb_to_hsv", images, data_format)
    eps = float(np.finfo(npdt(x)).eps)
    x = m.where(m.less(m.abs(x), eps), m.zeros_like_(x), x)
    r, g, b = a_.unstack(x, axis=-1)
    value = m.maximum(m.maximum(r, g), b)
    rng = m.subtract(value, m.minimum(m.minimum(r, g), b))
    one = m.ones_like_(value)
    zero = m.zeros_like_(value)
    sat = m.where(m.greater(value, 0.0),
                  m.divide(rng, m.where(m.greater(value, 0.0), value, one)), zero)
    norm = m.divide(one, m.multiply(m.where(m.greater(rng, 0.0), rng, one), 6.0))
    hue = m.where(m.equal(value, g), m.add(m.multiply(norm, m.subtract(b, r)), 2.0 / 6.0),
                  m.add(m.multiply(norm, m.subtract(r, g)), 4.0 / 6.0))
    hue = m.where(m.equal(value, r), m.multiply(norm, m.subtract(g, b)), hue)
    hue = m.add(m.where(m.greater(rng, 0.0), hue, zero), m.cast(m.less(hue, 0.0), npdt(x)))
    y = a_.stack([hue, sat, value], axis=-1)
    return _to_first(y) if cf else y


def hsv_to_rgb(images: Any, data_format: Any = None) -> Tensor:
    """Hue, saturation and value (in [0, 1]) to RGB."""
    x, cf = _float_images("hsv_to_rgb", images, data_format)
    h, s, v = a_.unstack(x, axis=-1)
    dh = m.multiply(m.floormod(h, 1.0), 6.0)
    dr = m.clip_by_value(m.subtract(m.abs(m.subtract(dh, 3.0)), 1.0), 0.0, 1.0)
    dg = m.clip_by_value(m.subtract(2.0, m.abs(m.subtract(dh, 2.0))), 0.0, 1.0)
    db = m.clip_by_value(m.subtract(2.0, m.abs(m.subtract(dh, 4.0))), 0.0, 1.0)
    oms = m.subtract(1.0, s)
    y = a_.stack([m.multiply(v, m.add(oms, m.multiply(s, d))) for d in (dr, dg, db)], -1)
    return _to_first(y) if cf else y


# --- padding and cropping ------------------------------------------------------------------------


def _sides(op: str, size: int, before: Any, after: Any, target: Any, what: str,
           pad: bool) -> tuple:
    given = [v is not None for v in (before, after, target)]
    if sum(given) != 2:
        raise fail(_name(op), f"exactly two of the {what} arguments (before, after, target)",
                   f"{before!r}, {after!r}, {target!r}")
    if target is not None:
        diff = (int(target) - size) if pad else (size - int(target))
        if before is None:
            before = diff - int(after)
        else:
            after = diff - int(before)
    before, after = int(before), int(after)
    if before < 0 or after < 0:
        raise fail(_name(op), f"non-negative {what}", f"{before}, {after} for size {size}")
    return before, after


def pad_images(images: Any, top_padding: Any = None, left_padding: Any = None,
               bottom_padding: Any = None, right_padding: Any = None,
               target_height: Any = None, target_width: Any = None,
               data_format: Any = None) -> Tensor:
    """Zero-pad images; per axis give two of (padding before, padding after, target size)."""
    x, cf = _images_last("pad_images", images, data_format)
    h, w = shape_of(x)[-3], shape_of(x)[-2]
    t_, b_ = _sides("pad_images", h, top_padding, bottom_padding, target_height, "height",
                    True)
    l_, r_p = _sides("pad_images", w, left_padding, right_padding, target_width, "width", True)
    pads = [[0, 0]] * (rank(x) - 3) + [[t_, b_], [l_, r_p], [0, 0]]
    return _finish(a_.pad(x, pads), False, cf)


def crop_images(images: Any, top_cropping: Any = None, left_cropping: Any = None,
                bottom_cropping: Any = None, right_cropping: Any = None,
                target_height: Any = None, target_width: Any = None,
                data_format: Any = None) -> Tensor:
    """Crop images; per axis give two of (cropping before, cropping after, target size)."""
    x, cf = _images_last("crop_images", images, data_format)
    h, w = shape_of(x)[-3], shape_of(x)[-2]
    t_, b_ = _sides("crop_images", h, top_cropping, bottom_cropping, target_height, "height",
                    False)
    l_, r_c = _sides("crop_images", w, left_cropping, right_cropping, target_width, "width",
                     False)
    lead = rank(x) - 3
    y = a_.slice_(x, [0] * lead + [t_, l_, 0], [-1] * lead + [h - t_ - b_, w - l_ - r_c, -1])
    return _finish(y, False, cf)


# --- patches -------------------------------------------------------------------------------------


def _tuple(op: str, v: Any, n: int, what: str) -> tuple:
    out = (int(v),) * n if isinstance(v, (int, np.integer)) else tuple(int(e) for e in v)
    if len(out) != n or min(out) < 1:
        raise fail(_name(op), f"{what} as a positive int or {n} of them", repr(v))
    return out


def _patches(op: str, x: Tensor, spatial: list, size: tuple, strides: tuple, dil: tuple,
             padding: str) -> Tensor:
    """Patches over the `spatial` axes of channels-last `x`: (..., out..., prod(size) * C)."""
    if padding not in ("valid", "same"):
        raise fail(_name(op), "padding 'valid' or 'same'", repr(padding))
    spatial = list(spatial)
    for i, (k, s, d) in enumerate(zip(size, strides, dil)):
        ax = spatial[i]
        n = shape_of(x)[ax]
        eff = d * (k - 1) + 1
        if padding == "same":
            out = -(-n // s)
            total = max((out - 1) * s + eff - n, 0)
            pads = [[0, 0]] * rank(x)
            pads[ax] = [total // 2, total - total // 2]
            x = a_.pad(x, pads)
        else:
            out = (n - eff) // s + 1
            if out < 1:
                raise fail(_name(op), "patches that fit the input", f"size {k} on {n}")
        idx = np.arange(out)[:, None] * s + np.arange(k)[None, :] * d
        x = a_.gather(x, constant(idx.astype(np.int32)), axis=ax)  # (.., out, k, ..)
        spatial = [a + 1 if a > ax else a for a in spatial]
    # now (..., o1, k1, o2, k2, [o3, k3,] C): move the k's next to C and merge
    nd = rank(x)
    lead = list(range(spatial[0]))
    outs = [a for a in spatial]
    ks = [a + 1 for a in spatial]
    y = a_.transpose(x, lead + outs + ks + [nd - 1])
    shp = [-1 if d is None else d for d in shape_of(y)]
    depth = int(np.prod(size)) * shp[-1] if shp[-1] != -1 else -1
    return s_.reshape(y, shp[:len(lead) + len(outs)] + [depth])


def extract_patches(images: Any, size: Any, strides: Any = None, dilation_rate: Any = 1,
                    padding: str = "valid", data_format: Any = None) -> Tensor:
    """Image patches of `size` every `strides` (default: `size`), flattened in (row,
    column, channel) order into the last axis: (batch, out_h, out_w, kh * kw * C)."""
    x, cf = _images_last("extract_patches", images, data_format)
    x, sq = _batched(x)
    size_ = _tuple("extract_patches", size, 2, "size")
    st = size_ if strides is None else _tuple("extract_patches", strides, 2, "strides")
    dil = _tuple("extract_patches", dilation_rate, 2, "dilation_rate")
    y = _patches("extract_patches", x, [1, 2], size_, st, dil, padding)
    return _finish(y, sq, cf)


def extract_patches_3d(volumes: Any, size: Any, strides: Any = None, dilation_rate: Any = 1,
                       padding: str = "valid", data_format: Any = None) -> Tensor:
    """Volume patches: (batch, out_d, out_h, out_w, kd * kh * kw * C)."""
    x = as_tensor(volumes)
    if rank(x) not in (4, 5):
        raise fail(_name("extract_patches_3d"), "volumes of rank 4 or 5",
                   f"shape {list(shape_of(x))}")
    cf = _channels_first("extract_patches_3d", data_format)
    if cf:
        nd = rank(x)
        x = a_.transpose(x, list(range(nd - 4)) + [nd - 3, nd - 2, nd - 1, nd - 4])
    sq = rank(x) == 4
    if sq:
        x = a_.expand_dims(x, 0)
    size_ = _tuple("extract_patches_3d", size, 3, "size")
    st = size_ if strides is None else _tuple("extract_patches_3d", strides, 3, "strides")
    dil = _tuple("extract_patches_3d", dilation_rate, 3, "dilation_rate")
    y = _patches("extract_patches_3d", x, [1, 2, 3], size_, st, dil, padding)
    if sq:
        y = a_.squeeze(y, 0)
    if cf:
        nd = rank(y)
        y = a_.transpose(y, list(range(nd - 4)) + [nd - 1, nd - 4, nd - 3, nd - 2])
    return y


# --- filters -------------------------------------------------------------------------------------


def _conv_same(x: Tensor, kernel: np.ndarray, mode: str = "CONSTANT") -> Tensor:
    """Per-channel correlation of (N, H, W, C) with a (kh, kw) kernel, same size output."""
    kh, kw = kernel.shape
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    xp_ = a_.pad(x, [[0, 0], [ph, kh - 1 - ph], [pw, kw - 1 - pw], [0, 0]], mode=mode)
    h, w = shape_of(x)[1], shape_of(x)[2]
    out = None
    for i, j in itertools.product(range(kh), range(kw)):
        if kernel[i, j] == 0:
            continue
        part = m.multiply(a_.slice_(xp_, [0, i, j, 0], [-1, h, w, -1]), float(kernel[i, j]))
        out = part if out is None else m.add(out, part)
    return m.zeros_like_(x) if out is None else out


def gaussian_blur(images: Any, kernel_size: Any = (3, 3), sigma: Any = (1.0, 1.0),
                  data_format: Any = None) -> Tensor:
    """Gaussian blur with zero padding (Keras's kernel: `kernel_size` and `sigma` give
    (x, y))."""
    x, cf = _images_last("gaussian_blur", images, data_format)
    dt = npdt(x)
    if dt.kind != "f":
        x = m.cast(x, np.float32)
    x, sq = _batched(x)
    ks = _tuple("gaussian_blur", kernel_size, 2, "kernel_size")
    sg = np.asarray(static_value("gaussian_blur", sigma, "sigma"), np.float64).reshape(-1)
    sg = np.broadcast_to(sg, (2,))

    def k1(size: int, s: float) -> np.ndarray:
        v = np.exp(-0.5 * ((np.arange(size) - (size - 1) / 2) / s) ** 2)
        return v / v.sum()

    kernel = np.outer(k1(ks[1], sg[1]), k1(ks[0], sg[0]))
    y = _conv_same(x, kernel)
    if npdt(y) != dt:
        y = m.cast(y, dt)
    return _finish(y, sq, cf)


def sobel_edges(images: Any, data_format: Any = None) -> Tensor:
    """Sobel derivatives along y and x with zero padding (as Keras's JAX and torch backends):
    shape (batch, h, w, channels, 2)."""
    x = as_tensor(images)
    if rank(x) != 4:
        raise fail(_name("sobel_edges"), "a batch of images (rank 4)",
                   f"shape {list(shape_of(x))}")
    cf = _channels_first("sobel_edges", data_format)
    if cf:
        x = a_.transpose(x, [0, 2, 3, 1])
    x = to_float(x)
    ky = np.outer([-1.0, 0.0, 1.0], [1.0, 2.0, 1.0])
    y = a_.stack([_conv_same(x, ky), _conv_same(x, ky.T)], -1)
    return a_.transpose(y, [0, 3, 1, 2, 4]) if cf else y


def ssim(image1: Any, image2: Any, max_val: float = 1.0, filter_size: int = 11,
         filter_sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03,
         data_format: Any = None) -> Tensor:
    """Structural similarity per image (mean over the valid Gaussian windows and channels)."""
    a, cf = _images_last("ssim", image1, data_format)
    b, _ = _images_last("ssim", image2, data_format)
    a, b = to_float(a), m.cast(to_float(b), npdt(to_float(a)))
    a, sq = _batched(a)
    b, _ = _batched(b)
    n = int(filter_size)
    g = np.exp(-0.5 * ((np.arange(n) - (n - 1) / 2) / float(filter_sigma)) ** 2)
    g /= g.sum()
    kern = np.outer(g, g)
    h, w = shape_of(a)[1], shape_of(a)[2]
    if h < n or w < n:
        raise fail(_name("ssim"), f"images at least filter_size={n} on each side",
                   f"{h} x {w}")

    def filt(x: Tensor) -> Tensor:  # valid correlation
        out = None
        for i, j in itertools.product(range(n), range(n)):
            part = m.multiply(a_.slice_(x, [0, i, j, 0], [-1, h - n + 1, w - n + 1, -1]),
                              float(kern[i, j]))
            out = part if out is None else m.add(out, part)
        return out

    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mu1, mu2 = filt(a), filt(b)
    s11 = m.subtract(filt(m.square(a)), m.square(mu1))
    s22 = m.subtract(filt(m.square(b)), m.square(mu2))
    s12 = m.subtract(filt(m.multiply(a, b)), m.multiply(mu1, mu2))
    num = m.multiply(m.add(m.multiply(m.multiply(mu1, mu2), 2.0), c1),
                     m.add(m.multiply(s12, 2.0), c2))
    den = m.multiply(m.add(m.add(m.square(mu1), m.square(mu2)), c1), m.add(m.add(s11, s22), c2))
    val = r_.reduce_mean(m.divide(num, den), [1, 2, 3])
    return a_.squeeze(val, 0) if sq else val


# --- resampling ----------------------------------------------------------------------------------

_FILL = ("constant", "nearest", "wrap", "mirror", "reflect")


def _map_index(idx: Tensor, size: int, mode: str) -> tuple:
    """Integer coordinates through the fill mode: (index in range, inside mask or None)."""
    if mode == "nearest":
        return m.clip_by_value(idx, 0, size - 1), None
    if mode == "wrap":
        return m.floormod(idx, size), None
    if mode == "mirror":  # d c b | a b c d | c b a
        if size == 1:
            return m.zeros_like_(idx), None
        period = 2 * (size - 1)
        r = m.floormod(idx, period)
        return m.where(m.greater_equal(r, size), m.subtract(period, r), r), None
    if mode == "reflect":  # d c b a | a b c d | d c b a
        period = 2 * size
        r = m.floormod(idx, period)
        return m.where(m.greater_equal(r, size), m.subtract(period - 1, r), r), None
    inside = m.logical_and(m.greater_equal(idx, 0), m.less(idx, size))
    return m.clip_by_value(idx, 0, size - 1), inside


def map_coordinates(inputs: Any, coordinates: Any, order: int, fill_mode: str = "constant",
                    fill_value: float = 0.0) -> Tensor:
    """`inputs` sampled at `coordinates` (one array per input axis, all of one shape), with
    `order` 0 (nearest) or 1 (linear) interpolation and SciPy's fill modes."""
    x = to_float(inputs)
    nd = rank(x)
    coords = coordinates if isinstance(coordinates, (list, tuple)) else a_.unstack(
        to_float(coordinates), axis=0)
    coords = [m.cast(to_float(c), npdt(x)) for c in coords]
    if len(coords) != nd:
        raise fail(_name("map_coordinates"), f"{nd} coordinate arrays (one per input axis)",
                   f"{len(coords)}")
    if int(order) not in (0, 1) or fill_mode not in _FILL:
        raise fail(_name("map_coordinates"), f"order 0 or 1 and fill_mode in {_FILL}",
                   f"order={order!r}, fill_mode={fill_mode!r}")
    sizes = [int(d) for d in shape_of(x)]
    if int(order) == 0:
        corners = [[(m.cast(m.floor(m.add(c, 0.5)), np.int64), None) for c in coords]]
    else:
        per_axis = []
        for c in coords:
            lo = m.floor(c)
            frac = m.subtract(c, lo)
            lo_i = m.cast(lo, np.int64)
            per_axis.append([(lo_i, m.subtract(1.0, frac)), (m.add(lo_i, 1), frac)])
        corners = list(itertools.product(*per_axis))
    out = None
    for corner in corners:
        idxs, weight, inside = [], None, None
        for (ix, wt), size in zip(corner, sizes):
            j, ins = _map_index(ix, size, fill_mode)
            idxs.append(j)
            if wt is not None:
                weight = wt if weight is None else m.multiply(weight, wt)
            if ins is not None:
                inside = ins if inside is None else m.logical_and(inside, ins)
        val = a_.gather_nd(x, a_.stack(idxs, -1))
        if inside is not None:
            val = m.where(inside, val, m.add(m.zeros_like_(val), float(fill_value)))
        if weight is not None:
            val = m.multiply(val, weight)
        out = val if out is None else m.add(out, val)
    return out


def affine_transform(images: Any, transform: Any, interpolation: str = "bilinear",
                     fill_mode: str = "constant", fill_value: float = 0.0,
                     data_format: Any = None) -> Tensor:
    """Apply projective transforms `[a0, a1, a2, b0, b1, b2, c0, c1]` (output pixel (x, y)
    reads input `((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`, `k = c0 x + c1 y + 1`),
    one per image or one for all."""
    x, cf = _images_last("affine_transform", images, data_format)
    x, sq = _batched(x)
    if interpolation not in ("nearest", "bilinear") or fill_mode not in _FILL:
        raise fail(_name("affine_transform"), f"interpolation nearest/bilinear and fill_mode "
                   f"in {_FILL}", f"{interpolation!r}, {fill_mode!r}")
    tr = np.asarray(static_value("affine_transform", transform, "transform"), np.float64)
    tr = np.broadcast_to(tr.reshape(-1, 8), (int(shape_of(x)[0]), 8))
    n, h, w, c = (int(d) for d in shape_of(x))
    ys, xs = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                         indexing="ij")
    k = tr[:, 6, None, None] * xs + tr[:, 7, None, None] * ys + 1.0
    sx = (tr[:, 0, None, None] * xs + tr[:, 1, None, None] * ys + tr[:, 2, None, None]) / k
    sy = (tr[:, 3, None, None] * xs + tr[:, 4, None, None] * ys + tr[:, 5, None, None]) / k
    dt = npdt(x) if npdt(x).kind == "f" else np.dtype(np.float32)
    xf = m.cast(x, dt) if npdt(x) != dt else x
    bidx = np.broadcast_to(np.arange(n)[:, None, None, None], (n, h, w, c)).astype(dt)
    cidx = np.broadcast_to(np.arange(c)[None, None, None, :], (n, h, w, c)).astype(dt)
    coords = [constant(bidx), constant(np.broadcast_to(sy[..., None], (n, h, w, c)).astype(dt)),
              constant(np.broadcast_to(sx[..., None], (n, h, w, c)).astype(dt)),
              constant(cidx)]
    y = map_coordinates(xf, coords, 0 if interpolation == "nearest" else 1, fill_mode,
                        fill_value)
    if npdt(y) != npdt(x) and npdt(x).kind == "f":
        y = m.cast(y, npdt(x))
    return _finish(y, sq, cf)


def _homography(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Rows `[a0 .. c1]` mapping output points `end` to input points `start` (per batch)."""
    out = []
    for s, e in zip(start, end):
        rows, rhs = [], []
        for (xs, ys), (xe, ye) in zip(s, e):
            rows.append([xe, ye, 1, 0, 0, 0, -xe * xs, -ye * xs])
            rows.append([0, 0, 0, xe, ye, 1, -xe * ys, -ye * ys])
            rhs += [xs, ys]
        out.append(np.linalg.solve(np.asarray(rows, np.float64), np.asarray(rhs, np.float64)))
    return np.stack(out)


def perspective_transform(images: Any, start_points: Any, end_points: Any,
                          interpolation: str = "bilinear", fill_value: float = 0.0,
                          data_format: Any = None) -> Tensor:
    """Warp images so that the 4 `start_points` (x, y) land on `end_points`."""
    x, cf = _images_last("perspective_transform", images, data_format)
    x, sq = _batched(x)
    sp = np.asarray(static_value("perspective_transform", start_points, "start_points"),
                    np.float64).reshape(-1, 4, 2)
    ep = np.asarray(static_value("perspective_transform", end_points, "end_points"),
                    np.float64).reshape(-1, 4, 2)
    tr = _homography(sp, ep)
    y = affine_transform(x, tr, interpolation, "constant", fill_value, "channels_last")
    return _finish(y, sq, cf)


def _kernel(method: str, x: np.ndarray) -> np.ndarray:
    if method == "linear":
        return np.maximum(0.0, 1.0 - x)
    if method == "cubic":  # Keys, a = -0.5
        near = ((1.5 * x - 2.5) * x) * x + 1.0
        far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
        return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, far, near))
    radius = 3.0 if method == "lanczos3" else 5.0
    with np.errstate(all="ignore"):
        y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius) / (np.pi * x) ** 2
    return np.where(x > radius, 0.0, np.where(x > 1e-3, y, 1.0))


_METHODS = {"linear": "linear", "bilinear": "linear", "trilinear": "linear",
            "triangle": "linear", "cubic": "cubic", "bicubic": "cubic", "tricubic": "cubic",
            "lanczos3": "lanczos3", "lanczos5": "lanczos5"}


def _resample_matrix(n_in: int, n_out: int, scale: float, shift: float, method: str,
                     antialias: bool) -> np.ndarray:
    """(n_in, n_out) weights: output pixel o samples the input at
    `(o + 0.5 - shift) / scale - 0.5` with the kernel widened by 1/scale when shrinking."""
    widen = max(1.0 / scale, 1.0) if antialias else 1.0
    where = (np.arange(n_out) + 0.5 - shift) / scale - 0.5
    w = _kernel(method, np.abs(where[None, :] - np.arange(n_in)[:, None]) / widen)
    total = w.sum(0, keepdims=True)
    w = np.where(np.abs(total) > 1000.0 * np.finfo(np.float32).eps,
                 w / np.where(total != 0, total, 1.0), 0.0)
    inside = (where >= -0.5) & (where <= n_in - 0.5)
    return np.where(inside[None, :], w, 0.0)


def scale_and_translate(images: Any, output_shape: Any, scale: Any, translation: Any,
                        spatial_dims: Any, method: str, antialias: bool = True) -> Tensor:
    """JAX's `scale_and_translate`: along each of `spatial_dims`, output pixel `o` samples
    the input at `(o + 0.5 - translation) / scale - 0.5` with a 'linear', 'cubic',
    'lanczos3' or 'lanczos5' kernel (widened when shrinking, with `antialias`)."""
    x = as_tensor(images)
    if method not in _METHODS:
        raise fail(_name("scale_and_translate"), f"method in {sorted(_METHODS)}",
                   repr(method))
    kind = _METHODS[method]
    dims = [int(d) % rank(x) for d in spatial_dims]
    sc = np.asarray(static_value("scale_and_translate", scale, "scale"), np.float64)
    tr = np.asarray(static_value("scale_and_translate", translation, "translation"),
                    np.float64)
    sc = np.broadcast_to(sc.reshape(-1), (len(dims),))
    tr = np.broadcast_to(tr.reshape(-1), (len(dims),))
    out_shape = [int(d) for d in output_shape]
    dt = npdt(x)
    work = x if dt.kind == "f" else m.cast(x, np.float32)
    for i, d in enumerate(dims):
        n_in = shape_of(work)[d]
        mat = _resample_matrix(int(n_in), out_shape[d], float(sc[i]), float(tr[i]), kind,
                               bool(antialias))
        moved = la_.tensordot(work, constant(mat.astype(npdt(work))), [[d], [0]])
        nd = rank(moved)
        work = a_.transpose(moved, list(range(d)) + [nd - 1] + list(range(d, nd - 1)))
    if dt.kind != "f":
        lo = r_.reduce_min(m.cast(x, npdt(work)))
        hi = r_.reduce_max(m.cast(x, npdt(work)))
        work = m.cast(m.clip_by_value(m.round(work), lo, hi), dt)
    return work


def elastic_transform(images: Any, alpha: float = 20.0, sigma: float = 5.0,
                      interpolation: str = "bilinear", fill_mode: str = "reflect",
                      fill_value: float = 0.0, seed: Any = None,
                      data_format: Any = None) -> Tensor:
    """Elastic distortion: every pixel moves by `alpha` times Gaussian noise (scale `sigma`)
    smoothed by a Gaussian of width `sigma` (kernel `int(6 sigma) | 1`), one field per
    image shared by its channels; `seed` as in `keras.random`."""
    from ndflow.keras import random as kr

    x, cf = _images_last("elastic_transform", images, data_format)
    x, sq = _batched(x)
    if interpolation not in ("nearest", "bilinear") or fill_mode not in _FILL:
        raise fail(_name("elastic_transform"), f"interpolation nearest/bilinear and "
                   f"fill_mode in {_FILL}", f"{interpolation!r}, {fill_mode!r}")
    n, h, w, c = (int(d) for d in shape_of(x))
    dt = npdt(x) if npdt(x).kind == "f" else np.dtype(np.float32)
    xf = m.cast(x, dt) if npdt(x) != dt else x
    sg, al = float(sigma), float(alpha)
    k = int(6 * sg) | 1
    noise = m.multiply(kr.normal((n, h, w, 2), dtype=dt, seed=seed), sg)
    field = m.multiply(gaussian_blur(noise, (k, k), (sg, sg), "channels_last"), al)
    dx, dy = a_.unstack(field, axis=-1)
    ys, xs = np.meshgrid(np.arange(h, dtype=dt), np.arange(w, dtype=dt), indexing="ij")

    def per_channel(v: Tensor) -> Tensor:
        return a_.tile(a_.expand_dims(v, -1), [1, 1, 1, c])

    coords = [constant(np.broadcast_to(np.arange(n, dtype=dt)[:, None, None, None],
                                       (n, h, w, c)).copy()),
              per_channel(m.add(dy, constant(ys))), per_channel(m.add(dx, constant(xs))),
              constant(np.broadcast_to(np.arange(c, dtype=dt), (n, h, w, c)).copy())]
    y = map_coordinates(xf, coords, 0 if interpolation == "nearest" else 1, fill_mode,
                        fill_value)
    if npdt(y) != npdt(x) and npdt(x).kind == "f":
        y = m.cast(y, npdt(x))
    return _finish(y, sq, cf)


__all__ = ["affine_transform", "crop_images", "elastic_transform", "extract_patches",
           "extract_patches_3d", "gaussian_blur", "hsv_to_rgb", "map_coordinates",
           "pad_images", "perspective_transform", "rgb_to_hsv", "scale_and_translate",
           "sobel_edges", "ssim"]
