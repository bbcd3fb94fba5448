"""Model: ``Model(inputs, outputs)`` builds a Functional model; subclasses define ``call``."""
from __future__ import annotations

import json

from .. import utils
from ..layers.layer import Layer
from ..symbolic import KerasTensor
from ..trainer import Trainer


def _is_functional_init(args, kwargs):
    return len(args) == 2 or (len(args) == 1 and "outputs" in kwargs) or \
        ("inputs" in kwargs and "outputs" in kwargs)


def _inject_functional(cls):
    """``cls`` with ``Model`` replaced by ``Functional`` among its (indirect) bases."""
    from .functional import Functional

    if cls is Model:
        return Functional
    if cls is object or cls is Functional or not issubclass(cls, Model):
        return cls
    cls.__bases__ = tuple(_inject_functional(base) for base in cls.__bases__)
    return cls


class Model(Trainer, Layer):
    """A layer with training and saving: functional (``Model(inputs, outputs)``) or subclassed.

    >>> inputs = Input((4,))
    >>> model = Model(inputs, Dense(2)(inputs))
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and _is_functional_init(args, kwargs):
            from .functional import Functional

            return Functional.__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        from .functional import Functional

        if _is_functional_init(args, kwargs) and not isinstance(self, Functional):
            # A subclass built like a functional model, `CustomModel(inputs, outputs)`,
            # becomes a Functional subclass (Keras 3 injects Functional into its bases).
            _inject_functional(type(self))
            Functional.__init__(self, *args, **kwargs)
            return
        Layer.__init__(self, trainable=kwargs.pop("trainable", True), name=kwargs.pop("name", None),
                       **{k: v for k, v in kwargs.items() if k in ("dtype",)})

    @property
    def layers(self):
        return list(self._layers)

    def build(self, input_shape=None):
        """Builds a subclassed model by running ``call`` once on inputs of ``input_shape``
        (zeros, unknown dimensions set to 1), so that its layers create their weights (Keras
        builds it by a symbolic call)."""
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument to build a subclassed "
                             f"model. Received: input_shape={input_shape}")
        self.built = True  # NOTE: before the call, which would otherwise build again
        self._build_shapes = input_shape
        specs = utils.map_shapes(lambda shape: KerasTensor(shape, dtype=self.dtype), input_shape)
        self._output_spec_by_running(specs)

    def get_layer(self, name=None, index=None):
        """A layer by ``name`` or by ``index`` in ``model.layers``."""
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index. Received: "
                             f"index={index}, name={name}.")
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only "
                                 f"has {len(self.layers)} layers.")
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: "
                             f"{[layer.name for layer in self.layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints Keras's summary table (see ``kerasish/models/summary.py``)."""
        from .summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable,
                      layer_range=layer_range)

    def load_weights(self, filepath, skip_mismatch=False, by_name=False):
        from ..saving import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name)

    def save_weights(self, filepath, overwrite=True):
        from ..saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Saves the whole model: ``.keras`` (Keras 3 archive) or ``.h5`` (legacy HDF5).

        >>> model.save("model.keras")
        """
        from ..saving import save_model

        save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def get_compile_config(self):
        """The arguments ``compile`` was given, serialized as Keras writes them ({} if the
        model is not compiled)."""
        from ..saving.keras_archive import get_compile_config

        return get_compile_config(self)

    def compile_from_config(self, config):
        """Compiles the model from ``get_compile_config()``'s dict and builds the optimizer."""
        from ..saving.keras_archive import compile_from_config

        compile_from_config(self, config)

    # -- configs (kerasish/saving/serialization.py, functional_config.py) -------------------
    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A functional config gives a Functional model (Keras's rule); otherwise ``cls(**config)``
        (a subclassed model whose ``get_config`` holds its constructor arguments)."""
        if all(key in config for key in ("name", "layers", "input_layers", "output_layers")):
            from ..saving.functional_config import functional_from_config

            return functional_from_config(cls, config, custom_objects=custom_objects)
        return cls(**config)

    def to_json(self, **kwargs):
        """The model as Keras's JSON (``kwargs`` go to ``json.dumps``).

        >>> json.loads(model.to_json())["class_name"]
        'Functional'
        """
        from ..saving.serialization import serialize_keras_object

        return json.dumps(serialize_keras_object(self), **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A model from ``model.to_json()`` (Keras 3's JSON or tf.keras 2's).

    >>> model = model_from_json(model.to_json())
    """
    from ..saving.serialization import deserialize_keras_object

    return deserialize_keras_object(json.loads(json_string), custom_objects=custom_objects)


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):
    """A new model with the same architecture and fresh weights (from its config).

    Only the default arguments are supported.

    >>> clone = clone_model(model)
    """
    from ..layers.core import Lambda
    from ..saving.serialization import deserialize_keras_object, serialize_keras_object

    given = {"input_tensors": input_tensors, "clone_function": clone_function,
             "call_function": call_function, **kwargs}
    unsupported = {k: v for k, v in given.items() if v is not None}
    if unsupported or recursive:
        raise NotImplementedError("clone_model supports only its default arguments. "
                                  f"Received: {unsupported or {'recursive': recursive}}")
    config = serialize_keras_object(model)
    config.pop("compile_config", None)
    # NOTE: the functions of Lambda layers come from the model in memory, not from code.
    functions = {}
    for layer in _all_layers(model):
        if isinstance(layer, Lambda):
            functions[layer.name] = layer.function
            functions[getattr(layer.function, "__name__", "")] = layer.function
    return deserialize_keras_object(config, custom_objects=functions, safe_mode=False)


def _all_layers(model):
    stack, out = list(model._layers), []
    while stack:
        layer = stack.pop()
        out.append(layer)
        stack.extend(layer._layers)
    return out
