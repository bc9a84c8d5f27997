"""Conv + ReLU + MaxPooling, the standard convnet block, with its work done at the pooled
size (a quarter of the elements for a 2x2 pool). Four exact rewrites, run in this order:

- `push_relu_grad_through_max_pool` (backward): for `y = relu(...)` pooled by
  `p, idx = max_pool(y)`, the gradient `relu_grad(max_pool_grad(g, idx), y)` masks a full-size
  array that is zero everywhere but at the window maxima, where `y` equals `p`; so it equals
  `max_pool_grad(relu_grad(g, p), idx)`.
- `pool_before_bias_relu` (forward): max pooling commutes with adding a per-channel bias and
  with ReLU (both are monotone), so `max_pool(relu(conv(x, w) + b))` is
  `relu(max_pool(conv(x, w)) + b)`. The window index can then differ only where the pooled
  value is 0, where the (already rewritten) gradient is masked to zero anyway; so this runs
  only when every use of the index is such a masked gradient, or when nothing uses it.
- `fuse_conv_max_pool`: what is left, `max_pool(conv(x, w))`, becomes one `conv_max_pool`
  kernel (`ops/conv_pool.py`).
- `fuse_conv_max_pool_bias_relu`: the bias add and ReLU left after a `conv_max_pool` join it
  (`conv_max_pool_fused`, one pass over the pooled values).
- `sum_pooled_gradient`: a bias gradient (sum over all but the channel axis) of a max-pool
  gradient is the sum of the pooled gradient itself: with disjoint VALID windows the scatter
  moves each pooled value to exactly one position, so the sum reads a quarter of the elements.
- `conv_max_pool_backprop`: the gradients of a `conv_max_pool` (its pool's `max_pool_grad`
  feeding the convolution's backprop ops) become one `conv_max_pool_grad` kernel
  (`ops/conv_pool_grad.py`) that never builds the full-size conv-output gradient.
- `crop_dropped_pool_gradients`: the convolution gradients skip the rows a VALID pool drops.
"""

from __future__ import annotations

from ndflow.core.dispatch import REGISTRY
from ndflow.graph.ir import GNode, Graph, Value


def _producer_op(v: Value, name: str) -> GNode | None:
    p = v.producer
    return p if v.kind == "node" and p is not None and p.kind == "op" \
        and p.op.name == name else None


def _uses(graph: Graph) -> dict[int, list]:
    """Consumers of each value (by id); None stands for the graph's outputs."""
    uses: dict[int, list] = {}
    for n in graph.nodes:
        for v in n.inputs:
            uses.setdefault(id(v), []).append(n)
    for v in graph.outputs:
        uses.setdefault(id(v), []).append(None)
    return uses


def _splice(graph: Graph, before: dict | None = None, after: dict | None = None,
            drop: set | None = None, replace: dict | None = None) -> None:
    """Rebuild the node order: new nodes go right before/after the node (by id) they are
    keyed by, dropped nodes go, and every input (inserted nodes' too) and output in `replace`
    is redirected."""
    before, after, drop, replace = before or {}, after or {}, drop or set(), replace or {}
    nodes = []
    for node in graph.nodes:
        if id(node) in drop:
            continue
        nodes.extend(before.get(id(node), ()))
        nodes.append(node)
        nodes.extend(after.get(id(node), ()))
    if replace:
        for node in nodes:
            node.inputs = [replace.get(id(v), v) for v in node.inputs]
        graph.outputs = [replace.get(id(v), v) for v in graph.outputs]
    graph.nodes = nodes


