"""Normalisation with a learned scale and offset as one pure op: layer normalization and batch
normalization in training mode are both `normalize` over different axes.

The op's outputs are the result and everything its backward pass needs (x_hat, 1/std) plus the
statistics (mean, variance) that batch normalization's moving averages read. The gradient rule
reads those outputs, never a side table or a global mode, so the same fused backward kernel
runs eagerly, in traced graphs (`fit`) and under nested tapes; the backward kernel is itself an
op with a gradient rule written with ndflow ops, so second and higher orders work.

>>> import ndflow as tf
>>> from ndflow.ops.normalization import normalize
>>> y, mean, var = normalize(tf.constant([[1.0, 2.0, 3.0]]), tf.ones([3]), tf.zeros([3]),
...                          axes=(1,), epsilon=0.0)
>>> [round(float(v), 3) for v in y.numpy()[0]], float(mean[0, 0])
([-1.225, 0.0, 1.225], 2.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.backend import jit, parallel
from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor
from ndflow.ops import math as m
from ndflow.ops._util import known_size, t
from ndflow.ops.reduce import reduce_mean, reduce_sum
from ndflow.ops.row_sums import pairwise_program, row_sum
from ndflow.ops.shape_ops import broadcast_to, reshape


def _param_axes(ndim: int, bshape: tuple | None) -> tuple:
    """The axes the scale/offset are broadcast over (their gradients sum over these)."""
    if bshape is None:  # parameters of shape (C,) on the last axis
        return tuple(range(ndim - 1))
    return tuple(i for i, d in enumerate(bshape) if d == 1)


def _group_size(shape: tuple, axes: tuple) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


# --- compiled layer-norm loops (ndflow[jit]); rows summed in NumPy's order (row_sums) -----
@jit.kernel
def _layer_norm_jit(x: Any, g: Any, b: Any, eps: Any, out: Any, xhat: Any, inv: Any,
                    mean: Any, var: Any, n: Any, one: Any, zero: Any, prog: Any, r0: int,
                    r1: int) -> None:
    """Layer norm over the last axis of 2-D `x`, rows r0:r1 one by one: the NumPy path's
    operations."""
    C = x.shape[1]
    stack = np.empty(64, x.dtype)
    for r in range(r0, r1):
        row, d, sq = x[r], xhat[r], out[r]
        m = row_sum(row, prog, stack, zero) / n
        for j in range(C):
            v = row[j] - m
            d[j] = v
            sq[j] = v * v
        v = row_sum(sq, prog, stack, zero) / n
        iv = one / np.sqrt(v + eps)
        mean[r] = m
        var[r] = v
        inv[r] = iv
        for j in range(C):
            h = d[j] * iv
            d[j] = h
            sq[j] = h * g[j] + b[j]


@jit.kernel
def _layer_norm_grad_jit(gy: Any, xhat: Any, inv: Any, gam: Any, gx: Any, ggamma: Any,
                         gbeta: Any, tmp: Any, n: Any, zero: Any, prog: Any) -> None:
    """The layer-norm backward pass row by row (gx, and the scale/offset sums accumulated
    over rows in order): the NumPy path's operations. (Rows split across threads ran no
    faster here: the pass is bound by memory.)"""
    R, C = gy.shape
    stack = np.empty(64, gy.dtype)
    for j in range(C):
        ggamma[j] = zero
        gbeta[j] = zero
    for r in range(R):
        g, h, gh = gy[r], xhat[r], gx[r]
        for j in range(C):
            v = g[j] * gam[j]
            gh[j] = v
            tmp[j] = v * h[j]
        proj = row_sum(tmp, prog, stack, zero) / n
        for j in range(C):
            ggamma[j] += g[j] * h[j]
            gbeta[j] += g[j]
        mu = row_sum(gh, prog, stack, zero) / n
        iv = inv[r]
        for j in range(C):
            gh[j] = ((gh[j] - mu) - h[j] * proj) * iv


def _layer_norm_ok(x: Any, params: tuple, xhat: Any = None, inv: Any = None) -> bool:
    """Whether the compiled loops take this call: float NumPy arrays of one dtype, C-contiguous,
    parameters of exactly the last axis's length and (backward) the saved x_hat and 1/std of
    x's shape and row count; anything else, including a mismatch that must raise, takes the
    NumPy path."""
    saved = () if xhat is None else (xhat, inv)
    return type(x) is np.ndarray and x.dtype in (np.float32, np.float64) and x.ndim >= 2 \
        and x.size > 0 and jit.accepts(x, *params, *saved) \
        and all(a.dtype == x.dtype for a in params + saved) \
        and all(p.shape == (x.shape[-1],) for p in params) \
        and (not saved or (xhat.shape == x.shape and inv.size * x.shape[-1] == x.size))


# Rows per block of the compiled layer-norm loops on the pool.
_MIN_ROWS = 256


# --- forward ---------------------------------------------------------------------------------
def _norm_fwd(xp: Any, x: Any, gamma: Any, beta: Any, axes: tuple, eps: float,
              bshape: tuple | None) -> tuple:
    if bshape is None and axes == (x.ndim - 1,) and _layer_norm_ok(x, (gamma, beta)):
        C = x.shape[-1]
        x2 = x.reshape(-1, C)
        out, xhat = np.empty_like(x2), np.empty_like(x2)
        stat = np.empty((x2.shape[0], 1), x.dtype)
        mean, var = np.empty_like(stat), np.empty_like(stat)
        dt = x.dtype.type
        args = (x2, gamma, beta, dt(eps), out, xhat, stat, mean, var, dt(C), dt(1), dt(0),
                pairwise_program(C))
        kernel = _layer_norm_jit.function
        parallel.run_blocks(lambda r0, r1: kernel(*args, r0, r1), x2.shape[0], _MIN_ROWS)
        sshape = x.shape[:-1] + (1,)
        return (out.reshape(x.shape), xhat.reshape(x.shape), stat.reshape(sshape),
                mean.reshape(sshape), var.reshape(sshape))
    mean = x.mean(axis=axes, keepdims=True)
    d = x - mean
    sq = xp.square(d)
    var = sq.mean(axis=axes, keepdims=True)
    inv = (1.0 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
    d *= inv  # d is now x_hat
    g = gamma if bshape is None else gamma.reshape(bshape)
    b = beta if bshape is None else beta.reshape(bshape)
    out = xp.multiply(d, g, out=sq)
    out += b
    return out, d, inv, mean, var


def _norm_infer(x: Spec, gamma: Spec, beta: Spec, axes: tuple, eps: float,
                bshape: tuple | None) -> tuple:
    nd = x.ndim
    if not axes or any(not 0 <= a < nd for a in axes):
        raise fail("normalize", f"axes in [0, {nd}) for an input of rank {nd}",
                   f"axes={list(axes)}")
    want = known_size((x.shape[-1],) if bshape is None else bshape)
    for name, p in (("scale", gamma), ("offset", beta)):
        size = known_size(p.shape)
        if size is not None and want is not None and size != want:
            raise fail("normalize", f"a {name} with {want} values", f"shape {list(p.shape)}",
                       "The scale and offset span the axes that are not normalised over "
                       "(batch norm) or the normalised axes (layer norm).")
    stat = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    return (Spec(x.shape, x.dtype), Spec(x.shape, x.dtype), Spec(stat, x.dtype),
            Spec(stat, x.dtype), Spec(stat, x.dtype))


def _norm_grad(node: Any, gy: Any, gxhat: Any = None, ginv: Any = None, gmean: Any = None,
               gvar: Any = None) -> tuple:
    x, gamma, _ = node.inputs
    _, xhat, inv, _, _ = node.outputs
    axes, bshape = node.attrs["axes"], node.attrs["bshape"]
    needs = node.needs
    gx = ggamma = gbeta = None
    if gy is not None:
        gx, ggamma, gbeta = execute(_NORM_GRAD, (gy, xhat, inv, gamma),
                                    {"axes": axes, "bshape": bshape})
    if needs[0] and not (gxhat is None and ginv is None and gmean is None and gvar is None):
        # Gradients reaching the saved outputs (second order, or a user reading them): the
        # derivatives of x_hat, 1/std, mean and variance with respect to x.
        shape = tuple(x.shape)
        n = float(_group_size(shape, axes))
        terms = []
        if gxhat is not None:
            terms.append(_center_project(gxhat, xhat, inv, axes))
        if ginv is not None:
            terms.append(m.negative(m.divide(m.multiply(m.multiply(ginv, m.square(inv)), xhat),
                                             n)))
        if gmean is not None:
            terms.append(broadcast_to(m.divide(gmean, n), shape))
        if gvar is not None:
            terms.append(m.divide(m.multiply(m.multiply(gvar, 2.0 / n), xhat), inv))
        for term in terms:
            gx = term if gx is None else m.add(gx, term)
    return (gx if needs[0] else None, ggamma if needs[1] else None,
            gbeta if needs[2] else None)


def _center_project(u: Tensor, xhat: Tensor, inv: Tensor, axes: tuple) -> Tensor:
    """`inv * (u - mean(u) - xhat * mean(u * xhat))` over `axes`: the transpose of the
    normalisation's Jacobian applied to `u`."""
    mu = reduce_mean(u, axis=axes, keepdims=True)
    proj = reduce_mean(m.multiply(u, xhat), axis=axes, keepdims=True)
    return m.multiply(inv, m.subtract(m.subtract(u, mu), m.multiply(xhat, proj)))


