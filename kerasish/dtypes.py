"""Keras 3's dtype rules: names, and the promotion lattice that picks an op's result dtype.

Keras promotes types on a lattice adapted from JAX's, not with NumPy's rules: ``int8`` with
``uint8`` gives ``int16``, an integer with ``float16`` gives ``float16``, and Python scalars are
*weak*: ``int`` or ``float`` next to a tensor take the tensor's type when they can.

NOTE: Keras on JAX, NumPy and PyTorch then narrows 64-bit results to 32 bits (JAX's default
without x64). kerasish keeps ``float64``/``int64`` as Keras on TensorFlow does: its arrays are
NumPy's, and gradients are checked in float64.
"""
from __future__ import annotations

import functools

import numpy as np

from . import config

BOOL_TYPES = ("bool",)
INT_TYPES = ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64")
FLOAT_TYPES = ("bfloat16", "float16", "float32", "float64")
WEAK_TYPES = ("int", "float")
COMPLEX_TYPES = ("complex64", "complex128")
FLOAT8_TYPES = ("float8_e4m3fn", "float8_e5m2")
ALLOWED_DTYPES = (
    "float16", "float32", "float64", "uint8", "uint16", "uint32", "uint64", "int8", "int16",
    "int32", "int64", "bfloat16", "bool", "string", "float8_e4m3fn", "float8_e5m2",
    "complex64", "complex128",
)
# Keras's names for Python types (its JAX/NumPy/PyTorch backends' choice for int).
PYTHON_DTYPES_MAP = {bool: "bool", int: "int32", float: "float32", str: "string",
                     "int": "int32", complex: "complex64"}

# Each type's immediate successors on the lattice; "int"/"float" are the weak Python types.
_LATTICE = {
    "bool": ["int"],
    "uint8": ["int16", "uint16"], "uint16": ["int32", "uint32"], "uint32": ["int64", "uint64"],
    "uint64": ["float"],
    "int": ["uint8", "int8", "complex64"],
    "int8": ["int16"], "int16": ["int32"], "int32": ["int64"], "int64": ["float"],
    "float": ["bfloat16", "float16"],
    "bfloat16": ["float32"], "float16": ["float32"], "float32": ["float64", "complex64"],
    "float64": ["complex128"], "complex64": ["complex128"], "complex128": [],
}


def _upper_bounds():
    """Every type's set of types at or above it on the lattice (its transitive closure)."""
    bounds = {}
    for node in _LATTICE:
        seen, todo = {node}, [node]
        while todo:
            for up in _LATTICE[todo.pop()]:
                if up not in seen:
                    seen.add(up)
                    todo.append(up)
        bounds[node] = seen
    return bounds


_UPPER = _upper_bounds()


def standardize_dtype(dtype=None) -> str:
    """Keras's name for ``dtype``: a string such as ``"float32"``; None means ``floatx()``.

    Accepts strings, NumPy dtypes and types, Python ``bool``/``int``/``float``, and anything
    with a ``.dtype``-like ``name``.

    >>> standardize_dtype(np.float64), standardize_dtype(int)
    ('float64', 'int32')
    """
    if dtype is None:
        return config.floatx()
    dtype = PYTHON_DTYPES_MAP.get(dtype, dtype)
    if hasattr(dtype, "name"):
        dtype = dtype.name
    elif hasattr(dtype, "__name__"):
        dtype = dtype.__name__
    if dtype not in ALLOWED_DTYPES:
        try:
            dtype = np.dtype(dtype).name
        except TypeError:
            pass
    if dtype not in ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype}")
    return dtype


def is_float_dtype(dtype) -> bool:
    """Whether ``dtype`` is a floating type (float8/16/32/64 or bfloat16)."""
    dtype = standardize_dtype(dtype)
    return dtype.startswith("float") or dtype.startswith("bfloat")


def is_int_dtype(dtype) -> bool:
    """Whether ``dtype`` is a signed or unsigned integer type."""
    dtype = standardize_dtype(dtype)
    return dtype.startswith("int") or dtype.startswith("uint")


@functools.lru_cache(512)
def _least_upper_bound(*nodes):
    nodes = set(nodes)
    for n in nodes:
        if n not in _UPPER:
            raise ValueError(f"dtype={n!r} is not a valid dtype for Keras type promotion.")
    common = set.intersection(*(_UPPER[n] for n in nodes))
    least = (common & nodes) or {c for c in common if common <= _UPPER[c]}
    if len(least) != 1:
        raise ValueError(
            f"Input dtypes {tuple(sorted(nodes))} have no available implicit dtype promotion "
            "path. Try explicitly casting inputs to the desired output type."
        )
    return least.pop()


def _weak(dtype):
    """The weak (Python scalar) node standing for ``dtype``."""
    if dtype == "bool":
        return dtype
    for kind in ("float", "int", "complex"):
        if kind in dtype:
            return "complex64" if kind == "complex" else kind
    raise ValueError(f"Invalid value for argument `dtype`. Received: dtype={dtype}")


def _resolve_weak(dtype):
    """A weak result becomes a concrete type at ``floatx()``'s precision."""
    bits = config.floatx()[-2:]
    kind = "f" if dtype == "bfloat16" else dtype[:1]
    return {"b": "bool", "i": f"int{bits}", "u": f"uint{bits}"}.get(kind, f"float{bits}")


def result_type(*dtypes) -> str:
    """The dtype Keras's type promotion gives for ``dtypes`` (strings, dtypes or Python types).

    Python ``int``/``float`` (the types, standing for scalars) are weak: they take the other
    operands' type where it is of the same kind. None stands for ``floatx()``.

    >>> result_type("int8", "uint8"), result_type("int32", float), result_type("float16", int)
    ('int16', 'float32', 'float16')
    """
    if not dtypes:
        return config.floatx()
    for d in dtypes:
        if isinstance(d, str) and d in FLOAT8_TYPES:
            raise ValueError("There is no implicit conversions from float8 dtypes to others. "
                             f"You must cast it internally. Received: {dtypes}")
    pairs = [(standardize_dtype(config.floatx() if d is None else d),
              d is int or d is float) for d in dtypes]
    names = [n for n, _ in pairs]
    weak = [w for _, w in pairs]
    if len(pairs) == 1:
        out, out_weak = names[0], weak[0]
    elif len(set(names)) == 1 and not all(weak):
        out, out_weak = names[0], False
    elif all(weak):
        out, out_weak = _least_upper_bound(*set(names)), True
    else:
        out = _least_upper_bound(*{_weak(n) if w else n for n, w in pairs})
        out_weak = out in WEAK_TYPES
    if out_weak and out != "bool":
        out = _resolve_weak(out)
    return out
