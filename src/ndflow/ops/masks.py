"""Masks built from positions: `tf.sequence_mask` (the first `lengths[i]` steps of each row)
and `tf.linalg.band_part` (a band of each matrix kept, the rest zero: causal masks).

>>> import ndflow as tf
>>> tf.sequence_mask([1, 3], 4).numpy().astype(int).tolist()
[[1, 0, 0, 0], [1, 1, 1, 0]]
>>> tf.linalg.band_part(tf.ones([3, 3]), -1, 0).numpy().tolist()  # lower triangle
[[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core import dtypes as _dt
from ndflow.core.dispatch import fail
from ndflow.core.tensor import Tensor, constant
from ndflow.ops import array as a_
from ndflow.ops import math as m
from ndflow.ops._util import has_no_value, npdt, shape_of, t


def _concrete_int(op: str, value: Any, what: str) -> int:
    """A Python int from an int, a NumPy scalar or an eager scalar tensor."""
    if isinstance(value, Tensor):
        if has_no_value(value):
            raise fail(op, f"a known {what} (it sets the result's shape)", "a traced tensor",
                       f"Pass {what} as a Python int.")
        value = value._value
    arr = np.asarray(value)
    if arr.ndim != 0 or arr.dtype.kind not in "iu":
        raise fail(op, f"an integer scalar {what}", f"{arr.dtype.name} of shape {arr.shape}")
    return int(arr)


def sequence_mask(lengths: Any, maxlen: Any = None, dtype: Any = "bool",
                  name: str | None = None) -> Tensor:
    """``mask[..., j] = j < lengths[...]`` with `maxlen` columns (default: the largest
    length; pass it when tracing)."""
    lens = t(lengths)
    if npdt(lens).kind not in "iu":
        raise fail("sequence_mask", "integer lengths", npdt(lens).name, "Cast with tf.cast.")
    if maxlen is None:
        if has_no_value(lens):
            raise fail("sequence_mask", "maxlen when the lengths are traced",
                       "maxlen=None", "Pass maxlen, the number of steps.")
        maxlen = int(lens._value.max()) if lens._value.size else 0
    n = _concrete_int("sequence_mask", maxlen, "maxlen")
    if n < 0:
        raise fail("sequence_mask", "maxlen >= 0", str(n))
    steps = constant(np.arange(n, dtype=npdt(lens)))
    mask = m.less(steps, a_.expand_dims(lens, -1))
    out_dtype = _dt.as_dtype(dtype)
    return mask if out_dtype._np == np.bool_ else m.cast(mask, out_dtype)


def band_part(input: Any, num_lower: Any, num_upper: Any,  # noqa: A002
              name: str | None = None) -> Tensor:
    """Each matrix (last two dimensions) with entries more than `num_lower` below or
    `num_upper` above the diagonal set to zero; a negative count keeps that whole triangle."""
    x = t(input)
    shape = shape_of(x)
    if len(shape) < 2 or None in shape[-2:]:
        raise fail("linalg.band_part", "a tensor of rank >= 2 with known matrix dimensions",
                   f"shape {list(shape)}")
    lo = _concrete_int("linalg.band_part", num_lower, "num_lower")
    hi = _concrete_int("linalg.band_part", num_upper, "num_upper")
    rows, cols = np.arange(shape[-2])[:, None], np.arange(shape[-1])[None, :]
    keep = ((lo < 0) | (rows - cols <= lo)) & ((hi < 0) | (cols - rows <= hi))
    return m.where(constant(keep), x, m.zeros_like_(x))


__all__ = ["band_part", "sequence_mask"]
