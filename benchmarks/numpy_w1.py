"""The hand-written NumPy W1 training step: the floor a NumPy-based framework can reach on W1.

Forward, loss, backward and RMSprop written out by hand with preallocated buffers and in-place
ufuncs (`out=`), and two exact algebraic rewrites that save whole passes over the weights:

- the output gradient is scaled by sqrt(1 - rho) once (a 128x10 array), so every parameter
  gradient g' = sqrt(1 - rho) * g and RMSprop's `v = rho*v + (1 - rho)*g**2` becomes
  `v = rho*v + g'**2`, with the step `lr/sqrt(1 - rho) * g' / (sqrt(v) + eps)` (same numbers);
- the update runs over cache-sized chunks of each parameter, so its passes stay in L2.

NumPy cannot switch on flush-to-zero, so RMSprop state of parameters whose gradient stays 0
(dead ReLU units) would decay into subnormal floats, where x86 arithmetic is many times slower.
Every `_FLOOR_EVERY` steps the state is raised to at least `_V_FLOOR` (1e-30, far below eps**2 =
1e-14, so the step is unchanged to float32 precision); a framework can do the same.
"""

from __future__ import annotations

import math

import numpy as np

from common import W1_EPS, W1_HIDDEN, W1_IN, W1_LR, W1_OUT, W1_RHO

_CHUNK = 16_384  # elements per update chunk: 4 arrays x 64 KiB stay in L2
_FLOOR_EVERY = 64  # 0.9**64 ~ 1e-3: state raised to 1e-30 stays >= 1e-33, still normal
_V_FLOOR = np.float32(1e-30)


class HandMLP:
    """784 -> Dense(512, relu) -> Dense(10, softmax), sparse CCE, RMSprop, all by hand."""

    def __init__(self, weights: list[np.ndarray], lr: float = W1_LR, rho: float = W1_RHO,
                 eps: float = W1_EPS) -> None:
        self.params = [np.ascontiguousarray(w, dtype=np.float32).copy() for w in weights]
        self.grads = [np.empty_like(p) for p in self.params]
        self.vs = [np.zeros_like(p) for p in self.params]
        self.rho = np.float32(rho)
        self.eps = np.float32(eps)
        self.grad_scale = np.float32(math.sqrt(1.0 - rho))
        self.step_size = np.float32(lr / math.sqrt(1.0 - rho))
        self._tmp = np.empty(_CHUNK, np.float32)
        self._bufs: dict[int, dict[str, np.ndarray]] = {}
        self.steps = 0
        self.last_loss = float("nan")

    def _buffers(self, n: int) -> dict[str, np.ndarray]:
        b = self._bufs.get(n)
        if b is None:
            b = {"h": np.empty((n, W1_HIDDEN), np.float32),
                 "mask": np.empty((n, W1_HIDDEN), np.bool_),
                 "dh": np.empty((n, W1_HIDDEN), np.float32),
                 "z": np.empty((n, W1_OUT), np.float32),
                 "zmax": np.empty((n, 1), np.float32),
                 "zsum": np.empty((n, 1), np.float32),
                 "rows": np.arange(n)}
            self._bufs[n] = b
        return b

    def forward(self, x: np.ndarray, buf: dict[str, np.ndarray]) -> np.ndarray:
        w1, b1, w2, b2 = self.params
        h, z = buf["h"], buf["z"]
        np.matmul(x, w1, out=h)
        h += b1
        np.maximum(h, 0.0, out=h)
        np.matmul(h, w2, out=z)
        z += b2
        return z

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Softmax probabilities (a fresh array: it is what the caller keeps)."""
        z = self.forward(x, self._buffers(len(x)))
        p = z - z.max(axis=1, keepdims=True)
        np.exp(p, out=p)
        p /= p.sum(axis=1, keepdims=True)
        return p

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One step on a batch; returns the batch's loss."""
        n = len(x)
        buf = self._buffers(n)
        w1, b1, w2, b2 = self.params
        gw1, gb1, gw2, gb2 = self.grads
        z = self.forward(x, buf)
        h, dh, mask, rows = buf["h"], buf["dh"], buf["mask"], buf["rows"]
        zmax, zsum = buf["zmax"], buf["zsum"]
        # softmax + sparse cross-entropy (stable): loss = mean(log(sum(exp(z - max))) - (z_y - max))
        np.max(z, axis=1, keepdims=True, out=zmax)
        z -= zmax
        zy = z[rows, y]
        np.exp(z, out=z)
        np.sum(z, axis=1, keepdims=True, out=zsum)
        self.last_loss = float(np.log(zsum[:, 0]).mean() - zy.mean())
        # dL/dlogits = (softmax - onehot) / n, times the sqrt(1 - rho) of the RMSprop rewrite
        z /= zsum
        z[rows, y] -= 1.0
        z *= self.grad_scale / np.float32(n)
        # backward
        np.matmul(h.T, z, out=gw2)
        np.sum(z, axis=0, out=gb2)
        np.matmul(z, w2.T, out=dh)
        np.greater(h, 0.0, out=mask)
        np.multiply(dh, mask, out=dh)
        np.matmul(x.T, dh, out=gw1)
        np.sum(dh, axis=0, out=gb1)
        # RMSprop
        self.steps += 1
        floor = self.steps % _FLOOR_EVERY == 0
        for p, g, v in zip(self.params, self.grads, self.vs):
            self._rmsprop(p.reshape(-1), g.reshape(-1), v.reshape(-1), floor)
        return self.last_loss

    def _rmsprop(self, p: np.ndarray, g: np.ndarray, v: np.ndarray, floor: bool) -> None:
        rho, eps, step = self.rho, self.eps, self.step_size
        for s in range(0, p.size, _CHUNK):
            pc, gc, vc = p[s:s + _CHUNK], g[s:s + _CHUNK], v[s:s + _CHUNK]
            t = self._tmp[:pc.size]
            vc *= rho
            np.multiply(gc, gc, out=t)
            vc += t
            if floor:
                np.maximum(vc, _V_FLOOR, out=vc)
            np.sqrt(vc, out=t)
            t += eps
            np.divide(gc, t, out=t)
            t *= step
            pc -= t


def check_against_float64(weights: list[np.ndarray], x: np.ndarray, y: np.ndarray,
                          steps: int = 3) -> float:
    """Max relative difference of the parameters after `steps` steps vs a plain float64 version
    written the textbook way (guards the rewrites above)."""
    model = HandMLP(weights)
    ps = [w.astype(np.float64) for w in weights]
    vs = [np.zeros_like(p) for p in ps]
    for _ in range(steps):
        model.train_step(x, y)
        w1, b1, w2, b2 = ps
        h = np.maximum(x @ w1 + b1, 0)
        z = h @ w2 + b2
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        d = p.copy()
        d[np.arange(len(y)), y] -= 1
        d /= len(y)
        dh = (d @ w2.T) * (h > 0)
        gs = [x.T @ dh, dh.sum(0), h.T @ d, d.sum(0)]
        for i, g in enumerate(gs):
            vs[i] = W1_RHO * vs[i] + (1 - W1_RHO) * g * g
            ps[i] = ps[i] - W1_LR * g / (np.sqrt(vs[i]) + W1_EPS)
    return max(float(np.max(np.abs(a - b)) / (np.max(np.abs(b)) + 1e-12))
               for a, b in zip(model.params, ps))


__all__ = ["HandMLP", "check_against_float64", "W1_IN"]
