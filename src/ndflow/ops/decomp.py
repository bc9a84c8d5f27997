"""Matrix decompositions: Cholesky, QR, symmetric eigendecomposition, SVD, general
eigendecomposition, LU, and triangular solves (`tf.linalg.cholesky`, `qr`, `eigh`, `svd`,
`eig`, `lu`, `triangular_solve` ...).

Each is one primitive (LAPACK through the array module) over the last two axes, batched over
the leading ones, with a gradient rule written with ndflow ops (so second derivatives and
traced backward graphs work). `eig` and `lu` have no gradient (complex results, pivoting).

>>> import ndflow as tf
>>> tf.linalg.cholesky([[4.0, 2.0], [2.0, 5.0]]).numpy().tolist()
[[2.0, 0.0], [1.0, 2.0]]
>>> s = tf.linalg.svd([[3.0, 0.0], [0.0, 4.0]], compute_uv=False)
>>> s.numpy().tolist()
[4.0, 3.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor, constant
from ndflow.ops import array as a_
from ndflow.ops import math as m
from ndflow.ops._util import shape_of, t
from ndflow.ops.linalg import matmul


def _float_input(op: str, x: Any, kinds: str = "f") -> Tensor:
    """`x` as a tensor, checked to be floating-point (`kinds` "fc": complex allowed too)."""
    x = t(x)
    if x.dtype.as_numpy_dtype is None or np.dtype(x.dtype.as_numpy_dtype).kind not in kinds:
        raise fail(f"linalg.{op}", "a floating-point matrix", f"dtype {x.dtype.name}",
                   "Cast integers to float32 or float64 first.")
    return x


def _matrix_spec(op: str, a: Spec, square: bool = True, kinds: str = "f") -> None:
    if a.ndim < 2:
        raise fail(f"linalg.{op}", "a matrix (rank >= 2)", f"shape {list(a.shape)}")
    if square and None not in a.shape[-2:] and a.shape[-1] != a.shape[-2]:
        raise fail(f"linalg.{op}", "square matrices in the last two dimensions",
                   f"shape {list(a.shape)}")
    if a.dtype.kind not in kinds:
        raise fail(f"linalg.{op}", "a floating-point matrix", f"dtype {a.dtype.name}")


def mT(x: Tensor) -> Tensor:
    """Swap the last two axes."""
    nd = len(shape_of(x))
    return a_.transpose(x, list(range(nd - 2)) + [nd - 1, nd - 2])


def _tri_mask(n: int, lower: bool, k: int = 0, dtype: Any = np.float64) -> Tensor:
    ones = np.ones((n, n))
    return constant((np.tril(ones, k) if lower else np.triu(ones, -k)).astype(dtype))


def _eye(n: int, dtype: Any) -> Tensor:
    return constant(np.eye(n, dtype=dtype))


def _dt(x: Tensor) -> np.dtype:
    return np.dtype(x.dtype.as_numpy_dtype)


def _n(op: str, x: Tensor) -> int:
    n = shape_of(x)[-1]
    if n is None:
        raise fail(f"linalg.{op}", "a known matrix size for the gradient",
                   f"shape {list(shape_of(x))}")
    return int(n)


# --- triangular solve ----------------------------------------------------------------------------


def _trisolve_fwd(xp: Any, a: Any, b: Any, lower: bool) -> Any:
    tri = xp.tril(a) if lower else xp.triu(a)
    return xp.linalg.solve(tri, b).astype(b.dtype, copy=False)


def _trisolve_infer(a: Spec, b: Spec, lower: bool) -> Spec:
    _matrix_spec("triangular_solve", a)
    if b.ndim != a.ndim or (None not in (a.shape[-1], b.shape[-2])
                            and a.shape[-1] != b.shape[-2]):
        raise fail("linalg.triangular_solve", f"rhs of rank {a.ndim} with {a.shape[-1]} rows",
                   f"shape {list(b.shape)}")
    if a.dtype != b.dtype:
        raise fail("linalg.triangular_solve", "matrix and rhs of one dtype",
                   f"{a.dtype.name} and {b.dtype.name}")
    return Spec(tuple(b.shape), b.dtype)


def _trisolve_grad(node: Any, g: Tensor) -> tuple:
    a, _ = node.inputs
    x = node.outputs
    lower = node.attrs["lower"]
    gb = execute(_TRISOLVE, (mT(a), g), {"lower": not lower})
    ga = None
    if node.needs[0]:
        full = m.negative(matmul(gb, x, transpose_b=True))
        ga = m.multiply(full, _tri_mask(_n("triangular_solve", a), lower, dtype=_dt(a)))
    return (ga, gb if node.needs[1] else None)


# blas="any": LAPACK through NumPy runs its products on all of BLAS's threads
_TRISOLVE = register_op("triangular_solve", _trisolve_fwd, _trisolve_infer, _trisolve_grad,
                        blas="any")


def triangular_solve(matrix: Any, rhs: Any, lower: bool = True, adjoint: bool = False,
                     name: str | None = None) -> Tensor:
    """`x` with `matrix @ x = rhs` for triangular `matrix` (only its `lower` or upper
    triangle is read); `adjoint=True` solves with the transpose instead.

    >>> triangular_solve([[2.0, 0.0], [1.0, 1.0]], [[2.0], [3.0]]).numpy().tolist()
    [[1.0], [2.0]]
    """
    a = _float_input("triangular_solve", matrix)
    b = t(rhs)
    if b.dtype != a.dtype:
        b = m.cast(b, a.dtype)
    if adjoint:
        a, lower = mT(a), not lower
    return execute(_TRISOLVE, (a, b), {"lower": bool(lower)})


# --- Cholesky ------------------------------------------------------------------------------------


def _chol_fwd(xp: Any, a: Any) -> Any:
    return xp.linalg.cholesky(a).astype(a.dtype, copy=False)


def _chol_infer(a: Spec) -> Spec:
    _matrix_spec("cholesky", a)
    return Spec(tuple(a.shape), a.dtype)


def _phi(x: Tensor, n: int, dt: Any) -> Tensor:
    """Lower triangle with the diagonal halved."""
    mask = np.tril(np.ones((n, n))) - 0.5 * np.eye(n)
    return m.multiply(x, constant(mask.astype(dt)))


def _chol_grad(node: Any, g: Tensor) -> tuple:
    low = node.outputs
    n, dt = _n("cholesky", low), _dt(low)
    p = _phi(matmul(low, g, transpose_a=True), n, dt)
    # S = L^-T P L^-1, by two triangular solves
    y = execute(_TRISOLVE, (mT(low), p), {"lower": False})  # L^T Y = P
    s = mT(execute(_TRISOLVE, (mT(low), mT(y)), {"lower": False}))  # S L = Y
    return (m.multiply(m.add(s, mT(s)), 0.5),)


_CHOL = register_op("cholesky", _chol_fwd, _chol_infer, _chol_grad, blas="any")


def cholesky(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Lower-triangular `L` with `L @ L^T = input` for symmetric positive-definite matrices
    (only the lower triangle is read)."""
    return execute(_CHOL, (_float_input("cholesky", input),))


