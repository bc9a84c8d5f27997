"""`keras.preprocessing.sequence`: `pad_sequences` (also in `keras.utils`)."""

from __future__ import annotations

from ndflow.keras.utils import pad_sequences

__all__ = ["pad_sequences"]
