"""`RNN`: run a recurrent cell over the time axis of `(batch, time, features)` inputs.

The built-in cells (SimpleRNN, LSTM, GRU with their usual activations) run the whole sequence
as one op: the input projection of every step is one GEMM and the recurrence loops inside the
op's kernel, so neither eager calls nor a compiled `fit` run Python per time step. Any other
cell (a user's layer with `state_size` and `call(inputs, states)`, `StackedRNNCells`) runs
through a step loop written with ndflow ops.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> class MinimalCell(layers.Layer):
...     def __init__(self, units, **kw):
...         super().__init__(**kw)
...         self.units, self.state_size = units, units
...     def build(self, input_shape):
...         self.w = self.add_weight(shape=(input_shape[-1], self.units))
...     def call(self, inputs, states):
...         h = inputs @ self.w + states[0]
...         return h, [h]
>>> out = layers.RNN(MinimalCell(2), return_sequences=True)(np.ones((3, 5, 4), "float32"))
>>> tuple(out.shape)
(3, 5, 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import SymbolicTensor, Tensor, convert_to_tensor
from ndflow.keras.layers.layer import Layer
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of
from ndflow.ops.array import expand_dims, reverse, stack
from ndflow.ops.reduce import cumsum
from ndflow.ops.shape_ops import reshape
from ndflow.util import nest


def _serialize(obj: Any) -> Any:
    from ndflow.keras.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(obj)


def _deserialize(config: Any, custom_objects: Any = None) -> Any:
    from ndflow.keras.saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects=custom_objects)


def _flat_sizes(state_size: Any) -> list:
    if isinstance(state_size, (list, tuple)):
        out: list = []
        for s in state_size:
            out.extend(_flat_sizes(s))
        return out
    return [int(state_size)]


def check_mask(layer: Layer, mask: Any, x: Tensor, n_lead: int = 2) -> Tensor | None:
    """`mask` as a bool tensor of the inputs' leading `n_lead` dims, or a clear ValueError."""
    if mask is None:
        return None
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
        if mask is None:
            return None
    mk = mask if isinstance(mask, Tensor) else convert_to_tensor(np.asarray(mask))
    ms, xs = tuple(shape_of(mk)), tuple(shape_of(x))[:n_lead]
    if len(ms) != n_lead or any(a is not None and b is not None and a != b
                                for a, b in zip(ms, xs)):
        raise ValueError(
            f"{type(layer).__name__} layer '{layer.name}': expected a mask of shape "
            f"{xs} (one boolean per sample and time step, like the inputs' first "
            f"{n_lead} dimensions), got a mask of shape {ms}. Check the layer that produced "
            "the mask, or pass mask=None.")
    if npdt(mk) != np.bool_:
        mk = m.cast(mk, np.bool_)
    return mk


class _Carried:
    """The carried states of a stateful RNN, kept out of weight tracking: they are not weights
    (Keras does not save them)."""

    __slots__ = ("vars",)

    def __init__(self) -> None:
        self.vars: list | None = None


