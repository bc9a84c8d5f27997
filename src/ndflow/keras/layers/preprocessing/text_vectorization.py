"""`TextVectorization`: turn raw text into token indices or bag-of-words vectors.

Standardize (lower-case, strip punctuation, or a callable), split (whitespace, characters,
or a callable), optionally form n-grams, then look tokens up in a vocabulary learned with
`adapt` or given. Runs on the host (NumPy and Python strings); inside a compiled model it is
one host call of the graph.

>>> from ndflow.keras import layers
>>> tv = layers.TextVectorization(output_sequence_length=4)
>>> tv.adapt(["The cat sat.", "the dog"])
>>> tv.get_vocabulary()
['', '[UNK]', 'the', 'sat', 'dog', 'cat']
>>> tv(["the cat ate"]).numpy().tolist()
[[2, 5, 1, 0]]
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import SymbolicTensor, Tensor
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.preprocessing import categorical_utils as cu
from ndflow.keras.layers.preprocessing.index_lookup import TokenRows, _batches
from ndflow.keras.layers.preprocessing.string_lookup import StringLookup
from ndflow.strings.ragged import RaggedTensor

_PUNCTUATION = string.punctuation.encode()  # Keras's strip_punctuation class: ASCII only
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")


class TextVectorization(Layer):
    """Text to integer sequences or to multi-hot / count / TF-IDF vectors (Keras 3 API).

    Args:
        max_tokens: vocabulary cap (mask and OOV included), applied by `adapt`.
        standardize: "lower_and_strip_punctuation" (default), "lower", "strip_punctuation",
            None, or a callable taking and returning a string tensor.
        split: "whitespace" (default), "character", None, or a callable taking a 1-D string
            tensor and returning a RaggedTensor (or a 2-D string tensor, "" as padding).
        ngrams: None, an int n (all n-grams up to n) or a tuple of widths.
        output_mode: "int" (default), "multi_hot", "count", "tf_idf" or "one_hot".
        output_sequence_length: "int" mode: pad or cut each row to this length.
        pad_to_max_tokens: pad the vector outputs to `max_tokens`.
        vocabulary, idf_weights: a given vocabulary (list or file path) and IDF weights.
        ragged: "int" mode: return a RaggedTensor instead of padding.
    """

    _accepts_strings = True

    def __init__(self, max_tokens: int | None = None,
                 standardize: Any = "lower_and_strip_punctuation", split: Any = "whitespace",
                 ngrams: Any = None, output_mode: str = "int",
                 output_sequence_length: int | None = None, pad_to_max_tokens: bool = False,
                 vocabulary: Any = None, idf_weights: Any = None, sparse: bool = False,
                 ragged: bool = False, encoding: str = "utf-8", name: str | None = None,
                 **kwargs: Any) -> None:
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        has_vocab = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        super().__init__(name=name, **kwargs)
        cls = "TextVectorization"
        if not (standardize is None or callable(standardize) or standardize in _STANDARDIZE):
            raise ValueError(f"{cls}: invalid `standardize` {standardize!r}; expected one of "
                             f"{_STANDARDIZE}, None or a callable")
        if not (split is None or callable(split) or split in _SPLIT):
            raise ValueError(f"{cls}: invalid `split` {split!r}; expected one of {_SPLIT}, "
                             "None or a callable")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        if output_mode not in ("int", "one_hot", "multi_hot", "count", "tf_idf"):
            raise ValueError(f"{cls}: invalid `output_mode` {output_mode!r}; expected one of "
                             "'int', 'one_hot', 'multi_hot', 'count', 'tf_idf'")
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (ngrams is None or (isinstance(ngrams, int) and ngrams >= 1) or (
                isinstance(ngrams, tuple) and all(isinstance(i, int) for i in ngrams))):
            raise ValueError(f"{cls}: `ngrams` must be None, an integer, or a tuple of "
                             f"integers. Received: ngrams={ngrams}")
        if output_mode == "int" and not (output_sequence_length is None or isinstance(
                output_sequence_length, int)):
            raise ValueError(f"{cls}: `output_sequence_length` must be either None or an "
                             f"integer when `output_mode` is 'int'. Received: "
                             f"output_sequence_length={output_sequence_length}")
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(f"{cls}: `output_sequence_length` must not be set if "
                             f"`output_mode` is not 'int'. Received output_sequence_length="
                             f"{output_sequence_length}.")
        if ragged and output_mode != "int":
            raise ValueError(f"{cls}: `ragged` must not be true if `output_mode` is not 'int'. "
                             f"Received: ragged={ragged} and output_mode={output_mode}")
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._ragged = bool(ragged)
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
            sparse=sparse, has_input_vocabulary=has_vocab, encoding=encoding,
            vocabulary_size=vocabulary_size, name=f"{self.name}_lookup")
        self.built = True

    # --- vocabulary ---
    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary (index order); with special tokens: ["", "[UNK]", ...] in int mode."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Set the vocabulary (list, array, tensor, or text file path) and IDF weights."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the vocabulary from text: an array or list of strings, a string tensor, a
        `tf.data.Dataset` of string batches, or any iterable of batches."""
        self.reset_state()
        for batch in _batches(data, steps, lambda a: a[:, None] if a.ndim == 1 else a):
            self.update_state(batch)
        self.finalize_state()

    def update_state(self, data: Any) -> None:
        self._lookup_layer.update_state(self._preprocess(data))

    def finalize_state(self) -> None:
        self._lookup_layer.finalize_state()

    def reset_state(self) -> None:
        self._lookup_layer.reset_state()

    # --- the pipeline ---
    def _standardized(self, a: np.ndarray) -> np.ndarray:
        std = self._standardize
        if std is None:
            return a
        if callable(std):
            out = std(Tensor(a))
            return cu.string_array(out, self)
        lower = std in ("lower", "lower_and_strip_punctuation")
        strip = std in ("strip_punctuation", "lower_and_strip_punctuation")

        def f(b: bytes) -> bytes:
            if lower:
                b = b.lower()  # ASCII only, as tf.strings.lower
            return b.translate(None, _PUNCTUATION) if strip else b

        out = np.empty(a.shape, object)
        flat = [f(b) for b in a.reshape(-1).tolist()]
        if flat:
            out.reshape(-1)[:] = flat
        return out

    def _preprocess(self, inputs: Any) -> Any:
        """Standardize, split and n-gram: TokenRows of byte tokens (or the strings when
        `split=None`)."""
        a = self._standardized(cu.string_array(inputs, self))
        if self._split is None:
            tokens: Any = a
            if self._ngrams is not None:
                from ndflow.strings import ngrams

                tokens = ngrams(Tensor(a.reshape(a.shape[0], -1) if a.ndim else a.reshape(1)),
                                self._ngrams, separator=" ")
            return tokens
        if a.ndim > 1:
            if a.shape[-1] != 1:
                raise fail(f"TextVectorization layer '{self.name}'",
                           "inputs of rank 1, or with a last dimension of 1, to tokenize",
                           f"inputs of shape {list(a.shape)}")
            a = a[..., 0]
        if a.ndim == 0:
            a = a.reshape(1)
        if self._split == "whitespace":
            rows = [b.split() for b in a.tolist()]
        elif self._split == "character":
            rows = [[c.encode("utf-8") for c in b.decode("utf-8", "replace")]
                    for b in a.tolist()]
        else:
            rows = _rows_of(self._split(Tensor(a)), self)
        if self._ngrams is not None:
            rows = [_grams(r, self._ngrams) for r in rows]
        return TokenRows(rows)

    def _compute(self, inputs: Any) -> Any:
        scalar = _rank(inputs) == 0
        tokens = self._preprocess(inputs)
        out = self._lookup_layer._compute(tokens)
        if self._output_mode != "int":
            return out[0] if scalar and isinstance(out, Tensor) and out.ndim == 2 else out
        if isinstance(out, RaggedTensor):
            if self._ragged:
                return out
            n = self._output_sequence_length
            dense = out.to_tensor(0, shape=[None, n])
            return Tensor(dense.numpy()[0]) if scalar else dense
        n = self._output_sequence_length
        if n is not None:
            arr = out.numpy()
            if arr.ndim == 0:
                arr = arr.reshape(1)
            arr = arr[..., :n]
            if arr.shape[-1] < n:
                pad = [(0, 0)] * (arr.ndim - 1) + [(0, n - arr.shape[-1])]
                arr = np.pad(arr, pad)
            return Tensor(arr)
        return out

    def call(self, inputs: Any) -> Any:
        if cu.is_traced(inputs):
            shape = self.compute_output_shape(tuple(inputs.shape))
            return cu.run_on_host(self, self._compute, inputs, shape, self._out_dtype())
        return self._compute(inputs)

    def _out_dtype(self) -> str:
        return "float32" if self._output_mode == "tf_idf" else "int64"

    def compute_output_shape(self, input_shape: Any) -> tuple:
        input_shape = tuple(input_shape)
        if self._output_mode == "int":
            if self._split is None:
                shape = input_shape
                if self._output_sequence_length is not None:
                    shape = (shape[:-1] if len(shape) > 1 else shape) + (
                        self._output_sequence_length,)
                return shape
            return (input_shape[0] if input_shape else None, self._output_sequence_length)
        if self._split is None:
            shape = input_shape + (1,) if len(input_shape) <= 1 else input_shape
        else:
            shape = (input_shape[0] if input_shape else None, None)
        return self._lookup_layer.compute_output_shape(shape)

    def compute_output_spec(self, inputs: Any, *args: Any, **kwargs: Any) -> SymbolicTensor:
        return SymbolicTensor(self.compute_output_shape(tuple(inputs.shape)), self._out_dtype())

    # --- config ---
    def get_config(self) -> dict:
        from ndflow.keras.saving.serialization_lib import serialize_keras_object

        lk = self._lookup_layer.get_config()
        config = super().get_config()
        std, spl = self._standardize, self._split
        config.update({
            "max_tokens": self._max_tokens,
            "standardize": std if std is None or isinstance(std, str) else
            serialize_keras_object(std),
            "split": spl if spl is None or isinstance(spl, str) else serialize_keras_object(spl),
            "ngrams": self._ngrams_arg, "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": self._lookup_layer.pad_to_max_tokens, "sparse": False,
            "ragged": self._ragged, "vocabulary": lk["vocabulary"],
            "idf_weights": lk["idf_weights"], "encoding": self._encoding,
            "vocabulary_size": self.vocabulary_size(),
        })
        return config

    @classmethod
    def from_config(cls, config: dict) -> TextVectorization:
        from ndflow.keras.saving.serialization_lib import deserialize_keras_object

        config = dict(config)
        for key in ("standardize", "split"):
            if config.get(key) is not None and not isinstance(config[key], str):
                config[key] = deserialize_keras_object(config[key])
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)

    def _saved_arrays(self) -> dict:
        return self._lookup_layer._saved_arrays()

    def _saved_array_specs(self) -> dict:
        return self._lookup_layer._saved_array_specs()

    def _load_saved_arrays(self, arrays: dict) -> None:
        self._lookup_layer._load_saved_arrays(arrays)

    def save_assets(self, dir_path: str) -> None:
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path: str) -> None:
        self._lookup_layer.load_assets(dir_path)


