"""The training loop behind `Model.compile` / `fit` / `evaluate` / `predict`."""

from ndflow.keras.trainer.trainer import Trainer

__all__ = ["Trainer"]
