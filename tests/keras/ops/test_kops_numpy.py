"""keras.ops NumPy-like ops against NumPy: values, shapes and dtypes (Keras 3 rules)."""

from __future__ import annotations

import numpy as np
import pytest

from ndflow.keras import ops

rng = np.random.default_rng(0)
F = rng.normal(size=(3, 4)).astype(np.float32)
G = rng.normal(size=(3, 4)).astype(np.float32)
P = rng.uniform(0.5, 2.0, size=(3, 4)).astype(np.float32)
U = rng.uniform(-0.9, 0.9, size=(3, 4)).astype(np.float32)
IN = rng.integers(-5, 6, size=(3, 4)).astype(np.int32)
J = rng.integers(1, 6, size=(3, 4)).astype(np.int32)
B = F > 0
V = rng.normal(size=(4,)).astype(np.float32)
T3 = rng.normal(size=(2, 3, 4)).astype(np.float32)
SQ = rng.normal(size=(4, 4)).astype(np.float32)

CASES = []


def case(name, kfn, nfn, *args, dtype=None, rtol=1e-5, atol=1e-6, id=None, marks=()):
    CASES.append(pytest.param(kfn, nfn, args, dtype, rtol, atol, id=id or name, marks=marks))


_NP2D = pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")


# --- element-wise binary ---------------------------------------------------------------------
for nm in ["add", "subtract", "multiply", "maximum", "minimum"]:
    case(nm, getattr(ops, nm), getattr(np, nm), F, G)
    case(nm, getattr(ops, nm), getattr(np, nm), IN, J, id=f"{nm}-int")
    case(nm, getattr(ops, nm), lambda a, b, f=getattr(np, nm): f(a, b).astype(np.float32),
         IN, F, dtype="float32", id=f"{nm}-int-float")
case("add", lambda a: ops.add(a, 1.5), lambda a: a + 1.5, IN, dtype="float32",
     id="add-int-weak-float")
case("add", lambda a: ops.add(a, 2), lambda a: a + 2, IN, dtype="int32", id="add-int-weak-int")
case("add", lambda a: ops.add(a, 1), lambda a: a + np.int8(1), IN.astype(np.int8), dtype="int8",
     id="add-int8")
case("add", ops.add, lambda a, b: a.astype(np.int16) + b, IN.astype(np.int8),
     J.astype(np.uint8), dtype="int16", id="add-int8-uint8")
case("add", lambda a: ops.add(a, 2.0), lambda a: a + np.float16(2.0), F.astype(np.float16),
     dtype="float16", rtol=1e-3, id="add-f16-weak")
case("add", ops.add, lambda a, b: a + b.astype(np.float64), F.astype(np.float64), IN,
     dtype="float64", id="add-f64-int")
case("divide", ops.divide, lambda a, b: (a / b).astype(np.float32), IN, J, dtype="float32")
case("true_divide", ops.true_divide, np.true_divide, F, P)
case("divide_no_nan", ops.divide_no_nan,
     lambda a, b: np.where(b == 0, 0, a / np.where(b == 0, 1, b)).astype(np.float32),
     F, np.where(B, P, 0).astype(np.float32))
case("floor_divide", ops.floor_divide, np.floor_divide, IN, J)
case("floor_divide", ops.floor_divide, np.floor_divide, F, P, id="floor_divide-f")
case("mod", ops.mod, np.mod, IN, J)
case("mod", ops.mod, np.mod, F, P, id="mod-f", rtol=1e-4, atol=1e-5)
case("power", ops.power, np.power, P, G)
case("power", ops.power, np.power, J, np.int32(2) + 0 * J, id="power-int")
case("arctan2", ops.arctan2, np.arctan2, F, G)
case("hypot", ops.hypot, np.hypot, F, G)
case("logaddexp", ops.logaddexp, np.logaddexp, F, G)
for nm in ["equal", "not_equal", "greater", "greater_equal", "less", "less_equal"]:
    case(nm, getattr(ops, nm), getattr(np, nm), F, G)
    case(nm, getattr(ops, nm), getattr(np, nm), IN, F, id=f"{nm}-mixed")
