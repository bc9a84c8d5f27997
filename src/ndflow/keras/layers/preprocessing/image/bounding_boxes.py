"""Bounding boxes for the image layers: Keras 3's formats and its `{"boxes", "labels"}` dicts.

Boxes are `(batch, num_boxes, 4)` (or `(num_boxes, 4)` for one image) in one of Keras's
formats; layers convert them to absolute `xyxy` (pixels), transform them with the image, clip
them to the image, mark boxes left with no area by the label -1, and convert back.

>>> import numpy as np
>>> to_xyxy(np.array([[5.0, 5.0, 4.0, 2.0]]), "center_xywh", 10, 10).tolist()
[[3.0, 4.0, 7.0, 6.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy", "rel_yxyx",
           "rel_xywh", "rel_center_xywh")


def check_format(layer: str, fmt: Any) -> str | None:
    if fmt is None:
        return None
    if fmt not in FORMATS:
        raise ValueError(f"{layer}: expected bounding_box_format in {FORMATS}, got "
                         f"bounding_box_format={fmt!r}")
    return str(fmt)


def to_xyxy(boxes: np.ndarray, fmt: str, height: int, width: int) -> np.ndarray:
    """Boxes (..., 4) in `fmt` -> absolute (x1, y1, x2, y2), float64."""
    b = np.asarray(boxes, np.float64)
    rel = fmt.startswith("rel_")
    base = fmt[4:] if rel else fmt
    a, c, d, e = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    if base == "xyxy":
        x1, y1, x2, y2 = a, c, d, e
    elif base == "yxyx":
        y1, x1, y2, x2 = a, c, d, e
    elif base == "xywh":
        x1, y1, x2, y2 = a, c, a + d, c + e
    elif base == "center_xywh":
        x1, y1, x2, y2 = a - d / 2, c - e / 2, a + d / 2, c + e / 2
    else:  # center_yxhw
        y1, x1, y2, x2 = a - d / 2, c - e / 2, a + d / 2, c + e / 2
    out = np.stack([x1, y1, x2, y2], -1)
    if rel:
        out = out * np.array([width, height, width, height], np.float64)
    return out


def from_xyxy(boxes: np.ndarray, fmt: str, height: int, width: int) -> np.ndarray:
    """Absolute (x1, y1, x2, y2) -> `fmt`."""
    b = np.asarray(boxes, np.float64)
    rel = fmt.startswith("rel_")
    if rel:
        b = b / np.array([width, height, width, height], np.float64)
    base = fmt[4:] if rel else fmt
    x1, y1, x2, y2 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    if base == "xyxy":
        parts = (x1, y1, x2, y2)
    elif base == "yxyx":
        parts = (y1, x1, y2, x2)
    elif base == "xywh":
        parts = (x1, y1, x2 - x1, y2 - y1)
    elif base == "center_xywh":
        parts = ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)
    else:
        parts = ((y1 + y2) / 2, (x1 + x2) / 2, y2 - y1, x2 - x1)
    return np.stack(parts, -1)


def clip_to_image(boxes: np.ndarray, labels: np.ndarray, height: int, width: int) -> tuple:
    """Clip absolute xyxy boxes to the image; boxes left with no area get label -1."""
    b = boxes.copy()
    b[..., 0::2] = np.clip(b[..., 0::2], 0, width)
    b[..., 1::2] = np.clip(b[..., 1::2], 0, height)
    area = np.maximum(b[..., 2] - b[..., 0], 0) * np.maximum(b[..., 3] - b[..., 1], 0)
    return b, np.where(area > 0, labels, -1).astype(labels.dtype)


def transform_boxes(boxes: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    """Map absolute xyxy boxes (N, B, 4) through per-image projective maps `inverse`
    (N, 3, 3, input point -> output pixel) and take the box around the mapped corners.

    The maps act on pixel indices (pixel i's centre is the point i) while box edges are
    continuous (pixel i spans [i, i + 1]), hence the half-pixel shifts."""
    x1, y1, x2, y2 = (boxes[..., k] - 0.5 for k in range(4))
    xs, ys = [], []
    for cx, cy in ((x1, y1), (x2, y1), (x1, y2), (x2, y2)):
        pts = np.stack([cx, cy, np.ones_like(cx)], -1)  # (N, B, 3)
        q = np.einsum("nij,nbj->nbi", inverse, pts)
        xs.append(q[..., 0] / q[..., 2] + 0.5)
        ys.append(q[..., 1] / q[..., 2] + 0.5)
    xs, ys = np.stack(xs, -1), np.stack(ys, -1)
    return np.stack([xs.min(-1), ys.min(-1), xs.max(-1), ys.max(-1)], -1)


def densify(layer: str, bounding_boxes: Any, batched: bool) -> tuple:
    """`{"boxes", "labels"}` -> (boxes, labels). Per-image lists of different lengths become
    dense arrays padded with zero boxes of label -1, as in Keras; arrays and tensors pass."""
    if (not isinstance(bounding_boxes, dict) or "boxes" not in bounding_boxes
            or "labels" not in bounding_boxes):
        got = type(bounding_boxes).__name__
        if isinstance(bounding_boxes, dict):
            got += f" with keys {sorted(bounding_boxes)}"
        raise ValueError(f"{layer}: expected bounding_boxes to be a dict with keys 'boxes' and "
                         f"'labels', got {got}")
    boxes, labels = bounding_boxes["boxes"], bounding_boxes["labels"]
    if batched and isinstance(boxes, (list, tuple)) and len({len(b) for b in boxes}) > 1:
        m = max(len(b) for b in boxes)
        db = np.zeros((len(boxes), m, 4), np.float32)
        dl = np.full((len(boxes), m), -1, np.int32)
        for i, (b, lab) in enumerate(zip(boxes, labels)):
            if len(b):
                db[i, :len(b)] = np.asarray(b, np.float32).reshape(-1, 4)
                dl[i, :len(b)] = np.asarray(lab).reshape(-1)
        return db, dl
    return boxes, labels
