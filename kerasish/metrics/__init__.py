"""Metrics (``keras.metrics``): stateful Metric classes, metric functions and ``get``.

>>> m = get("sparse_categorical_accuracy")
>>> m.update_state([1, 0], [[0.2, 0.8], [0.3, 0.7]])
>>> m.result()
0.5
"""
import inspect

from .. import utils
from .accuracy import (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                       SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, accuracy,
                       binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
                       sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from .auc import AUC
from .at_thresholds import (PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity,
                            SpecificityAtSensitivity)
from .base import Mean, MeanMetricWrapper, Metric, Sum
from .confusion import (FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives,
                        TruePositives)
from .correlation import (ConcordanceCorrelation, PearsonCorrelation, concordance_correlation,
                          pearson_correlation)
from .f_score import F1Score, FBetaScore
from .iou import IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from .probabilistic import (BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge, Hinge,
                            KLDivergence, Poisson, SparseCategoricalCrossentropy, SquaredHinge)
from .regression import (CosineSimilarity, LogCoshError, MeanAbsoluteError,
                         MeanAbsolutePercentageError, MeanSquaredError,
                         MeanSquaredLogarithmicError, R2Score, RootMeanSquaredError)

# Loss functions Keras also exports from keras.metrics.
from ..losses.functions import (binary_crossentropy, categorical_crossentropy,
                                categorical_hinge, hinge, huber, kl_divergence, log_cosh,
                                mean_absolute_error, mean_absolute_percentage_error,
                                mean_squared_error, mean_squared_logarithmic_error, poisson,
                                sparse_categorical_crossentropy, squared_hinge)
from ..losses import functions as _loss_functions
from ..losses.functions_extra import binary_focal_crossentropy, categorical_focal_crossentropy

ALL_OBJECTS = (
    Metric, Mean, Sum, MeanMetricWrapper,
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError,
    AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives,
    Hinge, SquaredHinge, CategoricalHinge,
    KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    R2Score, PearsonCorrelation, ConcordanceCorrelation, F1Score, FBetaScore,
    IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU,
    PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity,
)
# As Keras: class names, their snake-case forms ("root_mean_squared_error"), short aliases.
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({utils.to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})
ALL_OBJECTS_DICT.update({
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
})

FUNCTIONS = (accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
             top_k_categorical_accuracy, sparse_top_k_categorical_accuracy,
             pearson_correlation, concordance_correlation, binary_focal_crossentropy,
             categorical_focal_crossentropy) + _loss_functions.FUNCTIONS


def get_function(config):
    """A metric or loss function from its name or its serialized dict."""
    name = config["config"] if isinstance(config, dict) else config
    for fn in FUNCTIONS:
        if fn.__name__ == name:
            return fn
    raise ValueError(f"Could not interpret metric function identifier: {name}")


def serialize(metric):
    """A Metric's (or a metric function's) config dict, in Keras's layout."""
    if isinstance(metric, Metric):
        return {"module": "keras.metrics", "class_name": type(metric).__name__,
                "config": metric.get_config(), "registered_name": None}
    return {"module": "keras.metrics", "class_name": "function", "config": metric.__name__,
            "registered_name": metric.__name__}


def deserialize(config, custom_objects=None):
    """A Metric instance (or a metric function) from ``serialize``'s dict."""
    objects = {**ALL_OBJECTS_DICT, **(custom_objects or {})}
    name = config.get("class_name")
    if name == "function":
        return objects.get(config["config"]) or get_function(config)
    if name in objects and inspect.isclass(objects[name]):
        return objects[name].from_config(dict(config.get("config") or {}))
    raise ValueError(f"Could not interpret metric identifier: {config}")


def get(identifier):
    """A Metric instance from a name, a config dict, a Metric, a Metric class or a function.

    Functions are wrapped in ``MeanMetricWrapper`` named after them (a lambda: "lambda").
    "accuracy" gives ``Accuracy``; the trainer resolves "accuracy"/"acc" from shapes first.

    Raises:
        ValueError: ``Could not interpret metric identifier: <identifier>``.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
    else:
        obj = identifier
    if inspect.isclass(obj) and issubclass(obj, Metric):
        return obj()
    if isinstance(obj, Metric):
        return obj
    if callable(obj) and not inspect.isclass(obj):
        name = getattr(obj, "name", None) or \
            utils.to_snake_case(getattr(obj, "__name__", type(obj).__name__))
        return MeanMetricWrapper(obj, name=name)
    raise ValueError(f"Could not interpret metric identifier: {identifier}")


__all__ = sorted({cls.__name__ for cls in ALL_OBJECTS} | {fn.__name__ for fn in FUNCTIONS}) + \
    ["get", "serialize", "deserialize"]
