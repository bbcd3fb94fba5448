"""Sequential: a stack of layers, functional under the hood once its input shape is known."""
from __future__ import annotations

from .. import utils
from ..layers.input_layer import Input, InputLayer
from ..layers.layer import Layer
from ..symbolic import is_keras_tensor
from .functional import Functional
from .model import Model


class Sequential(Model):
    """A linear stack of layers.

    >>> model = Sequential([Input((8,)), Dense(4, activation="relu"), Dense(1)])
    """

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name)
        self._stack = []
        self._set_functional(None)
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    def add(self, layer, rebuild=True):
        """Appends a layer (an ``Input()`` tensor becomes the model's InputLayer)."""
        if is_keras_tensor(layer) and layer._keras_history is not None:
            origin = layer._keras_history[0]
            if isinstance(origin, InputLayer):
                layer = origin
        if not isinstance(layer, Layer):
            raise ValueError("Only instances of `keras.Layer` can be added to a Sequential "
                             f"model. Received: {layer} (of type {type(layer)})")
        if isinstance(layer, InputLayer) and self._stack:
            raise ValueError(f"Sequential model '{self.name}' has already been configured to "
                             f"use input shape. You cannot add a different Input layer to it.")
        if any(existing.name == layer.name for existing in self._stack):
            raise ValueError(f"All layers added to a Sequential model should have unique names. "
                             f"Name '{layer.name}' is already the name of a layer in this model.")
        self._stack.append(layer)
        if not isinstance(layer, InputLayer):
            self._layers.append(layer)
        if rebuild:
            self._maybe_rebuild()
        else:
            self.built = False

    def pop(self, rebuild=True):
        layers = self.layers
        if not layers:
            raise TypeError("There are no layers in the model.")
        layer = layers[-1]
        self._stack.remove(layer)
        self._layers.remove(layer)
        self._set_functional(None)
        self.built = False
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _input_batch_shape(self):
        if self._stack and isinstance(self._stack[0], InputLayer):
            return self._stack[0].batch_shape
        if self._stack and self._stack[0]._input_shape_arg is not None:
            return (None,) + self._stack[0]._input_shape_arg
        return None

    def _maybe_rebuild(self):
        shape = self._input_batch_shape()
        if shape is not None and self.layers:
            self.build(shape)

    def build(self, input_shape=None):
        if input_shape is None:
            input_shape = self._input_batch_shape()
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        if self._stack and isinstance(self._stack[0], InputLayer):
            inputs = self._stack[0].output
            if tuple(inputs.shape) != tuple(input_shape):
                inputs = None
        else:
            inputs = None
        if inputs is None:
            inputs = Input(batch_shape=tuple(input_shape), dtype=self._first_dtype())
            if self._stack and isinstance(self._stack[0], InputLayer):
                self._stack[0] = inputs._keras_history[0]
            else:
                self._stack.insert(0, inputs._keras_history[0])
        x = inputs
        for layer in self.layers:
            x = layer(x)
        self._set_functional(Functional(inputs, x, name=self.name + "_functional"))
        self.built = True

    def _set_functional(self, model):
        # NOTE: not tracked as a sub-layer: its layers are already ours.
        object.__setattr__(self, "_functional", model)

    def _first_dtype(self):
        return "float32"

    def call(self, inputs, training=None, mask=None):
        if self._functional is None:
            self.build((None,) + tuple(inputs.shape[1:]))
        return self._functional.call(inputs, training=training, mask=mask)

    def compute_output_spec(self, inputs, *args, **kwargs):
        if self._functional is None:
            self.build(tuple(inputs.shape))
        return self._functional.compute_output_spec(inputs)

    def compute_output_shape(self, input_shape):
        if self._functional is None:
            self.build(tuple(input_shape))
        return self._functional.compute_output_shape(input_shape)

    def _maybe_build(self, shapes):
        if not self.built:
            self.build((None,) + tuple(shapes[1:]) if utils.is_shape(shapes) else shapes)

    @property
    def inputs(self):
        return self._functional.inputs if self._functional else None

    @property
    def outputs(self):
        return self._functional.outputs if self._functional else None

    @property
    def input_shape(self):
        return self._functional.input_shape

    @property
    def output_shape(self):
        return self._functional.output_shape

    def get_config(self):
        """Keras 3's Sequential config: name, trainable, dtype, layers (its InputLayer first,
        once built) and build_input_shape."""
        from ..layers.layer import serialize_dtype_policy
        from ..saving.serialization import serialize_keras_object

        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": serialize_dtype_policy(self.dtype),
                  "layers": [serialize_keras_object(layer) for layer in self._stack]}
        if self._functional is not None:
            config["build_input_shape"] = self._stack[0].batch_shape
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A Sequential model from ``get_config()``: Keras 3's dict, tf.keras 2's (an InputLayer
        with ``batch_input_shape``, or that key on the first layer), or a bare layer list."""
        from ..saving.serialization import deserialization_scope, deserialize_keras_object

        if isinstance(config, list):  # Keras 1's config: the layer list itself
            config = {"layers": config}
        layer_configs = config["layers"]
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        with deserialization_scope(custom_objects, True):
            for index, layer_config in enumerate(layer_configs):
                batch_shape = (layer_config.get("config") or {}).get("batch_input_shape")
                if index == 0 and batch_shape and layer_config["class_name"] != "InputLayer":
                    # NOTE: tf.keras 2 names the input it makes "<first layer>_input".
                    name = layer_config["config"].get("name")
                    model.add(InputLayer(batch_shape=batch_shape, dtype=_dtype_of(layer_config),
                                         name=f"{name}_input" if name else None), rebuild=False)
                model.add(deserialize_keras_object(layer_config), rebuild=False)
        model._maybe_rebuild()
        build_input_shape = config.get("build_input_shape")
        if model._functional is None and isinstance(build_input_shape, (list, tuple)):
            model.build(tuple(build_input_shape))
        return model


def _dtype_of(layer_config):
    from ..layers.layer import dtype_name

    return dtype_name(layer_config["config"].get("dtype"))
