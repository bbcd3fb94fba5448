"""Dropout with a saved mask (``keras.random.dropout`` semantics)."""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from .. import random as engine_random
from ..autograd import Function

__all__ = ["dropout"]


def _noise_shape(noise_shape, shape):
    """``noise_shape`` with None entries filled from ``shape``; checked to broadcast to it."""
    if noise_shape is None:
        return tuple(shape)
    noise_shape = tuple(noise_shape)
    filled = tuple(shape[i] if n is None else int(n) for i, n in enumerate(noise_shape))
    if len(filled) != len(shape) or any(n not in (1, d) for n, d in zip(filled, shape)):
        raise ValueError(
            f"dropout: noise_shape must have the input's rank {len(shape)} and each entry equal "
            f"to the input's dimension, 1 or None, to broadcast to inputs.shape={tuple(shape)}. "
            f"Received: noise_shape={noise_shape}"
        )
    return filled


def _keep_mask(shape, keep_prob, seed, device):
    """A boolean array, True with probability ``keep_prob``, drawn on ``device``."""
    if seed is None:
        return engine_random.bernoulli(shape, keep_prob, device=device)
    if isinstance(seed, numbers.Integral):
        rng = backend.make_rng(device, int(seed))
    elif hasattr(seed, "random"):  # a Generator of the device (e.g. engine.random.generator())
        rng = seed
    else:
        raise TypeError(
            "dropout: seed must be None, an int or a random Generator. "
            f"Received: seed={seed!r}"
        )
    return rng.random(shape, dtype=np.float32) < keep_prob


class Dropout(Function):
    def forward(self, xp, x, rate, noise_shape, seed):
        if rate == 0:
            self.scale = None
            return x.copy()
        keep_prob = 1.0 - rate
        shape = _noise_shape(noise_shape, x.shape)
        keep = _keep_mask(shape, keep_prob, seed, backend.device_of(x))
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
        # The mask with the 1/keep_prob rescaling folded in: what backward multiplies by too.
        self.scale = keep.astype(dtype) / dtype.type(keep_prob)
        return x * self.scale

    def backward(self, xp, gy):
        return (gy if self.scale is None else gy * self.scale,)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeroes each element with probability ``rate`` and scales the rest by 1 / (1 - rate).

    Args:
        inputs: input tensor.
        rate: float in [0, 1); 0 returns a copy of the input.
        noise_shape: shape of the mask, broadcast to the input's (e.g. ``(batch, 1, 1, c)``
            drops whole channels); None entries take the input's dimension.
        seed: None (the device's global generator, see ``engine.random.seed``), an int (a fresh
            generator: the same mask every call) or a Generator.

    The mask is drawn on the input's device and saved for the backward pass.
    """
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be a float in [0, 1). Received: rate={rate!r}")
    return Dropout.apply(inputs, rate=float(rate), noise_shape=noise_shape, seed=seed)
