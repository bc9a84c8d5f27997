"""The recurrences of ops/rnn.py written step by step with primitive ops, for gradients of
gradients.

The sequence ops' backward passes are single ops without gradients of their own (they loop
over time in one kernel). When a gradient is itself being recorded (an outer tape watches it,
as for a gradient penalty), the gradient rules take the recurrence from here instead: it is
recomputed with ops that all have gradient rules, differentiated on an inner tape, and the
outer tape records that whole computation, so every order of gradient exists. Values are
those of the kernels (masked steps keep the states: `old + mask * (new - old)`).

>>> import ndflow as tf
>>> from ndflow.ops import rnn_unrolled
>>> hs = rnn_unrolled.simple_rnn(tf.ones([1, 2, 1]), tf.zeros([1, 1]), tf.ones([1, 1]),
...                              None, None, activation="linear")
>>> hs.numpy().ravel().tolist()
[1.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ndflow.core import dispatch
from ndflow.core.tensor import Tensor
from ndflow.ops import math as m
from ndflow.ops.array import stack
from ndflow.ops.linalg import matmul


def _hard_sigmoid(x: Tensor) -> Tensor:
    return m.minimum(m.maximum(m.add(m.multiply(x, 1.0 / 6.0), 0.5), 0.0), 1.0)


ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "tanh": m.tanh,
    "sigmoid": m.sigmoid,
    "relu": lambda x: m.maximum(x, 0.0),
    "linear": lambda x: x,
    "hard_sigmoid": _hard_sigmoid,
}


def recording_gradient() -> bool:
    """Whether ops run now are recorded on a tape (a gradient rule running under an outer
    tape: its result will be differentiated again)."""
    return bool(dispatch.recording and dispatch.current_tapes())


def _mix(mask: Tensor | None, s: int, new: Tensor, old: Tensor) -> Tensor:
    if mask is None:
        return new
    mk = mask[:, s:s + 1]
    return m.add(old, m.multiply(mk, m.subtract(new, old)))


def simple_rnn(xw: Tensor, h0: Tensor, R: Tensor, mask: Tensor | None, rdrop: Tensor | None,
               activation: str) -> Tensor:
    """All states (batch, time, units) of h_t = act(xw_t + (h_{t-1} * rdrop) @ R)."""
    act = ACTIVATIONS[activation]
    h, hs = h0, []
    for s in range(int(xw.shape[1])):
        hp = h if rdrop is None else m.multiply(h, rdrop)
        h = _mix(mask, s, act(m.add(xw[:, s], matmul(hp, R))), h)
        hs.append(h)
    return stack(hs, axis=1)


def lstm(xw: Tensor, h0: Tensor, c0: Tensor, R: Tensor, mask: Tensor | None,
         rdrop: Tensor | None, activation: str, recurrent_activation: str) -> tuple:
    """All hidden and carry states of the LSTM (Keras gate order i, f, c, o)."""
    act, ract = ACTIVATIONS[activation], ACTIVATIONS[recurrent_activation]
    H = int(R.shape[0])
    h, c, hs, cs = h0, c0, [], []
    for s in range(int(xw.shape[1])):
        hp = h if rdrop is None else m.multiply(h, rdrop)
        z = m.add(xw[:, s], matmul(hp, R))
        i, f = ract(z[:, :H]), ract(z[:, H:2 * H])
        g, o = act(z[:, 2 * H:3 * H]), ract(z[:, 3 * H:])
        cn = _mix(mask, s, m.add(m.multiply(f, c), m.multiply(i, g)), c)
        h = _mix(mask, s, m.multiply(o, act(cn)), h)
        c = cn
        hs.append(h)
        cs.append(c)
    return stack(hs, axis=1), stack(cs, axis=1)


def gru(xw: Tensor, h0: Tensor, R: Tensor, rb: Tensor, mask: Tensor | None,
        rdrop: Tensor | None, activation: str, recurrent_activation: str,
        reset_after: bool) -> Tensor:
    """All states of the GRU (Keras gate order z, r, h; `rb` the recurrent bias)."""
    act, ract = ACTIVATIONS[activation], ACTIVATIONS[recurrent_activation]
    H = int(R.shape[0])
    h, hs = h0, []
    for s in range(int(xw.shape[1])):
        hp = h if rdrop is None else m.multiply(h, rdrop)
        x = xw[:, s]
        if reset_after:
            hr = m.add(matmul(hp, R), rb)
            zr = ract(m.add(x[:, :2 * H], hr[:, :2 * H]))
            r = zr[:, H:]
            hh = act(m.add(x[:, 2 * H:], m.multiply(r, hr[:, 2 * H:])))
        else:
            zr = ract(m.add(x[:, :2 * H], matmul(hp, R[:, :2 * H])))
            r = zr[:, H:]
            hh = act(m.add(x[:, 2 * H:], matmul(m.multiply(r, hp), R[:, 2 * H:])))
        z = zr[:, :H]
        h = _mix(mask, s, m.add(hh, m.multiply(z, m.subtract(h, hh))), h)
        hs.append(h)
    return stack(hs, axis=1)


def gradients(fn: Callable[..., Any], inputs: tuple, output_grads: tuple) -> list:
    """The gradients of `fn(*inputs)` (a tensor or a tuple) with respect to `inputs`, for the
    upstream gradients `output_grads`, computed with recorded ops (so an outer tape can
    differentiate them again)."""
    from ndflow.core.tape import GradientTape

    with GradientTape(persistent=False, watch_accessed_variables=False) as tape:
        tape.watch(list(inputs))
        outs = fn(*inputs)
    outs = list(outs) if isinstance(outs, tuple) else [outs]
    return tape.gradient(outs, list(inputs), output_gradients=list(output_grads),
                         unconnected_gradients="zero")