_NORMALIZE = register_op("normalize", _norm_fwd, _norm_infer, _norm_grad, num_outputs=5)


# --- backward ----------------------------------------------------------------------------------
def _norm_grad_fwd(xp: Any, g: Any, xhat: Any, inv: Any, gamma: Any, axes: tuple,
                   bshape: tuple | None) -> tuple:
    """(d x, d scale, d offset) in one kernel with two temporaries."""
    paxes = _param_axes(g.ndim, bshape)
    gam = gamma if bshape is None else gamma.reshape(bshape)
    if type(g) is np.ndarray and not g.flags.c_contiguous and g.dtype == xhat.dtype:
        # e.g. the broadcast gradient of a mean over the sequence: one copy, then the
        # compiled loop (the NumPy path took 2.4 ms against 0.6 on a W4 layer)
        g = np.ascontiguousarray(g)
    if bshape is None and axes == (g.ndim - 1,) and _layer_norm_ok(g, (gamma,), xhat, inv):
        C = g.shape[-1]
        g2 = g.reshape(-1, C)
        gx = np.empty_like(g2)
        ggamma, gbeta = np.empty(C, g.dtype), np.empty(C, g.dtype)
        _layer_norm_grad_jit(g2, xhat.reshape(-1, C), inv.reshape(-1), gamma, gx, ggamma,
                             gbeta, np.empty(C, g.dtype), g.dtype.type(C), g.dtype.type(0),
                             pairwise_program(C))
        return gx.reshape(g.shape), ggamma.reshape(gamma.shape), gbeta.reshape(gamma.shape)
    if paxes == axes:
        # batch normalization: the scale is constant over each normalised group, so the
        # parameter sums are the group sums the input gradient needs
        n = _group_size(g.shape, axes)
        t_ = g * xhat
        gg = t_.sum(axis=axes, keepdims=True)
        gb = g.sum(axis=axes, keepdims=True)
        gx = g - gb / n
        xp.multiply(xhat, gg / n, out=t_)
        gx -= t_
        gx *= gam * inv
        return gx, gg.reshape(gamma.shape), gb.reshape(gamma.shape)
    gh = g * gam
    t_ = gh * xhat
    proj = t_.mean(axis=axes, keepdims=True)
    xp.multiply(g, xhat, out=t_)
    ggamma = t_.sum(axis=paxes).reshape(gamma.shape)
    gbeta = g.sum(axis=paxes).reshape(gamma.shape)
    gh -= gh.mean(axis=axes, keepdims=True)
    xp.multiply(xhat, proj, out=t_)
    gh -= t_
    gh *= inv
    return gh, ggamma, gbeta