for nm in ["logical_and", "logical_or", "logical_xor"]:
    case(nm, getattr(ops, nm), getattr(np, nm), B, IN)
case("logical_not", ops.logical_not, np.logical_not, IN)
case("isclose", ops.isclose, np.isclose, F, F + 1e-7)

# --- element-wise unary ------------------------------------------------------------------------
for nm, data in [("sqrt", P), ("exp", F), ("expm1", F), ("log", P), ("log1p", P),
                 ("log2", P), ("log10", P), ("sin", F), ("cos", F), ("tan", U),
                 ("arcsin", U), ("arccos", U), ("arctan", F), ("sinh", F), ("cosh", F),
                 ("tanh", F), ("arcsinh", F), ("arccosh", P + 1), ("arctanh", U),
                 ("reciprocal", P), ("floor", F), ("ceil", F), ("abs", F), ("absolute", F),
                 ("negative", F), ("square", F), ("sign", F), ("round", F * 3), ("trunc", F * 3),
                 ("exp2", F), ("cbrt", F), ("deg2rad", F), ("rad2deg", F), ("isnan", F),
                 ("isinf", F), ("isfinite", F)]:
    case(nm, getattr(ops, nm), getattr(np, nm), data, rtol=1e-5, atol=1e-5)
for nm in ["sqrt", "exp", "log1p", "sin", "floor", "ceil"]:
    case(nm, getattr(ops, nm), lambda a, f=getattr(np, nm): f(a).astype(np.float32), J,
         dtype="float32", id=f"{nm}-int")
for nm in ["abs", "negative", "square", "sign", "round", "trunc"]:
    case(nm, getattr(ops, nm), getattr(np, nm), IN, id=f"{nm}-int")
case("round", lambda a: ops.round(a, 2), lambda a: np.round(a, 2), F * 10, id="round-decimals")
NANS = np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)
case("nan_to_num", ops.nan_to_num, np.nan_to_num, NANS)
case("nan_to_num", lambda a: ops.nan_to_num(a, nan=1.0, posinf=5.0, neginf=-5.0),
     lambda a: np.nan_to_num(a, nan=1.0, posinf=5.0, neginf=-5.0), NANS, id="nan_to_num-args")
case("isnan", ops.isnan, np.isnan, NANS, id="isnan-nans")
case("clip", lambda a: ops.clip(a, -0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5), F)
case("clip", lambda a: ops.clip(a, -1, 2), lambda a: np.clip(a, -1, 2), IN, id="clip-int")
case("where", ops.where, np.where, B, F, G)
case("where", ops.where, lambda c, a, b: np.where(c, a, b).astype(np.float32), B, IN, F,
     dtype="float32", id="where-mixed")
case("select", lambda a, b: ops.select([a > 0.5, a < -0.5], [a, b], 7.0),
     lambda a, b: np.select([a > 0.5, a < -0.5], [a, b], 7.0).astype(np.float32), F, G)

# --- reductions ----------------------------------------------------------------------------------
for nm, data in [("sum", F), ("mean", F), ("max", F), ("min", F), ("prod", P), ("std", F),
                 ("var", F), ("amax", F), ("amin", F)]:
    for axis in [None, 0, -1, (0, 1)]:
        for kd in [False, True]:
            case(nm, lambda a, f=getattr(ops, nm), ax=axis, k=kd: f(a, axis=ax, keepdims=k),
                 lambda a, f=getattr(np, nm), ax=axis, k=kd: f(a, axis=ax, keepdims=k),
                 data, rtol=1e-4, atol=1e-5, id=f"{nm}-{axis}-{kd}")
