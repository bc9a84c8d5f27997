"""`ndflow.data.Dataset`: input pipelines with TensorFlow's `tf.data` API.

A dataset is a re-iterable description of a stream of elements (nested structures of tensors).
Elements travel through the pipeline as NumPy arrays and come out as tensors. Slicing arrays
(`from_tensor_slices`) followed by `shuffle`/`batch` takes a vectorised fast path.

>>> import ndflow as tf
>>> ds = tf.data.Dataset.from_tensor_slices(([1, 2, 3, 4], [0, 1, 0, 1])).batch(2)
>>> [x.numpy().tolist() for x, y in ds]
[[1, 2], [3, 4]]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ndflow.core.string_array import to_bytes_array
from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.errors import InvalidArgumentError

AUTOTUNE = -1
INFINITE = -1
UNKNOWN = -2


# tf.data's structures: tuples, namedtuples and dicts nest; lists are values (like tensors).
def _is_struct(x: Any) -> bool:
    return isinstance(x, (tuple, dict))


def _dflatten(x: Any) -> list:
    if isinstance(x, dict):
        return [leaf for k in sorted(x) for leaf in _dflatten(x[k])]
    if isinstance(x, tuple):
        return [leaf for v in x for leaf in _dflatten(v)]
    return [x]


def _dpack(template: Any, flat: list) -> Any:
    it = iter(flat)

    def build(t: Any) -> Any:
        if isinstance(t, dict):
            vals = {k: build(t[k]) for k in sorted(t)}
            return {k: vals[k] for k in t}
        if isinstance(t, tuple):
            items = [build(v) for v in t]
            return type(t)(*items) if hasattr(t, "_fields") else tuple(items)
        return next(it)

    return build(template)


def _dmap(fn: Callable, x: Any) -> Any:
    return _dpack(x, [fn(v) for v in _dflatten(x)])


def _to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.numpy()
    if isinstance(x, np.ndarray):
        return x if x.dtype.kind not in "USO" else to_bytes_array(x, "Dataset")
    return convert_to_tensor(x).numpy()


def _leaf_tensor(a: Any) -> Tensor:
    if type(a) is bytes:  # an element of a string array
        return Tensor(to_bytes_array(a))
    a = np.asarray(a)
    return Tensor(a if a.dtype.kind not in "US" else to_bytes_array(a))


def _to_tensors(element: Any) -> Any:
    return _dmap(_leaf_tensor, element)


def _element_numpy(element: Any) -> Any:
    return _dmap(_to_numpy, element)


class Dataset:
    """A re-iterable stream of elements. Build one with a `from_*` constructor or `range`."""

    def __init__(self, make_iter: Callable[[], Iterator], cardinality: int = UNKNOWN) -> None:
        self._make_iter = make_iter  # yields elements as nested NumPy arrays
        self._cardinality = cardinality

    # --- constructors --------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors: Any, name: str | None = None) -> Dataset:
        """One element per index of the first dimension of every component."""
        flat = [_to_numpy(t) for t in _dflatten(tensors)]
        if not flat:
            raise ValueError("Dataset.from_tensor_slices: expected at least one component")
        n = None
        for i, a in enumerate(flat):
            if a.ndim == 0:
                raise InvalidArgumentError(
                    f"Dataset.from_tensor_slices: component {i} is a scalar; every component "
                    "needs a first dimension to slice")
            if n is None:
                n = a.shape[0]
            elif a.shape[0] != n:
                raise InvalidArgumentError(
                    f"Dataset.from_tensor_slices: expected all components to have the same "
                    f"first dimension, got {n} and {a.shape[0]} (component {i})")
        return _SlicesDataset(tensors, flat, np.arange(n))

    @staticmethod
    def from_tensors(tensors: Any, name: str | None = None) -> Dataset:
        """A dataset with a single element."""
        element = _element_numpy(tensors)
        return Dataset(lambda: iter([element]), 1)

    @staticmethod
    def range(*args: int, dtype: Any = np.int64, name: str | None = None) -> Dataset:
        r = range(*args)
        return Dataset(lambda: (np.asarray(i, dtype=dtype) for i in r), len(r))

    @staticmethod
    def from_generator(generator: Callable, output_types: Any = None, output_shapes: Any = None,
                       args: Any = None, output_signature: Any = None,
                       name: str | None = None) -> Dataset:
        """Elements produced by calling `generator(*args)` afresh for each iteration."""
        if not callable(generator):
            raise TypeError("Dataset.from_generator: `generator` must be callable (a function "
                            "returning an iterator), got " + type(generator).__name__)
        dtypes = None
        if output_signature is not None:
            dtypes = _dmap(lambda s: s.dtype.as_numpy_dtype, output_signature)
        elif output_types is not None:
            from ndflow.core.dtypes import as_dtype

            dtypes = _dmap(lambda d: as_dtype(d).as_numpy_dtype, output_types)

        def make() -> Iterator:
            for el in generator(*(args or ())):
                if dtypes is not None:
                    el = _dpack(el, [np.asarray(_to_numpy(v), dtype=d) for v, d in
                                     zip(_dflatten(el), _dflatten(dtypes))])
                else:
                    el = _element_numpy(el)
                yield el

        return Dataset(make)

    @staticmethod
    def zip(*datasets: Any, name: str | None = None) -> Dataset:
        """Elements are tuples (or the given structure) of the datasets' elements."""
        structure = datasets[0] if len(datasets) == 1 and not isinstance(datasets[0], Dataset) \
            else tuple(datasets)
        flat = _dflatten(structure)

        def make() -> Iterator:
            for els in zip(*[d._make_iter() for d in flat]):
                yield _dpack(structure, list(els))

        cards = [d._cardinality for d in flat]
        card = UNKNOWN if UNKNOWN in cards else min(c if c != INFINITE else 2**62 for c in cards)
        return Dataset(make, INFINITE if card == 2**62 else card)

    # --- iteration ------------------------------------------------------------------------------
    def __iter__(self) -> Iterator:
        for el in self._make_iter():
            yield _to_tensors(el)

    def as_numpy_iterator(self) -> Iterator:
        return iter(self._make_iter())

    def cardinality(self) -> Tensor:
        return Tensor(np.asarray(self._cardinality, np.int64))

    def __len__(self) -> int:
        if self._cardinality == INFINITE:
            raise TypeError("The dataset is infinite.")
        if self._cardinality == UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return self._cardinality

    def __bool__(self) -> bool:
        return True

    @property
    def element_spec(self) -> Any:
        from ndflow.graph.trace import TensorSpec

        first = next(iter(self._make_iter()))
        return _dmap(lambda a: TensorSpec(np.asarray(a).shape, np.asarray(a).dtype), first)

    # --- transformations -------------------------------------------------------------------------
    def map(self, map_func: Callable, num_parallel_calls: Any = None, deterministic: Any = None,
            name: str | None = None) -> Dataset:
        """Apply `map_func` to each element (tuples are unpacked into arguments, as in TF)."""
        def call(el: Any) -> Any:
            t = _to_tensors(el)
            out = map_func(*t) if isinstance(t, tuple) else map_func(t)
            return _element_numpy(out)

        src = self
        return Dataset(lambda: (call(el) for el in src._make_iter()), self._cardinality)

    def filter(self, predicate: Callable, name: str | None = None) -> Dataset:
        def keep(el: Any) -> bool:
            t = _to_tensors(el)
            r = predicate(*t) if isinstance(t, tuple) else predicate(t)
            return bool(np.asarray(_to_numpy(r)))

        src = self
        return Dataset(lambda: (el for el in src._make_iter() if keep(el)))

    def batch(self, batch_size: int, drop_remainder: bool = False,
              num_parallel_calls: Any = None, deterministic: Any = None,
              name: str | None = None) -> Dataset:
        """Stack consecutive elements into batches of `batch_size` (the last may be smaller)."""
        batch_size = int(batch_size)
        if batch_size <= 0:
            raise InvalidArgumentError(f"Dataset.batch: expected batch_size > 0, got {batch_size}")
        src = self

        def make() -> Iterator:
            it = src._make_iter()
            while True:
                chunk = list(itertools.islice(it, batch_size))
                if not chunk or (drop_remainder and len(chunk) < batch_size):
                    return
                yield _stack(chunk)

        return Dataset(make, _batched_card(self._cardinality, batch_size, drop_remainder))

    def unbatch(self, name: str | None = None) -> Dataset:
        src = self

        def make() -> Iterator:
            for el in src._make_iter():
                flat = _dflatten(el)
                for i in range(flat[0].shape[0]):
                    yield _dpack(el, [a[i] for a in flat])

        return Dataset(make)

    def padded_batch(self, batch_size: int, padded_shapes: Any = None, padding_values: Any = None,
                     drop_remainder: bool = False, name: str | None = None) -> Dataset:
        """Batch elements of different shapes, padding each component to the largest."""
        src = self

        def make() -> Iterator:
            it = src._make_iter()
            while True:
                chunk = list(itertools.islice(it, int(batch_size)))
                if not chunk or (drop_remainder and len(chunk) < batch_size):
                    return
                flats = [_dflatten(el) for el in chunk]
                pads = _dflatten(padding_values) if padding_values is not None else None
                out = []
                for j in range(len(flats[0])):
                    parts = [np.asarray(f[j]) for f in flats]
                    shape = np.max([p.shape for p in parts], axis=0) if parts[0].ndim else ()
                    value = 0 if pads is None else pads[j]
                    buf = np.full((len(parts),) + tuple(shape), value, dtype=parts[0].dtype)
                    for k, p in enumerate(parts):
                        buf[(k,) + tuple(slice(0, d) for d in p.shape)] = p
                    out.append(buf)
                yield _dpack(chunk[0], out)

        return Dataset(make, _batched_card(self._cardinality, int(batch_size), drop_remainder))

    def shuffle(self, buffer_size: int, seed: int | None = None,
                reshuffle_each_iteration: bool = True, name: str | None = None) -> Dataset:
        """Shuffle with a buffer of `buffer_size` elements (TF's semantics)."""
        if int(buffer_size) <= 0:
            raise InvalidArgumentError(
                f"Dataset.shuffle: expected buffer_size > 0, got {buffer_size}")
        src = self
        rngs = _RngSource(seed, reshuffle_each_iteration)

        def make() -> Iterator:
            rng = rngs.next()
            buf: list = []
            for el in src._make_iter():
                if len(buf) < buffer_size:
                    buf.append(el)
                    continue
                i = int(rng.integers(len(buf)))
                yield buf[i]
                buf[i] = el
            rng.shuffle(buf)
            yield from buf

        return Dataset(make, self._cardinality)

    def repeat(self, count: int | None = None, name: str | None = None) -> Dataset:
        src = self
        infinite = count is None or count < 0

        def make() -> Iterator:
            n = 0
            while infinite or n < count:
                yield from src._make_iter()
                n += 1

        card = INFINITE if infinite else (
            self._cardinality * count if self._cardinality >= 0 else self._cardinality)
        return Dataset(make, card)

    def take(self, count: int, name: str | None = None) -> Dataset:
        src = self
        count = int(count)
        card = self._cardinality
        if count >= 0:
            card = count if card in (INFINITE,) else (min(card, count) if card >= 0 else UNKNOWN)
        return Dataset(lambda: itertools.islice(src._make_iter(), count if count >= 0 else None),
                       card)

    def skip(self, count: int, name: str | None = None) -> Dataset:
        src = self
        card = self._cardinality if self._cardinality < 0 else max(self._cardinality - count, 0)
        return Dataset(lambda: itertools.islice(src._make_iter(), int(count), None), card)

    def prefetch(self, buffer_size: int, name: str | None = None) -> Dataset:
        """Accepted for compatibility: elements are produced on demand in this process."""
        return self

    def cache(self, filename: str = "", name: str | None = None) -> Dataset:
        src = self
        store: list = []
        done = [False]

        def make() -> Iterator:
            if done[0]:
                yield from store
                return
            store.clear()
            for el in src._make_iter():
                store.append(el)
                yield el
            done[0] = True

        return Dataset(make, self._cardinality)

    def enumerate(self, start: int = 0, name: str | None = None) -> Dataset:
        src = self
        return Dataset(lambda: ((np.asarray(i, np.int64), el) for i, el in
                                enumerate(src._make_iter(), start)), self._cardinality)

    def concatenate(self, dataset: Dataset, name: str | None = None) -> Dataset:
        a, b = self, dataset
        card = a._cardinality + b._cardinality if min(a._cardinality, b._cardinality) >= 0 \
            else UNKNOWN
        return Dataset(lambda: itertools.chain(a._make_iter(), b._make_iter()), card)

    def apply(self, transformation_func: Callable) -> Dataset:
        return transformation_func(self)

    def reduce(self, initial_state: Any, reduce_func: Callable) -> Any:
        state = initial_state
        for el in self:
            state = reduce_func(state, el)
        return state

    def __repr__(self) -> str:
        return f"<Dataset cardinality={self._cardinality}>"