def cholesky_solve(chol: Any, rhs: Any, name: str | None = None) -> Tensor:
    """`x` with `(chol @ chol^T) x = rhs`, given the Cholesky factor `chol`."""
    low = _float_input("cholesky_solve", chol)
    y = triangular_solve(low, rhs, lower=True)
    return triangular_solve(low, y, lower=True, adjoint=True)


# --- QR ------------------------------------------------------------------------------------------


def _qr_fwd(xp: Any, a: Any, full_matrices: bool) -> tuple:
    q, r = xp.linalg.qr(a, mode="complete" if full_matrices else "reduced")
    return q.astype(a.dtype, copy=False), r.astype(a.dtype, copy=False)


def _qr_infer(a: Spec, full_matrices: bool) -> tuple:
    _matrix_spec("qr", a, square=False)
    mm, nn = a.shape[-2], a.shape[-1]
    k = mm if full_matrices else (None if None in (mm, nn) else min(mm, nn))
    lead = tuple(a.shape[:-2])
    return (Spec(lead + (mm, k), a.dtype), Spec(lead + (k, nn), a.dtype))


def _qr_grad(node: Any, gq: Any, gr: Any) -> tuple:
    a = node.inputs[0]
    q, r = node.outputs
    mm, nn = shape_of(a)[-2:]
    if mm is None or nn is None or mm < nn or (node.attrs["full_matrices"] and mm != nn):
        raise fail("linalg.qr", "a square or tall matrix with reduced Q for the gradient",
                   f"shape {list(shape_of(a))}, full_matrices={node.attrs['full_matrices']}",
                   "The QR factors of a wide matrix are not differentiable functions of it.")
    dt = _dt(a)
    gq = m.zeros_like_(q) if gq is None else gq
    gr = m.zeros_like_(r) if gr is None else gr
    mmat = m.subtract(matmul(r, gr, transpose_b=True), matmul(gq, q, transpose_a=True))
    low = m.multiply(mmat, _tri_mask(nn, True, dtype=dt))
    strict = m.multiply(mmat, _tri_mask(nn, True, -1, dtype=dt))
    copyltu = m.add(low, mT(strict))
    b = m.add(gq, matmul(q, copyltu))
    # dA = B R^-T  <=>  R dA^T = B^T
    return (mT(execute(_TRISOLVE, (r, mT(b)), {"lower": False})),)


