"""`Bidirectional`: run a recurrent layer forwards and a copy of it backwards, and merge.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layer = layers.Bidirectional(layers.LSTM(3, return_sequences=True))
>>> tuple(layer(np.ones((2, 5, 4), "float32")).shape)
(2, 5, 6)
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import SymbolicTensor, Tensor, convert_to_tensor
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.rnn.rnn import _deserialize, _serialize, check_mask
from ndflow.ops import math as m
from ndflow.ops.array import concat, reverse

_MODES = ("sum", "mul", "concat", "ave", None)


def _strip(name: str, prefix: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) else name


class Bidirectional(Layer):
    """Keras 3 `Bidirectional(layer, merge_mode="concat", weights=None, backward_layer=None)`.

    `layer` is copied into `forward_layer` (named `forward_<name>`); the backward layer is a
    copy with `go_backwards` flipped (or `backward_layer`). With `return_sequences`, the
    backward outputs are reversed back into time order before the merge (`concat`, `sum`,
    `mul`, `ave`, or None for a list of both).

    >>> from ndflow.keras import layers
    >>> Bidirectional(layers.GRU(2), merge_mode="sum").get_config()["merge_mode"]
    'sum'
    """

    def __init__(self, layer: Any, merge_mode: str | None = "concat", weights: Any = None,
                 backward_layer: Any = None, **kwargs: Any) -> None:
        if not isinstance(layer, Layer) or not hasattr(layer, "go_backwards"):
            raise ValueError(f"Bidirectional: expected a recurrent layer (RNN, LSTM, GRU ...), "
                             f"got {layer!r}")
        if merge_mode not in _MODES:
            raise ValueError(f"Bidirectional: expected merge_mode in {list(_MODES)}, got "
                             f"merge_mode={merge_mode!r}")
        super().__init__(**kwargs)
        cfg = _serialize(layer)
        cfg["config"]["name"] = "forward_" + _strip(layer.name, "forward_")
        self.forward_layer = _deserialize(cfg)
        if backward_layer is None:
            cfg = _serialize(layer)
            cfg["config"]["name"] = "backward_" + _strip(layer.name, "backward_")
            cfg["config"]["go_backwards"] = not layer.go_backwards
            backward_layer = _deserialize(cfg)
        else:
            if not isinstance(backward_layer, Layer) or backward_layer.go_backwards == \
                    layer.go_backwards:
                raise ValueError("Bidirectional: backward_layer must be a recurrent layer with "
                                 "go_backwards opposite to the forward layer's")
            for attr in ("return_sequences", "return_state"):
                if getattr(backward_layer, attr) != getattr(layer, attr):
                    raise ValueError(f"Bidirectional: forward and backward layers must have "
                                     f"the same {attr}")
        self.backward_layer = backward_layer
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = layer.stateful
        for lyr in (self.forward_layer, self.backward_layer):
            lyr.zero_output_for_mask = self.return_sequences
        self.supports_masking = True
        self._initial_weights = weights

    def build(self, sequences_shape: Any) -> None:
        for lyr in (self.forward_layer, self.backward_layer):
            if not lyr.built:
                lyr.build(tuple(sequences_shape))
                lyr.built = True
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _merge(self, y: Any, y_rev: Any) -> Any:
        mode = self.merge_mode
        if mode == "concat":
            return concat([y, y_rev], axis=-1)
        if mode == "sum":
            return m.add(y, y_rev)
        if mode == "ave":
            return m.multiply(m.add(y, y_rev), 0.5)
        if mode == "mul":
            return m.multiply(y, y_rev)
        return [y, y_rev]

    def compute_output_shape(self, sequences_shape: Any, initial_state_shape: Any = None) -> Any:
        out = self.forward_layer.compute_output_shape(tuple(sequences_shape))
        states: list = []
        if self.return_state:
            out, states = out[0], list(out[1:])
        out = tuple(out)
        if self.merge_mode == "concat":
            merged: Any = out[:-1] + (2 * out[-1],)
        elif self.merge_mode is None:
            merged = [out, out]
        else:
            merged = out
        if self.return_state:
            head = merged if isinstance(merged, list) else [merged]
            return head + states + states
        return merged

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        x = args[0] if args else kwargs["sequences"]
        shapes = self.compute_output_shape(tuple(x.shape))
        dt = self.compute_dtype
        if isinstance(shapes, list):
            return [SymbolicTensor(s, dt) for s in shapes]
        return SymbolicTensor(shapes, dt)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        head = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            n = 2 * len(self.forward_layer.state_size)
            return head + [None] * n
        return head if self.merge_mode is None else out

    def call(self, sequences: Any, initial_state: Any = None, mask: Any = None,
             training: Any = None) -> Any:
        x = sequences if isinstance(sequences, Tensor) else convert_to_tensor(sequences)
        mk = check_mask(self, mask, x)
        fw_state = bw_state = None
        if initial_state is not None:
            n = len(initial_state)
            if n % 2:
                raise ValueError(f"Bidirectional layer '{self.name}': expected an even number of "
                                 f"initial states (forward then backward), got {n}")
            fw_state, bw_state = list(initial_state[:n // 2]), list(initial_state[n // 2:])
        y = self.forward_layer(x, initial_state=fw_state, mask=mk, training=training)
        y_rev = self.backward_layer(x, initial_state=bw_state, mask=mk, training=training)
        states: list = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = reverse(y_rev, [1])
        out = self._merge(y, y_rev)
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + states
        return out

    def reset_states(self) -> None:
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def reset_state(self) -> None:
        self.reset_states()

    def get_config(self) -> dict:
        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        config["layer"] = _serialize(self.forward_layer)
        config["backward_layer"] = _serialize(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> Bidirectional:
        config = dict(config)
        layer = _deserialize(config.pop("layer"), custom_objects)
        back = config.pop("backward_layer", None)
        if back is not None:
            back = _deserialize(back, custom_objects)
        return cls(layer, backward_layer=back, **config)