def _grams(tokens: list, widths: tuple) -> list:
    out = []
    for w in widths:
        if w == 1:
            out.extend(tokens)
        elif w == 2:
            out.extend(map(b" ".join, zip(tokens, tokens[1:])))
        else:
            out.extend(b" ".join(tokens[i:i + w]) for i in range(len(tokens) - w + 1))
    return out


def _rank(x: Any) -> int:
    if isinstance(x, (str, bytes)):
        return 0
    return int(np.ndim(x.numpy() if isinstance(x, Tensor) else x)) if not isinstance(
        x, (list, tuple)) else 1


def _rows_of(tokens: Any, layer: Layer) -> list:
    """Rows of tokens from a custom `split`: a RaggedTensor, a 2-D string tensor (empty
    strings are padding) or a list of lists."""
    if isinstance(tokens, RaggedTensor):
        return [r.tolist() for r in tokens.rows()]
    if isinstance(tokens, (list, tuple)) and all(isinstance(r, (list, tuple)) for r in tokens):
        return [[cu.as_array(t).item() for t in r] for r in tokens]
    a = cu.string_array(tokens, layer)
    if a.ndim != 2:
        raise fail(f"TextVectorization layer '{layer.name}'",
                   "a custom split that returns a RaggedTensor or a 2-D string tensor",
                   f"a tensor of shape {list(a.shape)}")
    return [[t for t in r if t] for r in a.tolist()]


