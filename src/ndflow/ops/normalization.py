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

from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor
from ndflow.ops import math as m
from ndflow.ops._util import t
from ndflow.ops.reduce import reduce_mean, reduce_sum
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


# --- forward ---------------------------------------------------------------------------------
def _norm_fwd(xp: Any, x: Any, gamma: Any, beta: Any, axes: tuple, eps: float,
              bshape: tuple | None) -> tuple:
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


def _size(shape: tuple) -> int | None:
    n = 1
    for d in shape:
        if d is None:
            return None
        n *= d
    return n


def _norm_infer(x: Spec, gamma: Spec, beta: Spec, axes: tuple, eps: float,
                bshape: tuple | None) -> tuple:
    nd = x.ndim
    if not axes or any(not 0 <= a < nd for a in axes):
        raise fail("normalize", f"axes in [0, {nd}) for an input of rank {nd}",
                   f"axes={list(axes)}")
    want = _size((x.shape[-1],) if bshape is None else bshape)
    for name, p in (("scale", gamma), ("offset", beta)):
        size = _size(p.shape)
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
