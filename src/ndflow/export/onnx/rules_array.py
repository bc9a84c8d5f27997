"""ONNX rules of the array ops: shapes, slicing, gathering, reductions, matmul, einsum."""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.export.onnx.lowering import FAMILY_RULES, INT64_MAX, INT64_MIN, Lowering, attach
from ndflow.graph.ir import GNode


def _reshape(ctx: Lowering, node: GNode) -> str:
    return ctx.emit("Reshape", [ctx.input(node, 0), ctx.shape_tensor(node.outputs[0].shape)])


def _broadcast_to(ctx: Lowering, node: GNode) -> str:
    return ctx.emit("Expand", [ctx.input(node, 0),
                               ctx.shape_tensor(node.outputs[0].shape, allow_infer=False)])


def _filled(value: float) -> Any:
    def rule(ctx: Lowering, node: GNode) -> str:
        out = node.outputs[0]
        fill = ctx.onnx.numpy_helper.from_array(np.full((1,), value, out.dtype), "value")
        return ctx.emit("ConstantOfShape", [ctx.emit("Shape", [ctx.input(node, 0)])],
                        value=fill)
    return rule


def _transpose(ctx: Lowering, node: GNode) -> str:
    return ctx.emit("Transpose", [ctx.input(node, 0)], perm=[int(p) for p in node.attrs["perm"]])


def _concat(ctx: Lowering, node: GNode) -> str:
    return ctx.emit("Concat", [ctx.input(node, i) for i in range(len(node.inputs))],
                    axis=int(node.attrs["axis"]))


def _split(ctx: Lowering, node: GNode) -> tuple:
    sizes = [int(s) for s in node.attrs["sizes"]]
    outs = ctx.emit("Split", [ctx.input(node, 0), ctx.ints(sizes, "split")],
                    outputs=len(sizes), axis=int(node.attrs["axis"]))
    return tuple(outs)


def _tile(ctx: Lowering, node: GNode) -> str:
    return ctx.emit("Tile", [ctx.input(node, 0), ctx.ints(node.attrs["multiples"], "repeats")])


def _pad_symmetric(ctx: Lowering, node: GNode) -> str:
    """SYMMETRIC padding (edge included; no ONNX Pad mode): per axis, the mirrored edge
    slices concatenated around the input."""
    x = ctx.input(node, 0)
    for axis, (lo, hi) in enumerate(node.attrs["paddings"]):
        parts = []
        if lo:
            parts.append(ctx.emit("Slice", [x, ctx.ints([lo - 1]), ctx.ints([INT64_MIN]),
                                            ctx.ints([axis]), ctx.ints([-1])]))
        parts.append(x)
        if hi:
            parts.append(ctx.emit("Slice", [x, ctx.ints([-1]), ctx.ints([-hi - 1]),
                                            ctx.ints([axis]), ctx.ints([-1])]))
        if len(parts) > 1:
            x = ctx.emit("Concat", parts, axis=axis)
    return x if x != ctx.input(node, 0) else ctx.emit("Identity", [x])


def _pad(ctx: Lowering, node: GNode) -> str:
    a = node.attrs
    if a["mode"] == "SYMMETRIC":
        return _pad_symmetric(ctx, node)
    mode = {"CONSTANT": "constant", "REFLECT": "reflect"}.get(a["mode"])
    if mode is None:
        raise ctx.unsupported(f"with mode {a['mode']!r} has no ONNX Pad mode", None,
                              "Use mode='CONSTANT', 'REFLECT' or 'SYMMETRIC'.")
    pads = [int(lo) for lo, _ in a["paddings"]] + [int(hi) for _, hi in a["paddings"]]
    ins = [ctx.input(node, 0), ctx.ints(pads, "pads")]
    if mode == "constant":
        ins.append(ctx.scalar(a["constant_values"], node.inputs[0].dtype, "pad_value"))
    return ctx.emit("Pad", ins, mode=mode)


def _reverse(ctx: Lowering, node: GNode) -> str:
    axes = node.attrs["axis"]
    axes = [int(x) for x in (axes if isinstance(axes, (tuple, list)) else (axes,))]
    n = len(axes)
    return ctx.emit("Slice", [ctx.input(node, 0), ctx.ints([-1] * n, "starts"),
                              ctx.ints([INT64_MIN] * n, "ends"), ctx.ints(axes, "axes"),
                              ctx.ints([-1] * n, "steps")])


def _gather(ctx: Lowering, node: GNode) -> str:
    if node.attrs.get("batch_dims", 0):
        raise ctx.unsupported("with batch_dims > 0 has no ONNX rule", None)
    return ctx.emit("Gather", [ctx.input(node, 0), ctx.input(node, 1)],
                    axis=int(node.attrs["axis"]))