case("sum", lambda a: ops.sum(a, axis=1), lambda a: np.sum(a, axis=1), T3, id="sum-3d-mid")
case("mean", ops.mean, lambda a: np.float32(np.mean(a)), IN, dtype="float32", id="mean-int")
case("mean", lambda a: ops.mean(a, axis=0), lambda a: np.mean(a, 0).astype(np.float32), IN,
     dtype="float32", id="mean-int-axis")
case("sum", ops.sum, lambda a: np.sum(a).astype(np.int32), B, dtype="int32", id="sum-bool")
case("sum", ops.sum, lambda a: np.sum(a).astype(np.int32), IN.astype(np.int8), dtype="int32",
     id="sum-int8")
case("var", ops.var, lambda a: np.float32(np.var(a)), IN, dtype="float32", id="var-int")
case("max", lambda a: ops.max(a, initial=0.5), lambda a: np.max(a, initial=0.5), F,
     id="max-initial")
for nm in ["all", "any"]:
    for axis in [None, 0, 1]:
        case(nm, lambda a, f=getattr(ops, nm), ax=axis: f(a, axis=ax),
             lambda a, f=getattr(np, nm), ax=axis: f(a, axis=ax), B, id=f"{nm}-{axis}")
    case(nm, getattr(ops, nm), getattr(np, nm), IN, id=f"{nm}-int")
for nm in ["argmax", "argmin"]:
    for axis in [None, 0, -1]:
        case(nm, lambda a, f=getattr(ops, nm), ax=axis: f(a, axis=ax),
             lambda a, f=getattr(np, nm), ax=axis: f(a, axis=ax).astype(np.int32), F,
             dtype="int32", id=f"{nm}-{axis}")
    case(nm, lambda a, f=getattr(ops, nm): f(a, axis=1, keepdims=True),
         lambda a, f=getattr(np, nm): f(a, axis=1, keepdims=True).astype(np.int32), F,
         dtype="int32", id=f"{nm}-keepdims")
for nm in ["cumsum", "cumprod"]:
    for axis in [None, 0, 1]:
        case(nm, lambda a, f=getattr(ops, nm), ax=axis: f(a, axis=ax),
             lambda a, f=getattr(np, nm), ax=axis: f(a, axis=ax), P, rtol=1e-4,
             id=f"{nm}-{axis}")
case("cumsum", ops.cumsum, lambda a: np.cumsum(a).astype(np.int32), B, dtype="int32",
     id="cumsum-bool")
case("count_nonzero", ops.count_nonzero, lambda a: np.int32(np.count_nonzero(a)), IN,
     dtype="int32")
case("count_nonzero", lambda a: ops.count_nonzero(a, axis=0),
     lambda a: np.count_nonzero(a, axis=0).astype(np.int32), IN, dtype="int32",
     id="count_nonzero-axis")
case("average", ops.average, np.average, F)
case("average", lambda a, w: ops.average(a, axis=1, weights=w),
     lambda a, w: np.average(a, axis=1, weights=w), F, P[0])
case("average", lambda a, w: ops.average(a, axis=None, weights=w),
     lambda a, w: np.average(a, weights=w), F, P, id="average-full-weights")
for method in ["linear", "lower", "higher", "midpoint", "nearest"]:
    case("quantile", lambda a, mt=method: ops.quantile(a, [0.1, 0.5, 0.9], axis=1, method=mt),
         lambda a, mt=method: np.quantile(a, [0.1, 0.5, 0.9], axis=1, method=mt), F,
         rtol=1e-5, dtype="float32", id=f"quantile-{method}")
case("quantile", lambda a: ops.quantile(a, 0.3), lambda a: np.quantile(a, 0.3), T3,
     id="quantile-scalar-q")
case("quantile", lambda a: ops.quantile(a, 0.3, axis=(0, 2), keepdims=True),
     lambda a: np.quantile(a, 0.3, axis=(0, 2), keepdims=True), T3, id="quantile-keepdims")
case("median", ops.median, np.median, F)
case("median", lambda a: ops.median(a, axis=0), lambda a: np.median(a, axis=0), F,
     id="median-axis")

