"""Losses (``keras.losses``): Loss classes, loss functions, and ``get`` to resolve identifiers.

>>> loss = get("sparse_categorical_crossentropy")
>>> round(float(loss([1], [[0.05, 0.95, 0.0]])), 4)
0.0513
"""
import inspect

from .. import utils
from .functions import (ALIASES, BCE, KLD, MAE, MAPE, MSE, MSLE, bce, binary_crossentropy,
                        categorical_crossentropy, categorical_hinge, cosine_similarity, hinge,
                        huber, kl_divergence, kld, log_cosh, mae, mape,
                        mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                        mean_squared_logarithmic_error, mse, msle, poisson,
                        sparse_categorical_crossentropy, squared_hinge)
from .functions import FUNCTIONS
from .functions_extra import (binary_focal_crossentropy, categorical_focal_crossentropy,
                              categorical_generalized_cross_entropy, circle, ctc, dice, tversky)
from .functions_extra import FUNCTIONS as _EXTRA_FUNCTIONS
from .loss import Loss, reduce_weighted_values, squeeze_or_expand_to_same_rank
from .losses import (CLASSES, BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge,
                     CosineSimilarity, Hinge, Huber, KLDivergence, LogCosh, LossFunctionWrapper,
                     MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
                     MeanSquaredLogarithmicError, Poisson, SparseCategoricalCrossentropy,
                     SquaredHinge, serialize_function)
from .losses_extra import CLASSES as _EXTRA_CLASSES
from .losses_extra import (CTC, BinaryFocalCrossentropy, CategoricalFocalCrossentropy,
                           CategoricalGeneralizedCrossEntropy, Circle, Dice, Tversky)

FUNCTIONS = FUNCTIONS + _EXTRA_FUNCTIONS
ALL_OBJECTS = (Loss,) + CLASSES + _EXTRA_CLASSES + FUNCTIONS
ALL_OBJECTS_DICT = {obj.__name__: obj for obj in ALL_OBJECTS}
ALL_OBJECTS_DICT.update(ALIASES)


def serialize(loss):
    """A Loss's (or a loss function's) config dict, in Keras's layout."""
    if isinstance(loss, Loss):
        return {"module": "keras.losses", "class_name": type(loss).__name__,
                "config": loss.get_config(), "registered_name": None}
    return serialize_function(loss)


def deserialize(config, custom_objects=None):
    """A Loss instance (or a loss function) from ``serialize``'s dict."""
    objects = {**ALL_OBJECTS_DICT, **(custom_objects or {})}
    name = config.get("class_name")
    if name == "function":
        name = config["config"]
        if name in objects:
            return objects[name]
    elif name in objects and inspect.isclass(objects[name]):
        return objects[name].from_config(dict(config.get("config") or {}))
    raise ValueError(f"Could not interpret loss identifier: {config}")


def get(identifier):
    """A Loss instance from a name, a config dict, a Loss, a Loss class or a function.

    Functions (and names of functions, e.g. "mse") are wrapped in ``LossFunctionWrapper``,
    as Keras's ``compile`` does. ``None`` gives None.

    Raises:
        ValueError: ``Could not interpret loss identifier: <identifier>``.
    """
    if identifier is None:
        return None
    name = None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj, name = ALL_OBJECTS_DICT.get(identifier), identifier
    else:
        obj = identifier
    if inspect.isclass(obj) and issubclass(obj, Loss):
        return obj()
    if isinstance(obj, Loss):
        return obj
    if callable(obj) and not inspect.isclass(obj):
        name = name or utils.to_snake_case(getattr(obj, "__name__", type(obj).__name__))
        return LossFunctionWrapper(obj, name=name)
    raise ValueError(f"Could not interpret loss identifier: {identifier}")


__all__ = sorted(ALL_OBJECTS_DICT) + ["get", "serialize", "deserialize",
                                      "reduce_weighted_values", "squeeze_or_expand_to_same_rank"]
