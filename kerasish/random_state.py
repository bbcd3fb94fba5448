"""Every random stream training uses, in one place, so a checkpoint can save and restore it:
Python's ``random``, NumPy's global generator, the engine's generators, and the generators
seeded layers hold (``Dropout(seed=...)``, one per device)."""
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


_LAYER_GENERATORS = ("_generators", "_rngs")  # where seeded layers keep theirs, by device


def _layers(model):
    """``model`` and every layer under it, in a fixed order (breadth first)."""
    out, queue, seen = [], [model], set()
    while queue:
        layer = queue.pop(0)
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        out.append(layer)
        queue.extend(getattr(layer, "_layers", ()) or ())
    return out


def get_layer_state(model) -> list:
    """``[[layer index, attribute, device, state], ...]`` of the generators seeded layers hold
    (NumPy's state dicts on the CPU, a counter generator's host integers elsewhere)."""
    out = []
    for i, layer in enumerate(_layers(model)):
        for attr in _LAYER_GENERATORS:
            for device, rng in sorted((vars(layer).get(attr) or {}).items()):
                if rng is not None and hasattr(rng, "bit_generator"):
                    out.append([i, attr, device, rng.bit_generator.state])
    return out


def set_layer_state(model, state: list) -> None:
    """Restores what ``get_layer_state`` returned (creating the generators not drawn from yet)."""
    layers = _layers(model)
    for i, attr, device, value in state:
        if i >= len(layers):
            continue
        held = vars(layers[i]).setdefault(attr, {})
        if held.get(device) is None:
            held[device] = engine_random.make_generator(device)
        held[device].bit_generator.state = value
