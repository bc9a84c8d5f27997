"""Argument normalisation and output-shape arithmetic shared by the convolution, pooling and
reshaping layers (Keras 3 semantics)."""

from __future__ import annotations

from typing import Any

from ndflow.errors import InvalidArgumentError
from ndflow.ops.conv import conv_output_length, conv_transpose_output_length


def standardize_tuple(value: Any, n: int, name: str, layer: str, allow_zero: bool = False
                      ) -> tuple:
    """An int or `n` ints -> a tuple of `n` positive ints, with an error naming the layer."""
    if isinstance(value, int) and not isinstance(value, bool):
        vals: tuple = (value,) * n
    else:
        try:
            vals = tuple(int(v) for v in value)
        except TypeError:
            raise ValueError(f"{layer}: expected {name} to be an int or a tuple of {n} ints, got "
                             f"{name}={value!r}") from None
        if len(vals) != n:
            raise ValueError(f"{layer}: expected {name} to be an int or a tuple of {n} ints, got "
                             f"{name}={value!r}")
    if any(v < 0 or (v == 0 and not allow_zero) for v in vals):
        raise ValueError(f"{layer}: expected {name} to hold "
                         f"{'non-negative' if allow_zero else 'positive'} ints, got "
                         f"{name}={value!r}")
    return vals


def standardize_padding(value: Any, layer: str, allow_causal: bool = False) -> str:
    p = str(value).lower()
    ok = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if p not in ok:
        raise ValueError(f"{layer}: expected padding to be one of {ok}, got padding={value!r}")
    return p


def conv_output_shape(input_shape: tuple, filters: int | None, kernel_size: tuple,
                      strides: tuple, padding: str, data_format: str, dilation_rate: tuple
                      ) -> tuple:
    """Output shape of an N-d convolution (padding 'causal' keeps the length, like 'same' at
    stride 1)."""
    rank = len(kernel_size)
    cf = data_format == "channels_first"
    spatial = tuple(input_shape[2:]) if cf else tuple(input_shape[1:1 + rank])
    pad = "VALID" if padding == "valid" else "SAME"
    if padding == "causal":
        out = tuple(None if s is None else
                    conv_output_length(s + (k - 1) * d, k, st, d, "VALID")
                    for s, k, st, d in zip(spatial, kernel_size, strides, dilation_rate))
    else:
        out = tuple(conv_output_length(s, k, st, d, pad)
                    for s, k, st, d in zip(spatial, kernel_size, strides, dilation_rate))
    for o in out:
        if o is not None and o <= 0:
            raise ValueError(f"expected spatial dims whose output is positive, got input shape "
                             f"{tuple(input_shape)} with kernel_size {kernel_size}")
    c = input_shape[1] if cf else input_shape[-1]
    c = c if filters is None else filters
    return (input_shape[0], c) + out if cf else (input_shape[0],) + out + (c,)


def conv_transpose_output_shape(input_shape: tuple, filters: int, kernel_size: tuple,
                                strides: tuple, padding: str, output_padding: tuple | None,
                                data_format: str, dilation_rate: tuple) -> tuple:
    rank = len(kernel_size)
    cf = data_format == "channels_first"
    spatial = tuple(input_shape[2:]) if cf else tuple(input_shape[1:1 + rank])
    pad = "VALID" if padding == "valid" else "SAME"
    ops = output_padding or (None,) * rank
    out = tuple(conv_transpose_output_length(s, k, st, d, pad, op)
                for s, k, st, d, op in zip(spatial, kernel_size, strides, dilation_rate, ops))
    return (input_shape[0], filters) + out if cf else (input_shape[0],) + out + (filters,)


def layer_error(layer: Any, e: Exception) -> Exception:
    """Re-raise an op error with the layer's name and class in front."""
    return InvalidArgumentError(f"Layer '{layer.name}' ({type(layer).__name__}): {e}")
