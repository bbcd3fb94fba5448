"""Keras 3 configs back to objects: ``deserialize_keras_object`` (tf.keras 2's dialect too),
with the caller's ``custom_objects``, the open custom-object scope and the registry.

A config never runs code: classes and functions are looked up among kerasish's own and the
registered or given objects, never imported by the module name a file gives, and a Python
lambda stored as bytecode is never unmarshalled (``lambda_config.py``).
"""
from __future__ import annotations

import contextlib
import threading
import types

import numpy as np

from .. import activations, constraints, initializers, regularizers
from ..layers.layer import Layer, dtype_name
from ..symbolic import KerasTensor
from . import lambda_config, object_registration

_PLAIN = (str, int, float, bool)
_scope = threading.local()


# -- the scope that nested from_config calls see --------------------------------------------

@contextlib.contextmanager
def deserialization_scope(custom_objects, safe_mode):
    """The custom objects and safe mode that nested ``from_config`` calls deserialize with
    (yields them). As with Keras's ``SafeModeScope``, an enclosing scope's safe mode wins.

    >>> with deserialization_scope({"my_fn": abs}, True) as (objects, safe):
    ...     layer = TimeDistributed.from_config(config)
    """
    previous = getattr(_scope, "state", None)
    objects = {**(previous[0] if previous else {}),
               **object_registration.lookup_objects(custom_objects)}
    safe = previous[1] if previous else bool(safe_mode) and not _unsafe_enabled()
    _scope.state = (objects, safe)
    try:
        yield objects, safe
    finally:
        _scope.state = previous


def _unsafe_enabled():
    """Whether ``keras.config.enable_unsafe_deserialization()`` was called (read lazily: the
    flag lives in ``kerasish.config``)."""
    from .. import config

    enabled = getattr(config, "is_unsafe_deserialization_enabled", None)
    return bool(enabled()) if callable(enabled) else False


# -- deserialization: finding classes and functions -------------------------------------------

def _find_layer_class(name):
    """A kerasish layer or model class (or distillation loss) by Keras class name, or None."""
    from .. import distillation, experimental
    from .. import layers as layers_module
    from .. import models as models_module

    for module in (layers_module, models_module, experimental, distillation):
        cls = getattr(module, name, None)
        if isinstance(cls, type) and (issubclass(cls, Layer) or module is distillation):
            return cls
    return None


def _family(module, class_name):
    """The kerasish deserializer for a non-layer built-in, chosen by module or by class name."""
    from .. import losses, metrics, optimizers
    from ..optimizers import schedules

    families = (
        ("keras.initializers", initializers._CLASSES, lambda c, o: initializers.get(c)),
        ("keras.regularizers", regularizers._ALIASES, lambda c, o: regularizers.get(c)),
        ("keras.constraints", constraints.ALL_OBJECTS_DICT, constraints.deserialize),
        ("keras.optimizers.schedules", schedules._SCHEDULES, schedules.deserialize),
        ("keras.optimizers", optimizers.ALL_OBJECTS_DICT, optimizers.deserialize),
        ("keras.losses", losses.ALL_OBJECTS_DICT, losses.deserialize),
        ("keras.metrics", metrics.ALL_OBJECTS_DICT, metrics.deserialize))
    for prefix, names, deserialize in families:
        if module == prefix or (not module and (class_name in names or
                                                class_name.lower() in names)):
            return deserialize
    return None


def _not_found(kind, name, config):
    return TypeError(f"Could not locate {kind} '{name}'. Make sure custom classes are decorated "
                     "with `@keras.saving.register_keras_serializable()`. Full object config: "
                     f"{config}")


def find_function(name, config, objects):
    """A function named in a config: custom objects first, then Keras's built-in ones.

    >>> find_function("relu", {}, {}) is activations.relu
    True
    """
    from .. import losses, metrics

    if name in objects:
        return objects[name]
    for fn in (activations._ALL.get(name), losses.ALL_OBJECTS_DICT.get(name),
               metrics.ALL_OBJECTS_DICT.get(name)):
        if isinstance(fn, types.FunctionType):
            return fn
    raise _not_found("function", name, config)


# -- deserialization --------------------------------------------------------------------------

