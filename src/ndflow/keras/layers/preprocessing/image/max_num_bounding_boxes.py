"""`MaxNumBoundingBoxes`: pad or cut the bounding boxes of each image to a fixed number.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> data = {"images": np.zeros((1, 4, 4, 3)),
...         "bounding_boxes": {"boxes": np.ones((1, 2, 4)), "labels": np.ones((1, 2), "int32")}}
>>> out = layers.MaxNumBoundingBoxes(3, bounding_box_format="xyxy")(data)
>>> out["bounding_boxes"]["labels"].numpy().tolist()
[[1, 1, -1]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer,
)


class MaxNumBoundingBoxes(BaseAugmentationLayer):
    """Keep the first `max_number` boxes of each image and pad with `fill_value` (boxes and
    labels) up to that number (Keras 3 arguments); images pass unchanged. Applied in training
    and inference.

    Args:
        max_number: the number of boxes per image.
        fill_value: the value of padding boxes and labels (default -1).
        bounding_box_format.
    """

    _random = False
    _inference_identity = False

    def __init__(self, max_number: int, fill_value: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(max_number) < 1:
            raise ValueError(f"MaxNumBoundingBoxes: expected max_number >= 1, got "
                             f"max_number={max_number!r}")
        self.max_number = int(max_number)
        self.fill_value = int(fill_value)

    def augment_box_sets(self, boxes: np.ndarray, labels: np.ndarray, p: Any) -> tuple:
        k = self.max_number
        boxes, labels = boxes[:, :k], labels[:, :k]
        pad = k - boxes.shape[1]
        if pad > 0:
            boxes = np.pad(boxes, ((0, 0), (0, pad), (0, 0)), constant_values=self.fill_value)
            labels = np.pad(labels, ((0, 0), (0, pad)), constant_values=self.fill_value)
        return boxes, labels

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("seed", None)
        config.update({"max_number": self.max_number, "fill_value": self.fill_value})
        return config