# --- shapes --------------------------------------------------------------------------------------
case("reshape", lambda a: ops.reshape(a, (2, -1)), lambda a: a.reshape(2, -1), F)
case("transpose", ops.transpose, np.transpose, T3)
case("transpose", lambda a: ops.transpose(a, (1, 0, 2)), lambda a: a.transpose(1, 0, 2), T3,
     id="transpose-axes")
case("expand_dims", lambda a: ops.expand_dims(a, -1), lambda a: np.expand_dims(a, -1), F)
case("expand_dims", lambda a: ops.expand_dims(a, (0, 2)), lambda a: np.expand_dims(a, (0, 2)),
     F, id="expand_dims-tuple")
case("squeeze", ops.squeeze, np.squeeze, F[None, :, None])
case("squeeze", lambda a: ops.squeeze(a, 0), lambda a: np.squeeze(a, 0), F[None, :, None],
     id="squeeze-axis")
case("ravel", ops.ravel, np.ravel, T3)
case("swapaxes", lambda a: ops.swapaxes(a, 0, 2), lambda a: np.swapaxes(a, 0, 2), T3)
case("moveaxis", lambda a: ops.moveaxis(a, 0, -1), lambda a: np.moveaxis(a, 0, -1), T3)
case("moveaxis", lambda a: ops.moveaxis(a, [0, 1], [2, 0]),
     lambda a: np.moveaxis(a, [0, 1], [2, 0]), T3, id="moveaxis-multi")
case("broadcast_to", lambda a: ops.broadcast_to(a, (2, 3, 4)),
     lambda a: np.broadcast_to(a, (2, 3, 4)), V)
case("tile", lambda a: ops.tile(a, (2, 1)), lambda a: np.tile(a, (2, 1)), F)
case("tile", lambda a: ops.tile(a, 2), lambda a: np.tile(a, 2), F, id="tile-int")
case("tile", lambda a: ops.tile(a, (2, 1, 3)), lambda a: np.tile(a, (2, 1, 3)), F,
     id="tile-more-dims")
case("repeat", lambda a: ops.repeat(a, 2, axis=1), lambda a: np.repeat(a, 2, axis=1), F)
case("repeat", lambda a: ops.repeat(a, 2), lambda a: np.repeat(a, 2), F, id="repeat-flat")
case("repeat", lambda a: ops.repeat(a, [1, 0, 2], axis=0),
     lambda a: np.repeat(a, [1, 0, 2], axis=0), F, id="repeat-counts")
case("concatenate", lambda a, b: ops.concatenate([a, b], axis=1),
     lambda a, b: np.concatenate([a, b], axis=1), F, G)
case("concatenate", lambda a, b: ops.concatenate([a, b], axis=None),
     lambda a, b: np.concatenate([a, b], axis=None).astype(np.float32), IN, F, dtype="float32",
     id="concatenate-none-mixed")
case("append", ops.append, np.append, F, G)
case("append", lambda a, b: ops.append(a, b, axis=0), lambda a, b: np.append(a, b, axis=0),
     F, G, id="append-axis")
case("stack", lambda a, b: ops.stack([a, b], axis=1), lambda a, b: np.stack([a, b], axis=1),
     F, G)
case("vstack", lambda a, b: ops.vstack([a, b]), lambda a, b: np.vstack([a, b]), F, G)
case("vstack", lambda a, b: ops.vstack([a, b]), lambda a, b: np.vstack([a, b]), V, V,
     id="vstack-1d")
case("hstack", lambda a, b: ops.hstack([a, b]), lambda a, b: np.hstack([a, b]), F, G)
case("hstack", lambda a, b: ops.hstack([a, b]), lambda a, b: np.hstack([a, b]), V, V,
     id="hstack-1d")
