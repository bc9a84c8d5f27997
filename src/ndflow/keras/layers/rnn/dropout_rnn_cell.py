"""`DropoutRNNCell`: the dropout masks of a recurrent cell, drawn once per sequence.

Keras drops the same input features and the same state units at every time step of a
sequence (Gal and Ghahramani's variational dropout): a cell draws its masks on the first step
and keeps them until the RNN layer resets them at the end of the sequence.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.ops._util import npdt, shape_of


def dropout_multiplier(gen: Any, like: Tensor, rate: float) -> Tensor:
    """A (batch, features) tensor of 0 and 1/(1-rate), shaped and typed like `like`."""
    from ndflow.keras.layers.regularization.dropout import draw_noise, keep_multiplier

    dt = npdt(like)
    shape = tuple(shape_of(like))

    def draw() -> np.ndarray:
        return keep_multiplier(gen.next_rng(), shape, rate, dt)

    return draw_noise(draw, shape, dt)


class DropoutRNNCell:
    """Mixin for cells with `dropout` / `recurrent_dropout` rates and a `seed_generator`."""

    def get_dropout_mask(self, step_inputs: Tensor) -> Tensor | None:
        if not 0.0 < self.dropout < 1.0:
            return None
        mask = self.__dict__.get("_dropout_mask")
        if mask is None:
            mask = dropout_multiplier(self.seed_generator, step_inputs, self.dropout)
            self.__dict__["_dropout_mask"] = mask
        return mask

    def get_recurrent_dropout_mask(self, step_state: Tensor) -> Tensor | None:
        if not 0.0 < self.recurrent_dropout < 1.0:
            return None
        mask = self.__dict__.get("_recurrent_dropout_mask")
        if mask is None:
            mask = dropout_multiplier(self.seed_generator, step_state, self.recurrent_dropout)
            self.__dict__["_recurrent_dropout_mask"] = mask
        return mask

    def reset_dropout_mask(self) -> None:
        self.__dict__["_dropout_mask"] = None

    def reset_recurrent_dropout_mask(self) -> None:
        self.__dict__["_recurrent_dropout_mask"] = None