def push_relu_grad_through_max_pool(graph: Graph) -> int:
    """Rewrite every `relu_grad(max_pool_grad(g, idx), y)` with `idx` from `max_pool(y)`;
    returns the number rewritten."""
    uses = _uses(graph)
    replace: dict[int, Value] = {}
    insert_before: dict[int, list] = {}
    drop: set[int] = set()
    for node in graph.nodes:
        if node.kind != "op" or node.op.name != "relu_grad" or len(node.inputs) != 2:
            continue
        scattered, y = node.inputs
        grad = _producer_op(scattered, "max_pool_grad")
        if grad is None or len(uses.get(id(scattered), ())) != 1:
            continue
        g, idx = grad.inputs
        pool = _producer_op(idx, "max_pool")
        if pool is None or idx.index != 1 or pool.inputs[0] is not y:
            continue
        pooled = pool.outputs[0]
        if tuple(pooled.shape) != tuple(g.shape):
            continue
        mask = GNode("op", node.op, [g, pooled], dict(node.attrs))
        mask.outputs = [graph.new_value("node", g.shape, g.dtype, mask)]
        grad.inputs = [mask.outputs[0], idx]
        insert_before[id(grad)] = [mask]
        replace[id(node.outputs[0])] = grad.outputs[0]
        drop.add(id(node))
    if drop:
        _splice(graph, before=insert_before, drop=drop, replace=replace)
    return len(drop)


def _masked_by(grad: GNode | None, pooled: Value) -> bool:
    """`grad` is max_pool_grad(relu_grad(g, pooled), idx)."""
    if grad is None or grad.kind != "op" or grad.op.name != "max_pool_grad":
        return False
    mask = _producer_op(grad.inputs[0], "relu_grad")
    return mask is not None and mask.inputs[1] is pooled


def pool_before_bias_relu(graph: Graph) -> int:
    """Rewrite `max_pool(conv(x, w, b, act="relu"))` (channels-last) as
    `relu(max_pool(conv(x, w)) + b)` where that is exact; returns the number rewritten."""
    uses = _uses(graph)
    after: dict[int, list] = {}
    for conv in graph.nodes:
        if conv.kind != "op" or conv.op.name != "conv" or conv.attrs.get("act") != "relu" \
                or conv.attrs.get("channels_first"):
            continue
        y = conv.outputs[0]
        consumers = uses.get(id(y), [])
        if len(consumers) != 1 or consumers[0] is None or consumers[0].kind != "op" \
                or consumers[0].op.name != "max_pool":
            continue
        pool = consumers[0]
        p, idx = pool.outputs
        if not all(_masked_by(n, p) for n in uses.get(id(idx), [])):
            continue
        bias = conv.inputs[2] if len(conv.inputs) > 2 else None
        conv.inputs = conv.inputs[:2]
        conv.attrs = dict(conv.attrs, act=None)
        z = graph.new_value("node", p.shape, p.dtype, pool, 0)
        pool.outputs = [z, idx]
        new = []
        if bias is not None:
            add = GNode("op", REGISTRY["add"], [z, bias], {})
            z = graph.new_value("node", p.shape, p.dtype, add, 0)
            add.outputs = [z]
            new.append(add)
        relu = GNode("op", REGISTRY["relu"], [z], {})
        relu.outputs = [p]
        p.producer, p.index = relu, 0
        new.append(relu)
        after[id(pool)] = new
    if after:
        _splice(graph, after=after)
    return len(after)


def fuse_conv_max_pool(graph: Graph) -> int:
    """Replace `max_pool(conv(x, w))` (no bias or activation left on the conv, channels-last,
    groups=1, non-overlapping VALID pool, the conv output used by nothing else) with one
    `conv_max_pool` node (`ops/conv_pool.py`); returns the number fused."""
    from ndflow.ops.conv_pool import _CONV_POOL

    uses = _uses(graph)
    drop: set[int] = set()
    for conv in graph.nodes:
        a = conv.attrs
        if conv.kind != "op" or conv.op.name != "conv" or a.get("act") is not None \
                or len(conv.inputs) != 2 or a.get("groups") != 1 or a.get("channels_first"):
            continue
        consumers = uses.get(id(conv.outputs[0]), [])
        if len(consumers) != 1 or consumers[0] is None:
            continue
        pool = consumers[0]
        pa = pool.attrs
        if pool.kind != "op" or pool.op.name != "max_pool" or pa["channels_first"] \
                or tuple(pa["strides"]) != tuple(pa["ksize"]) or pa["padding"] != "VALID" \
                or len(pa["ksize"]) != len(conv.outputs[0].shape) - 2:
            continue
        pool.op = _CONV_POOL
        pool.inputs = list(conv.inputs)
        pool.attrs = dict(strides=a["strides"], dilations=a["dilations"], padding=a["padding"],
                          pool_size=tuple(pa["ksize"]))
        drop.add(id(conv))
    if drop:
        _splice(graph, drop=drop)
    return len(drop)