_QR = register_op("qr", _qr_fwd, _qr_infer, _qr_grad, num_outputs=2, blas="any")


def qr(input: Any, full_matrices: bool = False, name: str | None = None) -> tuple:  # noqa: A002
    """`(q, r)` with `q @ r = input`, `q` orthonormal columns and `r` upper triangular."""
    return execute(_QR, (_float_input("qr", input),), {"full_matrices": bool(full_matrices)})


# --- symmetric eigendecomposition ---------------------------------------------------------------


def _eigh_fwd(xp: Any, a: Any) -> tuple:
    w, v = xp.linalg.eigh(a)
    return w.astype(a.dtype, copy=False), v.astype(a.dtype, copy=False)


def _eigh_infer(a: Spec) -> tuple:
    _matrix_spec("eigh", a)
    return (Spec(tuple(a.shape[:-1]), a.dtype), Spec(tuple(a.shape), a.dtype))


def _inv_gaps(w: Tensor, dt: Any) -> Tensor:
    """F[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it."""
    n = _n("eigh", w)
    diff = m.subtract(a_.expand_dims(w, -2), a_.expand_dims(w, -1))
    off = constant((1.0 - np.eye(n)).astype(dt))
    safe = m.add(diff, constant(np.eye(n).astype(dt)))
    return m.multiply(m.reciprocal(safe), off)


def _eigh_grad(node: Any, gw: Any, gv: Any) -> tuple:
    w, v = node.outputs
    dt = _dt(w)
    inner = None
    if gv is not None:
        inner = m.multiply(_inv_gaps(w, dt), matmul(v, gv, transpose_a=True))
    if gw is not None:
        d = m.multiply(a_.expand_dims(gw, -1), _eye(_n("eigh", w), dt))
        inner = d if inner is None else m.add(inner, d)
    if inner is None:
        return (None,)
    ga = matmul(matmul(v, inner), v, transpose_b=True)
    return (m.multiply(m.add(ga, mT(ga)), 0.5),)


_EIGH = register_op("eigh", _eigh_fwd, _eigh_infer, _eigh_grad, num_outputs=2, blas="any")


def eigh(tensor: Any, name: str | None = None) -> tuple:
    """Eigenvalues (ascending) and eigenvectors (columns) of symmetric matrices (the lower
    triangle is read)."""
    return execute(_EIGH, (_float_input("eigh", tensor),))


def eigvalsh(tensor: Any, name: str | None = None) -> Tensor:
    """Eigenvalues (ascending) of symmetric matrices."""
    return eigh(tensor)[0]


# --- SVD -----------------------------------------------------------------------------------------


def _svd_fwd(xp: Any, a: Any, full_matrices: bool) -> tuple:
    u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
    return u.astype(a.dtype, copy=False), s.astype(a.dtype, copy=False), vh.astype(a.dtype,
                                                                                   copy=False)


def _svd_infer(a: Spec, full_matrices: bool) -> tuple:
    _matrix_spec("svd", a, square=False)
    mm, nn = a.shape[-2], a.shape[-1]
    k = None if None in (mm, nn) else min(mm, nn)
    lead = tuple(a.shape[:-2])
    if full_matrices:
        return (Spec(lead + (mm, mm), a.dtype), Spec(lead + (k,), a.dtype),
                Spec(lead + (nn, nn), a.dtype))
    return (Spec(lead + (mm, k), a.dtype), Spec(lead + (k,), a.dtype),
            Spec(lead + (k, nn), a.dtype))


