"""`pad_sequences`: pad (or cut) variable-length sequences into one array, as Keras.

>>> pad_sequences([[1, 2, 3], [4]], maxlen=2).tolist()
[[2, 3], [0, 4]]
"""

from __future__ import annotations

from typing import Any

import numpy as np


def pad_sequences(sequences: Any, maxlen: int | None = None, dtype: Any = "int32",
                  padding: str = "pre", truncating: str = "pre",
                  value: Any = 0.0) -> np.ndarray:
    """Pad each sequence to `maxlen` (default: the longest) with `value`.

    `padding` / `truncating`: "pre" (default) adds / removes at the start, "post" at the end.
    Sequences may hold vectors (every item of the same shape): the result is then
    `(len(sequences), maxlen) + item_shape`.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences: `sequences` must be a list of iterables, got "
                         f"{type(sequences).__name__}")
    if padding not in ("pre", "post"):
        raise ValueError(f'pad_sequences: padding type "{padding}" not understood; expected '
                         '"pre" or "post"')
    if truncating not in ("pre", "post"):
        raise ValueError(f'pad_sequences: truncating type "{truncating}" not understood; '
                         'expected "pre" or "post"')
    lengths = []
    item_shape: tuple = ()
    found = False
    for i, s in enumerate(sequences):
        try:
            n = len(s)
        except TypeError:
            raise ValueError(f"pad_sequences: `sequences` must be a list of iterables. Found "
                             f"non-iterable {s!r} at position {i}") from None
        lengths.append(n)
        if n and not found:
            item_shape = np.asarray(s).shape[1:]
            found = True
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    np_dtype = np.dtype(dtype) if dtype is not object else np.dtype(object)
    if isinstance(value, str) and np_dtype.kind not in "OUS":
        raise ValueError(f"pad_sequences: `dtype` {dtype} is not compatible with `value`'s "
                         f"type: {type(value)}; set `dtype=object` for variable-length strings")
    out = np.full((len(lengths), maxlen) + item_shape, value, dtype=np_dtype)
    for i, s in enumerate(sequences):
        if not lengths[i] or maxlen == 0:
            continue
        kept = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        kept = np.asarray(kept, dtype=np_dtype)
        if kept.shape[1:] != item_shape:
            raise ValueError(f"pad_sequences: shape of sample {kept.shape[1:]} of sequence at "
                             f"position {i} is different from expected shape {item_shape}")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, maxlen - len(kept):] = kept
    return out
