"""ONNX rules of the less common ops: N-d gather/scatter, take-along-axis, atan2, and the
Keras bitwise ops (ONNX has those from opset 18)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ndflow.export.onnx.lowering import Lowering, attach
from ndflow.graph.ir import GNode


def _int64(ctx: Lowering, node: GNode, i: int) -> str:
    x = ctx.input(node, i)
    return x if node.inputs[i].dtype == np.int64 else ctx.cast(x, np.int64)


def _gather_nd(ctx: Lowering, node: GNode) -> str:
    return ctx.emit("GatherND", [ctx.input(node, 0), _int64(ctx, node, 1)])


def _take_along_axis(ctx: Lowering, node: GNode) -> str:
    return ctx.emit("GatherElements", [ctx.input(node, 0), _int64(ctx, node, 1)],
                    axis=int(node.attrs["axis"]))


def _scatter_nd(ctx: Lowering, node: GNode) -> str:
    # duplicates add up (as in TensorFlow): ScatterND's reduction="add" needs opset 16
    if ctx.opset < 16:
        raise ctx.unsupported("adds duplicate indices, which ONNX ScatterND does from opset 16",
                              16)
    out = node.outputs[0]
    zero = ctx.onnx.numpy_helper.from_array(np.zeros((1,), out.dtype), "value")
    data = ctx.emit("ConstantOfShape", [ctx.shape_tensor(out.shape, allow_infer=False)],
                    value=zero)
    return ctx.emit("ScatterND", [data, _int64(ctx, node, 1), ctx.input(node, 0)],
                    reduction="add")


def _argsort(ctx: Lowering, node: GNode) -> str:
    """Stable argsort as TopK over the whole axis (ONNX: equal values keep index order)."""
    axis = int(node.attrs["axis"])
    k = ctx.ints([node.inputs[0].shape[axis]], "k")
    _, idx = ctx.emit("TopK", [ctx.input(node, 0), k], outputs=2, axis=axis,
                      largest=int(bool(node.attrs["descending"])), sorted=1)
    return ctx.cast(idx, node.outputs[0].dtype)


def _atan2(ctx: Lowering, node: GNode) -> str:
    y, x = ctx.input(node, 0), ctx.input(node, 1)
    dt = node.inputs[0].dtype
    zero = ctx.scalar(0, dt)
    base = ctx.emit("Atan", [ctx.emit("Div", [y, x])])
    y_nonneg = ctx.emit("Not", [ctx.emit("Less", [y, zero])])
    left = ctx.emit("Where", [y_nonneg, ctx.emit("Add", [base, ctx.scalar(math.pi, dt)]),
                              ctx.emit("Sub", [base, ctx.scalar(math.pi, dt)])])
    on_axis = ctx.emit("Where", [ctx.emit("Greater", [y, zero]), ctx.scalar(math.pi / 2, dt),
                                 ctx.emit("Where", [ctx.emit("Less", [y, zero]),
                                                    ctx.scalar(-math.pi / 2, dt), zero])])
    return ctx.emit("Where", [ctx.emit("Greater", [x, zero]), base,
                              ctx.emit("Where", [ctx.emit("Less", [x, zero]), left, on_axis])])


def _bitwise(op_type: str, logical: str) -> Any:
    def rule(ctx: Lowering, node: GNode) -> str:
        ins = [ctx.input(node, i) for i in range(len(node.inputs))]
        if node.inputs[0].dtype == np.bool_:
            return ctx.emit(logical, ins)
        if ctx.opset < 18:
            raise ctx.unsupported(f"needs ONNX {op_type} on integers", 18)
        return ctx.emit(op_type, ins)
    return rule


attach({
    "gather_nd": _gather_nd, "take_along_axis": _take_along_axis, "scatter_nd": _scatter_nd,
    "atan2": _atan2, "argsort": _argsort, "kops_bitwise_and": _bitwise("BitwiseAnd", "And"),
    "kops_bitwise_or": _bitwise("BitwiseOr", "Or"), "kops_bitwise_xor": _bitwise("BitwiseXor",
                                                                                 "Xor"),
    "kops_bitwise_invert": _bitwise("BitwiseNot", "Not"),
})
