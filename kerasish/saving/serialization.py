"""Keras objects to their JSON-able configs: Keras 3's ``serialize_keras_object`` (registered
objects under their ``"package>name"``); ``deserialization.py`` reads them back (its names are
importable from here too).
"""
from __future__ import annotations

import types

import numpy as np

from engine import Tensor

from .. import activations, constraints, initializers, regularizers
from ..layers.layer import Layer
from ..symbolic import KerasTensor
from ..variables import Variable
from . import lambda_config, object_registration

_PLAIN = (str, int, float, bool)


# -- serialization ----------------------------------------------------------------------------

def _exported_name(cls):
    """The name ``keras.layers`` gives a class: its own, or the one it is exported under
    (GroupedQueryAttention is ``keras.layers.GroupQueryAttention``); None if not exported."""
    from .. import layers as layers_module

    if getattr(layers_module, cls.__name__, None) is cls:
        return cls.__name__
    return next((name for name, obj in vars(layers_module).items() if obj is cls), None)


def _layer_module(obj):
    """(module, registered_name) Keras writes for a layer or model."""
    from ..models import Functional, Sequential

    cls = type(obj)
    if cls is Functional:
        return "keras.src.models.functional", "Functional"
    if cls is Sequential:
        return "keras", None
    if _exported_name(cls) is not None:
        return "keras.layers", None
    if _is_distillation_class(cls):
        return "keras.distillation", None
    module = cls.__module__
    return (None if module == "__main__" else module), object_registration.get_registered_name(cls)


def _build_config(layer):
    from ..layers.input_layer import InputLayer
    from ..models import Functional, Sequential

    if isinstance(layer, Functional):
        return {"input_shape": None}
    if isinstance(layer, Sequential):
        built = layer._functional is not None
        return {"input_shape": layer._functional.inputs[0].shape} if built else None
    if isinstance(layer, InputLayer) or not layer.built or layer._build_shapes is None:
        return None
    if isinstance(layer._build_shapes, dict):  # build(query_shape, value_shape) (attention)
        return {"shapes_dict": layer._build_shapes}
    return {"input_shape": layer._build_shapes}


def _serialize_layer_object(layer):
    module, registered_name = _layer_module(layer)
    config = serialize_keras_object(layer.get_config())
    if lambda_config.is_lambda(type(layer)):
        config = lambda_config.keras_lambda_config(layer, config)
    out = {"module": module, "class_name": _exported_name(type(layer)) or type(layer).__name__,
           "config": config,
           "registered_name": registered_name}
    build_config = _build_config(layer)
    if build_config is not None:
        out["build_config"] = serialize_keras_object(build_config)
    if hasattr(layer, "get_compile_config"):
        out["compile_config"] = layer.get_compile_config()
    return out


def _serialize_function(fn):
    if fn.__name__ == "<lambda>":
        return {"class_name": "__lambda__", "config": {"value": lambda_config.func_dump(fn)}}
    # NOTE: what Keras 3.15 writes for any named function, Keras's own activations, losses and
    # metrics included (docs/file-formats.md, Lambda layers); a registered one is "package>name".
    return {"module": "builtins", "class_name": "function",
            "config": object_registration.get_registered_name(fn), "registered_name": "function"}


def _is_distillation_class(cls):
    from .. import distillation

    return getattr(distillation, cls.__name__, None) is cls


def _builtin_families():
    from .. import losses, metrics, optimizers
    from ..optimizers import schedules

    return ((initializers.Initializer, initializers.serialize, initializers),
            (regularizers.Regularizer, regularizers.serialize, regularizers),
            (constraints.Constraint, constraints.serialize, constraints),
            (optimizers.Optimizer, optimizers.serialize, optimizers),
            (schedules.LearningRateSchedule, schedules.serialize, schedules),
            (losses.Loss, losses.serialize, losses), (metrics.Metric, metrics.serialize, metrics))


def custom_object_config(obj):
    """Keras 3's dict for an object that is not one of kerasish's built-ins (a registered or
    user-defined class instance, or a named function that no Keras module defines); None for
    a built-in, which its family's ``serialize`` writes.

    >>> custom_object_config(MyLoss())["registered_name"]
    'Custom>MyLoss'
    """
    from .. import losses, metrics

    if isinstance(obj, types.FunctionType):
        builtin = (obj in activations._ALL.values() or obj in losses.FUNCTIONS or
                   obj in metrics.FUNCTIONS or obj.__name__ == "<lambda>")
        return None if builtin else _serialize_function(obj)
    cls = type(obj)
    for base, _, module in _builtin_families():
        if isinstance(obj, base) and getattr(module, cls.__name__, None) is cls:
            return None
    if not hasattr(obj, "get_config") or isinstance(obj, Layer):
        return None
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"The `get_config()` method of {obj} should return a dict. It "
                        f"returned: {config}")
    if _is_distillation_class(cls):
        return {"module": "keras.distillation", "class_name": cls.__name__,
                "config": serialize_keras_object(config), "registered_name": None}
    module = cls.__module__
    return {"module": None if module == "__main__" else module, "class_name": cls.__name__,
            "config": serialize_keras_object(config),
            "registered_name": object_registration.get_registered_name(cls)}


def _serialize_other(obj):
    custom = custom_object_config(obj)
    if custom is not None:
        return custom
    for base, serialize, _ in _builtin_families():
        if isinstance(obj, base):
            out = serialize(obj)
            out["config"] = serialize_keras_object(out["config"])
            return out
    if isinstance(obj, types.FunctionType):
        return _serialize_function(obj)
    raise TypeError(f"Cannot serialize object {obj} of type {type(obj)}. To be serializable, a "
                    "class must implement the `get_config()` method.")


def serialize_keras_object(obj):
    """A Keras object as Keras 3's JSON-able ``{"module", "class_name", "config",
    "registered_name"}`` dict (layers add ``build_config``, models ``compile_config``).

    Plain values, lists, tuples and dicts are serialized item by item.

    >>> serialize_keras_object(Dense(2))["class_name"]
    'Dense'
    """
    if obj is None or isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [serialize_keras_object(x) for x in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, type(Ellipsis)):
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(obj, slice):
        return {"class_name": "__slice__", "config": {
            key: serialize_keras_object(getattr(obj, key)) for key in ("start", "stop", "step")}}
    if isinstance(obj, KerasTensor):
        history = obj._keras_history
        history = None if history is None else [history[0].name, history[1], history[2]]
        return {"class_name": "__keras_tensor__",
                "config": {"shape": obj.shape, "dtype": obj.dtype, "keras_history": history}}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (np.ndarray, Tensor, Variable)):
        value = np.asarray(obj if isinstance(obj, np.ndarray) else obj.numpy())
        if value.ndim == 0:
            return value.item()
        return {"class_name": "__numpy__", "config": {"value": value.tolist(),
                                                      "dtype": value.dtype.name}}
    if isinstance(obj, Layer):
        return _serialize_layer_object(obj)
    return _serialize_other(obj)


def serialize_layer(layer):
    """``serialize_keras_object`` of a layer (the form nested layers take in wrapper configs)."""
    return serialize_keras_object(layer)


# NOTE: the reading half lives in deserialization.py; its names stay importable from here.
from .deserialization import (_deserialize, deserialization_scope,  # noqa: E402,F401
                              deserialize_keras_object, deserialize_layer, find_function)