case("dstack", lambda a, b: ops.dstack([a, b]), lambda a, b: np.dstack([a, b]), F, G)
case("flip", ops.flip, np.flip, F)
case("flip", lambda a: ops.flip(a, 1), lambda a: np.flip(a, 1), F, id="flip-axis")
case("roll", lambda a: ops.roll(a, 2), lambda a: np.roll(a, 2), F)
case("roll", lambda a: ops.roll(a, -1, axis=1), lambda a: np.roll(a, -1, axis=1), F,
     id="roll-axis")
case("roll", lambda a: ops.roll(a, (1, 2), axis=(0, 1)),
     lambda a: np.roll(a, (1, 2), axis=(0, 1)), F, id="roll-multi")
for mode in ["constant", "reflect", "symmetric"]:
    case("pad", lambda a, md=mode: ops.pad(a, ((1, 2), (2, 1)), mode=md),
         lambda a, md=mode: np.pad(a, ((1, 2), (2, 1)), mode=md), F, id=f"pad-{mode}")
case("pad", lambda a: ops.pad(a, 1, constant_values=3.0),
     lambda a: np.pad(a, 1, constant_values=3.0), F, id="pad-int-width")
case("take", lambda a: ops.take(a, np.array([0, -1, 2])),
     lambda a: np.take(a, [0, -1, 2]), F)
case("take", lambda a: ops.take(a, np.array([[0, 3], [1, 1]]), axis=1),
     lambda a: np.take(a, [[0, 3], [1, 1]], axis=1), F, id="take-axis")
IDX = np.argsort(F, axis=1).astype(np.int32)
case("take_along_axis", lambda a, i: ops.take_along_axis(a, i, axis=1),
     lambda a, i: np.take_along_axis(a, i, axis=1), F, IDX)
case("take_along_axis", lambda a, i: ops.take_along_axis(a, i, axis=0),
     lambda a, i: np.take_along_axis(a, i, axis=0), F, np.array([[2, 0, 1, 0]], np.int32),
     id="take_along_axis-broadcast")
case("sort", ops.sort, np.sort, F)
case("sort", lambda a: ops.sort(a, axis=0), lambda a: np.sort(a, axis=0), F, id="sort-axis")
case("argsort", ops.argsort, lambda a: np.argsort(a, kind="stable").astype(np.int32), F,
     dtype="int32")
for k in [0, 1, -1]:
    case("tril", lambda a, kk=k: ops.tril(a, kk), lambda a, kk=k: np.tril(a, kk), F,
         id=f"tril-{k}")
    case("triu", lambda a, kk=k: ops.triu(a, kk), lambda a, kk=k: np.triu(a, kk), F,
         id=f"triu-{k}")
    case("diag", lambda a, kk=k: ops.diag(a, kk), lambda a, kk=k: np.diag(a, kk), F,
         id=f"diag-2d-{k}")
    case("diag", lambda a, kk=k: ops.diag(a, kk), lambda a, kk=k: np.diag(a, kk), V,
         id=f"diag-1d-{k}")
    case("diagonal", lambda a, kk=k: ops.diagonal(a, kk, 0, 2),
         lambda a, kk=k: np.diagonal(a, kk, 0, 2), T3, id=f"diagonal-{k}")
    case("trace", lambda a, kk=k: ops.trace(a, kk), lambda a, kk=k: np.trace(a, kk), F,
         rtol=1e-5, id=f"trace-{k}")
case("trace", ops.trace, lambda a: np.trace(a).astype(np.int32), IN, dtype="int32",
     id="trace-int")

# --- products ------------------------------------------------------------------------------------
case("matmul", ops.matmul, np.matmul, F, G.T)
case("matmul", ops.matmul, np.matmul, V, V, id="matmul-1d-1d")
case("matmul", ops.matmul, np.matmul, F, V, id="matmul-2d-1d")
case("matmul", ops.matmul, np.matmul, V, G.T, id="matmul-1d-2d")
case("matmul", ops.matmul, np.matmul, T3, V, id="matmul-3d-1d")
case("matmul", ops.matmul, np.matmul, T3, SQ, id="matmul-broadcast")
case("matmul", ops.matmul, np.matmul, IN, J.T, id="matmul-int")
case("matmul", ops.matmul, lambda a, b: np.matmul(a, b).astype(np.float32), IN, G.T,
     dtype="float32", id="matmul-mixed")
