"""Weight initializers by Keras name or object (``glorot_uniform``, ``orthogonal``, ...)."""
from __future__ import annotations

import math

import numpy as np

from engine import random as engine_random


def _fans(shape):
    """(fan_in, fan_out) as Keras computes them (receptive field x channels for kernels)."""
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class of the initializers: ``__call__(shape, dtype)`` returns a NumPy array.

    >>> class Halves(Initializer):
    ...     def __call__(self, shape, dtype="float32"):
    ...         return np.full(shape, 0.5, dtype)
    """

    def __call__(self, shape, dtype="float32"):
        raise NotImplementedError

    def get_config(self):
        return {}

    def clone(self):
        return type(self).from_config(self.get_config())

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype="float32"):
        return np.full(shape, self.value, dtype=dtype)

    def get_config(self):
        return {"value": self.value}


class Zeros(Constant):
    def __init__(self):
        super().__init__(0.0)

    def get_config(self):
        return {}


class Ones(Constant):
    def __init__(self):
        super().__init__(1.0)

    def get_config(self):
        return {}


class _Seeded(Initializer):
    def __init__(self, seed=None):
        self.seed = seed

    def _rng(self):
        # Unseeded initializers draw from the engine's global stream (set_random_seed).
        return np.random.default_rng(self.seed) if self.seed is not None else \
            engine_random.generator("cpu")

    def get_config(self):
        return {"seed": self.seed}


class RandomUniform(_Seeded):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype="float32"):
        return self._rng().uniform(self.minval, self.maxval, shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(_Seeded):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype="float32"):
        return (self._rng().standard_normal(shape) * self.stddev + self.mean).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    def __call__(self, shape, dtype="float32"):
        rng, x = self._rng(), np.empty(int(np.prod(shape)))
        filled = 0
        while filled < x.size:  # redraw values beyond two standard deviations
            draw = rng.standard_normal(x.size - filled)
            draw = draw[np.abs(draw) <= 2.0]
            x[filled:filled + draw.size] = draw
            filled += draw.size
        return (x.reshape(shape) * self.stddev + self.mean).astype(dtype)


class VarianceScaling(_Seeded):
    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        super().__init__(seed)
        if input_axes is not None or output_axes is not None:
            # NOTE: Keras 3.15 writes these (EinsumDense fans); None is the only value kerasish
            # layers need.
            raise ValueError("VarianceScaling supports only input_axes=None and "
                             f"output_axes=None. Received: input_axes={input_axes}, "
                             f"output_axes={output_axes}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument. Received: mode={mode}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError("Invalid `distribution` argument. "
                             f"Received: distribution={distribution}")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype="float32"):
        fan_in, fan_out = _fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return self._rng().uniform(-limit, limit, shape).astype(dtype)
        if self.distribution == "untruncated_normal":
            return (self._rng().standard_normal(shape) * math.sqrt(variance)).astype(dtype)
        # 0.8796... is the stddev of a unit normal truncated to [-2, 2].
        stddev = math.sqrt(variance) / 0.87962566103423978
        return TruncatedNormal(0.0, stddev, self.seed)(shape, dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


def _variance_scaling(name, scale, mode, distribution):
    def init(self, seed=None, input_axes=None, output_axes=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed, input_axes, output_axes)

    return type(name, (VarianceScaling,), {
        "__init__": init,
        "get_config": lambda self: {"seed": self.seed, "input_axes": None, "output_axes": None}})


GlorotUniform = _variance_scaling("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _variance_scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _variance_scaling("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _variance_scaling("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _variance_scaling("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _variance_scaling("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Orthogonal(_Seeded):
    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype="float32"):
        rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        cols = shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q[:rows, :cols]).reshape(shape).astype(dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype="float32"):
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={tuple(shape)} of rank {len(shape)}.")
        return (self.gain * np.eye(*shape)).astype(dtype)

    def get_config(self):
        return {"gain": self.gain}


_WINDOWS = {"hann": np.hanning, "hamming": np.hamming, "blackman": np.blackman,
            "bartlett": np.bartlett, "boxcar": np.ones}


def _window(name, length, periodic):
    """A window as ``scipy.signal.get_window(name, length, fftbins=periodic)`` gives it."""
    n = length + 1 if periodic else length
    if name in _WINDOWS:
        win = _WINDOWS[name](n)
    else:
        try:
            from scipy import signal
        except ImportError:
            raise ValueError(f"STFT: the window '{name}' needs SciPy (kerasish computes "
                             f"{sorted(_WINDOWS)} itself). Received: window={name!r}") from None
        return np.asarray(signal.get_window(name, length, fftbins=periodic), np.float64)
    return np.asarray(win[:length], np.float64)


class STFT(Initializer):
    """Conv kernels that compute a short-time Fourier transform (``STFTSpectrogram``'s): the
    real (``cos``) or imaginary (``-sin``) part, windowed and normalized.

    The shape is ``(frame_length, 1, fft_length // 2 + 1)``.

    Args:
        side: ``"real"`` or ``"imag"``.
        window: A window name (``"hann"``, ``"hamming"``, ``"blackman"``, ``"bartlett"``,
            ``"boxcar"``; others through SciPy), an array of ``frame_length`` values, or None.
        scaling: ``"density"`` (divide by the window's L2 norm), ``"spectrum"`` (by its L1
            norm) or None.
        periodic: Whether a named window is periodic (DFT-even) rather than symmetric.

    >>> STFT("real", "hann")((8, 1, 5)).shape
    (8, 1, 5)
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            _window(window, 1, False)  # an unknown name fails here, as in Keras
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError("Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                             f"Received scaling={scaling}")
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype="float32"):
        frame_length, _, fft_length = shape
        time = np.arange(frame_length, dtype=np.float64).reshape(frame_length, 1, 1)
        freq = np.arange(fft_length, dtype=np.float64).reshape(1, 1, fft_length)
        args = -2 * np.pi * time * freq / ((fft_length - 1) * 2)
        kernel = np.cos(args) if self.side == "real" else np.sin(args)
        if self.window is not None:
            win = self.window
            win = _window(win, frame_length, self.periodic) if isinstance(win, str) \
                else np.asarray(win, np.float64)
            if win.ndim != 1 or win.shape[-1] != frame_length:
                raise ValueError("The shape of `window` must be equal to [frame_length]."
                                 f"Received: window shape={win.shape}")
            win = win.reshape(frame_length, 1, 1)
            scale = {"density": np.sqrt(np.sum(win ** 2)), "spectrum": np.sum(np.abs(win)),
                     None: 1.0}[self.scaling]
            kernel = kernel * win / scale
        return kernel.astype(dtype or "float32")

    def get_config(self):
        window = self.window
        if isinstance(window, np.ndarray):
            window = window.tolist()
        return {"side": self.side, "window": window, "periodic": self.periodic,
                "scaling": self.scaling}


# Keras 3's lower-case names and compatibility aliases are the classes themselves.
constant, zeros, ones, identity, stft = Constant, Zeros, Ones, Identity, STFT
random_uniform, random_normal, truncated_normal = RandomUniform, RandomNormal, TruncatedNormal
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal = (
    GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal)
IdentityInitializer, OrthogonalInitializer, STFTInitializer = Identity, Orthogonal, STFT

_ALIASES = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_uniform": RandomUniform,
    "random_normal": RandomNormal, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "orthogonal": Orthogonal,
    "identity": Identity, "uniform": RandomUniform, "normal": RandomNormal, "one": Ones,
    "zero": Zeros, "stft": STFT, "IdentityInitializer": Identity,
    "OrthogonalInitializer": Orthogonal, "STFTInitializer": STFT,
}
_CLASSES = {cls.__name__: cls for cls in set(_ALIASES.values())}
_CLASSES["Initializer"] = Initializer


def get(identifier):
    """An initializer from a name, a class name, a config dict, an instance or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, Initializer) or callable(identifier) and \
            not isinstance(identifier, type):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier) or _CLASSES.get(identifier)
        if cls is not None:
            return cls()
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if hasattr(identifier, "shape") and hasattr(identifier, "dtype"):
        return _from_value(identifier)
    raise ValueError(f"Could not interpret initializer identifier: {identifier}")


def _from_value(value):
    """An initializer returning ``value`` (Keras's ``get(tensor)``); the shape must match."""
    value = np.asarray(value.numpy() if hasattr(value, "numpy") else value)

    def initialize_fn(shape, dtype=None):
        if tuple(shape) != value.shape:
            raise ValueError("When providing an explicit value via `initializer`, the shape "
                             f"must match the variable shape. Received: shape={tuple(shape)}, "
                             f"value.shape={value.shape}")
        return value.astype(dtype or value.dtype)

    return initialize_fn


def deserialize(config, custom_objects=None):
    """An initializer from its ``serialize`` dict (``{"class_name": "GlorotUniform", ...}``)."""
    if isinstance(config, str):
        config = {"class_name": config, "config": {}}
    class_name = config.get("class_name")
    cls = (custom_objects or {}).get(class_name) or _CLASSES.get(class_name) \
        or _ALIASES.get(class_name)
    if cls is None:
        raise ValueError(f"Could not interpret initializer identifier: {config}")
    return cls.from_config(dict(config.get("config") or {}))


def serialize(initializer):
    return {"module": "keras.initializers", "class_name": type(initializer).__name__,
            "config": initializer.get_config(), "registered_name": None}
