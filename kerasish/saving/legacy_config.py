"""Model configs in the two dialects of legacy ``.h5`` files (the contract:
docs/file-formats.md, "Legacy whole-model file"); training configs are in
``legacy_training_config.py``.

- Writing: ``keras2_model_config`` turns a model's Keras 3 config into tf-keras 2.21's, in a
  form Keras 3.15 loads too: ``batch_input_shape``, nested ``inbound_nodes`` lists and
  ``input_layers``/``output_layers``, no ``module``/``registered_name``/``build_config`` in
  top-level layer entries, dtype strings, BatchNorm ``axis`` lists, ``implementation`` on RNNs,
  Lambda's list form. Nested objects (a wrapper's model or layer, initializers) keep the
  new-style keys, as tf-keras writes them, with tf-keras's configs inside, all the way down.
  Where tf-keras's own value is one Keras 3 refuses (``time_major``, a list ``axis`` in a nested
  model, ``mask=None`` in node kwargs), the writer uses a value tf-keras also writes or
  defaults to.
- Reading: ``upgrade_model_config`` undoes tf-keras's per-layer quirks (what Keras 3's legacy
  loader undoes, plus the RNN keys).
"""
from __future__ import annotations

import inspect

_RNN_CLASSES = ("LSTM", "GRU", "SimpleRNN", "RNN")
_RNN_CELL_CLASSES = ("LSTMCell", "GRUCell", "SimpleRNNCell")
# Keras 3 arguments that tf-keras does not take, left out when they hold the value that means
# what tf-keras does anyway (a value that means more is kept, and tf-keras refuses it loudly).
_KERAS3_ONLY_DEFAULTS = {
    "LayerNormalization": {"rms_scaling": False},
    "MultiHeadAttention": {"use_gate": False, "sliding_window": None, "seed": None},
    "SpatialDropout1D": {"data_format": "channels_last"},
    "SpatialDropout2D": {"data_format": "channels_last"},
    "SpatialDropout3D": {"data_format": "channels_last"},
}
_KERAS3_ONLY_KEYS = ("quantization_config", "lora_rank", "lora_alpha")
# Keras 3's VarianceScaling family takes these; tf-keras refuses them. They only steer a fresh
# initialization, and a loaded model's weights come from the file.
_INITIALIZER_KERAS3_KEYS = ("input_axes", "output_axes")
# Keras's LAMBDA_DEP_ARGS: tf-keras Lambda keys that Keras 3 does not know.
_LAMBDA_KERAS2_KEYS = ("module", "function_type", "output_shape_type", "output_shape_module")
_MODEL_CLASSES = ("Sequential", "Functional", "Model")


# -- Keras 3 config -> tf-keras 2 config (writing) ----------------------------------------------
def _keras2_dtype(dtype):
    """A dtype policy by its name. tf-keras writes a mixed policy as a ``Policy`` object, which
    Keras 3's legacy loader cannot read back; both read the name ("mixed_float16")."""
    if isinstance(dtype, dict) and dtype.get("class_name") in ("DTypePolicy", "Policy"):
        return (dtype.get("config") or {}).get("name")
    return dtype


def _keras2_rnn(class_name, config):
    """tf-keras's RNN keys: ``implementation``, no ``seed``. tf-keras also writes
    ``time_major=False``, but Keras 3 refuses that key and tf-keras defaults it to False, so it
    is left out."""
    config.pop("seed", None)
    config.pop("time_major", None)
    if not config.get("zero_output_for_mask"):
        config.pop("zero_output_for_mask", None)
    if class_name in ("LSTM", "GRU"):
        config["implementation"] = 2
    return config


def _keras2_bidirectional(config):
    """tf-keras writes the wrapped RNN under its own name and no ``backward_layer`` when the
    backward copy only mirrors it (it makes that copy itself)."""
    forward = dict(config["layer"])
    inner = dict(forward.get("config") or {})
    backward = (config.get("backward_layer") or {}).get("config") or {}
    ignore = ("name", "go_backwards")
    if {k: v for k, v in backward.items() if k not in ignore} == \
            {k: v for k, v in inner.items() if k not in ignore}:
        config.pop("backward_layer", None)
        if str(inner.get("name", "")).startswith("forward_"):
            inner["name"] = inner["name"][len("forward_"):]
    if forward.get("class_name") in _RNN_CLASSES:
        _keras2_rnn(forward["class_name"], inner)
    config["layer"] = {**forward, "config": inner}


