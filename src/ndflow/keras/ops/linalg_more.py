"""More of `keras.ops.linalg`: decompositions (`cholesky`, `qr`, `eig`, `eigh`, `svd`,
`lu_factor`), `solve_triangular`, `lstsq`, `pinv`, `matrix_rank`, `cholesky_inverse` and
forward-mode `jvp`.

The decompositions are ndflow's primitives (`tf.linalg`), whose gradient rules cover
`cholesky`, `qr`, `eigh`, `svd` and `solve_triangular`; `eig` and `lu_factor` have none.

>>> from ndflow.keras import ops
>>> ops.cholesky([[4.0, 2.0], [2.0, 5.0]]).numpy().tolist()
[[2.0, 0.0], [1.0, 2.0]]
>>> primal, tangent = ops.jvp(lambda x: x * x, (ops.convert_to_tensor(3.0),),
...                           (ops.convert_to_tensor(1.0),))
>>> float(primal), float(tangent)
(9.0, 6.0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import Tensor
from ndflow.keras.ops._common import as_tensor, promote, rank, to_float
from ndflow.ops import array as a_
from ndflow.ops import decomp as d_
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of
from ndflow.ops.linalg import matmul


def _name(op: str) -> str:
    return f"keras.ops.{op}"


def _matrix(op: str, x: Any) -> Tensor:
    x = to_float(x)
    if rank(x) < 2:
        raise fail(_name(op), "a matrix or a batch of matrices (rank >= 2)",
                   f"shape {list(shape_of(x))}")
    return x


def cholesky(x: Any, upper: bool = False) -> Tensor:
    """Cholesky factor of symmetric positive-definite matrices: lower `L` with
    `x = L @ L^T`, or upper `U = L^T` with `x = U^T @ U`."""
    low = d_.cholesky(_matrix("cholesky", x))
    return d_.mT(low) if upper else low


def cholesky_inverse(x: Any, upper: bool = False) -> Tensor:
    """Inverse of `A` given its Cholesky factor `x` (`A = x @ x^T`, or `x^T @ x` when
    `upper`)."""
    f = _matrix("cholesky_inverse", x)
    low = d_.mT(f) if upper else f
    n = shape_of(low)[-1]
    eye = a_.expand_dims(as_tensor(np.eye(n), npdt(low)), 0) if rank(low) > 2 else \
        as_tensor(np.eye(n), npdt(low))
    eye = m.add(m.zeros_like_(low), eye)
    linv = d_.triangular_solve(low, eye, lower=True)
    return matmul(linv, linv, transpose_a=True)


def qr(x: Any, mode: str = "reduced") -> tuple:
    """`(q, r)` with `x = q @ r`; mode 'reduced' (q: m x k) or 'complete' (q: m x m)."""
    if mode not in ("reduced", "complete"):
        raise fail(_name("qr"), "mode 'reduced' or 'complete'", repr(mode))
    return d_.qr(_matrix("qr", x), full_matrices=mode == "complete")


def eig(x: Any) -> tuple:
    """Complex eigenvalues and eigenvectors (columns) of square matrices."""
    return d_.eig(_matrix("eig", x))


def eigh(x: Any) -> tuple:
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices."""
    return d_.eigh(_matrix("eigh", x))


def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """`(u, s, vh)` with `x = u @ diag(s) @ vh` (NumPy's order), or `s` alone."""
    u, s, vh = d_.svd_uv(_matrix("svd", x), full_matrices)
    return (u, s, vh) if compute_uv else s


def lu_factor(x: Any) -> tuple:
    """`(lu, pivots)` as SciPy's `lu_factor` (0-based int32 row swaps)."""
    return d_.lu_factor(_matrix("lu_factor", x))


