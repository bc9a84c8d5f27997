"""ONNX rules of the element-wise ops: arithmetic, comparisons, activations, casts."""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.export.onnx.lowering import Lowering, attach
from ndflow.graph.ir import GNode


def _dt(node: GNode, i: int = 0) -> np.dtype:
    return node.inputs[i].dtype


def _unary(op_type: str) -> Any:
    def rule(ctx: Lowering, node: GNode) -> str:
        return ctx.emit(op_type, [ctx.input(node, 0)])
    return rule


def _binary(op_type: str) -> Any:
    def rule(ctx: Lowering, node: GNode) -> str:
        return ctx.emit(op_type, [ctx.input(node, 0), ctx.input(node, 1)])
    return rule


def _negated(op_type: str) -> Any:
    def rule(ctx: Lowering, node: GNode) -> str:
        return ctx.emit("Not", [ctx.emit(op_type, [ctx.input(node, 0), ctx.input(node, 1)])])
    return rule


def _rsqrt(ctx: Lowering, node: GNode) -> str:
    one = ctx.scalar(1, _dt(node))
    return ctx.emit("Div", [one, ctx.emit("Sqrt", [ctx.input(node, 0)])])


def _reciprocal(ctx: Lowering, node: GNode) -> str:
    return ctx.emit("Reciprocal", [ctx.input(node, 0)])


def _square(ctx: Lowering, node: GNode) -> str:
    x = ctx.input(node, 0)
    return ctx.emit("Mul", [x, x])


def _squared_difference(ctx: Lowering, node: GNode) -> str:
    d = ctx.emit("Sub", [ctx.input(node, 0), ctx.input(node, 1)])
    return ctx.emit("Mul", [d, d])


def _expm1(ctx: Lowering, node: GNode) -> str:
    return ctx.emit("Sub", [ctx.emit("Exp", [ctx.input(node, 0)]), ctx.scalar(1, _dt(node))])


def _log1p(ctx: Lowering, node: GNode) -> str:
    return ctx.emit("Log", [ctx.emit("Add", [ctx.input(node, 0), ctx.scalar(1, _dt(node))])])


def _is_finite(ctx: Lowering, node: GNode) -> str:
    x = ctx.input(node, 0)
    bad = ctx.emit("Or", [ctx.emit("IsNaN", [x]), ctx.emit("IsInf", [x])])
    return ctx.emit("Not", [bad])


def _floordiv(ctx: Lowering, node: GNode) -> str:
    a, b = ctx.input(node, 0), ctx.input(node, 1)
    if np.issubdtype(_dt(node), np.floating):
        return ctx.emit("Floor", [ctx.emit("Div", [a, b])])
    # integers: floor of the quotient (ONNX Div truncates toward zero)
    fa, fb = ctx.cast(a, np.float64), ctx.cast(b, np.float64)
    return ctx.cast(ctx.emit("Floor", [ctx.emit("Div", [fa, fb])]), _dt(node))


def _floormod(ctx: Lowering, node: GNode) -> str:
    a, b = ctx.input(node, 0), ctx.input(node, 1)
    if np.issubdtype(_dt(node), np.integer):
        return ctx.emit("Mod", [a, b], fmod=0)
    q = ctx.emit("Floor", [ctx.emit("Div", [a, b])])
    return ctx.emit("Sub", [a, ctx.emit("Mul", [q, b])])


def _divide_no_nan(ctx: Lowering, node: GNode) -> str:
    a, b = ctx.input(node, 0), ctx.input(node, 1)
    zero = ctx.scalar(0, _dt(node))
    is0 = ctx.emit("Equal", [b, zero])
    safe = ctx.emit("Where", [is0, ctx.scalar(1, _dt(node)), b])
    return ctx.emit("Where", [is0, zero, ctx.emit("Div", [a, safe])])


def _relu6(ctx: Lowering, node: GNode) -> str:
    dt = _dt(node)
    return ctx.emit("Clip", [ctx.input(node, 0), ctx.scalar(0, dt), ctx.scalar(6, dt)])


