"""Core layers: Dense, Activation, Dropout, Lambda, Masking, Identity."""
from __future__ import annotations

import inspect
import numbers

from engine import backend, ops

from .. import activations, constraints, initializers, regularizers, utils
from ..sparse import SparseBatch
from ..symbolic import KerasTensor
from .input_spec import InputSpec
from .layer import Layer


class Dense(Layer):
    """``activation(inputs @ kernel + bias)`` on the last axis.

    >>> Dense(16, activation="relu")(Input((8,))).shape
    (None, 16)
    """

    _accepts_sparse = True  # a SparseBatch input is a gather-and-sum (docs/sparse.md)

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 lora_rank=None, lora_alpha=None, quantization_config=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        for arg, value in (("lora_rank", lora_rank), ("quantization_config", quantization_config)):
            if value is not None:
                raise ValueError(f"Dense does not support `{arg}` in kerasish yet. "
                                 f"Received: {arg}={value}")
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive "
                             f"integer. Received: units={units}")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        in_dim = input_shape[-1]
        self.kernel = self.add_weight(shape=(in_dim, self.units), name="kernel",
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self.add_weight(shape=(self.units,), name="bias",
                                    initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_dim})

    def call(self, inputs):
        # NOTE: a SparseBatch (docs/sparse.md) is a gather-and-sum of the kernel's rows.
        y = inputs.matmul(self.kernel) if isinstance(inputs, SparseBatch) else \
            ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            y = ops.add(y, self.bias)
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "quantization_config": None}


# -- helpers shared by the layers below ------------------------------------------------------

def _input_dtype(layer, inputs):
    """The dtype of the first input: what shape-only layers output (ints stay ints)."""
    first = utils.flatten(inputs)[0]
    return getattr(first, "dtype", layer.dtype)


def _any(x, axis=-1, keepdims=False):
    """``keras.ops.any`` on a boolean tensor (the max of booleans is their OR)."""
    return ops.max(x, axis=axis, keepdims=keepdims)


def _as_shapes(value):
    """Shapes given as lists (e.g. from JSON) as tuples: ``[None, 3]`` -> ``(None, 3)``."""
    if isinstance(value, (list, tuple)):
        if utils.is_shape(tuple(value)):
            return tuple(value)
        return type(value)(_as_shapes(v) for v in value)
    return value


def _callable_name(fn):
    return getattr(fn, "__name__", type(fn).__name__)


