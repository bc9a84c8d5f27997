"""Rewrites around max pooling, in their general form, as rules of the rewrite engine.

- `mask_before_scatter`: an element-wise op linear in its first input, applied to a max-pool
  gradient (`m(max_pool_grad(g, idx), y, c)` with the pool's own input `y` or per-channel
  operands `c`), equals the scatter of the op applied at the pooled size,
  `max_pool_grad(m(g, max_pool(y), c), idx)`: the scatter is zero off the window maxima, where
  `m` gives zero by linearity, and equals `y`'s pooled value on them. (ReLU's gradient mask is
  one such op.)
- `pool_before_monotone`: max pooling commutes with any element-wise function that is
  monotone non-decreasing in the pooled operand when its other operands are per-channel:
  `max_pool(f(z, c)) == f(max_pool(z), c)`. A strictly increasing `f` (bias add, sigmoid,
  leaky ReLU, exp) keeps the window index; a flat region (ReLU) may change it only where the
  function is flat, so then every use of the index must be a gradient masked by the op's
  declared `flat_mask` at the pooled value.
- `conv_then_pool` selects the `conv_max_pool` kernel for `max_pool(conv(x, w))` and
  `conv_pool_epilogue` the `conv_max_pool_fused` kernel for a per-channel bias add and ReLU
  after it (kernels of `ops/conv_pool.py`; the rules name them because they select them).
- Backward: `sum_pooled_gradient` (a bias gradient of a scattered gradient with disjoint VALID
  windows is the sum of the pooled gradient), `conv_pool_backprop` (one
  `conv_max_pool_grad` kernel for the convolution gradients of a `conv_max_pool`) and
  `crop_dropped_rows` (convolution gradients skip the rows a VALID pool drops).
"""

from __future__ import annotations

from ndflow.core.dispatch import REGISTRY
from ndflow.graph.ir import GNode, Value
from ndflow.graph.rewrite import Rewriter


def _pool_channel_axis(attrs: dict, rank: int) -> int:
    return 1 if attrs["channels_first"] else rank - 1


def _per_channel(v: Value, rank: int, axis: int) -> bool:
    """A scalar, or a value that broadcasts along every axis but the channel axis."""
    shape = tuple(v.shape)
    if len(shape) == 0:
        return True
    if len(shape) == 1:
        return axis == rank - 1 or shape == (1,)
    return len(shape) <= rank and all(
        d == 1 for i, d in enumerate(shape, start=rank - len(shape)) if i != axis)


def _is_op(node: GNode | None, name: str) -> bool:
    return node is not None and node.kind == "op" and node.op.name == name


# --- forward and masking rules ------------------------------------------------------------
def _uniform_const(v: Value) -> bool:
    a = v.payload
    return v.kind == "const" and a is not None and a.size > 0 and bool((a == a.flat[0]).all())


def _at_pooled(rw: Rewriter, v: Value, y: Value, p: Value, rank: int, axis: int,
               before: GNode | None, depth: int = 6) -> Value | None:
    """`v` computed at the pooled positions: `p` for the pool input `y`, per-channel values
    as they are, and element-wise functions of those recomputed on the pooled values (new
    nodes before `before`); None when `v` is not such a function. With `before=None` only
    checks (makes no node and returns `v` when it could)."""
    if v is y:
        return p
    if _uniform_const(v):  # e.g. a folded ones_like: the same value at every position
        if before is None:
            return v
        return rw.graph.new_value("const", (), v.dtype, payload=v.payload.reshape(-1)[:1]
                                  .reshape(()))
    if tuple(v.shape) != tuple(y.shape):
        return v if _per_channel(v, rank, axis) else None
    f = rw.producer(v, trait="elementwise")
    if f is None or depth == 0 or f.op.stateful:
        return None
    args = []
    for i in f.inputs:
        a = _at_pooled(rw, i, y, p, rank, axis, before, depth - 1)
        if a is None:
            return None
        args.append(a)
    if before is None:
        return v
    return rw.node(f.op, args, f.attrs, [(p.shape, v.dtype)], before=before).outputs[0]


