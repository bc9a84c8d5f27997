"""`ConvLSTM`: the shared body of `ConvLSTM1D`, `ConvLSTM2D` and `ConvLSTM3D`."""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import SymbolicTensor, Tensor
from ndflow.keras.layers.rnn.builtin_rnn import _LAYER_ARGS, _RNN_ARGS
from ndflow.keras.layers.rnn.conv_lstm_cell import ConvLSTMCell
from ndflow.keras.layers.rnn.rnn import RNN
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of
from ndflow.ops.creation import zeros


class ConvLSTM(RNN):
    """A recurrent layer whose cell is a `ConvLSTMCell` of spatial rank `rank`; inputs are
    (batch, time, *spatial, channels)."""

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, **kwargs: Any) -> None:
        rnn_kw = {k: kwargs.pop(k) for k in _RNN_ARGS if k in kwargs}
        layer_kw = {k: kwargs.pop(k) for k in _LAYER_ARGS if k in kwargs}
        cell = ConvLSTMCell(self.rank, filters, kernel_size, dtype=layer_kw.get("dtype"),
                            name="conv_lstm_cell", **kwargs)
        super().__init__(cell, **rnn_kw, **layer_kw)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "cell":
            raise AttributeError(name)
        cell = self.__dict__.get("cell")
        if cell is not None and name in cell.__dict__:
            return cell.__dict__[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _check_rank(self, x: Any) -> None:
        shape = tuple(shape_of(x))
        if len(shape) != self.rank + 3:
            raise ValueError(
                f"{type(self).__name__} layer '{self.name}': expected inputs of rank "
                f"{self.rank + 3} (batch, time, {', '.join(['dim'] * self.rank)}, channels), "
                f"got shape {shape}")

    def build(self, sequences_shape: Any) -> None:
        self._check_rank(SymbolicTensor(tuple(sequences_shape), self.compute_dtype))
        super().build(sequences_shape)

    def _map_shape(self, shape: tuple) -> tuple:
        return self.cell.output_map_shape((shape[0],) + tuple(shape[2:]))

    def _zero_states(self, x: Tensor) -> list:
        shape = self._map_shape(tuple(shape_of(x)))
        # zeros of the batch size (which may be known only at run time) times the map shape
        base = m.zeros_like_(x[(slice(None), 0) + (slice(0, 1),) * (self.rank + 1)])
        z = zeros((1,) + shape[1:], npdt(x))
        return [m.add(base, z) for _ in range(2)]

    def compute_output_shape(self, sequences_shape: Any, initial_state_shape: Any = None) -> Any:
        shape = tuple(sequences_shape)
        step = self._map_shape(shape)
        out = (shape[0], shape[1]) + step[1:] if self.return_sequences else step
        if self.return_state:
            return [out, step, step]
        return out

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        x = args[0] if args else kwargs["sequences"]
        self._check_rank(x)
        shapes = self.compute_output_shape(tuple(x.shape))
        if self.return_state:
            return [SymbolicTensor(s, self.compute_dtype) for s in shapes]
        return SymbolicTensor(shapes, self.compute_dtype)

    def get_config(self) -> dict:
        from ndflow.keras.layers.layer import Layer

        config = Layer.get_config(self)
        config.update(self._rnn_config())
        cell = self.cell.get_config()
        for k in ("name", "trainable", "dtype", "rank"):
            cell.pop(k, None)
        config.update(cell)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> ConvLSTM:
        config = dict(config)
        if "dtype" in config and isinstance(config["dtype"], dict):
            from ndflow.keras.layers.layer import _policy_name

            config["dtype"] = _policy_name(config["dtype"])
        return cls(**config)
