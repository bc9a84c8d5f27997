"""ONNX rules of the kernels the graph compiler selects (conv_max_pool and its fused form),
decomposed into standard ONNX nodes. Export lowers the graph before the compiler's passes, so
these appear only in graphs that were optimised first.
"""

from __future__ import annotations

from typing import Any

from ndflow.export.onnx.lowering import Lowering, attach
from ndflow.export.onnx.rules_nn import conv_geometry, kernel_oi, to_first, to_last
from ndflow.graph.ir import GNode


def _conv_max_pool(ctx: Lowering, node: GNode) -> tuple:
    """conv (no bias) -> max pool (window = stride = pool_size, VALID) -> + bias -> relu."""
    a = node.attrs
    shape = node.inputs[0].shape
    rank = len(shape)
    nd = rank - 2
    ks = tuple(node.inputs[1].shape[:nd])
    pads, _ = conv_geometry(node, tuple(shape[1:-1]), ks)
    x = to_first(ctx, ctx.input(node, 0), rank)
    y = ctx.emit("Conv", [x, kernel_oi(ctx, node, 1)], strides=list(a["strides"]),
                 dilations=list(a["dilations"]), pads=pads, kernel_shape=list(ks))
    pool = [int(p) for p in a["pool_size"]]
    y = to_last(ctx, ctx.emit("MaxPool", [y], kernel_shape=pool, strides=pool), rank)
    if len(node.inputs) > 2:
        y = ctx.emit("Add", [y, ctx.input(node, 2)])
    if a.get("relu"):
        y = ctx.emit("Relu", [y])
    return (y, None) + ((None,) if len(node.outputs) == 3 else ())


RULES: dict[str, Any] = {
    "conv_max_pool": _conv_max_pool, "conv_max_pool_fused": _conv_max_pool,
}

attach(RULES)
