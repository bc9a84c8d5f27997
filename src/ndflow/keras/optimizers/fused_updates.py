"""One-pass optimizer updates, compiled when numba is installed (see `ndflow.backend.jit`).

Each kernel performs, per element and in the same order, exactly the float operations of its
optimizer's NumPy `_update`, so both paths give bitwise equal variables and slots; the kernel
reads and writes each array once instead of once per operator. Scalars arrive already cast to
the arrays' dtype, as NumPy casts Python scalars (NEP 50).

>>> import numpy as np
>>> from ndflow.keras.optimizers.fused_updates import sgd
>>> var, g = np.ones(2, np.float32), np.full(2, 0.5, np.float32)
>>> sgd(var, g, g, np.float32(0.1), np.float32(0.0), False, False)  # no momentum: m unused
>>> var.tolist()
[0.949999988079071, 0.949999988079071]
"""

from __future__ import annotations

import numpy as np

from ndflow.backend.jit import kernel


@kernel
def sgd(var, g, m, lr, momentum, use_momentum, nesterov):  # noqa: ANN001
    """``var -= lr*g``; with momentum ``m = momentum*m - lr*g`` and ``var += m`` (Nesterov:
    ``var = var - lr*g + momentum*m``)."""
    for i in range(var.size):
        step = g[i] * lr
        if use_momentum:
            mi = m[i] * momentum - step
            m[i] = mi
            if nesterov:
                var[i] = (var[i] - step) + mi * momentum
            else:
                var[i] += mi
        else:
            var[i] -= step


@kernel
def rmsprop(var, g, v, m, lr, rho, one_minus_rho, epsilon, momentum, use_momentum):  # noqa: ANN001
    """``v = rho*v + (1-rho)*g**2``; ``inc = g / sqrt(v + eps) * lr``; ``var -= inc`` (with
    momentum: ``m = momentum*m + inc``; ``var -= m``)."""
    for i in range(var.size):
        gi = g[i]
        vi = v[i] * rho + (gi * gi) * one_minus_rho
        v[i] = vi
        inc = (gi / np.sqrt(vi + epsilon)) * lr
        if use_momentum:
            inc = m[i] * momentum + inc
            m[i] = inc
        var[i] -= inc


@kernel
def adam(var, g, m, v, vhat, alpha, one_minus_b1, one_minus_b2, epsilon, amsgrad):  # noqa: ANN001
    """``m += (g-m)*(1-b1)``; ``v += (g*g-v)*(1-b2)``; (AMSGrad: ``vhat = max(vhat, v)`` is
    used for v); ``var -= m / (sqrt(v) + eps) * alpha``."""
    for i in range(var.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * one_minus_b1
        m[i] = mi
        vi = v[i] + (gi * gi - v[i]) * one_minus_b2
        v[i] = vi
        if amsgrad:
            h = vhat[i]
            if h != h or vi < h:  # np.maximum: a NaN in either wins, else the larger
                vi = h
            vhat[i] = vi
        var[i] -= (mi / (np.sqrt(vi) + epsilon)) * alpha
