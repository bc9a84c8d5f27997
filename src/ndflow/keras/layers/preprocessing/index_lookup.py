"""`IndexLookup`: the vocabulary machinery shared by `StringLookup`, `IntegerLookup` and
`TextVectorization` (Keras's index layout, adapt ordering, OOV hashing and TF-IDF weights).

Index layout (as Keras): with a mask token and `output_mode="int"`, index 0 is the mask; then
`num_oov_indices` OOV indices; then the vocabulary. `adapt` orders tokens by count (high to
low), ties by token (high to low).
"""

from __future__ import annotations

import collections
import heapq
import itertools
import math
import os
from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import SymbolicTensor, Tensor
from ndflow.errors import InvalidArgumentError
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.preprocessing import categorical_utils as cu
from ndflow.strings.hashes import fingerprint64, siphash24
from ndflow.strings.ragged import RaggedTensor

_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_DROP = np.iinfo(np.int64).max  # masked values in non-int modes: dropped by the encoders


class TokenRows(list):
    """A tokenized batch: one list of vocabulary keys (bytes for text) per row. What
    TextVectorization hands its lookup layer, skipping per-token conversions."""


class IndexLookup(Layer):
    """Maps tokens to indices (or back, with `invert=True`) through a vocabulary."""

    _accepts_strings = True
    _vocabulary_dtype = "string"

    def __init__(self, max_tokens: int | None, num_oov_indices: int, mask_token: Any,
                 oov_token: Any, vocabulary: Any = None, idf_weights: Any = None,
                 invert: bool = False, output_mode: str = "int", sparse: bool = False,
                 pad_to_max_tokens: bool = False, oov_method: str = "floormod",
                 salt: Any = None, **kwargs: Any) -> None:
        frozen = kwargs.pop("vocabulary_size", None)
        has_vocab = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(**kwargs)
        cls = type(self).__name__
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"{cls}: if set, `max_tokens` must be greater than 1. Received: "
                             f"max_tokens={max_tokens}")
        if num_oov_indices is None or num_oov_indices < 0:
            raise ValueError(f"{cls}: `num_oov_indices` must be an int >= 0. Received: "
                             f"num_oov_indices={num_oov_indices}")
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in _OUTPUT_MODES:
            raise ValueError(f"{cls}: invalid `output_mode` {output_mode!r}; expected one of "
                             f"{_OUTPUT_MODES}")
        if invert and output_mode != "int":
            raise ValueError(f"{cls}: `output_mode` must be 'int' when `invert` is True. "
                             f"Received: output_mode={output_mode}")
        if sparse:
            raise ValueError(f"{cls}: `sparse=True` needs TensorFlow sparse tensors, which "
                             "ndflow does not have; use the dense output (sparse=False)")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{cls}: `idf_weights` should only be set if output_mode is "
                             f"'tf_idf'. Received: output_mode={output_mode}")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"{cls}: `oov_method` must be 'floormod' or 'farmhash', got "
                             f"{oov_method!r}")
        self.max_tokens = max_tokens
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.invert = bool(invert)
        self.output_mode = output_mode
        self.sparse = False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.oov_method = oov_method
        self.salt = None if salt is None else (list(salt) if isinstance(salt, (list, tuple))
                                               else [int(salt), int(salt)])
        self.vocabulary_dtype = self._vocabulary_dtype
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = bool(has_vocab)
        self._frozen_vocab_size = frozen
        # A config with a vocabulary size but no vocabulary: Keras saved the terms as an asset
        # (assets/.../vocabulary.txt) that has to be read with load_assets before use.
        self._asset_vocab_size = frozen if vocabulary is None and frozen else None
        self._tokens: list = []
        self._index: dict = {}
        self._idf: np.ndarray | None = None
        self._vocab_file: str | None = None
        self.reset_state()
        if output_mode == "tf_idf" and self._has_input_vocabulary and idf_weights is None:
            raise ValueError(f"{cls}: when specifying the `vocabulary` argument in TF-IDF "
                             "output mode, the `idf_weights` argument must also be provided.")
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.built = True

    # --- keys (text by default; IntegerLookup overrides) -----------------------------------
    def _key(self, token: Any) -> Any:
        """The dictionary key of a vocabulary entry: UTF-8 bytes for text."""
        if isinstance(token, bytes):
            return token
        if isinstance(token, str):
            return token.encode("utf-8")
        if isinstance(token, np.bytes_):
            return bytes(token)
        raise fail(f"{type(self).__name__} layer '{self.name}'", "string tokens",
                   f"{type(token).__name__} {token!r:.40}",
                   "use IntegerLookup for integer vocabularies")

    def _token_out(self, key: Any) -> Any:
        """A key as `get_vocabulary` returns it (str for text)."""
        return key.decode("utf-8", "replace") if isinstance(key, bytes) else key

    def _inputs(self, x: Any) -> np.ndarray:
        return cu.string_array(x, self)

    # --- index layout ---
    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The size of the vocabulary, mask and OOV indices included."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary; with special tokens, a term's position is its index."""
        tokens = [self._token_out(k) for k in self._tokens]
        if not include_special_tokens:
            return tokens
        special = [self.mask_token] * self._oov_start_index() + \
            [self.oov_token] * self.num_oov_indices
        return special + tokens

    # --- vocabulary ---
    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Set the vocabulary (a list/array/tensor of terms, or the path of a text file with
        one term per line) and, for `tf_idf`, the IDF weights."""
        cls, name = type(self).__name__, self.name
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError(f"{cls} layer '{name}': `idf_weights` must be set if "
                                 "output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError(f"{cls} layer '{name}': `idf_weights` should only be set if "
                             f"output_mode is 'tf_idf'. Received: output_mode="
                             f"{self.output_mode}")
        if isinstance(vocabulary, (str, os.PathLike)):
            vocabulary = self._read_vocabulary_file(os.fspath(vocabulary))
        if isinstance(vocabulary, (Tensor, np.ndarray)):
            vocabulary = cu.as_array(vocabulary).tolist()
        vocabulary = [self._key(v) for v in list(vocabulary)]
        if not vocabulary:
            raise ValueError(f"{cls} layer '{name}': cannot set an empty vocabulary.")
        special = []
        if self._oov_start_index():
            special.append(self._key(self.mask_token))
        if self.num_oov_indices:
            special += [self._key(self.oov_token)] * self.num_oov_indices
        start = len(special)
        found_special = vocabulary[:start] == special
        tokens = vocabulary[start:] if found_special else vocabulary
        counts = collections.Counter(tokens)
        repeated = [self._token_out(t) for t, c in counts.items() if c > 1]
        if repeated:
            raise ValueError(f"{cls} layer '{name}': the passed vocabulary has at least one "
                             f"repeated term. Please uniquify your dataset. The repeated terms "
                             f"are: {repeated}")
        if self.mask_token is not None and self._key(self.mask_token) in counts:
            raise ValueError(
                f"{cls} layer '{name}': found reserved mask token {self.mask_token!r} at an "
                "unexpected location in `vocabulary`. The vocabulary does not need to include "
                "the OOV and mask tokens; either remove them, or include them only at the "
                f"start in precisely this order: {[self._token_out(s) for s in special]}.")
        if self.oov_token is not None and self.invert and self._key(self.oov_token) in counts:
            raise ValueError(
                f"{cls} layer '{name}': found reserved OOV token {self.oov_token!r} at an "
                "unexpected location in `vocabulary`; remove it or put it only at the start.")
        new_size = self._token_start_index() + len(tokens)
        if self.max_tokens is not None and new_size > self.max_tokens:
            raise ValueError(f"{cls} layer '{name}': attempted to set a vocabulary larger than "
                             f"the maximum vocab size. Received vocabulary size is {new_size}; "
                             f"`max_tokens` is {self.max_tokens}.")
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            w = np.asarray(cu.as_array(idf_weights), np.float64)
            if w.ndim != 1 or len(w) != len(vocabulary):
                raise ValueError(f"{cls} layer '{name}': `idf_weights` must be a 1-D array of "
                                 f"the same length as the vocabulary ({len(vocabulary)}); got "
                                 f"shape {list(w.shape)}")
            if not found_special:
                w = np.concatenate([np.full(self._token_start_index(), np.mean(w)), w])
            self._set_idf(w)
        self._record_vocabulary_size()

    def _read_vocabulary_file(self, path: str) -> list:
        from ndflow.keras.saving.serialization_lib import in_safe_mode

        cls = type(self).__name__
        if in_safe_mode():
            raise ValueError(
                f"{cls} layer '{self.name}': a saved model asks to read the vocabulary file "
                f"'{path}' outside of the model archive; this is refused in safe mode. If you "
                "trust the source, load with safe_mode=False.")
        if not os.path.isfile(path):
            raise ValueError(f"{cls} layer '{self.name}': vocabulary file {path} does not "
                             "exist. Pass an existing text file with one term per line, or a "
                             "list of terms.")
        if self.output_mode == "tf_idf":
            raise ValueError(f"{cls} layer '{self.name}': output_mode 'tf_idf' does not "
                             "support loading a vocabulary from file.")
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self._vocab_file = path
        return [line.rstrip("\r") for line in lines]

    def _set_tokens(self, tokens: list) -> None:
        start = self._token_start_index()
        self._tokens = list(tokens)
        self._index = {t: i + start for i, t in enumerate(self._tokens)}
        self._table = dict(self._index)  # the lookup table: vocabulary plus the mask token
        if self.mask_token is not None:
            self._table[self._key(self.mask_token)] = 0 if self.output_mode == "int" else _DROP

    def _set_idf(self, w: np.ndarray) -> None:
        if self.pad_to_max_tokens and self.max_tokens is not None and len(w) < self.max_tokens:
            w = np.concatenate([w, np.zeros(self.max_tokens - len(w))])
        self._idf = w.astype(np.float32)

    @property
    def idf_weights(self) -> Tensor | None:
        return None if self._idf is None else Tensor(self._idf)

    def _record_vocabulary_size(self) -> None:
        if self.output_mode != "int" and not self.pad_to_max_tokens and \
                self._frozen_vocab_size is not None and self._called and \
                self.vocabulary_size() != self._frozen_vocab_size:
            raise RuntimeError(
                f"{type(self).__name__} layer '{self.name}': when using output_mode="
                f"{self.output_mode} and pad_to_max_tokens=False, the vocabulary size cannot "
                f"be changed after the layer is called. Old vocab size is "
                f"{self._frozen_vocab_size}, new vocab size is {self.vocabulary_size()}")
        self._frozen_vocab_size = self.vocabulary_size()

    _called = False

    # --- adapt ---
    def reset_state(self) -> None:
        self._counts: collections.Counter = collections.Counter()
        self._doc_counts: collections.Counter = collections.Counter()
        self._num_documents = 0

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the vocabulary (and document frequencies for `tf_idf`) from `data`: an array,
        a list, a tensor, a `tf.data.Dataset` of batches, or any iterable of batches."""
        self.reset_state()
        for batch in _batches(data, steps, self._adapt_rows):
            self.update_state(batch)
        self.finalize_state()

    @staticmethod
    def _adapt_rows(arr: np.ndarray) -> np.ndarray:
        return arr[:, None] if arr.ndim == 1 else arr

    def update_state(self, data: Any) -> None:
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static "
                             "vocabulary via the `vocabulary` argument or `set_vocabulary()`.")
        rows = self._key_rows(data, adapting=True)
        self._counts.update(itertools.chain.from_iterable(rows))
        if self.output_mode == "tf_idf":
            self._doc_counts.update(itertools.chain.from_iterable(map(set, rows)))
            self._num_documents += len(rows)

    def _key_rows(self, data: Any, adapting: bool = False) -> TokenRows:
        """The rows of keys in `data` (TokenRows pass through; a dense input's last axis is a
        row when adapting, as Keras counts documents)."""
        if isinstance(data, TokenRows):
            return data
        key = self._key
        if isinstance(data, RaggedTensor):
            return TokenRows([key(t) for t in r.tolist()] for r in data.rows())
        arr = self._inputs(data)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.ndim == 1:
            arr = arr[None]
        return TokenRows([key(t) for t in r] for r in arr.reshape(arr.shape[0], -1).tolist())

    def finalize_state(self) -> None:
        if self._has_input_vocabulary or not self._counts:
            if self._tokens or self._has_input_vocabulary:
                self._record_vocabulary_size()
            return
        counts = self._counts
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                counts.pop(self._key(special), None)
        by_count = lambda kv: (kv[1], kv[0])  # noqa: E731 - count, then token, high to low
        if self.max_tokens:
            keep = max(self.max_tokens - self._token_start_index(), 0)
            ordered = heapq.nlargest(keep, counts.items(), key=by_count)
        else:
            ordered = sorted(counts.items(), key=by_count, reverse=True)
        tokens = [t for t, _ in ordered]
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            n = self._num_documents
            idf = np.array([math.log(1 + n / (1 + self._doc_counts[t])) for t in tokens])
            idf = idf.astype(np.float32)
            front = np.full(self._token_start_index(), idf.mean() if len(idf) else 0.0,
                            np.float32)
            self._set_idf(np.concatenate([front, idf]))
        self.reset_state()
        self._record_vocabulary_size()

    # --- lookup ---
    def _lookup_keys(self, keys: list) -> np.ndarray:
        """Indices of `keys` (a flat list), with masking and OOV handling."""
        if not hasattr(self, "_table"):
            self._set_tokens(self._tokens)
        start = self._oov_start_index()
        n_oov = self.num_oov_indices
        default = start if n_oov == 1 else -1
        out = np.fromiter(map(self._table.get, keys, itertools.repeat(default)), np.int64,
                          len(keys))
        if n_oov == 0:
            bad = [self._token_out(keys[i]) for i in np.nonzero(out == -1)[0][:5]]
            if bad:
                raise InvalidArgumentError(
                    f"{type(self).__name__} layer '{self.name}': when num_oov_indices=0 all "
                    f"inputs should be in the vocabulary, found OOV values {bad}; consider "
                    "setting num_oov_indices=1")
        elif n_oov > 1:
            for i in np.nonzero(out == -1)[0]:
                out[i] = self._oov_bucket(keys[i]) + start
        return out

    def _oov_bucket(self, key: Any) -> int:
        n = self.num_oov_indices
        if isinstance(key, int) and self.oov_method != "farmhash":
            return key % n
        data = key if isinstance(key, bytes) else str(key).encode()
        if self.salt is not None:
            return siphash24((int(self.salt[0]), int(self.salt[1])), data) % n
        return fingerprint64(data) % n

    def _invert_keys(self, indices: np.ndarray) -> np.ndarray:
        rev = {i + self._token_start_index(): t for i, t in enumerate(self._tokens)}
        oov = self._key(self.oov_token)
        mask = self._key(self.mask_token) if self.mask_token is not None else None
        flat = indices.reshape(-1).tolist()
        vals = [mask if (i == 0 and mask is not None) else rev.get(i, oov) for i in flat]
        out = np.empty(indices.shape, object if self.vocabulary_dtype == "string" else np.int64)
        if vals:
            out.reshape(-1)[:] = vals
        return out

    def _depth(self) -> int:
        if self.pad_to_max_tokens and self.max_tokens is not None:
            return self.max_tokens
        if self._frozen_vocab_size is None:
            raise RuntimeError(
                f"{type(self).__name__} layer '{self.name}': when using output_mode="
                f"{self.output_mode} and pad_to_max_tokens=False, you must set the layer's "
                "vocabulary before calling it. Either pass a `vocabulary` argument to the "
                "layer, or call `adapt` with some sample data.")
        return self._frozen_vocab_size

    def _out_dtype(self) -> str:
        if self.output_mode == "tf_idf":
            return "float32"
        if self.invert:
            return self.vocabulary_dtype
        return "int64"

    def _encode(self, indices: np.ndarray) -> np.ndarray:
        """Encode looked-up indices for the output mode (`tf_idf`: counts times IDF)."""
        if self.output_mode == "int":
            return indices
        depth = self._depth()
        if self.output_mode == "tf_idf":
            counts = cu.encode_categorical(indices, "count", depth, np.float32)
            return (counts * self._idf_for(depth)).astype(np.float32)
        return cu.encode_categorical(indices, self.output_mode, depth, np.int64)

    def _idf_for(self, depth: int) -> np.ndarray:
        if self._idf is None:
            raise ValueError(f"{type(self).__name__} layer '{self.name}': when output_mode is "
                             "'tf_idf', `idf_weights` must be provided (or call adapt).")
        w = self._idf
        return w[:depth] if len(w) >= depth else np.concatenate([w, np.zeros(depth - len(w))])

    def _encode_rows(self, idx: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Encode ragged rows of indices (flat `idx`, row `lengths`; one sample per row)."""
        depth = self._depth()
        if self.output_mode == "one_hot":
            raise fail(f"{type(self).__name__} layer '{self.name}'",
                       "dense inputs for output_mode='one_hot'", "ragged rows")
        n = len(lengths)
        rid = np.repeat(np.arange(n, dtype=np.int64), lengths)
        keep = (idx >= 0) & (idx < depth)
        counts = np.bincount(rid[keep] * depth + idx[keep], minlength=n * depth)
        counts = counts.reshape(n, depth)
        if self.output_mode == "tf_idf":
            return (counts.astype(np.float32) * self._idf_for(depth)).astype(np.float32)
        if self.output_mode == "multi_hot":
            return (counts > 0).astype(np.int64)
        return counts.astype(np.int64)

    def _check_vocabulary_loaded(self) -> None:
        if self._asset_vocab_size and not self._tokens and \
                self._asset_vocab_size > self._token_start_index():
            raise ValueError(
                f"{type(self).__name__} layer '{self.name}' was saved with a vocabulary of "
                f"{self._asset_vocab_size} entries stored outside its config (Keras writes it "
                "to assets/<layer path>/vocabulary.txt in the .keras archive), and it has not "
                "been read: call layer.load_assets(folder) on the folder holding that "
                "vocabulary.txt, or set_vocabulary(...)")

    def _compute(self, inputs: Any) -> Any:
        self._check_vocabulary_loaded()
        if isinstance(inputs, (RaggedTensor, TokenRows)):
            rows = self._key_rows(inputs)
            lengths = np.fromiter(map(len, rows), np.int64, len(rows))
            idx = self._lookup_keys(list(itertools.chain.from_iterable(rows)))
            if self.output_mode == "int":
                return RaggedTensor(idx, np.concatenate([[0], np.cumsum(lengths)]))
            return Tensor(self._encode_rows(idx, lengths))
        arr = self._inputs(inputs)
        if self.invert:
            return Tensor(self._invert_keys(arr))
        keys = [self._key(v) for v in arr.reshape(-1).tolist()]
        idx = self._lookup_keys(keys).reshape(arr.shape)
        return Tensor(self._encode(idx))

    def call(self, inputs: Any) -> Any:
        if self.output_mode != "int":
            self._depth()
        self._called = True
        if cu.is_traced(inputs):
            shape = self.compute_output_shape(tuple(inputs.shape))
            return cu.run_on_host(self, self._compute, inputs, shape, self._out_dtype())
        return self._compute(inputs)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        return cu.categorical_output_shape(tuple(input_shape), self.output_mode, depth)

    def compute_output_spec(self, inputs: Any, *args: Any, **kwargs: Any) -> SymbolicTensor:
        return SymbolicTensor(self.compute_output_shape(tuple(inputs.shape)), self._out_dtype())

    # --- config and assets ---
    def get_config(self) -> dict:
        config = super().get_config()
        vocab = self.input_vocabulary
        idf = self.input_idf_weights
        if vocab is None and self._tokens:
            # an adapted (or file) vocabulary travels in the config, so .keras files are
            # self-contained (Keras stores it as an asset; both load from the config)
            vocab = self.get_vocabulary(include_special_tokens=False)
            if self._idf is not None:
                idf = self._idf[self._token_start_index():
                                self._token_start_index() + len(self._tokens)]
        config.update({
            "invert": self.invert, "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
            "mask_token": self.mask_token, "output_mode": self.output_mode,
            "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary_dtype": self.vocabulary_dtype,
            "idf_weights": _listify(idf), "vocabulary": _listify(vocab),
            "vocabulary_size": self.vocabulary_size() if self._tokens else
            self._frozen_vocab_size,
            "oov_method": self.oov_method, "salt": self.salt,
        })
        return config

    # TF-IDF weights are saved under the name Keras gives them, "idf_weights", in the layer's
    # vars group (the full table: OOV and mask entries included).
    def _saved_arrays(self) -> dict:
        if self.output_mode == "tf_idf" and self._idf is not None:
            return {"idf_weights": self._idf}
        return {}

    def _saved_array_specs(self) -> dict:
        if self.output_mode != "tf_idf":
            return {}
        n = len(self._idf) if self._idf is not None else self._frozen_vocab_size
        return {"idf_weights": ((int(n),), np.dtype(np.float32))} if n else {}

    def _load_saved_arrays(self, arrays: dict) -> None:
        idf = arrays.get("idf_weights")
        if idf is not None and self.output_mode == "tf_idf":
            self._idf = np.asarray(idf, np.float32)

    def save_assets(self, dir_path: str) -> None:
        """Write `vocabulary.txt` (Keras's asset layout) into `dir_path`."""
        path = os.path.join(dir_path, "vocabulary.txt")
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("\n".join(str(w) for w in self.get_vocabulary()))
        os.replace(tmp, path)

    def load_assets(self, dir_path: str) -> None:
        """Read a vocabulary saved by `save_assets` (or by Keras) from `dir_path`."""
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, "vocabulary.txt"), encoding="utf-8") as f:
            lines = f.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        if self.vocabulary_dtype == "string":
            values: list = lines
        else:
            try:
                values = [int(line) for line in lines]
            except ValueError:
                raise ValueError(f"{type(self).__name__} layer '{self.name}': the vocabulary "
                                 "asset holds a line that is not an integer; expected one "
                                 "integer term per line") from None
        idf = None
        if self.output_mode == "tf_idf":
            if self._idf is None:
                raise ValueError(f"{type(self).__name__} layer '{self.name}': a tf_idf "
                                 "vocabulary asset needs the layer's idf_weights, which were "
                                 "not loaded (the weights file should hold them)")
            idf = self._idf[:len(values)]  # the saved table (padded with pad_to_max_tokens)
        self.set_vocabulary(values, idf_weights=idf)


def _listify(x: Any) -> Any:
    if isinstance(x, Tensor):
        x = x.numpy()
    if isinstance(x, np.ndarray):
        x = x.tolist()
    if isinstance(x, (list, tuple)):
        return [v.decode("utf-8") if isinstance(v, bytes) else v for v in x]
    return x


def _batches(data: Any, steps: int | None, shape_rows: Any) -> Any:
    """The batches `adapt` reads: one array for array-like data, else the iterable's items."""
    from ndflow.data import Dataset

    if isinstance(data, Dataset) or (
            hasattr(data, "__iter__") and not isinstance(
                data, (list, tuple, np.ndarray, Tensor, str, bytes, RaggedTensor))):
        for i, batch in enumerate(data):
            if steps is not None and i >= steps:
                return
            if isinstance(batch, tuple):
                raise ValueError(
                    "adapt: expected batches of inputs only, got a tuple (features, labels); "
                    "map the dataset first, e.g. ds.map(lambda x, y: x)")
            yield batch
        return
    if isinstance(data, RaggedTensor):
        yield data
        return
    yield shape_rows(cu.as_array(data))