def mask_before_scatter(rw: Rewriter, m: GNode) -> bool:
    if m.kind != "op" or 0 not in m.op.traits.get("linear_in", ()) \
            or "elementwise" not in m.op.traits or not m.inputs:
        return False
    s = m.inputs[0]
    grad = rw.producer(s, "max_pool_grad")
    if grad is None or rw.users(s) != [m] or s in m.inputs[1:]:
        return False
    g, idx = grad.inputs
    pool = rw.producer(idx, "max_pool")
    if pool is None or idx.index != 1:
        return False
    y, (p, _) = pool.inputs[0], pool.outputs
    rank = len(y.shape)
    axis = _pool_channel_axis(pool.attrs, rank)
    if tuple(p.shape) != tuple(g.shape) or tuple(m.outputs[0].shape) != tuple(y.shape):
        return False
    if any(_at_pooled(rw, o, y, p, rank, axis, None) is None for o in m.inputs[1:]):
        return False  # (checked first: no node is made for a rewrite that cannot finish)
    others = [_at_pooled(rw, o, y, p, rank, axis, grad) for o in m.inputs[1:]]
    mask = rw.node(m.op, [g] + others, m.attrs, [(g.shape, m.outputs[0].dtype)], before=grad)
    rw.set_inputs(grad, [mask.outputs[0], idx])
    old_inputs = list(m.inputs[1:])
    rw.replace_uses(m.outputs[0], grad.outputs[0])
    rw.remove(m)
    rw.remove_dead(old_inputs)
    return True


def _masked_by(rw: Rewriter, use: GNode | None, mask_op: object, pooled: Value) -> bool:
    if not _is_op(use, "max_pool_grad"):
        return False
    mask = rw.producer(use.inputs[0])
    return mask is not None and mask.op is mask_op and len(mask.inputs) > 1 \
        and mask.inputs[1] is pooled


def pool_before_monotone(rw: Rewriter, pool: GNode) -> bool:
    if not _is_op(pool, "max_pool"):
        return False
    x = pool.inputs[0]
    f = rw.producer(x, trait="monotone")
    if f is None or "elementwise" not in f.op.traits or rw.users(x) != [pool]:
        return False
    mono = f.op.traits["monotone"]
    mono = mono(f.attrs) if callable(mono) else mono  # e.g. leaky_relu: only for alpha > 0
    if mono is None:
        return False
    z = f.inputs[0]
    rank = len(x.shape)
    axis = _pool_channel_axis(pool.attrs, rank)
    if tuple(z.shape) != tuple(x.shape) or z.dtype != x.dtype or \
            not all(_per_channel(o, rank, axis) and o is not z for o in f.inputs[1:]):
        return False
    p, idx = pool.outputs
    if mono != "increasing":
        mask_op = f.op.traits.get("flat_mask")
        if not all(mask_op is not None and _masked_by(rw, u, mask_op, p)
                   for u in rw.users(idx)):
            return False
    rw.set_inputs(pool, [z])
    rw.set_outputs(pool, [(p.shape, z.dtype), idx])
    rw.node(f.op, [pool.outputs[0]] + list(f.inputs[1:]), f.attrs, [p], after=pool)
    rw.remove(f)
    return True


def conv_then_pool(rw: Rewriter, pool: GNode) -> bool:
    if not _is_op(pool, "max_pool"):
        return False
    pa = pool.attrs
    conv = rw.producer(pool.inputs[0], "conv")
    if conv is None or rw.users(pool.inputs[0]) != [pool]:
        return False
    a = conv.attrs
    if a["groups"] != 1 or a["channels_first"] or pa["channels_first"] \
            or tuple(pa["strides"]) != tuple(pa["ksize"]) or pa["padding"] != "VALID" \
            or len(pa["ksize"]) != len(conv.outputs[0].shape) - 2:
        return False
    from ndflow.ops.conv_pool import _CONV_POOL

    pool.op = _CONV_POOL
    rw.set_inputs(pool, list(conv.inputs))
    pool.attrs = dict(strides=a["strides"], dilations=a["dilations"], padding=a["padding"],
                      pool_size=tuple(pa["ksize"]))
    rw.remove(conv)
    return True


