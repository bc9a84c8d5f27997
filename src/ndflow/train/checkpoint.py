"""`tf.train.Checkpoint`, `tf.train.CheckpointManager` and `tf.train.latest_checkpoint`:
save and restore variables, Keras models and layers and optimizers by the names given to the
checkpoint (custom training loops).

The file is ndflow's, not TensorFlow's TensorBundle: one HDF5 file ``<prefix>.ckpt.h5`` laid
out like a Keras 3 ``.weights.h5`` file per object (read with the same validation: no code
runs, shapes and dtypes are checked, links outside the file are refused), written atomically.
The directory's ``checkpoint`` state file has TensorFlow's text form, so
`latest_checkpoint` and `CheckpointManager` find checkpoints as TensorFlow's do. Unlike
TensorFlow, restoring is not deferred: objects must have their variables (a Keras model
built, an optimizer is built on restore from the models in the same checkpoint).

>>> import os, tempfile, ndflow as tf
>>> step = tf.Variable(3)
>>> ckpt = tf.train.Checkpoint(step=step)
>>> path = ckpt.save(os.path.join(tempfile.mkdtemp(), "ckpt"))
>>> _ = step.assign(0)
>>> ckpt.restore(path).assert_consumed() and int(step)
3
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ndflow.core.variable import Variable

SUFFIX = ".ckpt.h5"
STATE_FILE = "checkpoint"


def _keras_classes() -> tuple:
    from ndflow.keras.layers.layer import Layer
    from ndflow.keras.optimizers.base_optimizer import Optimizer

    return Layer, Optimizer


def _kind(value: Any) -> str | None:
    layer_cls, opt_cls = _keras_classes()
    if isinstance(value, Variable):
        return "variable"
    if isinstance(value, opt_cls):
        return "optimizer"
    if isinstance(value, layer_cls):
        return "keras"
    if isinstance(value, Checkpoint):
        return "checkpoint"
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, (list, tuple)):
        return "list"
    return None


def _children(value: Any) -> list:
    if isinstance(value, Checkpoint):
        return list(value._objects.items())
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    return [(str(i), v) for i, v in enumerate(value)]


def _check_trackable(name: str, value: Any) -> None:
    kind = _kind(value)
    if kind is None:
        raise ValueError(
            f"tf.train.Checkpoint: {name!r} must be a Variable, a Keras model, layer or "
            f"optimizer, another Checkpoint, or a list/dict of those; got "
            f"{type(value).__name__}")
    if kind in ("dict", "list", "checkpoint"):
        for key, child in _children(value):
            _check_trackable(f"{name}/{key}", child)


class CheckpointLoadStatus:
    """What a restore matched: ``assert_consumed`` checks that every saved value found an
    object and every object a saved value."""

    def __init__(self, path: str | None, unmatched_saved: list, unmatched_objects: list
                 ) -> None:
        self.path = path
        self.unmatched_saved = unmatched_saved
        self.unmatched_objects = unmatched_objects

    def assert_consumed(self) -> CheckpointLoadStatus:
        if self.path is None:
            raise AssertionError("No checkpoint was restored (the path was None).")
        self.assert_existing_objects_matched()
        if self.unmatched_saved:
            raise AssertionError(f"Checkpoint {self.path!r} holds values no object took: "
                                 f"{self.unmatched_saved[:10]}")
        return self

    def assert_existing_objects_matched(self) -> CheckpointLoadStatus:
        if self.unmatched_objects:
            raise AssertionError(f"Objects not found in checkpoint {self.path!r}: "
                                 f"{self.unmatched_objects[:10]}")
        return self

    def assert_nontrivial_match(self) -> CheckpointLoadStatus:
        return self

    def expect_partial(self) -> CheckpointLoadStatus:
        return self

    def __bool__(self) -> bool:
        return True


class Checkpoint:
    """Groups trackable objects under names; `save`/`write` store their variables, `restore`
    /`read` assign them back.

    >>> import ndflow as tf
    >>> ckpt = tf.train.Checkpoint(step=tf.Variable(1))
    >>> int(ckpt.step)
    1
    """

    def __init__(self, root: Any = None, **kwargs: Any) -> None:
        object.__setattr__(self, "_objects", {})
        if root is not None:
            kwargs = {"root": root, **kwargs}
        for name, value in kwargs.items():
            setattr(self, name, value)
        object.__setattr__(self, "save_counter",
                           Variable(np.int64(0), trainable=False, name="save_counter"))

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name == "save_counter":
            object.__setattr__(self, name, value)
            return
        _check_trackable(name, value)
        self._objects[name] = value

    def __getattr__(self, name: str) -> Any:
        objects = self.__dict__.get("_objects", {})
        if name in objects:
            return objects[name]
        raise AttributeError(f"'Checkpoint' object has no attribute {name!r}")

    # --- writing --------------------------------------------------------------------------------
    def write(self, file_prefix: str | os.PathLike, options: Any = None) -> str:
        """Write the checkpoint to ``<file_prefix>.ckpt.h5`` (atomically); returns the prefix.
        Does not touch `save_counter` or the directory's state file."""
        import h5py

        from ndflow.keras.saving import file_io

        prefix = os.fspath(file_prefix)
        folder = os.path.dirname(os.path.abspath(prefix))
        os.makedirs(folder, exist_ok=True)
        with file_io.atomic_write(prefix + SUFFIX) as (f, tmp):
            f.close()
            with h5py.File(tmp, "w") as h5:
                h5.attrs["format"] = "ndflow.train.Checkpoint"
                _write_group(h5, self)
            with open(tmp, "rb+") as g:
                os.fsync(g.fileno())
        return prefix

    def save(self, file_prefix: str | os.PathLike, options: Any = None) -> str:
        """`write` to ``<file_prefix>-<n>`` (n = `save_counter` + 1) and record it as the
        latest checkpoint of its directory; returns that path."""
        self.save_counter.assign_add(1)
        path = self.write(f"{os.fspath(file_prefix)}-{int(self.save_counter)}")
        folder = os.path.dirname(os.path.abspath(path))
        state = _read_state(folder)
        recorded = [(p, t) for p, t in state["recorded"] if p != path] + [(path, time.time())]
        _write_state(folder, path, recorded, state["preserved"])
        return path

    # --- reading --------------------------------------------------------------------------------
    def read(self, save_path: str | os.PathLike, options: Any = None) -> CheckpointLoadStatus:
        return self.restore(save_path)

    def restore(self, save_path: str | os.PathLike | None, options: Any = None
                ) -> CheckpointLoadStatus:
        """Assign every object's variables from the checkpoint at `save_path` (a prefix as
        `save` returns it); None restores nothing (a fresh start)."""
        if save_path is None:
            return CheckpointLoadStatus(None, [], [])
        from ndflow.keras.saving import saving_lib

        prefix = os.fspath(save_path)
        path = prefix if prefix.endswith(SUFFIX) else prefix + SUFFIX
        if not os.path.exists(path):
            raise FileNotFoundError(f"tf.train.Checkpoint.restore: no checkpoint at {prefix!r} "
                                    f"(looked for {path!r})")
        h5 = saving_lib._open_h5_file(path, repr(path))
        try:
            reader = saving_lib._H5Reader(h5, repr(path))
            pending: list = []
            missing: list = []
            _read_group(reader, h5, self, "", pending, missing, self)
            unused = [n for n in reader.all_datasets() if n not in reader.used]
        finally:
            h5.close()
        for assign in pending:
            assign()
        return CheckpointLoadStatus(prefix, unused, missing)


