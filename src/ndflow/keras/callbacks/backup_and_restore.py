"""`BackupAndRestore`: resume `fit` after the process was killed, exactly where it stopped.

The backup is one file, ``<backup_dir>/latest.weights.h5`` (Keras 3's weights layout, with
the optimizer's variables), whose root attribute ``training_metadata`` records the epoch, the
number of batches already done in that epoch and the random state (NumPy's global generator as
it was when the epoch began, Python's `random`, the random layers' seed generators). Weights and
metadata are written together atomically, so a crash at any moment leaves a consistent backup.
On restart, `fit` reloads it, replays the epoch's shuffle and skips the batches already done,
so the final weights equal those of a run that was never interrupted (on the CPU, with
deterministic data). ``training_metadata.json`` is also written for Keras compatibility.

>>> import tempfile
>>> import numpy as np
>>> from ndflow import keras
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> model.compile("sgd", "mse")
>>> cb = keras.callbacks.BackupAndRestore(tempfile.mkdtemp(), save_freq=2)
>>> _ = model.fit(np.zeros((8, 2)), np.zeros((8, 1)), batch_size=2, epochs=2, verbose=0,
...               callbacks=[cb])
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import warnings
from typing import Any

import numpy as np

from ndflow.distribute import _context as _distribute
from ndflow.keras.callbacks.callback import Callback

__all__ = ["BackupAndRestore"]

WEIGHTS_NAME = "latest.weights.h5"
METADATA_NAME = "training_metadata.json"
_ATTR = "training_metadata"


def _seed_generators(model: Any) -> list:
    """The seed generators of the model's layers, in a fixed order."""
    try:
        from ndflow.keras.utils.rng_utils import SeedGenerator
    except ImportError:  # pragma: no cover
        return []
    out: list = []
    seen: set = set()
    for layer in model._flatten_layers(include_self=True):
        for key in sorted(vars(layer)):
            value = vars(layer)[key]
            if isinstance(value, SeedGenerator) and id(value) not in seen:
                seen.add(id(value))
                out.append(value)
    return out


def _np_state_to_json(state: tuple) -> list:
    name, keys, pos, has_gauss, cached = state
    return [str(name), [int(k) for k in keys], int(pos), int(has_gauss), float(cached)]


def _np_state_from_json(value: list) -> tuple:
    name, keys, pos, has_gauss, cached = value
    return (str(name), np.asarray(keys, dtype=np.uint32), int(pos), int(has_gauss),
            float(cached))


def _py_state_to_json(state: tuple) -> list:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _py_state_from_json(value: list) -> tuple:
    version, internal, gauss = value
    return (version, tuple(int(x) for x in internal), gauss)


