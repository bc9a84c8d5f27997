"""`tf.linalg`: matrix products, norms and friends."""

from ndflow.ops.array import transpose
from ndflow.ops.creation import eye
from ndflow.ops.linalg import diag_part, einsum, l2_normalize, matmul, matvec, norm, tensordot, \
    trace

__all__ = ["diag_part", "einsum", "eye", "l2_normalize", "matmul", "matvec", "norm", "tensordot",
           "trace", "transpose"]