def _keras2_object(value):
    """Nested objects in a config (a wrapper's layer or model, an RNN's cell, an initializer)
    in tf-keras's form. tf-keras writes them as Keras 3 does (``module``, ``class_name``,
    ``config``, ``registered_name``, ``build_config``), but their configs must still hold only
    arguments tf-keras knows, all the way down."""
    if isinstance(value, list):
        return [_keras2_object(v) for v in value]
    if not (isinstance(value, dict) and "class_name" in value and
            isinstance(value.get("config"), dict)):
        return value
    class_name, config = value["class_name"], value["config"]
    out = {k: v for k, v in value.items() if k != "compile_config"}
    if class_name in _MODEL_CLASSES and "layers" in config:
        out["config"] = _keras2_model_body(class_name, config, nested=True)
    elif str(value.get("module") or "").startswith("keras.initializers"):
        out["config"] = {k: v for k, v in config.items() if k not in _INITIALIZER_KERAS3_KEYS}
    else:
        out["config"] = _keras2_layer_config(class_name, config, value.get("build_config"),
                                             nested=True)
    return out


def _keras2_layer_config(class_name, config, build_config, nested=False):
    config = {k: v for k, v in config.items() if k not in _KERAS3_ONLY_KEYS}
    if "dtype" in config:
        config["dtype"] = _keras2_dtype(config["dtype"])
    if class_name == "InputLayer":
        # tf-keras 2.21's InputLayer.get_config, key for key.
        return {"batch_input_shape": config.get("batch_shape"), "dtype": config.get("dtype"),
                "sparse": config.get("sparse", False), "ragged": config.get("ragged", False),
                "name": config.get("name"), "optional": config.get("optional", False)}
    if class_name in _RNN_CLASSES:
        _keras2_rnn(class_name, config)
    if class_name in _RNN_CELL_CLASSES:
        config.pop("seed", None)  # tf-keras's cells take no seed
    if class_name == "Bidirectional" and isinstance(config.get("layer"), dict):
        _keras2_bidirectional(config)
    for key, default in _KERAS3_ONLY_DEFAULTS.get(class_name, {}).items():
        if key in config and config[key] == default:
            del config[key]
    if class_name == "LeakyReLU" and "negative_slope" in config:
        config["alpha"] = config.pop("negative_slope")  # Keras 3 still reads `alpha`
    if class_name == "MultiHeadAttention":
        # tf-keras rebuilds the layer from these three config keys, not from a build config.
        shapes = (build_config or {}).get("shapes_dict") or {}
        value_shape = shapes.get("value_shape")
        config.update(query_shape=shapes.get("query_shape"), value_shape=value_shape,
                      key_shape=shapes.get("key_shape") or value_shape)
    if class_name == "BatchNormalization":
        # tf-keras writes the renorm keys only with renorm on, and never ``synchronized``.
        if not config.get("renorm"):
            for key in ("renorm", "renorm_clipping", "renorm_momentum"):
                config.pop(key, None)
        if not config.get("synchronized"):
            config.pop("synchronized", None)
    axis = config.get("axis")
    if class_name == "BatchNormalization" and isinstance(axis, int) and not nested:
        # tf-keras's built form. Inside a nested object the int stays (tf-keras writes it so
        # before the layer is built), because Keras 3 turns ``[3]`` back only at the top level.
        shape = (build_config or {}).get("input_shape")
        config["axis"] = [axis + len(shape) if axis < 0 and shape else axis]
    function = config.get("function")
    if class_name == "Lambda" and isinstance(function, dict) and \
            function.get("class_name") == "__lambda__":
        code = function["config"]
        config.update(function=[code.get("code"), code.get("defaults"), code.get("closure")],
                      function_type="lambda", module="__main__")
        config.setdefault("output_shape", None)
        config.update(output_shape_type="raw", output_shape_module=None)
        config["arguments"] = config.pop("arguments", {})
    return {k: v if k == "dtype" else _keras2_object(v) for k, v in config.items()}