def conv_pool_epilogue(rw: Rewriter, node: GNode) -> bool:
    from ndflow.ops.conv_pool import _CONV_POOL, _CONV_POOL_FUSED

    if node.kind != "op" or node.op is not _CONV_POOL:
        return False
    z, idx = node.outputs
    relu_op = REGISTRY["relu"]
    nxt = rw.only_user(z)
    bias = add = None
    if nxt is not None and nxt.op is REGISTRY["add"] and len(nxt.inputs) == 2:
        add = nxt
        bias = add.inputs[1] if add.inputs[0] is z else add.inputs[0]
        if bias is z or bias.dtype != z.dtype or tuple(bias.shape) != (z.shape[-1],):
            return False
        nxt = rw.only_user(add.outputs[0])
    if nxt is None or nxt.op is not relu_op:
        return False
    if bias is not None and bias.producer is not None and \
            rw.position(bias.producer) > rw.position(node):
        return False
    y = nxt.outputs[0]
    node.op = _CONV_POOL_FUSED
    rw.set_inputs(node, list(node.inputs[:2]) + ([bias] if bias is not None else []))
    node.attrs = dict(node.attrs, relu=True, keep_columns=False)
    rw.set_outputs(node, [y, idx, ((0,), z.dtype)])
    rw.remove(nxt)
    if add is not None:
        rw.remove(add)
    return True


# --- backward rules -----------------------------------------------------------------------
def _sums_all_but_channels(node: GNode, grad: GNode) -> bool:
    rank = len(grad.outputs[0].shape)
    axis = _pool_channel_axis(grad.attrs, rank)
    if node.op.name == "reduce_sum":
        return tuple(sorted(node.attrs["axis"])) == tuple(i for i in range(rank) if i != axis)
    if node.op.name != "sum_to_shape":
        return False
    target = tuple(node.attrs["shape"])
    return 0 < len(target) <= rank and all(
        d == 1 for i, d in enumerate(target, start=rank - len(target)) if i != axis)


def sum_pooled_gradient(rw: Rewriter, node: GNode) -> bool:
    """Summing a max-pool gradient over every axis but the channels (a bias gradient) equals
    summing the pooled gradient: the scatter moves each pooled value to one position."""
    if node.kind != "op" or node.op.name not in ("reduce_sum", "sum_to_shape"):
        return False
    grad = rw.producer(node.inputs[0], "max_pool_grad")
    if grad is None:
        return False
    if not _sums_all_but_channels(node, grad):
        return False
    rw.set_inputs(node, [grad.inputs[0]] + list(node.inputs[1:]))
    return True


def _same_geometry(n: GNode | None, fa: dict) -> bool:
    na = getattr(n, "attrs", None) or {}
    return n is not None and n.kind == "op" and na.get("groups") == 1 \
        and not na.get("channels_first") and na.get("padding") == fa["padding"] \
        and tuple(na.get("strides", ())) == tuple(fa["strides"]) \
        and tuple(na.get("dilations", ())) == tuple(fa["dilations"])


def conv_pool_backprop(rw: Rewriter, grad: GNode) -> bool:
    from ndflow.ops.conv_pool import _CONV_POOL, _CONV_POOL_FUSED, columns_shape
    from ndflow.ops.conv_pool_grad import _CONV_POOL_GRAD

    if not _is_op(grad, "max_pool_grad"):
        return False
    g, idx = grad.inputs[0], grad.inputs[1]
    fwd = rw.producer(idx)
    if fwd is None or idx.index != 1 or fwd.op not in (_CONV_POOL, _CONV_POOL_FUSED):
        return False
    fa, ga = fwd.attrs, grad.attrs
    if ga["channels_first"] or tuple(ga["ksize"]) != tuple(fa["pool_size"]) \
            or tuple(ga["strides"]) != tuple(fa["pool_size"]) or ga["padding"] != "VALID":
        return False
    x, w = fwd.inputs[:2]
    gz = grad.outputs[0]
    dx_node = dw_node = None
    for n in rw.users(gz):
        if _same_geometry(n, fa) and n.op.name == "conv_backprop_input" \
                and n.inputs[0] is gz and n.inputs[1] is w and dx_node is None:
            dx_node = n
        elif _same_geometry(n, fa) and n.op.name == "conv_backprop_filter" \
                and n.inputs[1] is gz and n.inputs[0] is x and dw_node is None:
            dw_node = n
        else:
            return False
    if dx_node is None and dw_node is None:
        return False
    inputs = [x, g, idx, w]
    if dw_node is not None:  # the filter gradient reuses the forward's im2col columns
        if fwd.op is _CONV_POOL or not fwd.attrs["keep_columns"]:
            pooled = tuple(fwd.outputs[0].shape[1:-1])
            if None in x.shape or None in pooled:
                return False
            shape = columns_shape(tuple(x.shape), tuple(w.shape), pooled,
                                  tuple(fa["pool_size"]))
            if fwd.op is _CONV_POOL:
                fwd.op = _CONV_POOL_FUSED
                fwd.attrs = dict(fwd.attrs, relu=False)
            fwd.attrs = dict(fwd.attrs, keep_columns=True)
            rw.set_outputs(fwd, list(fwd.outputs[:2]) + [(shape, x.dtype)])
            fa = fwd.attrs
        inputs.append(fwd.outputs[2])
    outs = [(old.outputs[0].shape if old is not None else (0,), g.dtype)
            for old in (dx_node, dw_node)]
    node = rw.node(_CONV_POOL_GRAD, inputs,
                   dict(strides=tuple(fa["strides"]), dilations=tuple(fa["dilations"]),
                        padding=fa["padding"], pool_size=tuple(fa["pool_size"]),
                        needs=(dx_node is not None, dw_node is not None)), outs, after=grad)
    for i, old in enumerate((dx_node, dw_node)):
        if old is not None:
            rw.replace_uses(old.outputs[0], node.outputs[i])
            rw.remove(old)
    rw.remove(grad)
    return True


