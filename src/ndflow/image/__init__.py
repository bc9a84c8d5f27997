"""`tf.image`: resizing (nearest, bilinear, differentiable), flips, crops, pads, colour.

>>> import ndflow as tf
>>> tf.image.flip_left_right(tf.constant([[[1.0], [2.0]]])).numpy().ravel().tolist()
[2.0, 1.0]
"""

from ndflow.ops.image import (
    ResizeMethod, adjust_brightness, adjust_contrast, central_crop, crop_to_bounding_box,
    flip_left_right, flip_up_down, grayscale_to_rgb, pad_to_bounding_box, resize,
    resize_with_crop_or_pad, rgb_to_grayscale, rot90, transpose,
)

__all__ = [n for n in dir() if not n.startswith("_")]
