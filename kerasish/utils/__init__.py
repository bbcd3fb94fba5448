"""Small helpers (nested structures, unique layer names, shape tuples) and Keras's public
``keras.utils`` names, which live in this package's modules and load on first use."""
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


# Keras's public ``keras.utils`` names, imported on first use: their modules import kerasish's
# layers, data and saving, which import this package.
_PUBLIC = {
    "PyDataset": "..data", "Progbar": "..progbar",
    "pad_sequences": ".sequence_utils", "to_categorical": ".numerical_utils",
    "normalize": ".numerical_utils",
    "timeseries_dataset_from_array": ".timeseries_dataset",
    "image_dataset_from_directory": ".image_dataset",
    "text_dataset_from_directory": ".text_dataset",
    "audio_dataset_from_directory": ".audio_dataset",
    "split_dataset": ".dataset_utils",
    "load_img": ".image_utils", "img_to_array": ".image_utils", "array_to_img": ".image_utils",
    "save_img": ".image_utils",
    "get_file": ".file_utils",
    "plot_model": ".model_visualization", "model_to_dot": ".model_visualization",
    "Config": ".config_utils", "pack_x_y_sample_weight": ".data_utils",
    "unpack_x_y_sample_weight": ".data_utils", "get_source_inputs": ".data_utils",
    "is_keras_tensor": "..symbolic", "standardize_dtype": "..backend",
    "enable_interactive_logging": "..config", "disable_interactive_logging": "..config",
    "is_interactive_logging_enabled": "..config",
    # The serialization registry (kerasish.saving).
    "register_keras_serializable": "..saving", "get_registered_object": "..saving",
    "get_registered_name": "..saving", "custom_object_scope": "..saving",
    "CustomObjectScope": "..saving", "get_custom_objects": "..saving",
    "serialize_keras_object": "..saving", "deserialize_keras_object": "..saving",
    "legacy": ".legacy",
    # Tables and files as data (tf.data's make_csv_dataset, Keras 2's HDF5Matrix).
    "csv_dataset": ".csv_data", "HDF5Matrix": ".hdf5_data", "HDF5Dataset": ".hdf5_data",
}


def __getattr__(name):
    if name == "Sequence":  # Keras's older name of PyDataset
        name = "PyDataset"
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'kerasish.utils' has no attribute {name!r}")
    import importlib

    try:
        found = importlib.import_module(module, __name__)
    except ModuleNotFoundError as e:
        if not (e.name or "").startswith("kerasish."):
            raise
        raise AttributeError(f"kerasish.utils.{name} is not available: {e}") from e
    if name != "legacy":
        found = getattr(found, name, None)
    if found is None:  # e.g. a registry name that kerasish.saving does not offer (yet)
        raise AttributeError(f"module 'kerasish.utils' has no attribute {name!r}")
    return found


def next_uid(prefix: str = "") -> int:
    """Keras's ``get_uid``: the counter ``unique_name`` reads, advanced by one (1, 2, ...)."""
    _NAME_COUNTS[prefix] += 1
    return _NAME_COUNTS[prefix]


def clear_session(free_memory=True) -> None:
    """Resets the automatic layer-name counters (Keras's ``keras.utils.clear_session``): the
    next ``Dense`` is named ``dense`` again. ``free_memory`` also runs the garbage collector."""
    _NAME_COUNTS.clear()
    if free_memory:
        import gc

        gc.collect()


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