def _keras2_kwargs(value):
    """Node kwargs with tensors as tf-keras writes them: ``[layer, node, tensor]``."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return list(value["config"]["keras_history"])
        return {k: _keras2_kwargs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keras2_kwargs(v) for v in value]
    return value


def _tensors(value):
    """The ``__keras_tensor__`` dicts in a nested node argument, in order."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [value]
        return [t for v in value.values() for t in _tensors(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


def _call_arg_names(class_name):
    """The names of a built-in layer's ``call`` arguments (tf-keras writes every argument after
    the first as a keyword: MultiHeadAttention's ``value``)."""
    from .. import layers

    cls = getattr(layers, class_name, None)
    return list(inspect.signature(cls.call).parameters)[1:] if inspect.isclass(cls) else []


def _keras2_node(node, arg_names=()):
    """One inbound node in tf-keras's form: ``[[layer, node, tensor, kwargs], ...]`` for the
    tensors of the first call argument."""
    if not isinstance(node, dict):
        return node
    args = node.get("args") or []
    kwargs = _keras2_kwargs({**dict(zip(arg_names[1:], args[1:])), **(node.get("kwargs") or {})})
    if "mask" in kwargs and kwargs["mask"] is None:
        # Keras 3 records the mask it propagated, None included; tf-keras would read an
        # explicit ``mask=None`` as "no mask" and drop an Embedding's mask_zero mask.
        del kwargs["mask"]
    return [list(t["config"]["keras_history"]) + [kwargs]
            for t in _tensors(args[0] if args else [])]


def _nested(triples):
    """tf-keras always nests ``input_layers`` / ``output_layers``: ``[["dense", 0, 0]]``."""
    if isinstance(triples, dict):  # named inputs: tf-keras keeps the dict as it is
        return triples
    if triples and isinstance(triples[0], str):
        return [list(triples)]
    return triples


def _keras2_class_name(entry):
    """tf-keras names a custom class by its registered name ("Custom>MyLayer")."""
    if str(entry.get("module") or "").startswith("keras"):
        return entry["class_name"]
    return entry.get("registered_name") or entry["class_name"]


def _keras2_entry(entry, functional):
    class_name = entry["class_name"]
    if class_name in _MODEL_CLASSES:
        out = keras2_model_config(entry)
    else:
        out = {"class_name": _keras2_class_name(entry),
               "config": _keras2_layer_config(class_name, entry["config"],
                                              entry.get("build_config"))}
    if functional:
        out["name"] = entry.get("name", entry["config"].get("name"))
        names = _call_arg_names(class_name)
        out["inbound_nodes"] = [_keras2_node(n, names) for n in entry.get("inbound_nodes", [])]
    return out


def _keras2_nested_entry(entry, functional):
    """A layer entry of a model nested in another object (``TimeDistributed(model)``): tf-keras
    keeps Keras 3's keys there, and adds ``name`` and list-form nodes in a functional model."""
    out = _keras2_object(entry)
    if functional:
        names = _call_arg_names(entry["class_name"])
        out["name"] = entry.get("name", entry["config"].get("name"))
        out["inbound_nodes"] = [_keras2_node(n, names) for n in entry.get("inbound_nodes", [])]
    return out


def _keras2_model_body(class_name, config, nested=False):
    """A Sequential or functional model's ``config`` in tf-keras's keys."""
    entry = _keras2_nested_entry if nested else _keras2_entry
    if class_name == "Sequential":
        return {"name": config["name"],
                "layers": [entry(e, False) for e in config.get("layers", [])]}
    # tf-keras nests a single input as [["input", 0, 0]] and reads it flat too; Keras 3 reads
    # the nested form only at the top level (inside TimeDistributed it then fails to call the
    # model), so a nested model keeps the structure it was built with.
    structure = (lambda triples: triples) if nested else _nested
    return {"name": config["name"], "trainable": config.get("trainable", True),
            "layers": [entry(e, True) for e in config.get("layers", [])],
            "input_layers": structure(config["input_layers"]),
            "output_layers": structure(config["output_layers"])}


def keras2_model_config(model_config):
    """A model's ``{"class_name", "config"}`` in the tf-keras 2 dialect, from Keras 3's.

    >>> keras2_model_config({"class_name": "Sequential", "config": seq.get_config()})["config"]
    {'name': 'sequential', 'layers': [...]}
    """
    class_name, config = model_config["class_name"], model_config["config"]
    if class_name == "Sequential":
        return {"class_name": "Sequential", "config": _keras2_model_body(class_name, config)}
    if "input_layers" in config:
        return {"class_name": "Functional", "config": _keras2_model_body(class_name, config)}
    out = {"class_name": _keras2_class_name(model_config), "config": config}
    if model_config.get("build_config"):
        # NOTE: kerasish's addition, so that a subclassed model is built before its weights
        # load (tf-keras could not save one); readers that do not know the key skip it.
        out["build_config"] = model_config["build_config"]
    return out


# -- either dialect -> what the deserializer takes (reading) ------------------------------------
def _upgrade_object(obj):
    """tf-keras's per-layer quirks in a nested object (a wrapper's ``layer``)."""
    if isinstance(obj, dict) and isinstance(obj.get("config"), dict) and "class_name" in obj:
        return {**obj, "config": _upgrade_layer_config(obj["class_name"], obj["config"])}
    return obj


def _upgrade_layer_config(class_name, config):
    config = dict(config)
    batch_input_shape = config.pop("batch_input_shape", None)
    if batch_input_shape is not None:
        if class_name == "InputLayer":
            config["batch_shape"] = batch_input_shape
        else:
            config.setdefault("input_shape", list(batch_input_shape)[1:])
    axis = config.get("axis")
    if isinstance(axis, list) and len(axis) == 1:
        config["axis"] = int(axis[0])
    if class_name in _RNN_CLASSES:
        if config.pop("time_major", False):
            raise ValueError(f"`time_major=True` is not supported; layer '{config.get('name')}'"
                             " of the file uses it. Received: time_major=True")
        config.pop("implementation", None)
    if class_name == "Embedding" and config.get("input_length", 0) is None:
        config.pop("input_length")
    if class_name == "LeakyReLU" and "alpha" in config:
        config["negative_slope"] = config.pop("alpha")
    if class_name == "MultiHeadAttention":
        # tf-keras's build shapes: rebuilding the graph calls, and so builds, the layer anyway.
        for key in ("query_shape", "key_shape", "value_shape"):
            config.pop(key, None)
        if config.get("softmax_robust_masking") is False:
            del config["softmax_robust_masking"]
    if config.get("groups") == 1 and (class_name.endswith("Transpose") or class_name.startswith(
            ("DepthwiseConv", "SeparableConv"))):
        config.pop("groups")  # tf-keras's base conv writes it; these Keras 3 classes take none
    if class_name.startswith("SeparableConv"):
        for key in ("kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            config.pop(key, None)  # tf-keras's base conv's, unused: the kernels are separate
    if class_name.startswith("SpatialDropout"):
        # tf-keras's Dropout base writes these; Keras 3's spatial dropouts take neither.
        if config.get("noise_shape", 0) is None:
            del config["noise_shape"]
        if config.get("trainable") is True:
            del config["trainable"]
    if class_name == "Lambda":
        for key in _LAMBDA_KERAS2_KEYS:
            config.pop(key, None)
        if isinstance(config.get("function"), list):
            code, defaults, closure = (list(config["function"]) + [None, None])[:3]
            config["function"] = {"class_name": "__lambda__", "config": {
                "code": code, "defaults": defaults, "closure": closure}}
    for key in ("layer", "backward_layer"):
        if key in config:
            config[key] = _upgrade_object(config[key])
    return config


def upgrade_model_config(model_config):
    """A ``model_config`` of either dialect with tf-keras's layer quirks undone, ready for
    ``deserialize_keras_object``.

    >>> upgrade_model_config(json.loads(f.attrs["model_config"]))["class_name"]
    'Functional'
    """
    if not isinstance(model_config, dict) or "class_name" not in model_config:
        raise TypeError("`model_config` must be a dict with a 'class_name'. Received: "
                        f"model_config={model_config!r}")
    config = dict(model_config.get("config") or {})
    layers = []
    for entry in config.get("layers", []):
        entry = dict(entry)
        if entry["class_name"] in _MODEL_CLASSES:
            entry["config"] = upgrade_model_config(entry)["config"]
        else:
            entry["config"] = _upgrade_layer_config(entry["class_name"], entry["config"])
        layers.append(entry)
    if "layers" in config:
        config["layers"] = layers
    return {**model_config, "config": config}


__all__ = ["keras2_model_config", "upgrade_model_config"]
