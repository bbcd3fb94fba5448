"""Keras's custom-object registry: ``register_keras_serializable`` names a class or function
``"package>name"`` so that configs find it again; ``custom_object_scope`` lends names for a
while; ``get_custom_objects`` is the global dict itself.

Every loader (``deserialize_keras_object``, ``.keras``, ``.h5``, ``model_from_json``,
``layers.deserialize``) looks names up in ``lookup_objects``: the caller's ``custom_objects``,
then the innermost scope, then the global registry (the later wins, as in Keras).

This module imports nothing from kerasish, so that any module may import it.
"""
from __future__ import annotations

import inspect
import threading

GLOBAL_CUSTOM_OBJECTS = {}
GLOBAL_CUSTOM_NAMES = {}
_scope = threading.local()


def _scope_objects():
    return getattr(_scope, "objects", None) or {}


class CustomObjectScope:
    """Exposes custom classes and functions to deserialization while the scope is open.

    As in Keras 3, a scope replaces the objects of an enclosing one until it closes.

    Args:
        custom_objects: Dict of ``{name: class or function}``.

    >>> with CustomObjectScope({"my_act": my_act}):
    ...     model = load_model("model.keras")
    """

    def __init__(self, custom_objects):
        self.custom_objects = custom_objects or {}
        self.backup = None

    def __enter__(self):
        self.backup = dict(_scope_objects())
        _scope.objects = dict(self.custom_objects)
        return self

    def __exit__(self, *args, **kwargs):
        _scope.objects = dict(self.backup)


custom_object_scope = CustomObjectScope


def get_custom_objects():
    """The live global dict of registered objects (scopes' objects are not in it).

    >>> get_custom_objects()["MyObject"] = MyObject
    """
    return GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package="Custom", name=None):
    """A decorator that registers a class or function as ``"package>name"``.

    Args:
        package: The first part of the key.
        name: The second part; the object's ``__name__`` when None.

    Returns:
        A decorator that registers its argument and returns it unchanged.

    >>> @register_keras_serializable(package="my_package")
    ... class MyDense(Dense):
    ...     pass
    >>> get_registered_name(MyDense)
    'my_package>MyDense'
    """

    def decorator(arg):
        class_name = name if name is not None else arg.__name__
        registered_name = f"{package}>{class_name}"
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj):
    """The name ``obj`` is registered under, else its ``__name__``.

    >>> get_registered_name(Dense)
    'Dense'
    """
    try:
        if obj in GLOBAL_CUSTOM_NAMES:
            return GLOBAL_CUSTOM_NAMES[obj]
    except TypeError:  # an unhashable object cannot be registered
        pass
    return obj.__name__


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The class or function registered as ``name``: the open scope's objects, the global
    registry, then ``custom_objects`` and ``module_objects``; None if none has it.

    >>> get_registered_object("Custom>MyLayer")
    <class 'MyLayer'>
    """
    scoped = _scope_objects()
    for objects in (scoped, GLOBAL_CUSTOM_OBJECTS, custom_objects or {}, module_objects or {}):
        if name in objects:
            return objects[name]
    return None


def lookup_objects(custom_objects=None):
    """One dict of every name a deserializer may use: the caller's ``custom_objects``, the open
    scope's objects, the global registry (later ones win, as in Keras).

    >>> lookup_objects({"f": abs})["f"]
    <built-in function abs>
    """
    return {**(custom_objects or {}), **_scope_objects(), **GLOBAL_CUSTOM_OBJECTS}


def registered_name_or_none(obj):
    """The ``"package>name"`` of a registered object, else None."""
    try:
        return GLOBAL_CUSTOM_NAMES.get(obj)
    except TypeError:
        return None