def fuse_conv_max_pool_bias_relu(graph: Graph) -> int:
    """`relu(conv_max_pool(x, w)[0] + b)` (per-channel `b`; or without the add) ->
    `conv_max_pool_fused(x, w, b, relu=True)` when the intermediate values have no other use;
    returns the count."""
    from ndflow.ops.conv_pool import _CONV_POOL, _CONV_POOL_FUSED

    uses = _uses(graph)
    position = {id(n): i for i, n in enumerate(graph.nodes)}

    def only_use(v: Value, name: str) -> GNode | None:
        users = uses.get(id(v), [])
        n = users[0] if len(users) == 1 else None
        return n if n is not None and n.kind == "op" and n.op.name == name else None

    drop: set[int] = set()
    count = 0
    for node in graph.nodes:
        if node.kind != "op" or node.op is not _CONV_POOL:
            continue
        z, idx = node.outputs
        bias = None
        add = only_use(z, "add")
        if add is not None:
            (bias,) = [v for v in add.inputs if v is not z] or [None]
            ok = bias is not None and len(add.inputs) == 2 and bias.dtype == z.dtype \
                and tuple(bias.shape) == (z.shape[-1],) \
                and (bias.producer is None or position.get(id(bias.producer), -1)
                     < position[id(node)])
            relu = only_use(add.outputs[0], "relu") if ok else None
        else:
            relu = only_use(z, "relu")
        if relu is None:
            continue
        y = relu.outputs[0]
        node.op = _CONV_POOL_FUSED
        node.inputs = list(node.inputs[:2]) + ([bias] if add is not None else [])
        node.attrs = dict(node.attrs, relu=True, keep_columns=False)
        y.producer, y.index = node, 0
        node.outputs = [y, idx, graph.new_value("node", (0,), z.dtype, node, 2)]
        drop |= {id(relu)} | ({id(add)} if add is not None else set())
        count += 1
    if drop:
        _splice(graph, drop=drop)
    return count


def sum_pooled_gradient(graph: Graph) -> int:
    """`reduce_sum(max_pool_grad(g, idx), axis=all but channels)` -> `reduce_sum(g, ...)` for
    channels-last VALID pools with disjoint windows (strides >= ksize); returns the count."""
    count = 0
    for node in graph.nodes:
        if node.kind != "op" or node.op.name != "reduce_sum":
            continue
        grad = _producer_op(node.inputs[0], "max_pool_grad")
        if grad is None:
            continue
        a = grad.attrs
        nd = len(a["ksize"])
        if a["channels_first"] or a["padding"] != "VALID" \
                or any(s < k for s, k in zip(a["strides"], a["ksize"])) \
                or tuple(node.attrs["axis"]) != tuple(range(nd + 1)):
            continue
        node.inputs = [grad.inputs[0]] + list(node.inputs[1:])
        count += 1
    return count


