"""`tf.strings`: element-wise operations on string tensors (object arrays of UTF-8 bytes).

These run on the host, element by element; they are not differentiable and have no graph
form (inside `ndflow.function`, Keras text layers run them as host calls).

>>> import ndflow as tf
>>> tf.strings.lower(tf.constant(["Hello World"])).numpy().tolist()
[b'hello world']
>>> tf.strings.split(tf.constant(["a b", "c"])).to_list()
[[b'a', b'b'], [b'c']]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.dtypes import as_dtype
from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.errors import InvalidArgumentError
from ndflow.strings.hashes import fingerprint64, siphash24
from ndflow.strings.ragged import RaggedTensor

_OBJ = np.dtype(object)


def _strings(x: Any, op: str, arg: str = "input") -> np.ndarray:
    if isinstance(x, RaggedTensor):
        raise fail(f"tf.strings.{op}", f"a dense string tensor for `{arg}`", "a RaggedTensor",
                   "apply the op to `.values` (or use tf.ragged.map_flat_values)")
    t = x if isinstance(x, Tensor) else convert_to_tensor(x)
    if getattr(t, "_traced", False):
        raise fail(f"tf.strings.{op}", f"a string tensor with a value for `{arg}`",
                   "a tensor being traced by ndflow.function",
                   "string ops run on the host and have no graph form: call them outside the "
                   "compiled function (e.g. in Dataset.map), or use a Keras text layer "
                   "(TextVectorization, StringLookup, Hashing), which runs inside compiled "
                   "models")
    arr = t._value if not getattr(t, "_symbolic", False) else t.numpy()
    if getattr(arr, "_abstract", False):
        arr._fail()
    if arr.dtype.kind != "O":
        raise fail(f"tf.strings.{op}", f"a string tensor for `{arg}`",
                   f"a {arr.dtype.name} tensor", "convert numbers with tf.strings.as_string")
    return np.asarray(arr)


def _map(fn: Callable, arr: np.ndarray, dtype: Any = _OBJ) -> np.ndarray:
    out = np.empty(arr.shape, dtype)
    flat = [fn(v) for v in arr.reshape(-1).tolist()]
    if flat:
        out.reshape(-1)[:] = flat
    return out


def _text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _bytes(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def _sep(s: Any) -> bytes:
    return s.encode("utf-8") if isinstance(s, str) else bytes(s)


# --- case, whitespace, regexes ---
def lower(input: Any, encoding: str = "", name: str | None = None) -> Tensor:
    """Lower-case: ASCII letters only by default (as TensorFlow), all letters with
    `encoding="utf-8"`."""
    a = _strings(input, "lower")
    if encoding:
        return Tensor(_map(lambda b: _bytes(_text(b).lower()), a))
    return Tensor(_map(bytes.lower, a))


def upper(input: Any, encoding: str = "", name: str | None = None) -> Tensor:
    """Upper-case (ASCII only unless `encoding="utf-8"`)."""
    a = _strings(input, "upper")
    if encoding:
        return Tensor(_map(lambda b: _bytes(_text(b).upper()), a))
    return Tensor(_map(bytes.upper, a))


def strip(input: Any, name: str | None = None) -> Tensor:
    """Remove leading and trailing whitespace."""
    return Tensor(_map(bytes.strip, _strings(input, "strip")))


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as e:
        raise fail("tf.strings.regex_replace", "a valid regular expression",
                   repr(pattern), f"({e})") from None


def _pattern(p: Any) -> str:
    if isinstance(p, Tensor):
        p = p.numpy().item()
    return _text(p) if isinstance(p, bytes) else str(p)


def regex_replace(input: Any, pattern: Any, rewrite: Any, replace_global: bool = True,
                  name: str | None = None) -> Tensor:
    """Replace matches of `pattern` with `rewrite` (`\\1` refers to groups)."""
    rx = _compile(_pattern(pattern))
    rw = _pattern(rewrite)
    count = 0 if replace_global else 1
    return Tensor(_map(lambda b: _bytes(rx.sub(rw, _text(b), count=count)),
                       _strings(input, "regex_replace")))


def regex_full_match(input: Any, pattern: Any, name: str | None = None) -> Tensor:
    """True where the whole string matches `pattern`."""
    rx = _compile(_pattern(pattern))
    return Tensor(_map(lambda b: rx.fullmatch(_text(b)) is not None,
                       _strings(input, "regex_full_match"), np.bool_))


# --- splitting and joining ---
def split(input: Any, sep: Any = None, maxsplit: int = -1, name: str | None = None) -> Any:
    """Split each string on `sep` (default: runs of whitespace, empty pieces dropped).

    A scalar gives a 1-D tensor; a 1-D tensor gives a `RaggedTensor` of shape [n, None].
    """
    a = _strings(input, "split")
    s = None if sep is None or sep == "" or sep == b"" else _sep(sep)

    def cut(b: bytes) -> list:
        if s is None:
            return b.split(None, maxsplit)
        return b.split(s, maxsplit) if b else [b""]

    if a.ndim == 0:
        return Tensor(np.array(cut(a.item()) + [], dtype=object).reshape(-1))
    if a.ndim != 1:
        raise fail("tf.strings.split", "a scalar or 1-D string tensor",
                   f"a tensor of shape {list(a.shape)}", "reshape it to 1-D first")
    return RaggedTensor.from_rows([cut(b) for b in a.tolist()], dtype="string")


def unicode_split(input: Any, input_encoding: str = "UTF-8", errors: str = "replace",
                  replacement_char: int = 65533, name: str | None = None) -> Any:
    """Split each string into its characters (as UTF-8 byte strings)."""
    a = _strings(input, "unicode_split")
    chars = [[_bytes(c) for c in b.decode("utf-8", "replace")] for b in a.reshape(-1).tolist()]
    if a.ndim == 0:
        return Tensor(np.array(chars[0] + [], dtype=object).reshape(-1))
    return RaggedTensor.from_rows(chars, dtype="string")


def unicode_decode(input: Any, input_encoding: str = "UTF-8", errors: str = "replace",
                   replacement_char: int = 65533, name: str | None = None) -> Any:
    """Each string's Unicode code points (int32)."""
    a = _strings(input, "unicode_decode")
    rows = [[ord(c) for c in b.decode("utf-8", "replace")] for b in a.reshape(-1).tolist()]
    if a.ndim == 0:
        return Tensor(np.asarray(rows[0], np.int32))
    return RaggedTensor.from_rows(rows, dtype="int32")


