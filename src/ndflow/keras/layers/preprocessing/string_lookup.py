"""`StringLookup`: map strings to integer indices through a vocabulary (or back).

>>> from ndflow.keras import layers
>>> layer = layers.StringLookup(vocabulary=["a", "b", "c", "d"])
>>> layer([["a", "c", "d"], ["d", "z", "b"]]).numpy().tolist()
[[1, 3, 4], [4, 0, 2]]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.preprocessing.index_lookup import IndexLookup


class StringLookup(IndexLookup):
    """Strings to indices, with Keras's arguments and index layout.

    Args:
        max_tokens: maximum vocabulary size, mask and OOV indices included (None: no cap).
        num_oov_indices: how many indices out-of-vocabulary strings share (hashed with
            FarmHash when more than one; 0 makes unknown strings an error).
        mask_token: a string that maps to index 0 in `int` mode (dropped in other modes).
        oov_token: the term `get_vocabulary` and `invert=True` show for OOV indices.
        vocabulary: a list/array of strings or the path of a text file (one per line).
        idf_weights: IDF weights for `output_mode="tf_idf"` with a given vocabulary.
        invert: map indices back to strings.
        output_mode: "int", "one_hot", "multi_hot", "count" or "tf_idf".
        pad_to_max_tokens: pad the encoded axis to `max_tokens`.
    """

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1,
                 mask_token: str | None = None, oov_token: str = "[UNK]",
                 vocabulary: Any = None, idf_weights: Any = None, invert: bool = False,
                 output_mode: str = "int", pad_to_max_tokens: bool = False,
                 sparse: bool = False, encoding: str = "utf-8", name: str | None = None,
                 salt: Any = None, **kwargs: Any) -> None:
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         sparse=sparse, pad_to_max_tokens=pad_to_max_tokens, salt=salt,
                         name=name, **kwargs)

    def _inputs(self, x: Any) -> Any:
        if self.invert:
            from ndflow.keras.layers.preprocessing import categorical_utils as cu

            return cu.int_array(x, self, "integer indices (invert=True)")
        return super()._inputs(x)

    def get_config(self) -> dict:
        config = super().get_config()
        config["encoding"] = self.encoding
        config.pop("vocabulary_dtype", None)  # one valid value for strings: Keras omits it
        return config