def _svd_grad(node: Any, gu: Any, gs: Any, gvh: Any) -> tuple:
    a = node.inputs[0]
    u, s, vh = node.outputs
    mm, nn = shape_of(a)[-2:]
    if (gu is not None or gvh is not None) and node.attrs["full_matrices"] and mm != nn:
        raise fail("linalg.svd", "full_matrices=False (or square matrices) for gradients of "
                   "the singular vectors", f"shape {list(shape_of(a))}",
                   "The extra singular vectors of full_matrices=True are not unique.")
    dt = _dt(a)
    k = min(mm, nn)
    v = mT(vh)
    sd = a_.expand_dims(s, -2)  # [.., 1, k]: scales columns
    ga = None
    if gs is not None:
        ga = matmul(m.multiply(u, a_.expand_dims(gs, -2)), vh)
    if gu is None and gvh is None:
        return (ga,)
    gu = m.zeros_like_(u) if gu is None else gu
    gv = m.zeros_like_(v) if gvh is None else mT(gvh)
    s2 = m.square(s)
    diff = m.subtract(a_.expand_dims(s2, -2), a_.expand_dims(s2, -1))  # s_j^2 - s_i^2
    off = constant((1.0 - np.eye(k)).astype(dt))
    f = m.multiply(m.reciprocal(m.add(diff, constant(np.eye(k).astype(dt)))), off)
    utgu = matmul(u, gu, transpose_a=True)
    vtgv = matmul(v, gv, transpose_a=True)
    j = m.multiply(f, m.subtract(utgu, mT(utgu)))
    kk = m.multiply(f, m.subtract(vtgv, mT(vtgv)))
    core = m.add(m.multiply(j, sd), m.multiply(mT(sd), kk))
    term = matmul(matmul(u, core), vh)
    inv_s = a_.expand_dims(m.reciprocal(s), -2)
    if mm > k:  # (I - U U^T) gU S^-1 V^T
        proj = m.subtract(gu, matmul(u, utgu))
        term = m.add(term, matmul(m.multiply(proj, inv_s), vh))
    if nn > k:  # U S^-1 gV^T (I - V V^T)
        proj = m.subtract(gv, matmul(v, vtgv))
        term = m.add(term, matmul(m.multiply(u, inv_s), mT(proj)))
    return (term if ga is None else m.add(ga, term),)


_SVD = register_op("svd", _svd_fwd, _svd_infer, _svd_grad, num_outputs=3, blas="any")


def svd_uv(a: Any, full_matrices: bool = False) -> tuple:
    """`(u, s, vh)` with `a = u @ diag(s) @ vh` (NumPy's order), singular values descending."""
    return execute(_SVD, (_float_input("svd", a),), {"full_matrices": bool(full_matrices)})


def svd(tensor: Any, full_matrices: bool = False, compute_uv: bool = True,
        name: str | None = None) -> Any:
    """TensorFlow's `svd`: `s`, or `(s, u, v)` with `tensor = u @ diag(s) @ v^T`."""
    u, s, vh = svd_uv(tensor, full_matrices)
    if not compute_uv:
        return s
    return s, u, mT(vh)


def pinv(a: Any, rcond: Any = None, validate_args: bool = False,
         name: str | None = None) -> Tensor:
    """Moore-Penrose pseudo-inverse through the SVD; singular values below
    `rcond * max(s)` count as zero (`rcond` defaults to `10 * max(m, n) * eps`)."""
    x = _float_input("pinv", a)
    mm, nn = shape_of(x)[-2:]
    dt = _dt(x)
    if rcond is None:
        rcond = 10.0 * max(mm or 1, nn or 1) * float(np.finfo(dt).eps)
    u, s, vh = svd_uv(x, False)
    cutoff = m.multiply(a_.expand_dims(_reduce_max_last(s), -1), float(rcond))
    keep = m.greater(s, cutoff)
    safe = m.where(keep, s, m.ones_like_(s))
    inv_s = m.where(keep, m.reciprocal(safe), m.zeros_like_(s))
    return matmul(m.multiply(mT(vh), a_.expand_dims(inv_s, -2)), u, transpose_b=True)


def _reduce_max_last(x: Tensor) -> Tensor:
    from ndflow.ops.reduce import reduce_max

    return reduce_max(x, -1)


def matrix_rank(a: Any, tol: Any = None, validate_args: bool = False,
                name: str | None = None) -> Tensor:
    """Number of singular values above `tol` (default `max(s) * max(m, n) * eps`), int32."""
    from ndflow.ops.reduce import reduce_sum

    x = _float_input("matrix_rank", a)
    mm, nn = shape_of(x)[-2:]
    s = svd(x, compute_uv=False)
    if tol is None:
        cut = m.multiply(_reduce_max_last(s), max(mm or 1, nn or 1) * float(
            np.finfo(_dt(x)).eps))
    else:
        cut = m.cast(t(tol), x.dtype)
    return reduce_sum(m.cast(m.greater(s, a_.expand_dims(cut, -1)), np.int32), -1)


