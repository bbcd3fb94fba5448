"""Optimizers (Keras's ``keras.optimizers``): ``get``, ``serialize``, ``deserialize``.

>>> import kerasish
>>> kerasish.optimizers.get("adam")
<Adam name=adam, built=False>
"""
from . import legacy, schedules
from .adafactor import Adafactor, ScheduleFreeAdamW
from .adam import Adam, Adamax, AdamW, Nadam
from .adaptive import Adadelta, Adagrad, RMSprop
from .base_optimizer import Optimizer
from .lion_lamb_ftrl import Ftrl, Lamb, Lion
from .loss_scale_optimizer import LossScaleOptimizer
from .multi_optimizer import MultiOptimizer, OptimizerMap
from .muon import Muon
from .sgd import SGD

ALL_OBJECTS = (Optimizer, SGD, Adam, AdamW, Adamax, Nadam, RMSprop, Adagrad, Adadelta,
               Adafactor, Ftrl, Lamb, Lion, LossScaleOptimizer, Muon, MultiOptimizer,
               OptimizerMap, ScheduleFreeAdamW)
# NOTE: built-in names are matched case-insensitively ("adam", "Adam", "rmsprop", "SGD").
ALL_OBJECTS_DICT = {cls.__name__.lower(): cls for cls in ALL_OBJECTS}

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Adagrad",
           "Adadelta", "Adafactor", "Ftrl", "Lamb", "Lion", "LossScaleOptimizer", "Muon",
           "ScheduleFreeAdamW", "MultiOptimizer", "OptimizerMap", "legacy", "schedules", "get",
           "serialize", "deserialize"]


def serialize(optimizer):
    """The optimizer as Keras's ``{"module", "class_name", "config", "registered_name"}``."""
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def _lookup(class_name, custom_objects=None):
    if custom_objects and class_name in custom_objects:
        return custom_objects[class_name]
    return ALL_OBJECTS_DICT.get(str(class_name).lower())


def deserialize(config, custom_objects=None):
    """An optimizer from its ``serialize`` dict."""
    cls = _lookup(config["class_name"], custom_objects)
    if cls is None:
        raise ValueError(f"Could not interpret optimizer identifier: {config['class_name']}")
    return cls.from_config(dict(config.get("config") or {}), custom_objects=custom_objects)


def get(identifier):
    """An optimizer from a name (``"adam"``), a config dict or an instance (returned as is)."""
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _lookup(identifier["class_name"])
        if cls is not None:
            return cls.from_config(dict(identifier.get("config") or {}))
    elif isinstance(identifier, str):
        cls = _lookup(identifier)
        if cls is not None:
            return cls()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")
