"""Model configs in the two dialects of legacy ``.h5`` files, and their training configs (see
/work/shared/KERAS_FILES.md, "Legacy full-model `.h5` in both dialects").

- Writing: ``keras2_model_config`` turns a model's Keras 3 config into tf-keras 2.21's:
  ``batch_input_shape``, nested ``inbound_nodes`` lists and ``input_layers``/``output_layers``,
  no ``module``/``registered_name``/``build_config`` in layer entries, dtype strings, BatchNorm
  ``axis`` lists, the RNN keys ``time_major``/``implementation``, Lambda's list form.
  ``keras2_training_config`` gives tf-keras's ``training_config`` (``Custom>Adam`` optimizer).
- Reading: ``upgrade_model_config`` undoes tf-keras's per-layer quirks (what Keras 3's legacy
  loader undoes, plus the RNN keys), and ``compile_config_from_training_config`` turns either
  dialect's ``training_config`` into ``compile`` arguments. Nested objects (initializers, a
  wrapper's layer) are in the new style in both dialects and pass through.
"""
from __future__ import annotations

import re

from .. import utils
from .keras_archive import get_compile_config

_RNN_CLASSES = ("LSTM", "GRU", "SimpleRNN")
_KERAS3_ONLY_KEYS = ("quantization_config", "lora_rank", "lora_alpha")
# Keras's LAMBDA_DEP_ARGS: tf-keras Lambda keys that Keras 3 does not know.
_LAMBDA_KERAS2_KEYS = ("module", "function_type", "output_shape_type", "output_shape_module")
_MODEL_CLASSES = ("Sequential", "Functional", "Model")
# tf-keras's slot names where they differ from Keras 3's ("m"/"v" instead of momentum/velocity).
KERAS2_SLOTS = {
    "Adam": {"momentum": "m", "velocity": "v", "velocity_hat": "vhat"},
    "AdamW": {"momentum": "m", "velocity": "v", "velocity_hat": "vhat"},
    "Nadam": {"momentum": "m", "velocity": "v"},
    "Adamax": {"momentum": "m", "norm": "u"},
    "SGD": {"momentum": "m"},
}
_OPTIMIZER_BASE_KEYS = ("name", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue",
                        "use_ema", "ema_momentum", "ema_overwrite_frequency")


# -- Keras 3 config -> tf-keras 2 config (writing) ----------------------------------------------
def _keras2_dtype(dtype):
    if isinstance(dtype, dict) and dtype.get("class_name") in ("DTypePolicy", "Policy"):
        name = (dtype.get("config") or {}).get("name")
        if str(name).startswith("mixed_"):
            return {"module": "keras.mixed_precision", "class_name": "Policy",
                    "config": {"name": name}, "registered_name": None}
        return name
    return dtype


def _keras2_rnn(class_name, config):
    """tf-keras's RNN keys: ``time_major`` and ``implementation``; no ``seed``."""
    config.pop("seed", None)
    if not config.get("zero_output_for_mask"):
        config.pop("zero_output_for_mask", None)
    config["time_major"] = False
    if class_name != "SimpleRNN":
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


def _keras2_layer_config(class_name, config, build_config):
    config = {k: v for k, v in config.items() if k not in _KERAS3_ONLY_KEYS}
    if "dtype" in config:
        config["dtype"] = _keras2_dtype(config["dtype"])
    if class_name == "InputLayer":
        return {"batch_input_shape": config.get("batch_shape"), "dtype": config.get("dtype"),
                "sparse": config.get("sparse", False), "ragged": config.get("ragged", False),
                "name": config.get("name")}
    if class_name in _RNN_CLASSES:
        _keras2_rnn(class_name, config)
    if class_name == "Bidirectional" and isinstance(config.get("layer"), dict):
        _keras2_bidirectional(config)
    axis = config.get("axis")
    if class_name == "BatchNormalization" and isinstance(axis, int):
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
    return config


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
    import inspect

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
    return [list(t["config"]["keras_history"]) + [kwargs]
            for t in _tensors(args[0] if args else [])]


def _nested(triples):
    """tf-keras always nests ``input_layers`` / ``output_layers``: ``[["dense", 0, 0]]``."""
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