def _to_shape(value):
    """JSON shapes back to tuples: ``[None, 4]`` -> ``(None, 4)``; lists of shapes stay lists."""
    if isinstance(value, (list, tuple)):
        if all(d is None or isinstance(d, int) for d in value):
            return tuple(value)
        return [_to_shape(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_shape(v) for k, v in value.items()}
    return value


def _special(class_name, inner, objects, safe):
    """The ``__xxx__`` pseudo-classes of Keras 3 configs."""
    if class_name == "__keras_tensor__":
        tensor = KerasTensor(inner["shape"], dtype=inner["dtype"])
        tensor._pre_serialization_keras_history = inner.get("keras_history")
        return tensor
    if class_name in ("__numpy__", "__tensor__"):
        return np.array(inner["value"], dtype=inner["dtype"])
    if class_name == "__bytes__":
        return inner["value"].encode("utf-8")
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__slice__":
        return slice(*(_deserialize(inner[k], objects, safe) for k in ("start", "stop", "step")))
    if class_name == "__lambda__":
        lambda_config.check_lambda_allowed(safe, generic=True)
        raise lambda_config.no_code_error(None)
    raise TypeError(f"Could not deserialize the special object '{class_name}'. "
                    f"Received: config={inner}")


def _resolve_references(inner, objects, safe):
    """Custom objects and functions named by a config's values, as the objects themselves.

    kerasish's ``activations.get`` & co. know only built-ins: what ``custom_objects`` names
    (``"activation": "my_act"``, a function dict, a custom initializer class) is resolved here.
    """
    out = dict(inner)
    for key, value in inner.items():
        if key in ("name", "dtype"):
            continue
        if isinstance(value, str) and value in objects:
            out[key] = objects[value]
        elif isinstance(value, dict) and "class_name" in value:
            is_custom = value["class_name"] in objects or value.get("registered_name") in objects
            if value["class_name"] in ("function", "__lambda__") or is_custom:
                out[key] = _deserialize(value, objects, safe)
    return out


def _default_model_build(instance):
    from ..models.model import Model

    return isinstance(instance, Model) and type(instance).build is Model.build


def _instantiate(cls, config, objects, safe):
    inner = dict(config.get("config") or {})
    if lambda_config.is_lambda(cls):
        inner = lambda_config.resolve_lambda_config(inner, objects, safe)
    inner = _resolve_references(inner, objects, safe)
    try:
        instance = cls.from_config(inner)
    except TypeError as e:
        raise TypeError(f"{cls} could not be deserialized properly. Please ensure that "
                        "components that are Python object instances (layers, models, etc.) "
                        "returned by `get_config()` are explicitly deserialized in the model's "
                        f"`from_config()` method.\n\nconfig={config}.\n\nException encountered: "
                        f"{e}") from e
    build_config = config.get("build_config")
    if build_config and isinstance(instance, Layer) and not instance.built:
        if build_config.get("input_shape") is not None:
            shape = _to_shape(build_config["input_shape"])
            # A subclassed model builds only when asked to (Model._maybe_build).
            (instance.build if _default_model_build(instance) else instance._maybe_build)(shape)
        elif build_config.get("shapes_dict"):
            instance.build(**_to_shape(build_config["shapes_dict"]))
            instance.built = True
    compile_config = config.get("compile_config")
    if compile_config and hasattr(instance, "compile_from_config"):
        instance.compile_from_config(compile_config)
    return instance


def _deserialize(config, objects, safe):
    if config is None:
        return None
    if isinstance(config, str):
        return objects.get(config, config)
    if isinstance(config, (list, tuple)):
        return [_deserialize(x, objects, safe) for x in config]
    if isinstance(config, _PLAIN):
        return config
    if not isinstance(config, dict):
        if callable(config) or hasattr(config, "get_config"):
            return config  # already an object: a function resolved before from_config ran
        raise TypeError(f"Could not parse config: {config}")
    if "class_name" not in config or "config" not in config:
        return {key: _deserialize(value, objects, safe) for key, value in config.items()}
    class_name, inner = config["class_name"], config["config"]
    if class_name.startswith("__") and class_name.endswith("__"):
        return _special(class_name, inner or {}, objects, safe)
    if class_name == "function":
        return find_function(inner, config, objects)
    if class_name in ("DTypePolicy", "Policy", "DTypePolicyMap"):
        return dtype_name(config)
    registered_name = config.get("registered_name", class_name)
    custom = objects.get(registered_name) if registered_name else None
    if custom is None and not str(config.get("module") or "").startswith("keras"):
        custom = objects.get(class_name)
    if isinstance(custom, types.FunctionType):
        return custom
    if custom is not None:
        return _instantiate(custom, config, objects, safe)
    module = config.get("module")
    family = None if _find_layer_class(class_name) else _family(module, class_name)
    if family is not None:
        return family(config, objects)
    cls = _find_layer_class(class_name)
    if cls is None:
        raise _not_found("class", class_name, config)
    return _instantiate(cls, config, objects, safe)


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object a config describes: Keras 3 dicts (``module``, ``registered_name``,
    ``build_config``, ``compile_config``) or tf.keras 2's (``class_name`` and ``config`` only).

    Args:
        config: a dict from ``serialize_keras_object`` (or a list, or a plain value).
        custom_objects: ``{name: class or function}`` for the names a config uses that are not
            Keras built-ins; a Lambda whose function was stored as bytecode takes its function
            from here, under the layer's name (with ``safe_mode=False``).
        safe_mode: refuse Python lambdas stored as code (Keras's error); kerasish never runs
            such code, even with ``safe_mode=False``.
        **kwargs: ``module_objects``, a library's own ``{name: object}`` (looked up last).

    >>> deserialize_keras_object({"class_name": "Dense", "config": {"units": 2}}).units
    2
    """
    module_objects = kwargs.pop("module_objects", None)
    if kwargs:
        raise TypeError(f"Unexpected keyword argument(s): {tuple(kwargs)}")
    if module_objects:
        custom_objects = {**module_objects, **(custom_objects or {})}
    with deserialization_scope(custom_objects, safe_mode) as (objects, safe):
        return _deserialize(config, objects, safe)


def deserialize_layer(config_or_layer):
    """A layer from its config (a Layer instance passes through), in the enclosing scope's
    custom objects and safe mode (wrappers and RNNs call this from their ``from_config``)."""
    if isinstance(config_or_layer, Layer):
        return config_or_layer
    return deserialize_keras_object(config_or_layer)
