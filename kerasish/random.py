"""Keras 3's ``keras.random``: random tensors on the current device, seeded three ways.

``seed`` may be:

- ``None``: draws from the engine's generator of the device, which ``keras.utils.
  set_random_seed`` reseeds (a new draw each call, reproducible after reseeding);
- an ``int``: a fixed draw (the same values every call with the same seed, as Keras's
  stateless draws);
- a :class:`SeedGenerator`: its state advances at each draw, so a layer holding one gets a new,
  reproducible draw per call.

Results are engine Tensors of ``floatx`` (float32) unless ``dtype`` says otherwise, on the device
of ``kerasish.config.device()`` (NumPy arrays on the CPU, CuPy arrays on the GPU).

>>> x = normal((2, 3), seed=1)   # the same (2, 3) float32 values at every call
"""
from __future__ import annotations

import numpy as np

import engine
from engine import Tensor, backend
from engine import random as engine_random

from . import config, utils

_MASK64 = (1 << 64) - 1


class SeedGenerator:
    """A random seed state that advances at each draw.

    Args:
        seed: Initial seed (an int); None picks one at random (from Python's ``random``, which
            ``keras.utils.set_random_seed`` seeds).
        name: Optional name.

    Attributes:
        state: A non-trainable uint32 Variable ``[seed, counter]``.

    >>> gen = SeedGenerator(1337)
    >>> a, b = normal((2,), seed=gen), normal((2,), seed=gen)   # different, reproducible
    """

    def __init__(self, seed=None, name=None, **kwargs):
        from .variables import Variable

        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
        self.name = name or utils.unique_name("seed_generator")
        self._initial_seed = seed
        if seed is None:
            import random as py_random

            seed = py_random.randint(1, int(1e9))
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise ValueError("Argument `seed` must be an integer. "
                             f"Received: seed={seed} (of type {type(seed).__name__})")
        self.state = Variable(np.array([int(seed) & 0xFFFFFFFF, 0], dtype="uint32"),
                              name="seed_generator_state", trainable=False, dtype="uint32",
                              path=f"{self.name}/seed_generator_state")

    def next(self, ordered=True):
        """The current ``[seed, counter]`` (a NumPy uint32 array); then advances the state."""
        current = backend.to_numpy(self.state.data).copy()
        if ordered:
            following = current + np.array([0, 1], dtype="uint32")
        else:
            following = ((current.astype(np.int64) + 1) * 5387 % 933199).astype("uint32")
        self.state.assign(following)
        return current

    def get_config(self):
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _rng(seed, device=None):
    """A generator for one draw on ``device`` (default: the current device), and that device."""
    device = device or config.device()
    if seed is None:
        return engine_random.generator(device), device
    if isinstance(seed, SeedGenerator):
        a, b = (int(v) for v in seed.next())
        return backend.make_rng(device, (a << 32) | b), device
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return backend.make_rng(device, int(seed) & _MASK64), device
    raise ValueError("Argument `seed` must be either an integer or an instance of "
                     f"`SeedGenerator`. Received: seed={seed} (of type {type(seed)})")


def _float_dtype(dtype, fn):
    dtype = np.dtype(dtype or config.floatx()).name
    if np.dtype(dtype).kind != "f":
        raise ValueError(f"`keras.random.{fn}` requires a floating point `dtype`. "
                         f"Received: dtype={dtype}")
    return dtype


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def _sample_dtype(dtype):
    # NOTE: the generators draw float32 or float64 only; float16 is drawn in float32 and cast.
    return np.float64 if dtype == "float64" else np.float32


def _as_tensor(x):
    if isinstance(x, Tensor):
        return x
    if backend.get_array_module(x) is np:
        x = np.asarray(x)
        x = x.astype(config.floatx()) if x.dtype == np.float64 else x
    return Tensor(backend.to_device(x, config.device()))