def keras2_model_config(model_config):
    """A model's ``{"class_name", "config"}`` in the tf-keras 2 dialect, from Keras 3's.

    >>> keras2_model_config({"class_name": "Sequential", "config": seq.get_config()})["config"]
    {'name': 'sequential', 'layers': [...]}
    """
    class_name, config = model_config["class_name"], model_config["config"]
    if class_name == "Sequential":
        return {"class_name": "Sequential", "config": {
            "name": config["name"],
            "layers": [_keras2_entry(e, False) for e in config.get("layers", [])]}}
    if "input_layers" in config:
        return {"class_name": "Functional", "config": {
            "name": config["name"], "trainable": config.get("trainable", True),
            "layers": [_keras2_entry(e, True) for e in config.get("layers", [])],
            "input_layers": _nested(config["input_layers"]),
            "output_layers": _nested(config["output_layers"])}}
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


# -- training config ----------------------------------------------------------------------------
def _keras2_objects(value):
    """Serialized losses/metrics in tf-keras's form: functions by name, objects without
    ``module``/``registered_name``."""
    if isinstance(value, dict):
        if value.get("class_name") == "function":
            return value["config"]
        if "class_name" in value:
            return {"class_name": _keras2_class_name(value), "config": value.get("config")}
        return {k: _keras2_objects(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keras2_objects(v) for v in value]
    return value


def keras2_optimizer_name(optimizer):
    """tf-keras names an optimizer after its class ("Adam"); a custom name is kept."""
    cls = type(optimizer).__name__
    if re.fullmatch(re.escape(utils.to_snake_case(cls)) + r"(_\d+)?", optimizer.name):
        return cls
    return optimizer.name


def _keras2_optimizer_config(optimizer):
    config = optimizer.get_config()
    base = {k: config[k] for k in _OPTIMIZER_BASE_KEYS if k in config}
    base.update(name=keras2_optimizer_name(optimizer), jit_compile=False,
                is_legacy_optimizer=False)
    rest = {k: v for k, v in config.items() if k not in base and not (
        k in ("loss_scale_factor", "gradient_accumulation_steps") and v is None)}
    return {"class_name": f"Custom>{type(optimizer).__name__}", "config": {**base, **rest}}


def keras2_training_config(model):
    """The ``training_config`` tf-keras writes for a compiled model (None if not compiled).

    >>> list(keras2_training_config(model))
    ['loss', 'metrics', 'weighted_metrics', 'loss_weights', 'optimizer_config']
    """
    compile_config = get_compile_config(model)
    if not compile_config:
        return None
    return {"loss": _keras2_objects(compile_config["loss"]),
            "metrics": _keras2_objects(compile_config["metrics"]),
            "weighted_metrics": _keras2_objects(compile_config["weighted_metrics"]),
            "loss_weights": compile_config["loss_weights"],
            "optimizer_config": _keras2_optimizer_config(model.optimizer)}


def _upgrade_loss(value):
    # tf-keras losses say reduction="auto", which Keras 3 calls "sum_over_batch_size".
    if isinstance(value, dict):
        if "class_name" in value and isinstance(value.get("config"), dict) and \
                value["config"].get("reduction") == "auto":
            return {**value, "config": {**value["config"], "reduction": "sum_over_batch_size"}}
        return {k: _upgrade_loss(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_upgrade_loss(v) for v in value]
    return value


def compile_config_from_training_config(training_config):
    """``training_config`` of either dialect as ``compile`` arguments (a compile config).

    >>> compile_config_from_training_config({"loss": "mse", "optimizer_config": opt})["loss"]
    'mse'
    """
    config = {"optimizer": training_config.get("optimizer_config"),
              "loss": _upgrade_loss(training_config.get("loss")),
              "loss_weights": training_config.get("loss_weights"),
              "metrics": training_config.get("metrics"),
              "weighted_metrics": training_config.get("weighted_metrics")}
    for key in ("run_eagerly", "steps_per_execution", "jit_compile"):
        if key in training_config:
            config[key] = training_config[key]
    return config


__all__ = ["KERAS2_SLOTS", "compile_config_from_training_config", "keras2_model_config",
           "keras2_optimizer_name", "keras2_training_config", "upgrade_model_config"]
