"""Inverse, determinant and linear solve of square matrices in the last two dimensions
(`tf.linalg.inv`, `det`, `slogdet`, `logdet`, `solve`; `keras.ops` builds on them).

Primitives with LAPACK through the array module, and gradient rules written with ndflow ops,
so that second derivatives work too.

>>> import ndflow as tf
>>> tf.linalg.inv([[2.0, 0.0], [0.0, 4.0]]).numpy().tolist()
[[0.5, 0.0], [0.0, 0.25]]
>>> tf.linalg.solve([[2.0, 0.0], [0.0, 4.0]], [[2.0], [2.0]]).numpy().tolist()
[[1.0], [0.5]]
"""

from __future__ import annotations

from typing import Any

from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor
from ndflow.ops import array as a_
from ndflow.ops import math as m
from ndflow.ops._util import shape_of, t
from ndflow.ops.decomp import _float_input, _matrix_spec, mT
from ndflow.ops.linalg import matmul


def _square_infer(name: str):
    def infer(a: Spec) -> Spec:
        _matrix_spec(name, a, kinds="fc")
        return Spec(a.shape if name == "inv" else a.shape[:-2], a.dtype)
    return infer


def matrix_transpose(x: Any, name: str | None = None) -> Tensor:
    """Swap the last two dimensions (`tf.linalg.matrix_transpose`)."""
    x = t(x)
    nd = len(shape_of(x))
    if nd < 2:
        raise fail("linalg.matrix_transpose", "a tensor of rank >= 2", f"rank {nd}")
    return mT(x)


def _inv_grad(node: Any, g: Tensor) -> tuple:
    y = node.outputs
    return (m.negative(matmul(matmul(y, g, transpose_a=True), y, transpose_b=True)),)


def _det_grad(node: Any, g: Tensor) -> tuple:
    a, d = node.inputs[0], node.outputs
    scale = a_.expand_dims(a_.expand_dims(m.multiply(g, d), -1), -1)
    return (m.multiply(scale, mT(execute(_INV, (a,)))),)


def _solve_infer(a: Spec, b: Spec) -> Spec:
    _square_infer("solve")(a)
    if b.ndim != a.ndim or (a.shape[-1] != b.shape[-2] and None not in (a.shape[-1],
                                                                        b.shape[-2])):
        raise fail("linalg.solve", f"a right-hand side of rank {a.ndim} with {a.shape[-1]} "
                   "rows", f"shape {list(b.shape)}", "Give the right-hand sides as columns.")
    if a.dtype != b.dtype:
        raise fail("linalg.solve", "matrix and rhs of one dtype", f"{a.dtype.name} and "
                   f"{b.dtype.name}")
    return Spec(tuple(b.shape), b.dtype)


def _solve_grad(node: Any, g: Tensor) -> tuple:
    a, _ = node.inputs
    x = node.outputs
    gb = execute(_SOLVE, (mT(a), g))
    needs = node.needs
    ga = m.negative(matmul(gb, x, transpose_b=True)) if needs[0] else None
    return (ga, gb if needs[1] else None)


def _slogdet_fwd(xp: Any, a: Any) -> tuple:
    sign, logdet = xp.linalg.slogdet(a)
    return xp.asarray(sign, dtype=a.dtype), xp.asarray(logdet, dtype=a.dtype)


def _slogdet_infer(a: Spec) -> tuple:
    s = _square_infer("slogdet")(a)
    return (s, Spec(s.shape, s.dtype))


def _slogdet_grad(node: Any, g_sign: Any, g_logdet: Any) -> tuple:
    if g_logdet is None:
        return (None,)
    scale = a_.expand_dims(a_.expand_dims(g_logdet, -1), -1)
    return (m.multiply(scale, mT(execute(_INV, (node.inputs[0],)))),)


_INV = register_op("matrix_inverse", lambda xp, a: xp.linalg.inv(a), _square_infer("inv"),
                   _inv_grad, blas="any")
_DET = register_op("matrix_determinant",
                   lambda xp, a: xp.asarray(xp.linalg.det(a), dtype=a.dtype),
                   _square_infer("det"), _det_grad, blas="any")
_SOLVE = register_op("matrix_solve", lambda xp, a, b: xp.linalg.solve(a, b), _solve_infer,
                     _solve_grad, blas="any")
_SLOGDET = register_op("log_matrix_determinant", _slogdet_fwd, _slogdet_infer, _slogdet_grad,
                       num_outputs=2, blas="any")


def inv(input: Any, adjoint: bool = False, name: str | None = None) -> Tensor:  # noqa: A002
    """Inverse of each square matrix in the last two dimensions (of its transpose with
    `adjoint`; real matrices)."""
    x = _float_input("inv", input, "fc")
    return execute(_INV, (mT(x) if adjoint else x,))


def det(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Determinant of each square matrix in the last two dimensions."""
    return execute(_DET, (_float_input("det", input, "fc"),))


def slogdet(input: Any, name: str | None = None) -> tuple:  # noqa: A002
    """(sign, log of the absolute determinant) of each square matrix: stable where `det`
    would overflow."""
    sign, logdet_ = execute(_SLOGDET, (_float_input("slogdet", input, "fc"),))
    return sign, logdet_


def logdet(matrix: Any, name: str | None = None) -> Tensor:
    """Log-determinant of Hermitian positive-definite matrices (NaN where the determinant
    is negative)."""
    sign, ld = slogdet(matrix)
    return m.where(m.greater(sign, 0.0), ld, m.add(m.zeros_like_(ld), float("nan")))


def solve(matrix: Any, rhs: Any, adjoint: bool = False, name: str | None = None) -> Tensor:
    """`x` with ``matrix @ x = rhs`` (``matrix.T @ x = rhs`` with `adjoint`), one right-hand
    side per column of `rhs`."""
    a, b = _float_input("solve", matrix, "fc"), _float_input("solve", rhs, "fc")
    if len(shape_of(b)) != len(shape_of(a)):
        raise fail("linalg.solve", f"a right-hand side of rank {len(shape_of(a))} (one column "
                   "per right-hand side)", f"shape {list(shape_of(b))}",
                   "For one vector v, pass v[:, None].")
    return execute(_SOLVE, (mT(a) if adjoint else a, b))


__all__ = ["det", "inv", "logdet", "matrix_transpose", "slogdet", "solve"]
