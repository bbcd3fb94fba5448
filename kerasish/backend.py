"""Keras 3's ``keras.backend`` namespace: the backend's name, global settings and dtype rules.

``backend()`` answers ``"kerasish"``: kerasish is its own backend (an autodiff engine over NumPy
arrays on the CPU and CuPy arrays on the GPU). Code written for Keras that branches on
``backend() == "jax"`` (or ``"tensorflow"``, ``"torch"``) therefore takes its backend-neutral
path; see :mod:`kerasish.config` for why it is not ``"numpy"``.

>>> import kerasish as keras
>>> keras.backend.backend(), keras.backend.floatx()
('kerasish', 'float32')
"""
from __future__ import annotations

from . import utils
from .config import (backend, epsilon, floatx, image_data_format, set_epsilon, set_floatx,
                     set_image_data_format)
from .symbolic import is_keras_tensor


def clear_session(free_memory=True) -> None:
    """Resets the state Keras keeps between models: the automatic layer-name counters (the
    next ``Dense`` is named ``dense`` again).

    Args:
        free_memory: Whether to run Python's garbage collector afterwards.
    """
    utils.clear_session(free_memory)


def get_uid(prefix="") -> int:
    """A per-prefix counter shared with automatic layer names: 1, 2, 3, ...

    >>> clear_session(); get_uid("dense"), get_uid("dense")
    (1, 2)
    """
    return utils.next_uid(prefix)


def standardize_dtype(dtype=None) -> str:
    """Keras's dtype name for ``dtype`` (None -> floatx): ``np.float32`` -> ``"float32"``."""
    from . import dtypes

    return dtypes.standardize_dtype(dtype)


def result_type(*dtypes) -> str:
    """The dtype Keras's promotion rules give an op on ``dtypes`` (``"int8", "uint8"`` ->
    ``"int16"``; Python ``int``/``float`` are weak)."""
    from . import dtypes as _dtypes

    return _dtypes.result_type(*dtypes)


def is_float_dtype(dtype) -> bool:
    from . import dtypes

    return dtypes.is_float_dtype(dtype)


def is_int_dtype(dtype) -> bool:
    from . import dtypes

    return dtypes.is_int_dtype(dtype)


__all__ = ["backend", "clear_session", "epsilon", "floatx", "get_uid", "image_data_format",
           "is_float_dtype", "is_int_dtype", "is_keras_tensor", "result_type", "set_epsilon",
           "set_floatx", "set_image_data_format", "standardize_dtype"]
