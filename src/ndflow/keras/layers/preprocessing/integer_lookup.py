"""`IntegerLookup`: map integers to contiguous indices through a vocabulary (or back).

>>> from ndflow.keras import layers
>>> layer = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
>>> layer([[12, 1138, 42], [42, 1000, 36]]).numpy().tolist()
[[1, 3, 4], [4, 0, 2]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.keras.layers.preprocessing import categorical_utils as cu
from ndflow.keras.layers.preprocessing.index_lookup import IndexLookup


class IntegerLookup(IndexLookup):
    """Integers to indices, with Keras's arguments and index layout.

    Args:
        max_tokens: maximum vocabulary size, mask and OOV indices included (None: no cap).
        num_oov_indices: how many indices OOV values share (`value % num_oov_indices` when
            more than one); 0 makes unknown values an error.
        mask_token: an integer that maps to index 0 in `int` mode.
        oov_token: the value `invert=True` returns for OOV indices (default -1).
        vocabulary: a list/array of integers or the path of a text file (one per line).
        invert: map indices back to values.
        output_mode: "int", "one_hot", "multi_hot", "count" or "tf_idf".
    """

    _accepts_strings = False
    _vocabulary_dtype = "int64"

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1,
                 mask_token: int | None = None, oov_token: int = -1, vocabulary: Any = None,
                 vocabulary_dtype: str = "int64", idf_weights: Any = None,
                 invert: bool = False, output_mode: str = "int", sparse: bool = False,
                 pad_to_max_tokens: bool = False, name: str | None = None,
                 **kwargs: Any) -> None:
        if vocabulary_dtype not in ("int32", "int64"):
            raise ValueError(f"IntegerLookup: `vocabulary_dtype` must be 'int32' or 'int64', "
                             f"got {vocabulary_dtype!r}")
        if max_tokens is not None and max_tokens <= 0:
            raise ValueError(f"IntegerLookup: if set, `max_tokens` must be greater than 0. "
                             f"Received: max_tokens={max_tokens}")
        self._int_dtype = vocabulary_dtype
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         sparse=sparse, pad_to_max_tokens=pad_to_max_tokens, name=name,
                         **kwargs)
        self.vocabulary_dtype = vocabulary_dtype

    def _key(self, token: Any) -> int:
        if isinstance(token, (bool, np.bool_)):
            return int(token)
        if isinstance(token, (int, np.integer)):
            return int(token)
        if isinstance(token, str):
            try:
                return int(token.strip())
            except ValueError:
                pass
        if isinstance(token, float) and token.is_integer():
            return int(token)
        raise fail(f"IntegerLookup layer '{self.name}'", "integer tokens",
                   f"{type(token).__name__} {token!r:.40}",
                   "use StringLookup for text vocabularies")

    def _token_out(self, key: Any) -> Any:
        return key

    def _inputs(self, x: Any) -> np.ndarray:
        what = "integer indices (invert=True)" if self.invert else "integer inputs"
        return cu.int_array(x, self, what)