def unicode_encode(input: Any, output_encoding: str = "UTF-8", errors: str = "replace",
                   replacement_char: int = 65533, name: str | None = None) -> Tensor:
    """Code points (a 1-D tensor, a RaggedTensor or a 2-D tensor) back to UTF-8 strings."""
    def enc(codes: Any) -> bytes:
        return "".join(chr(int(c)) for c in codes).encode("utf-8", "replace")

    if isinstance(input, RaggedTensor):
        return Tensor(_map(enc, _obj_rows(input.rows())))
    arr = np.asarray(input)
    if arr.ndim == 1:
        return Tensor(np.array(enc(arr), dtype=object))
    return Tensor(_map(enc, _obj_rows(list(arr))))


def _obj_rows(rows: list) -> np.ndarray:
    out = np.empty(len(rows), object)
    out[:] = rows if rows else []
    return out


def join(inputs: Any, separator: Any = "", name: str | None = None) -> Tensor:
    """Join a list of string tensors element-wise (broadcasting) with `separator`."""
    arrs = [_strings(x, "join", "inputs") for x in inputs]
    if not arrs:
        raise fail("tf.strings.join", "a non-empty list of string tensors", "an empty list")
    sep = _sep(separator)
    b = np.broadcast_arrays(*arrs)
    out = np.empty(b[0].shape, object)
    flat = out.reshape(-1)
    cols = [x.reshape(-1).tolist() for x in b]
    for i in range(flat.size):
        flat[i] = sep.join(c[i] for c in cols)
    return Tensor(out)