case("dot", ops.dot, np.dot, V, V)
case("dot", ops.dot, np.dot, F, SQ, id="dot-2d")
case("dot", ops.dot, np.dot, T3, rng.normal(size=(2, 4, 5)).astype(np.float32), id="dot-nd")
case("dot", ops.dot, np.dot, np.float32(2.0), F, id="dot-scalar")
case("vdot", ops.vdot, np.vdot, F, G)
case("inner", ops.inner, np.inner, F, G)
case("outer", ops.outer, np.outer, V, F[0])
case("tensordot", ops.tensordot, lambda a, b: np.tensordot(a, b, 2), T3, F)
case("tensordot", lambda a, b: ops.tensordot(a, b, axes=([2], [1])),
     lambda a, b: np.tensordot(a, b, axes=([2], [1])), T3, F, id="tensordot-lists")
case("einsum", lambda a, b: ops.einsum("bij,jk->bik", a, b),
     lambda a, b: np.einsum("bij,jk->bik", a, b), T3, SQ)
V3 = rng.normal(size=(5, 3)).astype(np.float32)
W3 = rng.normal(size=(5, 3)).astype(np.float32)
case("cross", ops.cross, np.cross, V3, W3)
case("cross", ops.cross, np.cross, V3[:, :2], W3[:, :2], id="cross-2d", marks=_NP2D)
case("cross", ops.cross, np.cross, V3[:, :2], W3, id="cross-2-3", marks=_NP2D)
case("cross", lambda a, b: ops.cross(a, b, axis=0), lambda a, b: np.cross(a, b, axis=0),
     V3.T, W3.T, id="cross-axis0")

# --- creation and misc ---------------------------------------------------------------------------
case("zeros", lambda: ops.zeros((2, 3)), lambda: np.zeros((2, 3), np.float32))
case("ones", lambda: ops.ones(3, dtype="int32"), lambda: np.ones(3, np.int32))
case("full", lambda: ops.full((2, 2), 7), lambda: np.full((2, 2), 7, np.int32))
case("full", lambda: ops.full((2, 2), 0.5), lambda: np.full((2, 2), 0.5, np.float32),
     id="full-float")
case("empty", lambda: ops.empty((2,)).shape.as_list(), lambda: [2])
case("zeros_like", ops.zeros_like, np.zeros_like, IN)
case("ones_like", lambda a: ops.ones_like(a, dtype="float32"),
     lambda a: np.ones_like(a, np.float32), IN)
case("full_like", lambda a: ops.full_like(a, 3), lambda a: np.full_like(a, 3), F)
case("eye", lambda: ops.eye(3, 4, k=1), lambda: np.eye(3, 4, 1, dtype=np.float32))
case("identity", lambda: ops.identity(3), lambda: np.identity(3, np.float32))
case("tri", lambda: ops.tri(3, 4, -1), lambda: np.tri(3, 4, -1, dtype=np.float32))
case("arange", lambda: ops.arange(5), lambda: np.arange(5, dtype=np.int32))
case("arange", lambda: ops.arange(1, 2, 0.25), lambda: np.arange(1, 2, 0.25, dtype=np.float32),
     id="arange-float")
case("linspace", lambda: ops.linspace(0, 1, 5), lambda: np.linspace(0, 1, 5, dtype=np.float32))
case("linspace", lambda: ops.linspace(0, 1, 4, endpoint=False),
     lambda: np.linspace(0, 1, 4, endpoint=False, dtype=np.float32), id="linspace-no-end")
case("logspace", lambda: ops.logspace(0, 2, 3), lambda: np.logspace(0, 2, 3, dtype=np.float32))
case("logspace", lambda: ops.logspace(0, 3, 4, base=2),
     lambda: np.logspace(0, 3, 4, base=2, dtype=np.float32), id="logspace-base")