def _write_group(group: Any, container: Any) -> None:
    from ndflow.keras.saving import saving_lib

    for name, value in _children(container):
        kind = _kind(value)
        sub = group.require_group(name)
        sub.attrs["kind"] = kind
        if kind == "variable":
            sub.require_group("vars").create_dataset("0", data=np.asarray(value.numpy()))
        elif kind in ("keras", "optimizer"):
            saving_lib.write_h5_state(sub, value, include_optimizer=False)
        else:
            _write_group(sub, value)


def _trainable_variables(container: Any) -> list:
    """The trainable variables of the Keras models in a checkpoint, in naming order: what an
    unbuilt optimizer in it is built for on restore."""
    out: list = []
    for _, value in _children(container):
        kind = _kind(value)
        if kind == "keras":
            out.extend(value.trainable_variables)
        elif kind in ("dict", "list", "checkpoint"):
            out.extend(_trainable_variables(value))
    return out


def _read_group(reader: Any, group: Any, container: Any, path: str, pending: list,
                missing: list, root: Checkpoint) -> None:
    from ndflow.keras.saving import saving_lib

    for name, value in _children(container):
        where = f"{path}/{name}" if path else name
        kind = _kind(value)
        sub = reader._hard_child(group, name)
        if sub is None:
            missing.append(where)
            continue
        if kind == "variable":
            vars_group = reader.vars_group(sub.name)
            if vars_group is None:
                missing.append(where)
                continue
            arr = reader.read(vars_group, "0", tuple(value.shape), value._value.dtype, where)
            pending.append(lambda v=value, a=arr: v.assign(a))
        elif kind in ("keras", "optimizer"):
            if kind == "keras" and not getattr(value, "built", True):
                raise ValueError(
                    f"tf.train.Checkpoint.restore: {where!r} ({type(value).__name__}) is not "
                    "built, so it has no variables to restore into (ndflow does not defer "
                    "restoring). Build it first: call it on a batch, or give it a keras.Input.")
            if kind == "optimizer" and not getattr(value, "built", False):
                saved = reader.vars_group(sub.name)
                if saved is not None and len(reader.dataset_keys(saved)) > len(
                        value.variables):
                    variables = _trainable_variables(root)
                    if variables:
                        value.build(variables)
            pending.append(saving_lib.read_h5_state(
                sub, value, repr(where), include_optimizer=False, strict_optimizer=True,
                defer=True))
            _mark_used(reader, sub)  # read and validated by read_h5_state
        else:
            _read_group(reader, sub, value, where, pending, missing, root)


