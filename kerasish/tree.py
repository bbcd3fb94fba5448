"""Nested structures (``keras.tree``): lists, tuples, namedtuples, deques and dicts of leaves.

Keras's conventions: a dict's values go in sorted key order (an ``OrderedDict`` keeps its own
order), ``None`` is a leaf, strings and arrays are leaves, and a rebuilt dict keeps the key order
of the structure it was rebuilt from.

>>> flatten({"b": [1, (2, None)], "a": 3})
[3, 1, 2, None]
"""
from __future__ import annotations

import collections
import warnings


class MAP_TO_NONE:
    """Special value for use with :func:`traverse`: replaces a sub-tree with ``None``."""


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def is_nested(structure) -> bool:
    """True for a list, tuple, namedtuple, deque or dict; False for a leaf.

    >>> is_nested({"foo": 42}), is_nested(42)
    (True, False)
    """
    return isinstance(structure, (list, tuple, dict, collections.deque))


def _sorted_keys(d):
    if isinstance(d, collections.OrderedDict):
        return list(d)
    try:
        return sorted(d)
    except TypeError:  # mixed key types: group by type name, as optree does
        return sorted(d, key=lambda k: (type(k).__name__, k))


def _children(structure, none_is_leaf=True):
    """``(keys, values)`` of a nested structure in flattening order, or None for a leaf."""
    if structure is None and not none_is_leaf:
        return [], []
    if isinstance(structure, dict):
        keys = _sorted_keys(structure)
        return keys, [structure[k] for k in keys]
    if is_nested(structure):
        return list(range(len(structure))), list(structure)
    return None


def _rebuild(structure, keys, values):
    """A structure of ``structure``'s kind whose children (``keys`` order) are ``values``."""
    if structure is None:
        return None
    if isinstance(structure, dict):
        by_key = dict(zip(keys, values))
        if isinstance(structure, collections.defaultdict):
            out = collections.defaultdict(structure.default_factory)
            out.update((k, by_key[k]) for k in structure)
            return out
        return type(structure)((k, by_key[k]) for k in structure)
    if _is_namedtuple(structure):
        return type(structure)(*values)
    if isinstance(structure, collections.deque):
        return collections.deque(values, maxlen=structure.maxlen)
    return type(structure)(values)


def _flatten(structure, none_is_leaf=True, path=()):
    out, stack = [], [(path, structure)]
    while stack:
        p, item = stack.pop()
        parts = _children(item, none_is_leaf)
        if parts is None:
            out.append((p, item))
        else:
            stack.extend(reversed([(p + (k,), v) for k, v in zip(*parts)]))
    return out


def flatten(structure) -> list:
    """The leaves of ``structure``, depth first (dict values in sorted key order).

    >>> flatten([[1, 2, 3], [4, [5], [[6]]]])
    [1, 2, 3, 4, 5, 6]
    """
    return [leaf for _, leaf in _flatten(structure)]


def flatten_with_path(structure) -> list:
    """``(path, leaf)`` pairs, a path being the tuple of indices and keys down to the leaf.

    >>> flatten_with_path([{"foo": 42}])
    [((0, 'foo'), 42)]
    """
    return _flatten(structure)


