"""`HashedCrossing`: hash the combination of two or more categorical features into
`num_bins` bins (TensorFlow's `sparse.cross_hashed`: FarmHash Fingerprint64 per feature,
combined with FingerprintCat64 from the key 0xDECAFCAFFE).

>>> from ndflow.keras import layers
>>> layers.HashedCrossing(num_bins=5)(([1, 2, 3, 4], ["a", "b", "c", "d"])).numpy().tolist()
[0, 4, 3, 0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import SymbolicTensor, Tensor
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.preprocessing import categorical_utils as cu
from ndflow.strings.hashes import fingerprint64

_M = 0xFFFFFFFFFFFFFFFF
_MUL = 0xC6A4A7935BD1E995
_HASH_KEY = 0xDECAFCAFFE


def _cat64(fp1: int, fp2: int) -> int:
    """FingerprintCat64: combine two 64-bit fingerprints."""
    r = fp1 ^ _MUL
    t = (fp2 * _MUL) & _M
    r ^= ((t ^ (t >> 47)) * _MUL) & _M
    r = (r * _MUL) & _M
    r = ((r ^ (r >> 47)) * _MUL) & _M
    return r ^ (r >> 47)


def _feature_hash(v: Any) -> int:
    if isinstance(v, bytes):
        return fingerprint64(v)
    return int(v) & _M  # int64 features enter as their two's-complement value


class HashedCrossing(Layer):
    """Cross features with the hashing trick.

    Args:
        num_bins: number of hash bins.
        output_mode: "int" (default) or "one_hot".
    """

    _accepts_strings = True
    _takes_input_list = True  # layer([a, b]) is two features, not one 2-D string tensor

    def __init__(self, num_bins: int, output_mode: str = "int", sparse: bool = False,
                 name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
        if dtype is None:
            dtype = "int64" if output_mode == "int" else "float32"
        super().__init__(name=name, dtype=dtype, **kwargs)
        if output_mode not in ("int", "one_hot"):
            raise ValueError("HashedCrossing: invalid value for argument `output_mode`. "
                             f"Expected one of ('int', 'one_hot'). Received: output_mode="
                             f"{output_mode}")
        if sparse:
            raise ValueError("HashedCrossing: `sparse=True` needs TensorFlow sparse tensors, "
                             "which ndflow does not have; use sparse=False")
        self.num_bins = int(num_bins)
        self.output_mode = output_mode
        self.sparse = False
        self.built = True

    def _arrays(self, inputs: Any) -> list[np.ndarray]:
        if not isinstance(inputs, (tuple, list)) or len(inputs) < 2:
            raise fail(f"HashedCrossing layer '{self.name}'",
                       "a tuple or list of at least 2 inputs",
                       f"{type(inputs).__name__}", "e.g. layer((feature_a, feature_b))")
        arrays = []
        for x in inputs:
            a = cu.as_array(x)
            if a.dtype.kind == "f":
                raise fail(f"HashedCrossing layer '{self.name}'",
                           "integer or string inputs", f"a {a.dtype.name} input",
                           "discretize floats first (e.g. Discretization)")
            arrays.append(a if a.dtype.kind == "O" else a.astype(np.int64))
        shapes = {a.shape for a in arrays}
        if len(shapes) != 1:
            raise fail(f"HashedCrossing layer '{self.name}'", "inputs of the same shape",
                       f"shapes {[list(a.shape) for a in arrays]}")
        if arrays[0].ndim > 2 or (arrays[0].ndim == 2 and arrays[0].shape[-1] != 1):
            raise fail(f"HashedCrossing layer '{self.name}'",
                       "scalar, rank-1 or (batch, 1) inputs",
                       f"shape {list(arrays[0].shape)}")
        return arrays

    def _compute(self, inputs: Any) -> Tensor:
        arrays = self._arrays(inputs)
        shape = arrays[0].shape
        cols = [a.reshape(-1).tolist() for a in arrays]
        out = []
        for vals in zip(*cols):
            h = _HASH_KEY
            for v in vals:
                h = _cat64(h, _feature_hash(v))
            out.append(h % self.num_bins)
        idx = np.asarray(out, np.int64).reshape(shape)
        if self.output_mode == "int":
            return Tensor(idx.astype(self.dtype))
        return Tensor(cu.encode_categorical(idx, "one_hot", self.num_bins, self.dtype))

    def call(self, inputs: Any) -> Any:
        if any(cu.is_traced(x) for x in inputs):
            shape = self.compute_output_shape(tuple(tuple(x.shape) for x in inputs))
            return cu.run_on_host(self, self._compute, tuple(inputs), shape, self.dtype)
        return self._compute(inputs)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        first = tuple(input_shape[0])
        if self.output_mode == "int":
            return first
        return cu.categorical_output_shape(first if first else (1,), "one_hot", self.num_bins)

    def compute_output_spec(self, inputs: Any, *args: Any, **kwargs: Any) -> SymbolicTensor:
        return SymbolicTensor(self.compute_output_shape([tuple(x.shape) for x in inputs]),
                              self.dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"num_bins": self.num_bins, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config