def _strided_slice(ctx: Lowering, node: GNode) -> str:
    """A NumPy basic-indexing key (slices, ints, None, Ellipsis) as Slice, Squeeze, Unsqueeze."""
    key = node.attrs["key"]
    key = key if isinstance(key, tuple) else (key,)
    rank = len(node.inputs[0].shape)
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    if any(isinstance(k, (np.ndarray, list, bool)) for k in key):
        raise ctx.unsupported("with an array (fancy) index has no ONNX rule", None)
    expanded: list = []
    for k in key:
        if k is Ellipsis:
            expanded.extend([slice(None)] * (rank - n_real))
        else:
            expanded.append(k)
    real = sum(1 for k in expanded if k is not None)
    expanded.extend([slice(None)] * (rank - real))
    starts, ends, axes, steps, squeeze, unsq = [], [], [], [], [], []
    axis, out_pos = 0, 0
    for k in expanded:
        if k is None:
            unsq.append(out_pos)
            out_pos += 1
            continue
        if isinstance(k, slice):
            step = 1 if k.step is None else int(k.step)
            if k != slice(None):
                lo_default, hi_default = (0, INT64_MAX) if step > 0 else (-1, INT64_MIN)
                starts.append(lo_default if k.start is None else int(k.start))
                ends.append(hi_default if k.stop is None else int(k.stop))
                axes.append(axis)
                steps.append(step)
            out_pos += 1
        else:
            i = int(k)
            starts.append(i)
            ends.append(INT64_MAX if i == -1 else i + 1)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        axis += 1
    x = ctx.input(node, 0)
    if axes:
        x = ctx.emit("Slice", [x, ctx.ints(starts, "starts"), ctx.ints(ends, "ends"),
                               ctx.ints(axes, "axes"), ctx.ints(steps, "steps")])
    x = ctx.squeeze(x, squeeze)
    x = ctx.unsqueeze(x, unsq)
    return x if (axes or squeeze or unsq) else ctx.emit("Identity", [x])


def _one_hot(ctx: Lowering, node: GNode) -> str:
    a = node.attrs
    dt = node.outputs[0].dtype
    values = ctx.const(np.asarray([a["off"], a["on"]], dt), "onehot_values")
    depth = ctx.const(np.asarray([a["depth"]], np.int64), "depth")
    return ctx.emit("OneHot", [ctx.input(node, 0), depth, values], axis=int(a["axis"]))


def _cumsum(ctx: Lowering, node: GNode) -> str:
    a = node.attrs
    return ctx.emit("CumSum", [ctx.input(node, 0), ctx.const(np.asarray(a["axis"], np.int64))],
                    exclusive=int(a["exclusive"]), reverse=int(a["reverse"]))


def _reduce(op_type: str) -> Any:
    def rule(ctx: Lowering, node: GNode) -> str:
        return ctx.reduce(op_type, ctx.input(node, 0), node.attrs["axis"],
                          node.attrs["keepdims"])
    return rule


def _reduce_bool(op_type: str) -> Any:
    def rule(ctx: Lowering, node: GNode) -> str:
        x = ctx.cast(ctx.input(node, 0), np.int32)
        r = ctx.reduce(op_type, x, node.attrs["axis"], node.attrs["keepdims"])
        return ctx.cast(r, np.bool_)
    return rule


def _arg(op_type: str) -> Any:
    def rule(ctx: Lowering, node: GNode) -> str:
        r = ctx.emit(op_type, [ctx.input(node, 0)], axis=int(node.attrs["axis"]), keepdims=0)
        out = node.outputs[0].dtype
        return r if out == np.int64 else ctx.cast(r, out)
    return rule


def _swap_last(ctx: Lowering, x: str, rank: int) -> str:
    perm = list(range(rank))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return ctx.emit("Transpose", [x], perm=perm)


def _matmul(ctx: Lowering, node: GNode) -> str:
    a, b = ctx.input(node, 0), ctx.input(node, 1)
    if node.attrs.get("ta"):
        a = _swap_last(ctx, a, len(node.inputs[0].shape))
    if node.attrs.get("tb"):
        b = _swap_last(ctx, b, len(node.inputs[1].shape))
    return ctx.emit("MatMul", [a, b])


def _einsum(ctx: Lowering, node: GNode) -> str:
    eq = ",".join(node.attrs["ins"]) + "->" + node.attrs["out"]
    return ctx.emit("Einsum", [ctx.input(node, i) for i in range(len(node.inputs))],
                    equation=eq)


RULES: dict[str, Any] = {
    "reshape": _reshape, "broadcast_to": _broadcast_to, "zeros_like": _filled(0.0),
    "ones_like": _filled(1.0), "transpose": _transpose, "concat": _concat, "tile": _tile,
    "pad": _pad, "reverse": _reverse, "gather": _gather, "strided_slice": _strided_slice,
    "one_hot": _one_hot, "cumsum": _cumsum, "split": _split,
    "reduce_sum": _reduce("ReduceSum"), "reduce_max": _reduce("ReduceMax"),
    "reduce_min": _reduce("ReduceMin"), "reduce_prod": _reduce("ReduceProd"),
    "reduce_any": _reduce_bool("ReduceMax"), "reduce_all": _reduce_bool("ReduceMin"),
    "argmax": _arg("ArgMax"), "argmin": _arg("ArgMin"), "matmul": _matmul, "einsum": _einsum,
}

attach(RULES)


FAMILY_RULES["split_"] = _split
