"""`keras.preprocessing.image`: image file and array helpers (also in `keras.utils`)."""

from __future__ import annotations

from ndflow.keras.layers.preprocessing.image.resizing import smart_resize
from ndflow.keras.utils import array_to_img, img_to_array, load_img, save_img

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]
