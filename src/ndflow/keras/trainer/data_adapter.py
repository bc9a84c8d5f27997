"""Data adapters: turn what `fit`/`evaluate`/`predict` receive into batches of tensors.

Supported: NumPy arrays and tensors (also lists, tuples and dicts of them for several inputs
or outputs), Python generators and iterators yielding ``x``, ``(x, y)`` or
``(x, y, sample_weight)``, re-iterable datasets (``ndflow.data.Dataset`` or any iterable of
batches) and sequence objects with ``__len__`` / ``__getitem__`` (like ``keras.utils.PyDataset``).

Array batches are slices of the arrays (views, no copy) unless shuffled.

>>> import numpy as np
>>> ad = ArrayAdapter(np.zeros((10, 3)), np.arange(10), batch_size=4, shuffle=False)
>>> ad.num_batches, [tuple(x.shape) for x, y in ad.epoch()]
(3, [(4, 3), (4, 3), (2, 3)])
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from ndflow.backend import devices as _devices
from ndflow.core.string_array import is_stringlike, to_bytes_array
from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.keras import config as _config
from ndflow.util import nest


def unpack_x_y_sample_weight(data: Any) -> tuple:
    """``x`` / ``(x,)`` / ``(x, y)`` / ``(x, y, sample_weight)`` -> ``(x, y, sample_weight)``."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError(
        "Data is expected to be x, (x,), (x, y) or (x, y, sample_weight); got a tuple of "
        f"{len(data)} elements")


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """The batch a `train_step` receives: ``x`` (or ``(x,)`` if x is a list/tuple),
    ``(x, y)`` or ``(x, y, sample_weight)``."""
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _is_array(v: Any) -> bool:
    return isinstance(v, (np.ndarray, Tensor)) or (
        hasattr(v, "__array__") and hasattr(v, "shape") and hasattr(v, "dtype"))


def _to_numpy(v: Any, what: str) -> np.ndarray:
    if isinstance(v, Tensor):
        arr = v.numpy()
    elif isinstance(v, np.ndarray):
        arr = v
    else:
        if isinstance(v, (list, tuple)) and v and _plain_list_kind(v) == "ragged":
            lengths = sorted({len(s) for s in v})
            raise ValueError(
                f"{what}: expected a rectangular array, got a list of sequences of different "
                f"lengths ({', '.join(map(str, lengths[:5]))}{' ...' if len(lengths) > 5 else ''}"
                "). Pad them to one length first (keras.utils.pad_sequences) or pass a NumPy "
                "array.")
        try:
            arr = np.asarray(v)
        except Exception:
            raise TypeError(f"{what}: expected NumPy arrays, tensors or lists of numbers, got "
                            f"{type(v).__name__}") from None
        if arr.dtype.kind == "O" and not is_stringlike(arr):
            raise TypeError(f"{what}: could not convert a {type(v).__name__} to an array of "
                            "numbers (ragged lists or objects)")
    if arr.dtype.kind in "USO" and is_stringlike(arr):
        arr = to_bytes_array(arr, what)  # text: string tensors (the model's text layers)
    elif arr.dtype.kind == "O":
        raise TypeError(f"{what}: expected an array of numbers, got an array of Python objects "
                        f"(dtype object, shape {arr.shape}); convert it with "
                        "np.asarray(..., dtype='float32') or pad ragged sequences first")
    if arr.dtype == np.float64 or arr.dtype == np.float16 and _config.floatx() != "float16":
        arr = arr.astype(_config.floatx())
    if arr.ndim == 0:
        raise ValueError(f"{what}: expected arrays with a batch dimension, got a scalar")
    return arr


