"""Metrics, part 2: regression and loss-like metrics, state, identifiers and configs (part 1,
test_metrics.py, has means, accuracies, confusion metrics and AUC)."""
import numpy as np
import pytest

from kerasish import losses, metrics
from kerasish.variables import Variable
from tests.kerasish.test_metrics import RNG, approx, assert_reset, two_updates


# -- regression and loss-like metrics -----------------------------------------------------------
def test_root_mean_squared_error():
    m = metrics.RootMeanSquaredError()
    assert m.name == "root_mean_squared_error" and m._direction == "down"
    result = two_updates(m, ([[0, 1], [0, 0]], [[1, 1], [0, 0]]),
                         (([[2.0], [0.0]], [[0.0], [1.0]]), {"sample_weight": [1, 3]}))
    # Per-sample mean squared errors: 0.5, 0 (weights 1, 1), then 4, 1 (weights 1, 3).
    assert result == approx(np.sqrt((0.5 + 0 + 4 + 3) / (2 + 4)))
    assert_reset(m)


LOSS_METRICS = [
    (metrics.MeanSquaredError, {}, lambda t, p: ((t - p) ** 2).mean(-1)),
    (metrics.MeanAbsoluteError, {}, lambda t, p: np.abs(t - p).mean(-1)),
    (metrics.MeanAbsolutePercentageError, {}, lambda t, p: 100 * np.abs((t - p) / t).mean(-1)),
    (metrics.MeanSquaredLogarithmicError, {},
     lambda t, p: ((np.log1p(t) - np.log1p(p)) ** 2).mean(-1)),
    (metrics.LogCoshError, {}, lambda t, p: np.log(np.cosh(p - t)).mean(-1)),
    (metrics.CosineSimilarity, {}, lambda t, p: (t * p).sum(-1) / np.linalg.norm(t, axis=-1)
     / np.linalg.norm(p, axis=-1)),
    (metrics.Poisson, {}, lambda t, p: (p - t * np.log(p + 1e-7)).mean(-1)),
    (metrics.KLDivergence, {}, lambda t, p: (t * np.log(t / p)).sum(-1)),
    (metrics.Hinge, {}, lambda t, p: np.maximum(1 - (2 * t - 1) * p, 0).mean(-1)),
    (metrics.SquaredHinge, {}, lambda t, p: (np.maximum(1 - (2 * t - 1) * p, 0) ** 2).mean(-1)),
    (metrics.CategoricalHinge, {}, lambda t, p: np.maximum(
        ((1 - t) * p).max(-1) - (t * p).sum(-1) + 1, 0)),
    (metrics.BinaryCrossentropy, {},
     lambda t, p: -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)),
    (metrics.CategoricalCrossentropy, {}, lambda t, p: -(t * np.log(p / p.sum(-1, keepdims=True))
                                                         ).sum(-1)),
]


@pytest.mark.parametrize("cls,kwargs,ref", LOSS_METRICS, ids=lambda v: getattr(v, "__name__", ""))
def test_loss_like_metrics_average_per_sample_values(cls, kwargs, ref):
    def batch(n):
        if cls in (metrics.Hinge, metrics.SquaredHinge, metrics.BinaryCrossentropy):
            t = RNG.integers(0, 2, (n, 3)).astype(float)
        elif cls in (metrics.CategoricalHinge, metrics.CategoricalCrossentropy):
            t = np.eye(3)[RNG.integers(0, 3, n)]
        else:
            t = RNG.uniform(0.1, 1.0, (n, 3))
        return t, RNG.uniform(0.1, 0.9, (n, 3))

    (t1, p1), (t2, p2) = batch(4), batch(3)
    w2 = RNG.uniform(0, 2, 3)
    m = cls(**kwargs)
    result = two_updates(m, (t1, p1), ((t2, p2), {"sample_weight": w2}))
    expected = (ref(t1, p1).sum() + (ref(t2, p2) * w2).sum()) / (4 + w2.sum())
    assert result == approx(expected, rel=2e-5)
    assert m._direction == ("up" if cls is metrics.CosineSimilarity else "down")
    assert_reset(m)


