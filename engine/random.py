"""Seeded random generators, one per device."""
from __future__ import annotations

import numpy as np

from . import backend

_seed = None
_generators = {}


def seed(n: int) -> None:
    """Reseeds the generators of every device."""
    global _seed
    _seed = int(n)
    _generators.clear()


def generator(device: str = "cpu"):
    """The generator of ``device``, created on first use from the last ``seed``."""
    if device not in _generators:
        _generators[device] = backend.make_rng(device, _seed)
    return _generators[device]


def uniform(shape, minval=0.0, maxval=1.0, dtype="float32", device="cpu"):
    """Samples U[minval, maxval) as an array on ``device``."""
    rng = generator(device)
    x = rng.random(tuple(shape), dtype=np.float32 if dtype == "float32" else np.float64)
    return (x * (maxval - minval) + minval).astype(dtype, copy=False)


def normal(shape, mean=0.0, stddev=1.0, dtype="float32", device="cpu"):
    """Samples N(mean, stddev^2) as an array on ``device``."""
    rng = generator(device)
    x = rng.standard_normal(tuple(shape), dtype=np.float32 if dtype == "float32" else np.float64)
    return (x * stddev + mean).astype(dtype, copy=False)


def bernoulli(shape, p=0.5, device="cpu"):
    """A boolean array where each element is True with probability ``p``."""
    return generator(device).random(tuple(shape), dtype=np.float32) < p


def integers(low, high, shape, dtype="int32", device="cpu"):
    return generator(device).integers(low, high, size=tuple(shape)).astype(dtype, copy=False)


def get_state() -> dict:
    """The seed and the CPU generator's state (what a checkpoint needs to resume exactly)."""
    cpu = _generators.get("cpu")
    return {"seed": _seed, "cpu": None if cpu is None else cpu.bit_generator.state}


def set_state(state: dict) -> None:
    """Restores what ``get_state`` returned (device generators other than the CPU's restart
    from the seed)."""
    global _seed
    _seed = state["seed"]
    _generators.clear()
    if state.get("cpu") is not None:
        generator("cpu").bit_generator.state = state["cpu"]