def is_array_data(x: Any) -> bool:
    """True for arrays / tensors / lists, tuples or dicts of them (or of numbers)."""
    if x is None:
        return False
    if _is_array(x):
        return True
    if isinstance(x, dict):
        return all(is_array_data(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        if not x:
            return False
        if all(_is_array(v) or isinstance(v, (dict,)) for v in x):
            return all(is_array_data(v) for v in x)
        # a plain (nested) list of numbers (or strings)
        return _plain_list_kind(x) in ("numbers", "strings", "ragged")
    return False


def _plain_list_kind(x: Any) -> str:
    """What a plain list holds: "numbers", "strings", "ragged" (nested lists of different
    lengths) or "other"."""
    try:
        arr = np.asarray(x)
    except ValueError:  # NumPy refuses inhomogeneous nested lists
        return "ragged" if _all_sequences(x) else "other"
    except Exception:
        return "other"
    if arr.dtype.kind in "biuf":
        return "numbers"
    if arr.dtype.kind in "US":
        return "strings"
    if arr.dtype.kind == "O" and _all_sequences(x):
        return "ragged"
    return "other"


def _all_sequences(x: Any) -> bool:
    return all(isinstance(v, (list, tuple)) for v in x)


def _struct_to_numpy(x: Any, what: str) -> Any:
    if x is None:
        return None
    if isinstance(x, list) and x and all(isinstance(v, (str, bytes)) for v in x):
        return _to_numpy(x, what)  # a list of texts is one string array
    if isinstance(x, (list, tuple)) and x and not any(_is_array(v) or isinstance(v, dict)
                                                      for v in x):
        return _to_numpy(x, what)  # a plain list of numbers is one array
    if isinstance(x, (list, tuple, dict)):
        return nest.map_structure(lambda v: _to_numpy(v, what), x)
    return _to_numpy(x, what)


def _wrap(arr: Any, cpu: bool) -> Tensor:
    return Tensor(arr) if cpu else convert_to_tensor(arr)


def class_weight_to_sample_weight(y: np.ndarray, class_weight: dict) -> np.ndarray:
    """Per-sample weights from per-class weights (labels as ints or one-hot rows)."""
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] > 1:
        labels = y.argmax(axis=-1)
    elif y.ndim > 1:
        labels = y[..., 0]
        if labels.dtype.kind == "f":
            labels = np.round(labels)
    else:
        labels = np.round(y) if y.dtype.kind == "f" else y
    labels = labels.astype(np.int64).reshape(len(y), -1)[:, 0]
    top = int(labels.max()) if labels.size else -1
    table = np.ones(max(top + 1, max((int(k) for k in class_weight), default=-1) + 1),
                    np.float32)
    for k, v in class_weight.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)):
            raise ValueError(f"class_weight: expected a number for class {k!r}, got {v!r}")
        table[int(k)] = float(v)
    return table[labels]


