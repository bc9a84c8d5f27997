"""Masks of attention: Keras masks of the inputs, causal masks, and the masked softmax."""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.keras.layers.layer import get_keras_mask
from ndflow.ops import math as m
from ndflow.ops import nn
from ndflow.ops._util import npdt, shape_of
from ndflow.ops.array import expand_dims


def as_bool(layer: Any, what: str, mask: Any, want: tuple) -> Tensor | None:
    """`mask` as a bool tensor that broadcasts to `want`, or a clear ValueError."""
    if mask is None:
        return None
    mk = mask if isinstance(mask, Tensor) else convert_to_tensor(np.asarray(mask))
    ms = tuple(shape_of(mk))
    ok = len(ms) <= len(want) and all(
        a is None or b is None or a == 1 or a == b for a, b in zip(ms[::-1], want[::-1]))
    if not ok:
        raise ValueError(
            f"{type(layer).__name__} layer '{layer.name}': expected {what} of shape {want} (or "
            f"broadcastable to it), got a mask of shape {ms}.")
    if npdt(mk) != np.bool_:
        mk = m.greater(mk, m.cast(convert_to_tensor(0.5), npdt(mk))) if npdt(mk).kind == "f" \
            else m.cast(mk, np.bool_)
    return mk


def causal_mask(t: int, s: int) -> Tensor:
    """(1, t, s): query i attends to keys j <= i (aligned at the start, as Keras)."""
    row = np.arange(t)[:, None]
    return convert_to_tensor((np.arange(s)[None, :] <= row)[None])


def combine(layer: Any, q: Any, v: Any, k_is_v: bool, query_mask: Any, value_mask: Any,
            key_mask: Any, attention_mask: Any, causal: bool, query: Tensor, value: Tensor,
            key: Tensor) -> Tensor | None:
    """The (B, T, S) boolean attention mask (Keras 3's `_compute_attention_mask`)."""
    b, t = shape_of(query)[0], shape_of(query)[1]
    s = shape_of(value)[1]
    if query_mask is None:
        query_mask = get_keras_mask(query)
    if value_mask is None:
        value_mask = get_keras_mask(value)
    if key_mask is None and not k_is_v:
        key_mask = get_keras_mask(key)
    out = None
    qm = as_bool(layer, "a query mask", query_mask, (b, t))
    if qm is not None:
        out = expand_dims(qm, -1)
    for mk in (value_mask, key_mask):
        vm = as_bool(layer, "a value/key mask", mk, (b, s))
        if vm is not None:
            vm = expand_dims(vm, -2)
            out = vm if out is None else m.logical_and(out, vm)
    if causal:
        cm = causal_mask(t, s)
        out = cm if out is None else m.logical_and(out, cm)
    am = as_bool(layer, "an attention_mask", attention_mask, (b, t, s))
    if am is not None:
        out = am if out is None else m.logical_and(am, out)
    return out


def masked_softmax(scores: Tensor, mask: Any) -> Tensor:
    """Softmax over the last axis; masked positions get -1e9 before and 0 after (so a fully
    masked row is all zeros, as in Keras's Softmax layer)."""
    if mask is None:
        return nn.softmax(scores, axis=-1)
    big = m.cast(convert_to_tensor(-1e9 if npdt(scores) != np.float16 else -3e4),
                 npdt(scores))
    p = nn.softmax(m.where(mask, scores, big), axis=-1)
    return m.where(mask, p, m.zeros_like_(p))
