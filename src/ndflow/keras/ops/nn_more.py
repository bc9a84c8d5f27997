"""More of `keras.ops.nn`: adaptive pooling, `depth_to_space`/`space_to_depth`,
`unfold`/`fold` (sliding blocks, PyTorch's layout), `polar`, and CTC (`ctc_loss`,
`ctc_decode`).

>>> from ndflow.keras import ops
>>> import numpy as np
>>> x = np.arange(16.0).reshape(1, 4, 4, 1)
>>> ops.adaptive_average_pool(x, 2).numpy()[0, :, :, 0].tolist()
[[2.5, 4.5], [10.5, 12.5]]
>>> ops.depth_to_space(np.arange(4.0).reshape(1, 1, 1, 4), 2).numpy()[0, :, :, 0].tolist()
[[0.0, 1.0], [2.0, 3.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.dispatch import execute, fail
from ndflow.core.tensor import Tensor, constant
from ndflow.keras.ops._common import as_tensor, rank, static_value, to_float
from ndflow.ops import array as a_
from ndflow.ops import math as m
from ndflow.ops import reduce as r_
from ndflow.ops import shape_ops as s_
from ndflow.ops import spectral as sp_
from ndflow.ops._util import npdt, shape_of


def _name(op: str) -> str:
    return f"keras.ops.{op}"


def _data_format(data_format: Any) -> str:
    if data_format is None:
        from ndflow.keras import config

        data_format = config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise fail("keras.ops", "data_format 'channels_last' or 'channels_first'",
                   repr(data_format))
    return data_format


def _known(op: str, x: Tensor, axes: list) -> list:
    shp = shape_of(x)
    if any(shp[a] is None for a in axes):
        raise fail(_name(op), "known spatial sizes", f"shape {list(shp)}")
    return [int(shp[a]) for a in axes]


# --- adaptive pooling ----------------------------------------------------------------------------


def _adaptive(op: str, x: Any, output_size: Any, data_format: Any, use_max: bool) -> Tensor:
    x = to_float(x)
    nd = rank(x)
    if nd not in (3, 4, 5):
        raise fail(_name(op), "a 3-D, 4-D or 5-D input (batch, spatial..., channels)",
                   f"shape {list(shape_of(x))}")
    fmt = _data_format(data_format)
    spatial = list(range(1, nd - 1)) if fmt == "channels_last" else list(range(2, nd))
    outs = [int(output_size)] * len(spatial) if isinstance(output_size, (int, np.integer)) \
        else [int(o) for o in output_size]
    if len(outs) != len(spatial) or min(outs) < 1:
        raise fail(_name(op), f"output_size of {len(spatial)} positive ints",
                   repr(output_size))
    sizes = _known(op, x, spatial)
    for ax, n, o in zip(spatial, sizes, outs):
        starts = [(i * n) // o for i in range(o)]
        ends = [-(-((i + 1) * n) // o) for i in range(o)]
        width = max(e - s for s, e in zip(starts, ends))
        idx = np.array([[min(s + j, e - 1) for j in range(width)] for s, e in zip(starts, ends)])
        g = a_.gather(x, constant(idx.astype(np.int32)), axis=ax)  # [.., o, width, ..]
        if use_max:
            x = r_.reduce_max(g, ax + 1)
        else:
            w = np.array([[1.0 / (e - s) if s + j < e else 0.0 for j in range(width)]
                          for s, e in zip(starts, ends)])
            shape = [1] * (nd + 1)
            shape[ax], shape[ax + 1] = o, width
            x = r_.reduce_sum(m.multiply(g, constant(w.reshape(shape).astype(npdt(x)))),
                              ax + 1)
    return x


def adaptive_average_pool(inputs: Any, output_size: Any, data_format: Any = None) -> Tensor:
    """Average pooling to a fixed `output_size`: output cell `i` averages input positions
    `floor(i n / o)` to `ceil((i + 1) n / o)` (PyTorch's windows)."""
    return _adaptive("adaptive_average_pool", inputs, output_size, data_format, False)


def adaptive_max_pool(inputs: Any, output_size: Any, data_format: Any = None) -> Tensor:
    """Max pooling to a fixed `output_size` (PyTorch's windows)."""
    return _adaptive("adaptive_max_pool", inputs, output_size, data_format, True)


# --- depth and space -----------------------------------------------------------------------------


def depth_to_space(x: Any, block_size: int, data_format: str = "channels_last") -> Tensor:
    """Move channel blocks into `block_size x block_size` spatial blocks (channels_last:
    TensorFlow's order; channels_first: Keras's, channel `c * b * b + i * b + j`)."""
    x = as_tensor(x)
    b = int(block_size)
    if rank(x) != 4 or b < 2:
        raise fail(_name("depth_to_space"), "a 4-D input and block_size >= 2",
                   f"shape {list(shape_of(x))}, block_size={block_size}")
    fmt = _data_format(data_format)
    if fmt == "channels_last":
        h, w, c = _known("depth_to_space", x, [1, 2, 3])
        if c % (b * b):
            raise fail(_name("depth_to_space"), f"channels divisible by {b * b}", f"{c}")
        y = s_.reshape(x, [-1, h, w, b, b, c // (b * b)])
        y = a_.transpose(y, [0, 1, 3, 2, 4, 5])
        return s_.reshape(y, [-1, h * b, w * b, c // (b * b)])
    c, h, w = _known("depth_to_space", x, [1, 2, 3])
    if c % (b * b):
        raise fail(_name("depth_to_space"), f"channels divisible by {b * b}", f"{c}")
    y = s_.reshape(x, [-1, c // (b * b), b, b, h, w])  # Keras's channels_first order
    y = a_.transpose(y, [0, 1, 4, 2, 5, 3])
    return s_.reshape(y, [-1, c // (b * b), h * b, w * b])


def space_to_depth(x: Any, block_size: int, data_format: str = "channels_last") -> Tensor:
    """Move `block_size x block_size` spatial blocks into channels (inverse of
    `depth_to_space`)."""
    x = as_tensor(x)
    b = int(block_size)
    if rank(x) != 4 or b < 2:
        raise fail(_name("space_to_depth"), "a 4-D input and block_size >= 2",
                   f"shape {list(shape_of(x))}, block_size={block_size}")
    fmt = _data_format(data_format)
    if fmt == "channels_last":
        h, w, c = _known("space_to_depth", x, [1, 2, 3])
        if h % b or w % b:
            raise fail(_name("space_to_depth"), f"height and width divisible by {b}",
                       f"{h} x {w}")
        y = s_.reshape(x, [-1, h // b, b, w // b, b, c])
        y = a_.transpose(y, [0, 1, 3, 2, 4, 5])
        return s_.reshape(y, [-1, h // b, w // b, b * b * c])
    c, h, w = _known("space_to_depth", x, [1, 2, 3])
    if h % b or w % b:
        raise fail(_name("space_to_depth"), f"height and width divisible by {b}", f"{h} x {w}")
    y = s_.reshape(x, [-1, c, h // b, b, w // b, b])
    y = a_.transpose(y, [0, 1, 3, 5, 2, 4])
    return s_.reshape(y, [-1, b * b * c, h // b, w // b])


# --- sliding blocks ------------------------------------------------------------------------------


def _pair(op: str, v: Any, what: str) -> tuple:
    p = (int(v), int(v)) if isinstance(v, (int, np.integer)) else tuple(int(e) for e in v)
    if len(p) != 2:
        raise fail(_name(op), f"{what} as an int or a pair", repr(v))
    return p


def _block_geometry(op: str, size: tuple, kernel_size: Any, dilation: Any, padding: Any,
                    stride: Any) -> tuple:
    k, d = _pair(op, kernel_size, "kernel_size"), _pair(op, dilation, "dilation")
    p, s = _pair(op, padding, "padding"), _pair(op, stride, "stride")
    outs = []
    for i in range(2):
        o = (size[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1
        if o < 1 or min(k[i], d[i], s[i]) < 1 or p[i] < 0:
            raise fail(_name(op), "a kernel that fits the padded input",
                       f"size {size}, kernel {k}, dilation {d}, padding {p}, stride {s}")
        outs.append(o)
    idx = [(np.arange(outs[i])[:, None] * s[i] + np.arange(k[i])[None, :] * d[i])
           for i in range(2)]
    return k, p, tuple(outs), idx


def unfold(x: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
           stride: Any = 1) -> Tensor:
    """Sliding local blocks of a `(N, C, H, W)` input as `(N, C * kh * kw, L)` columns
    (PyTorch's `unfold`)."""
    x = as_tensor(x)
    if rank(x) != 4:
        raise fail(_name("unfold"), "a 4-D input (N, C, H, W)", f"shape {list(shape_of(x))}")
    c, h, w = _known("unfold", x, [1, 2, 3])
    k, p, (oh, ow), (ih, iw) = _block_geometry("unfold", (h, w), kernel_size, dilation,
                                                padding, stride)
    xp_ = a_.pad(x, [[0, 0], [0, 0], [p[0], p[0]], [p[1], p[1]]])
    g = a_.gather(xp_, constant(ih.astype(np.int32)), axis=2)  # N C oh kh W
    g = a_.gather(g, constant(iw.astype(np.int32)), axis=4)  # N C oh kh ow kw
    g = a_.transpose(g, [0, 1, 3, 5, 2, 4])  # N C kh kw oh ow
    return s_.reshape(g, [-1, c * k[0] * k[1], oh * ow])


def fold(x: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """The adjoint of `unfold`: columns `(N, C * kh * kw, L)` summed back into an
    `(N, C, H, W)` image (overlaps add up)."""
    x = as_tensor(x)
    if rank(x) != 3:
        raise fail(_name("fold"), "a 3-D input (N, C * kh * kw, L)",
                   f"shape {list(shape_of(x))}")
    h, w = _pair("fold", output_size, "output_size")
    k, p, (oh, ow), (ih, iw) = _block_geometry("fold", (h, w), kernel_size, dilation, padding,
                                                stride)
    n, ck, length = _known("fold", x, [0, 1, 2])
    kk = k[0] * k[1]
    if ck % kk or length != oh * ow:
        raise fail(_name("fold"), f"C * {kk} rows and {oh * ow} blocks",
                   f"shape {list(shape_of(x))}")
    c = ck // kk
    wp = w + 2 * p[1]
    # flat index in the padded image of (kh, kw, oh, ow)
    rows = ih.T[:, None, :, None]  # kh 1 oh 1
    cols = iw.T[None, :, None, :]  # 1 kw 1 ow
    flat = (rows * wp + cols).reshape(-1, 1)
    upd = a_.transpose(s_.reshape(x, [n, c, kk * length]), [2, 0, 1])  # K*L, N, C
    img = a_.scatter_nd(constant(flat.astype(np.int64)), upd, [(h + 2 * p[0]) * wp, n, c])
    img = s_.reshape(a_.transpose(img, [1, 2, 0]), [n, c, h + 2 * p[0], wp])
    return a_.slice_(img, [0, 0, p[0], p[1]], [-1, -1, h, w])


def polar(abs_: Any, angle: Any) -> Tensor:
    """Complex numbers from magnitude and angle: `abs_ * (cos(angle) + 1j sin(angle))`."""
    r, th = to_float(abs_), to_float(angle)
    if npdt(th) != npdt(r):
        th = m.cast(th, npdt(r))
    return sp_.complex(m.multiply(r, m.cos(th)), m.multiply(r, m.sin(th)))


# --- CTC -----------------------------------------------------------------------------------------


def ctc_loss(target: Any, output: Any, target_length: Any, output_length: Any,
             mask_index: int = 0) -> Tensor:
    """CTC loss per sample: `target` (batch, max_label_length) int labels,
    `output` (batch, time, classes) logits (log-softmaxed here), the lengths of both, and
    the blank class `mask_index`."""
    from ndflow.keras.losses.losses import _CTC  # the one CTC primitive (with its gradient)

    z = to_float(output)
    y = as_tensor(target)
    if rank(z) != 3 or rank(y) != 2:
        raise fail(_name("ctc_loss"), "target (batch, length) and output (batch, time, "
                   "classes)", f"shapes {list(shape_of(y))} and {list(shape_of(z))}")
    if npdt(y).kind not in "iu":
        y = m.cast(y, np.int64)
    tl = m.cast(as_tensor(target_length), np.int64)
    ol = m.cast(as_tensor(output_length), np.int64)
    return execute(_CTC, (z, m.cast(y, np.int64), tl, ol), {"blank": int(mask_index)})[0]


def _greedy(x: np.ndarray, lengths: np.ndarray, merge_repeated: bool, blank: int) -> tuple:
    b, t_max, _ = x.shape
    ids = x.argmax(-1).astype(np.int32)
    best = x.max(-1)
    past = np.arange(t_max)[None, :] >= lengths[:, None]
    ids = np.where(past, blank, ids)
    best = np.where(past, 0.0, best)
    if merge_repeated:
        rep = np.pad(ids[:, 1:] == ids[:, :-1], ((0, 0), (1, 0)))
        ids = np.where(rep, blank, ids)
    out = np.full((b, t_max), -1, np.int32)
    for i in range(b):
        kept = ids[i][ids[i] != blank]
        out[i, :len(kept)] = kept
    return out[None], (-best.sum(1))[:, None].astype(x.dtype)


def _beam(logp: np.ndarray, length: int, beam_width: int, top_paths: int, blank: int,
          merge_repeated: bool) -> tuple:
    """CTC prefix beam search over one sequence (log probabilities [time, classes])."""
    neg = -np.inf
    beams: dict = {(): (0.0, neg)}  # prefix -> (log p ending in blank, ending in a label)
    classes = logp.shape[1]
    for t in range(length):
        row = logp[t]
        nxt: dict = {}

        def add(prefix: tuple, pb: float, pnb: float, nxt: dict = nxt) -> None:
            ob, onb = nxt.get(prefix, (neg, neg))
            nxt[prefix] = (np.logaddexp(ob, pb), np.logaddexp(onb, pnb))

        for prefix, (pb, pnb) in beams.items():
            total = np.logaddexp(pb, pnb)
            add(prefix, total + row[blank], neg)
            for c in range(classes):
                if c == blank:
                    continue
                if prefix and prefix[-1] == c and merge_repeated:
                    add(prefix + (c,), neg, pb + row[c])
                    add(prefix, neg, pnb + row[c])
                else:
                    add(prefix + (c,), neg, total + row[c])
        ranked = sorted(nxt.items(), key=lambda kv: -np.logaddexp(*kv[1]))
        beams = dict(ranked[:beam_width])
    ranked = sorted(beams.items(), key=lambda kv: -np.logaddexp(*kv[1]))[:top_paths]
    return [p for p, _ in ranked], [float(np.logaddexp(*s)) for _, s in ranked]


def ctc_decode(inputs: Any, sequence_lengths: Any, strategy: str = "greedy",
               beam_width: int = 100, top_paths: int = 1, merge_repeated: bool = True,
               mask_index: int = 0) -> tuple:
    """Decode CTC outputs `(batch, time, classes)`: 'greedy' (best class per step, repeats
    merged, blanks removed; score `-sum(max)` of the inputs) or 'beam_search' (prefix beam
    search on log-softmaxed inputs; scores are log probabilities). Returns the paths
    `(top_paths, batch, time)` padded with -1, and the scores `(batch, top_paths)`.
    Runs eagerly (the result's shape depends on the values)."""
    x = np.asarray(static_value("ctc_decode", to_float(inputs), "inputs"))
    lengths = np.asarray(static_value("ctc_decode", sequence_lengths, "sequence_lengths"),
                         np.int64).reshape(-1)
    if x.ndim != 3 or lengths.shape[0] != x.shape[0]:
        raise fail(_name("ctc_decode"), "inputs (batch, time, classes) and one length per "
                   "sample", f"shapes {list(x.shape)} and {list(lengths.shape)}")
    blank = int(mask_index) % x.shape[-1]
    if strategy == "greedy":
        paths, scores = _greedy(x, lengths, merge_repeated, blank)
        return constant(paths), constant(scores)
    if strategy != "beam_search":
        raise fail(_name("ctc_decode"), "strategy 'greedy' or 'beam_search'", repr(strategy))
    z = x.astype(np.float64)
    z = z - z.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    b, t_max, _ = x.shape
    k = int(top_paths)
    paths = np.full((k, b, t_max), -1, np.int32)
    scores = np.full((b, k), -np.inf, x.dtype)
    for i in range(b):
        found, sc = _beam(logp[i], int(min(lengths[i], t_max)), int(beam_width), k, blank,
                          merge_repeated)
        for j, (p, s) in enumerate(zip(found, sc)):
            paths[j, i, :len(p)] = p
            scores[i, j] = s
    return constant(paths), constant(scores)


__all__ = ["adaptive_average_pool", "adaptive_max_pool", "ctc_decode", "ctc_loss",
           "depth_to_space", "fold", "polar", "space_to_depth", "unfold"]

