"""`keras.models`: `Model`, `Sequential`, Functional models, `clone_model` and
`model_from_json`."""

from ndflow.keras.models.cloning import clone_model
from ndflow.keras.models.functional import Functional
from ndflow.keras.models.model import Model
from ndflow.keras.models.sequential import Sequential
from ndflow.keras.saving.json_api import model_from_json

__all__ = ["Functional", "Model", "Sequential", "clone_model", "model_from_json"]


def __getattr__(name: str):  # keras.models.load_model / save_model live in keras.saving
    if name in ("load_model", "save_model"):
        from ndflow.keras import saving

        return getattr(saving, name)
    raise AttributeError(f"module 'ndflow.keras.models' has no attribute {name!r}")
