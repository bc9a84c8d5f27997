"""Forward results of every public op in the tf-like namespace against NumPy."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import ndflow as tf

rng = np.random.default_rng(7)
X = rng.uniform(-2, 2, size=(3, 4)).astype(np.float32)
X64 = rng.uniform(-2, 2, size=(2, 3, 4))
P = rng.uniform(0.2, 2.0, size=(3, 4)).astype(np.float32)
U = rng.uniform(-0.9, 0.9, size=(3, 4)).astype(np.float32)
IN = np.array([[3, -7, 2], [0, 5, -1]], dtype=np.int32)
B = np.array([[True, False, True], [False, False, True]])

_erf = np.vectorize(math.erf)
_SELU_A, _SELU_S = 1.6732632423543772, 1.0507009873554805


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _lse(x, axis=None, keepdims=False):
    mx = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - mx), axis=axis, keepdims=True)) + mx
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _excl_cumprod(x, axis):
    c = np.cumprod(x, axis=axis)
    c = np.roll(c, 1, axis=axis)
    idx = [slice(None)] * x.ndim
    idx[axis] = 0
    c[tuple(idx)] = 1
    return c


# (id, tf function, callable(tf function) -> result, expected NumPy value, rtol)
CASES: list = []
COVERED: set = set()


def case(id_, fn, call, expected, rtol=1e-5, dtype=None):
    CASES.append((id_, fn, call, expected, rtol, dtype))
    COVERED.add(fn)


def unary(fn, np_fn, x=X, rtol=1e-5, **kw):
    exp = np.asarray(np_fn(x))
    case(fn.__name__ + f"-{x.dtype.name}", fn, lambda f: f(x, **kw), exp, rtol,
         x.dtype if exp.dtype.kind == "f" else exp.dtype)


# --- element-wise unary ------------------------------------------------------------------------
for _fn, _np, _x in [
    (tf.abs, np.abs, X), (tf.abs, np.abs, IN), (tf.negative, np.negative, X),
    (tf.negative, np.negative, IN), (tf.sign, np.sign, X), (tf.sign, np.sign, IN),
    (tf.square, np.square, X), (tf.square, np.square, IN), (tf.exp, np.exp, X),
    (tf.math.expm1, np.expm1, X), (tf.math.log, np.log, P), (tf.math.log1p, np.log1p, P),
    (tf.sqrt, np.sqrt, P), (tf.math.rsqrt, lambda v: 1 / np.sqrt(v), P),
    (tf.math.reciprocal, lambda v: 1 / v, P), (tf.sin, np.sin, X), (tf.cos, np.cos, X),
    (tf.tan, np.tan, U), (tf.math.asin, np.arcsin, U), (tf.math.acos, np.arccos, U),
    (tf.math.atan, np.arctan, X), (tf.sinh, np.sinh, X), (tf.cosh, np.cosh, X),
    (tf.tanh, np.tanh, X), (tf.math.asinh, np.arcsinh, X), (tf.math.acosh, np.arccosh, P + 1),
    (tf.math.atanh, np.arctanh, U), (tf.sigmoid, _sig, X), (tf.sigmoid, _sig, X64),
    (tf.math.softplus, lambda v: np.logaddexp(0, v), X),
    (tf.math.softsign, lambda v: v / (1 + np.abs(v)), X),
    (tf.math.erf, _erf, X), (tf.math.erf, _erf, X64), (tf.math.erfc, lambda v: 1 - _erf(v), X),
    (tf.math.log_sigmoid, lambda v: np.log(_sig(v)), X), (tf.floor, np.floor, X),
    (tf.math.ceil, np.ceil, X), (tf.round, np.round, np.array([0.5, 1.5, 2.5, -0.5, -1.7])),
    (tf.math.rint, np.rint, np.array([0.5, 1.5, -2.5, 3.2])), (tf.identity, lambda v: v, X),
    (tf.stop_gradient, lambda v: v, X),
    (tf.math.is_nan, np.isnan, np.array([1.0, np.nan, np.inf])),
    (tf.math.is_inf, np.isinf, np.array([1.0, np.nan, -np.inf])),
    (tf.math.is_finite, np.isfinite, np.array([1.0, np.nan, np.inf])),
    (tf.logical_not, np.logical_not, B),
]:
    unary(_fn, _np, _x, rtol=1e-4 if _fn in (tf.math.erf, tf.math.erfc) else 1e-5)

# --- element-wise binary, with broadcasting and dtypes ------------------------------------------
_Y = rng.uniform(0.5, 2, size=(4,)).astype(np.float32)
for _fn, _np in [(tf.add, np.add), (tf.subtract, np.subtract), (tf.multiply, np.multiply),
                 (tf.maximum, np.maximum), (tf.minimum, np.minimum),
                 (tf.math.squared_difference, lambda a, b: (a - b) ** 2),
                 (tf.equal, np.equal), (tf.not_equal, np.not_equal), (tf.less, np.less),
                 (tf.less_equal, np.less_equal), (tf.greater, np.greater),
                 (tf.greater_equal, np.greater_equal)]:
    for _a, _b in [(X, _Y), (X.astype(np.float64), _Y.astype(np.float64)),
                   (IN, np.array([2, -3, 1], np.int32)), (X[:, :1], _Y)]:
        case(f"{_fn.__name__}-{_a.dtype.name}-{_a.shape}", _fn, lambda f, a=_a, b=_b: f(a, b),
             _np(_a, _b), dtype=_np(_a, _b).dtype)
case("add-int64", tf.add, lambda f: f(IN.astype(np.int64), np.int64(3)), IN.astype(np.int64) + 3)
case("add-uint8", tf.add, lambda f: f(np.array([250], np.uint8), np.array([3], np.uint8)),
     np.array([253], np.uint8), dtype=np.uint8)
case("add-float16", tf.add, lambda f: f(X.astype(np.float16), 1.5), X.astype(np.float16) + 1.5,
     rtol=1e-3, dtype=np.float16)
case("divide-float", tf.divide, lambda f: f(X, _Y), X / _Y)
case("divide-int32-gives-float64", tf.divide, lambda f: f(IN, np.int32(2)), IN / 2,
     dtype=np.float64)
case("divide-int16-gives-float32", tf.divide, lambda f: f(IN.astype(np.int16), np.int16(4)),
     (IN / 4).astype(np.float32), dtype=np.float32)
case("truediv", tf.truediv, lambda f: f(X, 4.0), X / 4)
case("realdiv", tf.realdiv, lambda f: f(X, _Y), X / _Y)
case("divide_no_nan", tf.math.divide_no_nan,
     lambda f: f(np.array([1.0, 2.0, 0.0]), np.array([0.0, 4.0, 0.0])), np.array([0, 0.5, 0]))
case("floordiv-float", tf.floordiv, lambda f: f(X, 0.7), np.floor_divide(X, np.float32(0.7)))
case("floordiv-int", tf.floordiv, lambda f: f(IN, np.int32(2)), np.floor_divide(IN, 2))
case("floormod-int", tf.math.floormod, lambda f: f(IN, np.int32(3)), np.mod(IN, 3))
case("floormod-float", tf.math.floormod, lambda f: f(X, 0.7), np.mod(X, np.float32(0.7)))
case("mod", tf.math.mod, lambda f: f(IN, np.int32(-3)), np.mod(IN, -3))
case("pow-float", tf.pow, lambda f: f(P, X), P ** X, rtol=1e-4)
case("pow-int", tf.pow, lambda f: f(IN, np.int32(2)), IN ** 2)
case("atan2", tf.math.atan2, lambda f: f(X, X.T[:3, :1] + 0.1), np.arctan2(X, X.T[:3, :1] + 0.1))
case("xlogy", tf.math.xlogy, lambda f: f(np.array([0.0, 2.0, 3.0]), np.array([0.0, 3.0, 0.5])),
     np.array([0.0, 2 * np.log(3.0), 3 * np.log(0.5)]))
for _fn, _np in [(tf.logical_and, np.logical_and), (tf.logical_or, np.logical_or),
                 (tf.math.logical_xor, np.logical_xor)]:
    case(_fn.__name__, _fn, lambda f, n=_np: f(B, B[:1]), _np(B, B[:1]))
case("where-select", tf.where, lambda f: f(B, IN, -IN), np.where(B, IN, -IN))
case("where-broadcast", tf.where, lambda f: f(B[0], X[:2, :3], 0.0), np.where(B[0], X[:2, :3], 0))
case("where-coordinates", tf.where, lambda f: f(B), np.argwhere(B), dtype=np.int64)
case("clip_by_value", tf.clip_by_value, lambda f: f(X, -0.5, 0.7), np.clip(X, -0.5, 0.7))
case("add_n", tf.add_n, lambda f: f([X, X, P]), X + X + P)
case("scalar_mul", tf.math.scalar_mul, lambda f: f(3.0, X), 3 * X)
case("cast-float-int-truncates", tf.cast, lambda f: f(np.array([1.7, -1.7, 2.5]), tf.int32),
     np.array([1, -1, 2]), dtype=np.int32)
case("cast-bool-float", tf.cast, lambda f: f(B, tf.float32), B.astype(np.float32),
     dtype=np.float32)
case("cast-int-bool", tf.cast, lambda f: f(IN, tf.bool), IN != 0, dtype=np.bool_)

# --- reductions ----------------------------------------------------------------------------------
for _fn, _np in [(tf.reduce_sum, np.sum), (tf.reduce_mean, np.mean), (tf.reduce_max, np.max),
                 (tf.reduce_min, np.min), (tf.reduce_prod, np.prod),
                 (tf.math.reduce_variance, np.var), (tf.math.reduce_std, np.std),
                 (tf.reduce_logsumexp, _lse),
                 (tf.math.reduce_euclidean_norm,
                  lambda v, axis=None, keepdims=False: np.sqrt(np.sum(v * v, axis=axis,
                                                                      keepdims=keepdims)))]:
    for _ax in (None, 0, -1, (0, 2), [1]):
        for _kd in (False, True):
            _axn = tuple(_ax) if isinstance(_ax, list) else _ax
            case(f"{_fn.__name__}-axis{_ax}-keepdims{_kd}", _fn,
                 lambda f, a=_ax, k=_kd: f(X64, axis=a, keepdims=k),
                 _np(X64, axis=_axn, keepdims=_kd), dtype=np.float64)
case("reduce_sum-int32-keeps-dtype", tf.reduce_sum, lambda f: f(IN, axis=1), IN.sum(1),
     dtype=np.int32)
case("reduce_sum-bool", tf.reduce_sum, lambda f: f(B), 3, dtype=np.int32)
case("reduce_prod-int32", tf.reduce_prod, lambda f: f(IN, axis=0), IN.prod(0), dtype=np.int32)
case("reduce_mean-int-truncates", tf.reduce_mean, lambda f: f(np.array([-1, -2], np.int32)),
     np.int32(-1), dtype=np.int32)
case("reduce_mean-int-axis", tf.reduce_mean, lambda f: f(IN, axis=0),
     np.trunc(IN.mean(0)).astype(np.int32), dtype=np.int32)
case("reduce_sum-float16", tf.reduce_sum, lambda f: f(np.full(4096, 0.1, np.float16)),
     np.float16(409.6), rtol=2e-3, dtype=np.float16)
case("reduce_max-int", tf.reduce_max, lambda f: f(IN, axis=-1), IN.max(-1), dtype=np.int32)
case("reduce_any", tf.reduce_any, lambda f: f(B, axis=0), B.any(0))
case("reduce_all", tf.reduce_all, lambda f: f(B, axis=1, keepdims=True), B.all(1, keepdims=True))
case("count_nonzero", tf.math.count_nonzero, lambda f: f(IN, axis=1), np.count_nonzero(IN, 1),
     dtype=np.int64)
case("argmax-default-axis0", tf.argmax, lambda f: f(X), X.argmax(0), dtype=np.int64)
case("argmax-axis1-int32", tf.argmax, lambda f: f(X, axis=1, output_type=tf.int32), X.argmax(1),
     dtype=np.int32)
case("argmin", tf.argmin, lambda f: f(X, axis=-1), X.argmin(-1), dtype=np.int64)
case("cumsum", tf.cumsum, lambda f: f(X, axis=1), np.cumsum(X, 1))
case("cumsum-exclusive-reverse", tf.cumsum, lambda f: f(X, axis=0, exclusive=True, reverse=True),
     np.flip(np.cumsum(np.flip(X, 0), 0), 0) - X, rtol=1e-4)
case("cumprod", tf.math.cumprod, lambda f: f(X, axis=1), np.cumprod(X, 1))
case("cumprod-exclusive", tf.math.cumprod, lambda f: f(X, axis=1, exclusive=True),
     _excl_cumprod(X, 1))

# --- linear algebra ------------------------------------------------------------------------------
_A = rng.normal(size=(2, 3, 4))
_Bm = rng.normal(size=(2, 4, 5))
case("matmul-batched", tf.matmul, lambda f: f(_A, _Bm), _A @ _Bm)
case("matmul-transposes", tf.matmul,
     lambda f: f(_A, _A, transpose_a=True), np.swapaxes(_A, -1, -2) @ _A)
case("matmul-adjoint_b", tf.matmul, lambda f: f(_A, _A, adjoint_b=True),
     _A @ np.swapaxes(_A, -1, -2))
case("matmul-broadcast-batch", tf.matmul, lambda f: f(_A, _Bm[0]), _A @ _Bm[0])
case("matmul-int32", tf.matmul, lambda f: f(IN[:, :2], IN[:, :2].T.copy()), IN[:, :2] @ IN[:, :2].T,
     dtype=np.int32)
case("tensordot-int", tf.tensordot, lambda f: f(_A, _Bm[0], axes=1), np.tensordot(_A, _Bm[0], 1))
case("tensordot-lists", tf.tensordot, lambda f: f(_A, _Bm, axes=[[0, 2], [0, 1]]),
     np.tensordot(_A, _Bm, axes=([0, 2], [0, 1])))
for _eq, _ops in [("ij,jk->ik", (_A[0], _Bm[0])), ("bij,bjk->bik", (_A, _Bm)),
                  ("bij->bji", (_A,)), ("ii->i", (_A[0, :3, :3],)), ("ii", (_A[0, :3, :3],)),
                  ("ij,ij->", (_A[0], _A[1])), ("...ij,...jk", (_A, _Bm)),
                  ("i,j->ij", (_A[0, 0], _Bm[0, 0])), ("bij,jk->bk", (_A, _Bm[0]))]:
    case(f"einsum-{_eq}", tf.einsum, lambda f, e=_eq, o=_ops: f(e, *o), np.einsum(_eq, *_ops))
for _ord, _ax in [("euclidean", None), (1, None), (np.inf, None), (2, 1), (1, -1), (np.inf, 0),
                  (3, 1), ("fro", (0, 1)), (1, (0, 1)), (np.inf, (0, 1)),
                  ("euclidean", (1, 2))]:
    _xn = X64 if isinstance(_ax, tuple) and 2 in _ax else X64[0]
    if _ax is None:
        _exp = np.linalg.norm(_xn.ravel(), ord=2 if _ord == "euclidean" else _ord)
    elif isinstance(_ax, tuple):
        _exp = np.linalg.norm(_xn, ord="fro" if _ord == "euclidean" else _ord, axis=_ax)
    else:
        _exp = np.linalg.norm(_xn, ord=_ord, axis=_ax)
    case(f"norm-{_ord}-{_ax}", tf.norm, lambda f, o=_ord, a=_ax, v=_xn: f(v, ord=o, axis=a), _exp)
case("l2_normalize", tf.math.l2_normalize, lambda f: f(X, axis=1),
     X / np.linalg.norm(X, axis=1, keepdims=True))
case("diag_part", tf.linalg.diag_part, lambda f: f(_A), np.diagonal(_A, axis1=-2, axis2=-1))
case("trace", tf.linalg.trace, lambda f: f(_A[:, :3, :3]), np.trace(_A[:, :3, :3], axis1=1,
                                                                    axis2=2))
case("matvec", tf.linalg.matvec, lambda f: f(_A[0], _Bm[0, :, 0]), _A[0] @ _Bm[0, :, 0])

# --- array ops -----------------------------------------------------------------------------------
case("reshape", tf.reshape, lambda f: f(X64, [4, -1]), X64.reshape(4, -1))
case("broadcast_to", tf.broadcast_to, lambda f: f(X[:1], [2, 3, 4]), np.broadcast_to(X[:1],
                                                                                     (2, 3, 4)))
case("transpose", tf.transpose, lambda f: f(X64, [2, 0, 1]), X64.transpose(2, 0, 1))
case("transpose-default", tf.transpose, lambda f: f(X64), X64.T)
case("expand_dims", tf.expand_dims, lambda f: f(X, -1), X[..., None])
case("squeeze", tf.squeeze, lambda f: f(X[None, :, None]), X)
case("squeeze-axis", tf.squeeze, lambda f: f(X[None, :, None], [0]), X[:, None])
case("concat", tf.concat, lambda f: f([X, P], axis=-1), np.concatenate([X, P], -1))
case("stack", tf.stack, lambda f: f([X, P], axis=1), np.stack([X, P], 1))
case("split", tf.split, lambda f: tuple(f(X, [1, 3], axis=1)), tuple(np.split(X, [1], 1)))
case("unstack", tf.unstack, lambda f: tuple(f(X, axis=1)), tuple(np.moveaxis(X, 1, 0)))
case("tile", tf.tile, lambda f: f(X, [2, 1]), np.tile(X, (2, 1)))
case("pad-constant", tf.pad, lambda f: f(X, [[1, 0], [2, 2]], constant_values=3.0),
     np.pad(X, ((1, 0), (2, 2)), constant_values=3))
case("pad-reflect", tf.pad, lambda f: f(X, [[1, 2], [2, 1]], mode="reflect"),
     np.pad(X, ((1, 2), (2, 1)), mode="reflect"))
case("pad-symmetric", tf.pad, lambda f: f(X, [[3, 0], [0, 4]], mode="SYMMETRIC"),
     np.pad(X, ((3, 0), (0, 4)), mode="symmetric"))
case("reverse", tf.reverse, lambda f: f(X64, [0, 2]), np.flip(X64, (0, 2)))
case("roll", tf.roll, lambda f: f(X, 1, 1), np.roll(X, 1, 1))
case("roll-multi", tf.roll, lambda f: f(X, [-1, 5], [0, 1]), np.roll(X, (-1, 5), (0, 1)))
case("repeat", tf.repeat, lambda f: f(X, 2, axis=0), np.repeat(X, 2, 0))
case("repeat-flat", tf.repeat, lambda f: f(X, 3), np.repeat(X, 3))
case("gather-batch_dims-negative", tf.gather,
     lambda f: f(X64, np.array([[1, 0], [2, 2]]), axis=1, batch_dims=-1),
     np.stack([X64[0][[1, 0]], X64[1][[2, 2]]]))
case("repeat-counts", tf.repeat, lambda f: f(IN, [2, 0, 1], axis=1), np.repeat(IN, [2, 0, 1], 1))
case("reduce_max-empty", tf.reduce_max, lambda f: f(np.zeros((0, 3), np.float32), axis=0),
     np.full(3, -np.inf, np.float32))
case("reduce_min-empty-int", tf.reduce_min, lambda f: f(np.zeros((0, 2), np.int32), axis=0),
     np.full(2, 2 ** 31 - 1, np.int32))
case("gather", tf.gather, lambda f: f(X, [2, 0, 2]), X[[2, 0, 2]])
case("gather-axis1", tf.gather, lambda f: f(X, np.array([[3, 1], [0, 0]]), axis=1),
     X[:, np.array([[3, 1], [0, 0]])])
case("gather-batch_dims", tf.gather,
     lambda f: f(X64, np.array([[1, 0], [2, 2]]), axis=1, batch_dims=1),
     np.stack([X64[0][[1, 0]], X64[1][[2, 2]]]))
case("gather_nd", tf.gather_nd, lambda f: f(X64, [[0, 1], [1, 2]]), X64[[0, 1], [1, 2]])
case("scatter_nd", tf.scatter_nd, lambda f: f([[1], [3], [1]], np.array([1.0, 2.0, 3.0]), [5]),
     np.array([0, 4.0, 0, 2.0, 0]))
case("tensor_scatter_nd_update", tf.tensor_scatter_nd_update,
     lambda f: f(X, [[0, 1], [2, 3]], [9.0, 8.0]),
     np.where(np.isin(np.arange(12).reshape(3, 4), [1, 11]),
              np.array([[0, 9.0, 0, 0], [0] * 4, [0, 0, 0, 8.0]]), X))
case("tensor_scatter_nd_add", tf.tensor_scatter_nd_add,
     lambda f: f(X, [[0, 1], [0, 1]], [1.0, 2.0]), X + np.array([[0, 3.0, 0, 0], [0] * 4, [0] * 4]))
case("boolean_mask", tf.boolean_mask, lambda f: f(X[:2, :3], B), X[:2, :3][B])
case("boolean_mask-axis1", tf.boolean_mask, lambda f: f(X64, B.any(0), axis=1),
     X64[:, B.any(0)])
case("one_hot", tf.one_hot, lambda f: f([0, 2, 1], 3), np.eye(3, dtype=np.float32)[[0, 2, 1]])
case("one_hot-options", tf.one_hot,
     lambda f: f([[0], [2]], 3, on_value=5, off_value=-1, axis=0, dtype=tf.int32),
     np.moveaxis(np.where(np.eye(3)[[[0], [2]]] > 0, 5, -1), -1, 0), dtype=np.int32)
case("argsort", tf.argsort, lambda f: f(X, axis=0), np.argsort(X, 0, kind="stable"),
     dtype=np.int32)
case("argsort-desc", tf.argsort, lambda f: f(X, direction="DESCENDING"),
     np.argsort(-X, -1, kind="stable"), dtype=np.int32)
case("sort", tf.sort, lambda f: f(X), np.sort(X, -1))
case("sort-desc", tf.sort, lambda f: f(X, axis=0, direction="DESCENDING"), -np.sort(-X, 0))
_TIES = np.array([[1, 3, 3, 0], [2, 2, 1, 2]], np.int32)
case("argsort-desc-stable-ties", tf.argsort, lambda f: f(_TIES, direction="DESCENDING"),
     np.array([[1, 2, 0, 3], [0, 1, 3, 2]]), dtype=np.int32)
case("argsort-desc-axis0-ties", tf.argsort, lambda f: f(_TIES, axis=0, direction="DESCENDING"),
     np.array([[1, 0, 0, 1], [0, 1, 1, 0]]), dtype=np.int32)
case("sort-desc-uint8", tf.sort,
     lambda f: f(np.array([3, 0, 255, 7], np.uint8), direction="DESCENDING"),
     np.array([255, 7, 3, 0], np.uint8), dtype=np.uint8)
case("sort-desc-int-min", tf.sort,
     lambda f: f(np.array([-2 ** 31, 5, 0], np.int32), direction="DESCENDING"),
     np.array([5, 0, -2 ** 31], np.int32))
case("sort-desc-bool", tf.sort, lambda f: f(np.array([True, False, True]), direction="DESCENDING"),
     np.array([True, True, False]))
case("top_k", tf.math.top_k, lambda f: tuple(f(X, k=2)),
     (-np.sort(-X, -1)[:, :2], np.argsort(-X, -1, kind="stable")[:, :2]))
case("slice", tf.slice, lambda f: f(X, [1, 1], [2, -1]), X[1:3, 1:])
case("strided_slice", tf.strided_slice, lambda f: f(X, [0, 3], [3, 0], [2, -1]), X[0:3:2, 3:0:-1])
case("shape", tf.shape, lambda f: f(X64), np.array([2, 3, 4]), dtype=np.int32)
case("size", tf.size, lambda f: f(X64), np.int32(24), dtype=np.int32)
case("rank", tf.rank, lambda f: f(X64), np.int32(3), dtype=np.int32)
case("meshgrid-xy", tf.meshgrid, lambda f: tuple(f([1, 2, 3], [4, 5])),
     tuple(np.meshgrid([1, 2, 3], [4, 5])))
case("meshgrid-ij", tf.meshgrid, lambda f: tuple(f([1, 2, 3], [4, 5], indexing="ij")),
     tuple(np.meshgrid([1, 2, 3], [4, 5], indexing="ij")))
case("ensure_shape", tf.ensure_shape, lambda f: f(X, [None, 4]), X)

# --- nn ------------------------------------------------------------------------------------------
_gelu = lambda v: 0.5 * v * (1 + _erf(v / np.sqrt(2)))  # noqa: E731
_gelu_t = lambda v: 0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) * (v + 0.044715 * v ** 3)))  # noqa
for _fn, _np, kw in [
    (tf.nn.relu, lambda v: np.maximum(v, 0), {}),
    (tf.nn.relu6, lambda v: np.clip(v, 0, 6), {}),
    (tf.nn.elu, lambda v: np.where(v > 0, v, np.expm1(v)), {}),
    (tf.nn.selu, lambda v: _SELU_S * np.where(v > 0, v, _SELU_A * np.expm1(v)), {}),
    (tf.nn.leaky_relu, lambda v: np.where(v > 0, v, 0.2 * v), {}),
    (tf.nn.gelu, _gelu, {}),
    (tf.nn.silu, lambda v: v * _sig(v), {}),
    (tf.nn.swish, lambda v: v * _sig(v), {}),
    (tf.nn.softmax, _softmax, {}),
    (tf.nn.log_softmax, lambda v: np.log(_softmax(v)), {}),
    (tf.math.softmax, lambda v: _softmax(v, 0), {"axis": 0}),
    (tf.math.log_softmax, lambda v: np.log(_softmax(v, 0)), {"axis": 0}),
    (tf.nn.crelu, lambda v: np.concatenate([np.maximum(v, 0), np.maximum(-v, 0)], -1), {}),
]:
    case(f"nn.{_fn.__name__}-{kw}", _fn, lambda f, k=kw: f(X * 4, **k), _np(X * 4), rtol=1e-4)
case("leaky_relu-alpha", tf.nn.leaky_relu, lambda f: f(X, alpha=0.05), np.where(X > 0, X, 0.05 * X))
case("gelu-tanh", tf.nn.gelu, lambda f: f(X, approximate=True), _gelu_t(X), rtol=1e-4)
case("silu-beta", tf.nn.silu, lambda f: f(X, beta=2.0), X * _sig(2 * X), rtol=1e-4)
_L = _softmax(rng.normal(size=(3, 4)))
_Z = np.array([1, 0, 3])
case("sigmoid_cross_entropy_with_logits", tf.nn.sigmoid_cross_entropy_with_logits,
     lambda f: f(labels=_L, logits=X64[0]),
     -(_L * np.log(_sig(X64[0])) + (1 - _L) * np.log(1 - _sig(X64[0]))))
case("softmax_cross_entropy_with_logits", tf.nn.softmax_cross_entropy_with_logits,
     lambda f: f(labels=_L, logits=X64[0]), -(_L * np.log(_softmax(X64[0]))).sum(-1))
case("sparse_softmax_cross_entropy_with_logits", tf.nn.sparse_softmax_cross_entropy_with_logits,
     lambda f: f(labels=_Z, logits=X64[0]), -np.log(_softmax(X64[0]))[np.arange(3), _Z])
case("weighted_cross_entropy_with_logits", tf.nn.weighted_cross_entropy_with_logits,
     lambda f: f(labels=_L, logits=X64[0], pos_weight=2.5),
     -(2.5 * _L * np.log(_sig(X64[0])) + (1 - _L) * np.log(1 - _sig(X64[0]))))
case("dropout-rate0", tf.nn.dropout, lambda f: f(X, 0.0), X)
case("bias_add", tf.nn.bias_add, lambda f: f(X, P[0]), X + P[0])
case("bias_add-NCHW", tf.nn.bias_add, lambda f: f(X64, X64[0, :, 0], data_format="NCHW"),
     X64 + X64[0, :, 0][:, None])
case("moments", tf.nn.moments, lambda f: tuple(f(X64, axes=[0, 2])),
     (X64.mean((0, 2)), X64.var((0, 2))))
case("moments-keepdims", tf.nn.moments, lambda f: tuple(f(X64, axes=[1], keepdims=True)),
     (X64.mean(1, keepdims=True), X64.var(1, keepdims=True)))
case("batch_normalization", tf.nn.batch_normalization,
     lambda f: f(X, P[0], P[1], X[0], P[2], 1e-3), (X - P[0]) / np.sqrt(P[1] + 1e-3) * P[2] + X[0],
     rtol=1e-4)
case("l2_loss", tf.nn.l2_loss, lambda f: f(X), np.sum(X * X) / 2, rtol=1e-5)
case("log_poisson_loss", tf.nn.log_poisson_loss, lambda f: f(P, X), np.exp(X) - X * P)
_T = np.array([0.0, 1.0, 3.0, 10.0])
_LI = np.array([0.1, 0.2, 0.3, -0.5])
case("log_poisson_loss-full", tf.nn.log_poisson_loss,
     lambda f: f(_T, _LI, compute_full_loss=True),
     np.exp(_LI) - _LI * _T + np.where(_T > 1, _T * np.log(np.maximum(_T, 1)) - _T
                                        + 0.5 * np.log(2 * np.pi * np.maximum(_T, 1)), 0))


def _close(got, exp, rtol, dtype, id_):
    if isinstance(exp, tuple):
        assert isinstance(got, tuple) and len(got) == len(exp), id_
        for g, e in zip(got, exp):
            _close(g, e, rtol, None, id_)
        return
    assert isinstance(got, tf.Tensor), f"{id_}: returned {type(got).__name__}"
    e = np.asarray(exp)
    assert tuple(got.shape) == e.shape, f"{id_}: shape {tuple(got.shape)} != {e.shape}"
    if dtype is not None:
        assert got.dtype == np.dtype(dtype), f"{id_}: dtype {got.dtype} != {np.dtype(dtype)}"
    if e.dtype.kind in "fc":
        np.testing.assert_allclose(got.numpy(), e, rtol=rtol, atol=rtol, err_msg=id_)
    else:
        np.testing.assert_array_equal(got.numpy(), e, err_msg=id_)


@pytest.mark.parametrize("id_,fn,call,expected,rtol,dtype", CASES, ids=[c[0] for c in CASES])
def test_forward_matches_numpy(id_, fn, call, expected, rtol, dtype):
    got = call(fn)
    _close(tuple(got) if isinstance(got, list) else got, expected, rtol, dtype, id_)


# Public functions of the namespaces that are not ops on tensors, or are tested elsewhere
# (creation and conversion in test_tensor.py, randomness in test_random.py).
NOT_OPS = {"as_dtype", "constant", "convert_to_tensor", "device", "is_tensor",
           "list_physical_devices", "print", "eye", "fill", "linspace", "ones", "ones_like",
           "range", "zeros", "zeros_like", "dropout",
           "function", "cond", "while_loop"}  # graph functions: tests/graph


# The op families of the core; other families (ops/conv.py, pooling …) test their forward
# results beside their own code, but their gradients are checked in op_cases.py too.
CORE_MODULES = {"ndflow.ops.math", "ndflow.ops.reduce", "ndflow.ops.array", "ndflow.ops.linalg",
                "ndflow.ops.nn", "ndflow.ops.shape_ops", "ndflow.ops.creation"}


def test_every_public_op_has_a_forward_check():
    missing = []
    for mod in (tf, tf.math, tf.nn, tf.linalg):
        for n in dir(mod):
            obj = getattr(mod, n)
            if n.startswith("_") or not inspect.isfunction(obj) or n in NOT_OPS:
                continue
            if obj.__module__ not in CORE_MODULES:
                continue
            if obj not in COVERED:
                missing.append(f"{mod.__name__}.{n}")
    assert not missing, f"public ops without a forward check: {sorted(missing)}"


def test_dropout_keeps_expectation():
    tf.random.set_seed(3)
    x = tf.ones([200, 100])
    y = tf.nn.dropout(x, 0.3).numpy()
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs((y == 0).mean() - 0.3) < 0.02
    assert abs(y.mean() - 1.0) < 0.03


def test_python_scalars_and_lists_convert():
    assert tf.add([1, 2], 1).dtype == tf.int32
    assert tf.add([1.0, 2.0], 1).dtype == tf.float32
    np.testing.assert_allclose(tf.multiply(2, tf.constant([1.5, 2.5])).numpy(), [3.0, 5.0])


def _spec_checker(mismatches: list):
    from ndflow.core import dispatch

    def hook(op, inputs, attrs):
        dispatch.trace_hook = None
        try:
            out = dispatch.execute(op, inputs, attrs)
        finally:
            dispatch.trace_hook = hook
        if op.infer is not None and not any(x._symbolic for x in inputs):
            specs = dispatch.infer_specs(op, inputs, attrs)
            outs = out if isinstance(out, tuple) else (out,)
            specs = specs if isinstance(specs, tuple) else (specs,)
            for o, s in zip(outs, specs):
                if tuple(o.shape) != tuple(s.shape) or o._value.dtype != s.dtype:
                    mismatches.append(f"{op.name}: kernel gave {tuple(o.shape)} "
                                      f"{o._value.dtype}, shape rule says {s}")
        return out
    return hook


@pytest.mark.parametrize("id_,fn,call,expected,rtol,dtype", CASES, ids=[c[0] for c in CASES])
def test_shape_rules_agree_with_kernels(id_, fn, call, expected, rtol, dtype, monkeypatch):
    from ndflow.core import dispatch

    mismatches: list = []
    monkeypatch.setattr(dispatch, "trace_hook", _spec_checker(mismatches))
    call(fn)
    assert not mismatches, mismatches


def test_float_dtypes_are_kept_by_every_one_input_op():
    x = np.array([[0.5, -0.3, 0.2]])
    wrong = []
    for dt in (np.float16, np.float32, np.float64):
        for mod in (tf, tf.math, tf.nn, tf.linalg):
            for n in dir(mod):
                f = getattr(mod, n)
                if n.startswith("_") or not inspect.isfunction(f) or n in NOT_OPS:
                    continue
                try:
                    with np.errstate(all="ignore"):  # log/sqrt/acosh of negatives: nan is fine
                        out = f(x.astype(dt))
                except (TypeError, ValueError, AttributeError):
                    continue  # needs more arguments, or rejects this input
                for o in out if isinstance(out, (tuple, list)) else [out]:
                    if isinstance(o, tf.Tensor) and o.dtype.is_floating and o.dtype != dt:
                        wrong.append(f"{mod.__name__}.{n}: {np.dtype(dt).name} -> {o.dtype}")
    assert not wrong, wrong


def test_float_dtypes_are_kept_by_composite_nn_ops():
    for dt in (tf.float16, tf.float32, tf.float64):
        v = tf.constant([[0.5, -0.3, 0.2]], dtype=dt)
        outs = [
            tf.nn.softmax_cross_entropy_with_logits(labels=v, logits=v),
            tf.nn.sigmoid_cross_entropy_with_logits(labels=[[0, 1, 1]], logits=v),
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[1], logits=v),
            tf.nn.moments(v, [0])[1], tf.nn.batch_normalization(v, 0.0, 1.0, 0.0, 1.0, 1e-3),
            tf.nn.weighted_cross_entropy_with_logits([[0, 1, 1]], v, 2.0),
            tf.nn.bias_add(v, [1.0, 2.0, 3.0]), tf.nn.dropout(v, 0.5),
            tf.nn.log_poisson_loss([[1.0, 2.0, 3.0]], v, compute_full_loss=True),
            tf.norm(v, ord=3), tf.where(v > 0, v, 0.0), tf.clip_by_value(v, -0.1, 0.1),
        ]
        assert [o.dtype for o in outs] == [dt] * len(outs)


def test_integer_conversion_range_checks():
    with pytest.raises(TypeError, match="out of range.*int8"):
        tf.constant(300, dtype=tf.int8)
    with pytest.raises(TypeError, match="out of range.*uint8"):
        tf.constant(-1, dtype=tf.uint8)
    with pytest.raises(tf.errors.InvalidArgumentError, match="add.*out of range.*int32"):
        tf.constant([1, 2]) + 2 ** 40