class Activation(Layer):
    """Applies an activation function to its input.

    >>> Activation("relu")(np.array([[-1.0, 2.0]])).numpy()
    array([[0., 2.]], dtype=float32)
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        try:
            self.activation = activations.get(activation)
        except ValueError:
            raise ValueError(f"Could not interpret the activation of layer '{self.name}'. "
                             f"Received: activation={activation!r}") from None
        self.supports_masking = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Zeroes a fraction ``rate`` of the inputs in training and scales the rest by 1/(1-rate).

    Identity unless called with ``training=True`` (``fit`` does that). With a ``seed``, the layer
    owns a generator seeded once: calls draw different masks, reproducibly (Keras's
    SeedGenerator).

    >>> Dropout(0.5)(np.ones((2, 4))).numpy()  # inference: unchanged
    array([[1., 1., 1., 1.],
           [1., 1., 1., 1.]], dtype=float32)
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate <= 1:
            raise ValueError("Invalid value received for argument `rate`. Expected a float value "
                             f"between 0 and 1. Received: rate={rate}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"Expected `seed` to be an integer or None. Received: seed={seed!r}")
        self.rate = rate
        self.seed = seed
        self.noise_shape = self._validate_noise_shape(noise_shape)
        self.supports_masking = True
        self._generators = {}

    @staticmethod
    def _validate_noise_shape(noise_shape):
        if noise_shape is None:
            return None
        try:
            noise_shape = tuple(noise_shape)
        except TypeError:
            noise_shape = "invalid"
        if isinstance(noise_shape, str) or any(
                d is not None and (isinstance(d, bool) or not isinstance(d, numbers.Integral)
                                   or d <= 0) for d in noise_shape):
            raise ValueError("Invalid value received for argument `noise_shape`. Expected a tuple "
                             f"of positive integers or None. Received: noise_shape={noise_shape}")
        return tuple(None if d is None else int(d) for d in noise_shape)

    def build(self, input_shape):
        if self.noise_shape is None:
            return
        shape = tuple(input_shape)
        ok = len(self.noise_shape) == len(shape) and all(
            n is None or d is None or n in (1, d) for n, d in zip(self.noise_shape, shape))
        if not ok:
            raise ValueError(f"Layer '{self.name}': `noise_shape` must have the input's rank and "
                             "each entry equal to the input's dimension, 1 or None. Received: "
                             f"noise_shape={self.noise_shape} for input shape {shape}")

    def _seed_generator(self, device):
        if self.seed is None:
            return None  # the engine's global generator (keras.utils.set_random_seed)
        if device not in self._generators:
            self._generators[device] = backend.make_rng(device, int(self.seed))
        return self._generators[device]

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        if self.rate >= 1:
            return ops.multiply(inputs, 0.0)  # NOTE: everything dropped (Keras gives zeros too)
        return ops.dropout(inputs, self.rate, noise_shape=self.noise_shape,
                           seed=self._seed_generator(inputs.device))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    _output_dtype = _input_dtype

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}


class Lambda(Layer):
    """Wraps a function of engine Tensors (written with ``engine.ops``) as a layer.

    Its config keeps the function's *name* only, never its code: ``Lambda.from_config`` needs
    the function again (``function=`` or ``custom_objects={name: fn}``).

    >>> Lambda(lambda x: ops.square(x))(np.array([[3.0]])).numpy()
    array([[9.]], dtype=float32)
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError("Lambda's `function` must be callable. "
                             f"Received: function={function!r}")
        if arguments is not None and not isinstance(arguments, dict):
            raise ValueError("Lambda's `arguments` must be a dict of keyword arguments. "
                             f"Received: arguments={arguments!r}")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        self._output_shape = output_shape if callable(output_shape) else _as_shapes(output_shape)
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):  # some builtins have no signature
            params = {}
        self._fn_expects_training_arg = "training" in params
        self._fn_expects_mask_arg = "mask" in params

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            raise NotImplementedError  # the Layer runs the function on zeros to find out
        if callable(self._output_shape):
            return _as_shapes(self._output_shape(input_shape))
        batch = utils.flatten(input_shape)[0]
        return utils.map_shapes(lambda s: (batch,) + tuple(s), self._output_shape)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def get_config(self):
        cfg = {**super().get_config(), "function": _callable_name(self.function)}
        if self._output_shape is not None:
            cfg["output_shape"] = (_callable_name(self._output_shape)
                                   if callable(self._output_shape) else self._output_shape)
        if self.mask is not None:
            cfg["mask"] = _callable_name(self.mask) if callable(self.mask) else self.mask
        cfg["arguments"] = dict(self.arguments)
        return cfg

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None, function=None,
                    output_shape=None, mask=None):
        """Rebuilds a Lambda; its callables must be given again (configs hold names only).

        Args:
            config: from ``get_config``.
            custom_objects: ``{name: callable}`` for the names the config holds.
            safe_mode: accepted for Keras compatibility; no code is ever deserialized.
            function, output_shape, mask: the callables themselves (win over the config).
        """
        config = dict(config)
        custom_objects = custom_objects or {}
        config["function"] = cls._resolve(config, "function", function, custom_objects,
                                          required=True)
        for key, given in (("output_shape", output_shape), ("mask", mask)):
            if key in config or given is not None:
                config[key] = cls._resolve(config, key, given, custom_objects, required=False)
        return cls(**config)

    @staticmethod
    def _resolve(config, key, given, custom_objects, required):
        if given is not None:
            return given
        value = config.get(key)
        if callable(value) or (value is not None and not isinstance(value, str)):
            return value  # a callable or a plain value (an output shape tuple, a mask)
        if isinstance(value, str) and value in custom_objects:
            return custom_objects[value]
        if value is None and not required:
            return None
        raise ValueError(
            f"Lambda layers can't be rebuilt from a config without their {key}: the config "
            "keeps only the callable's name, never its code (kerasish deserializes no code, so "
            f"safe_mode=False does not help). Pass it again, e.g. `Lambda.from_config(config, "
            f"{key}=fn)` or `custom_objects={{{value!r}: fn}}`. Received: {key}={value!r}")


class Masking(Layer):
    """Masks the timesteps whose features all equal ``mask_value`` (and zeroes them).

    output = inputs * any(inputs != mask_value, axis=-1); mask = any(inputs != mask_value, -1).

    >>> Masking()(np.zeros((1, 2, 3))).shape
    (1, 2, 3)
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.mask_value = mask_value

    def compute_mask(self, inputs, mask=None):
        return _any(ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = _any(ops.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        return ops.multiply(inputs, ops.cast(keep, inputs.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    _output_dtype = _input_dtype

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


class Identity(Layer):
    """Returns its inputs unchanged (any structure), masks included.

    >>> Identity()(Input((3,))).shape
    (None, 3)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, inputs, *args, **kwargs):
        return utils.map_structure(lambda t: KerasTensor(t.shape, dtype=t.dtype), inputs)
