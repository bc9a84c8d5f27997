"""Image files and arrays: `load_img`, `img_to_array`, `array_to_img`, `save_img`, with
Keras's arguments and results. Reading and writing files uses Pillow
(``pip install "ndflow[image]"``).

>>> import numpy as np
>>> img = array_to_img(np.zeros((4, 6, 3)), scale=False)  # doctest: +SKIP
>>> img_to_array(img).shape                                # doctest: +SKIP
(4, 6, 3)
"""

from __future__ import annotations

import io
import os
import pathlib
import uuid
import warnings
from typing import Any

import numpy as np

_HINT = 'install it with: pip install "ndflow[image]" (or pip install pillow)'


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"Image files need the Pillow package (PIL); {_HINT}") from None
    return Image


def _interpolations() -> dict:
    Image = _pil()
    r = Image.Resampling
    return {"nearest": r.NEAREST, "bilinear": r.BILINEAR, "bicubic": r.BICUBIC,
            "hamming": r.HAMMING, "box": r.BOX, "lanczos": r.LANCZOS}


def _data_format(data_format: str | None) -> str:
    if data_format is None:
        from ndflow.keras.backend import image_data_format

        data_format = image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f'expected data_format "channels_last" or "channels_first", got '
                         f"{data_format!r}")
    return data_format


def _floatx(dtype: Any) -> Any:
    if dtype is None:
        from ndflow.keras.backend import floatx

        return floatx()
    return dtype


def array_to_img(x: Any, data_format: str | None = None, scale: bool = True,
                 dtype: Any = None) -> Any:
    """A PIL image from a rank-3 array (H, W, C) with C in 1 (grayscale), 3 (RGB) or 4
    (RGBA). With `scale`, values are mapped to [0, 255] by their min and max."""
    Image = _pil()
    data_format = _data_format(data_format)
    x = np.asarray(x, dtype=_floatx(dtype))
    if x.ndim != 3:
        raise ValueError(f"array_to_img: expected an image array of rank 3 (one image), got "
                         f"shape {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x /= top
        x *= 255
    c = x.shape[2]
    if c == 4:
        return Image.fromarray(x.astype("uint8"), "RGBA")
    if c == 3:
        return Image.fromarray(x.astype("uint8"), "RGB")
    if c == 1:
        if np.max(x) > 255:  # 32-bit integer grayscale
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"array_to_img: expected 1, 3 or 4 channels, got {c} (shape {x.shape})")


def img_to_array(img: Any, data_format: str | None = None, dtype: Any = None) -> np.ndarray:
    """A float array (H, W, C) (or (C, H, W) for channels_first) from a PIL image."""
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=_floatx(dtype))
    if x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    elif x.ndim == 2:
        x = x.reshape((1, *x.shape) if data_format == "channels_first" else (*x.shape, 1))
    else:
        raise ValueError(f"img_to_array: expected an image of rank 2 or 3, got shape {x.shape}")
    return x


def save_img(path: Any, x: Any, data_format: str | None = None, file_format: str | None = None,
             scale: bool = True, **kwargs: Any) -> None:
    """Write the array `x` as an image file (format from the extension or `file_format`).
    Paths are written atomically; RGBA saved as JPEG is converted to RGB with a warning."""
    data_format = _data_format(data_format)
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower() or None
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("save_img: the JPEG format does not support RGBA images, converting to "
                      "RGB.", stacklevel=2)
        img = img.convert("RGB")
    if not isinstance(path, (str, pathlib.Path)):
        img.save(path, format=file_format, **kwargs)
        return
    path = os.fspath(path)
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".save_img-{uuid.uuid4().hex}")
    try:
        img.save(tmp, format=file_format, **kwargs)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def load_img(path: Any, color_mode: str = "rgb", target_size: tuple | None = None,
             interpolation: str = "nearest", keep_aspect_ratio: bool = False) -> Any:
    """A PIL image read from `path` (or a `BytesIO`), converted to `color_mode`
    ("grayscale", "rgb", "rgba") and resized to `target_size` = (height, width) with
    Pillow's `interpolation`; `keep_aspect_ratio` crops the centre to the target's ratio."""
    Image = _pil()
    if isinstance(path, io.BytesIO):
        img = Image.open(path)
    elif isinstance(path, (pathlib.Path, bytes, str)):
        with open(os.fsdecode(path) if isinstance(path, bytes) else path, "rb") as f:
            img = Image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"load_img: expected a path or an io.BytesIO, got "
                        f"{type(path).__name__}")
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif color_mode == "rgba":
        if img.mode != "RGBA":
            img = img.convert("RGBA")
    elif color_mode == "rgb":
        if img.mode != "RGB":
            img = img.convert("RGB")
    else:
        raise ValueError(f'load_img: color_mode expected "grayscale", "rgb" or "rgba", got '
                         f"{color_mode!r}")
    if target_size is None:
        return img
    size = (int(target_size[1]), int(target_size[0]))
    if img.size == size:
        return img
    methods = _interpolations()
    if interpolation not in methods:
        raise ValueError(f"load_img: interpolation expected one of {', '.join(methods)}, got "
                         f"{interpolation!r}")
    resample = methods[interpolation]
    if not keep_aspect_ratio:
        return img.resize(size, resample)
    width, height = img.size
    tw, th = size
    crop_h = min(height, (width * th) // tw)
    crop_w = min(width, (height * tw) // th)
    h0, w0 = (height - crop_h) // 2, (width - crop_w) // 2
    return img.resize(size, resample, box=[w0, h0, w0 + crop_w, h0 + crop_h])
