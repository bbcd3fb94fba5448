"""keras.tree: the expected values are Keras 3.15's answers to the same calls."""
import collections

import numpy as np
import pytest

from kerasish import tree

P = collections.namedtuple("P", ["x", "y"])


def _structure():
    return {"b": [1, (2, None)], "a": P(3, 4),
            "c": collections.OrderedDict([("z", 5), ("y", 6)])}


def test_flatten_sorts_dict_keys_keeps_ordereddict_order_and_none():
    assert tree.flatten(_structure()) == [3, 4, 1, 2, None, 5, 6]
    assert tree.flatten(None) == [None] and tree.flatten(1) == [1]
    assert tree.flatten({100: "world!", 6: "Hello"}) == ["Hello", "world!"]
    assert tree.flatten([]) == [] and tree.flatten({}) == [] and tree.flatten([[]]) == []
    array = np.zeros(3)
    assert tree.flatten(array)[0] is array and tree.flatten("ab") == ["ab"]


def test_flatten_with_path_uses_indices_and_keys():
    assert tree.flatten_with_path(_structure()) == [
        (("a", 0), 3), (("a", 1), 4), (("b", 0), 1), (("b", 1, 0), 2), (("b", 1, 1), None),
        (("c", "z"), 5), (("c", "y"), 6)]
    assert tree.flatten_with_path(5) == [((), 5)]
    assert tree.flatten_with_path({"b": {"c": 1}, "a": [None]}) == [
        (("a", 0), None), (("b", "c"), 1)]


def test_is_nested():
    assert [tree.is_nested(x) for x in (None, "ab", collections.deque([1]), P(1, 2), {1},
                                        np.zeros(2), [], {})] == [
        False, False, True, True, False, False, True, True]


def test_map_structure_keeps_types_and_key_order():
    out = tree.map_structure(lambda v: v, _structure())
    assert out == _structure() and list(out) == ["b", "a", "c"]
    assert isinstance(out["a"], P) and isinstance(out["c"], collections.OrderedDict)
    assert tree.map_structure(lambda v: 0, _structure(), none_is_leaf=False)["b"] == [
        0, (0, None)]
    assert tree.map_structure(lambda a, b: a * b, [[1], [2]], [[3], [4]]) == [[3], [8]]
    dd = tree.map_structure(lambda x: x + 1, collections.defaultdict(list, {"b": 1, "a": 2}))
    assert isinstance(dd, collections.defaultdict) and dd == {"b": 2, "a": 3}
    assert dd.default_factory is list
    assert tree.map_structure(lambda x, y: x + y, 1, 2) == 3


@pytest.mark.parametrize("a, b", [([1, 2], [1, [2]]), ([1, 2], (1, 2)), ({"a": 1}, {"b": 1})])
def test_map_structure_refuses_different_structures(a, b):
    with pytest.raises(ValueError, match="same nested structure"):
        tree.map_structure(lambda x, y: x, a, b)


def test_map_structure_argument_errors():
    with pytest.raises(ValueError, match="at least one structure"):
        tree.map_structure(lambda x: x)
    with pytest.raises(TypeError, match="callable"):
        tree.map_structure(5, [1])


def test_map_structure_up_to():
    assert tree.map_structure_up_to([None, None], len, [[1, 1], [2, 2]]) == [2, 2]
    assert tree.map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]]) == [
        "[1, 1]", ["2", "2"]]
    assert tree.map_structure_up_to({"a": None}, lambda a, b: (a, b), {"a": [1]},
                                    {"a": [2, 3]}) == {"a": ([1], [2, 3])}
    assert tree.map_structure_up_to(1, lambda x: x, [1, 2]) == [1, 2]
    for shallow, deep in (([None, [None, None]], [[1, 1], 2]), ([1, 2], [1, 2, 3]),
                          ([None, None], ([1, 1], 2))):
        with pytest.raises(ValueError):
            tree.map_structure_up_to(shallow, str, deep)


