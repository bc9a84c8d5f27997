"""Public saving functions: `save_model`, `load_model`, `save_weights`, `load_weights`.

>>> import os, tempfile
>>> import numpy as np
>>> from ndflow import keras
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
>>> model.save(path)
>>> restored = keras.models.load_model(path)
>>> x = np.ones((1, 3), "float32")
>>> bool(np.array_equal(model.predict(x, verbose=0), restored.predict(x, verbose=0)))
True
"""

from __future__ import annotations

import os
import stat
import warnings
from typing import Any

from ndflow.keras.saving import saving_lib
from ndflow.keras.saving.file_io import FileFormatError

__all__ = ["save_model", "load_model", "save_weights", "load_weights"]


class UnexpectedLoadError(FileFormatError):
    """A malformed file made loading fail somewhere ndflow has no specific check for (the
    message names the file and the original error). The fuzz tests count these as defects."""


class SavedFileNotFoundError(FileNotFoundError, ValueError):
    """The file to load does not exist (both a FileNotFoundError and, as in Keras, a
    ValueError)."""


# Errors that a malformed file can provoke deep inside object construction; they are reported
# as a ValueError naming the file (KeyboardInterrupt and SystemExit are never caught).
_WRAPPED = (TypeError, KeyError, IndexError, AttributeError, RecursionError, OverflowError,
            ZeroDivisionError, MemoryError, NotImplementedError, LookupError, ArithmeticError,
            AssertionError, UnicodeError, OSError, RuntimeError)


def _check_model(model: Any, what: str) -> None:
    from ndflow.keras.layers.layer import Layer

    if not isinstance(model, Layer):
        raise TypeError(f"{what}: expected a keras Model or Layer, got {type(model).__name__}")


def _check_regular_file(path: str, what: str) -> None:
    """Refuse FIFOs, devices and sockets (reading them could block forever)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        raise ValueError(f"{what}: cannot access {path!r}: {e}") from None
    if not stat.S_ISREG(mode):
        raise ValueError(f"{what}: {path!r} is not a regular file")


def _may_write(filepath: str, overwrite: bool, what: str) -> bool:
    if overwrite or not os.path.exists(filepath):
        return True
    warnings.warn(f"{what}: {filepath!r} exists and overwrite=False; nothing was written",
                  stacklevel=3)
    return False


def save_model(model: Any, filepath: str | os.PathLike, overwrite: bool = True,
               zipped: bool | None = None, include_optimizer: bool = True, **kwargs: Any
               ) -> None:
    """Save a model as a Keras 3 `.keras` file: architecture, weights, compiled state
    (optimizer with its variables, loss, metrics).

    The write is atomic: a temporary file in the same folder is fsync'ed and renamed over
    ``filepath``, so an interrupted save leaves the previous file intact.

    Args:
        model: the model (Sequential, Functional or a registered subclassed model).
        filepath: a path ending in ``.keras``.
        overwrite: replace an existing file (default). If False, an existing file is kept.
        zipped: must be None or True (ndflow writes the zipped format only).
        include_optimizer: also save the compiled state and the optimizer's variables.
    """
    _check_model(model, "save_model")
    if kwargs.pop("save_format", None) not in (None, "keras"):
        raise ValueError("save_model: only the Keras 3 '.keras' format is supported "
                         "(save_format='keras')")
    if kwargs:
        raise ValueError(f"save_model: unrecognized arguments {sorted(kwargs)}")
    if zipped is False:
        raise ValueError("save_model: zipped=False (an unzipped folder) is not supported; "
                         "save a .keras file")
    path = os.fspath(filepath)
    if path.endswith((".h5", ".hdf5")):
        raise ValueError(
            f"save_model: the legacy HDF5 format ({path!r}) is not supported. Save the model "
            "as a '.keras' file, or its weights with model.save_weights('x.weights.h5').")
    if not path.endswith(".keras"):
        raise ValueError(f"save_model: the filepath must end in '.keras', got {path!r}")
    if _may_write(path, overwrite, "save_model"):
        saving_lib.save_model(model, path, include_optimizer=include_optimizer)


def load_model(filepath: str | os.PathLike, custom_objects: dict | None = None,
               compile: bool = True, safe_mode: bool = True) -> Any:
    """Load a model saved with `save_model` (by ndflow or by Keras 3).

    Args:
        filepath: a `.keras` file.
        custom_objects: ``{name: class_or_function}`` for user objects that are not registered
            with `register_keras_serializable`.
        compile: also restore the compiled state (optimizer, loss, metrics) and the optimizer's
            variables, so training continues where it stopped.
        safe_mode: refuse code-carrying objects (Lambda layers holding Python lambdas). Pass
            False only for files you trust.

    Raises:
        ValueError: the file is missing, truncated, corrupted, hostile, or does not describe a
            model that can be built (the message says what is wrong).
    """
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise SavedFileNotFoundError(f"load_model: file not found: {path!r}")
    if os.path.isdir(path):
        raise ValueError(f"load_model: {path!r} is a folder; expected a '.keras' file (the "
                         "TF SavedModel format is not supported)")
    if path.endswith(".weights.h5"):
        raise ValueError(f"load_model: {path!r} holds weights only; build the model and call "
                         "model.load_weights(path)")
    if path.endswith((".h5", ".hdf5")):
        raise ValueError(f"load_model: the legacy Keras 2 HDF5 format ({path!r}) is not "
                         "supported; re-save the model with Keras 3 as '.keras'")
    _check_regular_file(path, "load_model")
    try:
        return saving_lib.load_model(path, custom_objects=custom_objects, compile=compile,
                                     safe_mode=safe_mode)
    except ValueError:
        raise
    except _WRAPPED as e:
        raise UnexpectedLoadError(
            f"load_model: could not load {path!r}: {type(e).__name__}: {e}. The file is "
            "corrupted, was written for other custom objects, or its config is invalid."
        ) from e


def save_weights(model: Any, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Save the model's weights (and optimizer variables) to a ``.weights.h5`` file,
    atomically, in Keras 3's layout."""
    _check_model(model, "save_weights")
    path = os.fspath(filepath)
    if not path.endswith(".weights.h5"):
        raise ValueError(f"save_weights: the filename must end in '.weights.h5', got {path!r}")
    if _may_write(path, overwrite, "save_weights"):
        saving_lib.save_weights_only(model, path)


def load_weights(model: Any, filepath: str | os.PathLike, skip_mismatch: bool = False,
                 **kwargs: Any) -> None:
    """Load weights saved by `save_weights` (or the weights inside a `.keras` file) into
    ``model``, which must have the same architecture.

    Raises:
        ValueError: the file is unreadable or does not match the model (the message names the
            layer and the expected and found shapes). With ``skip_mismatch=True`` mismatching
            layers are skipped with a warning instead.
    """
    _check_model(model, "load_weights")
    if kwargs:
        raise ValueError(f"load_weights: unrecognized arguments {sorted(kwargs)}")
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise SavedFileNotFoundError(f"load_weights: file not found: {path!r}")
    _check_regular_file(path, "load_weights")
    try:
        saving_lib.load_weights_only(model, path, skip_mismatch=skip_mismatch)
    except ValueError:
        raise
    except _WRAPPED as e:
        raise FileFormatError(f"load_weights: could not load {path!r}: {type(e).__name__}: "
                              f"{e}") from e
