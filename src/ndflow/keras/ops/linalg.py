"""`keras.ops.linalg`: norms (vector and matrix), `inv`, `det`, `slogdet`, `logdet`
and `solve`.

`inv`, `det`, `slogdet` and `solve` are `tf.linalg`'s (`ndflow.ops.matrix_solve`: LAPACK through
the array module, gradient rules written with ndflow ops, so second derivatives work too).

>>> from ndflow.keras import ops
>>> float(ops.norm([3.0, 4.0]))
5.0
>>> ops.solve([[2.0, 0.0], [0.0, 4.0]], [[2.0], [2.0]]).numpy().tolist()
[[1.0], [0.5]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import Tensor
from ndflow.keras.ops._common import promote, rank, to_float
from ndflow.ops import array as a_
from ndflow.ops import math as m
from ndflow.ops import matrix_solve as ms_
from ndflow.ops import reduce as r_
from ndflow.ops._util import shape_of


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
    """Vector norms (`ord` None/2, 1, inf, -inf, 0 or any p) over one axis, and matrix norms
    ('fro', 1, -1, inf, -inf) over two; `axis=None` takes the 2-norm of the flattened input
    (the Frobenius norm for matrices) unless `ord` asks for a matrix norm of a 2-D input."""
    x = to_float(x)
    nd = rank(x)
    if axis is None:
        if ord is None:
            return m.sqrt(r_.reduce_sum(m.square(x), None, keepdims=keepdims))
        ax = tuple(range(nd))
        if nd not in (1, 2):
            raise fail("keras.ops.norm", "a 1-D or 2-D input for ord without axis",
                       f"shape {list(shape_of(x))}")
    else:
        ax = axis
    axes = [ax] if isinstance(ax, (int, np.integer)) else list(ax)
    axes = [int(a) % nd for a in axes]
    if len(axes) == 1:
        a = axes[0]
        if ord is None or ord == 2:
            return m.sqrt(r_.reduce_sum(m.square(x), a, keepdims))
        if ord == np.inf:
            return r_.reduce_max(m.abs(x), a, keepdims)
        if ord == -np.inf:
            return r_.reduce_min(m.abs(x), a, keepdims)
        if ord == 0:
            return r_.reduce_sum(m.cast(m.not_equal(x, 0.0), x.dtype), a, keepdims)
        if ord == 1:
            return r_.reduce_sum(m.abs(x), a, keepdims)
        if isinstance(ord, str):
            raise fail("keras.ops.norm", "a numeric ord for a vector norm", repr(ord))
        p = float(ord)
        return m.pow(r_.reduce_sum(m.pow(m.abs(x), p), a, keepdims), 1.0 / p)
    if len(axes) != 2 or axes[0] == axes[1]:
        raise fail("keras.ops.norm", "one axis (vector norm) or two distinct axes (matrix "
                   "norm)", f"axis={axis!r}")
    row, col = axes
    if ord is None or ord == "fro":
        return m.sqrt(r_.reduce_sum(m.square(x), tuple(axes), keepdims))
    if ord in (1, -1, np.inf, -np.inf):
        inner, outer = (row, col) if ord in (1, -1) else (col, row)
        s = r_.reduce_sum(m.abs(x), inner, keepdims=True)
        red = r_.reduce_max if ord in (1, np.inf) else r_.reduce_min
        out = red(s, outer, keepdims=True)
        if not keepdims:
            from ndflow.ops.array import squeeze

            out = squeeze(out, tuple(sorted(axes)))
        return out
    raise fail("keras.ops.norm", "a matrix ord in {None, 'fro', 1, -1, inf, -inf}", repr(ord),
               "Spectral and nuclear norms need a singular value decomposition, which ndflow "
               "does not have yet.")


# --- inverse, determinant, solve (ndflow.ops.matrix_solve's primitives) -----------------------


def slogdet(x: Any) -> tuple:
    """Sign and log of the absolute value of the determinant (stable where `det` would
    overflow).

    >>> [float(v) for v in slogdet([[-2.0, 0.0], [0.0, 3.0]])]
    [-1.0, 1.791759...]
    """
    return ms_.slogdet(to_float(x))


def logdet(x: Any) -> Tensor:
    """Log-determinant of Hermitian positive-definite matrices (NaN where the determinant
    is negative)."""
    return ms_.logdet(to_float(x))


def inv(a: Any) -> Tensor:
    """Inverse of the square matrices in the last two dimensions.

    >>> inv([[2.0, 0.0], [0.0, 4.0]]).numpy().tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    return ms_.inv(to_float(a))


def det(a: Any) -> Tensor:
    """Determinant of the square matrices in the last two dimensions."""
    return ms_.det(to_float(a))


def solve(a: Any, b: Any) -> Tensor:
    """`x` with `a @ x = b`; `b` holds one right-hand side per column (or is a vector for a
    single matrix `a`)."""
    a_t, b_t = promote(to_float(a), to_float(b))
    vec = len(shape_of(b_t)) == len(shape_of(a_t)) - 1
    if vec:
        b_t = a_.expand_dims(b_t, -1)
    out = ms_.solve(a_t, b_t)
    return a_.squeeze(out, -1) if vec else out


__all__ = ["det", "inv", "logdet", "norm", "slogdet", "solve"]
