"""NumPy kernels of the host-side image augmentation layers (all on (N, H, W, C) batches).

The layers built on `BaseAugmentationLayer` run these on the host through
`ndflow.numpy_function`, so one code path serves eager calls, `Dataset.map` and compiled
`ndflow.function` steps. The formulas follow Keras 3's image layers (facts read from their
documentation and sources; the code is ndflow's).

>>> import numpy as np
>>> rgb_to_grayscale(np.array([[[[255.0, 0.0, 0.0]]]])).ravel().round(2).tolist()
[76.22]
"""

from __future__ import annotations

import numpy as np

from ndflow.ops.image import point_sampling_table, sampling_table

GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)


def to_range(x: np.ndarray, src: tuple, dst: tuple) -> np.ndarray:
    """Map values linearly from the `src` (min, max) range to `dst` (no clipping)."""
    if float(src[0]) == float(dst[0]) and float(src[1]) == float(dst[1]):
        return x
    dt = x.dtype
    lo, hi = np.asarray(src[0], dt), np.asarray(src[1], dt)
    tlo, thi = np.asarray(dst[0], dt), np.asarray(dst[1], dt)
    return ((x - lo) / (hi - lo)) * (thi - tlo) + tlo


def rgb_to_grayscale(x: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) -> (N, H, W, 1) luma with ITU-R 601 weights (Keras's and TF's)."""
    return np.tensordot(x, np.asarray(GRAY_WEIGHTS, x.dtype), axes=(-1, -1))[..., None]


def rgb_to_hsv(x: np.ndarray) -> np.ndarray:
    """RGB -> HSV with hue and saturation in [0, 1] and value in the input's units."""
    eps = np.finfo(x.dtype).eps if x.dtype.kind == "f" else 0
    x = np.where(np.abs(x) < eps, 0.0, x).astype(x.dtype)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    v = np.maximum(np.maximum(r, g), b)
    rng = v - np.minimum(np.minimum(r, g), b)
    s = np.where(v > 0, rng / np.where(v > 0, v, 1), 0)
    norm = 1.0 / (6.0 * np.where(rng > 0, rng, 1))
    hue = np.where(v == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = np.where(v == r, norm * (g - b), hue)
    hue = np.where(rng > 0, hue, 0) + (hue < 0)
    return np.stack([hue, s, v], -1).astype(x.dtype)


def hsv_to_rgb(x: np.ndarray) -> np.ndarray:
    """HSV (hue in [0, 1], any period) -> RGB."""
    h, s, v = x[..., 0], x[..., 1], x[..., 2]
    dh = np.mod(h, 1.0) * 6.0
    parts = [np.clip(np.abs(dh - 3.0) - 1.0, 0, 1), np.clip(2.0 - np.abs(dh - 2.0), 0, 1),
             np.clip(2.0 - np.abs(dh - 4.0), 0, 1)]
    return np.stack([v * (1 - s + s * p) for p in parts], -1).astype(x.dtype)


def warp(x: np.ndarray, matrices: np.ndarray, interpolation: str = "bilinear",
         fill_mode: str = "reflect", fill_value: float = 0.0,
         output_shape: tuple | None = None) -> np.ndarray:
    """Projective warp: `matrices` (N, 8) map output pixels to input points (TF's
    convention, as `ndflow.image` uses); `output_shape` (OH, OW) defaults to the input's."""
    n, h, w, c = x.shape
    idx, wts, out = sampling_table(matrices, (n, h, w), interpolation, fill_mode, output_shape)
    return _gather(x, idx, wts, out, fill_value if fill_mode == "constant" else 0.0)


def sample_points(x: np.ndarray, sx: np.ndarray, sy: np.ndarray,
                  interpolation: str = "bilinear", fill_mode: str = "reflect",
                  fill_value: float = 0.0) -> np.ndarray:
    """Output pixel (b, i, j) reads the input at `(sx, sy)[b, i, j]` (x = column)."""
    n, h, w, c = x.shape
    idx, wts, out = point_sampling_table(sx, sy, (n, h, w), interpolation, fill_mode)
    return _gather(x, idx, wts, out, fill_value if fill_mode == "constant" else 0.0)


def _gather(x: np.ndarray, idx: np.ndarray, wts: np.ndarray, outside: np.ndarray,
            fill_value: float) -> np.ndarray:
    flat = x.reshape(-1, x.shape[-1])
    y = np.einsum("nhwk,nhwkc->nhwc", wts.astype(x.dtype), flat[idx])
    if fill_value:
        y = y + outside[..., None].astype(x.dtype) * np.asarray(fill_value, x.dtype)
    return y.astype(x.dtype)


def invert_projective(matrices: np.ndarray) -> np.ndarray:
    """(N, 8) -> (N, 3, 3) matrices of the inverse maps (input point -> output pixel)."""
    m = np.concatenate([np.asarray(matrices, np.float64), np.ones((len(matrices), 1))], 1)
    return np.linalg.inv(m.reshape(-1, 3, 3))


def homography(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """(N, 8) projective maps sending each of the 4 `end` points (N, 4, 2) to its `start`
    point: output pixels at `end` read the input at `start`."""
    n = start.shape[0]
    a = np.zeros((n, 8, 8))
    rhs = np.zeros((n, 8))
    for k in range(4):
        ex, ey = end[:, k, 0], end[:, k, 1]
        sx, sy = start[:, k, 0], start[:, k, 1]
        a[:, 2 * k, 0:3] = np.stack([ex, ey, np.ones(n)], -1)
        a[:, 2 * k, 6:8] = np.stack([-sx * ex, -sx * ey], -1)
        a[:, 2 * k + 1, 3:6] = np.stack([ex, ey, np.ones(n)], -1)
        a[:, 2 * k + 1, 6:8] = np.stack([-sy * ex, -sy * ey], -1)
        rhs[:, 2 * k], rhs[:, 2 * k + 1] = sx, sy
    return np.linalg.solve(a, rhs[..., None])[..., 0]


def gaussian_kernel1d(size: int, sigma: float, dtype: np.dtype) -> np.ndarray:
    t = np.arange(size, dtype=dtype) - (size - 1) / 2
    k = np.exp(-0.5 * (t / np.asarray(sigma, dtype)) ** 2)
    return (k / k.sum()).astype(dtype)


def filter2d(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Per-channel 2-D correlation with a (kh, kw) kernel, zero padding, 'same' output."""
    n, h, w, c = x.shape
    kh, kw = kernel.shape
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    p = np.pad(x, ((0, 0), (ph, kh - 1 - ph), (pw, kw - 1 - pw), (0, 0)))
    out = np.zeros_like(x)
    for i in range(kh):
        for j in range(kw):
            out += kernel[i, j] * p[:, i:i + h, j:j + w, :]
    return out


def filter1d(x: np.ndarray, kernel: np.ndarray, axis: int) -> np.ndarray:
    """Correlation along one axis with zero padding, 'same' output."""
    k = len(kernel)
    before = (k - 1) // 2
    pads = [(0, 0)] * x.ndim
    pads[axis] = (before, k - 1 - before)
    p = np.pad(x, pads)
    size = x.shape[axis]
    out = np.zeros_like(x)
    for i in range(k):
        out += kernel[i] * np.take(p, np.arange(i, i + size), axis=axis)
    return out


def gaussian_blur(x: np.ndarray, kernel_size: tuple, sigma: tuple) -> np.ndarray:
    """Zero-padded Gaussian blur; `kernel_size` and `sigma` are (x, y) pairs. The kernel is
    separable, so two 1-D passes give the 2-D correlation with `outer(k_y, k_x)`."""
    kx = gaussian_kernel1d(int(kernel_size[0]), sigma[0], x.dtype)
    ky = gaussian_kernel1d(int(kernel_size[1]), sigma[1], x.dtype)
    return filter1d(filter1d(x, kx, 2), ky, 1)


def equalize(x: np.ndarray, value_range: tuple, bins: int) -> np.ndarray:
    """Histogram equalisation per channel; as in Keras, each channel's histogram is taken over
    the whole batch and channels with one occupied bin are left as they are."""
    out = np.empty_like(x)
    for ch in range(x.shape[-1]):
        v = to_range(x[..., ch], value_range, (0, 255)).astype(np.float32)
        idx = np.clip(((v - np.float32(0)) * np.float32(bins - 1) / np.float32(255)
                       ).astype(np.int32), 0, bins - 1)
        hist = np.bincount(idx.ravel(), minlength=bins)
        if np.count_nonzero(hist) <= 1:
            eq = v
        else:
            cdf = np.cumsum(hist)
            cmin = cdf[np.nonzero(cdf)[0][0]]
            den = cdf[-1] - cmin
            lut = np.clip(np.round((cdf - cmin) * 255 / (den if den else 1)), 0, 255)
            pos = np.clip(v / np.float32(255.0) * np.float32(bins - 1), 0, bins - 1)
            eq = lut[pos.astype(np.int32)].astype(np.float32)
        out[..., ch] = to_range(eq, (0, 255), value_range)
    return out


def clahe(x: np.ndarray, clip_limit: float, grid: tuple) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation of (N, H, W, C) values in [0, 255]:
    each tile of a `grid` (rows, cols) gets a clipped, redistributed 256-bin histogram whose
    normalised CDF maps its pixels, blended bilinearly between the four nearest tile centres."""
    n, h, w, c = x.shape
    gh, gw = int(grid[0]), int(grid[1])
    th, tw = -(-h // gh), -(-w // gw)
    ph, pw = th * gh - h, tw * gw - w
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="symmetric")
    tiles = x.reshape(n, gh, th, gw, tw, c).transpose(0, 1, 3, 5, 2, 4).reshape(
        n, gh, gw, c, th * tw)
    levels = np.clip(tiles.astype(np.int32), 0, 255)
    flat = levels.reshape(-1, th * tw)
    keys = np.arange(flat.shape[0])[:, None] * 256 + flat
    hist = np.bincount(keys.ravel(), minlength=flat.shape[0] * 256).reshape(
        n, gh, gw, c, 256).astype(np.float32)
    if clip_limit > 0:
        limit = np.float32(clip_limit * (th * tw) / 256.0)
        clipped = np.minimum(hist, limit)
        hist = clipped + (hist - clipped).sum(-1, keepdims=True) / np.float32(256.0)
    cdf = np.cumsum(hist, -1)
    cmin = cdf.min(-1, keepdims=True)
    den = np.float32(th * tw) - cmin
    lut = np.clip((cdf - cmin) * np.float32(255.0) / np.where(den == 0, 1, den), 0, 255)
    lut = np.pad(lut, ((0, 0), (1, 1), (1, 1), (0, 0), (0, 0)), mode="edge")
    gy = (np.arange(th * gh, dtype=np.float32) - th / 2.0) / th + 1.0
    gx = (np.arange(tw * gw, dtype=np.float32) - tw / 2.0) / tw + 1.0
    y0, x0 = np.floor(gy), np.floor(gx)
    wy, wx = (gy - y0)[None, :, None, None], (gx - x0)[None, None, :, None]
    y0i, y1i = np.clip(y0, 0, gh + 1).astype(int), np.clip(y0 + 1, 0, gh + 1).astype(int)
    x0i, x1i = np.clip(x0, 0, gw + 1).astype(int), np.clip(x0 + 1, 0, gw + 1).astype(int)
    pix = np.clip(x.astype(np.int32), 0, 255)
    b = np.arange(n)[:, None, None, None]
    ch = np.arange(c)[None, None, None, :]

    def at(yi: np.ndarray, xi: np.ndarray) -> np.ndarray:
        return lut[b, yi[None, :, None, None], xi[None, None, :, None], ch, pix]

    top = at(y0i, x0i) * (1 - wx) + at(y0i, x1i) * wx
    bottom = at(y1i, x0i) * (1 - wx) + at(y1i, x1i) * wx
    return (top * (1 - wy) + bottom * wy)[:, :h, :w, :].astype(np.float32)
