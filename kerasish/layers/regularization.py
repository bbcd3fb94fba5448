"""Noise and regularization layers: GaussianNoise, GaussianDropout, AlphaDropout, SpatialDropout
1D/2D/3D and ActivityRegularization.

Each is the identity at inference. In training the noise is drawn *inside* an engine Function's
forward, from a per-layer seeded generator (or the engine's global one when ``seed=None``), so a
compiled step replays the draws as it replays Dropout's (see ``engine/jit.py``).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

import engine
from engine import Function, backend

from .. import regularizers
from .core import Dropout, _input_dtype
from .input_spec import InputSpec
from .layer import Layer

# SELU's constants: AlphaDropout keeps SELU's fixed point (mean 0, variance 1).
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _rng(seed, device):
    return engine.random.generator(device) if seed is None else seed


def _float_dtype(x):
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)


class _GaussianNoise(Function):
    """``x + N(0, stddev)`` (additive) or ``x * N(1, stddev)`` (multiplicative)."""

    def forward(self, xp, x, stddev, multiplicative, seed):
        dtype = _float_dtype(x)
        # NOTE: generators draw float32/float64 only; float16 noise is drawn in float32.
        draw = dtype if dtype.itemsize >= 4 else np.dtype(np.float32)
        noise = _rng(seed, backend.device_of(x)).standard_normal(x.shape, dtype=draw)
        noise = noise.astype(dtype, copy=False) * dtype.type(stddev)
        if multiplicative:
            noise += dtype.type(1)
            self.noise = noise
            return x * noise
        self.noise = None
        return x + noise

    def backward(self, xp, gy):
        return (gy if self.noise is None else gy * self.noise,)


class _AlphaDropout(Function):
    """``a * (x * keep + alpha_p * (1 - keep)) + b`` with a Bernoulli(1 - rate) ``keep``."""

    def forward(self, xp, x, rate, noise_shape, seed):
        dtype = _float_dtype(x)
        keep = _rng(seed, backend.device_of(x)).random(noise_shape, dtype=np.float32) >= rate
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * rate
        self.scale = keep.astype(dtype) * dtype.type(a)
        shift = (~keep).astype(dtype) * dtype.type(a * alpha_p) + dtype.type(b)
        return x * self.scale + shift

    def backward(self, xp, gy):
        return (gy * self.scale,)


def _check_fraction(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"Invalid value received for argument `{name}`. Expected a float value "
                         f"between 0 and 1. Received: {name}={value}")


class _SeededNoise(Layer):
    """Shared by the noise layers: a seed, a generator per device, identity shapes."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"Expected `seed` to be an integer or None. Received: seed={seed!r}")
        self.seed = seed
        self.supports_masking = True
        self._generators = {}
        self.built = True

    def _generator(self, device):
        if self.seed is None:
            return None
        if device not in self._generators:
            self._generators[device] = backend.make_rng(device, int(self.seed))
        return self._generators[device]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    _output_dtype = _input_dtype


