"""``keras.utils.legacy``: tf.keras 2's (de)serialization format, ``{"class_name", "config"}``
without Keras 3's ``module``/``registered_name`` keys; functions serialize as their names."""
from __future__ import annotations


def _registered_name(obj):
    from .. import saving

    get = getattr(saving, "get_registered_name", None)
    return get(obj) if get is not None else obj.__name__


def serialize_keras_object(instance):
    """``None`` -> None; an object with ``get_config`` -> ``{"class_name", "config"}``; a
    function or class -> its (registered) name.

    >>> serialize_keras_object(keras.layers.ReLU())["class_name"]
    'ReLU'
    """
    if instance is None:
        return None
    if hasattr(instance, "get_config"):
        return {"class_name": _registered_name(type(instance)),
                "config": instance.get_config()}
    if hasattr(instance, "__name__"):
        return _registered_name(instance)
    raise ValueError(f"Cannot serialize {instance!r}: it has no `get_config()` and no name. "
                     f"Received: instance of type {type(instance).__name__}")


def _lookup(name, module_objects, custom_objects):
    from .. import saving

    for table in (custom_objects or {}, _custom_objects(saving), module_objects or {}):
        if name in table:
            return table[name]
    get = getattr(saving, "get_registered_object", None)
    return get(name) if get is not None else None


def _custom_objects(saving):
    get = getattr(saving, "get_custom_objects", None)
    return get() if get is not None else {}


def deserialize_keras_object(identifier, module_objects=None, custom_objects=None,
                             printable_module_name="object"):
    """The object ``identifier`` (a ``{"class_name", "config"}`` dict or a name) stands for,
    looked up in ``custom_objects``, the registered custom objects, then ``module_objects``.

    >>> deserialize_keras_object({"class_name": "ReLU", "config": {}},
    ...                          module_objects=vars(keras.layers))   # a ReLU layer
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        if "class_name" not in identifier or "config" not in identifier:
            raise ValueError(f"Improper config format for {printable_module_name}: {identifier}")
        name = identifier["class_name"]
        cls = _lookup(name, module_objects, custom_objects)
        if cls is None:
            raise ValueError(f"Unknown {printable_module_name}: '{name}'. Please ensure you "
                             "are using a `keras.utils.custom_object_scope` and that this "
                             "object is included in the scope.")
        config = identifier["config"]
        if hasattr(cls, "from_config"):
            return cls.from_config(config)
        return cls(**config)
    if isinstance(identifier, str):
        obj = _lookup(identifier, module_objects, custom_objects)
        if obj is None:
            raise ValueError(f"Unknown {printable_module_name}: '{identifier}'. Please ensure "
                             "you are using a `keras.utils.custom_object_scope` and that this "
                             "object is included in the scope.")
        return obj
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret serialized {printable_module_name}: {identifier}")
