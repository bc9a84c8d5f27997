"""The hooks every host-side augmentation offers, with their defaults (change nothing) and the
flags that say how the layer treats labels, boxes and masks. `BaseAugmentationLayer` layers and
the `host_ops` adapters that the composite layers chain both take them from here.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class AugmentationHooks:
    """Default hooks (NumPy) and flags of an augmentation."""

    _random = True            # draws random parameters on each call
    _inference_identity = True  # training=False returns the images unchanged
    _geometric = False        # moves pixels: boxes and masks follow the images
    _supports_boxes = True    # False: bounding boxes are refused (as Keras does)
    _mixes_labels = False     # labels and masks become mixtures (float)

    def draw(self, rng: np.random.Generator | None, n: int, h: int, w: int, c: int) -> Any:
        return None

    def augment_images(self, x: np.ndarray, p: Any) -> np.ndarray:
        return x

    def augment_labels(self, y: np.ndarray, p: Any) -> np.ndarray:
        return y

    def augment_boxes(self, boxes: np.ndarray, labels: np.ndarray, p: Any, h: int,
                      w: int) -> tuple:
        """Absolute xyxy boxes (N, B, 4) -> transformed boxes (clipped afterwards)."""
        return boxes, labels

    def augment_box_sets(self, boxes: np.ndarray, labels: np.ndarray, p: Any) -> tuple:
        """Format-free changes to the set of boxes (MixUp, MaxNumBoundingBoxes)."""
        return boxes, labels

    def augment_masks(self, masks: np.ndarray, p: Any) -> np.ndarray:
        return masks