class GaussianNoise(_SeededNoise):
    """Adds zero-centred Gaussian noise of standard deviation ``stddev`` in training.

    >>> GaussianNoise(0.1)(np.ones((1, 2))).numpy()  # inference: unchanged
    array([[1., 1.]], dtype=float32)
    """

    def __init__(self, stddev, seed=None, **kwargs):
        _check_fraction("stddev", stddev)
        super().__init__(seed=seed, **kwargs)
        self.stddev = stddev

    def call(self, inputs, training=False):
        if not training or self.stddev <= 0:
            return inputs
        return _GaussianNoise.apply(inputs, stddev=float(self.stddev), multiplicative=False,
                                    seed=self._generator(inputs.device))

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_SeededNoise):
    """Multiplies the inputs by ``N(1, rate / (1 - rate))`` noise in training.

    >>> GaussianDropout(0.2)(np.ones((1, 2))).numpy()  # inference: unchanged
    array([[1., 1.]], dtype=float32)
    """

    def __init__(self, rate, seed=None, **kwargs):
        _check_fraction("rate", rate)
        super().__init__(seed=seed, **kwargs)
        self.rate = rate

    def call(self, inputs, training=False):
        if not training or self.rate <= 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate)) if self.rate < 1 else math.inf
        return _GaussianNoise.apply(inputs, stddev=stddev, multiplicative=True,
                                    seed=self._generator(inputs.device))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(_SeededNoise):
    """Dropout for SELU networks: dropped units take SELU's negative saturation value, then an
    affine map restores the inputs' mean and variance.

    >>> AlphaDropout(0.2)(np.ones((1, 2))).numpy()  # inference: unchanged
    array([[1., 1.]], dtype=float32)
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        _check_fraction("rate", rate)
        super().__init__(seed=seed, **kwargs)
        self.rate = rate
        self.noise_shape = noise_shape

    def call(self, inputs, training=False):
        if not training or self.rate <= 0:
            return inputs
        shape = tuple(inputs.shape)
        noise_shape = shape if self.noise_shape is None else tuple(
            d if n is None else int(n) for n, d in zip(self.noise_shape, shape))
        if len(noise_shape) != len(shape) or any(n not in (1, d)
                                                 for n, d in zip(noise_shape, shape)):
            raise ValueError(f"Layer '{self.name}': `noise_shape` must broadcast to the input's "
                             f"shape {shape}. Received: noise_shape={self.noise_shape}")
        return _AlphaDropout.apply(inputs, rate=float(self.rate), noise_shape=noise_shape,
                                   seed=self._generator(inputs.device))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}


class _SpatialDropout(Dropout):
    """Dropout of whole feature maps: one draw per (example, channel)."""

    _ndim = None

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError("The `data_format` argument must be one of \"channels_first\", "
                             f"\"channels_last\". Received: data_format={data_format}")
        self.data_format = data_format or "channels_last"
        self.input_spec = InputSpec(ndim=self._ndim)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        shape = tuple(inputs.shape)
        if self.data_format == "channels_first":
            noise_shape = shape[:2] + (1,) * (len(shape) - 2)
        else:
            noise_shape = (shape[0],) + (1,) * (len(shape) - 2) + (shape[-1],)
        if self.rate >= 1:
            return engine.ops.multiply(inputs, 0.0)
        return engine.ops.dropout(inputs, self.rate, noise_shape=noise_shape,
                                  seed=self._seed_generator(inputs.device))

    def get_config(self):
        # NOTE: Keras's spatial dropouts write exactly these keys (no `trainable`, a dtype name).
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype,
                "data_format": self.data_format}


class SpatialDropout1D(_SpatialDropout):
    """Drops entire 1D feature maps (channels) of ``(batch, steps, channels)`` inputs.

    >>> SpatialDropout1D(0.5)(np.ones((1, 2, 3))).shape
    (1, 2, 3)
    """

    _ndim = 3

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class SpatialDropout2D(_SpatialDropout):
    """Drops entire 2D feature maps (channels) of 4D inputs.

    >>> SpatialDropout2D(0.5)(np.ones((1, 2, 2, 3))).shape
    (1, 2, 2, 3)
    """

    _ndim = 4


class SpatialDropout3D(_SpatialDropout):
    """Drops entire 3D feature maps (channels) of 5D inputs.

    >>> SpatialDropout3D(0.5)(np.ones((1, 2, 2, 2, 3))).shape
    (1, 2, 2, 2, 3)
    """

    _ndim = 5


class ActivityRegularization(Layer):
    """The identity, adding ``l1 * sum(|x|) + l2 * sum(x**2)`` of its output to ``losses``.

    >>> ActivityRegularization(l2=0.1)(np.ones((1, 2))).numpy()
    array([[1., 1.]], dtype=float32)
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.supports_masking = True
        self.l1 = l1
        self.l2 = l2
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    _output_dtype = _input_dtype

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}


__all__ = ["ActivityRegularization", "AlphaDropout", "GaussianDropout", "GaussianNoise",
           "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"]