class RNN(Layer):
    """Base class for recurrent layers (Keras 3 `keras.layers.RNN`).

    Args:
        cell: an RNN cell (a layer with `state_size` and `call(inputs, states)` returning
            `(output, new_states)`), or a list of cells (stacked).
        return_sequences: return the output of every step (batch, time, units) instead of
            the last one.
        return_state: also return the final states.
        go_backwards: process the sequence in reverse (outputs come in processing order).
        stateful: the final states of a batch are the initial states of the next one (needs
            a fixed batch size: `keras.Input(batch_size=...)`); `reset_states()` clears them.
        unroll: accepted for Keras compatibility; the recurrence runs in the same kernel.
        zero_output_for_mask: masked steps output zeros instead of the previous output.

    Call arguments: `sequences`, `initial_state` (list of tensors), `mask` (batch, time),
    `training`.

    >>> from ndflow.keras import layers
    >>> layers.RNN(layers.LSTMCell(4), return_state=True).get_config()["return_state"]
    True
    """

    def __init__(self, cell: Any, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs: Any) -> None:
        if isinstance(cell, (list, tuple)):
            from ndflow.keras.layers.rnn.stacked_rnn_cells import StackedRNNCells

            cell = StackedRNNCells(cell)
        if not hasattr(cell, "call") or getattr(cell, "state_size", None) is None:
            raise ValueError(
                f"{type(self).__name__}: expected an RNN cell (a layer with a `state_size` "
                f"attribute and call(inputs, states)), got {cell!r}")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self._carried = _Carried()

    # --- shapes ---------------------------------------------------------------------------------
    @property
    def state_size(self) -> list:
        s = self.cell.state_size
        return list(s) if isinstance(s, (list, tuple)) else [s]

    def _output_size(self) -> int:
        out = getattr(self.cell, "output_size", None)
        return int(out if out is not None else _flat_sizes(self.cell.state_size)[0])

    def compute_output_shape(self, sequences_shape: Any, initial_state_shape: Any = None) -> Any:
        shape = tuple(sequences_shape)
        b, steps = shape[0], shape[1]
        out = (b, steps, self._output_size()) if self.return_sequences else (
            b, self._output_size())
        if self.return_state:
            return [out] + [(b, s) for s in _flat_sizes(self.cell.state_size)]
        return out

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        x = args[0] if args else kwargs["sequences"]
        self._check_rank(x)
        shapes = self.compute_output_shape(tuple(x.shape))
        dt = self.compute_dtype
        if self.return_state:
            return [SymbolicTensor(s, dt) for s in shapes]
        return SymbolicTensor(shapes, dt)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * len(_flat_sizes(self.cell.state_size))
        return out

    def _check_rank(self, x: Any) -> None:
        if len(tuple(shape_of(x))) < 3:
            raise ValueError(
                f"{type(self).__name__} layer '{self.name}': expected inputs of shape "
                f"(batch, timesteps, features), got shape {tuple(shape_of(x))}. A single "
                "sequence needs a batch axis (x[None]); scalar features need a last axis of 1.")

    # --- build ----------------------------------------------------------------------------------
    def build(self, sequences_shape: Any) -> None:
        shape = tuple(sequences_shape)
        if len(shape) < 3:
            raise ValueError(
                f"{type(self).__name__} layer '{self.name}': expected inputs of shape "
                f"(batch, timesteps, features), got shape {shape}")
        step_shape = (shape[0],) + shape[2:]
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build(step_shape)
            self.cell.built = True
        if self.stateful:
            if shape[0] is None:
                raise ValueError(
                    f"{type(self).__name__} layer '{self.name}': stateful=True needs a fixed "
                    f"batch size, got inputs of shape {shape}. Give the first layer "
                    "`keras.Input(shape=..., batch_size=N)` (or batch_input_shape / "
                    "batch_shape) so every batch has N samples.")
            self._make_state_vars(int(shape[0]))
        self.built = True

    def _make_state_vars(self, batch: int) -> None:
        from ndflow.core.variable import Variable

        dt = self.compute_dtype
        self._carried.vars = [
            Variable(np.zeros((batch, s), dt), trainable=False, name="rnn_state")
            for s in _flat_sizes(self.cell.state_size)]

    @property
    def states(self) -> list | None:
        return self._carried.vars

    def reset_state(self) -> None:
        """Zero the carried states of a stateful RNN."""
        for v in self.states or []:
            v.assign(np.zeros(tuple(v.shape), npdt(v)))

    def reset_states(self) -> None:
        self.reset_state()

    def get_initial_state(self, batch_size: Any) -> list:
        from ndflow.ops.creation import zeros

        return [zeros((batch_size, s), self.compute_dtype)
                for s in _flat_sizes(self.cell.state_size)]

    # --- call -----------------------------------------------------------------------------------
    def _zero_states(self, x: Tensor) -> list:
        from ndflow.ops.creation import zeros

        base = m.zeros_like_(x[:, 0, :1]) if len(tuple(shape_of(x))) == 3 else None
        out = []
        for s in _flat_sizes(self.cell.state_size):
            if base is not None:
                out.append(m.add(base, zeros((1, s), npdt(x))))
            else:
                out.append(zeros((shape_of(x)[0], s), npdt(x)))
        return out

    def _initial_states(self, x: Tensor, initial_state: Any) -> tuple:
        sizes = _flat_sizes(self.cell.state_size)
        if initial_state is None:
            if self.stateful:
                return [v.value() if hasattr(v, "value") and callable(v.value) else v
                        for v in self.states], True
            return self._zero_states(x), False
        flat = nest.flatten(initial_state)
        if len(flat) != len(sizes):
            raise ValueError(
                f"{type(self).__name__} layer '{self.name}': expected {len(sizes)} initial "
                f"state tensor(s) of sizes {sizes}, got {len(flat)}")
        out = []
        b = shape_of(x)[0]
        for i, (s, v) in enumerate(zip(sizes, flat)):
            v = v if isinstance(v, Tensor) else convert_to_tensor(np.asarray(v))
            vs = tuple(shape_of(v))
            if len(vs) != 2 or (vs[1] is not None and vs[1] != s) or (
                    b is not None and vs[0] is not None and vs[0] != b):
                raise ValueError(
                    f"{type(self).__name__} layer '{self.name}': initial state {i} must have "
                    f"shape ({b}, {s}), got {vs}")
            if npdt(v) != npdt(x):
                v = m.cast(v, npdt(x))
            out.append(v)
        return out, True

    def call(self, sequences: Any, initial_state: Any = None, mask: Any = None,
             training: Any = None) -> Any:
        x = sequences if isinstance(sequences, Tensor) else convert_to_tensor(sequences)
        self._check_rank(x)
        mk = check_mask(self, mask, x)
        if self.stateful and self.states is not None:
            want, got = tuple(self.states[0].shape)[0], shape_of(x)[0]
            if got is not None and got != want:
                raise ValueError(
                    f"{type(self).__name__} layer '{self.name}': stateful=True with batch size "
                    f"{want}, got inputs with batch size {got}. Every batch of a stateful RNN "
                    "must have the batch size it was built with.")
        states, given = self._initial_states(x, initial_state)
        if self.go_backwards:
            x = reverse(x, [1])
            if mk is not None:
                mk = reverse(mk, [1])
        cell = self.cell
        fast = getattr(cell, "_sequence", None)
        if fast is not None and cell._fast_ok() and len(tuple(shape_of(x))) == 3:
            outputs, new_states = fast(x, states, mk, training)
            if mk is not None and given:
                # before the first kept step Keras outputs zeros, not the initial state
                seen = m.cast(m.greater(cumsum(m.cast(mk, np.int32), axis=1), 0), npdt(x))
                outputs = m.multiply(outputs, expand_dims(seen, -1))
        else:
            outputs, new_states = self._loop(x, states, mk, training)
        if mk is not None and self.zero_output_for_mask:
            keep = reshape(m.cast(mk, npdt(outputs)),
                           tuple(shape_of(mk)) + (1,) * (len(shape_of(outputs)) - 2))
            outputs = m.multiply(outputs, keep)
        last = outputs[:, -1]
        if self.stateful:
            for v, s in zip(self.states, new_states):
                v.assign(s)
        out = outputs if self.return_sequences else last
        if self.return_state:
            return [out] + list(new_states)
        return out

    def _loop(self, x: Tensor, states: list, mk: Any, training: Any) -> tuple:
        """The generic step loop for any cell (ndflow ops, one step at a time)."""
        cell = self.cell
        sizes = self.cell.state_size
        nested = isinstance(sizes, (list, tuple))
        kw = {}
        if isinstance(cell, Layer) and cell._info().has_training:
            kw["training"] = training
        steps = shape_of(x)[1]
        if steps is None:
            raise ValueError(f"{type(self).__name__} layer '{self.name}': a custom cell needs a "
                             "known number of time steps")
        flat_states = list(states)
        cur = nest.pack_sequence_as(sizes, flat_states) if nested else flat_states
        outs: list = []
        prev_out = None
        try:
            for step in range(steps):
                o, new = cell(x[:, step], cur, **kw)
                new_flat = nest.flatten(new)
                if mk is not None:
                    keep = reshape(mk[:, step], (-1,) + (1,) * (len(shape_of(o)) - 1))
                    if prev_out is None:
                        prev_out = m.zeros_like_(o)
                    o = m.where(keep, o, prev_out)
                    new_flat = [m.where(keep, n, s) for n, s in zip(new_flat, flat_states)]
                flat_states = new_flat
                cur = nest.pack_sequence_as(sizes, flat_states) if nested else flat_states
                prev_out = o
                outs.append(o)
        finally:
            _reset_dropout(cell)
        return stack(outs, axis=1), flat_states

    # --- config ---------------------------------------------------------------------------------
    def _rnn_config(self) -> dict:
        return {"return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful,
                "unroll": self.unroll, "zero_output_for_mask": self.zero_output_for_mask}

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(self._rnn_config())
        config["cell"] = _serialize(self.cell)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> RNN:
        config = dict(config)
        cell = _deserialize(config.pop("cell"), custom_objects)
        return cls(cell, **config)


def _reset_dropout(cell: Any) -> None:
    if hasattr(cell, "reset_dropout_mask"):
        cell.reset_dropout_mask()
        cell.reset_recurrent_dropout_mask()
    for c in getattr(cell, "cells", []) or []:
        _reset_dropout(c)