def conv_max_pool_backprop(graph: Graph) -> int:
    """`max_pool_grad(g, idx)` of a `conv_max_pool` node whose uses are the convolution's
    input and/or filter gradients (same geometry, channels-last, groups 1) -> one
    `conv_max_pool_grad(x, g, idx, w)` node; returns the number rewritten."""
    from ndflow.ops.conv_pool import _CONV_POOL, _CONV_POOL_FUSED, columns_shape
    from ndflow.ops.conv_pool_grad import _CONV_POOL_GRAD

    uses = _uses(graph)
    replace: dict[int, Value] = {}
    after: dict[int, list] = {}
    drop: set[int] = set()
    for grad in graph.nodes:
        if grad.kind != "op" or grad.op.name != "max_pool_grad":
            continue
        g, idx = grad.inputs[0], grad.inputs[1]
        fwd = idx.producer if idx.kind == "node" else None
        if fwd is None or fwd.kind != "op" or idx.index != 1 \
                or fwd.op not in (_CONV_POOL, _CONV_POOL_FUSED):
            continue
        fa, ga = fwd.attrs, grad.attrs
        if ga["channels_first"] or tuple(ga["ksize"]) != tuple(fa["pool_size"]) \
                or tuple(ga["strides"]) != tuple(fa["pool_size"]) or ga["padding"] != "VALID":
            continue
        x, w = fwd.inputs[:2]
        gz = grad.outputs[0]
        dx_node = dw_node = None
        ok = True
        for n in uses.get(id(gz), []):
            na = getattr(n, "attrs", None) or {}
            same = n is not None and n.kind == "op" and na.get("groups") == 1 \
                and not na.get("channels_first") and na.get("padding") == fa["padding"] \
                and tuple(na.get("strides", ())) == tuple(fa["strides"]) \
                and tuple(na.get("dilations", ())) == tuple(fa["dilations"])
            if same and n.op.name == "conv_backprop_input" and n.inputs[0] is gz \
                    and n.inputs[1] is w and dx_node is None:
                dx_node = n
            elif same and n.op.name == "conv_backprop_filter" and n.inputs[1] is gz \
                    and n.inputs[0] is x and dw_node is None:
                dw_node = n
            else:
                ok = False
        if not ok or (dx_node is None and dw_node is None):
            continue
        inputs = [x, g, idx, w]
        if dw_node is not None:  # the filter gradient reuses the forward's im2col columns
            if fwd.op is _CONV_POOL or not fwd.attrs["keep_columns"]:
                pooled = tuple(fwd.outputs[0].shape[1:-1])
                if None in x.shape or None in pooled:
                    continue
                shape = columns_shape(tuple(x.shape), tuple(w.shape), pooled,
                                      tuple(fa["pool_size"]))
                cols = graph.new_value("node", shape, x.dtype, fwd, 2)
                if fwd.op is _CONV_POOL:
                    fwd.op = _CONV_POOL_FUSED
                    fwd.attrs = dict(fwd.attrs, relu=False)
                fwd.attrs = dict(fwd.attrs, keep_columns=True)
                fwd.outputs = list(fwd.outputs[:2]) + [cols]
                fa = fwd.attrs
            inputs.append(fwd.outputs[2])
        node = GNode("op", _CONV_POOL_GRAD, inputs,
                     dict(strides=tuple(fa["strides"]), dilations=tuple(fa["dilations"]),
                          padding=fa["padding"], pool_size=tuple(fa["pool_size"]),
                          needs=(dx_node is not None, dw_node is not None)))
        outs = []
        for i, old in enumerate((dx_node, dw_node)):
            shape = old.outputs[0].shape if old is not None else (0,)
            v = graph.new_value("node", shape, g.dtype, node, i)
            outs.append(v)
            if old is not None:
                replace[id(old.outputs[0])] = v
                drop.add(id(old))
        node.outputs = outs
        after.setdefault(id(grad), []).append(node)
        drop.add(id(grad))
    if after:
        # each new node goes right after its pool gradient (all its inputs exist there), then
        # the pool gradient and the replaced backprop nodes go
        _splice(graph, after=after, replace=replace)
        graph.nodes = [n for n in graph.nodes if id(n) not in drop]
    return len(after)


def _crop_extent(live: int, k: int, stride: int, dilation: int) -> int:
    """Input extent read by the first `live` outputs of a VALID convolution."""
    return (live - 1) * stride + (k - 1) * dilation + 1


