"""The function of a ``Lambda`` layer in Keras's configs, both ways, without running code.

Keras 3 stores a Python lambda as ``{"class_name": "__lambda__", "config": {"code": <base64 of
marshal>, "defaults", "closure"}}`` and a named function as a reference; tf.keras 2 stores
``"function": [<base64>, defaults, closure], "function_type": "lambda"``. kerasish writes
Keras 3's form, but never unmarshals code it reads: a stored lambda loads only with
``safe_mode=False`` *and* the function given in ``custom_objects`` under the layer's name.
"""
from __future__ import annotations

import base64
import marshal

_PLAIN = (str, int, float, bool, type(None))

# Keras 3.15's texts (the backtick before `keras.config` is unbalanced in the original).
LAMBDA_LAYER_SAFE_MODE_ERROR = (
    "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. "
    "This carries a potential risk of arbitrary code execution and thus it is disallowed by "
    "default. If you trust the source of the artifact, you can override this error by passing "
    "`safe_mode=False` to the loading function, or calling "
    "`keras.config.enable_unsafe_deserialization().")
LAMBDA_SAFE_MODE_ERROR = (
    "Requested the deserialization of a `lambda` object. This carries a potential risk of "
    "arbitrary code execution and thus it is disallowed by default. If you trust the source of "
    "the saved model, you can pass `safe_mode=False` to the loading function in order to allow "
    "`lambda` loading, or call `keras.config.enable_unsafe_deserialization()`.")


def is_lambda(cls):
    """Whether ``cls`` is ``Lambda`` or a subclass (imported late: layers import saving).

    >>> is_lambda(Dense)
    False
    """
    from ..layers.core import Lambda

    return isinstance(cls, type) and issubclass(cls, Lambda)


def func_dump(fn):
    """``[code, defaults, closure]`` as Keras's ``python_utils.func_dump`` writes them.

    The code is base64 of the marshalled code object (76-column lines, final newline). Closure
    and defaults values that JSON cannot hold are written as None.

    >>> func_dump(lambda x: x)[0].startswith("4w")
    True
    """
    code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
    defaults = fn.__defaults__
    if defaults is not None and not all(isinstance(v, _PLAIN) for v in defaults):
        defaults = None
    closure = None
    if fn.__closure__:
        closure = tuple(cell.cell_contents for cell in fn.__closure__)
        if not all(isinstance(v, _PLAIN) for v in closure):
            closure = None
    return [code, defaults, closure]


def _function_config(fn):
    if getattr(fn, "__name__", None) == "<lambda>":
        code, defaults, closure = func_dump(fn)
        return {"class_name": "__lambda__",
                "config": {"code": code, "defaults": defaults, "closure": closure}}
    return {"module": "builtins", "class_name": "function",
            "config": getattr(fn, "__name__", type(fn).__name__), "registered_name": "function"}


def keras_lambda_config(layer, config):
    """A Lambda's ``get_config()`` (which names its callables) with Keras 3's function forms.

    >>> keras_lambda_config(layer, layer.get_config())["function"]["class_name"]
    '__lambda__'
    """
    config = dict(config)
    config["function"] = _function_config(layer.function)
    if callable(layer._output_shape):
        config["output_shape"] = _function_config(layer._output_shape)
    if callable(layer.mask):
        config["mask"] = _function_config(layer.mask)
    return config


def check_lambda_allowed(safe, generic=False):
    """Keras's safe-mode error for a stored Python lambda.

    >>> check_lambda_allowed(False)  # no error with safe_mode=False
    """
    if safe:
        raise ValueError(LAMBDA_SAFE_MODE_ERROR if generic else LAMBDA_LAYER_SAFE_MODE_ERROR)


def no_code_error(layer_name, key="function", lookup=None):
    """The error for a stored lambda that ``custom_objects`` does not supply."""
    if layer_name is None:
        return ValueError("The config stores a Python lambda as bytecode, and kerasish never "
                          "runs code from a config or a file, even with safe_mode=False.")
    return ValueError(
        f"The config stores the `{key}` of the `Lambda` layer '{layer_name}' as Python "
        "bytecode, and kerasish never runs code from a config or a file, even with "
        "safe_mode=False. Pass the function itself in `custom_objects`, e.g. "
        f"custom_objects={{{(lookup or layer_name)!r}: fn}}, with safe_mode=False.")


def _resolve(config, key, objects, safe):
    """The callable (or plain value) for ``function``/``output_shape``/``mask``."""
    from .serialization import find_function

    value = config.get(key)
    kind = config.pop(f"{key}_type", None)  # tf.keras 2: "lambda", "function" or "raw"
    config.pop("module" if key == "function" else f"{key}_module", None)
    name = config.get("name")
    if kind == "lambda" or isinstance(value, dict) and value.get("class_name") == "__lambda__":
        check_lambda_allowed(safe)
        lookup = name if key == "function" else f"{name}/{key}"
        if lookup not in objects:
            raise no_code_error(name, key, lookup)
        return objects[lookup]
    if isinstance(value, dict) and value.get("class_name") == "function":
        return find_function(value["config"], value, objects)
    if isinstance(value, str) and (kind == "function" or key == "function"):
        return find_function(value, config, objects)
    return value


def resolve_lambda_config(config, objects, safe):
    """A Lambda config from a file, with its callables resolved, ready for ``from_config``.

    >>> resolve_lambda_config({"function": "f", "arguments": {}}, {"f": abs}, True)["function"]
    <built-in function abs>
    """
    from .serialization import _deserialize

    config = dict(config)
    for key in ("function", "output_shape", "mask"):
        if key in config:
            config[key] = _resolve(config, key, objects, safe)
    if config.get("arguments"):
        config["arguments"] = _deserialize(config["arguments"], objects, safe)
    return config
