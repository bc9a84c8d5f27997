"""Shared helpers of the text and categorical preprocessing layers: input conversion,
categorical encoding (`one_hot` / `multi_hot` / `count`) and running a layer's NumPy
computation as a host call inside a compiled (`ndflow.function`) model.

>>> encode_categorical(np.array([[0, 2, 2]]), "count", 3, "int64").tolist()
[[1, 0, 2]]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.string_array import to_bytes_array
from ndflow.core.tensor import SymbolicTensor, Tensor
from ndflow.strings.ragged import RaggedTensor


def is_traced(x: Any) -> bool:
    """True for a tensor of a graph being traced by `ndflow.function` (no value yet)."""
    return isinstance(x, Tensor) and getattr(x, "_traced", False)


def is_symbolic(x: Any) -> bool:
    return isinstance(x, SymbolicTensor)


def as_array(x: Any) -> np.ndarray:
    """A NumPy array from a tensor, array, list or scalar (strings as object bytes)."""
    if isinstance(x, Tensor):
        a = x.numpy()
    elif isinstance(x, np.ndarray):
        a = x
    elif isinstance(x, (str, bytes)):
        return to_bytes_array(x)
    else:
        a = np.asarray(x)
        if a.dtype.kind == "O":
            return to_bytes_array(x)
    if a.dtype.kind in "US":
        return to_bytes_array(a)
    return a


def string_array(x: Any, layer: Any) -> np.ndarray:
    """Inputs of a layer that needs text: an object array of UTF-8 bytes."""
    a = as_array(x)
    if a.dtype.kind != "O":
        raise fail(f"{type(layer).__name__} layer '{layer.name}'", "string inputs",
                   f"a {a.dtype.name} tensor of shape {list(a.shape)}",
                   "pass text (tf.constant(['...'])), or use IntegerLookup / Discretization "
                   "for numbers")
    return a


def int_array(x: Any, layer: Any, what: str = "integer inputs") -> np.ndarray:
    """Inputs of a layer that needs integers (refuses text with a clear error)."""
    a = as_array(x)
    if a.dtype.kind == "O":
        raise fail(f"{type(layer).__name__} layer '{layer.name}'", what,
                   f"a string tensor of shape {list(a.shape)}",
                   "turn text into integers first with StringLookup, TextVectorization or "
                   "Hashing")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or not np.array_equal(np.floor(a), a):
            raise fail(f"{type(layer).__name__} layer '{layer.name}'", what,
                       "float values that are not whole numbers")
        return a.astype(np.int64)
    if a.dtype.kind not in "iub":
        raise fail(f"{type(layer).__name__} layer '{layer.name}'", what,
                   f"a {a.dtype.name} tensor")
    return a.astype(np.int64)


def encode_categorical(indices: np.ndarray, output_mode: str, depth: int, dtype: Any,
                       count_weights: np.ndarray | None = None) -> np.ndarray:
    """Keras's categorical encodings of integer `indices` with `depth` classes.

    `one_hot` adds an axis (replacing a last axis of size 1); `multi_hot` and `count` treat
    the last axis as the sample (a rank-1 input is one sample). Indices outside
    [0, depth) contribute nothing (that is how masked values are dropped).
    """
    dt = np.dtype(dtype)
    if output_mode == "int":
        return indices.astype(dt)
    idx = np.asarray(indices)
    if idx.ndim == 0:
        idx = idx.reshape(1)
    if output_mode == "one_hot":
        if idx.ndim > 1 and idx.shape[-1] == 1:
            idx = idx[..., 0]
        out = np.zeros(idx.shape + (depth,), dt)
        valid = (idx >= 0) & (idx < depth)
        pos = np.nonzero(valid)
        out[pos + (idx[valid],)] = 1
        return out
    lead = idx.shape[:-1]
    rows = idx.reshape(-1, idx.shape[-1]) if idx.shape[-1] else idx.reshape(-1, 0)
    out = np.zeros((rows.shape[0], depth), dt)
    valid = (rows >= 0) & (rows < depth)
    r, c = np.nonzero(valid)
    cols = rows[r, c]
    if output_mode == "multi_hot":
        out[r, cols] = 1
    elif output_mode == "count":
        if count_weights is not None:
            w = np.asarray(count_weights).reshape(rows.shape)[r, c]
            out = out.astype(np.result_type(dt, w.dtype))
            np.add.at(out, (r, cols), w)
        else:
            np.add.at(out, (r, cols), 1)
    else:
        raise ValueError(f"unknown output_mode {output_mode!r}")
    return out.reshape(lead + (depth,))


def encode_ragged_rows(rows: list, output_mode: str, depth: int, dtype: Any) -> np.ndarray:
    """`multi_hot` / `count` per row of a list of 1-D index arrays (one sample per row)."""
    out = np.zeros((len(rows), depth), np.dtype(dtype))
    lengths = [len(r) for r in rows]
    if not sum(lengths):
        return out
    flat = np.concatenate([np.asarray(r, np.int64) for r in rows])
    rid = np.repeat(np.arange(len(rows)), lengths)
    keep = (flat >= 0) & (flat < depth)
    if output_mode == "multi_hot":
        out[rid[keep], flat[keep]] = 1
    else:
        np.add.at(out, (rid[keep], flat[keep]), 1)
    return out


def categorical_output_shape(input_shape: tuple, output_mode: str, depth: int | None) -> tuple:
    input_shape = tuple(input_shape)
    if output_mode == "int":
        return input_shape
    if output_mode == "one_hot":
        if len(input_shape) > 1 and input_shape[-1] == 1:
            return input_shape[:-1] + (depth,)
        return input_shape + (depth,)
    return input_shape[:-1] + (depth,)


def run_on_host(layer: Any, compute: Callable, inputs: Any, out_shape: tuple,
                out_dtype: Any) -> Any:
    """Inside `ndflow.function`: record `compute(inputs)` as a host call of the graph (it runs
    on every call of the compiled function) whose result has `out_shape` and `out_dtype`."""
    from ndflow.graph.trace import host_call

    if any(d is None for d in out_shape):
        raise fail(f"{type(layer).__name__} layer '{layer.name}'",
                   "an output shape known when the model is compiled",
                   f"an output of shape {list(out_shape)} that depends on the data",
                   "set output_sequence_length, apply the layer in Dataset.map, or "
                   "compile(run_eagerly=True)")
    example = np.zeros(out_shape, np.dtype(out_dtype))
    return host_call(compute, (inputs,), {}, example=example)


def to_output(x: Any) -> Any:
    if isinstance(x, (Tensor, RaggedTensor)):
        return x
    return Tensor(x)
