"""Every random stream training uses, in one place, so a checkpoint can save and restore it:
Python's ``random``, NumPy's global generator and the engine's generators."""
from __future__ import annotations

import random

import numpy as np

from engine import random as engine_random


def permutation(n: int) -> np.ndarray:
    """The sample order of one epoch, drawn from the engine's CPU generator."""
    return engine_random.generator("cpu").permutation(n)


def get_state() -> dict:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {"python": random.getstate(),
            "numpy": {"kind": kind, "keys": keys, "pos": pos, "has_gauss": has_gauss,
                      "cached_gaussian": cached},
            "engine": engine_random.get_state()}


def set_state(state: dict) -> None:
    random.setstate(state["python"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"], n["pos"], n["has_gauss"], n["cached_gaussian"]))
    engine_random.set_state(state["engine"])
