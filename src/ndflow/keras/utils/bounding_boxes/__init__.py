"""`keras.utils.bounding_boxes`: box format conversion, clipping, cropping, padding, affine
transforms, IoU/CIoU and anchor delta encoding, with Keras 3's formats and results.

Formats: ``xyxy`` [left, top, right, bottom], ``yxyx``, ``xywh`` [left, top, width, height],
``center_xywh``, ``center_yxhw``, and the relative ``rel_xyxy``, ``rel_yxyx``, ``rel_xywh``,
``rel_center_xywh`` (divided by the image width/height). Results are ndflow tensors.

>>> import numpy as np
>>> boxes = np.array([[10, 20, 30, 40]])
>>> convert_format(boxes, source="xyxy", target="xywh").numpy().tolist()
[[10.0, 20.0, 20.0, 20.0]]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor

SUPPORTED_FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy",
                     "rel_yxyx", "rel_xywh", "rel_center_xywh")


def _np(x: Any, dtype: Any = None) -> np.ndarray:
    a = x.numpy() if isinstance(x, Tensor) else np.asarray(x)
    return a if dtype is None else a.astype(dtype, copy=False)


def _out(a: np.ndarray) -> Tensor:
    return Tensor(np.ascontiguousarray(a))


def _eps() -> float:
    from ndflow.keras.backend import epsilon

    return epsilon()


def _split(b: np.ndarray) -> list:
    return [b[..., i:i + 1] for i in range(4)]


def _cat(parts: list) -> np.ndarray:
    return np.concatenate(parts, axis=-1)


def _to_xyxy(b: np.ndarray, fmt: str, h: Any, w: Any) -> np.ndarray:
    p, q, r, s = _split(b)
    if fmt == "xyxy":
        return b
    if fmt == "yxyx":
        return _cat([q, p, s, r])
    if fmt == "xywh":
        return _cat([p, q, p + r, q + s])
    if fmt == "center_xywh":
        return _cat([p - r / 2.0, q - s / 2.0, p + r / 2.0, q + s / 2.0])
    if fmt == "center_yxhw":  # cy, cx, h, w
        return _cat([q - s / 2.0, p - r / 2.0, q + s / 2.0, p + r / 2.0])
    if fmt == "rel_xyxy":
        return _cat([p * w, q * h, r * w, s * h])
    if fmt == "rel_yxyx":
        return _cat([q * w, p * h, s * w, r * h])
    if fmt == "rel_xywh":
        return _cat([p * w, q * h, (p + r) * w, (q + s) * h])
    # rel_center_xywh
    return _cat([(p - r / 2.0) * w, (q - s / 2.0) * h, (p + r / 2.0) * w, (q + s / 2.0) * h])


def _from_xyxy(b: np.ndarray, fmt: str, h: Any, w: Any) -> np.ndarray:
    x1, y1, x2, y2 = _split(b)
    bw, bh = x2 - x1, y2 - y1
    cx, cy = x1 + bw / 2.0, y1 + bh / 2.0
    return {"xyxy": lambda: b, "yxyx": lambda: _cat([y1, x1, y2, x2]),
            "xywh": lambda: _cat([x1, y1, bw, bh]),
            "center_xywh": lambda: _cat([cx, cy, bw, bh]),
            "center_yxhw": lambda: _cat([cy, cx, bh, bw]),
            "rel_xyxy": lambda: _cat([x1 / w, y1 / h, x2 / w, y2 / h]),
            "rel_yxyx": lambda: _cat([y1 / h, x1 / w, y2 / h, x2 / w]),
            "rel_xywh": lambda: _cat([x1 / w, y1 / h, bw / w, bh / h]),
            "rel_center_xywh": lambda: _cat([cx / w, cy / h, bw / w, bh / h])}[fmt]()


def _convert(boxes: Any, source: str, target: str, height: Any, width: Any,
             dtype: Any) -> np.ndarray:
    b = _np(boxes)
    if b.shape[-1:] != (4,):
        raise ValueError(f"`boxes` must be a tensor with the last dimension of 4. Received: "
                         f"boxes.shape={b.shape}")
    source, target = source.lower(), target.lower()
    if source not in SUPPORTED_FORMATS or target not in SUPPORTED_FORMATS:
        raise ValueError(f"Invalid source or target format. Supported formats: "
                         f"{SUPPORTED_FORMATS}")
    if (source.startswith("rel_") or target.startswith("rel_")) and (width is None
                                                                     or height is None):
        raise ValueError(f"convert_format() must receive `height` and `width` transforming "
                         f"between relative and absolute formats; received source={source}, "
                         f"target={target}, height={height}, width={width}.")
    dt = np.dtype(dtype)
    b = b.astype(dt)
    if source == target:
        return b
    w = None if width is None else dt.type(width)
    h = None if height is None else dt.type(height)
    if source.startswith("rel_") and target.startswith("rel_"):
        source, target = source[4:], target[4:]
    return _from_xyxy(_to_xyxy(b, source, h, w), target, h, w).astype(dt, copy=False)


def convert_format(boxes: Any, source: str, target: str, height: Any = None,
                   width: Any = None, dtype: Any = "float32") -> Any:
    """Boxes (..., 4) from format `source` to `target` (``height``/``width`` needed for the
    relative formats). A dict with ``"boxes"`` gets its boxes replaced and is returned."""
    if isinstance(boxes, dict):
        boxes["boxes"] = convert_format(boxes["boxes"], source, target, height, width, dtype)
        return boxes
    return _out(_convert(boxes, source, target, height, width, dtype))


def clip_to_image_size(bounding_boxes: dict, height: Any = None, width: Any = None,
                       bounding_box_format: str = "xyxy") -> dict:
    """Boxes clipped into the image (``xyxy``) or into [0, 1] (``rel_xyxy``); labels of boxes
    left with no area become -1."""
    if bounding_box_format not in ("xyxy", "rel_xyxy"):
        raise ValueError(f"clip_to_image_size: `bounding_box_format` expected 'xyxy' or "
                         f"'rel_xyxy', got {bounding_box_format!r}")
    if bounding_box_format == "xyxy" and (height is None or width is None):
        raise ValueError("`height` and `width` must be set if `format='xyxy'`.")
    b = _np(bounding_boxes["boxes"])
    labels = bounding_boxes.get("labels")
    hi_x, hi_y = (1.0, 1.0) if bounding_box_format == "rel_xyxy" else (width, height)
    x1, y1, x2, y2 = _split(b)
    b = _cat([np.clip(x1, 0, hi_x), np.clip(y1, 0, hi_y), np.clip(x2, 0, hi_x),
              np.clip(y2, 0, hi_y)]).astype(b.dtype, copy=False)
    result = dict(bounding_boxes)
    result["boxes"] = _out(b)
    if labels is not None:
        x1, y1, x2, y2 = _split(b)
        area = ((x2 - x1) * (y2 - y1))[..., 0]
        lab = _np(labels)
        result["labels"] = _out(np.where(area > 0, lab, np.asarray(-1, lab.dtype)))
    return result


def _check_xyxy(fn: str, fmt: str) -> None:
    if fmt != "xyxy":
        raise ValueError(f"{fn}: only bounding_box_format='xyxy' is supported (as in Keras); "
                         f"got {fmt!r}. Convert with convert_format first.")


def crop(boxes: Any, top: Any, left: Any, height: Any, width: Any,
         bounding_box_format: str = "xyxy") -> Tensor:
    """Boxes moved into the crop window starting at (`top`, `left`) and clipped to its
    `height` x `width`."""
    _check_xyxy("crop", bounding_box_format)
    x1, y1, x2, y2 = _split(_np(boxes))
    return _out(_cat([np.clip(x1 - left, 0, width), np.clip(y1 - top, 0, height),
                      np.clip(x2 - left, 0, width), np.clip(y2 - top, 0, height)]))


def pad(boxes: Any, top: Any, left: Any, height: Any = None, width: Any = None,
        bounding_box_format: str = "xyxy") -> Tensor:
    """Boxes shifted by the padding added above (`top`) and left of (`left`) the image."""
    _check_xyxy("pad", bounding_box_format)
    x1, y1, x2, y2 = _split(_np(boxes))
    return _out(_cat([x1 + left, y1 + top, x2 + left, y2 + top]))


def _inverse_affine_matrix(cx: Any, cy: Any, angle: np.ndarray, tx: Any, ty: Any,
                           scale: Any, shear_x: Any, shear_y: Any, height: Any,
                           width: Any) -> np.ndarray:
    """(B, 3, 3): the matrix mapping output pixels back to input pixels for a rotation by
    `angle`, shear, scale and translation about the centre (fractions of the image)."""
    dt = angle.dtype
    deg = np.asarray(math.pi / 180.0, dt)
    rot = -angle * deg
    sx, sy = -np.asarray(shear_x, dt) * deg, -np.asarray(shear_y, dt) * deg
    cx = np.asarray(cx, dt) * (width - 1)
    cy = np.asarray(cy, dt) * (height - 1)
    tx = -np.asarray(tx, dt) * (width - 1)
    ty = -np.asarray(ty, dt) * (height - 1)
    a = np.cos(rot - sy) / np.cos(sy)
    b = a * np.tan(sx) + np.sin(rot)
    c = -np.sin(rot - sy) / np.cos(sy)
    d = np.cos(rot) - c * np.tan(sx)
    a0, a1, b0, b1 = d * scale, -b * scale, -c * scale, a * scale
    a2 = cx - a0 * (cx + tx) - a1 * (cy + ty)
    b2 = cy - b0 * (cx + tx) - b1 * (cy + ty)
    n = angle.shape[0]
    m = np.stack([a0, a1, a2, b0, b1, b2, np.zeros(n, dt), np.zeros(n, dt), np.ones(n, dt)],
                 axis=-1)
    return m.reshape(n, 3, 3).astype(dt, copy=False)


def affine_transform(boxes: Any, angle: Any, translate_x: Any, translate_y: Any, scale: Any,
                     shear_x: Any, shear_y: Any, height: Any, width: Any,
                     center_x: Any = None, center_y: Any = None,
                     bounding_box_format: str = "xyxy") -> Tensor:
    """Batched boxes (B, N, 4) under per-image affine transforms (`angle` etc. of shape (B,),
    angles in degrees, translations and centre as fractions of the image): each box becomes
    the axis-aligned box around its four transformed corners."""
    _check_xyxy("affine_transform", bounding_box_format)
    angle = _np(angle)
    if angle.dtype.kind != "f":
        angle = angle.astype("float32")
    b = _np(boxes)
    if b.ndim != 3:
        raise ValueError(f"affine_transform: expected batched boxes (batch, n, 4), got shape "
                         f"{b.shape}")
    m = _inverse_affine_matrix(0.5 if center_x is None else _np(center_x),
                               0.5 if center_y is None else _np(center_y), angle,
                               _np(translate_x), _np(translate_y), _np(scale), _np(shear_x),
                               _np(shear_y), height, width)
    b = b.astype(m.dtype)
    bsz, n = b.shape[:2]
    corners = np.stack([b[..., 0], b[..., 1], b[..., 2], b[..., 1], b[..., 2], b[..., 3],
                        b[..., 0], b[..., 3]], axis=-1).reshape(bsz, n, 4, 2)
    corners = np.concatenate([corners, np.ones((bsz, n, 4, 1), m.dtype)], axis=-1)
    moved = np.einsum("bnxy,byz->bnxz", corners, np.transpose(m[:, :2, :], (0, 2, 1)))
    return _out(np.concatenate([moved.min(axis=2), moved.max(axis=2)], axis=-1))


def _image_hw(image_shape: Any) -> tuple:
    if image_shape is None:
        return None, None
    height, width, _ = image_shape
    return height, width


def compute_iou(boxes1: Any, boxes2: Any, bounding_box_format: str,
                use_masking: bool = False, mask_val: Any = -1,
                image_shape: Any = None) -> Tensor:
    """Pairwise IoU: (M, N) for unbatched boxes, (B, M, N) when either is batched. With
    `use_masking`, pairs where a box has all coordinates < 0 get `mask_val`."""
    r1, r2 = np.ndim(_np(boxes1)), np.ndim(_np(boxes2))
    for r, which in ((r1, "boxes1"), (r2, "boxes2")):
        if r not in (2, 3):
            raise ValueError(f"compute_iou() expects {which} to be batched (rank 3) or "
                             f"unbatched (rank 2). Received len(boxes1.shape)={r1}, "
                             f"len(boxes2.shape)={r2}.")
    if "rel" in bounding_box_format and image_shape is None:
        raise ValueError("When using relative bounding box formats (e.g. `rel_yxyx`) the "
                         f"`image_shape` argument must be provided. Received `image_shape`: "
                         f"{image_shape}")
    h, w = _image_hw(image_shape)
    b1 = _convert(boxes1, bounding_box_format, "yxyx", h, w, "float32")
    b2 = _convert(boxes2, bounding_box_format, "yxyx", h, w, "float32")
    t1 = b1[..., :, None, :]
    t2 = b2[..., None, :, :]
    ih = np.maximum(np.minimum(t1[..., 2], t2[..., 2]) - np.maximum(t1[..., 0], t2[..., 0]), 0)
    iw = np.maximum(np.minimum(t1[..., 3], t2[..., 3]) - np.maximum(t1[..., 1], t2[..., 1]), 0)
    inter = ih * iw
    a1 = ((b1[..., 2] - b1[..., 0]) * (b1[..., 3] - b1[..., 1]))[..., :, None]
    a2 = ((b2[..., 2] - b2[..., 0]) * (b2[..., 3] - b2[..., 1]))[..., None, :]
    res = (inter / (a1 + a2 - inter + np.float32(_eps()))).astype(np.float32)
    if not use_masking:
        return _out(res)
    m1 = (b1.max(axis=-1) < 0)[..., :, None]
    m2 = (b2.max(axis=-1) < 0)[..., None, :]
    return _out(np.where(m1 | m2, np.float32(mask_val), res))


def compute_ciou(boxes1: Any, boxes2: Any, bounding_box_format: str,
                 image_shape: Any = None) -> Tensor:
    """Complete IoU of corresponding boxes (..., 4): IoU minus the normalised centre
    distance and an aspect-ratio term."""
    if "rel" in bounding_box_format:
        raise ValueError("When using relative bounding box formats (e.g. `rel_yxyx`) the "
                         f"`image_shape` argument must be provided. Received `image_shape`: "
                         f"{image_shape}")
    h, w = _image_hw(image_shape)
    eps = np.float32(_eps())
    x1a, y1a, x2a, y2a = _split(_convert(boxes1, bounding_box_format, "xyxy", h, w, "float32"))
    x1b, y1b, x2b, y2b = _split(_convert(boxes2, bounding_box_format, "xyxy", h, w, "float32"))
    wa, ha = x2a - x1a, y2a - y1a + eps
    wb, hb = x2b - x1b, y2b - y1b + eps
    inter = (np.maximum(np.minimum(x2a, x2b) - np.maximum(x1a, x1b), 0)
             * np.maximum(np.minimum(y2a, y2b) - np.maximum(y1a, y1b), 0))
    union = wa * ha + wb * hb - inter + eps
    iou = (inter / (union + eps))[..., 0]
    cw = np.maximum(x2a, x2b) - np.minimum(x1a, x1b)
    ch = np.maximum(y2a, y2b) - np.minimum(y1a, y1b)
    diag = (cw ** 2 + ch ** 2 + eps)[..., 0]
    dist = (((x1a + x2a) / 2 - (x1b + x2b) / 2) ** 2
            + ((y1a + y2a) / 2 - (y1b + y2b) / 2) ** 2)[..., 0]
    v = (np.float32(4 / math.pi ** 2) * (np.arctan(wb / hb) - np.arctan(wa / ha)) ** 2)[..., 0]
    alpha = v / (v - iou + (1 + eps))
    return _out((iou - (dist / diag + v * alpha)).astype(np.float32))


def _check_variance(variance: Any) -> Any:
    if variance is None:
        return None
    v = _np(variance, "float32")
    if v.shape[-1:] != (4,):
        raise ValueError(f"`variance` must be length 4, got {variance}")
    return v


def encode_box_to_deltas(anchors: Any, boxes: Any, anchor_format: str, box_format: str,
                         encoding_format: str = "center_yxhw", variance: Any = None,
                         image_shape: Any = None) -> Tensor:
    """Offsets of `boxes` from `anchors` in the centre format `encoding_format`: centre shift
    divided by the anchor size, then log of the size ratio (divided by `variance`)."""
    var = _check_variance(variance)
    if encoding_format not in ("center_xywh", "center_yxhw"):
        raise ValueError(f"`encoding_format` should be one of 'center_xywh' or 'center_yxhw', "
                         f"got {encoding_format}")
    h, w = _image_hw(image_shape)
    a = _convert(anchors, anchor_format, encoding_format, h, w, "float32")
    b = _convert(boxes, box_format, encoding_format, h, w, "float32")
    eps = np.float32(_eps())
    adim = np.maximum(a[..., 2:], eps)
    bdim = np.maximum(b[..., 2:], eps)
    delta = np.concatenate([(b[..., :2] - a[..., :2]) / adim, np.log(bdim / adim)], axis=-1)
    if var is not None:
        delta = delta / var
    return _out(delta.astype(np.float32))


def decode_deltas_to_boxes(anchors: Any, boxes_delta: Any, anchor_format: str,
                           box_format: str, encoded_format: str = "center_yxhw",
                           variance: Any = None, image_shape: Any = None) -> Any:
    """The inverse of `encode_box_to_deltas`; dicts of levels decode level by level."""
    var = _check_variance(variance)
    if encoded_format not in ("center_xywh", "center_yxhw"):
        raise ValueError(f"`encoded_format` should be 'center_xywh' or 'center_yxhw', but got "
                         f"'{encoded_format}'.")
    h, w = _image_hw(image_shape)

    def level(anchor: Any, delta: Any) -> Tensor:
        a = _convert(anchor, anchor_format, encoded_format, h, w, "float32")
        d = _np(delta, "float32")
        if var is not None:
            d = d * var
        box = np.concatenate([d[..., :2] * a[..., 2:] + a[..., :2],
                              np.exp(d[..., 2:]) * a[..., 2:]], axis=-1)
        return convert_format(box, encoded_format, box_format, h, w)

    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        return {lvl: level(a, boxes_delta[lvl]) for lvl, a in anchors.items()}
    return level(anchors, boxes_delta)


__all__ = ["affine_transform", "clip_to_image_size", "compute_ciou", "compute_iou",
           "convert_format", "crop", "decode_deltas_to_boxes", "encode_box_to_deltas", "pad"]