def _norm_grad_infer(g: Spec, xhat: Spec, inv: Spec, gamma: Spec, axes: tuple,
                     bshape: tuple | None) -> tuple:
    return Spec(g.shape, g.dtype), Spec(gamma.shape, g.dtype), Spec(gamma.shape, g.dtype)


def _norm_grad_grad(node: Any, ga: Any, gb: Any = None, gc: Any = None) -> tuple:
    """Gradient of the backward kernel `d x = inv * P(g * scale)`, `P(v) = v - mean(v) -
    x_hat * mean(v * x_hat)`, and of the parameter sums. P is self-adjoint, so with
    `u = ga * inv` the input `g` receives `P(u) * scale`; x_hat receives the derivative of the
    projection term; 1/std the group sums of `ga * P(g * scale)`."""
    g, xhat, inv, gamma = node.inputs
    axes, bshape = node.attrs["axes"], node.attrs["bshape"]
    shape = tuple(g.shape)
    paxes = _param_axes(len(shape), bshape)
    gshape = tuple(gamma.shape)

    def bcast(p: Tensor) -> Tensor:
        return p if bshape is None else reshape(p, bshape)

    def psum(v: Tensor) -> Tensor:
        return reshape(reduce_sum(v, axis=paxes) if paxes else v, gshape)

    def mean(v: Tensor) -> Tensor:
        return reduce_mean(v, axis=axes, keepdims=True)

    gam = bcast(gamma)
    dg: list = []
    dxhat: list = []
    dinv = dgamma = None
    if ga is not None:
        gh = m.multiply(g, gam)
        u = m.multiply(ga, inv)
        w = m.subtract(m.subtract(u, mean(u)), m.multiply(xhat, mean(m.multiply(u, xhat))))
        dg.append(m.multiply(w, gam))
        dgamma = psum(m.multiply(w, g))
        p = m.subtract(m.subtract(gh, mean(gh)), m.multiply(xhat, mean(m.multiply(gh, xhat))))
        dinv = reduce_sum(m.multiply(ga, p), axis=axes, keepdims=True)
        dxhat.append(m.negative(m.add(m.multiply(u, mean(m.multiply(gh, xhat))),
                                      m.multiply(gh, mean(m.multiply(u, xhat))))))
    if gb is not None:
        b = bcast(gb)
        dg.append(m.multiply(b, xhat))
        dxhat.append(m.multiply(g, b))
    if gc is not None:
        dg.append(broadcast_to(bcast(gc), shape))

    def total(terms: list) -> Any:
        out = None
        for term in terms:
            out = term if out is None else m.add(out, term)
        return out

    return total(dg), total(dxhat), dinv, dgamma


