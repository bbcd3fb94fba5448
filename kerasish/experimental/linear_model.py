"""LinearModel: ``y = activation(bias + sum_i x_i @ w_i)`` over one input, a list of inputs
or a dict of named inputs, as tf.keras 2's premade model. Each input gets its own ``Dense``
kernel (no bias), so a sparse batch (``CategoryEncoding(sparse=True)``, docs/sparse.md) costs a
gather-and-sum of the kernel's rows, never a dense ``(batch, num_tokens)`` matrix."""
from __future__ import annotations

from engine import ops

from .. import activations, initializers, regularizers
from ..layers.core import Dense
from ..layers.input_spec import InputSpec
from ..models.model import Model


def _is_shape(value):
    return isinstance(value, (tuple, list)) and \
        all(d is None or isinstance(d, int) for d in value)


class LinearModel(Model):
    """Linear model for regression and classification (tf.keras 2's
    ``keras.experimental.LinearModel``): zeros-initialized kernels, one per input (a dict's
    inputs in sorted key order, each ``Dense`` named by its key), plus a bias.

    Args:
        units: output dimension.
        activation: applied to the sum (None: linear).
        use_bias: whether to add the bias (the intercept).
        kernel_initializer, bias_initializer: initializers (both ``"zeros"``).
        kernel_regularizer, bias_regularizer: optional regularizers.

    >>> model = LinearModel()
    >>> model.compile("sgd", "mse")
    >>> model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0).history["loss"]
    [1.0]
    """

    _accepts_sparse = True  # its Dense kernels take sparse batches (docs/sparse.md)

    def __init__(self, units=1, activation=None, use_bias=True, kernel_initializer="zeros",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dense_layers = []
        self.bias = None

    def _dense(self, shape, name=None):
        layer = Dense(self.units, use_bias=False, kernel_initializer=self.kernel_initializer,
                      kernel_regularizer=self.kernel_regularizer, name=name, dtype=self.dtype)
        layer.build(tuple(shape))
        layer.built = True
        return layer

    def build(self, input_shape):
        if isinstance(input_shape, dict):
            names = sorted(input_shape)
            self.dense_layers = [self._dense(input_shape[n], name=n) for n in names]
            self.input_specs = [InputSpec(shape=tuple(input_shape[n]), name=n) for n in names]
        elif isinstance(input_shape, (tuple, list)) and input_shape and \
                all(_is_shape(s) for s in input_shape):
            self.dense_layers = [self._dense(shape) for shape in input_shape]
        else:
            self.dense_layers = [self._dense(input_shape)]
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer)
        # NOTE: Model._maybe_build serializes a dict of shapes as keyword arguments of build;
        # wrapped, a dict input rebuilds from `build(input_shape={...})` when loaded.
        self._build_shapes = {"input_shape": input_shape} if isinstance(input_shape, dict) \
            else input_shape
        self.built = True

    def _maybe_build(self, shapes):
        if not self.built:
            self.build(shapes)

    @property
    def weights(self):
        """The kernels (in the inputs' order), then the bias: tf.keras 2's order."""
        own = self._trainable_variables + self._non_trainable_variables
        return [w for layer in self.dense_layers for w in layer.weights] + own

    def call(self, inputs):
        if isinstance(inputs, dict):
            names = [layer.name for layer in self.dense_layers]
            missing = set(names) - set(inputs)
            if missing:
                raise ValueError("The `inputs` dictionary does not match the structure expected "
                                 f"by the model.\n\tExpected keys: {set(names)}\n\tReceived "
                                 f"keys: {set(inputs)}\n\tMissing keys: {missing}")
            inputs = [inputs[name] for name in names]
        elif not isinstance(inputs, (tuple, list)):
            inputs = [inputs]
        if len(inputs) != len(self.dense_layers):
            raise ValueError(f"LinearModel '{self.name}' was built for "
                             f"{len(self.dense_layers)} inputs. Received: {len(inputs)} inputs")
        result = None
        for x, layer in zip(inputs, self.dense_layers):
            y = layer(x)
            result = y if result is None else ops.add(result, y)
        if self.use_bias:
            result = ops.add(result, self.bias)
        return result if self.activation is None else self.activation(result)

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, dict):
            input_shape = next(iter(input_shape.values()))
        elif isinstance(input_shape, (tuple, list)) and input_shape and \
                all(_is_shape(s) for s in input_shape):
            input_shape = input_shape[0]
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)
