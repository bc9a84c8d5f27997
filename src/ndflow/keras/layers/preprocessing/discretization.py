"""`Discretization`: bucket continuous values by bin boundaries (given, or learned as
approximate quantiles with `adapt`, with Keras's streaming summary so results match).

>>> from ndflow.keras import layers
>>> layers.Discretization(bin_boundaries=[0.0, 1.0])([[-1.0, 0.5, 2.0]]).numpy().tolist()
[[0, 1, 2]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import SymbolicTensor, Tensor
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.preprocessing import categorical_utils as cu


class Discretization(Layer):
    """Bucket inputs: index i means bin_boundaries[i-1] <= x < bin_boundaries[i].

    Args:
        bin_boundaries: sorted boundaries (len(bin_boundaries) + 1 bins).
        num_bins: number of bins to learn with `adapt` (quantiles of the data).
        epsilon: precision of the approximate quantiles learned by `adapt`.
        output_mode: "int" (int32 bin indices), "one_hot", "multi_hot" or "count".
    """

    def __init__(self, bin_boundaries: Any = None, num_bins: int | None = None,
                 epsilon: float = 0.01, output_mode: str = "int", sparse: bool = False,
                 dtype: Any = None, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, dtype=dtype, **kwargs)
        if sparse:
            raise ValueError("Discretization: `sparse=True` needs TensorFlow sparse tensors, "
                             "which ndflow does not have; use sparse=False")
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError("Discretization: invalid value for argument `output_mode`. "
                             "Expected one of ('int', 'one_hot', 'multi_hot', 'count'). "
                             f"Received: output_mode={output_mode}")
        if num_bins is not None and num_bins < 0:
            raise ValueError("`num_bins` must be greater than or equal to 0. Received: "
                             f"`num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError("Both `num_bins` and `bin_boundaries` should not be set. "
                             f"Received: `num_bins={num_bins}` and `bin_boundaries="
                             f"{bin_boundaries}`")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        if bin_boundaries is not None:
            b = np.asarray(bin_boundaries, np.float64)
            if b.ndim != 1 or np.any(np.diff(b) < 0):
                raise ValueError(f"Discretization: `bin_boundaries` must be a sorted 1-D list, "
                                 f"got {bin_boundaries!r}")
            bin_boundaries = [float(v) for v in b]
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = False
        self.summary = None if bin_boundaries else np.zeros((2, 0), np.float32)
        self.built = True

    @property
    def output_dtype(self) -> str:
        return self.compute_dtype if self.output_mode != "int" else "int32"

    # --- adapt ---
    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn `num_bins` quantile boundaries from `data` (array, tensor, Dataset of batches
        or any iterable of batches)."""
        from ndflow.data import Dataset

        if self.num_bins is None:
            raise ValueError("Cannot adapt a Discretization layer that has been initialized "
                             "with `bin_boundaries`, use `num_bins` instead.")
        self.reset_state()
        if isinstance(data, Dataset) or (hasattr(data, "__iter__") and not isinstance(
                data, (np.ndarray, Tensor, list, tuple))):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        elif isinstance(data, list) and data and all(
                isinstance(b, (np.ndarray, Tensor)) for b in data):
            for batch in data:
                self.update_state(batch)
        else:
            self.update_state(data)
        self.finalize_state()

    def update_state(self, data: Any) -> None:
        values = cu.as_array(data)
        if values.dtype.kind == "O":
            raise fail(f"Discretization layer '{self.name}'", "numeric data to adapt on",
                       "strings", "use StringLookup or Hashing for text")
        summary = _summarize(values.astype(np.float32), self.epsilon)
        self.summary = _merge(summary, self.summary, self.epsilon)

    def finalize_state(self) -> None:
        if self.num_bins is None:
            return
        self.bin_boundaries = _compress(self.summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def reset_state(self) -> None:
        if self.num_bins is not None:
            self.summary = np.zeros((2, 0), np.float32)

    # --- call ---
    def _compute(self, inputs: Any) -> Tensor:
        if self.bin_boundaries is None:
            raise ValueError("You need to either pass the `bin_boundaries` argument at "
                             "construction time or call `adapt(dataset)` before you can start "
                             "using the `Discretization` layer.")
        x = cu.as_array(inputs)
        if x.dtype.kind == "O":
            raise fail(f"Discretization layer '{self.name}'", "numeric inputs",
                       f"a string tensor of shape {list(x.shape)}",
                       "use StringLookup or Hashing for text")
        idx = np.searchsorted(np.asarray(self.bin_boundaries, np.float64),
                              x.astype(np.float64), side="right")
        return Tensor(cu.encode_categorical(idx, self.output_mode,
                                            len(self.bin_boundaries) + 1, self.output_dtype))

    def call(self, inputs: Any) -> Any:
        if cu.is_traced(inputs):
            shape = self.compute_output_shape(tuple(inputs.shape))
            return cu.run_on_host(self, self._compute, inputs, shape, self.output_dtype)
        return self._compute(inputs)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None \
            else self.num_bins
        if self.output_mode == "one_hot":
            if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,) if input_shape else (depth,)

    def compute_output_spec(self, inputs: Any, *args: Any, **kwargs: Any) -> SymbolicTensor:
        return SymbolicTensor(self.compute_output_shape(tuple(inputs.shape)), self.output_dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                       "epsilon": self.epsilon, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config

    @classmethod
    def from_config(cls, config: dict) -> Discretization:
        config = dict(config)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            boundaries = config.pop("bin_boundaries")  # adapted: both are set
            layer = cls(**config)
            layer.bin_boundaries = boundaries
            return layer
        return cls(**config)


# --- Keras's streaming quantile summary: rows (values, weights) ---------------------------------
def _summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    v = np.sort(values.reshape(-1))
    step = max(v.size / (1.0 / epsilon), 1)
    picked = v[int(step - 1)::int(step)]
    return np.stack([picked, np.full_like(picked, step)])


def _merge(a: np.ndarray, b: np.ndarray, epsilon: float) -> np.ndarray:
    merged = np.concatenate((a, b), axis=1)
    merged = merged[:, np.argsort(merged[0])]
    return _compress(merged, epsilon)


def _compress(summary: np.ndarray, epsilon: float) -> np.ndarray:
    if summary.shape[1] * epsilon < 1:
        return summary
    targets = epsilon + np.arange(0.0, 1.0, epsilon)
    cum = summary[1].cumsum()
    frac = cum / cum[-1]
    bins = np.interp(targets, frac, summary[0])
    cum_new = np.interp(targets, frac, cum)
    weights = cum_new - np.concatenate(([0.0], cum_new[:-1]))
    return np.stack((bins, weights)).astype(np.float32)
