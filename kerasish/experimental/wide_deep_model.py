"""WideDeepModel: a linear "wide" model and a DNN "deep" model trained jointly, their outputs
summed (then an optional activation), as tf.keras 2's premade model. ``compile`` takes one
optimizer for both parts or ``[linear_optimizer, dnn_optimizer]``, each stepping only its part's
weights (e.g. FTRL for the sparse wide part, Adagrad for the deep one)."""
from __future__ import annotations

import inspect

import engine
from engine import ops

from .. import activations, optimizers, utils
from .. import data as data_module
from ..models.model import Model


def _takes_training(model):
    call = type(model).call
    params = inspect.signature(call).parameters
    return "training" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


class WideDeepModel(Model):
    """Wide & Deep model (tf.keras 2's ``keras.experimental.WideDeepModel``).

    Args:
        linear_model: a ``LinearModel`` (or any model) for the wide part.
        dnn_model: a model for the deep part; its output must match the linear model's.
        activation: applied to the sum (None: linear).

    Inputs: one structure given to both parts, or ``[linear_inputs, dnn_inputs]``.

    >>> wide_deep = WideDeepModel(LinearModel(), Sequential([Dense(8, "relu"), Dense(1)]))
    >>> wide_deep.compile(["ftrl", "adagrad"], "mse")
    """

    _accepts_sparse = True  # the wide part takes sparse batches (docs/sparse.md)

    def __init__(self, linear_model, dnn_model, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.linear_model = linear_model
        self.dnn_model = dnn_model
        self.activation = activations.get(activation)

    def build(self, input_shape=None):
        """Nothing of its own to create: each part builds on its first call (or from its own
        saved build config)."""
        # NOTE: a dict of shapes would be saved as build's keyword arguments; wrapped, a model
        # of named inputs rebuilds from `build(input_shape={...})` when loaded.
        self._build_shapes = {"input_shape": input_shape} if isinstance(input_shape, dict) \
            else input_shape
        self.built = True

    def call(self, inputs, training=None):
        if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
            linear_inputs = dnn_inputs = inputs
        else:
            linear_inputs, dnn_inputs = inputs
        linear_output = self.linear_model(linear_inputs)
        if _takes_training(self.dnn_model):
            dnn_output = self.dnn_model(dnn_inputs, training=training)
        else:
            dnn_output = self.dnn_model(dnn_inputs)
        flat = [ops.add(a, b) for a, b in zip(utils.flatten(linear_output),
                                              utils.flatten(dnn_output))]
        output = utils.pack_like(linear_output, flat)
        if self.activation is None:
            return output
        return utils.map_structure(self.activation, output)

    def compile(self, optimizer="rmsprop", *args, **kwargs):
        """As ``Model.compile``; ``optimizer`` may also be ``[linear_optimizer,
        dnn_optimizer]`` (each an optimizer or its name)."""
        if isinstance(optimizer, (tuple, list)):
            if len(optimizer) != 2:
                raise ValueError("WideDeepModel takes one optimizer or two, "
                                 "`[linear_optimizer, dnn_optimizer]`. Received: "
                                 f"optimizer={optimizer}")
            pair = [optimizers.get(o) for o in optimizer]
            super().compile(pair[0], *args, **kwargs)
            self._compile_config["optimizer"] = pair
            self.optimizer = pair
            return
        super().compile(optimizer, *args, **kwargs)

    def train_step(self, data):
        if not isinstance(self.optimizer, (tuple, list)):
            return super().train_step(data)
        x, y, sample_weight = data_module.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        loss = self._compute_loss(x, y, y_pred, sample_weight, training=True)
        self._track_loss(loss, x)
        parts = [self.linear_model.trainable_weights, self.dnn_model.trainable_weights]
        grads = engine.grad(loss, parts[0] + parts[1])
        split = len(parts[0])
        part_grads = (list(grads[:split]), list(grads[split:]))
        for optimizer, variables, gradients in zip(self.optimizer, parts, part_grads):
            if variables:
                optimizer.apply(gradients, variables)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def get_compile_config(self):
        """Keras's compile config; two optimizers are written as a list of two configs."""
        if not isinstance(self.optimizer, (tuple, list)):
            return super().get_compile_config()
        pair, self.optimizer = self.optimizer, self.optimizer[0]
        try:
            config = super().get_compile_config()
        finally:
            self.optimizer = pair
        config["optimizer"] = [optimizers.serialize(o) for o in pair]
        return config

    # Its compile() takes Keras's saved config too (kerasish/saving/keras_archive.py).
    _compiles_from_config = True

    def compile_from_config(self, config):
        """Compiles from ``get_compile_config()``'s dict (one optimizer or a list of two)."""
        optimizer = config.get("optimizer")
        if not isinstance(optimizer, (tuple, list)):
            return super().compile_from_config(config)
        super().compile_from_config({**config, "optimizer": optimizer[0]})
        pair = [optimizers.deserialize(o) for o in optimizer]
        self.optimizer = pair
        self._compile_config["optimizer"] = pair
        if self.built:
            for opt, part in zip(pair, (self.linear_model, self.dnn_model)):
                opt.build(part.trainable_variables)

    def compute_output_spec(self, inputs, *args, **kwargs):
        """The linear part's output spec (the sum and the activation keep its shape)."""
        if isinstance(inputs, (tuple, list)) and len(inputs) == 2:
            inputs = inputs[0]
        return self.linear_model.compute_output_spec(inputs)

    def get_config(self):
        from ..saving.serialization import serialize_keras_object

        return {**super().get_config(),
                "linear_model": serialize_keras_object(self.linear_model),
                "dnn_model": serialize_keras_object(self.dnn_model),
                "activation": activations.serialize(self.activation)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..saving.serialization import deserialize_keras_object

        config = dict(config)
        linear_model = deserialize_keras_object(config.pop("linear_model"),
                                                custom_objects=custom_objects)
        dnn_model = deserialize_keras_object(config.pop("dnn_model"),
                                             custom_objects=custom_objects)
        activation = activations.get(config.pop("activation", None))
        return cls(linear_model=linear_model, dnn_model=dnn_model, activation=activation,
                   **config)
