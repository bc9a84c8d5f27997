"""ONNX rules of the neural-network ops: convolution, pooling, layer norm, recurrences.

ndflow is channels-last; ONNX's Conv and pools are channels-first, so a channels-last op
lowers to Transpose, the ONNX op, Transpose (kernels are transposed once, at export, when
they are captured weights).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.export.onnx.lowering import Lowering, attach
from ndflow.graph.ir import GNode
from ndflow.ops.conv import _geometry


def to_first(ctx: Lowering, x: str, rank: int) -> str:
    return ctx.emit("Transpose", [x], perm=[0, rank - 1] + list(range(1, rank - 1)))


def to_last(ctx: Lowering, x: str, rank: int) -> str:
    return ctx.emit("Transpose", [x], perm=[0] + list(range(2, rank)) + [1])


def kernel_oi(ctx: Lowering, node: GNode, i: int) -> str:
    """A (spatial..., in, out) kernel as ONNX's (out, in, spatial...)."""
    v = node.inputs[i]
    nd = len(v.shape) - 2
    perm = [nd + 1, nd] + list(range(nd))
    arr = ctx.value_array(v)
    if arr is not None:
        return ctx.const(np.ascontiguousarray(arr.transpose(perm)),
                         getattr(v.payload, "_name", "kernel"))
    return ctx.emit("Transpose", [ctx.input(node, i)], perm=perm)


def conv_geometry(node: GNode, spatial: tuple, ks: tuple) -> tuple[list, tuple]:
    a = node.attrs
    pads, out = _geometry(node.name, spatial, ks, a["strides"], a["dilations"], a["padding"])
    return [lo for lo, _ in pads] + [hi for _, hi in pads], out


def _conv(ctx: Lowering, node: GNode) -> str:
    a = node.attrs
    x_shape = node.inputs[0].shape
    rank = len(x_shape)
    nd = rank - 2
    cf = a["channels_first"]
    spatial = tuple(x_shape[2:]) if cf else tuple(x_shape[1:-1])
    ks = tuple(node.inputs[1].shape[:nd])
    pads, _ = conv_geometry(node, spatial, ks)
    x = ctx.input(node, 0)
    if not cf:
        x = to_first(ctx, x, rank)
    y = ctx.emit("Conv", [x, kernel_oi(ctx, node, 1)], strides=list(a["strides"]),
                 dilations=list(a["dilations"]), pads=pads, group=int(a["groups"]),
                 kernel_shape=list(ks))
    return y if cf else to_last(ctx, y, rank)


def _conv_transpose(ctx: Lowering, node: GNode) -> str:
    """conv_backprop_input (what Conv*Transpose layers run) as ONNX ConvTranspose."""
    a = node.attrs
    g_shape, out_shape = node.inputs[0].shape, tuple(a["input_shape"])
    rank = len(g_shape)
    nd = rank - 2
    cf = a["channels_first"]
    spatial = tuple(out_shape[2:]) if cf else tuple(out_shape[1:-1])
    g_spatial = tuple(g_shape[2:]) if cf else tuple(g_shape[1:-1])
    ks = tuple(node.inputs[1].shape[:nd])
    pads, _ = conv_geometry(node, spatial, ks)
    out_pad = []
    for i in range(nd):
        natural = (a["strides"][i] * (g_spatial[i] - 1) + (ks[i] - 1) * a["dilations"][i] + 1
                   - pads[i] - pads[nd + i])
        out_pad.append(int(spatial[i] - natural))
    g = ctx.input(node, 0)
    if not cf:
        g = to_first(ctx, g, rank)
    y = ctx.emit("ConvTranspose", [g, kernel_oi(ctx, node, 1)], strides=list(a["strides"]),
                 dilations=list(a["dilations"]), pads=pads, group=int(a["groups"]),
                 kernel_shape=list(ks), output_padding=out_pad)
    return y if cf else to_last(ctx, y, rank)


def _pool(op_type: str) -> Any:
    def rule(ctx: Lowering, node: GNode) -> Any:
        a = node.attrs
        shape = node.inputs[0].shape
        rank = len(shape)
        cf = a["channels_first"]
        spatial = tuple(shape[2:]) if cf else tuple(shape[1:-1])
        ks = tuple(a["ksize"])
        pads, _ = _geometry(node.name, spatial, ks, a["strides"], (1,) * len(ks), a["padding"])
        pads = [lo for lo, _ in pads] + [hi for _, hi in pads]
        x = ctx.input(node, 0)
        if not cf:
            x = to_first(ctx, x, rank)
        extra = {"count_include_pad": 0} if op_type == "AveragePool" else {}
        y = ctx.emit(op_type, [x], kernel_shape=list(ks), strides=list(a["strides"]), pads=pads,
                     **extra)
        if not cf:
            y = to_last(ctx, y, rank)
        return (y, None) if op_type == "MaxPool" else y
    return rule


