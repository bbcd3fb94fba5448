"""Layer wrappers: Wrapper (the base), TimeDistributed (one layer over every time step),
Bidirectional (RNNs) and SpectralNormalization (a kernel scaled to spectral norm 1)."""
from __future__ import annotations

import types

import engine
from engine import ops

from .. import initializers, utils
from .input_spec import InputSpec, check_input_spec
from .layer import Layer, _call_signature
from ..saving.serialization import deserialize_layer, serialize_layer


class Wrapper(Layer):
    """Base class of layers that wrap another layer (``self.layer``), built with it.

    >>> class Twice(Wrapper):
    ...     def call(self, inputs):
    ...         return self.layer(self.layer(inputs))
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Layer {layer} supplied to Wrapper isn't a supported layer type. "
                             "Please ensure wrapped layer is a valid Keras layer. "
                             f"Received: layer={layer!r}")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer._maybe_build(input_shape)

    def get_config(self):
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"))
        return cls(layer, **config)


class TimeDistributed(Wrapper):
    """Applies ``layer`` to every time step of ``(batch, time, ...)`` inputs.

    The time axis is folded into the batch: ``(B, T, ...) -> (B*T, ...)``, one call of the
    inner layer (a layer or a whole Model), then unfolded. The weights are shared over time.

    >>> TimeDistributed(Dense(8))(np.ones((2, 5, 3))).shape
    (2, 5, 8)
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `TimeDistributed` layer with a "
                             f"`keras.layers.Layer` instance. Received: layer={layer}")
        super().__init__(layer, **kwargs)
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)

    def _child_shape(self, input_shape):
        if not utils.is_shape(tuple(input_shape)) or len(input_shape) < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an `input_shape` with at "
                             f"least 3 dimensions. Received: input_shape={input_shape}")
        return (None,) + tuple(input_shape[2:])

    def build(self, input_shape):
        child = self._child_shape(input_shape)
        if not self.layer.built:
            self.layer._maybe_build(child)

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape((input_shape[0],) + tuple(input_shape[2:]))
        return utils.map_shapes(lambda s: (s[0], input_shape[1]) + tuple(s[1:]), child)

    def call(self, inputs, training=None, mask=None):
        batch, steps = inputs.shape[0], inputs.shape[1]
        kwargs = {"training": training}
        has_mask = _call_signature(type(self.layer))[1]
        if mask is not None and has_mask:
            if tuple(mask.shape[:2]) != (batch, steps):
                raise ValueError(f"`TimeDistributed` Layer should be passed a `mask` of shape "
                                 f"({batch}, {steps}, ...). Received: mask.shape={mask.shape}")
            kwargs["mask"] = ops.reshape(mask, (batch * steps,) + tuple(mask.shape[2:]))
        folded = ops.reshape(inputs, (batch * steps,) + tuple(inputs.shape[2:]))
        outputs = self.layer(folded, **kwargs)
        return utils.map_structure(
            lambda y: ops.reshape(y, (batch, steps) + tuple(y.shape[1:])), outputs)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"])
        return cls(**config)


_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _copy(layer, name, **overrides):
    cfg = {**layer.get_config(), **overrides, "name": name}
    return type(layer).from_config(cfg)