def _check_same(a, b, what="Structures don't have the same nested structure."):
    """Raises ValueError unless ``a`` and ``b`` have the same kind of node at every level."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        cx, cy = _children(x), _children(y)
        if cx is None and cy is None:
            continue
        if cx is None or cy is None or not _same_kind(x, y) or list(cx[0]) != list(cy[0]):
            raise ValueError(f"{what} Received: a={x!r} (of type {type(x).__name__}), "
                             f"b={y!r} (of type {type(y).__name__})")
        stack.extend(zip(cx[1], cy[1]))


def _same_kind(x, y) -> bool:
    if isinstance(x, dict) and isinstance(y, dict):
        return True  # dict, OrderedDict and defaultdict match when their keys do
    return type(x) is type(y)


def map_structure(func, *structures, none_is_leaf=True):
    """Applies ``func`` to the leaves of ``structures`` (all of one layout); same layout out.

    Args:
        func: A callable taking as many arguments as there are structures.
        *structures: Nested structures of the same layout.
        none_is_leaf: If False, ``None`` leaves are returned as ``None`` without calling
            ``func``.

    >>> map_structure(lambda v: v ** 2, [[1], [2], [3]])
    [[1], [4], [9]]
    """
    if not callable(func):
        raise TypeError(f"`func` must be callable. Received: func={func!r}")
    if not structures:
        raise ValueError("Must provide at least one structure")
    for other in structures[1:]:
        _check_same(structures[0], other)
    return _map(func, structures, none_is_leaf)


def _map(func, structures, none_is_leaf):
    first = structures[0]
    if first is None and not none_is_leaf:
        return None
    parts = _children(first)
    if parts is None:
        return func(*structures)
    keys = parts[0]
    columns = [_children(s)[1] for s in structures]
    values = [_map(func, [col[i] for col in columns], none_is_leaf) for i in range(len(keys))]
    return _rebuild(first, keys, values)


def map_structure_up_to(shallow_structure, func, *structures):
    """``map_structure`` down to the leaves of ``shallow_structure`` only: deeper parts of
    ``structures`` are passed to ``func`` whole.

    >>> map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]])
    ['[1, 1]', ['2', '2']]
    """
    if not callable(func):
        raise TypeError(f"`func` must be callable. Received: func={func!r}")
    if not structures:
        raise ValueError("Must provide at least one structure")

    def walk(shallow, items):
        parts = _children(shallow)
        if parts is None:
            return func(*items)
        keys = parts[0]
        columns = []
        for s in items:
            cs = _children(s)
            if cs is None or not _same_kind(shallow, s) or list(cs[0]) != list(keys):
                raise ValueError(
                    "The structures don't have the same nested structure as "
                    f"`shallow_structure` at this level. Received: shallow={shallow!r}, "
                    f"structure={s!r}")
            columns.append(cs[1])
        values = [walk(v, [col[i] for col in columns]) for i, v in enumerate(parts[1])]
        return _rebuild(shallow, keys, values)

    return walk(shallow_structure, structures)


def assert_same_structure(a, b, check_types=None):
    """Raises ValueError unless ``a`` and ``b`` are nested the same way (same node types at each
    level: list, tuple and each namedtuple differ; dict kinds match on their keys).

    >>> assert_same_structure([(0, 1)], [(2, 3)])
    """
    if check_types is not None:
        warnings.warn("The `check_types` argument is deprecated and no longer has any effect, "
                      "please remove. For a looser check, use `keras.tree.assert_same_paths()`.",
                      DeprecationWarning, stacklevel=2)
    _check_same(a, b, "The two structures don't have the same nested structure.")


def assert_same_paths(a, b):
    """Raises ValueError unless ``a`` and ``b`` have the same leaf paths (node types ignored).

    >>> assert_same_paths([0, 1], (2, 3))
    """
    a_paths = {p for p, _ in _flatten(a)}
    b_paths = {p for p, _ in _flatten(b)}
    if a_paths != b_paths:
        msg = "`a` and `b` don't have the same paths."
        if a_paths - b_paths:
            msg += f"\nPaths in `a` missing in `b`:\n{a_paths - b_paths}"
        if b_paths - a_paths:
            msg += f"\nPaths in `b` missing in `a`:\n{b_paths - a_paths}"
        raise ValueError(msg)


def pack_sequence_as(structure, flat_sequence):
    """``flat_sequence``'s items put back into ``structure``'s layout (inverse of flatten).

    >>> pack_sequence_as((("a", "b"), "c"), [1, 2, 3])
    ((1, 2), 3)
    """
    flat = list(flat_sequence)
    expected = len(_flatten(structure))
    if len(flat) != expected:
        raise ValueError(
            f"Too {'few' if len(flat) < expected else 'many'} leaves to pack into the "
            f"structure: expected {expected}. Received: len(flat_sequence)={len(flat)}")
    it = iter(flat)

    def pack(s):
        parts = _children(s)
        if parts is None:
            return next(it)
        return _rebuild(s, parts[0], [pack(v) for v in parts[1]])

    return pack(structure)


def lists_to_tuples(structure):
    """``structure`` with every list turned into a tuple.

    >>> lists_to_tuples([1, [2, {"a": [3]}]])
    (1, (2, {'a': (3,)}))
    """
    parts = _children(structure)
    if parts is None:
        return structure
    values = [lists_to_tuples(v) for v in parts[1]]
    if isinstance(structure, list):
        return tuple(values)
    return _rebuild(structure, parts[0], values)


def _is_shape(x) -> bool:
    return isinstance(x, (list, tuple)) and all(e is None or isinstance(e, int) for e in x)


def map_shape_structure(func, structure):
    """``map_structure`` whose leaves are shapes: lists or tuples of ints and Nones.

    >>> map_shape_structure(len, {"a": (None, 3), "b": [(1, 2), (4,)]})
    {'a': 2, 'b': [2, 1]}
    """
    if _is_shape(structure):
        return func(structure)
    parts = _children(structure)
    if parts is None:
        return func(structure)
    return _rebuild(structure, parts[0], [map_shape_structure(func, v) for v in parts[1]])


def traverse(func, structure, top_down=True):
    """Applies ``func`` to every sub-tree of ``structure``, depth first.

    Top-down, a non-None ``func(subtree)`` replaces the sub-tree and stops the descent; bottom-up,
    children are traversed first and a non-None result replaces the (traversed) sub-tree.
    ``MAP_TO_NONE`` as a result stands for ``None``.

    >>> visited = []
    >>> traverse(visited.append, [(1, 2), [3]])
    [(1, 2), [3]]
    >>> visited
    [[(1, 2), [3]], (1, 2), 1, 2, [3], 3]
    """
    if not callable(func):
        raise TypeError(f"`func` must be callable. Received: func={func!r}")

    def children_traversed(s):
        parts = _children(s)
        if parts is None:
            return s
        return _rebuild(s, parts[0], [visit(v) for v in parts[1]])

    def visit(s):
        if top_down:
            result = func(s)
            if result is None:
                return children_traversed(s)
        else:
            s = children_traversed(s)
            result = func(s)
            if result is None:
                return s
        return None if result is MAP_TO_NONE else result

    return visit(structure)


__all__ = ["MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten",
           "flatten_with_path", "is_nested", "lists_to_tuples", "map_shape_structure",
           "map_structure", "map_structure_up_to", "pack_sequence_as", "traverse"]