def _normalize(ctx: Lowering, node: GNode) -> tuple:
    """`normalize` (layer norm; batch norm in training form): (y, x_hat, 1/std, mean, var).
    A single LayerNormalization node from opset 17 when it normalises the last axis (its
    statistics are then not exported: inference graphs do not read them)."""
    a = node.attrs
    x, gamma, beta = (ctx.input(node, i) for i in range(3))
    rank = len(node.inputs[0].shape)
    axes = sorted(int(ax) % rank for ax in a["axes"])
    trailing = axes == list(range(rank - len(axes), rank))
    stats_read = any(v in n.inputs for n in ctx.graph.nodes for v in node.outputs[1:]) \
        or any(v in ctx.graph.outputs for v in node.outputs[1:])
    if ctx.opset >= 17 and trailing and a["bshape"] is None and len(axes) == 1 \
            and not stats_read:
        y = ctx.emit("LayerNormalization", [x, gamma, beta], axis=axes[0],
                     epsilon=float(a["eps"]))
        return (y, None, None, None, None)
    dt = node.inputs[0].dtype
    mean = ctx.reduce("ReduceMean", x, axes, True)
    d = ctx.emit("Sub", [x, mean])
    var = ctx.reduce("ReduceMean", ctx.emit("Mul", [d, d]), axes, True)
    inv = ctx.emit("Reciprocal", [ctx.emit("Sqrt", [
        ctx.emit("Add", [var, ctx.scalar(a["eps"], dt, "eps")])])])
    xhat = ctx.emit("Mul", [d, inv])
    if a["bshape"] is not None:
        shp = ctx.ints(a["bshape"], "shape")
        gamma = ctx.emit("Reshape", [gamma, shp])
        beta = ctx.emit("Reshape", [beta, shp])
    return (ctx.emit("Add", [ctx.emit("Mul", [xhat, gamma]), beta]), xhat, inv, mean, var)


# --- recurrences, unrolled over their (static) time steps -----------------------------------------
def _act(ctx: Lowering, name: str, x: str) -> str:
    if name == "tanh":
        return ctx.emit("Tanh", [x])
    if name == "sigmoid":
        return ctx.emit("Sigmoid", [x])
    if name == "relu":
        return ctx.emit("Relu", [x])
    if name == "hard_sigmoid":
        return ctx.emit("HardSigmoid", [x], alpha=1.0 / 6.0, beta=0.5)
    if name == "linear":
        return x
    raise ctx.unsupported(f"with activation {name!r} has no ONNX rule", None)


class _Steps:
    """Per-step views of a (batch, time, ...) tensor and of the mask."""

    def __init__(self, ctx: Lowering, node: GNode, xw: int, mask: int, rdrop: int) -> None:
        self.ctx, self.node = ctx, node
        self.xw = ctx.input(node, xw)
        self.T = node.inputs[xw].shape[1]
        a = node.attrs
        self.mask = ctx.input(node, mask) if a["masked"] else None
        self.rdrop = ctx.input(node, rdrop) if a["dropped"] else None

    def x(self, s: int) -> str:
        return self.ctx.emit("Gather", [self.xw, self.ctx.const(np.asarray(s, np.int64), "t")],
                             axis=1)

    def mix(self, s: int, new: str, old: str) -> str:
        if self.mask is None:
            return new
        ctx = self.ctx
        mk = ctx.emit("Gather", [self.mask, ctx.const(np.asarray([s], np.int64), "t")], axis=1)
        return ctx.emit("Add", [old, ctx.emit("Mul", [mk, ctx.emit("Sub", [new, old])])])

    def dropped(self, h: str) -> str:
        return h if self.rdrop is None else self.ctx.emit("Mul", [h, self.rdrop])

    def stack(self, hs: list) -> str:
        ctx = self.ctx
        return ctx.emit("Concat", [ctx.unsqueeze(h, [1]) for h in hs], axis=1)


def _split_gates(ctx: Lowering, z: str, h: int, n: int) -> list:
    return ctx.emit("Split", [z, ctx.ints([h] * n, "split")], outputs=n, axis=1)