def _selu(ctx: Lowering, node: GNode) -> str:
    from ndflow.ops.nn import _SELU_ALPHA, _SELU_SCALE

    return ctx.emit("Selu", [ctx.input(node, 0)], alpha=float(_SELU_ALPHA),
                    gamma=float(_SELU_SCALE))


def _leaky_relu(ctx: Lowering, node: GNode) -> str:
    return ctx.emit("LeakyRelu", [ctx.input(node, 0)], alpha=float(node.attrs["alpha"]))


def _softmax(op_type: str) -> Any:
    def rule(ctx: Lowering, node: GNode) -> str:
        axis = node.attrs["axis"]
        if isinstance(axis, (tuple, list)):
            if len(axis) != 1:
                raise ctx.unsupported(f"over several axes {tuple(axis)}", None)
            axis = axis[0]
        return ctx.emit(op_type, [ctx.input(node, 0)], axis=int(axis))
    return rule


def _where(ctx: Lowering, node: GNode) -> str:
    return ctx.emit("Where", [ctx.input(node, 0), ctx.input(node, 1), ctx.input(node, 2)])


def _cast(ctx: Lowering, node: GNode) -> str:
    return ctx.cast(ctx.input(node, 0), node.outputs[0].dtype)


def _identity(ctx: Lowering, node: GNode) -> str:
    return ctx.emit("Identity", [ctx.input(node, 0)])


def _pow(ctx: Lowering, node: GNode) -> str:
    return ctx.emit("Pow", [ctx.input(node, 0), ctx.input(node, 1)])


def _sigmoid(ctx: Lowering, node: GNode) -> str:
    return ctx.emit("Sigmoid", [ctx.input(node, 0)])


RULES: dict[str, Any] = {
    "add": _binary("Add"), "subtract": _binary("Sub"), "multiply": _binary("Mul"),
    "divide": _binary("Div"), "maximum": _binary("Max"), "minimum": _binary("Min"),
    "pow": _pow, "equal": _binary("Equal"), "not_equal": _negated("Equal"),
    "less": _binary("Less"), "greater": _binary("Greater"),
    "less_equal": _negated("Greater"), "greater_equal": _negated("Less"),
    "logical_and": _binary("And"), "logical_or": _binary("Or"), "logical_xor": _binary("Xor"),
    "logical_not": _unary("Not"), "squared_difference": _squared_difference,
    "floordiv": _floordiv, "floormod": _floormod, "divide_no_nan": _divide_no_nan,
    "abs": _unary("Abs"), "negative": _unary("Neg"), "exp": _unary("Exp"), "log": _unary("Log"),
    "sqrt": _unary("Sqrt"), "rsqrt": _rsqrt, "square": _square, "reciprocal": _reciprocal,
    "sin": _unary("Sin"), "cos": _unary("Cos"), "tan": _unary("Tan"), "asin": _unary("Asin"),
    "acos": _unary("Acos"), "atan": _unary("Atan"), "sinh": _unary("Sinh"),
    "cosh": _unary("Cosh"), "asinh": _unary("Asinh"), "acosh": _unary("Acosh"),
    "atanh": _unary("Atanh"), "tanh": _unary("Tanh"), "sigmoid": _sigmoid,
    "erf": _unary("Erf"), "floor": _unary("Floor"), "ceil": _unary("Ceil"),
    "round": _unary("Round"), "sign": _unary("Sign"), "expm1": _expm1, "log1p": _log1p,
    "is_nan": _unary("IsNaN"), "is_inf": _unary("IsInf"), "is_finite": _is_finite,
    "relu": _unary("Relu"), "relu6": _relu6, "elu": _unary("Elu"), "selu": _selu,
    "softplus": _unary("Softplus"), "softsign": _unary("Softsign"), "leaky_relu": _leaky_relu,
    "softmax": _softmax("Softmax"), "log_softmax": _softmax("LogSoftmax"),
    "where": _where, "cast": _cast, "identity": _identity, "stop_gradient": _identity,
}

attach(RULES)
