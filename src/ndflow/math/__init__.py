"""`tf.math`: element-wise math and reductions."""

from ndflow.ops.array import argsort, top_k
from ndflow.ops.linalg import l2_normalize
from ndflow.ops.math import (
    abs, acos, acosh, add, add_n, asin, asinh, atan, atan2, atanh, ceil, cos, cosh, divide,
    divide_no_nan, equal, erf, erfc, exp, expm1, floor, floordiv, floormod, greater,
    greater_equal, is_finite, is_inf, is_nan, less, less_equal, log, log1p, log_sigmoid,
    logical_and, logical_not, logical_or, logical_xor, maximum, minimum, mod, multiply, negative,
    not_equal, pow, reciprocal, rint, round, rsqrt, scalar_mul, sigmoid, sign, sin, sinh,
    softplus, softsign, sqrt, square, squared_difference, subtract, tan, tanh, truediv, xlogy,
)
from ndflow.ops.reduce import (
    argmax, argmin, count_nonzero, cumprod, cumsum, reduce_all, reduce_any,
    reduce_euclidean_norm, reduce_logsumexp, reduce_max, reduce_mean, reduce_min, reduce_prod,
    reduce_std, reduce_sum, reduce_variance,
)
from ndflow.ops.nn import softmax, log_softmax
from ndflow.ops.spectral import angle, conj, imag, real
from ndflow.ops.segment import (
    segment_max, segment_mean, segment_min, segment_prod, segment_sum, unsorted_segment_max,
    unsorted_segment_mean, unsorted_segment_min, unsorted_segment_prod, unsorted_segment_sum,
)


__all__ = [n for n in dir() if not n.startswith("_")]
