"""Seeded random generators, one per device.

The CPU draws from NumPy's ``Generator`` (its state is readable, so a compiled plan can check
a draw and a checkpoint can save it). Other devices draw from ``CounterGenerator``: Philox4x32-10
(Salmon et al., SC'11) computed with ``xp`` array ops, keyed by the seed and counted per draw, so
its whole state is two host integers: a plan replays its draws, a checkpoint restores it, and no
device state has to be read (CuPy's cuRAND generators cannot be read or rewound).
"""
from __future__ import annotations

import numpy as np

from . import backend

_seed = None
_generators = {}

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)  # Philox4x32's multipliers
_W0, _W1 = 0x9E3779B9, 0xBB67AE85  # its key schedule (Weyl increments)
_LO32, _SHIFT32 = np.uint64(0xFFFFFFFF), np.uint64(32)


def philox4x32(xp, counter, key, rounds=10):
    """Philox4x32-``rounds`` of four uint32 counter words (arrays that broadcast, or ints)
    under a two-word key (ints); returns the four uint32 output words as uint64 arrays.

    >>> [hex(int(w)) for w in philox4x32(np, [0, 0, 0, 0], (0, 0))][0]
    '0x6627e8d5'
    """
    # NOTE: int words stay NumPy scalars (a device array of one would be a host copy per draw)
    c0, c1, c2, c3 = (np.uint64(c) if isinstance(c, (int, np.integer))
                      else xp.asarray(c, dtype=np.uint64) for c in counter)
    k0, k1 = int(key[0]) & 0xFFFFFFFF, int(key[1]) & 0xFFFFFFFF
    for _ in range(rounds):
        p0, p1 = c0 * _M0, c2 * _M1  # 32x32 -> 64-bit products: no overflow in uint64
        c0, c1, c2, c3 = ((p1 >> _SHIFT32) ^ c1 ^ np.uint64(k0), p1 & _LO32,
                          (p0 >> _SHIFT32) ^ c3 ^ np.uint64(k1), p0 & _LO32)
        k0, k1 = (k0 + _W0) & 0xFFFFFFFF, (k1 + _W1) & 0xFFFFFFFF
    return c0, c1, c2, c3


class _CounterState:
    """``bit_generator`` of a CounterGenerator: ``state`` is a dict of host ints (readable and
    settable, as NumPy's bit generators' states are)."""

    def __init__(self, owner):
        self._owner = owner

    @property
    def state(self):
        return {"bit_generator": "Philox4x32", "key": self._owner.key,
                "counter": self._owner.counter}

    @state.setter
    def state(self, value):
        self._owner.key, self._owner.counter = int(value["key"]), int(value["counter"])