def _srnn(ctx: Lowering, node: GNode) -> str:
    st = _Steps(ctx, node, 0, 3, 4)
    h, R = ctx.input(node, 1), ctx.input(node, 2)
    hs = []
    for s in range(st.T):
        z = ctx.emit("Add", [st.x(s), ctx.emit("MatMul", [st.dropped(h), R])])
        h = st.mix(s, _act(ctx, node.attrs["activation"], z), h)
        hs.append(h)
    return st.stack(hs)


def _lstm(ctx: Lowering, node: GNode) -> tuple:
    a = node.attrs
    st = _Steps(ctx, node, 0, 4, 5)
    h, c, R = ctx.input(node, 1), ctx.input(node, 2), ctx.input(node, 3)
    H = node.inputs[3].shape[0]
    hs, cs = [], []
    for s in range(st.T):
        z = ctx.emit("Add", [st.x(s), ctx.emit("MatMul", [st.dropped(h), R])])
        i, f, g, o = _split_gates(ctx, z, H, 4)
        i, f, o = (_act(ctx, a["recurrent_activation"], v) for v in (i, f, o))
        g = _act(ctx, a["activation"], g)
        cn = ctx.emit("Add", [ctx.emit("Mul", [f, c]), ctx.emit("Mul", [i, g])])
        hn = ctx.emit("Mul", [o, _act(ctx, a["activation"], cn)])
        c, h = st.mix(s, cn, c), st.mix(s, hn, h)
        hs.append(h)
        cs.append(c)
    return st.stack(hs), st.stack(cs), None


def _gru(ctx: Lowering, node: GNode) -> tuple:
    a = node.attrs
    st = _Steps(ctx, node, 0, 4, 5)
    h, R, rb = ctx.input(node, 1), ctx.input(node, 2), ctx.input(node, 3)
    H = node.inputs[2].shape[0]
    R_zr, R_h = ctx.emit("Split", [R, ctx.ints([2 * H, H], "split")], outputs=2, axis=1)
    hs = []
    for s in range(st.T):
        x = st.x(s)
        x_zr, x_h = ctx.emit("Split", [x, ctx.ints([2 * H, H], "split")], outputs=2, axis=1)
        hp = st.dropped(h)
        if a["reset_after"]:
            hr = ctx.emit("Add", [ctx.emit("MatMul", [hp, R]), rb])
            hr_zr, rh = ctx.emit("Split", [hr, ctx.ints([2 * H, H], "split")], outputs=2, axis=1)
            zr = _act(ctx, a["recurrent_activation"], ctx.emit("Add", [x_zr, hr_zr]))
            z, r = _split_gates(ctx, zr, H, 2)
            hh = _act(ctx, a["activation"], ctx.emit("Add", [x_h, ctx.emit("Mul", [r, rh])]))
        else:
            zr = _act(ctx, a["recurrent_activation"],
                      ctx.emit("Add", [x_zr, ctx.emit("MatMul", [hp, R_zr])]))
            z, r = _split_gates(ctx, zr, H, 2)
            rh = ctx.emit("MatMul", [ctx.emit("Mul", [r, hp]), R_h])
            hh = _act(ctx, a["activation"], ctx.emit("Add", [x_h, rh]))
        hn = ctx.emit("Add", [hh, ctx.emit("Mul", [z, ctx.emit("Sub", [h, hh])])])
        h = st.mix(s, hn, h)
        hs.append(h)
    return st.stack(hs), None, None


def _attention(ctx: Lowering, node: GNode) -> tuple:
    """softmax(q k^T) v per head as ONNX's Einsum, Softmax, Einsum (opset 12+)."""
    from ndflow.ops.attention import ATTEND, SCORES

    scores = ctx.emit("Einsum", [ctx.input(node, 0), ctx.input(node, 1)], equation=SCORES)
    masked = node.attrs["masked"]
    if masked:  # Keras's masked softmax: -1e9 before, 0 after
        dtype = node.inputs[0].dtype
        mask = ctx.input(node, 3)
        scores = ctx.emit("Where", [mask, scores, ctx.scalar(-1e9, dtype)])
    probs = ctx.emit("Softmax", [scores], axis=-1)
    if masked:
        probs = ctx.emit("Where", [mask, probs, ctx.scalar(0.0, dtype)])
    return ctx.emit("Einsum", [probs, ctx.input(node, 2)], equation=ATTEND), probs


RULES: dict[str, Any] = {
    "attention": _attention, "conv": _conv, "conv_backprop_input": _conv_transpose,
    "max_pool": _pool("MaxPool"),
    "avg_pool": _pool("AveragePool"), "normalize": _normalize,
    "simple_rnn_sequence": _srnn, "lstm_sequence": _lstm, "gru_sequence": _gru,
}

attach(RULES)
