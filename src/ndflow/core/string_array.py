"""String tensors' storage: NumPy object arrays whose elements are `bytes` (UTF-8).

TensorFlow's string tensors hold byte strings; `.numpy()` gives an object array of `bytes`.
ndflow keeps that layout so code that calls `.decode()` on elements works unchanged.

>>> to_bytes_array(["a", b"b"]).tolist()
[b'a', b'b']
"""

from __future__ import annotations

from typing import Any

import numpy as np

_OBJECT = np.dtype(object)


def _encode(v: Any, what: str) -> bytes:
    if type(v) is bytes:
        return v
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, (bytes, np.bytes_)):
        return bytes(v)
    raise TypeError(
        f"{what}: a string tensor needs every element to be str or bytes, got "
        f"{type(v).__name__} ({v!r:.40}); convert numbers with tf.strings.as_string")


def to_bytes_array(value: Any, what: str = "convert_to_tensor") -> np.ndarray:
    """An object array of `bytes` from str/bytes values (scalars, nested lists, arrays)."""
    if isinstance(value, (str, bytes)):
        out = np.empty((), _OBJECT)
        out[()] = _encode(value, what)
        return out
    arr = value if isinstance(value, np.ndarray) else np.asarray(value, dtype=object)
    if arr.dtype.kind == "S":
        # numpy's fixed-width bytes drop trailing NULs: read the raw items instead
        items = [bytes(v) for v in arr.reshape(-1).tolist()]
    else:
        items = [_encode(v, what) for v in arr.reshape(-1).tolist()]
    out = np.empty(arr.shape, _OBJECT)
    out.reshape(-1)[:] = items if items else []
    return out


def is_stringlike(arr: np.ndarray) -> bool:
    """True for NumPy arrays of str/bytes (fixed width or objects holding them)."""
    k = arr.dtype.kind
    if k in "US":
        return True
    if k != "O":
        return False
    flat = arr.reshape(-1)
    return flat.size > 0 and isinstance(flat[0], (str, bytes))
