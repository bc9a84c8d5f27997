"""`to_categorical` (class ids to one-hot rows) and `normalize` (rows to unit norm).

>>> from ndflow.keras.utils.numerical_utils import to_categorical
>>> to_categorical([0, 2], num_classes=3).tolist()
[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor


def to_categorical(x: Any, num_classes: int | None = None, dtype: Any = None) -> Any:
    """One-hot encode integer class ids: shape `(..., num_classes)`, the class axis last.

    `num_classes` defaults to `max(x) + 1`; a trailing axis of size 1 is dropped first
    (`(n, 1)` labels give `(n, num_classes)`). NumPy/list input gives a NumPy array of dtype
    `dtype` (default `keras.config.floatx()`, float32, like tf.keras); a tensor gives a tensor.

    >>> to_categorical([[1], [0]]).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    if dtype is None:
        from ndflow.keras import config

        dtype = config.floatx()
    if isinstance(x, Tensor):
        from ndflow.ops.array import one_hot

        if num_classes is None:
            num_classes = int(np.max(x.numpy())) + 1
        xs = x
        if len(x.shape) > 1 and x.shape[-1] == 1:
            from ndflow.ops.array import squeeze

            xs = squeeze(x, -1)
        return one_hot(xs, int(num_classes), dtype=dtype)
    arr = np.asarray(x)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.array_equal(arr, np.floor(arr)):
            raise ValueError("to_categorical: expected integer class ids, got float values with "
                             "fractional parts (are these already one-hot or probabilities?)")
    elif arr.dtype.kind not in "iub":
        raise ValueError(f"to_categorical: expected integer class ids, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    shape = arr.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = shape[:-1]
    flat = arr.reshape(-1)
    if num_classes is None:
        if flat.size == 0:
            raise ValueError("to_categorical: cannot infer num_classes from empty input; pass "
                             "num_classes")
        num_classes = int(flat.max()) + 1
    num_classes = int(num_classes)
    if flat.size and (flat.min() < 0 or flat.max() >= num_classes):
        bad = flat.min() if flat.min() < 0 else flat.max()
        raise ValueError(f"to_categorical: expected class ids in [0, {num_classes}) for "
                         f"num_classes={num_classes}, got {bad}")
    out = np.zeros((flat.size, num_classes), dtype=np.dtype(dtype))
    out[np.arange(flat.size), flat] = 1
    return out.reshape(tuple(shape) + (num_classes,))


def normalize(x: Any, axis: int = -1, order: int = 2) -> Any:
    """`x` divided by its `order`-norm along `axis` (zero norms are left as zeros).

    >>> normalize(np.array([[3.0, 4.0]])).tolist()
    [[0.6, 0.8]]
    """
    if isinstance(x, Tensor):
        from ndflow.ops import math as m
        from ndflow.ops.linalg import norm

        n = norm(x, ord=order, axis=axis, keepdims=True)
        n = m.where(m.equal(n, 0.0), m.ones_like_(n), n)
        return m.divide(x, n)
    arr = np.asarray(x)
    n = np.atleast_1d(np.linalg.norm(arr, order, axis))
    n[n == 0] = 1
    return arr / np.expand_dims(n, axis if axis is not None else -1)
