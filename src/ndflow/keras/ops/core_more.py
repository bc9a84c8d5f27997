"""More of `keras.ops.core`: `associative_scan` (a parallel prefix scan in log-depth rounds
of whole-tensor calls) and einops-style `rearrange`.

>>> from ndflow.keras import ops
>>> ops.associative_scan(lambda a, b: a + b, ops.convert_to_tensor([1, 2, 3, 4])).numpy().tolist()
[1, 3, 6, 10]
>>> ops.rearrange(ops.zeros((2, 3, 4)), "b h w -> b (w h)").shape.as_list()
[2, 12]
"""

from __future__ import annotations

import re as _re
from collections.abc import Callable
from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import Tensor
from ndflow.keras.ops._common import as_tensor, rank
from ndflow.ops import array as a_
from ndflow.ops import shape_ops as s_
from ndflow.ops._util import shape_of
from ndflow.util import nest


def _take(x: Tensor, axis: int, start: int, stop: int | None, step: int = 1) -> Tensor:
    nd = rank(x)
    key = tuple([slice(None)] * axis + [slice(start, stop, step)] + [slice(None)] * (nd - axis
                                                                                     - 1))
    return x[key]


def _interleave(a: Tensor, b: Tensor, axis: int) -> Tensor:
    """a0 b0 a1 b1 ... along `axis` (`a` may be one longer than `b`)."""
    na, nb = shape_of(a)[axis], shape_of(b)[axis]
    extra = None
    if na == nb + 1:
        extra = _take(a, axis, na - 1, na)
        a = _take(a, axis, 0, na - 1)
    st = a_.stack([a, b], axis=axis + 1)
    shp = [-1 if d is None else d for d in shape_of(st)]
    merged = s_.reshape(st, shp[:axis] + [2 * nb] + shp[axis + 2:])
    return merged if extra is None else a_.concat([merged, extra], axis)


def associative_scan(f: Callable, elems: Any, reverse: bool = False, axis: int = 0) -> Any:
    """Inclusive scan of `elems` (a tensor or a nest of tensors of one length along `axis`)
    with the associative `f(a, b)`, which is called on whole slices (so it must broadcast);
    `reverse` scans from the end."""
    flat = [as_tensor(e) for e in nest.flatten(elems)]
    if not flat:
        raise fail("keras.ops.associative_scan", "at least one tensor", "an empty nest")
    nd = rank(flat[0])
    ax = int(axis) % max(nd, 1)
    n = shape_of(flat[0])[ax]
    if n is None or any(shape_of(e)[ax] != n for e in flat):
        raise fail("keras.ops.associative_scan", "tensors of one known length along axis",
                   str([list(shape_of(e)) for e in flat]))
    if reverse:
        flat = [a_.reverse(e, [ax]) for e in flat]

    def call(a: list, b: list) -> list:
        out = f(nest.pack_sequence_as(elems, a), nest.pack_sequence_as(elems, b))
        return [as_tensor(o) for o in nest.flatten(out)]

    def scan(xs: list) -> list:
        k = shape_of(xs[0])[ax]
        if k < 2:
            return xs
        reduced = call([_take(e, ax, 0, k - 1, 2) for e in xs],
                       [_take(e, ax, 1, None, 2) for e in xs])
        odd = scan(reduced)
        if k % 2 == 0:
            even = call([_take(e, ax, 0, shape_of(e)[ax] - 1) for e in odd],
                        [_take(e, ax, 2, None, 2) for e in xs])
        else:
            even = call(odd, [_take(e, ax, 2, None, 2) for e in xs])
        even = [a_.concat([_take(e, ax, 0, 1), v], ax) for e, v in zip(xs, even)]
        return [_interleave(e, o, ax) for e, o in zip(even, odd)]

    out = scan(flat)
    if reverse:
        out = [a_.reverse(e, [ax]) for e in out]
    return nest.pack_sequence_as(elems, out)


_TOKEN = _re.compile(r"\(|\)|[A-Za-z_][A-Za-z0-9_]*|\d+|\.\.\.")


def _parse_side(side: str) -> list:
    groups: list = []
    cur: list | None = None
    pos = 0
    for m_ in _TOKEN.finditer(side):
        if side[pos:m_.start()].strip():
            raise fail("keras.ops.rearrange", "axis names, numbers and parentheses",
                       repr(side))
        pos = m_.end()
        tok = m_.group()
        if tok == "(":
            if cur is not None:
                raise fail("keras.ops.rearrange", "unnested parentheses", repr(side))
            cur = []
        elif tok == ")":
            if cur is None:
                raise fail("keras.ops.rearrange", "balanced parentheses", repr(side))
            groups.append(cur)
            cur = None
        elif cur is not None:
            cur.append(tok)
        else:
            groups.append([tok])
    if side[pos:].strip() or cur is not None:
        raise fail("keras.ops.rearrange", "a well-formed pattern", repr(side))
    return groups


def rearrange(tensor: Any, pattern: str, **axes_lengths: int) -> Tensor:
    """einops' `rearrange`: reorder, merge (`(h w)`) and split (`(h w)` on the left, with
    sizes in `axes_lengths`) axes, e.g. `"b (h w) c -> b h w c", h=4`. Anonymous axes of
    size 1 are written `1`."""
    x = as_tensor(tensor)
    if "->" not in pattern:
        raise fail("keras.ops.rearrange", "a pattern 'left -> right'", repr(pattern))
    left_s, right_s = pattern.split("->")
    left, right = _parse_side(left_s), _parse_side(right_s)
    shp = shape_of(x)
    if len(left) != len(shp):
        raise fail("keras.ops.rearrange", f"{len(shp)} groups on the left (the input's rank)",
                   f"{len(left)} in {left_s.strip()!r}")
    sizes: dict = {k: int(v) for k, v in axes_lengths.items()}
    elem: list = []
    for group, dim in zip(left, shp):
        names = [g for g in group if g != "1"]
        unknown = [g for g in names if g not in sizes]
        known = int(np.prod([sizes[g] for g in names if g in sizes])) if names else 1
        if len(unknown) > 1:
            raise fail("keras.ops.rearrange", f"sizes for all but one axis of {group}",
                       f"unknown {unknown}")
        if unknown:
            if dim is None:
                if len(names) > 1:
                    raise fail("keras.ops.rearrange", "a known size to split", f"{group}")
                sizes[unknown[0]] = None
            else:
                if dim % known:
                    raise fail("keras.ops.rearrange", f"axis of size {dim} divisible by "
                               f"{known}", f"{group}")
                sizes[unknown[0]] = dim // known
        elif dim is not None and known != dim:
            raise fail("keras.ops.rearrange", f"group {group} of size {dim}", f"{known}")
        elem.extend(names)
    if len(set(elem)) != len(elem):
        raise fail("keras.ops.rearrange", "each axis name once on the left", repr(left_s))
    right_names = [g for group in right for g in group if g != "1"]
    if sorted(right_names) != sorted(elem):
        raise fail("keras.ops.rearrange", "the same axis names on both sides",
                   f"{sorted(elem)} -> {sorted(right_names)}")
    y = s_.reshape(x, [-1 if sizes[n] is None else sizes[n] for n in elem])
    y = a_.transpose(y, [elem.index(n) for n in right_names])
    out_shape = []
    for group in right:
        names = [g for g in group if g != "1"]
        if any(sizes[n] is None for n in names):
            out_shape.append(-1)
        else:
            out_shape.append(int(np.prod([sizes[n] for n in names])) if names else 1)
    return s_.reshape(y, out_shape)


__all__ = ["associative_scan", "rearrange"]
