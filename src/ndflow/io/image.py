"""`tf.io.decode_png` / `decode_jpeg` / `decode_image` and `encode_png` / `encode_jpeg`, with
Pillow (install `ndflow[image]`). Images are HxWxC uint8 (or uint16 for 16-bit PNG) tensors.

>>> import ndflow as tf, numpy as np
>>> img = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
>>> tf.io.decode_png(tf.io.encode_png(img)).numpy().tolist() == img.tolist()
True
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.errors import InvalidArgumentError
from ndflow.io.files import _bytes


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError('image decoding needs Pillow: pip install "ndflow[image]"') from None
    return Image


_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def _decode(contents: Any, channels: int | None, op: str, want: tuple[str, ...] | None,
            dtype: Any = np.uint8) -> np.ndarray:
    data = _bytes(contents, op)
    Image = _pil()
    try:
        img = Image.open(io.BytesIO(data))
        fmt = img.format
        img.load()
    except Exception as e:
        raise InvalidArgumentError(f"{op}: could not decode the image ({len(data)} bytes): "
                                   f"{e}") from e
    if want is not None and fmt not in want:
        raise InvalidArgumentError(f"{op}: expected {'/'.join(want)} data, got {fmt}")
    channels = int(channels or 0)
    if channels not in (0, 1, 2, 3, 4):
        raise InvalidArgumentError(f"{op}: expected channels in 0..4, got {channels}")
    sixteen = img.mode in ("I;16", "I;16B", "I") and fmt == "PNG"
    if sixteen and np.dtype(dtype) == np.uint16:
        a = np.asarray(img, dtype=np.uint16)
        if a.ndim == 2:
            a = a[..., None]
        if channels in (3, 4):
            a = np.repeat(a, 3, axis=-1)
            if channels == 4:
                a = np.concatenate([a, np.full(a.shape[:2] + (1,), 65535, np.uint16)], -1)
        return a
    if channels == 0:
        mode = {"1": "L", "L": "L", "LA": "LA", "P": "RGBA" if "transparency" in img.info
                else "RGB", "RGB": "RGB", "RGBA": "RGBA", "CMYK": "RGB", "YCbCr": "RGB",
                "I;16": "L", "I": "L", "PA": "RGBA"}.get(img.mode, "RGB")
    else:
        mode = _MODES[channels]
    if sixteen:  # 16-bit data asked for as uint8: keep the high byte, as TF does
        a16 = np.asarray(img, dtype=np.uint32)
        img = Image.fromarray((a16 >> 8).astype(np.uint8), "L")
    a = np.asarray(img.convert(mode), dtype=np.uint8)
    if a.ndim == 2:
        a = a[..., None]
    if np.dtype(dtype) == np.uint16:
        a = a.astype(np.uint16) * 257
    return a


def _float_out(a: np.ndarray, dtype: Any) -> np.ndarray:
    from ndflow.core.dtypes import as_dtype

    np_dtype = np.dtype(as_dtype(dtype).as_numpy_dtype)
    if np_dtype.kind == "f":  # like tf.image.convert_image_dtype: scale to [0, 1]
        return (a.astype(np.float64) / np.iinfo(a.dtype).max).astype(np_dtype)
    return a.astype(np_dtype)


def decode_png(contents: Any, channels: int = 0, dtype: Any = "uint8",
               name: str | None = None) -> Tensor:
    """PNG bytes to a HxWxC uint8 (or uint16) tensor; `channels` 0 keeps the file's."""
    from ndflow.core.dtypes import as_dtype

    dt = np.dtype(as_dtype(dtype).as_numpy_dtype)
    if dt not in (np.uint8, np.uint16):
        raise InvalidArgumentError(f"decode_png: expected dtype uint8 or uint16, got {dt}")
    return Tensor(_decode(contents, channels, "decode_png", ("PNG",), dt))


def decode_jpeg(contents: Any, channels: int = 0, ratio: int = 1, fancy_upscaling: bool = True,
                try_recover_truncated: bool = False, acceptable_fraction: float = 1,
                dct_method: str = "", name: str | None = None) -> Tensor:
    """JPEG bytes to a HxWxC uint8 tensor (Pillow's libjpeg: values may differ from
    TensorFlow's decoder by a few levels)."""
    a = _decode(contents, channels, "decode_jpeg", ("JPEG",))
    if int(ratio) != 1:
        r = int(ratio)
        if r not in (2, 4, 8):
            raise InvalidArgumentError(f"decode_jpeg: expected ratio 1, 2, 4 or 8, got {ratio}")
        Image = _pil()
        h, w = -(-a.shape[0] // r), -(-a.shape[1] // r)
        img = Image.fromarray(a[..., 0] if a.shape[-1] == 1 else a).resize((w, h),
                                                                          Image.BILINEAR)
        a = np.asarray(img).reshape(h, w, -1)
    return Tensor(a)


def decode_image(contents: Any, channels: int | None = None, dtype: Any = "uint8",
                 name: str | None = None, expand_animations: bool = True) -> Tensor:
    """PNG, JPEG, GIF or BMP bytes to a HxWxC tensor (float dtypes scaled to [0, 1]); an
    animated GIF gives NxHxWxC frames when `expand_animations`."""
    data = _bytes(contents, "decode_image")
    Image = _pil()
    try:
        img = Image.open(io.BytesIO(data))
        fmt = img.format
    except Exception as e:
        raise InvalidArgumentError(f"decode_image: could not decode the image "
                                   f"({len(data)} bytes): {e}") from e
    if fmt == "GIF":
        frames = []
        for i in range(getattr(img, "n_frames", 1)):
            img.seek(i)
            frames.append(np.asarray(img.convert(_MODES.get(int(channels or 3), "RGB")),
                                     np.uint8).reshape(img.size[1], img.size[0], -1))
        a = np.stack(frames) if expand_animations else frames[0]
    else:
        a = _decode(data, channels, "decode_image", None)
    return Tensor(_float_out(a, dtype))


def _encode(image: Any, fmt: str, op: str, **kw: Any) -> bytes:
    a = image.numpy() if isinstance(image, Tensor) else np.asarray(image)
    if a.ndim != 3 or a.shape[-1] not in (1, 2, 3, 4):
        raise InvalidArgumentError(f"{op}: expected an image of shape [height, width, channels "
                                   f"1-4], got {list(a.shape)}")
    if a.dtype not in (np.uint8, np.uint16) or (a.dtype == np.uint16 and fmt != "PNG"):
        raise InvalidArgumentError(f"{op}: expected uint8{' or uint16' if fmt == 'PNG' else ''}"
                                   f" pixels, got {a.dtype}")
    Image = _pil()
    if a.dtype == np.uint16:
        if a.shape[-1] != 1:
            raise InvalidArgumentError(f"{op}: 16-bit PNG encoding supports 1 channel, got "
                                       f"{a.shape[-1]}")
        img = Image.fromarray(a[..., 0].astype(np.uint16), "I;16")
    else:
        img = Image.fromarray(a[..., 0] if a.shape[-1] == 1 else a,
                              _MODES[a.shape[-1]])
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def encode_png(image: Any, compression: int = -1, name: str | None = None) -> bytes:
    """A HxWxC uint8/uint16 image as PNG bytes."""
    level = 6 if int(compression) < 0 else int(compression)
    return _encode(image, "PNG", "encode_png", compress_level=level)


def encode_jpeg(image: Any, format: str = "", quality: int = 95, **_: Any) -> bytes:
    """A HxWxC uint8 image (1 or 3 channels) as JPEG bytes."""
    return _encode(image, "JPEG", "encode_jpeg", quality=int(quality))