def solve_triangular(a: Any, b: Any, lower: bool = False) -> Tensor:
    """`x` with `a @ x = b` for triangular `a` (only its lower or upper triangle is read);
    `b` may be a vector."""
    a_t, b_t = promote(_matrix("solve_triangular", a), to_float(b))
    vec = rank(b_t) == rank(a_t) - 1
    if vec:
        b_t = a_.expand_dims(b_t, -1)
    out = d_.triangular_solve(a_t, b_t, lower=bool(lower))
    return a_.squeeze(out, -1) if vec else out


def pinv(x: Any, rcond: float | None = None) -> Tensor:
    """Moore-Penrose pseudo-inverse; singular values below `rcond * max(s)` count as zero
    (default `1e-15`, NumPy's)."""
    return d_.pinv(_matrix("pinv", x), 1e-15 if rcond is None else float(rcond))


def lstsq(a: Any, b: Any, rcond: float | None = None) -> Tensor:
    """Least-squares (minimum-norm) solution of `a @ x = b`; singular values below
    `rcond * max(s)` count as zero (default `eps * max(m, n)`, NumPy's)."""
    a_t, b_t = promote(_matrix("lstsq", a), to_float(b))
    if rank(a_t) != 2:
        raise fail(_name("lstsq"), "a 2-D matrix a", f"shape {list(shape_of(a_t))}")
    mm, nn = shape_of(a_t)
    if rcond is None:
        rcond = float(np.finfo(npdt(a_t)).eps) * max(mm or 1, nn or 1)
    vec = rank(b_t) == 1
    if vec:
        b_t = a_.expand_dims(b_t, -1)
    out = matmul(d_.pinv(a_t, float(rcond)), b_t)
    return a_.squeeze(out, -1) if vec else out


def matrix_rank(x: Any, tol: Any = None) -> Tensor:
    """Number of singular values above `tol` (default `max(s) * max(m, n) * eps`)."""
    return d_.matrix_rank(_matrix("matrix_rank", x), tol)


def jvp(fun: Callable, primals: Any, tangents: Any, has_aux: bool = False) -> tuple:
    """Forward-mode derivative: `(fun(*primals), J @ tangents)` (and `aux` when `has_aux`,
    where `fun` returns `(output, aux)`).

    Computed with two reverse passes (the gradient of a vector-Jacobian product is linear in
    its cotangent, and differentiating it again gives the Jacobian-vector product), so it
    works wherever second derivatives do.
    """
    from ndflow.core.tape import GradientTape
    from ndflow.util import nest

    prim = [to_float(p) for p in nest.flatten(primals)]
    tang = [as_tensor(t_, npdt(p)) for t_, p in zip(nest.flatten(tangents), prim)]
    if len(tang) != len(prim):
        raise fail(_name("jvp"), f"{len(prim)} tangents (one per primal)", f"{len(tang)}")
    with GradientTape(persistent=True) as outer:
        with GradientTape(persistent=True) as inner:
            for p in prim:
                inner.watch(p)
            res = fun(*nest.pack_sequence_as(primals, prim))
            out, aux = res if has_aux else (res, None)
        outs = nest.flatten(out)
        dummies = [m.zeros_like_(o) for o in outs]
        for u in dummies:
            outer.watch(u)
        vjps = inner.gradient(outs, prim, output_gradients=dummies)
        vjps = [m.zeros_like_(p) if g is None else g for g, p in zip(vjps, prim)]
        total = None
        for g, t_ in zip(vjps, tang):
            s = m.multiply(g, t_)
            from ndflow.ops.reduce import reduce_sum

            s = reduce_sum(s)
            total = s if total is None else m.add(total, s)
    jv = outer.gradient(total, dummies)
    jv = [m.zeros_like_(o) if g is None else g for g, o in zip(jv, outs)]
    tangent_out = nest.pack_sequence_as(out, jv)
    return (out, tangent_out, aux) if has_aux else (out, tangent_out)


__all__ = ["cholesky", "cholesky_inverse", "eig", "eigh", "jvp", "lstsq", "lu_factor",
           "matrix_rank", "pinv", "qr", "solve_triangular", "svd"]