def lstsq(matrix: Any, rhs: Any, l2_regularizer: float = 0.0, fast: bool = True,
          name: str | None = None) -> Tensor:
    """Least-squares solution of `matrix @ x = rhs` (minimum norm when rank-deficient)."""
    a = _float_input("lstsq", matrix)
    b = t(rhs)
    if b.dtype != a.dtype:
        b = m.cast(b, a.dtype)
    if l2_regularizer:
        n = _n("lstsq", a)
        gram = m.add(matmul(a, a, transpose_a=True), m.multiply(_eye(n, _dt(a)),
                                                                float(l2_regularizer)))
        return cholesky_solve(cholesky(gram), matmul(a, b, transpose_a=True))
    return matmul(pinv(a), b)


# --- general eigendecomposition and LU (no gradients) -------------------------------------------


def _complex_of(dt: np.dtype) -> np.dtype:
    return np.dtype(np.complex128 if dt == np.float64 else np.complex64)


def _eig_fwd(xp: Any, a: Any) -> tuple:
    w, v = xp.linalg.eig(a)
    c = _complex_of(a.dtype)
    return w.astype(c), v.astype(c)


def _eig_infer(a: Spec) -> tuple:
    _matrix_spec("eig", a)
    c = _complex_of(a.dtype)
    return (Spec(tuple(a.shape[:-1]), c), Spec(tuple(a.shape), c))


_EIG = register_op("eig", _eig_fwd, _eig_infer, None, num_outputs=2, blas="any")


def eig(tensor: Any, name: str | None = None) -> tuple:
    """Complex eigenvalues and eigenvectors (columns) of general square matrices."""
    return execute(_EIG, (_float_input("eig", tensor),))


def eigvals(tensor: Any, name: str | None = None) -> Tensor:
    return eig(tensor)[0]


def _lu_fwd(xp: Any, a: Any) -> tuple:
    """Partial-pivoting LU, batched: LAPACK getrf's packed result and 0-based row swaps."""
    lu = a.astype(a.dtype, copy=True)
    n = lu.shape[-1]
    batch = lu.reshape((-1, n, n))
    piv = xp.zeros(batch.shape[:1] + (n,), dtype=xp.int32)
    rows = xp.arange(batch.shape[0])
    for k in range(n):
        p = xp.argmax(xp.abs(batch[:, k:, k]), axis=1) + k
        piv[:, k] = p
        rk = batch[rows, k].copy()
        batch[rows, k] = batch[rows, p]
        batch[rows, p] = rk
        pivot = batch[:, k, k]
        safe = xp.where(pivot == 0, xp.ones_like(pivot), pivot)
        batch[:, k + 1:, k] /= safe[:, None]
        batch[:, k + 1:, k + 1:] -= batch[:, k + 1:, k:k + 1] * batch[:, k:k + 1, k + 1:]
    return batch.reshape(lu.shape), piv.reshape(lu.shape[:-1])


def _lu_infer(a: Spec) -> tuple:
    _matrix_spec("lu", a)
    return (Spec(tuple(a.shape), a.dtype), Spec(tuple(a.shape[:-1]), np.dtype(np.int32)))


_LU = register_op("lu_factor", _lu_fwd, _lu_infer, None, num_outputs=2, blas="any")


def lu_factor(a: Any) -> tuple:
    """`(lu, pivots)` as LAPACK/SciPy's `lu_factor`: L (unit diagonal, below) and U packed in
    one matrix; row `i` was swapped with row `pivots[i]` (0-based), in order."""
    return execute(_LU, (_float_input("lu_factor", a),))


def lu(input: Any, output_idx_type: Any = np.int32, name: str | None = None) -> tuple:  # noqa: A002
    """TensorFlow's `lu`: packed `lu` and the permutation `p` with `P @ input = L @ U`
    (`p[i]` is the input row that became row `i`)."""
    packed, piv = lu_factor(input)
    pv = piv.numpy()
    n = pv.shape[-1]
    perm = np.broadcast_to(np.arange(n), pv.shape).copy()
    flat, fp = perm.reshape(-1, n), pv.reshape(-1, n)
    for b in range(flat.shape[0]):
        for i in range(n):
            j = fp[b, i]
            flat[b, i], flat[b, j] = flat[b, j], flat[b, i]
    return packed, constant(perm.astype(np.dtype(output_idx_type)))


__all__ = ["cholesky", "cholesky_solve", "eig", "eigh", "eigvals", "eigvalsh", "lstsq", "lu",
           "lu_factor", "matrix_rank", "pinv", "qr", "svd", "triangular_solve"]
