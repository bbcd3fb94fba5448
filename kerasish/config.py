"""Global settings a Keras user expects (``keras.config``), plus the device kerasish runs on."""
from __future__ import annotations

import random as _py_random

import numpy as np

from engine import backend
from engine import random as engine_random

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_DEVICE = "cpu"


def floatx() -> str:
    return _FLOATX


def set_floatx(value: str) -> None:
    global _FLOATX
    if value not in ("float16", "float32", "float64"):
        raise ValueError(f"Unknown floatx type. Received: value={value!r}")
    _FLOATX = value


def epsilon() -> float:
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    _EPSILON = float(value)


def image_data_format() -> str:
    return _IMAGE_DATA_FORMAT


def set_image_data_format(value: str) -> None:
    if value != "channels_last":
        raise ValueError(
            "kerasish runs channels_last only. Received: data_format=" + repr(value)
        )


def device() -> str:
    """The device new weights and batches go to: "cpu" (NumPy) or "gpu" (CuPy)."""
    return _DEVICE


def set_device(name: str) -> None:
    """Sets where weights are created and batches are moved ("cpu" or "gpu")."""
    global _DEVICE
    backend.xp_for(name)  # raises a clear error for an unknown or unavailable device
    _DEVICE = name


def set_random_seed(seed) -> None:
    """Seeds Python's ``random``, NumPy's global RNG and the engine's generators."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(
            f"Expected `seed` argument to be an integer. Received: seed={seed} "
            f"(of type {type(seed)})"
        )
    _py_random.seed(seed)
    np.random.seed(seed)
    engine_random.seed(seed)