class BackupAndRestore(Callback):
    """Back up the training state regularly; after a crash, `fit` resumes from the backup.

    Args:
        backup_dir: folder of the backup (created if needed). Use one folder per run.
        save_freq: ``"epoch"`` (back up at the end of every epoch) or an int N (every N
            batches, and at the end of every epoch).
        double_checkpoint: also keep the previous backup (``*.bkp``); it is used if the latest
            one cannot be read.
        delete_checkpoint: delete the backup when training finishes normally.

    The model must be built (and compiled) before `fit`. Resuming replays the data order
    only for deterministic inputs (arrays, with or without ``shuffle``).
    """

    def __init__(self, backup_dir: str | os.PathLike, save_freq: str | int = "epoch",
                 double_checkpoint: bool = False, delete_checkpoint: bool = True) -> None:
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: empty backup_dir")
        if save_freq != "epoch" and not (isinstance(save_freq, (int, np.integer))
                                         and not isinstance(save_freq, bool)
                                         and save_freq > 0):
            raise ValueError(f"BackupAndRestore: invalid save_freq {save_freq!r}; expected "
                             "'epoch' or a positive integer")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = bool(double_checkpoint)
        self.delete_checkpoint = bool(delete_checkpoint)
        self._weights_path = os.path.join(self.backup_dir, WEIGHTS_NAME)
        self._metadata_path = os.path.join(self.backup_dir, METADATA_NAME)
        self._prev_weights_path = self._weights_path + ".bkp"
        self._current_epoch = 0
        self._steps_in_epoch = 0
        self._batches_since_save = 0
        self._epoch_np_state: Any = None
        self._epoch_py_state: Any = None
        self.restored_from: dict | None = None

    # --- restore --------------------------------------------------------------------------------
    def on_train_begin(self, logs: dict | None = None) -> None:
        model = self.model
        if not getattr(model, "built", False):
            raise ValueError(
                "BackupAndRestore: the model must be built before fit() (call it on a batch of "
                "data, or give it a keras.Input) so the backup can be restored into it.")
        self.restored_from = None
        for path in (self._weights_path, self._prev_weights_path):
            if not os.path.exists(path):
                continue
            try:
                meta = self._restore(path)
            except (ValueError, OSError) as e:
                if path == self._weights_path and os.path.exists(self._prev_weights_path):
                    warnings.warn(f"BackupAndRestore: the latest backup is unreadable ({e}); "
                                  "using the previous one", stacklevel=2)
                    continue
                raise
            self.restored_from = meta
            return

    def _restore(self, path: str) -> dict:
        from ndflow.keras.saving import saving_lib

        model = self.model
        opt = getattr(model, "optimizer", None)
        if opt is not None and not getattr(opt, "built", False):
            opt.build(model.trainable_variables)
        meta = self._read_metadata(path)
        # a backup that does not fit is an error: resuming without the optimizer's state
        # would silently change the training
        saving_lib.load_weights_only(model, path, strict_optimizer=opt is not None)
        epoch = int(meta.get("epoch", 0))
        step = int(meta.get("step", meta.get("batch", 0)) or 0)
        steps_per_epoch = self.params.get("steps") if self.params else None
        if steps_per_epoch and step >= int(steps_per_epoch):
            epoch, step = epoch + 1, 0
            meta = dict(meta, epoch_np_random_state=meta.get("np_random_state"),
                        epoch_py_random_state=meta.get("py_random_state"))
        rng = meta.get("epoch_np_random_state") if step else meta.get("np_random_state")
        if rng is not None:
            np.random.set_state(_np_state_from_json(rng))
        py = meta.get("epoch_py_random_state") if step else meta.get("py_random_state")
        if py is not None:
            random.setstate(_py_state_from_json(py))
        # seed generators advance per forward call: restore them as they were at the backup
        counters = meta.get("seed_generators")
        if counters is not None:
            gens = _seed_generators(model)
            if len(gens) == len(counters):
                for g, (seed, counter) in zip(gens, counters):
                    g.seed, g._counter = int(seed), int(counter)
        model._initial_epoch = epoch
        model._initial_step = step
        self._current_epoch = epoch
        return {"epoch": epoch, "step": step}

    def _read_metadata(self, path: str) -> dict:
        import h5py

        try:
            with h5py.File(path, "r") as h5:
                raw = h5.attrs.get(_ATTR)
        except OSError as e:
            raise ValueError(f"BackupAndRestore: cannot read the backup {path!r}: {e}") from None
        if raw is None:  # a Keras backup: metadata in the JSON file
            if os.path.exists(self._metadata_path):
                with open(self._metadata_path, encoding="utf-8") as f:
                    raw = f.read()
            else:
                return {}
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8")
        try:
            meta = json.loads(str(raw))
        except ValueError as e:
            raise ValueError(f"BackupAndRestore: the backup {path!r} has invalid training "
                             f"metadata ({e})") from None
        if not isinstance(meta, dict):
            raise ValueError(f"BackupAndRestore: the backup {path!r} has invalid training "
                             "metadata")
        return meta

    # --- backup ---------------------------------------------------------------------------------
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._current_epoch = epoch
        self._steps_in_epoch = 0
        # the random state the epoch's shuffle (and dropout) starts from
        self._epoch_np_state = _np_state_to_json(np.random.get_state())
        self._epoch_py_state = _py_state_to_json(random.getstate())

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._steps_in_epoch = batch + 1
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._current_epoch, self._steps_in_epoch)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._current_epoch = epoch + 1
        self._steps_in_epoch = 0
        self._save(epoch + 1, 0)

    def _save(self, epoch: int, step: int) -> None:
        import h5py

        from ndflow.keras.saving import file_io, saving_lib

        if not _distribute.is_chief():  # in a multi-worker job, worker 0 writes
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        meta = {
            "epoch": int(epoch),
            "batch": int(step),
            "step": int(step),
            "np_random_state": _np_state_to_json(np.random.get_state()),
            "py_random_state": _py_state_to_json(random.getstate()),
            "seed_generators": [[g.seed, g._counter] for g in _seed_generators(self.model)],
        }
        if step:
            meta["epoch_np_random_state"] = self._epoch_np_state
            meta["epoch_py_random_state"] = self._epoch_py_state
        text = json.dumps(meta)
        if self.double_checkpoint and os.path.exists(self._weights_path):
            with file_io.atomic_write(self._prev_weights_path) as (f, _tmp):
                with open(self._weights_path, "rb") as src:
                    shutil.copyfileobj(src, f)
        with file_io.atomic_write(self._weights_path) as (f, tmp):
            f.close()
            with h5py.File(tmp, "w") as h5:
                saving_lib.write_h5_state(h5, self.model, include_optimizer=True)
                h5.attrs[_ATTR] = text
            with open(tmp, "rb+") as g:
                os.fsync(g.fileno())
        with file_io.atomic_write(self._metadata_path) as (f, _tmp):
            f.write(json.dumps({"epoch": int(epoch), "batch": int(step)}).encode("utf-8"))

    def on_train_end(self, logs: dict | None = None) -> None:
        model = self.model
        for attr in ("_initial_epoch", "_initial_step"):
            if model is not None and attr in vars(model):
                with contextlib.suppress(AttributeError):
                    delattr(model, attr)
        if self.delete_checkpoint and _distribute.is_chief():
            ours = (self._weights_path, self._prev_weights_path, self._metadata_path)
            for p in ours:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(p)
            # temp files of saves that a killed process left half-written
            prefixes = tuple("." + os.path.basename(p) + "." for p in ours)
            with contextlib.suppress(OSError):
                for name in os.listdir(self.backup_dir):
                    if name.startswith(prefixes) and name.endswith(".tmp"):
                        with contextlib.suppress(OSError):
                            os.remove(os.path.join(self.backup_dir, name))
            with contextlib.suppress(OSError):
                os.rmdir(self.backup_dir)
