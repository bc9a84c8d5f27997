"""`keras.ops.linalg`: norms (vector and matrix), `inv`, `det`, `slogdet`, `logdet`
and `solve`.

`inv`, `det` and `solve` are primitives here (LAPACK through the array module) with their own
gradient rules, written with ndflow ops so that second derivatives work too.

>>> from ndflow.keras import ops
>>> float(ops.norm([3.0, 4.0]))
5.0
>>> ops.solve([[2.0, 0.0], [0.0, 4.0]], [[2.0], [2.0]]).numpy().tolist()
[[1.0], [0.5]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor
from ndflow.keras.ops._common import promote, rank, to_float
from ndflow.ops import array as a_
from ndflow.ops import linalg as la_
from ndflow.ops import math as m
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


# --- inverse, determinant, solve (primitives) ----------------------------------------------------


def _square_infer(name: str):
    def infer(a: Spec) -> Spec:
        if a.ndim < 2 or (a.shape[-1] != a.shape[-2] and None not in a.shape[-2:]):
            raise fail(f"keras.ops.{name}", "square matrices in the last two dimensions",
                       f"shape {list(a.shape)}")
        if a.dtype.kind not in "fc":
            raise fail(f"keras.ops.{name}", "a floating-point input", f"dtype {a.dtype.name}")
        return Spec(a.shape if name == "inv" else a.shape[:-2], a.dtype)
    return infer


def _mT(x: Tensor) -> Tensor:
    nd = len(shape_of(x))
    return a_.transpose(x, list(range(nd - 2)) + [nd - 1, nd - 2])


def _inv_grad(node: object, g: Tensor) -> tuple:
    y = node.outputs  # type: ignore[attr-defined]
    return (m.negative(la_.matmul(la_.matmul(y, g, transpose_a=True), y, transpose_b=True)),)


def _det_grad(node: object, g: Tensor) -> tuple:
    a = node.inputs[0]  # type: ignore[attr-defined]
    d = node.outputs  # type: ignore[attr-defined]
    scale = a_.expand_dims(a_.expand_dims(m.multiply(g, d), -1), -1)
    return (m.multiply(scale, _mT(execute(_INV, (a,)))),)


def _solve_infer(a: Spec, b: Spec) -> Spec:
    _square_infer("solve")(a)
    if b.ndim != a.ndim or (a.shape[-1] != b.shape[-2] and None not in (a.shape[-1],
                                                                        b.shape[-2])):
        raise fail("keras.ops.solve", f"b of rank {a.ndim} with {a.shape[-1]} rows",
                   f"shape {list(b.shape)}")
    if a.dtype != b.dtype:
        raise fail("keras.ops.solve", "a and b of one dtype", f"{a.dtype.name} and "
                   f"{b.dtype.name}")
    return Spec(tuple(b.shape), b.dtype)


def _solve_grad(node: object, g: Tensor) -> tuple:
    a, _ = node.inputs  # type: ignore[attr-defined]
    x = node.outputs  # type: ignore[attr-defined]
    gb = execute(_SOLVE, (_mT(a), g))
    needs = node.needs  # type: ignore[attr-defined]
    ga = m.negative(la_.matmul(gb, x, transpose_b=True)) if needs[0] else None
    return (ga, gb if needs[1] else None)


_INV = register_op("kops_inv", lambda xp, a: xp.linalg.inv(a), _square_infer("inv"), _inv_grad)
_DET = register_op("kops_det", lambda xp, a: xp.asarray(xp.linalg.det(a), dtype=a.dtype),
                   _square_infer("det"), _det_grad)
_SOLVE = register_op("kops_solve", lambda xp, a, b: xp.linalg.solve(a, b), _solve_infer,
                     _solve_grad)


def _slogdet_fwd(xp: Any, a: Any) -> tuple:
    sign, logdet = xp.linalg.slogdet(a)
    return xp.asarray(sign, dtype=a.dtype), xp.asarray(logdet, dtype=a.dtype)


def _slogdet_infer(a: Spec) -> tuple:
    s = _square_infer("slogdet")(a)
    return (s, Spec(s.shape, s.dtype))


def _slogdet_grad(node: object, g_sign: Any, g_logdet: Any) -> tuple:
    if g_logdet is None:
        return (None,)
    a = node.inputs[0]  # type: ignore[attr-defined]
    scale = a_.expand_dims(a_.expand_dims(g_logdet, -1), -1)
    return (m.multiply(scale, _mT(execute(_INV, (a,)))),)


_SLOGDET = register_op("kops_slogdet", _slogdet_fwd, _slogdet_infer, _slogdet_grad,
                       num_outputs=2)


def slogdet(x: Any) -> tuple:
    """Sign and log of the absolute value of the determinant (stable where `det` would
    overflow).

    >>> [float(v) for v in slogdet([[-2.0, 0.0], [0.0, 3.0]])]
    [-1.0, 1.791759...]
    """
    sign, logdet = execute(_SLOGDET, (to_float(x),))
    return sign, logdet


def logdet(x: Any) -> Tensor:
    """Log-determinant of Hermitian positive-definite matrices (NaN where the determinant
    is negative)."""
    sign, ld = slogdet(x)
    return m.where(m.greater(sign, 0.0), ld, m.add(m.zeros_like_(ld), float("nan")))


def inv(a: Any) -> Tensor:
    """Inverse of the square matrices in the last two dimensions.

    >>> inv([[2.0, 0.0], [0.0, 4.0]]).numpy().tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    return execute(_INV, (to_float(a),))


def det(a: Any) -> Tensor:
    """Determinant of the square matrices in the last two dimensions."""
    return execute(_DET, (to_float(a),))


def solve(a: Any, b: Any) -> Tensor:
    """`x` with `a @ x = b`; `b` holds one right-hand side per column (or is a vector for a
    single matrix `a`)."""
    a_t, b_t = promote(to_float(a), to_float(b))
    vec = len(shape_of(b_t)) == len(shape_of(a_t)) - 1
    if vec:
        b_t = a_.expand_dims(b_t, -1)
    out = execute(_SOLVE, (a_t, b_t))
    return a_.squeeze(out, -1) if vec else out


__all__ = ["det", "inv", "logdet", "norm", "slogdet", "solve"]
