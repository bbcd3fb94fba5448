"""``keras.legacy.saving``: tf.keras 2's ``serialize_keras_object`` /
``deserialize_keras_object`` (``{"class_name", "config"}`` only; class names are registered
names; the caller gives the built-in objects as ``module_objects``)."""
from __future__ import annotations

import inspect

from ..saving import object_registration

_PASSIVE = "__passive_serialization__"


def serialize_keras_object(instance):
    """An object as tf.keras 2's ``{"class_name", "config"}`` dict (a function as its name).

    Args:
        instance: An object with ``get_config()``, or a function or class.

    Returns:
        A JSON-able dict, a name, or None.

    >>> serialize_keras_object(Dense(2))["class_name"]
    'Dense'
    """
    instance = inspect.unwrap(instance)
    if instance is None:
        return None
    if hasattr(instance, "get_config"):
        config = {}
        for key, item in instance.get_config().items():
            if isinstance(item, str):
                config[key] = item
                continue
            try:
                serialized = serialize_keras_object(item)
            except ValueError:
                config[key] = item
                continue
            if isinstance(serialized, dict) and not isinstance(item, dict):
                serialized[_PASSIVE] = True
            config[key] = serialized
        return {"class_name": object_registration.get_registered_name(type(instance)),
                "config": config}
    if hasattr(instance, "__name__"):
        return object_registration.get_registered_name(instance)
    raise ValueError(f"Cannot serialize {instance} because it doesn't implement `get_config()`.")


def _unknown(kind, name):
    return ValueError(f"Unknown {kind}: '{name}'. Please ensure you are using a "
                      "`keras.utils.custom_object_scope` and that this object is included in "
                      "the scope.")


def _class_and_config(config, module_objects, custom_objects, kind):
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        raise ValueError(f"Improper config format for {config}. Expecting python dict contains "
                         "`class_name` and `config` as keys")
    cls = object_registration.get_registered_object(config["class_name"], custom_objects,
                                                    module_objects)
    if cls is None:
        raise _unknown(kind, config["class_name"])
    cls_config = config["config"]
    if isinstance(cls_config, list):
        return cls, cls_config
    cls_config = dict(cls_config)
    for key, item in list(cls_config.items()):
        if key == "name":
            continue
        if isinstance(item, dict) and _PASSIVE in item:
            cls_config[key] = deserialize_keras_object(item, module_objects, custom_objects,
                                                       "config_item")
        elif isinstance(item, str):
            found = object_registration.get_registered_object(item, custom_objects,
                                                              module_objects)
            if inspect.isfunction(found):
                cls_config[key] = found
    return cls, cls_config


def deserialize_keras_object(identifier, module_objects=None, custom_objects=None,
                             printable_module_name="object"):
    """The object tf.keras 2's serialized form describes.

    Args:
        identifier: A ``{"class_name", "config"}`` dict, a name, or a function.
        module_objects: Dict of the built-in objects to look names up in.
        custom_objects: Dict of the user's objects.
        printable_module_name: What the object is, for error messages.

    >>> deserialize_keras_object({"class_name": "Dense", "config": {"units": 2}},
    ...                          module_objects={"Dense": Dense}).units
    2
    """
    if identifier is None:
        return None
    custom_objects = custom_objects or {}
    if isinstance(identifier, dict):
        cls, cls_config = _class_and_config(identifier, module_objects, custom_objects,
                                            printable_module_name)
        if isinstance(cls_config, dict):
            cls_config.pop(_PASSIVE, None)
        from_config = getattr(cls, "from_config", None)
        if from_config is not None and \
                "custom_objects" in inspect.signature(from_config).parameters:
            return from_config(cls_config, custom_objects={
                **object_registration.GLOBAL_CUSTOM_OBJECTS, **custom_objects})
        with object_registration.CustomObjectScope(custom_objects):
            return from_config(cls_config) if from_config is not None else cls(**cls_config)
    if isinstance(identifier, str):
        obj = object_registration.get_registered_object(identifier, custom_objects,
                                                        module_objects)
        if obj is None:
            raise _unknown(printable_module_name, identifier)
        return obj() if inspect.isclass(obj) else obj
    if inspect.isfunction(identifier):
        return identifier
    raise ValueError(f"Could not interpret serialized {printable_module_name}: {identifier}")


__all__ = ["deserialize_keras_object", "serialize_keras_object"]
