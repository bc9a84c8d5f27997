"""What SimpleRNN, LSTM and GRU share: a flat config (the cell's arguments beside the RNN's,
as Keras writes them) and properties that read through to the cell."""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.rnn.rnn import RNN

_RNN_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
             "zero_output_for_mask")
_LAYER_ARGS = ("name", "trainable", "dtype", "activity_regularizer", "autocast",
               "input_shape", "input_dim", "batch_input_shape", "batch_size")


class BuiltinRNN(RNN):
    _cell_class: type = Layer
    _cell_name = "cell"

    def __init__(self, units: int, **kwargs: Any) -> None:
        rnn_kw = {k: kwargs.pop(k) for k in _RNN_ARGS if k in kwargs}
        layer_kw = {k: kwargs.pop(k) for k in _LAYER_ARGS if k in kwargs}
        cell_dtype = layer_kw.get("dtype")
        cell = self._cell_class(units, dtype=cell_dtype, trainable=layer_kw.get(
            "trainable", True), name=self._cell_name, **kwargs)
        super().__init__(cell, **rnn_kw, **layer_kw)

    def __getattr__(self, name: str) -> Any:
        # units, activation, dropout ... read through to the cell, as in Keras
        if name.startswith("_") or name == "cell":
            raise AttributeError(name)
        cell = self.__dict__.get("cell")
        if cell is not None and name in cell.__dict__:
            return cell.__dict__[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def call(self, sequences: Any, initial_state: Any = None, mask: Any = None,
             training: Any = None) -> Any:
        return super().call(sequences, initial_state=initial_state, mask=mask,
                            training=training)

    def get_config(self) -> dict:
        config = Layer.get_config(self)
        config.update(self._rnn_config())
        cell_config = self.cell.get_config()
        for k in ("name", "trainable", "dtype"):
            cell_config.pop(k, None)
        config.update(cell_config)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> BuiltinRNN:
        config = dict(config)
        config.pop("implementation", None)
        if "dtype" in config and isinstance(config["dtype"], dict):
            from ndflow.keras.layers.layer import _policy_name

            config["dtype"] = _policy_name(config["dtype"])
        return cls(**config)