class CounterGenerator:
    """A counter-based generator with (part of) NumPy's ``Generator`` interface, drawing on
    ``device``. Draw number ``counter`` under ``key`` is a pure function of both, computed on the
    device; each draw advances ``counter`` by one.

    Args:
        seed: an int (its low 64 bits are the key) or None (a fresh random key).
        device: where the draws are made ("gpu", or "cpu" for tests).

    >>> g = CounterGenerator(0, "cpu")
    >>> g.random((2,), dtype=np.float32).dtype
    dtype('float32')
    """

    def __init__(self, seed=None, device="gpu"):
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
        self.key, self.counter, self.device = int(seed) & ((1 << 64) - 1), 0, device
        self.bit_generator = _CounterState(self)

    def _words(self, n):
        """``n`` uint32 words (as uint64) of the next draw, on the device."""
        xp = backend.xp_for(self.device)
        blocks = -(-max(int(n), 0) // 4)
        index = xp.arange(blocks, dtype=np.uint64)
        draw = self.counter
        self.counter += 1
        words = philox4x32(xp, (index & _LO32, index >> _SHIFT32, draw & 0xFFFFFFFF,
                                (draw >> 32) & 0xFFFFFFFF), (self.key, self.key >> 32))
        return xp.stack(words, axis=-1).reshape(-1)[:n]

    def random(self, size=None, dtype=np.float64):
        """U[0, 1) floats: 24 random bits for float32, 53 for float64 (the default, as NumPy's)."""
        shape = _shape(size)
        n = int(np.prod(shape))
        if np.dtype(dtype) == np.float64:
            w = self._words(2 * n).reshape(n, 2)
            x = ((w[:, 0] >> np.uint64(5)) * np.uint64(1 << 26) + (w[:, 1] >> np.uint64(6)))
            return (x.astype(np.float64) * 2.0 ** -53).reshape(shape)
        if np.dtype(dtype) != np.float32:
            raise TypeError(f"CounterGenerator.random: dtype must be float32 or float64. "
                            f"Received: dtype={dtype}")
        w = self._words(n)
        return ((w >> np.uint64(8)).astype(np.float32) * np.float32(2.0 ** -24)).reshape(shape)

    def standard_normal(self, size=None, dtype=np.float64):
        """N(0, 1) by Box-Muller over pairs of uniforms."""
        xp = backend.xp_for(self.device)
        shape = _shape(size)
        n = int(np.prod(shape))
        m = -(-n // 2)
        u = self.random((2, m), dtype=dtype)
        one = u.dtype.type(1)
        r = xp.sqrt(u.dtype.type(-2) * xp.log(one - u[0]))  # 1 - u lies in (0, 1]
        theta = u.dtype.type(2 * np.pi) * u[1]
        return xp.concatenate([r * xp.cos(theta), r * xp.sin(theta)])[:n].reshape(shape)

    def uniform(self, low=0.0, high=1.0, size=None):
        return self.random(size, np.float64) * (high - low) + low

    def normal(self, loc=0.0, scale=1.0, size=None):
        return self.standard_normal(size, np.float64) * scale + loc

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        """Integers in [low, high) (or [low, high] with ``endpoint``), from 64 random bits each
        (the modulo bias is below range / 2**64)."""
        if high is None:
            low, high = 0, low
        span = int(high) - int(low) + (1 if endpoint else 0)
        if span <= 0:
            raise ValueError(f"CounterGenerator.integers: high must exceed low. "
                             f"Received: low={low}, high={high}")
        shape = _shape(size)
        n = int(np.prod(shape))
        w = self._words(2 * n).reshape(n, 2)
        bits = (w[:, 0] << _SHIFT32) | w[:, 1]
        return ((bits % np.uint64(span)).astype(np.int64) + int(low)).astype(dtype) \
            .reshape(shape)

    def permutation(self, n):
        """A permutation of ``range(n)`` (argsort of random 64-bit keys)."""
        w = self._words(2 * int(n)).reshape(int(n), 2)
        xp = backend.xp_for(self.device)
        return xp.argsort((w[:, 0] << _SHIFT32) | w[:, 1], kind="stable")


def _shape(size):
    if size is None:
        return ()
    return (int(size),) if np.ndim(size) == 0 else tuple(int(d) for d in size)


def make_generator(device: str, seed=None):
    """A seeded generator for ``device``: NumPy's on the CPU, a CounterGenerator elsewhere."""
    if device == "cpu":
        return backend.make_rng("cpu", seed)
    return CounterGenerator(seed, device)


def seed(n: int) -> None:
    """Reseeds the generators of every device."""
    global _seed
    _seed = int(n)
    _generators.clear()


def generator(device: str = "cpu"):
    """The generator of ``device``, created on first use from the last ``seed``."""
    if device not in _generators:
        _generators[device] = make_generator(device, _seed)
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
    """The seed and every generator's state (what a checkpoint needs to resume exactly): the
    CPU's NumPy state, and the host integers of the other devices' counter generators."""
    cpu = _generators.get("cpu")
    devices = {d: g.bit_generator.state for d, g in _generators.items() if d != "cpu"}
    return {"seed": _seed, "cpu": None if cpu is None else cpu.bit_generator.state,
            "devices": devices}


def set_state(state: dict) -> None:
    """Restores what ``get_state`` returned (a device missing from it restarts from the seed)."""
    global _seed
    _seed = state["seed"]
    _generators.clear()
    if state.get("cpu") is not None:
        generator("cpu").bit_generator.state = state["cpu"]
    for device, value in (state.get("devices") or {}).items():
        if device in backend.DEVICES:
            generator(device).bit_generator.state = value