_NORM_GRAD = register_op("normalize_grad", _norm_grad_fwd, _norm_grad_infer, _norm_grad_grad,
                         num_outputs=3)


# --- public function -----------------------------------------------------------------------------
def normalize(x: Any, scale: Any, offset: Any, axes: tuple, epsilon: float,
              param_shape: tuple | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """`scale * (x - mean) / sqrt(var + epsilon) + offset` with mean and (biased) variance
    over `axes`; returns `(output, mean, variance)`, the statistics with `keepdims` shape.

    `axes` is a sorted tuple of non-negative ints. `scale` and `offset` are broadcast against
    `x` after a reshape to `param_shape` (None: they have shape `(x.shape[-1],)`). Layer
    normalization normalises over the feature axes, batch normalization in training mode over
    every axis but the channels.

    >>> import ndflow as tf
    >>> y, _, var = normalize(tf.constant([[0.0], [2.0]]), tf.ones([1]), tf.zeros([1]),
    ...                       axes=(0,), epsilon=1e-3)
    >>> [round(float(v), 4) for v in y.numpy().ravel()], float(var[0, 0])
    ([-0.9995, 0.9995], 1.0)
    """
    y, _, _, mean, var = execute(_NORMALIZE, (t(x), t(scale), t(offset)),
                                 {"axes": tuple(axes), "eps": float(epsilon),
                                  "bshape": None if param_shape is None else tuple(param_shape)})
    return y, mean, var
