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

    def _maybe_build(self, shapes):
        # NOTE: a subclassed model's first call creates its layers' weights itself; running it
        # on zeros first would only repeat it (Keras runs `call` only on an explicit `build`).
        if not self.built and type(self).build is Model.build:
            self._build_shapes = shapes
            self.built = True
            return
        super()._maybe_build(shapes)

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
            # NOTE: an op node is found too (Keras 3 finds layers only), for sub-models
            for layer in getattr(self, "operations", self.layers):
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
    """A new model with the same architecture and new layers (fresh weights), as Keras 3's.

    Args:
        model: A Sequential, functional or subclassed model.
        input_tensors: KerasTensors to build the clone on (Sequential and functional models).
        clone_function: ``layer -> new layer`` for every layer but the inputs (default:
            ``layer.__class__.from_config(layer.get_config())``).
        call_function: ``(layer, *args, **kwargs) -> outputs``, how each cloned layer is called
            (functional models).
        recursive: Clone nested Sequential and functional models layer by layer too.

    A compiled model's clone is compiled the same way.

    >>> clone = clone_model(model, clone_function=lambda layer: layer)  # shares the layers
    """
    from .functional import Functional
    from .sequential import Sequential

    cache = kwargs.pop("cache", None)
    if kwargs:
        raise ValueError(f"Unexpected keyword argument(s): {tuple(kwargs.keys())}")
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError(
                "`call_function` argument is not supported with Sequential models.  In a "
                "Sequential model, layers aren't called at model-construction time (they're "
                "merely listed). Use `call_function` with Functional models only. Received "
                f"model of type '{type(model).__name__}', with call_function={call_function}")
        wrapped = _wrap_clone_function(clone_function, None, recursive, cache)
        return _clone_sequential(model, wrapped, input_tensors)
    if isinstance(model, Functional) and (
            type(model).get_config is Functional.get_config or clone_function or input_tensors):
        wrapped = _wrap_clone_function(clone_function, call_function, recursive, cache)
        return _clone_functional(model, wrapped, input_tensors, call_function)
    if clone_function or input_tensors:
        raise ValueError("Arguments `clone_function` and `input_tensors` are only supported for "
                         "Sequential models or Functional models. Received model of type "
                         f"'{type(model).__name__}', with clone_function={clone_function} and "
                         f"input_tensors={input_tensors}")
    if call_function is not None:
        raise ValueError("Argument `call_function` is only supported for Functional models. "
                         f"Received model of type '{type(model).__name__}', with "
                         f"call_function={call_function}")
    from ..layers.core import Lambda
    from ..saving.serialization import deserialize_keras_object, serialize_keras_object

    config = serialize_keras_object(model)
    # NOTE: the functions of Lambda layers come from the model in memory, not from code.
    objects = {type(model).__name__: type(model)}
    for layer in _all_layers(model):
        if isinstance(layer, Lambda):
            objects[layer.name] = layer.function
            objects[getattr(layer.function, "__name__", "")] = layer.function
    return deserialize_keras_object(config, custom_objects=objects, safe_mode=False)


def _default_clone(layer):
    return type(layer).from_config(layer.get_config())


def _wrap_clone_function(clone_function, call_function, recursive, cache):
    """``clone_function`` with a cache (a shared layer is cloned once) and, with
    ``recursive``, nested models cloned layer by layer."""
    from .functional import Functional
    from .sequential import Sequential

    clone_function = clone_function or _default_clone
    cache = {} if cache is None else cache

    def wrapped(layer):
        if hasattr(layer, "_keras_op_config"):  # a keras.ops call: reused, as Keras's ops
            return layer
        if id(layer) not in cache:
            if recursive and isinstance(layer, (Sequential, Functional)):
                cache[id(layer)] = clone_model(
                    layer, clone_function=clone_function, recursive=True, cache=cache,
                    call_function=None if isinstance(layer, Sequential) else call_function)
            else:
                cache[id(layer)] = clone_function(layer)
        return cache[id(layer)]

    return wrapped


def _compiled_like(clone, model):
    if getattr(model, "compiled", False):
        clone.compile_from_config(model.get_compile_config())
    return clone


def _clone_sequential(model, clone_function, input_tensors):
    from ..layers.input_layer import Input, InputLayer
    from ..symbolic import is_keras_tensor

    new_layers = [clone_function(layer) for layer in model.layers]
    first = model._stack[0] if model._stack else None
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError("Argument `input_tensors` must contain a single tensor.")
            input_tensors = input_tensors[0]
        if not is_keras_tensor(input_tensors):
            raise ValueError("Argument `input_tensors` must be a KerasTensor. Received invalid "
                             f"value: input_tensors={input_tensors}")
        new_layers = [input_tensors] + new_layers
    elif isinstance(first, InputLayer):
        new_layers = [Input(batch_shape=first.batch_shape, dtype=first.dtype,
                            name=first.name)] + new_layers
    from .sequential import Sequential

    return _compiled_like(Sequential(new_layers, name=model.name, trainable=model.trainable),
                          model)


def _clone_functional(model, clone_function, input_tensors, call_function):
    from .. import utils
    from ..layers.input_layer import Input
    from ..symbolic import is_keras_tensor
    from .functional import Functional

    if input_tensors is not None:
        if not all(is_keras_tensor(x) for x in utils.flatten(input_tensors)):
            raise ValueError("All entries in `input_tensors` must be KerasTensors. Received "
                             f"invalid values: inputs_tensors={input_tensors}")
        if len(utils.flatten(input_tensors)) != len(model.inputs):
            raise ValueError("`input_tensors` must have the same structure as model.input"
                             f"\nReference structure: {model.input}\nReceived structure: "
                             f"{input_tensors}")
    else:
        input_tensors = utils.map_structure(
            lambda x: Input(batch_shape=x.shape, dtype=x.dtype, name=x._keras_history[0].name),
            model._inputs_struct)

    def layer_fn(layer):
        new_layer = clone_function(layer)
        if call_function is None:
            return new_layer
        return lambda *args, **kwargs: call_function(new_layer, *args, **kwargs)

    outputs = model._run_through_graph(input_tensors, layer_fn=layer_fn)
    cls = type(model) if _functional_like_constructor(type(model)) else Functional
    return _compiled_like(cls(input_tensors, outputs, name=model.name), model)


def _functional_like_constructor(cls):
    """Whether ``cls.__init__`` takes Functional's arguments (Keras's test)."""
    import inspect

    from .functional import Functional

    return inspect.getfullargspec(cls.__init__).args[1:] == \
        inspect.getfullargspec(Functional.__init__).args[1:]


def _all_layers(model):
    stack, out = list(model._layers), []
    while stack:
        layer = stack.pop()
        out.append(layer)
        stack.extend(layer._layers)
    return out