def test_sparse_categorical_crossentropy_metric():
    p = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    m = metrics.SparseCategoricalCrossentropy()
    assert m([1, 2], p) == approx((-np.log(0.95) - np.log(0.1)) / 2, rel=1e-5)


# -- state, identifiers, configs -----------------------------------------------------------------
def test_state_variables_restore_by_assign():
    m = metrics.AUC(num_thresholds=7)
    m.update_state([0, 1, 1, 0], [0.3, 0.8, 0.4, 0.6])
    assert [v.path for v in m.variables] == [f"{m.name}/{n}" for n in (
        "true_positives", "false_positives", "true_negatives", "false_negatives")]
    assert all(isinstance(v, Variable) and not v.trainable for v in m.variables)
    saved, before = [v.numpy().copy() for v in m.variables], m.result()
    m.reset_state()
    for v, value in zip(m.variables, saved):
        v.assign(value)
    assert m.result() == before
    mean = metrics.Mean()
    assert [v.name for v in mean.variables] == ["total", "count"]


@pytest.mark.parametrize("identifier,cls,name", [
    ("mae", metrics.MeanAbsoluteError, "mean_absolute_error"),
    ("mse", metrics.MeanSquaredError, "mean_squared_error"),
    ("accuracy", metrics.Accuracy, "accuracy"),
    ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy,
     "sparse_categorical_accuracy"),
    ("SparseTopKCategoricalAccuracy", metrics.SparseTopKCategoricalAccuracy,
     "sparse_top_k_categorical_accuracy"),
    ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy, "top_k_categorical_accuracy"),
    ("root_mean_squared_error", metrics.RootMeanSquaredError, "root_mean_squared_error"),
    ("kl_divergence", metrics.KLDivergence, "kl_divergence"),
    ("bce", metrics.BinaryCrossentropy, "binary_crossentropy"),
])
def test_get_strings(identifier, cls, name):
    m = metrics.get(identifier)
    assert type(m) is cls and m.name == name


def test_get_other_identifiers_and_errors():
    m = metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")
    assert metrics.get(m) is m and m.name == "top2"
    assert isinstance(metrics.get(metrics.AUC), metrics.AUC)
    got = metrics.get({"class_name": "BinaryAccuracy", "config": {"threshold": 0.3}})
    assert got.threshold == 0.3

    def my_metric(y_true, y_pred):
        return (y_true == y_pred).astype("float32")

    wrapped = metrics.get(my_metric)
    assert isinstance(wrapped, metrics.MeanMetricWrapper) and wrapped.name == "my_metric"
    assert wrapped([1, 2, 3], [1, 0, 3]) == approx(2 / 3)
    assert not hasattr(wrapped, "_direction")
    assert metrics.get(lambda t, p: t).name == "lambda"
    assert metrics.get(losses.mean_squared_error)._direction == "down"
    assert metrics.get(None) is None
    with pytest.raises(ValueError, match="^Could not interpret metric identifier: bogus$"):
        metrics.get("bogus")
    assert not hasattr(metrics.Mean(), "_direction")


CONFIG_CLASSES = [c for c in metrics.ALL_OBJECTS
                  if c not in (metrics.Metric, metrics.MeanMetricWrapper)]


# Required arguments of the classes that have some; the IoU family keeps int32 state (Keras).
REQUIRED = {"IoU": {"num_classes": 3, "target_class_ids": [1]}, "MeanIoU": {"num_classes": 3},
            "OneHotIoU": {"num_classes": 3, "target_class_ids": [1]},
            "OneHotMeanIoU": {"num_classes": 3}, "PrecisionAtRecall": {"recall": 0.5},
            "RecallAtPrecision": {"precision": 0.5}, "SensitivityAtSpecificity":
            {"specificity": 0.5}, "SpecificityAtSensitivity": {"sensitivity": 0.5}}