def _tensor(array, dtype):
    return Tensor(array.astype(dtype, copy=False))


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples from N(``mean``, ``stddev``^2).

    >>> normal((2, 2), mean=1.0, stddev=0.5, seed=0).shape
    (2, 2)
    """
    dtype = _float_dtype(dtype, "normal")
    rng, _ = _rng(seed)
    x = rng.standard_normal(_shape(shape), dtype=_sample_dtype(dtype))
    return _tensor(x * stddev + mean, dtype)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples from U[``minval``, ``maxval``).

    >>> uniform((3,), minval=-1.0, maxval=1.0, seed=0).shape
    (3,)
    """
    dtype = _float_dtype(dtype, "uniform")
    rng, _ = _rng(seed)
    x = rng.random(_shape(shape), dtype=_sample_dtype(dtype))
    return _tensor(x * (maxval - minval) + minval, dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples from N(``mean``, ``stddev``^2) truncated to two standard deviations: values
    further out are drawn again.

    >>> truncated_normal((4,), seed=0).shape
    (4,)
    """
    dtype = _float_dtype(dtype, "truncated_normal")
    rng, _ = _rng(seed)
    shape = _shape(shape)
    xp = backend.xp_for(config.device())
    x = rng.standard_normal(shape, dtype=_sample_dtype(dtype))
    out = xp.abs(x) > 2
    while bool(out.any()):
        x[out] = rng.standard_normal(int(out.sum()), dtype=_sample_dtype(dtype))
        out = xp.abs(x) > 2
    return _tensor(x * stddev + mean, dtype)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Samples integers uniformly from [``minval``, ``maxval``).

    >>> randint((5,), 0, 10, seed=0).dtype
    'int32'
    """
    dtype = np.dtype(dtype or "int32").name
    if np.dtype(dtype).kind not in "iu":
        raise ValueError("`keras.random.randint` requires an integer `dtype`. "
                         f"Received: dtype={dtype}")
    rng, _ = _rng(seed)
    return _tensor(rng.integers(int(minval), int(maxval), size=_shape(shape)), dtype)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeros each element with probability ``rate`` and scales the rest by ``1 / (1 - rate)``;
    differentiable in ``inputs``.

    Args:
        inputs: A tensor.
        rate: Drop probability, in [0, 1).
        noise_shape: Shape of the mask, broadcast against ``inputs`` (None = inputs' shape).
        seed: None, an int or a SeedGenerator.

    >>> dropout(np.ones((2, 4), "float32"), 0.5, seed=0).shape
    (2, 4)
    """
    x = _as_tensor(inputs)
    if not 0 <= rate < 1:
        raise ValueError(f"`rate` must be in [0, 1). Received: rate={rate}")
    shape = x.shape if noise_shape is None else tuple(
        x.shape[i] if d is None else int(d) for i, d in enumerate(noise_shape))
    dtype = _float_dtype(x.dtype if np.dtype(x.dtype).kind == "f" else None, "dropout")
    rng, _ = _rng(seed, x.device)  # the mask where the inputs are
    keep = rng.random(shape, dtype=_sample_dtype(dtype)).astype(dtype, copy=False) >= rate
    mask = keep.astype(x.dtype) / np.dtype(x.dtype).type(1.0 - rate)  # a scalar: any device
    return engine.ops.multiply(x, mask)


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in a random order.

    >>> shuffle(np.arange(5), seed=0).shape
    (5,)
    """
    x = _as_tensor(x)
    rng, _ = _rng(seed)
    order = rng.random(x.shape[axis]).argsort()
    return engine.ops.take(x, order, axis=axis)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Draws ``num_samples`` class indices per row of ``logits`` (``(batch, classes)``,
    unnormalized log-probabilities); returns ``(batch, num_samples)``.

    >>> categorical(np.log([[0.5, 0.5]]), 4, seed=0).shape
    (1, 4)
    """
    logits = logits.data if isinstance(logits, Tensor) else logits
    xp = backend.xp_for(config.device())
    logits = xp.asarray(backend.to_device(logits, config.device()), dtype=np.float64)
    if logits.ndim != 2:
        raise ValueError("`logits` should be a 2-D tensor with shape [batch_size, num_classes]. "
                         f"Received: logits.shape={tuple(logits.shape)}")
    rng, _ = _rng(seed)
    # NOTE: the Gumbel-max trick: argmax(logits + Gumbel noise) is a draw from softmax(logits).
    u = rng.random((logits.shape[0], int(num_samples), logits.shape[1]))
    gumbel = -xp.log(-xp.log(xp.clip(u, 1e-300, 1.0)))
    return _tensor(xp.argmax(logits[:, None, :] + gumbel, axis=-1), np.dtype(dtype).name)


def _host_or_device(rng, device, method, *args, size):
    """``rng.<method>`` on the device; a generator without it (CuPy's lacks some) draws on the
    host from a seed taken from the device generator."""
    if hasattr(rng, method):
        return getattr(rng, method)(*args, size=size)
    host = np.random.default_rng(int(rng.integers(0, 2 ** 62)))
    args = [backend.to_numpy(a) if hasattr(a, "shape") else a for a in args]
    return backend.to_device(getattr(host, method)(*args, size=size), device)


def _param(value, device):
    """A distribution parameter: a Python float for a scalar (what CuPy's generators take), an
    array on ``device`` otherwise."""
    value = value.data if isinstance(value, Tensor) else value
    if np.ndim(value) == 0:
        return float(value)
    return backend.to_device(np.asarray(backend.to_numpy(value), dtype=np.float64), device)


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples from Gamma(``alpha``, 1) (shape ``alpha``, unit scale).

    >>> gamma((3,), alpha=2.0, seed=0).shape
    (3,)
    """
    dtype = _float_dtype(dtype, "gamma")
    rng, device = _rng(seed)
    x = _host_or_device(rng, device, "standard_gamma", _param(alpha, device), size=_shape(shape))
    return _tensor(x, dtype)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Samples the number of successes of ``counts`` trials of probability ``probabilities``
    (returned as floats, as Keras's).

    >>> binomial((3,), counts=10, probabilities=0.5, seed=0).shape
    (3,)
    """
    dtype = _float_dtype(dtype, "binomial")
    rng, device = _rng(seed)
    counts = _param(counts, device)
    counts = int(counts) if isinstance(counts, float) else counts.astype(np.int64)
    x = _host_or_device(rng, device, "binomial", counts, _param(probabilities, device),
                        size=_shape(shape))
    return _tensor(x, dtype)


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Samples from Beta(``alpha``, ``beta``).

    >>> beta((3,), alpha=2.0, beta=3.0, seed=0).shape
    (3,)
    """
    dtype = _float_dtype(dtype, "beta")
    rng, device = _rng(seed)
    x = _host_or_device(rng, device, "beta", _param(alpha, device), _param(beta, device),
                        size=_shape(shape))
    return _tensor(x, dtype)


__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal",
           "randint", "shuffle", "truncated_normal", "uniform"]
