"""Stacking elements into batches: `batch` (same shapes; SparseTensors gain a batch dimension)
and `padded_batch` (padding to given or largest shapes), with errors naming the stage."""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.data import structure as st
from ndflow.errors import InvalidArgumentError
from ndflow.sparse import SparseTensor

_describe = st.describe


def stack(chunk: list, stage: str) -> Any:
    """Stack elements into one batch, naming the stage when shapes or structures differ."""
    sig = st.signature(chunk[0])
    flats = []
    for i, el in enumerate(chunk):
        if st.signature(el) != sig:
            raise InvalidArgumentError(
                f"{stage}: element {i} of the batch has structure {_describe(el)}, expected "
                f"{_describe(chunk[0])}")
        flats.append(st.flatten(el))
    out = []
    for j in range(len(flats[0])):
        parts = [f[j] for f in flats]
        if isinstance(parts[0], SparseTensor):
            out.append(st.stack_leaves(parts))
            continue
        shapes = {np.shape(p) for p in parts}
        if len(shapes) > 1:
            raise InvalidArgumentError(
                f"{stage}: cannot batch elements of different shapes {sorted(shapes)} "
                f"(component {j}); use padded_batch, or ragged elements need padding first")
        if hasattr(parts[0], "_make_iter"):
            raise InvalidArgumentError(f"{stage}: cannot batch dataset elements (windows); "
                                       "use flat_map(lambda w: w.batch(n)) instead")
        out.append(st.stack_leaves(parts))
    return st.pack(chunk[0], out)


def pad_stack(chunk: list, padded_shapes: Any, padding_values: Any, stage: str) -> Any:
    flats = [st.flatten(el) for el in chunk]
    n_comp = len(flats[0])
    shapes = st.flatten(padded_shapes) if padded_shapes is not None else [None] * n_comp
    if padded_shapes is not None and not st.is_struct(padded_shapes) and n_comp == 1:
        shapes = [padded_shapes]
    pads = st.flatten(padding_values) if padding_values is not None else [None] * n_comp
    if padding_values is not None and not st.is_struct(padding_values):
        pads = [padding_values] * n_comp
    out = []
    for j in range(n_comp):
        parts = [np.asarray(f[j]) for f in flats]
        ranks = {p.ndim for p in parts}
        if len(ranks) > 1:
            raise InvalidArgumentError(f"{stage}: component {j} has elements of different "
                                       f"ranks {sorted(ranks)}")
        biggest = np.max([p.shape for p in parts], axis=0).tolist() if parts[0].ndim else []
        target = biggest
        if shapes[j] is not None:
            want = [getattr(d, "value", d) for d in (
                shapes[j].as_list() if hasattr(shapes[j], "as_list") else list(shapes[j]))]
            if len(want) != len(biggest):
                raise InvalidArgumentError(
                    f"{stage}: padded shape {want} for component {j} has rank {len(want)}, "
                    f"elements have rank {len(biggest)}")
            target = []
            for d, b in zip(want, biggest):
                if d is None or d == -1:
                    target.append(b)
                elif b > d:
                    raise InvalidArgumentError(
                        f"{stage}: component {j} has a dimension of {b}, larger than its padded "
                        f"shape {want}")
                else:
                    target.append(d)
        value = pads[j]
        if value is None:
            value = b"" if parts[0].dtype.kind == "O" else 0
        value = st.to_numpy(value) if isinstance(value, Tensor) else value
        buf = np.full([len(parts)] + target, value, dtype=parts[0].dtype)
        for k, p in enumerate(parts):
            buf[(k,) + tuple(slice(0, d) for d in p.shape)] = p
        out.append(buf)
    return st.pack(chunk[0], out)


def batched_card(card: int, batch: int, drop: bool) -> int:
    if card < 0:
        return card
    return card // batch if drop else -(-card // batch)