def _crop_extent(live: int, k: int, stride: int, dilation: int) -> int:
    """Input extent read by the first `live` outputs of a VALID convolution."""
    return (live - 1) * stride + (k - 1) * dilation + 1


def crop_dropped_rows(rw: Rewriter, grad: GNode) -> bool:
    if not _is_op(grad, "max_pool_grad"):
        return False
    a = grad.attrs
    if a["channels_first"] or a["padding"] != "VALID" or \
            tuple(a["strides"]) != tuple(a["ksize"]):
        return False
    full = tuple(a["input_shape"])
    nd = len(a["ksize"])
    live = tuple((s // k) * k for s, k in zip(full[1:-1], a["ksize"]))
    if None in full or live == tuple(full[1:-1]):
        return False
    gz = grad.outputs[0]
    consumers = rw.users(gz)
    if not consumers:
        return False
    for n in consumers:
        if n is None or n.kind != "op":
            return False
        if n.op.name in ("conv_backprop_filter", "conv_backprop_input"):
            na = n.attrs
            if na["padding"] != "VALID" or na["channels_first"] or not (
                    n.inputs[1] is gz if n.op.name == "conv_backprop_filter"
                    else n.inputs[0] is gz):
                return False
        elif not _sums_all_but_channels(n, grad):
            return False
    small_shape = (full[0],) + live + (full[-1],)
    rw.set_outputs(grad, [(small_shape, gz.dtype)])
    grad.attrs = dict(a, input_shape=small_shape)
    small = grad.outputs[0]
    for n in dict.fromkeys(consumers):
        rw.set_inputs(n, [small if v is gz else v for v in n.inputs])
        if n.op.name in ("reduce_sum", "sum_to_shape"):
            continue
        na = n.attrs
        ks = (tuple(na["filter_shape"][:nd]) if n.op.name == "conv_backprop_filter"
              else tuple(n.inputs[1].shape[:nd]))
        crop = tuple(_crop_extent(o, k, s, d) for o, k, s, d in
                     zip(live, ks, na["strides"], na["dilations"]))
        if n.op.name == "conv_backprop_filter":
            x = n.inputs[0]
            key = (slice(None),) + tuple(slice(0, c) for c in crop) + (slice(None),)
            view = rw.node(REGISTRY["strided_slice"], [x], {"key": key},
                           [((x.shape[0],) + crop + (x.shape[-1],), x.dtype)], before=n)
            rw.set_inputs(n, [view.outputs[0], small])  # the view lives only for n
        else:
            dx = n.outputs[0]
            inner_shape = (dx.shape[0],) + crop + (dx.shape[-1],)
            rw.set_outputs(n, [(inner_shape, dx.dtype)])
            n.attrs = dict(na, input_shape=inner_shape)
            pads = ((0, 0),) + tuple((0, f - c) for f, c in zip(dx.shape[1:-1], crop)) \
                + ((0, 0),)
            rw.node(REGISTRY["pad"], [n.outputs[0]], {"paddings": pads, "mode": "CONSTANT",
                                                      "constant_values": 0}, [dx], after=n)
    return True


FORWARD_RULES = (mask_before_scatter, pool_before_monotone, conv_then_pool, conv_pool_epilogue)
BACKWARD_RULES = (sum_pooled_gradient, conv_pool_backprop)
CROP_RULES = (crop_dropped_rows,)