def _mark_used(reader: Any, group: Any) -> None:
    def visit(name: str, obj: Any) -> None:
        import h5py

        if isinstance(obj, h5py.Dataset):
            reader.used.add(obj.name)

    group.visititems(visit)


# --- the directory's state file (TensorFlow's text form) --------------------------------------
_LINE = re.compile(r'^(\w+):\s*(?:"((?:[^"\\]|\\.)*)"|([-+0-9.eE]+))\s*$')


def _read_state(folder: str) -> dict:
    """{"latest": path or None, "recorded": [(path, timestamp)], "preserved": float|None};
    a path recorded without a timestamp gets the current time."""
    state: dict = {"latest": None, "recorded": [], "preserved": None}
    paths: list = []
    stamps: list = []
    path = os.path.join(folder, STATE_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read(1 << 20).splitlines()
    except (OSError, UnicodeDecodeError):
        return state

    def full(p: str) -> str:
        return p if os.path.isabs(p) else os.path.join(folder, p)

    for line in lines:
        m = _LINE.match(line.strip())
        if not m:
            continue
        key, text, number = m.groups()
        if key == "model_checkpoint_path" and text is not None:
            state["latest"] = full(text)
        elif key == "all_model_checkpoint_paths" and text is not None:
            paths.append(full(text))
        elif key == "all_model_checkpoint_timestamps" and number is not None:
            stamps.append(float(number))
        elif key == "last_preserved_timestamp" and number is not None:
            state["preserved"] = float(number)
    stamps += [time.time()] * (len(paths) - len(stamps))
    state["recorded"] = list(zip(paths, stamps))
    return state


def _write_state(folder: str, latest: str, recorded: list, preserved: float | None) -> None:
    """The state file naming `latest` and the (path, timestamp) pairs `recorded`."""
    from ndflow.keras.saving import file_io

    def rel(p: str) -> str:
        r = os.path.relpath(p, folder)
        return r if not r.startswith("..") else os.path.abspath(p)

    def quoted(p: str) -> str:
        return '"' + rel(p).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"model_checkpoint_path: {quoted(latest)}"]
    lines += [f"all_model_checkpoint_paths: {quoted(p)}" for p, _ in recorded]
    lines += [f"all_model_checkpoint_timestamps: {t!r}" for _, t in recorded]
    if preserved is None:
        preserved = time.time()
    lines.append(f"last_preserved_timestamp: {preserved!r}")
    with file_io.atomic_write(os.path.join(folder, STATE_FILE)) as (f, _):
        f.write(("\n".join(lines) + "\n").encode("utf-8"))


def latest_checkpoint(checkpoint_dir: str | os.PathLike, latest_filename: str | None = None
                      ) -> str | None:
    """The prefix of the newest checkpoint recorded in the directory, or None."""
    state = _read_state(os.fspath(checkpoint_dir))
    latest = state["latest"]
    return latest if latest is not None and os.path.exists(latest + SUFFIX) else None