case("copy", ops.copy, np.copy, F)
case("array", lambda a: ops.array(a, "float64"), lambda a: a.astype(np.float64), F)
case("size", ops.size, lambda a: np.int32(a.size), T3, dtype="int32")
case("ndim", ops.ndim, np.ndim, T3)
case("bincount", ops.bincount, lambda a: np.bincount(a).astype(np.int32), J.ravel(),
     dtype="int32")
case("bincount", lambda a, w: ops.bincount(a, w, minlength=8),
     lambda a, w: np.bincount(a, w, minlength=8).astype(np.float32), J.ravel(), P.ravel(),
     dtype="float32", id="bincount-weights")
SS = np.sort(V)
case("searchsorted", ops.searchsorted, lambda s, v: np.searchsorted(s, v).astype(np.int32),
     SS, F, dtype="int32")
case("searchsorted", lambda s, v: ops.searchsorted(s, v, side="right"),
     lambda s, v: np.searchsorted(s, v, side="right").astype(np.int32),
     np.array([0.0, 1.0, 1.0, 2.0], np.float32), np.array([1.0, 0.5, 3.0], np.float32),
     dtype="int32", id="searchsorted-right")
case("digitize", ops.digitize, lambda a, b: np.digitize(a, b).astype(np.int32), F,
     np.array([-1.0, 0.0, 1.0], np.float32), dtype="int32")
case("diff", ops.diff, np.diff, F)
case("diff", lambda a: ops.diff(a, 2, axis=0), lambda a: np.diff(a, 2, axis=0), T3,
     id="diff-n2")
for k in [0, 1, 2, 3, -1, 5]:
    case("rot90", lambda a, kk=k: ops.rot90(a, kk), lambda a, kk=k: np.rot90(a, kk), F,
         id=f"rot90-{k}")
case("rot90", lambda a: ops.rot90(a, 1, axes=(2, 0)), lambda a: np.rot90(a, 1, axes=(2, 0)),
     T3, id="rot90-axes")
case("kron", ops.kron, np.kron, F[:2, :3], G[:3, :2])
case("kron", ops.kron, np.kron, V, F, id="kron-ranks")
case("kron", ops.kron, np.kron, IN[:2], J[:2, :2], id="kron-int")
case("heaviside", ops.heaviside, np.heaviside, np.array([-1.5, 0.0, 2.0], np.float32),
     np.array([0.5, 0.25, 0.1], np.float32))
case("heaviside", lambda a: ops.heaviside(a, 0.5), lambda a: np.heaviside(a, np.float32(0.5)),
     np.where(B, F, 0).astype(np.float32), id="heaviside-scalar")
case("trapezoid", ops.trapezoid, np.trapezoid, F)
case("trapezoid", lambda y: ops.trapezoid(y, dx=0.5, axis=0),
     lambda y: np.trapezoid(y, dx=0.5, axis=0), F, id="trapezoid-dx")
case("trapezoid", lambda y, x: ops.trapezoid(y, x), lambda y, x: np.trapezoid(y, x), F,
     np.sort(V), id="trapezoid-x", rtol=1e-5)
case("unravel_index", lambda i: ops.unravel_index(i, (3, 4, 5)),
     lambda i: np.unravel_index(i, (3, 4, 5)), np.array([0, 7, 59, 23], np.int32))
for nm in ["bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift"]:
    case(nm, getattr(ops, nm), getattr(np, nm), IN, J)
case("bitwise_left_shift", ops.bitwise_left_shift, np.left_shift, J, J)
case("bitwise_right_shift", ops.bitwise_right_shift, np.right_shift, IN, J)
case("bitwise_invert", ops.bitwise_invert, np.invert, IN)
case("bitwise_not", ops.bitwise_not, np.invert, B)
case("bitwise_and", ops.bitwise_and, np.bitwise_and, B, ~B, id="bitwise_and-bool")
case("diagflat", ops.diagflat, np.diagflat, F[:2, :2])
case("diagflat", lambda a: ops.diagflat(a, -1), lambda a: np.diagflat(a, -1), V,
     id="diagflat-k")
