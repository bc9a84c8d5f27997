"""Reading Keras's dataset `.npz` files without unpickling code.

IMDB and Reuters store each review as a Python list inside a NumPy object array, which NumPy
saves with pickle. `load_npz` reads numeric members with pickling disabled and object members
with an unpickler that can only rebuild NumPy arrays (no other callable is reachable), then
checks that every element is a list of integers.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from typing import Any

import numpy as np

_ALLOWED = frozenset({
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
})


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused to load {module}.{name}")


def _read_member(raw: bytes, what: str) -> np.ndarray:
    fp = io.BytesIO(raw)
    version = np.lib.format.read_magic(fp)
    if version[0] == 1:
        shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version[0] in (2, 3):
        shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise ValueError(f"{what}: unsupported .npy version {version}")
    if not dtype.hasobject:
        fp.seek(0)
        return np.lib.format.read_array(fp, allow_pickle=False)
    try:
        arr = _ArrayOnlyUnpickler(fp).load()
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError) as e:
        raise ValueError(f"{what}: not a dataset file of integer sequences ({e}); the file "
                         "may be corrupted or malicious: delete it and download it again"
                         ) from None
    if not isinstance(arr, np.ndarray) or arr.dtype != object:
        raise ValueError(f"{what}: expected an object array of sequences")
    for seq in arr.reshape(-1):
        if not isinstance(seq, list) or not all(isinstance(v, int) for v in seq):
            raise ValueError(f"{what}: expected every element to be a list of integers, got "
                             f"{type(seq).__name__}")
    return arr


def load_npz(path: str) -> dict[str, np.ndarray]:
    """The arrays of an `.npz` file, by member name (object members: lists of ints only)."""
    out = {}
    try:
        with zipfile.ZipFile(path) as z:
            for member in z.namelist():
                if member.endswith(".npy"):
                    out[member[:-4]] = _read_member(z.read(member), f"{path}:{member}")
    except zipfile.BadZipFile:
        raise ValueError(f"{path} is not an .npz archive; delete it and download it again"
                         ) from None
    return out


def remove_long_seq(maxlen: int, seqs: list, labels: Any) -> tuple[list, list]:
    """Keep the sequences shorter than `maxlen` (and their labels), as Keras."""
    kept = [(s, y) for s, y in zip(seqs, labels) if len(s) < maxlen]
    return [s for s, _ in kept], [y for _, y in kept]


def shift_indices(xs: Any, start_char: int | None, index_from: int) -> list:
    """Keras's index shift: add `index_from` to every word index and prepend `start_char`."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    if index_from:
        return [[w + index_from for w in x] for x in xs]
    return [list(x) for x in xs]


def limit_words(xs: list, num_words: int | None, skip_top: int,
                oov_char: int | None) -> list:
    """Replace (or drop, when `oov_char` is None) words outside [skip_top, num_words)."""
    if not num_words:
        num_words = max(max(x) for x in xs if x)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def object_array(seqs: list) -> np.ndarray:
    out = np.empty(len(seqs), object)
    out[:] = seqs if seqs else []
    return out
