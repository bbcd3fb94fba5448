"""Global settings a Keras user expects (``keras.config``), plus the device kerasish runs on."""
from __future__ import annotations

import os
import random as _py_random

import numpy as np

from engine import backend as engine_backend
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
    engine_backend.xp_for(name)  # raises a clear error for an unknown or unavailable device
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


# -- Keras 3's other global switches (``keras.config``) ---------------------------------------

# NOTE: user code branches on `keras.config.backend()` ("tensorflow", "jax", "torch", "numpy");
# kerasish is none of them, so it answers its own name and such code takes its generic path.
# ("numpy" would be wrong: Keras's NumPy backend cannot train, and code checking for it skips
# `fit`.)
BACKEND_NAME = "kerasish"

_FLAGS = {"flash_attention": None, "interactive_logging": True, "traceback_filtering": True,
          "unsafe_deserialization": False}
_MAX_EPOCHS = int(os.environ["KERAS_MAX_EPOCHS"]) if "KERAS_MAX_EPOCHS" in os.environ else None
_MAX_STEPS_PER_EPOCH = (int(os.environ["KERAS_MAX_STEPS_PER_EPOCH"])
                        if "KERAS_MAX_STEPS_PER_EPOCH" in os.environ else None)


def backend() -> str:
    """The backend's name: ``"kerasish"`` (kerasish's own engine over NumPy/CuPy arrays).

    >>> backend()
    'kerasish'
    """
    return BACKEND_NAME


def set_backend(backend) -> None:
    """Keras's backend switch: kerasish has exactly one backend, itself.

    Raises:
        ValueError: for any backend other than ``"kerasish"``.
    """
    if backend != BACKEND_NAME:
        raise ValueError(
            "kerasish runs on its own engine (NumPy on the CPU, CuPy on the GPU; see "
            "`kerasish.config.set_device`) and cannot switch to another Keras backend. "
            f"Available backends are ('{BACKEND_NAME}',). Received: backend={backend}")


def enable_flash_attention() -> None:
    """Lets attention layers use a fused (flash) attention kernel where one exists (default)."""
    _FLAGS["flash_attention"] = None


def disable_flash_attention() -> None:
    """Attention layers compute softmax(QK^T)V unfused."""
    _FLAGS["flash_attention"] = False


def is_flash_attention_enabled():
    """``False`` once disabled; otherwise ``None`` (Keras's "enabled where supported")."""
    return _FLAGS["flash_attention"]


def enable_interactive_logging() -> None:
    """Progress bars and messages are written to ``sys.stdout`` (the default)."""
    _FLAGS["interactive_logging"] = True


def disable_interactive_logging() -> None:
    """Progress bars and messages go to Python's ``logging`` (logger ``"kerasish"``, INFO)."""
    _FLAGS["interactive_logging"] = False


def is_interactive_logging_enabled() -> bool:
    return _FLAGS["interactive_logging"]


def enable_traceback_filtering() -> None:
    """Keras's switch for trimming its own frames from tracebacks. kerasish keeps every frame
    either way (its stacks are shallow): only the flag is kept, for code that reads it."""
    _FLAGS["traceback_filtering"] = True


def disable_traceback_filtering() -> None:
    """See :func:`enable_traceback_filtering`."""
    _FLAGS["traceback_filtering"] = False


def is_traceback_filtering_enabled() -> bool:
    return _FLAGS["traceback_filtering"]


def enable_unsafe_deserialization() -> None:
    """Turns safe mode off globally: loading configs may then run Python code (``Lambda``)."""
    _FLAGS["unsafe_deserialization"] = True


def is_unsafe_deserialization_enabled() -> bool:
    """Whether :func:`enable_unsafe_deserialization` was called (read by ``kerasish.saving``)."""
    return _FLAGS["unsafe_deserialization"]


def set_max_epochs(max_epochs) -> None:
    """Caps the epochs of every ``fit`` (for debugging; also ``$KERAS_MAX_EPOCHS``); None = no
    cap."""
    global _MAX_EPOCHS
    _MAX_EPOCHS = max_epochs


def max_epochs():
    return _MAX_EPOCHS


def set_max_steps_per_epoch(max_steps_per_epoch) -> None:
    """Caps the steps of each epoch of ``fit``/``evaluate``/``predict`` (for debugging; also
    ``$KERAS_MAX_STEPS_PER_EPOCH``); None = no cap."""
    global _MAX_STEPS_PER_EPOCH
    _MAX_STEPS_PER_EPOCH = max_steps_per_epoch


def max_steps_per_epoch():
    return _MAX_STEPS_PER_EPOCH


def __getattr__(name):
    # NOTE: the dtype policy lives with the policies (kerasish.dtype_policies), which import
    # this module: a lazy re-export keeps the import one-way.
    if name in ("dtype_policy", "set_dtype_policy"):
        try:
            from . import dtype_policies
        except ImportError as e:  # not written yet: absent, as an attribute
            raise AttributeError(f"kerasish.config.{name} is not available: {e}") from e
        return getattr(dtype_policies, name)
    raise AttributeError(f"module 'kerasish.config' has no attribute {name!r}")