def test_assert_same_structure_and_paths():
    tree.assert_same_structure([(0, 1)], [(2, 3)])
    tree.assert_same_structure({"a": 1}, collections.OrderedDict(a=2))
    tree.assert_same_structure([1, None], [1, 2])
    tree.assert_same_structure(P(1, 2), P(3, 4))
    also_p = collections.namedtuple("P", ["x", "y"])
    for a, b in (([1, 2], (1, 2)), ([1, [2]], [1, 2]), (P(1, 2), also_p(3, 4))):
        with pytest.raises(ValueError, match="same nested structure"):
            tree.assert_same_structure(a, b)
    with pytest.warns(DeprecationWarning):
        tree.assert_same_structure([1], [2], check_types=True)
    tree.assert_same_paths([0, 1], (2, 3))
    tree.assert_same_paths(P(0, 1), also_p(2, 3))
    with pytest.raises(ValueError, match=r"Paths in `b` missing in `a`:\n\{\(2,\)\}"):
        tree.assert_same_paths([1, 2], [1, 2, 3])


def test_pack_sequence_as():
    structure = {"key3": {"c": ("alpha", "beta"), "a": "gamma"},
                 "key1": {"e": "val1", "d": "val2"}}
    packed = tree.pack_sequence_as(structure, ["val2", "val1", 3.0, 1.0, 2.0])
    assert packed == {"key3": {"c": (1.0, 2.0), "a": 3.0}, "key1": {"e": "val1", "d": "val2"}}
    assert list(packed) == ["key3", "key1"]
    assert tree.pack_sequence_as((("a", "b"), ("c", "d", "e"), "f"), range(1, 7)) == (
        (1, 2), (3, 4, 5), 6)
    assert tree.pack_sequence_as(None, [5]) == 5 and tree.pack_sequence_as([], []) == []
    assert tree.pack_sequence_as(collections.deque([1, 2], maxlen=3), [5, 6]).maxlen == 3
    for structure, flat in (([1, 2], [1]), (1, [1, 2]), ([1, [2]], [5, 6, 7])):
        with pytest.raises(ValueError, match="leaves"):
            tree.pack_sequence_as(structure, flat)


def test_lists_to_tuples_and_map_shape_structure():
    assert tree.lists_to_tuples([1, [2, {"a": [3]}]]) == (1, (2, {"a": (3,)}))
    assert tree.lists_to_tuples(P([1], 2)) == P((1,), 2)
    shapes = {"a": (None, 3), "b": [(1, 2), (4,)], "c": ()}
    assert tree.map_shape_structure(len, shapes) == {"a": 2, "b": [2, 1], "c": 0}
    assert tree.map_shape_structure(lambda s: s, [[1, 2], (3, None), [None]]) == [
        [1, 2], (3, None), [None]]


def test_traverse_top_down_and_bottom_up():
    visited = []
    structure = [(1, 2), [3], {"a": 4}]
    assert tree.traverse(visited.append, structure) == structure
    assert visited == [structure, (1, 2), 1, 2, [3], 3, {"a": 4}, 4]
    visited = []
    tree.traverse(visited.append, structure, top_down=False)
    assert visited == [1, 2, (1, 2), 3, [3], 4, {"a": 4}, structure]
    assert tree.traverse(lambda x: tree.MAP_TO_NONE if x == 2 else None, [(1, 2), [3]]) == [
        (1, None), [3]]
    assert tree.traverse(lambda x: x * 10 if isinstance(x, int) else None, [(1, 2), [3]],
                         top_down=False) == [(10, 20), [30]]
    assert tree.traverse(lambda x: "T" if isinstance(x, tuple) else None, [(1, 2), [3]]) == [
        "T", [3]]
    assert tree.traverse(lambda x: None, 5) == 5
    assert tree.traverse(lambda x: tree.MAP_TO_NONE, 5) is None
    with pytest.raises(TypeError, match="callable"):
        tree.traverse(5, 5)
