"""`tf.linalg`: matrix products, norms and friends."""

from ndflow.ops.array import transpose
from ndflow.ops.creation import eye
from ndflow.ops.decomp import (
    cholesky, cholesky_solve, eig, eigh, eigvals, eigvalsh, lstsq, lu, matrix_rank, pinv, qr, svd,
    triangular_solve,
)
from ndflow.ops.linalg import diag_part, einsum, l2_normalize, matmul, matvec, norm, tensordot, \
    trace

__all__ = ["cholesky", "cholesky_solve", "diag_part", "eig", "eigh", "eigvals", "eigvalsh",
           "einsum", "eye", "l2_normalize", "lstsq", "lu", "matmul", "matrix_rank", "matvec",
           "norm", "pinv", "qr", "svd", "tensordot", "trace", "transpose", "triangular_solve"]
