"""`tf.strings`: operations on string tensors (see `ndflow.strings.string_ops`)."""

from ndflow.strings.ragged import RaggedTensor
from ndflow.strings.string_ops import (
    as_string, join, length, lower, ngrams, reduce_join, regex_full_match, regex_replace, split,
    strip, substr, to_hash_bucket_fast, to_hash_bucket_strong, to_number, unicode_decode,
    unicode_encode, unicode_split, upper,
)

__all__ = [
    "RaggedTensor", "as_string", "join", "length", "lower", "ngrams", "reduce_join",
    "regex_full_match", "regex_replace", "split", "strip", "substr", "to_hash_bucket_fast",
    "to_hash_bucket_strong", "to_number", "unicode_decode", "unicode_encode", "unicode_split",
    "upper",
]
