"""Nested structures (lists, tuples, namedtuples, dicts) as TensorFlow's `tf.nest` sees them.

>>> from ndflow.util import nest
>>> nest.flatten({"b": [1, 2], "a": 3})
[3, 1, 2]
>>> nest.map_structure(lambda v: v * 10, (1, [2]))
(10, [20])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


_PLAIN = (list, tuple, dict)
_LEAF_TYPES = frozenset((int, float, bool, str, bytes, type(None)))


def is_nested(x: Any) -> bool:
    t = type(x)
    if t in _PLAIN:  # the common cases first: the ABC check below is slow
        return True
    if t in _LEAF_TYPES:
        return False
    return isinstance(x, (list, tuple, Mapping))


def _children(x: Any) -> list:
    if type(x) is dict or isinstance(x, Mapping):
        return [x[k] for k in sorted(x)]
    return list(x)


def flatten(structure: Any) -> list:
    """All leaves, depth first; dict values in sorted key order."""
    if not is_nested(structure):
        return [structure]
    out: list = []
    stack = [structure]
    while stack:
        s = stack.pop()
        if is_nested(s):
            stack.extend(reversed(_children(s)))
        else:
            out.append(s)
    return out


def structure_key(structure: Any) -> Any:
    """A hashable description of `structure` without its leaves: equal for two structures
    exactly when `pack_sequence_as` would rebuild them alike (container types, lengths, dict
    keys).

    >>> structure_key(([1, 2], {"a": 3})) == structure_key(([5, 6], {"a": 7}))
    True
    >>> structure_key([1, 2]) == structure_key((1, 2))
    False
    """
    t = type(structure)
    if t is list or t is tuple:
        return t, tuple([structure_key(c) for c in structure])
    if not is_nested(structure):
        return None
    if isinstance(structure, Mapping):
        keys = sorted(structure)
        return t, tuple(keys), tuple([structure_key(structure[k]) for k in keys])
    return t, tuple([structure_key(c) for c in structure])


def _rebuild(template: Any, it: Any) -> Any:
    t = type(template)
    if t is list:
        return [_rebuild(c, it) for c in template]
    if t is tuple:
        return tuple(_rebuild(c, it) for c in template)
    if not is_nested(template):
        return next(it)
    if isinstance(template, Mapping):
        values = {k: _rebuild(template[k], it) for k in sorted(template)}
        return type(template)((k, values[k]) for k in template) if not isinstance(
            template, dict) else {k: values[k] for k in template}
    items = [_rebuild(c, it) for c in template]
    if _is_namedtuple(template):
        return type(template)(*items)
    return type(template)(items)


def pack_sequence_as(structure: Any, flat_sequence: list) -> Any:
    """Inverse of `flatten`: the leaves of `flat_sequence` in the shape of `structure`."""
    flat_sequence = list(flat_sequence)
    it = iter(flat_sequence)
    try:
        out = _rebuild(structure, it)
        complete = next(it, _END) is _END
    except StopIteration:
        complete = False
    if not complete:
        raise ValueError(
            f"pack_sequence_as: the structure has {len(flatten(structure))} leaves but "
            f"{len(flat_sequence)} values were given"
        )
    return out


_END = object()


def map_structure(func: Callable, *structures: Any) -> Any:
    """Apply `func` to corresponding leaves of one or more same-shaped structures."""
    if not structures:
        raise ValueError("map_structure: at least one structure is required")
    flats = [flatten(s) for s in structures]
    n = len(flats[0])
    for f in flats[1:]:
        if len(f) != n:
            raise ValueError("map_structure: the structures do not have the same number of leaves")
    return pack_sequence_as(structures[0], [func(*xs) for xs in zip(*flats)])


def assert_same_structure(a: Any, b: Any, check_types: bool = True) -> None:
    """Raise unless `a` and `b` nest the same way (ValueError), with the same sequence types
    when `check_types` (TypeError); leaves may differ.

    >>> assert_same_structure([1, (2, 3)], ["a", ("b", "c")])
    """
    if is_nested(a) != is_nested(b):
        raise ValueError(f"The two structures don't have the same nested structure: {a!r} and "
                         f"{b!r}")
    if not is_nested(a):
        return
    if check_types and type(a) is not type(b) and not (
            isinstance(a, Mapping) and isinstance(b, Mapping)):
        raise TypeError(f"The two structures don't have the same sequence type: "
                        f"{type(a).__name__} and {type(b).__name__}")
    if isinstance(a, Mapping) != isinstance(b, Mapping):
        raise ValueError(f"The two structures don't have the same nested structure: {a!r} and "
                         f"{b!r}")
    if isinstance(a, Mapping) and sorted(a) != sorted(b):
        raise ValueError(f"The two dictionaries don't have the same keys: {sorted(a)} and "
                         f"{sorted(b)}")
    ca, cb = _children(a), _children(b)
    if len(ca) != len(cb):
        raise ValueError(f"The two structures don't have the same number of elements: "
                         f"{len(ca)} and {len(cb)}")
    for x, y in zip(ca, cb):
        assert_same_structure(x, y, check_types)
