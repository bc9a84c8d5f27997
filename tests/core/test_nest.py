"""`ndflow.util.nest`: nested structures as tf.nest sees them."""

from __future__ import annotations

import collections

import pytest

from ndflow.util import nest

Point = collections.namedtuple("Point", ["x", "y"])


def test_flatten_order_and_leaves():
    s = {"b": [1, (2, 3)], "a": Point(4, {"z": 5, "y": 6}), "c": None}
    assert nest.flatten(s) == [4, 6, 5, 1, 2, 3, None]
    assert nest.flatten(7) == [7] and nest.flatten("str") == ["str"]
    assert nest.flatten([]) == [] and nest.flatten({}) == []


def test_pack_sequence_as_round_trips_types():
    s = {"b": [1, (2, 3)], "a": Point(4, {"z": 5, "y": 6})}
    packed = nest.pack_sequence_as(s, list(range(10, 16)))
    assert packed == {"a": Point(10, {"y": 11, "z": 12}), "b": [13, (14, 15)]}
    assert isinstance(packed["a"], Point) and isinstance(packed["b"][1], tuple)
    assert list(packed) == ["b", "a"]  # the template's key order is kept
    od = collections.OrderedDict([("k", 1), ("j", 2)])
    assert nest.pack_sequence_as(od, [5, 6]) == collections.OrderedDict([("k", 6), ("j", 5)])
    with pytest.raises(ValueError, match="3 leaves but 2"):
        nest.pack_sequence_as([1, [2, 3]], [1, 2])


def test_map_structure():
    assert nest.map_structure(lambda a, b: a + b, (1, [2]), (10, [20])) == (11, [22])
    assert nest.map_structure(lambda v: v * 2, {"a": 1, "b": (2,)}) == {"a": 2, "b": (4,)}
    with pytest.raises(ValueError, match="same number of leaves"):
        nest.map_structure(lambda a, b: a, [1, 2], [1])
    with pytest.raises(ValueError, match="at least one"):
        nest.map_structure(lambda: 0)


def test_is_nested_and_assert_same_structure():
    assert nest.is_nested([1]) and nest.is_nested({}) and not nest.is_nested(1)
    nest.assert_same_structure([1, (2,)], [3, (4,)])
    nest.assert_same_structure({"a": 1, "b": [2]}, {"b": [5], "a": None})
    with pytest.raises(ValueError, match="number of elements"):
        nest.assert_same_structure([1, 2], [1])
    with pytest.raises(ValueError, match="nested structure"):
        nest.assert_same_structure([1, [2]], [[1], 2])
    with pytest.raises(ValueError, match="keys"):
        nest.assert_same_structure({"a": 1}, {"b": 1})
    with pytest.raises(TypeError, match="sequence type"):
        nest.assert_same_structure([1, 2], (1, 2))
    nest.assert_same_structure([1, 2], (1, 2), check_types=False)