@pytest.mark.parametrize("cls", CONFIG_CLASSES, ids=lambda c: c.__name__)
def test_config_round_trip(cls):
    m = cls(name="custom", **REQUIRED.get(cls.__name__, {}))
    config = m.get_config()
    dtype = "int32" if issubclass(cls, metrics.IoU) else "float32"
    assert config["name"] == "custom" and config["dtype"] == dtype
    assert cls.from_config(config).get_config() == config
    assert metrics.deserialize(metrics.serialize(m)).get_config() == config


def test_specific_configs():
    assert metrics.BinaryAccuracy(threshold=0.3).get_config() == {
        "name": "binary_accuracy", "dtype": "float32", "threshold": 0.3}
    assert metrics.SparseTopKCategoricalAccuracy(k=2).get_config()["k"] == 2
    assert metrics.Precision(thresholds=[0.2], top_k=3, class_id=1, name="p").get_config() == {
        "name": "p", "dtype": "float32", "thresholds": [0.2], "top_k": 3, "class_id": 1}
    wrapper = metrics.MeanMetricWrapper(metrics.binary_accuracy, name="acc", threshold=0.4)
    rebuilt = metrics.MeanMetricWrapper.from_config(wrapper.get_config())
    assert rebuilt._fn is metrics.binary_accuracy and rebuilt._fn_kwargs == {"threshold": 0.4}


# -- devices ---------------------------------------------------------------------------------------
DEVICE_CASES = [
    (metrics.Mean, (np.array(2.5, np.float32),), {"sample_weight": 4}),
    (metrics.Sum, ([[1.0, 2.0], [3.0, 4.0]],), {}),
    (metrics.BinaryAccuracy, ([[1], [0], [1]], [[0.7], [0.6], [0.2]]), {}),
    (metrics.CategoricalAccuracy, (np.eye(3)[[0, 2]], [[0.5, 0.2, 0.3], [0.1, 0.2, 0.7]]), {}),
    (metrics.SparseCategoricalAccuracy, ([0, 1], [[0.5, 0.2, 0.3], [0.1, 0.2, 0.7]]), {}),
    (lambda: metrics.SparseTopKCategoricalAccuracy(k=2),
     ([0, 1], [[0.5, 0.2, 0.3], [0.1, 0.2, 0.7]]), {}),
    (lambda: metrics.Precision(top_k=1), (np.eye(3)[[0, 2]], [[0.5, 0.2, 0.3], [0.1, 0.8, 0.1]]),
     {}),
    (lambda: metrics.Recall(class_id=1), (np.eye(3)[[1, 2]], [[0.1, 0.6, 0.3], [0.1, 0.8, 0.1]]),
     {}),
    (metrics.AUC, ([0, 1, 1, 0, 1], [0.1, 0.7, 0.4, 0.6, 0.9]), {"sample_weight": [1, 2, 1, 1, 3]}),
    (lambda: metrics.AUC(curve="PR", from_logits=True), ([0, 1, 1, 0], [-2.0, 1.0, 0.3, 0.5]), {}),
    (lambda: metrics.AUC(multi_label=True),
     (np.eye(2)[[0, 1, 1]], [[0.6, 0.4], [0.3, 0.7], [0.5, 0.5]]), {}),
    (metrics.RootMeanSquaredError, ([[1.0], [2.0]], [[1.5], [1.0]]), {}),
    (metrics.MeanSquaredError, ([[1.0], [2.0]], [[1.5], [1.0]]), {"sample_weight": [1, 3]}),
]


@pytest.mark.parametrize("factory,args,kwargs", DEVICE_CASES,
                         ids=[str(i) for i in range(len(DEVICE_CASES))])
def test_metric_state_lives_on_the_device(xp, factory, args, kwargs):
    from kerasish import config

    device = "cpu" if xp is np else "gpu"
    expected = factory()
    expected.update_state(*args, **kwargs)
    previous = config.device()
    config.set_device(device)
    try:
        m = factory()
        m.update_state(*[xp.asarray(np.asarray(a)) for a in args],
                       **{k: v if np.isscalar(v) else xp.asarray(np.asarray(v))
                          for k, v in kwargs.items()})
        assert all(v.device == device for v in m.variables)
        assert m.result() == approx(expected.result(), rel=1e-5)
    finally:
        config.set_device(previous)
