"""Array manipulation: transpose, concat/stack/split, tile, pad, gather, slicing, sorting.

>>> import ndflow as tf
>>> x = tf.reshape(tf.range(6), [2, 3])
>>> tf.transpose(x).shape.as_list(), x[:, ::-1].numpy().tolist()
([3, 2], [[2, 1, 0], [5, 4, 3]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.backend import jit
from ndflow.core.dispatch import OpsByOutputCount, Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor, constant
from ndflow.ops import math as m
from ndflow.ops._util import is_variable, norm_axis, norm_one_axis, npdt, own, shape_of, t
from ndflow.ops.reduce import reduce_sum
from ndflow.ops.shape_ops import broadcast_to, reshape

# --- transpose ---------------------------------------------------------------------------------


def _transpose_infer(x: Spec, perm: tuple) -> Spec:
    if sorted(perm) != list(range(x.ndim)):
        raise fail("transpose", f"a permutation of {list(range(x.ndim))}", f"perm={list(perm)}")
    return Spec(tuple(x.shape[p] for p in perm), x.dtype)


_TRANSPOSE = register_op(
    "transpose", lambda xp, a, perm: xp.transpose(a, perm), _transpose_infer,
    lambda node, g: (transpose(g, tuple(int(i) for i in np.argsort(node.attrs["perm"]))),))


def transpose(a: Any, perm: Any = None, conjugate: bool = False, name: str | None = None) -> Tensor:
    """Permute dimensions; the default reverses them."""
    x = t(a)
    nd = len(shape_of(x))
    perm = tuple(range(nd))[::-1] if perm is None else tuple(int(p) % max(nd, 1) for p in perm)
    if len(perm) != nd or sorted(perm) != list(range(nd)):
        raise fail("transpose", f"a permutation of {list(range(nd))}", f"perm={list(perm)}")
    if perm == tuple(range(nd)) and not is_variable(x):
        return x
    return own(x, execute(_TRANSPOSE, (x,), {"perm": perm}))


def expand_dims(input: Any, axis: int, name: str | None = None) -> Tensor:
    x = t(input)
    shape = list(shape_of(x))
    nd = len(shape)
    if not -nd - 1 <= axis <= nd:
        raise fail("expand_dims", f"axis in [{-nd - 1}, {nd}]", f"axis={axis}")
    ax = axis if axis >= 0 else axis + nd + 1
    shape.insert(ax, 1)
    return _reshape_known(x, shape)


def _reshape_known(x: Tensor, shape: list) -> Tensor:
    dims = [-1 if d is None else d for d in shape]
    if dims.count(-1) > 1:  # symbolic input with several unknown dims: shape only
        from ndflow.core.tensor import SymbolicTensor

        return SymbolicTensor(shape, npdt(x))
    return reshape(x, dims)


def squeeze(input: Any, axis: Any = None, name: str | None = None) -> Tensor:
    """Remove size-1 dimensions (all of them, or those in `axis`)."""
    x = t(input)
    shape = shape_of(x)
    if axis is None:
        ax = tuple(i for i, d in enumerate(shape) if d == 1)
    else:
        ax = norm_axis("squeeze", axis, len(shape))
        for a in ax:
            if shape[a] != 1 and shape[a] is not None:
                raise fail("squeeze", f"dimension {a} to be of size 1", f"size {shape[a]} "
                           f"(input shape {list(shape)})")
    return _reshape_known(x, [d for i, d in enumerate(shape) if i not in ax])


# --- concat / stack / split ------------------------------------------------------------------


def _concat_infer(*xs: Spec, axis: int) -> Spec:
    first = xs[0]
    for i, s in enumerate(xs[1:], 1):
        if s.ndim != first.ndim or any(
                a != b and a is not None and b is not None
                for j, (a, b) in enumerate(zip(s.shape, first.shape)) if j != axis):
            raise fail("concat", f"inputs whose shapes match except on axis {axis} "
                       f"(input 0 has shape {list(first.shape)})",
                       f"input {i} with shape {list(s.shape)}")
        if s.dtype != first.dtype:
            raise fail("concat", f"inputs of one dtype ({first.dtype.name})",
                       f"input {i} of dtype {s.dtype.name}")
    dims = [s.shape[axis] for s in xs]
    shape = list(first.shape)
    shape[axis] = None if None in dims else sum(dims)
    return Spec(shape, first.dtype)


def _concat_grad(node: Any, g: Tensor) -> tuple:
    axis = node.attrs["axis"]
    sizes = [shape_of(x)[axis] for x in node.inputs]
    return tuple(split(g, sizes, axis=axis))


_CONCAT = register_op("concat", lambda xp, *a, axis: xp.concatenate(a, axis=axis),
                      _concat_infer, _concat_grad)


def concat(values: list, axis: int, name: str | None = None) -> Tensor:
    """Join tensors along an existing axis."""
    xs = [t(v) for v in values]
    if not xs:
        raise ValueError("concat: expected a non-empty list of tensors")
    if len(xs) == 1:
        return xs[0]
    nd = len(shape_of(xs[0]))
    ax = norm_one_axis("concat", axis, nd)
    dt = npdt(xs[0])
    for i, x in enumerate(xs[1:], 1):
        if len(shape_of(x)) != nd:
            raise fail("concat", f"inputs of rank {nd} (like input 0)",
                       f"input {i} of rank {len(shape_of(x))}")
        if npdt(x) != dt:  # NumPy would silently promote
            raise fail("concat", f"inputs of one dtype ({dt.name}, like input 0)",
                       f"input {i} of dtype {npdt(x).name}", "Cast with tf.cast.")
    return execute(_CONCAT, tuple(xs), {"axis": ax})


def stack(values: list, axis: int = 0, name: str | None = None) -> Tensor:
    """Join same-shaped tensors along a new axis."""
    xs = [t(v) for v in values]
    if not xs:
        raise ValueError("stack: expected a non-empty list of tensors")
    s0 = shape_of(xs[0])
    for i, x in enumerate(xs[1:], 1):
        if tuple(shape_of(x)) != tuple(s0):
            raise fail("stack", f"tensors of one shape ({list(s0)})",
                       f"input {i} with shape {list(shape_of(x))}")
    nd = len(s0) + 1
    if not -nd <= axis < nd:
        raise fail("stack", f"axis in [{-nd}, {nd})", f"axis={axis}")
    return concat([expand_dims(x, axis) for x in xs], axis=axis % nd)


def _split_infer(x: Spec, sizes: tuple, axis: int) -> tuple:
    out = []
    for s in sizes:
        shape = list(x.shape)
        shape[axis] = s
        out.append(Spec(shape, x.dtype))
    return tuple(out)


def _split_fwd(xp: Any, a: Any, sizes: tuple, axis: int) -> tuple:
    idx = np.cumsum(sizes)[:-1]
    return tuple(xp.split(a, idx, axis=axis))


def _split_grad(node: Any, *gs: Tensor) -> tuple:
    from ndflow.ops.creation import zeros_like

    parts = [zeros_like(o) if g is None else g for o, g in zip(node.outputs, gs)]
    return (concat(parts, axis=node.attrs["axis"]),)


_SPLITS = OpsByOutputCount(lambda n: f"split_{n}" if n != 2 else "split", _split_fwd,
                           _split_infer, _split_grad)
_SPLITS[2]  # register the canonical "split" op now so the registry lists it


def split(value: Any, num_or_size_splits: Any, axis: int = 0, num: int | None = None,
          name: str | None = None) -> list:
    """Split into equal parts (an int) or parts of the given sizes (a list)."""
    x = t(value)
    shape = shape_of(x)
    ax = norm_one_axis("split", axis, len(shape))
    dim = shape[ax]
    if dim is None:
        raise fail("split", f"a known size along axis {ax}", f"shape {list(shape)}",
                   "Symbolic tensors can be split only along dimensions of known size.")
    if isinstance(num_or_size_splits, (int, np.integer)):
        n = int(num_or_size_splits)
        if n <= 0 or dim % n:
            raise fail("split", f"a number of splits that divides dimension {ax} (size {dim})",
                       f"num_or_size_splits={n}")
        sizes = (dim // n,) * n
    else:
        sizes = [int(s) for s in num_or_size_splits]
        if sizes.count(-1) == 1:
            sizes[sizes.index(-1)] = dim - (sum(sizes) + 1)
        if sum(sizes) != dim or any(s < 0 for s in sizes):
            raise fail("split", f"sizes that add up to dimension {ax} (size {dim})",
                       f"{sizes}")
        sizes = tuple(sizes)
    if len(sizes) == 1:
        return [x]
    return list(own(x, execute(_SPLITS[len(sizes)], (x,), {"sizes": sizes, "axis": ax})))


def unstack(value: Any, num: int | None = None, axis: int = 0, name: str | None = None) -> list:
    """Split along `axis` into rank-reduced tensors."""
    x = t(value)
    shape = shape_of(x)
    ax = norm_one_axis("unstack", axis, len(shape))
    n = shape[ax]
    if n is None:
        raise fail("unstack", "a known dimension to unstack", f"unknown size on axis {ax}")
    if n == 1:
        return [squeeze(x, ax)]
    return [squeeze(p, ax) for p in split(x, n, ax)]


# --- tile, pad, reverse, roll, repeat --------------------------------------------------------


def _tile_grad(node: Any, g: Tensor) -> tuple:
    x = node.inputs[0]
    mult = node.attrs["multiples"]
    shape = shape_of(x)
    inter = []
    for mlt, d in zip(mult, shape):
        inter += [mlt, d]
    summed = reduce_sum(reshape(g, inter), axis=tuple(range(0, 2 * len(shape), 2)))
    return (summed,)


_TILE = register_op(
    "tile", lambda xp, a, multiples: xp.tile(a, multiples),
    lambda x, multiples: Spec([None if d is None else d * k for d, k in zip(x.shape, multiples)],
                              x.dtype), _tile_grad)


def tile(input: Any, multiples: Any, name: str | None = None) -> Tensor:
    x = t(input)
    mult = tuple(int(k) for k in (multiples.numpy() if isinstance(multiples, Tensor)
                                  else multiples))
    if len(mult) != len(shape_of(x)):
        raise fail("tile", f"one multiple per dimension ({len(shape_of(x))})",
                   f"{len(mult)} multiples")
    return execute(_TILE, (x,), {"multiples": mult})


def _pad_fwd(xp: Any, a: Any, paddings: tuple, mode: str, constant_values: Any) -> Any:
    if mode == "CONSTANT":
        return xp.pad(a, paddings, constant_values=constant_values)
    return xp.pad(a, paddings, mode="reflect" if mode == "REFLECT" else "symmetric")


def _pad_source_index(shape: tuple, paddings: tuple, mode: str) -> np.ndarray:
    """For each padded element, the flat index of the input element it copies."""
    src = np.arange(int(np.prod(shape))).reshape(shape)
    return np.pad(src, paddings, mode="reflect" if mode == "REFLECT" else "symmetric")


def _pad_mirror_grad_fwd(xp: Any, g: Any, shape: tuple, paddings: tuple, mode: str) -> Any:
    src = xp.asarray(_pad_source_index(shape, paddings, mode)).reshape(-1)
    out = xp.zeros(int(np.prod(shape)), g.dtype)
    xp.add.at(out, src, g.reshape(-1))
    return out.reshape(shape)


def _pad_mirror_grad_grad(node: Any, g: Tensor) -> tuple:
    a = node.attrs
    return (execute(_PAD, (g,), {"paddings": a["paddings"], "mode": a["mode"],
                                 "constant_values": 0}),)


def _pad_grad(node: Any, g: Tensor) -> tuple:
    a = node.attrs
    if a["mode"] != "CONSTANT":
        return (execute(_PAD_MIRROR_GRAD, (g,), {"shape": tuple(shape_of(node.inputs[0])),
                                                  "paddings": a["paddings"],
                                                  "mode": a["mode"]}),)
    sl = tuple(slice(lo, lo + d) for (lo, _), d in zip(node.attrs["paddings"],
                                                      shape_of(node.inputs[0])))
    return (g[sl],)


_PAD = register_op(
    "pad", _pad_fwd,
    lambda x, paddings, mode, constant_values: Spec(
        [None if d is None else d + lo + hi for d, (lo, hi) in zip(x.shape, paddings)], x.dtype),
    _pad_grad)


_PAD_MIRROR_GRAD = register_op(
    "pad_mirror_grad", _pad_mirror_grad_fwd,
    lambda g, shape, paddings, mode: Spec(shape, g.dtype), _pad_mirror_grad_grad)


def pad(tensor: Any, paddings: Any, mode: str = "CONSTANT", constant_values: Any = 0,
        name: str | None = None) -> Tensor:
    """Pad with `constant_values` (or reflect/symmetric copies); paddings is [[before, after]…]."""
    x = t(tensor)
    p = np.asarray(paddings.numpy() if isinstance(paddings, Tensor) else paddings)
    nd = len(shape_of(x))
    if p.shape != (nd, 2):
        raise fail("pad", f"paddings of shape [{nd}, 2]", f"shape {list(p.shape)}")
    mode = mode.upper()
    if mode not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise fail("pad", "mode CONSTANT, REFLECT or SYMMETRIC", repr(mode))
    pads = tuple((int(a), int(b)) for a, b in p)
    return execute(_PAD, (x,), {"paddings": pads, "mode": mode,
                                "constant_values": constant_values})


_REVERSE = register_op("reverse", lambda xp, a, axis: xp.flip(a, axis), lambda x, axis: Spec(
    x.shape, x.dtype), lambda node, g: (reverse(g, node.attrs["axis"]),))


def reverse(tensor: Any, axis: Any, name: str | None = None) -> Tensor:
    x = t(tensor)
    ax = norm_axis("reverse", axis, len(shape_of(x)))
    return own(x, execute(_REVERSE, (x,), {"axis": ax}))


def roll(input: Any, shift: Any, axis: Any, name: str | None = None) -> Tensor:
    x = t(input)
    shifts = [shift] if isinstance(shift, int) else list(shift)
    axes = [axis] if isinstance(axis, int) else list(axis)
    for s, a in zip(shifts, axes):
        n = shape_of(x)[a]
        s %= n
        if s:
            x = concat([slice_axis(x, a, n - s, n), slice_axis(x, a, 0, n - s)], axis=a)
    return x


def slice_axis(x: Tensor, axis: int, start: int, stop: int) -> Tensor:
    key = (slice(None),) * (axis % len(shape_of(x))) + (slice(start, stop),)
    return x[key]


def repeat(input: Any, repeats: Any, axis: int | None = None, name: str | None = None) -> Tensor:
    """Repeat each element `repeats` times along `axis` (flattening first when axis is None);
    `repeats` is an int or one count per element along the axis."""
    x = t(input)
    if axis is None:
        x = reshape(x, [-1])
        axis = 0
    ax = norm_one_axis("repeat", axis, len(shape_of(x)))
    reps = np.asarray(repeats.numpy() if isinstance(repeats, Tensor) else repeats)
    if reps.ndim == 1 and reps.size != 1:
        n = shape_of(x)[ax]
        if n is None:
            raise fail("repeat", f"a known size along axis {ax} for per-element counts",
                       f"shape {list(shape_of(x))}")
        if reps.size != n or (reps < 0).any():
            raise fail("repeat", f"{n} non-negative counts (one per element along axis {ax})",
                       f"{reps.tolist()}")
        return gather(x, constant(np.repeat(np.arange(n), reps).astype(np.int64)), axis=ax)
    repeats = int(reps.reshape(()))
    y = expand_dims(x, ax + 1)
    mult = [1] * len(shape_of(y))
    mult[ax + 1] = int(repeats)
    y = tile(y, mult)
    shape = list(shape_of(x))
    shape[ax] = None if shape[ax] is None else shape[ax] * repeats
    return _reshape_known(y, shape)


# --- gather / scatter --------------------------------------------------------------------------


def _gather_fwd(xp: Any, params: Any, indices: Any, axis: int, batch_dims: int) -> Any:
    if batch_dims == 0:
        return xp.take(params, indices, axis=axis)
    # batch_dims > 0: gather independently for each leading batch index.
    b = params.shape[:batch_dims]
    pf = params.reshape((-1,) + params.shape[batch_dims:])
    inf = indices.reshape((-1,) + indices.shape[batch_dims:])
    out = xp.stack([xp.take(p, i, axis=axis - batch_dims) for p, i in zip(pf, inf)])
    return out.reshape(b + out.shape[1:])


def _gather_infer(p: Spec, i: Spec, axis: int, batch_dims: int) -> Spec:
    if i.dtype.kind not in "iu":
        raise fail("gather", "integer indices", f"dtype {i.dtype.name}")
    shape = p.shape[:axis] + i.shape[batch_dims:] + p.shape[axis + 1:]
    return Spec(shape, p.dtype)


def _gather_grad(node: Any, g: Tensor) -> tuple:
    params, indices = node.inputs
    a = node.attrs
    return (execute(_GATHER_GRAD, (g, indices), {"shape": tuple(shape_of(params)),
                                                  "axis": a["axis"],
                                                  "batch_dims": a["batch_dims"]}), None)


@jit.kernel
def _scatter_add_rows(out: Any, indices: Any, rows: Any) -> None:
    """out[indices[i]] += rows[i] for 2-D `out` and `rows` (indices already in range)."""
    n = out.shape[0]
    for i in range(indices.shape[0]):
        j = indices[i]
        if j < 0:
            j += n
        dst = out[j]
        src = rows[i]
        for k in range(src.shape[0]):
            dst[k] += src[k]


def _scatter_add_fwd(xp: Any, g: Any, indices: Any, shape: tuple, axis: int,
                     batch_dims: int) -> Any:
    out = xp.zeros(shape, g.dtype)
    if batch_dims == 0 and axis == 0 and indices.size and jit.accepts(out, g, indices) \
            and g.dtype in (np.float32, np.float64):
        idx = indices.reshape(-1)
        lo, hi = int(idx.min()), int(idx.max())
        out2, rows = out.reshape(shape[0], -1), g.reshape(idx.size, -1)
        # else add.at raises its IndexError (or shape error) below
        if -shape[0] <= lo and hi < shape[0] and rows.shape[1] == out2.shape[1]:
            _scatter_add_rows(out2, idx, rows)
            return out
    if batch_dims == 0:
        lead = g.shape[:axis]
        gi = g.reshape(lead + (indices.size,) + g.shape[axis + indices.ndim:])
        o = xp.moveaxis(out, axis, 0)
        xp.add.at(o, indices.reshape(-1), xp.moveaxis(gi, axis, 0))
        return out
    for bi in np.ndindex(*shape[:batch_dims]):
        sub = _scatter_add_fwd(xp, g[bi], indices[bi], shape[batch_dims:], axis - batch_dims, 0)
        out[bi] = sub
    return out


def _scatter_grad(node: Any, g: Tensor) -> tuple:
    a = node.attrs
    return (gather(g, node.inputs[1], axis=a["axis"], batch_dims=a["batch_dims"]), None)


_GATHER = register_op("gather", _gather_fwd, _gather_infer, _gather_grad)
_GATHER_GRAD = register_op(
    "gather_grad", _scatter_add_fwd,
    lambda g, i, shape, axis, batch_dims: Spec(shape, g.dtype), _scatter_grad)


def gather(params: Any, indices: Any, validate_indices: Any = None, axis: int | None = None,
           batch_dims: int = 0, name: str | None = None) -> Tensor:
    """Take slices of `params` along `axis` at `indices` (any integer shape)."""
    p = t(params)
    i = t(indices)
    if npdt(i).kind not in "iu":
        raise fail("gather", "integer indices", f"dtype {npdt(i).name}",
                   "Cast the indices with tf.cast(indices, tf.int32).")
    nd = len(shape_of(p))
    if batch_dims < 0:
        batch_dims += len(shape_of(i))
    ax = norm_one_axis("gather", batch_dims if axis is None else axis, nd)
    if not 0 <= batch_dims <= min(ax, len(shape_of(i))):
        raise fail("gather", f"batch_dims in [0, {min(ax, len(shape_of(i)))}] (at most the axis "
                   "and the rank of indices)", f"batch_dims={batch_dims}")
    if not (p._symbolic or i._symbolic or i._traced) and i._value.size:
        dim = shape_of(p)[ax]
        lo, hi = int(i._value.min()), int(i._value.max())
        if lo < 0 or hi >= dim:
            raise fail("gather", f"indices in [0, {dim}) for axis {ax} of params with shape "
                       f"{list(shape_of(p))}", f"an index of {lo if lo < 0 else hi}")
    return execute(_GATHER, (p, i), {"axis": ax, "batch_dims": int(batch_dims)})


def _gather_nd_fwd(xp: Any, params: Any, indices: Any) -> Any:
    k = indices.shape[-1]
    idx = tuple(indices[..., j] for j in range(k))
    return params[idx]


def _gather_nd_infer(p: Spec, i: Spec) -> Spec:
    k = i.shape[-1]
    return Spec(i.shape[:-1] + p.shape[k:], p.dtype)


def _gather_nd_grad(node: Any, g: Tensor) -> tuple:
    params, indices = node.inputs
    return (execute(_SCATTER_ND, (g, indices), {"shape": tuple(shape_of(params))}), None)


def _scatter_nd_fwd(xp: Any, updates: Any, indices: Any, shape: tuple) -> Any:
    out = xp.zeros(shape, updates.dtype)
    k = indices.shape[-1]
    xp.add.at(out, tuple(indices[..., j] for j in range(k)), updates)
    return out


_GATHER_ND = register_op("gather_nd", _gather_nd_fwd, _gather_nd_infer, _gather_nd_grad)
_SCATTER_ND = register_op(
    "scatter_nd", _scatter_nd_fwd, lambda u, i, shape: Spec(shape, u.dtype),
    lambda node, g: (gather_nd(g, node.inputs[1]), None))


def gather_nd(params: Any, indices: Any, batch_dims: int = 0, name: str | None = None) -> Tensor:
    """Gather slices addressed by the last axis of `indices`."""
    p, i = t(params), t(indices)
    if npdt(i).kind not in "iu":
        raise fail("gather_nd", "integer indices", f"dtype {npdt(i).name}")
    if shape_of(i)[-1] > len(shape_of(p)):
        raise fail("gather_nd", f"index depth <= rank of params ({len(shape_of(p))})",
                   f"depth {shape_of(i)[-1]}")
    if batch_dims:
        raise fail("gather_nd", "batch_dims=0", f"batch_dims={batch_dims}",
                   "Fold batch dimensions into the indices instead.")
    return execute(_GATHER_ND, (p, i))


def scatter_nd(indices: Any, updates: Any, shape: Any, name: str | None = None) -> Tensor:
    """Scatter (adding duplicates) `updates` into zeros of `shape`."""
    i, u = t(indices), t(updates)
    shp = tuple(int(d) for d in (shape.numpy() if isinstance(shape, Tensor) else shape))
    return execute(_SCATTER_ND, (u, i), {"shape": shp})


def tensor_scatter_nd_update(tensor: Any, indices: Any, updates: Any,
                             name: str | None = None) -> Tensor:
    """`tensor` with the elements at `indices` replaced by `updates`."""
    x, i = t(tensor), t(indices)
    u = m.cast(t(updates), npdt(x))
    from ndflow.ops.creation import ones_like

    mask = scatter_nd(i, ones_like(u), shape_of(x))
    return m.add(m.multiply(x, m.subtract(1, m.minimum(mask, 1))), scatter_nd(i, u, shape_of(x)))


def tensor_scatter_nd_add(tensor: Any, indices: Any, updates: Any,
                          name: str | None = None) -> Tensor:
    x = t(tensor)
    return m.add(x, scatter_nd(indices, m.cast(t(updates), npdt(x)), shape_of(x)))


def boolean_mask(tensor: Any, mask: Any, axis: int | None = None,
                 name: str | None = None) -> Tensor:
    """Keep the entries where `mask` is true (mask covers the leading dims from `axis`)."""
    x, mk = t(tensor), t(mask)
    if npdt(mk).kind != "b":
        raise fail("boolean_mask", "a bool mask", f"dtype {npdt(mk).name}")
    ax = 0 if axis is None else axis
    mshape = shape_of(mk)
    xshape = shape_of(x)
    if tuple(xshape[ax:ax + len(mshape)]) != tuple(mshape):
        raise fail("boolean_mask", f"a mask shaped like dims {ax}..{ax + len(mshape) - 1} of "
                   f"the tensor {list(xshape)}", f"mask shape {list(mshape)}")
    flat = reshape(x, list(xshape[:ax]) + [-1] + list(xshape[ax + len(mshape):]))
    idx = constant(np.flatnonzero(mk.numpy().reshape(-1)).astype(np.int64))
    return gather(flat, idx, axis=ax)


# --- one_hot, sort, top_k ------------------------------------------------------------------------


def _one_hot_fwd(xp: Any, i: Any, depth: int, on: Any, off: Any, axis: int, dtype: Any) -> Any:
    eye = xp.arange(depth)
    hot = i[..., None] == eye
    out = xp.where(hot, xp.asarray(on, dtype), xp.asarray(off, dtype))
    if axis != -1 and axis != out.ndim - 1:
        out = xp.moveaxis(out, -1, axis)
    return out


def _one_hot_infer(i: Spec, depth: int, on: Any, off: Any, axis: int, dtype: Any) -> Spec:
    shape = list(i.shape)
    shape.insert(axis if axis >= 0 else len(shape), depth)
    return Spec(shape, dtype)


_ONE_HOT = register_op("one_hot", _one_hot_fwd, _one_hot_infer, None)


def one_hot(indices: Any, depth: int, on_value: Any = None, off_value: Any = None,
            axis: int | None = None, dtype: Any = None, name: str | None = None) -> Tensor:
    """One-hot encode integer `indices` into a new axis of size `depth` (float32 default)."""
    from ndflow.core.dtypes import np_dtype

    i = t(indices)
    if npdt(i).kind not in "iu":
        raise fail("one_hot", "integer indices", f"dtype {npdt(i).name}",
                   "Labels must be class ids; cast them with tf.cast(labels, tf.int32).")
    dt = np_dtype(dtype) if dtype is not None else np.dtype(np.float32)
    return execute(_ONE_HOT, (i,), {"depth": int(depth), "on": 1 if on_value is None else on_value,
                                    "off": 0 if off_value is None else off_value,
                                    "axis": -1 if axis is None else int(axis), "dtype": dt})


def _sort_fwd(xp: Any, a: Any, axis: int, descending: bool) -> Any:
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable").astype(np.int32)
    # Descending and stable (equal values keep their order) without negating, which would
    # wrap unsigned ints and the most negative int and fails for bools: sort the reversed
    # array ascending, reverse the result and map the positions back.
    n = a.shape[axis]
    idx = xp.flip(xp.argsort(xp.flip(a, axis), axis=axis, kind="stable"), axis)
    return (n - 1 - idx).astype(np.int32)


_ARGSORT = register_op("argsort", _sort_fwd,
                       lambda x, axis, descending: Spec(x.shape, np.int32), None)


def argsort(values: Any, axis: int = -1, direction: str = "ASCENDING", stable: bool = False,
            name: str | None = None) -> Tensor:
    x = t(values)
    if direction not in ("ASCENDING", "DESCENDING"):
        raise fail("argsort", "direction 'ASCENDING' or 'DESCENDING'", repr(direction))
    ax = norm_one_axis("argsort", axis, len(shape_of(x)))
    return execute(_ARGSORT, (x,), {"axis": ax, "descending": direction == "DESCENDING"})


def take_along_axis(x: Any, indices: Any, axis: int) -> Tensor:
    """`x` re-ordered by `indices` along `axis` (differentiable in `x`)."""
    x, i = t(x), t(indices)
    ax = norm_one_axis("take_along_axis", axis, len(shape_of(x)))
    return execute(_TAKE_ALONG, (x, i), {"axis": ax})


def _take_along_grad(node: Any, g: Tensor) -> tuple:
    x, i = node.inputs
    return (execute(_PUT_ALONG, (g, i), {"axis": node.attrs["axis"],
                                          "shape": tuple(shape_of(x))}), None)


def _put_along_fwd(xp: Any, g: Any, idx: Any, axis: int, shape: tuple) -> Any:
    out = xp.zeros(shape, g.dtype)
    grids = list(xp.indices(idx.shape, sparse=True))
    grids[axis] = idx
    xp.add.at(out, tuple(grids), g)
    return out


_TAKE_ALONG = register_op(
    "take_along_axis", lambda xp, a, i, axis: xp.take_along_axis(a, i, axis=axis),
    lambda x, i, axis: Spec(i.shape, x.dtype), _take_along_grad)
_PUT_ALONG = register_op(
    "put_along_axis_add", _put_along_fwd, lambda g, i, axis, shape: Spec(shape, g.dtype),
    lambda node, g: (take_along_axis(g, node.inputs[1], node.attrs["axis"]), None))


def sort(values: Any, axis: int = -1, direction: str = "ASCENDING",
         name: str | None = None) -> Tensor:
    x = t(values)
    return take_along_axis(x, argsort(x, axis, direction), axis)


def top_k(input: Any, k: int = 1, sorted: bool = True, name: str | None = None) -> tuple:
    """The `k` largest entries of the last axis and their indices (int32)."""
    x = t(input)
    n = shape_of(x)[-1]
    if not 0 <= k <= n:
        raise fail("top_k", f"k in [0, {n}] (size of the last axis)", f"k={k}")
    idx = argsort(x, -1, "DESCENDING")[..., :k]
    from collections import namedtuple

    return namedtuple("TopKV2", ["values", "indices"])(take_along_axis(x, idx, -1), idx)


# --- strided slicing (Tensor.__getitem__) --------------------------------------------------------


def _canonical_key(key: Any, shape: tuple) -> tuple:
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    for k in key:
        if isinstance(k, Tensor):
            if k.dtype.is_bool:
                raise TypeError("Tensor indexing with a bool tensor is not supported; use "
                                "tf.boolean_mask")
            k = k.numpy()
            k = int(k) if k.ndim == 0 else k
        if isinstance(k, (np.integer,)):
            k = int(k)
        if isinstance(k, (list, np.ndarray)):
            raise TypeError("Only integers, slices, `...`, tf.newaxis (None) and scalar integer "
                            f"tensors are valid indices, got {type(k).__name__}; use tf.gather "
                            "for lists of indices")
        if not (k is None or k is Ellipsis or isinstance(k, (int, slice))):
            raise TypeError("Only integers, slices, `...`, tf.newaxis (None) and scalar integer "
                            f"tensors are valid indices, got {k!r}")
        if isinstance(k, slice):
            k = slice(*(int(v) if v is not None else None for v in (k.start, k.stop, k.step)))
        out.append(k)
    if sum(k is Ellipsis for k in out) > 1:
        raise IndexError("An index can only have a single ellipsis ('...')")
    # bounds check for integer indices, with clear errors
    consumed = sum(1 for k in out if k is not None and k is not Ellipsis)
    if consumed > len(shape):
        raise fail("strided_slice", f"at most {len(shape)} indices for a rank-{len(shape)} "
                   "tensor", f"{consumed}")
    dim = 0
    for k in out:
        if k is Ellipsis:
            dim += len(shape) - consumed
            continue
        if k is None:
            continue
        if isinstance(k, int) and shape[dim] is not None and not -shape[dim] <= k < shape[dim]:
            raise fail("strided_slice", f"index in [{-shape[dim]}, {shape[dim]}) for dimension "
                       f"{dim}", f"index {k}")
        if isinstance(k, slice) and k.step == 0:
            raise fail("strided_slice", "a nonzero slice step", "step 0")
        dim += 1
    return tuple(out)


def _slice_infer(x: Spec, key: tuple) -> Spec:
    # A zero-stride probe array (no memory) of the input's shape; unknown dims get a size
    # large enough for any index, and their slices are marked unknown below.
    # (several unknown dims share a budget: numpy refuses probes of 2**63 elements or more)
    n_unknown = sum(d is None for d in x.shape)
    known = int(np.prod([d for d in x.shape if d is not None], dtype=np.float64)) or 1
    big = max(2, int((2 ** 60 / known) ** (1.0 / n_unknown))) if n_unknown else 0
    probe = np.broadcast_to(np.empty((), np.bool_), [big if d is None else d
                                                     for d in x.shape])
    shape = probe[key].shape
    # map unknown dims: positions that came from unknown input dims stay unknown
    out = list(shape)
    dim, o = 0, 0
    consumed = sum(1 for k in key if k is not None and k is not Ellipsis)
    for k in key:
        if k is Ellipsis:
            for _ in range(len(x.shape) - consumed):
                out[o] = x.shape[dim]
                dim += 1
                o += 1
        elif k is None:
            o += 1
        elif isinstance(k, int):
            dim += 1
        else:
            if x.shape[dim] is None:
                out[o] = None
            dim += 1
            o += 1
    while dim < len(x.shape):
        out[o] = x.shape[dim]
        dim += 1
        o += 1
    return Spec(out, x.dtype)


def _slice_grad(node: Any, g: Tensor) -> tuple:
    return (execute(_SLICE_GRAD, (g,), {"key": node.attrs["key"],
                                         "shape": tuple(shape_of(node.inputs[0]))}),)


def _slice_grad_fwd(xp: Any, g: Any, key: tuple, shape: tuple) -> Any:
    out = xp.zeros(shape, g.dtype)
    out[key] = g
    return out


_SLICE = register_op("strided_slice", lambda xp, a, key: a[key], _slice_infer, _slice_grad)
_SLICE_GRAD = register_op(
    "strided_slice_grad", _slice_grad_fwd, lambda g, key, shape: Spec(shape, g.dtype),
    lambda node, g: (execute(_SLICE, (g,), {"key": node.attrs["key"]}),))


def getitem(x: Tensor, key: Any) -> Tensor:
    """NumPy-style basic indexing: ints, slices with steps, negative indices, `...`, None."""
    return own(x, execute(_SLICE, (x,), {"key": _canonical_key(key, tuple(shape_of(x)))}))


def slice_(input_: Any, begin: Any, size: Any, name: str | None = None) -> Tensor:
    """`size` elements from `begin` in each dimension (-1 means to the end)."""
    x = t(input_)
    shape = shape_of(x)
    key = tuple(
        slice(int(b), None if int(s) == -1 else int(b) + int(s))
        for b, s, _ in zip(begin, size, shape))
    return getitem(x, key)


def strided_slice(input_: Any, begin: Any, end: Any, strides: Any = None,
                  name: str | None = None) -> Tensor:
    strides = strides or [1] * len(begin)
    key = tuple(slice(int(b), int(e), int(s)) for b, e, s in zip(begin, end, strides))
    return getitem(t(input_), key)


# --- shape queries -------------------------------------------------------------------------------


def shape(input: Any, out_type: Any = np.int32, name: str | None = None) -> Tensor:
    """The (dynamic) shape of a tensor as an int32 tensor; symbolic when a dim is unknown."""
    from ndflow.core.dtypes import np_dtype
    from ndflow.core.tensor import SymbolicTensor

    dims = tuple(shape_of(t(input)))
    if None in dims:
        return SymbolicTensor([len(dims)], np_dtype(out_type))
    return constant(np.asarray(dims, dtype=np_dtype(out_type)))


def size(input: Any, out_type: Any = np.int32, name: str | None = None) -> Tensor:
    """The number of elements as a scalar int32 tensor; symbolic when a dim is unknown."""
    from ndflow.core.dtypes import np_dtype
    from ndflow.core.tensor import SymbolicTensor

    dims = tuple(shape_of(t(input)))
    if None in dims:
        return SymbolicTensor([], np_dtype(out_type))
    return constant(np.asarray(int(np.prod(dims)), dtype=np_dtype(out_type)))


def rank(input: Any, name: str | None = None) -> Tensor:
    return constant(np.asarray(len(shape_of(t(input))), dtype=np.int32))


def meshgrid(*args: Any, indexing: str = "xy") -> list:
    xs = [t(a) for a in args]
    n = len(xs)
    shapes = [shape_of(x)[0] for x in xs]
    out = []
    for i, x in enumerate(xs):
        shp = [1] * n
        shp[i] = shapes[i]
        if indexing == "xy" and n >= 2 and i < 2:
            shp[0], shp[1] = shp[1], shp[0]
        full = list(shapes)
        if indexing == "xy" and n >= 2:
            full[0], full[1] = full[1], full[0]
        out.append(broadcast_to(reshape(x, shp), full))
    return out


def ensure_shape(x: Any, shape: Any, name: str | None = None) -> Tensor:
    x = t(x)
    from ndflow.core.shape import TensorShape

    if not TensorShape(shape_of(x)).is_compatible_with(TensorShape(shape)):
        raise fail("ensure_shape", f"shape {list(shape)}", f"{list(shape_of(x))}")
    return x
