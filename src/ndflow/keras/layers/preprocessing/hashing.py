"""`Hashing`: hash strings or integers into `num_bins` bins (FarmHash Fingerprint64, or
SipHash-2-4 with a `salt`), exactly as Keras / TensorFlow do.

>>> from ndflow.keras import layers
>>> layers.Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]]).numpy().ravel().tolist()
[1, 0, 1, 1, 2]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import SymbolicTensor, Tensor
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.preprocessing import categorical_utils as cu
from ndflow.strings.hashes import fingerprint64, siphash24
from ndflow.strings.string_ops import as_string


class Hashing(Layer):
    """Categorical hashing ("the hashing trick").

    Integers are hashed through their decimal string and floats are first cast to int64,
    as Keras does. With `mask_value`, that value maps to 0 and the rest to [1, num_bins).

    Args:
        num_bins: number of bins (mask bin included).
        mask_value: value that maps to bin 0 (None: no mask).
        salt: an int or two ints: use SipHash-2-4 keyed with it instead of FarmHash.
        output_mode: "int", "one_hot", "multi_hot" or "count".
    """

    _accepts_strings = True

    def __init__(self, num_bins: int, mask_value: Any = None, salt: Any = None,
                 output_mode: str = "int", sparse: bool = False, **kwargs: Any) -> None:
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else "float32"
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError("The `num_bins` for `Hashing` cannot be `None` or non-positive "
                             f"values. Received: num_bins={num_bins}.")
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             "('int', 'one_hot', 'multi_hot', 'count'). Received: "
                             f"output_mode={output_mode}")
        if sparse:
            raise ValueError("Hashing: `sparse=True` needs TensorFlow sparse tensors, which "
                             "ndflow does not have; use sparse=False")
        if output_mode == "int" and self.dtype not in ("int32", "int64"):
            raise ValueError("When `output_mode=\"int\"`, `dtype` should be an integer type, "
                             f"'int32' or 'int64'. Received: dtype={self.dtype}")
        self.num_bins = int(num_bins)
        self.mask_value = mask_value
        self.strong_hash = salt is not None
        self.output_mode = output_mode
        self.sparse = False
        self.salt = None
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                self.salt = [int(s) for s in salt]
            elif isinstance(salt, int):
                self.salt = [salt, salt]
            else:
                raise ValueError("The `salt` argument for `Hashing` can only be a tuple of "
                                 f"size 2 integers, or a single integer. Received: salt={salt}.")
        self.built = True

    def _bins(self, values: np.ndarray) -> np.ndarray:
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mv = self.mask_value
            if values.dtype.kind == "O":
                mv = mv.encode("utf-8") if isinstance(mv, str) else mv
            mask = values == mv
        if values.dtype.kind == "f":
            values = values.astype(np.int64)
        if values.dtype.kind != "O":
            values = as_string(values).numpy()
        flat = values.reshape(-1).tolist()
        if self.strong_hash:
            key = (self.salt[0], self.salt[1])
            h = [siphash24(key, b) % bins for b in flat]
        else:
            h = [fingerprint64(b) % bins for b in flat]
        out = np.asarray(h, np.int64).reshape(values.shape)
        if mask is not None:
            out = np.where(mask, 0, out + 1)
        return out

    def _compute(self, inputs: Any) -> Tensor:
        a = cu.as_array(inputs)
        if self.output_mode == "one_hot" and a.ndim and a.shape[-1] == 1:
            a = a[..., 0]
        idx = self._bins(a)
        if self.output_mode == "int":
            return Tensor(idx.astype(self.dtype))
        return Tensor(cu.encode_categorical(idx, self.output_mode, self.num_bins, self.dtype))

    def call(self, inputs: Any) -> Any:
        if cu.is_traced(inputs):
            shape = self.compute_output_shape(tuple(inputs.shape))
            return cu.run_on_host(self, self._compute, inputs, shape, self.dtype)
        return self._compute(inputs)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        if not input_shape:
            return (self.num_bins,)
        return cu.categorical_output_shape(input_shape, self.output_mode, self.num_bins)

    def compute_output_spec(self, inputs: Any, *args: Any, **kwargs: Any) -> SymbolicTensor:
        return SymbolicTensor(self.compute_output_shape(tuple(inputs.shape)), self.dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"num_bins": self.num_bins, "salt": self.salt,
                       "mask_value": self.mask_value, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config
