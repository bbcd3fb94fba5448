"""Training configs of legacy ``.h5`` files in the two dialects (the contract:
docs/file-formats.md, "Legacy whole-model file"): ``keras2_training_config`` writes tf-keras
2.21's (``Custom>Adam`` optimizer; losses and metrics in forms both dialects read back), and
``compile_config_from_training_config`` turns either dialect's into ``compile`` arguments.
"""
from __future__ import annotations

import inspect
import re

from .. import utils
from .keras_archive import get_compile_config
from .legacy_config import _keras2_class_name

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


def _loss_function_name(name):
    """A loss given by a short name ("mse") as its function's full name: Keras 3 cannot read
    the short name back from a legacy file, and tf-keras reads either."""
    from .. import losses  # late: the losses import the layers' utilities

    try:
        loss = losses.get(name)
    except (ValueError, TypeError):
        return name
    function = loss.fn if type(loss).__name__ == "LossFunctionWrapper" else loss
    return getattr(function, "__name__", name) if inspect.isfunction(function) else name


def _keras2_loss(value):
    """Losses as both tf-keras 2 and Keras 3 read them from a legacy file: functions by their
    full name, objects as ``{"class_name", "config"}`` (no ``fn``, whose key Keras 3 refuses)."""
    if isinstance(value, str):
        return _loss_function_name(value)
    if isinstance(value, dict) and "class_name" in value:
        config = value.get("config")
        if value["class_name"] == "function":
            return _loss_function_name(config)
        if value["class_name"] == "LossFunctionWrapper" and isinstance(config, dict):
            return _keras2_loss(config.get("fn"))
        return {"class_name": _keras2_class_name(value), "config": config}
    if isinstance(value, dict):
        return {k: _keras2_loss(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keras2_loss(v) for v in value]
    return value


# Strings that compile resolves from the loss and the output shape, in both dialects.
_METRIC_STRINGS = ("accuracy", "acc", "crossentropy", "ce")


def _keras2_metric_from_name(name):
    """A metric given by name ("mae") as the object tf-keras writes for it,
    ``{"class_name": "MeanAbsoluteError", "config": {"name": "mae", "dtype": "float32"}}``: Keras
    3 reads that back under the same name, while tf-keras's ``MeanMetricWrapper`` with an ``fn``
    string does not run in Keras 3."""
    from .. import metrics  # late: the metrics import the losses

    if name in _METRIC_STRINGS:
        return name
    try:
        metric = metrics.get(name)
    except (ValueError, TypeError):
        return name
    if not isinstance(metric, metrics.Metric):
        return name
    config = metrics.serialize(metric)
    return {"class_name": config["class_name"], "config": {**config["config"], "name": name}}


def _keras2_metrics(value):
    if isinstance(value, str):
        return _keras2_metric_from_name(value)
    if isinstance(value, dict) and value.get("class_name") == "function":
        return value["config"]
    if isinstance(value, dict) and "class_name" in value:
        return {"class_name": _keras2_class_name(value), "config": value.get("config")}
    if isinstance(value, dict):
        return {k: _keras2_metrics(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keras2_metrics(v) for v in value]
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
    return {"loss": _keras2_loss(compile_config["loss"]),
            "metrics": _keras2_metrics(compile_config["metrics"]),
            "weighted_metrics": _keras2_metrics(compile_config["weighted_metrics"]),
            "loss_weights": compile_config["loss_weights"],
            "optimizer_config": _keras2_optimizer_config(model.optimizer)}


def _upgrade_loss(value):
    # tf-keras losses say reduction="auto", which Keras 3 calls "sum_over_batch_size", and a
    # built-in loss class also writes its function as ``fn``, which only the wrapper takes.
    if isinstance(value, dict):
        if "class_name" in value and isinstance(value.get("config"), dict):
            config = dict(value["config"])
            if config.get("reduction") == "auto":
                config["reduction"] = "sum_over_batch_size"
            if value["class_name"] != "LossFunctionWrapper":
                config.pop("fn", None)
            return {**value, "config": config}
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


__all__ = ["KERAS2_SLOTS", "compile_config_from_training_config", "keras2_optimizer_name",
           "keras2_training_config"]
