"""Small helpers: nested structures, unique layer names, shape tuples."""
from __future__ import annotations

import collections
import re

_NAME_COUNTS = collections.defaultdict(int)


def to_snake_case(name: str) -> str:
    """``Conv2D`` -> ``conv2d``, ``BatchNormalization`` -> ``batch_normalization`` (Keras's)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return name


def unique_name(prefix: str) -> str:
    """``dense``, ``dense_1``, ``dense_2``, ... per prefix, for the whole session."""
    count = _NAME_COUNTS[prefix]
    _NAME_COUNTS[prefix] += 1
    return prefix if count == 0 else f"{prefix}_{count}"


def set_random_seed(seed) -> None:
    """Seeds Python's ``random``, NumPy and the engine (``keras.utils.set_random_seed``)."""
    from ..config import set_random_seed as seed_all

    seed_all(seed)


def __getattr__(name):
    # PyDataset lives in data.py, which imports this module.
    if name == "PyDataset":
        from ..data import PyDataset

        return PyDataset
    if name == "Progbar":
        from ..progbar import Progbar

        return Progbar
    raise AttributeError(f"module 'kerasish.utils' has no attribute {name!r}")


def clear_session() -> None:
    """Resets the name counters (Keras's ``keras.backend.clear_session``)."""
    _NAME_COUNTS.clear()


def is_nested(x) -> bool:
    return isinstance(x, (list, tuple, dict))


def flatten(x):
    """Leaves of nested lists, tuples and dicts (dict values in key order, as Keras's tree)."""
    out, stack = [], [x]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item[k] for k in reversed(sorted(item)))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def map_structure(fn, x):
    if isinstance(x, dict):
        return {k: map_structure(fn, v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(map_structure(fn, v) for v in x)
    return fn(x)


def pack_like(structure, flat):
    """Inverse of ``flatten``: ``flat`` leaves put back in ``structure``'s shape."""
    it = iter(flat)

    def pack(s):
        if isinstance(s, dict):
            return {k: pack(s[k]) for k in sorted(s)}
        if isinstance(s, (list, tuple)):
            return type(s)(pack(v) for v in s)
        return next(it)

    return pack(structure)


def is_shape(x) -> bool:
    """A shape tuple: ints and Nones only."""
    return isinstance(x, tuple) and all(d is None or isinstance(d, int) for d in x)


def map_shapes(fn, x):
    """``map_structure`` whose leaves are shape tuples."""
    if is_shape(x):
        return fn(x)
    if isinstance(x, dict):
        return {k: map_shapes(fn, v) for k, v in x.items()}
    return type(x)(map_shapes(fn, v) for v in x)


def standardize_tuple(value, n, name):
    if isinstance(value, int):
        return (value,) * n
    try:
        value = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be an int or a tuple of {n} ints. "
                         f"Received: {name}={value}")
    if len(value) != n:
        raise ValueError(f"`{name}` must be an int or a tuple of {n} ints. "
                         f"Received: {name}={value}")
    return value