def reduce_join(inputs: Any, axis: Any = None, keepdims: bool = False, separator: Any = "",
                name: str | None = None) -> Tensor:
    """Join the strings along `axis` (all axes when None)."""
    a = _strings(inputs, "reduce_join", "inputs")
    sep = _sep(separator)
    if axis is None:
        out = np.array(sep.join(a.reshape(-1).tolist()), dtype=object)
        return Tensor(out.reshape((1,) * a.ndim) if keepdims else out)
    ax = int(axis) % a.ndim
    moved = np.moveaxis(a, ax, -1)
    out = _map(lambda row: sep.join(row), _obj_rows_nd(moved))
    return Tensor(np.expand_dims(out, ax) if keepdims else out)


def _obj_rows_nd(a: np.ndarray) -> np.ndarray:
    lead = a.shape[:-1]
    out = np.empty(lead, object)
    rows = [list(r) for r in a.reshape(-1, a.shape[-1]).tolist()] if a.shape[-1] else \
        [[] for _ in range(int(np.prod(lead)))]
    out.reshape(-1)[:] = rows if rows else []
    return out


def ngrams(data: Any, ngram_width: Any, separator: Any = " ", pad_values: Any = None,
           padding_width: int | None = None, preserve_short_sequences: bool = False,
           name: str | None = None) -> Any:
    """N-grams of each row (a 1-D tensor or a RaggedTensor of tokens), joined by `separator`.

    `ngram_width` is an int or a tuple of ints (all those widths, in that order).
    """
    if pad_values is not None or padding_width is not None:
        raise fail("tf.strings.ngrams", "pad_values=None and padding_width=None",
                   f"pad_values={pad_values!r}, padding_width={padding_width!r}",
                   "padding is not supported by ndflow's ngrams")
    widths = (ngram_width,) if isinstance(ngram_width, int) else tuple(ngram_width)
    if any(int(w) < 1 for w in widths):
        raise fail("tf.strings.ngrams", "ngram widths >= 1", repr(ngram_width))
    sep = _sep(separator)

    def grams(tokens: list) -> list:
        out: list = []
        for w in widths:
            out.extend(sep.join(tokens[i:i + w]) for i in range(len(tokens) - w + 1))
        if preserve_short_sequences and not out and tokens:
            out.append(sep.join(tokens))
        return out

    if isinstance(data, RaggedTensor):
        return RaggedTensor.from_rows([grams(r.tolist()) for r in data.rows()], dtype="string")
    a = _strings(data, "ngrams", "data")
    if a.ndim == 1:
        return Tensor(np.array(grams(a.tolist()) + [], dtype=object).reshape(-1))
    return RaggedTensor.from_rows([grams(r) for r in a.reshape(-1, a.shape[-1]).tolist()],
                                  dtype="string")


# --- measuring and slicing ---
def length(input: Any, unit: str = "BYTE", name: str | None = None) -> Tensor:
    """Length of each string in bytes, or in characters with `unit="UTF8_CHAR"`."""
    a = _strings(input, "length")
    if unit == "BYTE":
        return Tensor(_map(len, a, np.int32))
    if unit == "UTF8_CHAR":
        return Tensor(_map(lambda b: len(b.decode("utf-8", "replace")), a, np.int32))
    raise fail("tf.strings.length", "unit 'BYTE' or 'UTF8_CHAR'", repr(unit))