case("get_item", lambda a: ops.get_item(a, (slice(None), 1)), lambda a: a[:, 1], F)


def _as_np(out):
    if isinstance(out, (list, tuple)):
        return [np.asarray(o) for o in out]
    return np.asarray(out)


@pytest.mark.parametrize("kfn, nfn, args, dtype, rtol, atol", CASES)
def test_against_numpy(kfn, nfn, args, dtype, rtol, atol):
    got = kfn(*args)
    want = nfn(*args)
    if isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(g), w, rtol=rtol, atol=atol)
        return
    want = np.asarray(want)
    g = _as_np(got)
    assert g.shape == want.shape, (g.shape, want.shape)
    expected_dtype = np.dtype(dtype) if dtype is not None else want.dtype
    if hasattr(got, "dtype") and not isinstance(got, np.ndarray):
        assert np.dtype(got.dtype.name if got.dtype.name != "bool" else np.bool_) == \
            expected_dtype, (got.dtype, expected_dtype)
    np.testing.assert_allclose(g.astype(np.float64) if g.dtype.kind != "b" else g,
                               want.astype(np.float64) if want.dtype.kind != "b" else want,
                               rtol=rtol, atol=atol)


def test_split_numpy_semantics():
    x = np.arange(12, dtype=np.float32).reshape(2, 6)
    for spec in [3, [1, 4], [2, 2, 5], [-2]]:
        got = ops.split(x, spec, axis=1)
        want = np.split(x, spec, axis=1)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(np.asarray(g), w)


def test_unstack_meshgrid_nonzero_where():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    parts = ops.unstack(x, axis=1)
    assert [p.numpy().tolist() for p in parts] == [x[:, i].tolist() for i in range(3)]
    a, b = np.arange(3, dtype=np.float32), np.arange(2, dtype=np.float32)
    for idx in ["xy", "ij"]:
        for g, w in zip(ops.meshgrid(a, b, indexing=idx), np.meshgrid(a, b, indexing=idx)):
            np.testing.assert_array_equal(np.asarray(g), w)
    m = np.array([[0, 1], [2, 0]], np.int32)
    for g, w in zip(ops.nonzero(m), np.nonzero(m)):
        assert g.dtype.name == "int32"
        np.testing.assert_array_equal(np.asarray(g), w)
    for g, w in zip(ops.where(m), np.nonzero(m)):
        np.testing.assert_array_equal(np.asarray(g), w)


def test_argpartition_contract():
    x = np.array([[5.0, 1.0, 4.0, 2.0, 3.0], [0.0, -1.0, 7.0, 2.0, 2.5]], np.float32)
    for kth in (0, 2, 4, -1):
        idx = np.asarray(ops.argpartition(x, kth, axis=1))
        assert idx.dtype == np.int32
        part = np.take_along_axis(x, idx, 1)
        k = kth % 5
        np.testing.assert_array_equal(part[:, k], np.sort(x, 1)[:, k])
        pivot = part[:, k:k + 1]
        assert (part[:, :k] <= pivot).all() and (part[:, k + 1:] >= pivot).all()
    with pytest.raises(ValueError, match="bitwise"):
        ops.bitwise_and(F, F)


def test_linspace_retstep_and_errors():
    vals, step = ops.linspace(0.0, 1.0, 5, retstep=True)
    np.testing.assert_allclose(np.asarray(vals), np.linspace(0, 1, 5))
    assert float(step) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="sections"):
        ops.split(np.zeros((5,), np.float32), 2)
    with pytest.raises(ValueError, match="mode"):
        ops.pad(np.zeros((2,), np.float32), 1, mode="edge")
    with pytest.raises(ValueError, match="matmul"):
        ops.matmul(np.float32(1.0), np.ones(2, np.float32))