class Bidirectional(Layer):
    """Runs an RNN forwards and a copy of it backwards over the sequence, and merges them.

    The layer is copied from its config (fresh weights): ``forward_<name>`` and
    ``backward_<name>`` (``go_backwards=True``). With ``return_sequences`` the backward outputs
    are flipped back in time before the merge, and masked steps output zeros.

    >>> Bidirectional(LSTM(4, return_sequences=True))(np.ones((2, 5, 3))).shape
    (2, 5, 8)
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `Bidirectional` layer with a "
                             f"`keras.layers.Layer` instance. Received: layer={layer}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError("`backward_layer` need to be a `keras.layers.Layer` instance. "
                             f"Received: backward_layer={backward_layer}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError('Invalid merge mode. Merge mode should be one of {"sum", "mul", '
                             f'"ave", "concat", None}}. Received: merge_mode={merge_mode}')
        if weights is not None:
            raise ValueError("The `weights` argument is not supported; call `set_weights` "
                             f"after building. Received: weights={type(weights).__name__}")
        super().__init__(**kwargs)
        self.forward_layer = _copy(layer, "forward_" + layer.name.removeprefix("forward_"))
        if backward_layer is None:
            self.backward_layer = _copy(layer, "backward_" + layer.name.removeprefix("backward_"),
                                        go_backwards=True)
        else:
            self.backward_layer = backward_layer
        self._verify_layer_config()
        for sub in (self.forward_layer, self.backward_layer):
            # NOTE: as Keras: masked steps give zeros, so the flipped backward outputs line up.
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.input_spec = layer.input_spec

    def _verify_layer_config(self):
        fwd, bwd = self.forward_layer, self.backward_layer
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError("Forward layer and backward layer should have different "
                             "`go_backwards` value. Received: "
                             f"backward_layer.go_backwards={bwd.go_backwards}")
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(fwd, attr) != getattr(bwd, attr):
                raise ValueError(f"Forward layer and backward layer are expected to have the "
                                 f'same value for attribute "{attr}". Received: '
                                 f"backward_layer.{attr}={getattr(bwd, attr)}")

    def build(self, sequences_shape, initial_state_shape=None):
        check_input_spec(self, types.SimpleNamespace(shape=tuple(sequences_shape)))
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub._maybe_build(sequences_shape)
                for w in sub.weights:  # bidirectional/forward_lstm/lstm_cell/kernel
                    w.path = f"{self.name}/{w.path}"

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        out = self.forward_layer.compute_output_shape(sequences_shape)
        states = []
        if self.return_state:
            out, states = out[0], list(out[1:])
        if self.merge_mode == "concat":
            out = tuple(out[:-1]) + (out[-1] * 2,)
        outputs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            return outputs + states + states
        return outputs if self.merge_mode is None else out

    def call(self, sequences, initial_state=None, mask=None, training=None):
        kwargs = {"training": training, "mask": mask}
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(sequences, initial_state=forward_state, **kwargs)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, **kwargs)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = ops.flip(y_rev, axis=1)
        if self.merge_mode == "concat":
            output = [ops.concatenate([y, y_rev], axis=-1)]
        elif self.merge_mode == "sum":
            output = [ops.add(y, y_rev)]
        elif self.merge_mode == "ave":
            output = [ops.multiply(ops.add(y, y_rev), 0.5)]
        elif self.merge_mode == "mul":
            output = [ops.multiply(y, y_rev)]
        else:
            output = [y, y_rev]
        if self.return_state or self.merge_mode is None:
            return output + states
        return output[0]

    def reset_state(self):
        """Zeroes the states of both stateful RNNs."""
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    def reset_states(self):
        """Compatibility alias of ``reset_state``."""
        self.reset_state()

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        outputs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            n = len(getattr(self.forward_layer, "state_size", [])) * 2
            return outputs + [None] * n
        return outputs if self.merge_mode is None else out

    def get_config(self):
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": serialize_layer(self.forward_layer),
                "backward_layer": serialize_layer(self.backward_layer)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        nested = config["layer"]
        build_config = nested.get("build_config") if isinstance(nested, dict) else None
        config["layer"] = deserialize_layer(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_layer(config["backward_layer"])
        layer = cls(**config)
        if build_config and build_config.get("input_shape"):
            # NOTE: the copies made in __init__ are unbuilt; built ones were saved built.
            layer._maybe_build(tuple(build_config["input_shape"]))
        return layer


def _l2_normalize(x):
    """``x / ||x||`` over every element (Keras's ``normalize(axis=None)``, epsilon 1e-7)."""
    square_sum = ops.sum(ops.square(x))
    return ops.divide(x, ops.sqrt(ops.maximum(square_sum, 1e-14)))


class SpectralNormalization(Wrapper):
    """Divides the wrapped layer's kernel (or embeddings) by its spectral norm in training.

    Each training call runs ``power_iterations`` steps of the power method from the
    non-trainable vector ``vector_u`` (shape ``(1, kernel.shape[-1])``), estimates the largest
    singular value ``sigma`` of the kernel seen as a ``(-1, kernel.shape[-1])`` matrix, and
    assigns ``kernel / sigma`` and the new ``u`` to the variables before calling the layer (a
    zero kernel is left alone). At inference the layer runs on the kernel as it stands.

    >>> SpectralNormalization(Dense(4))(np.ones((2, 3))).shape
    (2, 4)
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if power_iterations <= 0:
            raise ValueError("`power_iterations` should be greater than zero. Received: "
                             f"`power_iterations={power_iterations}`")
        self.power_iterations = power_iterations

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        kernel = getattr(self.layer, "kernel", None)
        if kernel is None:
            kernel = getattr(self.layer, "embeddings", None)
        if kernel is None:
            raise ValueError(f"{type(self.layer).__name__} object has no attribute 'kernel' nor "
                             f"'embeddings'. Received: layer={self.layer.name}")
        self.kernel = kernel
        # NOTE: a mixed policy swaps `self.kernel` for a float16 cast during the call; the
        # power iteration reads and assigns the variable itself.
        self._kernel_variable = (kernel,)
        self.kernel_shape = tuple(kernel.shape)
        # NOTE: Keras tracks the kernel as the wrapper's own variable too, so the weights read
        # kernel, vector_u, then the layer's others (bias): the order its files use.
        self._trainable_variables.append(kernel)
        self.vector_u = self.add_weight(
            shape=(1, self.kernel_shape[-1]),
            initializer=initializers.TruncatedNormal(stddev=0.02), trainable=False,
            name="vector_u", dtype=kernel.dtype)

    def call(self, inputs, training=False):
        if training:
            with engine.no_grad():
                kernel = self._kernel_variable[0]
                if bool(ops.max(ops.absolute(kernel)).numpy() > 0):
                    new_u, new_kernel = self.normalized_weights()
                    self.vector_u.assign(new_u)
                    kernel.assign(new_kernel)
        return ops.cast(self.layer(inputs), inputs.dtype)

    def normalized_weights(self):
        """(new ``vector_u``, ``kernel / sigma``) from ``power_iterations`` power-method steps."""
        kernel = self._kernel_variable[0]
        weights = ops.reshape(kernel, (-1, self.kernel_shape[-1]))
        vector_u = self.vector_u
        for _ in range(self.power_iterations):
            vector_v = _l2_normalize(ops.matmul(vector_u, ops.transpose(weights)))
            vector_u = _l2_normalize(ops.matmul(vector_v, weights))
        sigma = ops.matmul(ops.matmul(vector_v, weights), ops.transpose(vector_u))
        return vector_u, ops.reshape(ops.divide(kernel, sigma), self.kernel_shape)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}


__all__ = ["Bidirectional", "SpectralNormalization", "TimeDistributed", "Wrapper"]