def substr(input: Any, pos: Any, len: Any, unit: str = "BYTE",  # noqa: A002 - TF's name
           name: str | None = None) -> Tensor:
    """The substring of each string starting at `pos` (negative: from the end) of `len`."""
    a = _strings(input, "substr")
    p, n = int(pos), int(len)
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise fail("tf.strings.substr", "unit 'BYTE' or 'UTF8_CHAR'", repr(unit))

    def cut(b: bytes) -> bytes:
        s: Any = b if unit == "BYTE" else b.decode("utf-8", "replace")
        size = builtins_len(s)
        start = p + size if p < 0 else p
        if start < 0 or start > size:
            raise fail("tf.strings.substr", f"pos within the string (length {size})",
                       f"pos={p}")
        piece = s[start:start + n]
        return piece if unit == "BYTE" else piece.encode("utf-8")

    return Tensor(_map(cut, a))


builtins_len = len


# --- numbers <-> strings ---
def to_number(string_tensor: Any, out_type: Any = "float32", name: str | None = None) -> Tensor:
    """Parse each string as a number of `out_type`."""
    a = _strings(string_tensor, "to_number", "string_tensor")
    dt = as_dtype(out_type)
    conv = int if dt.is_integer else float

    def parse(b: bytes) -> Any:
        try:
            return conv(b.strip())
        except ValueError:
            raise InvalidArgumentError(
                f"tf.strings.to_number: expected strings holding {dt.name} numbers, got "
                f"{b!r}; clean the text first (e.g. tf.strings.regex_replace)") from None

    return Tensor(_map(parse, a, dt.as_numpy_dtype))


def as_string(input: Any, precision: int = -1, scientific: bool = False,
              shortest: bool = False, width: int = -1, fill: str = "",
              name: str | None = None) -> Tensor:
    """Format numbers (and bools) as strings, as TensorFlow does (`1.5` -> `b"1.500000"`)."""
    t = input if isinstance(input, Tensor) else convert_to_tensor(input)
    a = t.numpy()
    if a.dtype.kind == "O":
        return t
    fill_c = fill or " "
    if a.dtype.kind == "b":
        fmt: Callable = lambda v: "true" if v else "false"  # noqa: E731
    elif a.dtype.kind in "iu":
        fmt = str
    else:
        if shortest:
            fmt = lambda v: f"{v:g}" if precision < 0 else f"{v:.{precision}g}"  # noqa: E731
        else:
            code = "e" if scientific else "f"
            prec = 6 if precision < 0 else precision
            fmt = lambda v: f"{v:.{prec}{code}}"  # noqa: E731
    if width > 0:
        base = fmt
        if fill_c == "0":
            fmt = lambda v: base(v).zfill(width)  # noqa: E731
        else:
            fmt = lambda v: base(v).rjust(width, fill_c)  # noqa: E731
    return Tensor(_map(lambda v: fmt(v).encode("ascii"), a))


# --- hashing ---
def to_hash_bucket_fast(input: Any, num_buckets: int, name: str | None = None) -> Tensor:
    """FarmHash Fingerprint64 of each string modulo `num_buckets` (int64), as TensorFlow."""
    n = int(num_buckets)
    if n < 1:
        raise fail("tf.strings.to_hash_bucket_fast", "num_buckets >= 1", str(num_buckets))
    return Tensor(_map(lambda b: fingerprint64(b) % n, _strings(input, "to_hash_bucket_fast"),
                       np.int64))


def to_hash_bucket_strong(input: Any, num_buckets: int, key: Any,
                          name: str | None = None) -> Tensor:
    """SipHash-2-4 keyed with `key` (two ints) of each string modulo `num_buckets` (int64)."""
    n = int(num_buckets)
    k = list(key) if isinstance(key, (list, tuple)) else None
    if n < 1 or k is None or builtins_len(k) != 2:
        raise fail("tf.strings.to_hash_bucket_strong", "num_buckets >= 1 and a key of two ints",
                   f"num_buckets={num_buckets!r}, key={key!r}")
    kk = (int(k[0]), int(k[1]))
    return Tensor(_map(lambda b: siphash24(kk, b) % n,
                       _strings(input, "to_hash_bucket_strong"), np.int64))