class CheckpointManager:
    """Numbered saves of one `Checkpoint` in a directory, keeping the newest `max_to_keep`.

    >>> import os, tempfile, ndflow as tf
    >>> ckpt = tf.train.Checkpoint(step=tf.Variable(0))
    >>> manager = tf.train.CheckpointManager(ckpt, tempfile.mkdtemp(), max_to_keep=2)
    >>> paths = [manager.save() for _ in range(3)]
    >>> [os.path.basename(p) for p in manager.checkpoints]
    ['ckpt-2', 'ckpt-3']
    """

    def __init__(self, checkpoint: Checkpoint, directory: str | os.PathLike,
                 max_to_keep: int | None, keep_checkpoint_every_n_hours: float | None = None,
                 checkpoint_name: str = "ckpt", step_counter: Any = None,
                 checkpoint_interval: int | None = None, init_fn: Callable | None = None
                 ) -> None:
        if not isinstance(checkpoint, Checkpoint):
            raise TypeError("CheckpointManager: expected a tf.train.Checkpoint, got "
                            f"{type(checkpoint).__name__}")
        if max_to_keep is not None and max_to_keep < 1:
            raise ValueError(f"CheckpointManager: max_to_keep must be None or >= 1, got "
                             f"{max_to_keep}")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("CheckpointManager: checkpoint_interval needs a step_counter")
        self._checkpoint = checkpoint
        self._directory = os.fspath(directory)
        self._max_to_keep = max_to_keep
        self._keep_seconds = None if keep_checkpoint_every_n_hours is None else \
            float(keep_checkpoint_every_n_hours) * 3600.0
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter = step_counter
        self._interval = checkpoint_interval
        self._last_step: int | None = None
        self._init_fn = init_fn
        os.makedirs(self._directory, exist_ok=True)
        state = _read_state(self._directory)
        self._kept = [(p, t) for p, t in state["recorded"] if os.path.exists(p + SUFFIX)]
        self._preserved = state["preserved"] if state["preserved"] is not None else time.time()
        kept = self.checkpoints
        self._latest = state["latest"] if state["latest"] in kept else (
            kept[-1] if kept else None)

    @property
    def directory(self) -> str:
        return self._directory

    @property
    def checkpoint(self) -> Checkpoint:
        return self._checkpoint

    @property
    def checkpoints(self) -> list[str]:
        return [p for p, _ in self._kept]

    @property
    def latest_checkpoint(self) -> str | None:
        return self._latest

    def save(self, checkpoint_number: Any = None, check_interval: bool = True,
             options: Any = None) -> str | None:
        """Write ``<directory>/<checkpoint_name>-<n>`` and drop the oldest beyond
        `max_to_keep`; with a `checkpoint_interval`, None when too few steps have passed."""
        if self._interval is not None and check_interval:
            step = int(self._step_counter)
            if self._last_step is not None and step - self._last_step < self._interval:
                return None
            self._last_step = step
        ckpt = self._checkpoint
        ckpt.save_counter.assign_add(1)
        number = int(ckpt.save_counter) if checkpoint_number is None else int(checkpoint_number)
        path = ckpt.write(f"{self._prefix}-{number}")
        now = time.time()
        self._kept = [(p, t) for p, t in self._kept if p != path] + [(path, now)]
        self._sweep()
        self._latest = path
        _write_state(self._directory, path, self._kept, self._preserved)
        return path

    def _sweep(self) -> None:
        if self._max_to_keep is None:
            return
        while len(self._kept) > self._max_to_keep:
            path, stamp = self._kept.pop(0)
            if self._keep_seconds is not None and stamp - self._preserved >= self._keep_seconds:
                self._preserved = stamp  # kept for good: outside the manager's list
                continue
            try:
                os.remove(path + SUFFIX)
            except OSError:
                pass

    def restore_or_initialize(self) -> str | None:
        """Restore the latest checkpoint and return its path, or call `init_fn` (if any) and
        return None."""
        if self._latest is not None:
            self._checkpoint.restore(self._latest)
            return self._latest
        if self._init_fn is not None:
            self._init_fn()
        return None


__all__ = ["Checkpoint", "CheckpointLoadStatus", "CheckpointManager", "latest_checkpoint"]