class ArrayAdapter:
    """Batches from in-memory arrays (NumPy, tensors, lists), shuffled each epoch if asked."""

    def __init__(self, x: Any, y: Any = None, sample_weight: Any = None,
                 batch_size: int | None = None, steps_per_epoch: int | None = None,
                 shuffle: bool | str = False, class_weight: dict | None = None) -> None:
        self.x = _struct_to_numpy(x, "x")
        self.y = _struct_to_numpy(y, "y")
        self.sample_weight = _struct_to_numpy(sample_weight, "sample_weight")
        if class_weight is not None:
            if self.y is None:
                raise ValueError("class_weight: targets (y) are required to use class_weight")
            if nest.is_nested(self.y) and len(nest.flatten(self.y)) > 1:
                raise ValueError("class_weight is not supported for models with several "
                                 "outputs; pass sample_weight per output instead")
            yflat = nest.flatten(self.y)[0]
            cw = class_weight_to_sample_weight(yflat, class_weight)
            self.sample_weight = cw if self.sample_weight is None else (
                self.sample_weight * cw)
        sizes = {}
        for name, part in (("x", self.x), ("y", self.y), ("sample_weight", self.sample_weight)):
            if part is not None:
                sizes[name] = [int(a.shape[0]) for a in nest.flatten(part)]
        all_sizes = {s for v in sizes.values() for s in v}
        if len(all_sizes) > 1:
            detail = " ".join(f"'{k}' sizes: {', '.join(map(str, v))}" for k, v in sizes.items())
            raise ValueError(
                "Data cardinality is ambiguous: make sure all arrays contain the same number "
                f"of samples. {detail}")
        self.num_samples = all_sizes.pop() if all_sizes else 0
        if batch_size is None:
            batch_size = 32
        if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
        self.batch_size = int(batch_size)
        full = -(-self.num_samples // self.batch_size)
        self.num_batches = full if steps_per_epoch is None else int(steps_per_epoch)
        self.shuffle = shuffle
        self._single_x = not nest.is_nested(self.x)
        self._single_y = self.y is None or not nest.is_nested(self.y)
        self._offset = 0  # where the next epoch starts when steps_per_epoch < full epoch
        self._perm: np.ndarray | None = None

    def _take(self, part: Any, sl: Any, cpu: bool) -> Any:
        if part is None:
            return None
        if type(part) is np.ndarray:
            return _wrap(part[sl] if isinstance(sl, slice) else part.take(sl, axis=0), cpu)
        return nest.map_structure(
            lambda a: _wrap(a[sl] if isinstance(sl, slice) else a.take(sl, axis=0), cpu), part)

    def epoch(self) -> Iterator[tuple]:
        """Yield ``(x, y, sample_weight)`` batches for one epoch."""
        n, bs = self.num_samples, self.batch_size
        cpu = _devices.current_device().device_type == "CPU"
        full = -(-n // bs)
        if self.shuffle == "batch":
            order = np.random.permutation(full)
            perm = None
        elif self.shuffle:
            perm = np.random.permutation(n)
            order = None
        else:
            perm = order = None
        x, y, sw = self.x, self.y, self.sample_weight
        for k in range(self.num_batches):
            b = (self._offset + k) % full if full else 0
            if order is not None:
                b = int(order[b])
            start = b * bs
            stop = min(start + bs, n)
            if perm is not None:
                sl: Any = np.sort(perm[start:stop])
            else:
                sl = slice(start, stop)
            xb = self._take(x, sl, cpu)
            if y is None:
                yield (xb,) if isinstance(xb, (list, tuple)) else xb
            elif sw is None:
                yield (xb, self._take(y, sl, cpu))
            else:
                yield (xb, self._take(y, sl, cpu), self._take(sw, sl, cpu))
        if self.num_batches < full:
            self._offset = (self._offset + self.num_batches) % full

    def split(self, validation_split: float) -> tuple[ArrayAdapter, tuple]:
        """Cut the last ``validation_split`` fraction off (before any shuffling)."""
        if not 0.0 < validation_split < 1.0:
            raise ValueError(f"validation_split: expected a float in (0, 1), got "
                             f"{validation_split}")
        n_train = int(self.num_samples * (1.0 - validation_split))
        if n_train == 0 or n_train == self.num_samples:
            raise ValueError(
                f"validation_split={validation_split} leaves no samples for "
                f"{'training' if n_train == 0 else 'validation'} out of {self.num_samples}")

        def cut(part: Any, lo: int, hi: int) -> Any:
            if part is None:
                return None
            return nest.map_structure(lambda a: a[lo:hi], part)

        n = self.num_samples
        val = (cut(self.x, n_train, n), cut(self.y, n_train, n),
               cut(self.sample_weight, n_train, n))
        self.x = cut(self.x, 0, n_train)
        self.y = cut(self.y, 0, n_train)
        self.sample_weight = cut(self.sample_weight, 0, n_train)
        self.num_samples = n_train
        self.num_batches = -(-n_train // self.batch_size)
        return self, val


def _convert_batch(data: Any) -> tuple:
    """Convert a user batch's arrays to tensors; returns (x, y, sample_weight)."""
    x, y, sw = unpack_x_y_sample_weight(data)
    conv = lambda v: v if v is None or isinstance(v, Tensor) else (  # noqa: E731
        nest.map_structure(lambda a: a if isinstance(a, Tensor) else convert_to_tensor(
            np.asarray(a, dtype=_config.floatx()) if np.asarray(a).dtype == np.float64 else a),
            v))
    return conv(x), conv(y), conv(sw)


class IterableAdapter:
    """Batches from a generator / iterator (used once) or a re-iterable dataset."""

    def __init__(self, data: Any, steps_per_epoch: int | None = None,
                 class_weight: dict | None = None) -> None:
        self.data = data
        self.one_shot = iter(data) is data if hasattr(data, "__iter__") else True
        self.num_batches = steps_per_epoch
        self.steps_per_epoch = steps_per_epoch
        self.class_weight = class_weight
        self._it: Any = None
        self.exhausted = False
        try:
            n = len(data)  # type: ignore[arg-type]
            if steps_per_epoch is None:
                self.num_batches = n
        except TypeError:
            pass

    def epoch(self) -> Iterator[tuple]:
        if self.one_shot:
            if self._it is None:
                self._it = iter(self.data)
            it = self._it
        elif self.steps_per_epoch is not None:
            if self._it is None:
                self._it = iter(self.data)
            it = self._it
        else:
            it = iter(self.data)
        k = 0
        while self.steps_per_epoch is None or k < self.steps_per_epoch:
            try:
                batch = next(it)
            except StopIteration:
                if self.steps_per_epoch is not None and not self.one_shot and k > 0:
                    self._it = it = iter(self.data)
                    continue
                if self.one_shot or self.steps_per_epoch is not None:
                    self.exhausted = True
                if k == 0:
                    self.exhausted = True
                return
            x, y, sw = _convert_batch(batch)
            if self.class_weight is not None and y is not None:
                cw = class_weight_to_sample_weight(np.asarray(nest.flatten(y)[0]),
                                                   self.class_weight)
                sw = convert_to_tensor(cw if sw is None else np.asarray(sw) * cw)
            yield pack_x_y_sample_weight(x, y, sw)
            k += 1
        if self.num_batches is None:
            self.num_batches = k


class SequenceAdapter:
    """Batches from an indexable object with ``__len__`` (``keras.utils.PyDataset`` style)."""

    def __init__(self, data: Any, steps_per_epoch: int | None = None, shuffle: bool = False,
                 class_weight: dict | None = None) -> None:
        self.data = data
        self.num_batches = len(data) if steps_per_epoch is None else int(steps_per_epoch)
        self.shuffle = shuffle
        self.class_weight = class_weight
        self.exhausted = False

    def epoch(self) -> Iterator[tuple]:
        from ndflow.keras.utils import py_dataset_workers as pw

        n = len(self.data)
        order = np.random.permutation(n) if self.shuffle else np.arange(n)
        indices = (int(order[k % n]) for k in range(self.num_batches))
        if pw.uses_workers(self.data):  # PyDataset(workers=..., use_multiprocessing=...)
            raw: Iterator = pw.ordered_batches(
                self.data, indices, self.data.workers, self.data.use_multiprocessing,
                getattr(self.data, "max_queue_size", 10))
        else:
            raw = (self.data[i] for i in indices)
        for item in raw:
            x, y, sw = _convert_batch(item)
            if self.class_weight is not None and y is not None:
                cw = class_weight_to_sample_weight(np.asarray(nest.flatten(y)[0]),
                                                   self.class_weight)
                sw = convert_to_tensor(cw if sw is None else np.asarray(sw) * cw)
            yield pack_x_y_sample_weight(x, y, sw)
        end = getattr(self.data, "on_epoch_end", None)
        if callable(end):
            end()


def get_adapter(x: Any, y: Any = None, sample_weight: Any = None,
                batch_size: int | None = None, steps_per_epoch: int | None = None,
                shuffle: bool | str = False, class_weight: dict | None = None,
                caller: str = "fit") -> Any:
    """Pick the adapter for ``x`` (and check the arguments that do not apply to it)."""
    if x is None:
        raise ValueError(f"{caller}: x is required (the input data), got None")
    if is_array_data(x):
        return ArrayAdapter(x, y, sample_weight, batch_size, steps_per_epoch, shuffle,
                            class_weight)
    if y is not None:
        raise ValueError(
            f"{caller}: y must not be given when x is a generator, dataset or PyDataset "
            f"(got x of type {type(x).__name__}); yield (x, y) batches from x instead")
    if sample_weight is not None:
        raise ValueError(f"{caller}: sample_weight must not be given when x is a generator or "
                         "dataset; yield (x, y, sample_weight) batches instead")
    if batch_size is not None and caller == "fit":
        warnings.warn(f"{caller}: batch_size is ignored when x is a generator or dataset "
                      "(the data yields its own batches)", stacklevel=3)
    if hasattr(x, "__getitem__") and hasattr(x, "__len__") and not isinstance(x, (str, bytes)):
        return SequenceAdapter(x, steps_per_epoch, bool(shuffle), class_weight)
    if hasattr(x, "__iter__") or hasattr(x, "__next__"):
        return IterableAdapter(x, steps_per_epoch, class_weight)
    raise TypeError(
        f"{caller}: unrecognized data type for x: {type(x).__name__}. Expected NumPy arrays, "
        "tensors, lists/dicts of them, a Python generator, a dataset, or a PyDataset.")