def crop_dropped_pool_gradients(graph: Graph) -> int:
    """A VALID max pool with non-overlapping windows drops trailing rows/columns of odd-sized
    inputs (11 -> 5 reads rows 0..9); their gradient is zero. When the pool's gradient feeds
    only VALID convolution gradients (and bias sums), compute those over the region the pool
    reads: the gradient is built without the zero border, the filter gradient reads a cropped
    view of the conv input, and the input gradient is padded back with zeros. Returns the
    number of pool gradients rewritten."""
    uses = _uses(graph)
    pad_op, slice_op = REGISTRY["pad"], REGISTRY["strided_slice"]
    before: dict[int, list] = {}
    after: dict[int, list] = {}
    count = 0
    for grad in graph.nodes:
        a = grad.attrs
        if grad.kind != "op" or grad.op.name != "max_pool_grad" or a["channels_first"] \
                or a["padding"] != "VALID" or tuple(a["strides"]) != tuple(a["ksize"]):
            continue
        full = tuple(a["input_shape"])
        nd = len(a["ksize"])
        live = tuple((s // k) * k for s, k in zip(full[1:-1], a["ksize"]))
        if None in full or live == tuple(full[1:-1]):
            continue
        gz = grad.outputs[0]
        consumers = uses.get(id(gz), [])
        ok = bool(consumers)
        for n in consumers:
            if n is None or n.kind != "op":
                ok = False
            elif n.op.name in ("conv_backprop_filter", "conv_backprop_input"):
                na = n.attrs
                ok &= (na["padding"] == "VALID" and not na["channels_first"]
                       and (n.inputs[1] is gz if n.op.name == "conv_backprop_filter"
                            else n.inputs[0] is gz))
            elif n.op.name == "reduce_sum":
                ok &= tuple(n.attrs["axis"]) == tuple(range(nd + 1))
            else:
                ok = False
        if not ok:
            continue
        small = graph.new_value("node", (full[0],) + live + (full[-1],), gz.dtype, grad, 0)
        grad.outputs = [small]
        grad.attrs = dict(a, input_shape=small.shape)
        for n in consumers:
            n.inputs = [small if v is gz else v for v in n.inputs]
            if n.op.name == "reduce_sum":
                continue
            na = n.attrs
            ks = (tuple(na["filter_shape"][:nd]) if n.op.name == "conv_backprop_filter"
                  else tuple(n.inputs[1].shape[:nd]))
            crop = tuple(_crop_extent(o, k, s, d) for o, k, s, d in
                         zip(live, ks, na["strides"], na["dilations"]))
            if n.op.name == "conv_backprop_filter":
                x = n.inputs[0]
                key = (slice(None),) + tuple(slice(0, c) for c in crop) + (slice(None),)
                view = GNode("op", slice_op, [x], {"key": key})
                view.outputs = [graph.new_value("node", (x.shape[0],) + crop + (x.shape[-1],),
                                                x.dtype, view, 0)]
                n.inputs = [view.outputs[0], small]
                before.setdefault(id(n), []).append(view)  # the view lives only for n
            else:
                dx = n.outputs[0]
                inner = graph.new_value("node", (dx.shape[0],) + crop + (dx.shape[-1],),
                                        dx.dtype, n, 0)
                n.outputs = [inner]
                n.attrs = dict(na, input_shape=inner.shape)
                pads = ((0, 0),) + tuple((0, f - c) for f, c in zip(dx.shape[1:-1], crop)) \
                    + ((0, 0),)
                pad = GNode("op", pad_op, [inner], {"paddings": pads, "mode": "CONSTANT",
                                                     "constant_values": 0})
                pad.outputs = [dx]
                dx.producer, dx.index = pad, 0
                after.setdefault(id(n), []).append(pad)
        count += 1
    if count:
        _splice(graph, before=before, after=after)
    return count
