"""`tf.linalg`: matrix products, norms and friends."""

from ndflow.ops.array import transpose
from ndflow.ops.creation import eye
from ndflow.ops.decomp import (
    cholesky, cholesky_solve, eig, eigh, eigvals, eigvalsh, lstsq, lu, matrix_rank, pinv, qr, svd,
    triangular_solve,
)
from ndflow.ops.clipping import global_norm
from ndflow.ops.linalg import diag_part, einsum, l2_normalize, matmul, matvec, norm, tensordot, \
    trace
from ndflow.ops.masks import band_part
from ndflow.ops.matrix_solve import det, inv, logdet, matrix_transpose, slogdet, solve

__all__ = ["band_part", "cholesky", "cholesky_solve", "det", "diag_part", "eig", "eigh",
           "eigvals", "eigvalsh", "einsum", "eye", "global_norm", "inv", "l2_normalize",
           "logdet", "lstsq", "lu", "matmul", "matrix_rank", "matrix_transpose", "matvec",
           "norm", "pinv", "qr", "slogdet", "solve", "svd", "tensordot", "trace", "transpose",
           "triangular_solve"]