class _RngSource:
    def __init__(self, seed: int | None, reshuffle: bool) -> None:
        from ndflow.ops.random import get_global_seed

        if seed is None and get_global_seed() is not None:
            seed = get_global_seed()
        self._seed_rng = np.random.default_rng(seed)
        self._reshuffle = reshuffle
        self._fixed = int(self._seed_rng.integers(2**62))

    def next(self) -> np.random.Generator:
        s = int(self._seed_rng.integers(2**62)) if self._reshuffle else self._fixed
        return np.random.default_rng(s)


def _stack(chunk: list) -> Any:
    flats = [_dflatten(el) for el in chunk]
    out = []
    for j in range(len(flats[0])):
        parts = [f[j] for f in flats]
        shapes = {np.shape(p) for p in parts}
        if len(shapes) > 1:
            raise InvalidArgumentError(
                f"Dataset.batch: cannot batch elements of different shapes {sorted(shapes)}; "
                "use padded_batch")
        stacked = np.stack(parts)
        out.append(stacked if stacked.dtype.kind not in "US" else to_bytes_array(parts))
    return _dpack(chunk[0], out)


def _batched_card(card: int, batch: int, drop: bool) -> int:
    if card < 0:
        return card
    return card // batch if drop else -(-card // batch)


class _SlicesDataset(Dataset):
    """`from_tensor_slices`, keeping an index order so that shuffle and batch stay vectorised."""

    def __init__(self, structure: Any, flat: list, order: np.ndarray,
                 shuffle: _RngSource | None = None) -> None:
        self._structure = structure
        self._flat = flat
        self._order = order
        self._shuffle = shuffle
        super().__init__(self._iter_elements, len(order))

    def _indices(self) -> np.ndarray:
        if self._shuffle is None:
            return self._order
        return self._order[self._shuffle.next().permutation(len(self._order))]

    def _pack(self, arrays: list) -> Any:
        return _dpack(self._structure, arrays)

    def _iter_elements(self) -> Iterator:
        for i in self._indices():
            yield self._pack([a[i] for a in self._flat])

    def shuffle(self, buffer_size: int, seed: int | None = None,
                reshuffle_each_iteration: bool = True, name: str | None = None) -> Dataset:
        if int(buffer_size) >= len(self._order) and self._shuffle is None:
            return _SlicesDataset(self._structure, self._flat, self._order,
                                  _RngSource(seed, reshuffle_each_iteration))
        return Dataset.shuffle(self, buffer_size, seed, reshuffle_each_iteration)

    def batch(self, batch_size: int, drop_remainder: bool = False,
              num_parallel_calls: Any = None, deterministic: Any = None,
              name: str | None = None) -> Dataset:
        batch_size = int(batch_size)
        if batch_size <= 0:
            raise InvalidArgumentError(f"Dataset.batch: expected batch_size > 0, got {batch_size}")
        src = self

        def make() -> Iterator:
            idx = src._indices()
            contiguous = src._shuffle is None and np.array_equal(idx, np.arange(len(idx)))
            n = len(idx)
            stop = n - n % batch_size if drop_remainder else n
            for s in range(0, stop, batch_size):
                if contiguous:
                    yield src._pack([a[s:s + batch_size] for a in src._flat])
                else:
                    sel = idx[s:s + batch_size]
                    yield src._pack([a[sel] for a in src._flat])

        return Dataset(make, _batched_card(len(self._order), batch_size, drop_remainder))

    def take(self, count: int, name: str | None = None) -> Dataset:
        if self._shuffle is None and count >= 0:
            return _SlicesDataset(self._structure, self._flat, self._order[:count])
        return Dataset.take(self, count)

    def skip(self, count: int, name: str | None = None) -> Dataset:
        if self._shuffle is None:
            return _SlicesDataset(self._structure, self._flat, self._order[count:])
        return Dataset.skip(self, count)
