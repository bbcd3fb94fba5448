"""Host-side helpers of the lookup, hashing and text layers: inputs as NumPy token arrays,
and integer indices encoded as Keras's ``one_hot``/``multi_hot``/``count``/``tf_idf`` outputs,
dense engine Tensors or ``SparseBatch``es (docs/sparse.md)."""
from __future__ import annotations

import numpy as np

from engine import Tensor, backend

from ... import config
from ...sparse import SparseBatch
from ...symbolic import is_keras_tensor
from ...utils import flatten


def prepare_call_inputs(inputs):
    """A list or tuple of plain values becomes one NumPy array (strings as ``object``), so
    ``Layer.__call__`` sees one input, as Keras's lookups take lists."""
    if isinstance(inputs, (list, tuple)) and not any(is_keras_tensor(x) for x in
                                                     flatten(inputs)):
        array = np.asarray(inputs)
        return array.astype(object) if array.dtype.kind in "US" else array
    if isinstance(inputs, (str, bytes)):
        return np.asarray(inputs, dtype=object)
    return inputs


def host_array(x):
    """A NumPy array of ``x`` (Tensor, CuPy/NumPy array, list, scalar); strings as ``object``
    arrays of ``str`` (bytes stay bytes until ``as_strings``)."""
    if isinstance(x, Tensor):
        return backend.to_numpy(x.data)
    if isinstance(x, np.ndarray):
        return x.astype(object) if x.dtype.kind in "US" else x
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return backend.to_numpy(x)
    array = np.asarray(x)
    return array.astype(object) if array.dtype.kind in "US" else array


def as_strings(x, encoding="utf-8", caller="layer"):
    """``x`` as an ``object`` array of ``str`` (bytes decoded with ``encoding``)."""
    array = host_array(x)
    if array.dtype.kind != "O":
        raise TypeError(f"`{caller}` expects string inputs. Received: inputs with "
                        f"dtype={array.dtype} and shape={array.shape}")
    out = np.empty(array.shape, object)
    flat = out.reshape(-1)
    for i, item in enumerate(array.reshape(-1).tolist()):
        flat[i] = item.decode(encoding) if isinstance(item, bytes) else item
    return out


def as_int64(x, caller="layer"):
    """``x`` as an int64 NumPy array (integral floats are accepted, as Keras's casts do)."""
    array = host_array(x)
    if array.dtype.kind in "iub":
        return array.astype(np.int64)
    if array.dtype.kind == "f" and np.all(np.floor(array) == array):
        return array.astype(np.int64)
    if array.dtype.kind == "O":
        try:
            return array.astype(np.int64)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"`{caller}` expects integer inputs. Received: inputs with "
                    f"dtype={array.dtype} and shape={array.shape}")


def to_tensor(array, dtype):
    """A constant engine Tensor on the current device (no gradient: lookups are discrete)."""
    return Tensor(backend.to_device(np.ascontiguousarray(array, dtype=dtype), config.device()))


def encoded_shape(shape, output_mode, depth):
    """The output shape of ``encode`` for indices of ``shape`` (Keras's arithmetic)."""
    shape = tuple(shape)
    if output_mode == "int":
        return shape
    if output_mode == "one_hot":
        if len(shape) > 1 and shape[-1] == 1:
            return shape[:-1] + (depth,)
        return shape + (depth,)
    if not shape:
        return (depth,)
    return shape[:-1] + (depth,)


def encode(indices, output_mode, depth, sparse=False, idf_weights=None, dtype="float32"):
    """Encodes an int64 index array as Keras's ``encode_categorical_inputs``: ``one_hot`` per
    element (a last axis of 1 is replaced), ``multi_hot``/``count``/``tf_idf`` over the last
    axis. Indices outside ``[0, depth)`` (a masked token) contribute nothing.

    Returns a float Tensor, or a ``SparseBatch`` (entries sorted by row then column, no
    repeats) when ``sparse``.
    """
    indices = np.asarray(indices, np.int64)
    out_shape = encoded_shape(indices.shape, output_mode, depth)
    if output_mode == "one_hot":
        flat = indices.reshape(-1)
        rows = np.arange(flat.size)
    else:
        per_row = indices.shape[-1] if indices.ndim else 1
        flat = indices.reshape(-1)
        rows = np.arange(flat.size) // max(per_row, 1)
    keep = (flat >= 0) & (flat < depth)
    rows, cols = rows[keep], flat[keep]
    # Each (row, column) pair once, in row-major order, with its count.
    keys, counts = np.unique(rows * depth + cols, return_counts=True)
    rows, cols = keys // depth, keys % depth
    values = counts.astype(dtype)
    if output_mode in ("multi_hot", "one_hot"):
        values = np.ones_like(values)
    if output_mode == "tf_idf":
        # NOTE: the product in the output dtype, as Keras's cast-then-multiply.
        values = values * np.asarray(idf_weights, dtype)[cols]
    if sparse:
        lead = np.stack(np.unravel_index(rows, out_shape[:-1]), axis=1) if len(out_shape) > 1 \
            else np.zeros((rows.size, 0), np.int64)
        coords = np.concatenate([lead, cols[:, None]], axis=1).astype(np.int64)
        xp = backend.xp_for(config.device())
        return SparseBatch(xp.asarray(coords), xp.asarray(values), out_shape)
    dense = np.zeros((int(np.prod(out_shape[:-1], dtype=np.int64)), depth), dtype)
    dense[rows, cols] = values
    return to_tensor(dense.reshape(out_shape), dtype)
