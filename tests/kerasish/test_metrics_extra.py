"""The keras.metrics added for Keras 3.15's API (IoU family, F-scores, R2, correlations and the
rate-at-constraint metrics): two batches accumulated then reset, against numbers produced once
with Keras 3.15 (numpy backend) on the data below; configs; fit/evaluate with these metrics and
with a subclassed Metric."""
import numpy as np
import pytest

import kerasish as keras
from engine import ops
from kerasish import metrics

RNG = np.random.default_rng(11)
B1 = dict(
    ids_t=RNG.integers(0, 3, 8), ids_p=RNG.integers(0, 3, 8),
    probs=RNG.uniform(size=(8, 3)).astype("float32"),
    onehot=np.eye(3, dtype="float32")[RNG.integers(0, 3, 8)],
    bin_t=(RNG.uniform(size=8) > 0.5).astype("float32"),
    scores=RNG.uniform(size=8).astype("float32"),
    ml_t=(RNG.uniform(size=(8, 3)) > 0.5).astype("float32"),
    ml_p=RNG.uniform(size=(8, 3)).astype("float32"),
    reg_t=RNG.standard_normal((8, 2)).astype("float32"),
    reg_p=RNG.standard_normal((8, 2)).astype("float32"),
    sw=RNG.uniform(0.5, 2, 8).astype("float32"), isw=RNG.integers(0, 3, 8),
    seq_t=RNG.standard_normal((4, 5)).astype("float32"),
    seq_p=RNG.standard_normal((4, 5)).astype("float32"),
)
B2 = {k: np.roll(v, 1, axis=0) for k, v in B1.items()}
B2["scores"] = RNG.uniform(size=8).astype("float32")
B2["reg_p"] = RNG.standard_normal((8, 2)).astype("float32")
B2["ml_p"] = RNG.uniform(size=(8, 3)).astype("float32")
B2["ids_p"] = RNG.integers(0, 3, 8)
B2["seq_p"] = RNG.standard_normal((4, 5)).astype("float32")

# name: (factory, y_true key, y_pred key, sample_weight key)
SPECS = {
    "iou": (lambda: metrics.IoU(3, [0, 2]), "ids_t", "ids_p", "isw"),
    "mean_iou": (lambda: metrics.MeanIoU(3), "ids_t", "ids_p", None),
    "mean_iou_float": (lambda: metrics.MeanIoU(3, dtype="float32", ignore_class=1), "ids_t",
                       "ids_p", "sw"),
    "onehot_iou": (lambda: metrics.OneHotIoU(3, [0, 2]), "onehot", "probs", None),
    "onehot_mean_iou": (lambda: metrics.OneHotMeanIoU(3), "onehot", "probs", "isw"),
    "binary_iou": (lambda: metrics.BinaryIoU(threshold=0.4), "bin_t", "scores", None),
    "binary_iou_1": (lambda: metrics.BinaryIoU(target_class_ids=[1], dtype="float32"), "bin_t",
                     "scores", "sw"),
    "f1": (lambda: metrics.F1Score(), "ml_t", "ml_p", None),
    "f1_micro": (lambda: metrics.F1Score(average="micro", threshold=0.5), "ml_t", "ml_p", "sw"),
    "fbeta_macro": (lambda: metrics.FBetaScore(average="macro", beta=2.0, threshold=0.3),
                    "ml_t", "ml_p", None),
    "fbeta_weighted": (lambda: metrics.FBetaScore(average="weighted", beta=0.5), "ml_t", "ml_p",
                       "sw"),
    "r2": (lambda: metrics.R2Score(), "reg_t", "reg_p", None),
    "r2_vw": (lambda: metrics.R2Score(class_aggregation="variance_weighted_average"), "reg_t",
              "reg_p", "sw"),
    "r2_none_adj": (lambda: metrics.R2Score(class_aggregation=None, num_regressors=3), "reg_t",
                    "reg_p", None),
    "pearson": (lambda: metrics.PearsonCorrelation(), "seq_t", "seq_p", None),
    "pearson_axis0": (lambda: metrics.PearsonCorrelation(axis=0), "reg_t", "reg_p", None),
    "concordance": (lambda: metrics.ConcordanceCorrelation(), "seq_t", "seq_p", None),
    "p_at_r": (lambda: metrics.PrecisionAtRecall(0.6), "bin_t", "scores", None),
    "r_at_p": (lambda: metrics.RecallAtPrecision(0.5, num_thresholds=50), "bin_t", "scores",
               "sw"),
    "sens_at_spec": (lambda: metrics.SensitivityAtSpecificity(0.5), "bin_t", "scores", None),
    "spec_at_sens": (lambda: metrics.SpecificityAtSensitivity(0.7, num_thresholds=1), "bin_t",
                     "scores", None),
    "spec_at_sens_class": (lambda: metrics.SpecificityAtSensitivity(0.5, class_id=1), "ml_t",
                           "ml_p", None),
}

# Keras 3.15's result after the first batch and after both.
KERAS = {
    "iou": [0.3333333432674408, 0.2142857164144516],
    "mean_iou": [0.2222222238779068, 0.23333333432674408],
    "mean_iou_float": [0.2733462154865265, 0.1853371411561966],
    "onehot_iou": [0.20000000298023224, 0.20000000298023224],
    "onehot_mean_iou": [0.1666666716337204, 0.1666666716337204],
    "binary_iou": [0.2261904776096344, 0.23076923191547394],
    "binary_iou_1": [0.10414911806583405, 0.22880645096302032],
    "f1": [[0.24999994039535522, 0.0, 0.0], [0.26666662096977234, 0.0, 0.2222221940755844]],
    "f1_micro": [0.346824049949646, 0.30887657403945923],
    "fbeta_macro": [0.5417854189872742, 0.5330009460449219],
    "fbeta_weighted": [0.09247530996799469, 0.12893283367156982],
    "r2": [-1.6511621475219727, -1.6777013540267944],
    "r2_vw": [-1.2703744173049927, -1.5120970010757446],
    "r2_none_adj": [[-2.561368227005005, -2.0665371417999268],
                    [-2.6369054317474365, -1.292290210723877]],
    "pearson": [-0.24952581524848938, -0.16255417466163635],
    "pearson_axis0": [0.011012166738510132, -0.0645514577627182],
    "concordance": [-0.12636856734752655, -0.10345310717821121],
    "p_at_r": [0.3333333432674408, 0.375],
    "r_at_p": [0.24443042278289795, 0.24443042278289795],
    "sens_at_spec": [0.5, 0.75],
    "spec_at_sens": [0.0, 0.4166666567325592],
    "spec_at_sens_class": [0.7142857313156128, 0.7142857313156128],
}


@pytest.mark.parametrize("key", sorted(SPECS))
def test_two_batches_then_reset_match_keras(key):
    make, t, p, w = SPECS[key]
    metric = make()
    for batch, expected in zip((B1, B2), KERAS[key]):
        metric.update_state(batch[t], batch[p], sample_weight=None if w is None else batch[w])
        np.testing.assert_allclose(metric.result(), expected, rtol=2e-5, atol=1e-6)
    metric.reset_state()
    assert all(not np.asarray(v.numpy()).any() for v in metric.variables)
    metric.update_state(B1[t], B1[p], sample_weight=None if w is None else B1[w])
    np.testing.assert_allclose(metric.result(), KERAS[key][0], rtol=2e-5, atol=1e-6)


def test_iou_hand_computation_and_int_state():
    # cm = [[1, 1], [1, 1]]: iou of each class = 1 / (2 + 2 - 1).
    m = metrics.MeanIoU(num_classes=2)
    m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    assert m.result() == pytest.approx(1 / 3, rel=1e-6)
    assert m.dtype == "int32" and m.variables[0].dtype == np.int32
    assert [v.name for v in m.variables] == ["total_confusion_matrix"]
    # Ids out of [0, num_classes) and the ignored class leave the matrix untouched.
    m = metrics.IoU(3, [0, 1, 2], ignore_class=2)
    m.update_state([0, 2, 5, -1], [0, 1, 1, 0])
    np.testing.assert_array_equal(m.variables[0].numpy(), [[1, 0, 0], [0, 0, 0], [0, 0, 0]])


def test_iou_warns_on_float_weights_with_int_state():
    m = metrics.MeanIoU(num_classes=2)
    with pytest.warns(UserWarning, match="weight as `float`, but dtype is `int`"):
        m.update_state([0, 1], [0, 1], sample_weight=np.array([0.3, 0.7]))
    assert m.result() == 0.0  # truncated to zero weights, as in Keras


def test_fbeta_hand_computation():
    # threshold 0.5: class 0 tp 1 fn 2; class 1 tp 2 fp 1; class 2 tp 1 fp 1 fn 0.
    y_true = [[1, 1, 1], [1, 0, 0], [1, 1, 0]]
    y_pred = [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]
    m = metrics.F1Score(threshold=0.5)
    m.update_state(y_true, y_pred)
    np.testing.assert_allclose(m.result(), [2 / 4, 4 / 5, 2 / 3], rtol=1e-5)
    m = metrics.FBetaScore(beta=2.0, threshold=0.5)
    m.update_state(y_true, y_pred)
    p, r = np.array([1, 2 / 3, 1 / 2]), np.array([1 / 3, 1, 1])
    np.testing.assert_allclose(m.result(), 5 * p * r / (4 * p + r), rtol=1e-5)
    assert [v.name for v in m.variables] == ["true_positives", "false_positives",
                                             "false_negatives", "intermediate_weights"]
    with pytest.raises(ValueError, match="beta"):
        metrics.FBetaScore(beta=1)


def test_r2_hand_computation_and_adjusted():
    y_true, y_pred = np.array([[1.0], [4.0], [3.0]]), np.array([[2.0], [4.0], [4.0]])
    ss_res, ss_tot = 2.0, ((y_true - y_true.mean()) ** 2).sum()
    m = metrics.R2Score()
    m.update_state(y_true, y_pred)
    assert m.result() == pytest.approx(1 - ss_res / ss_tot, rel=1e-6)
    adjusted = metrics.R2Score(num_regressors=1)
    adjusted.update_state(y_true, y_pred)
    assert adjusted.result() == pytest.approx(1 - (ss_res / ss_tot) * 2 / 1, rel=1e-6)
    too_many = metrics.R2Score(num_regressors=5)
    too_many.update_state(y_true, y_pred)
    with pytest.warns(UserWarning, match="More independent predictors"):
        assert too_many.result() == pytest.approx(1 - ss_res / ss_tot, rel=1e-6)
    assert [v.name for v in m.variables] == ["num_samples", "squared_sum", "sum", "residual",
                                             "count"]


def test_correlation_functions_closed_forms_and_gradient():
    from engine.gradcheck import check_grad

    t, p = B1["seq_t"].astype("float64"), B1["seq_p"].astype("float64")
    expected = [np.corrcoef(a, b)[0, 1] for a, b in zip(t, p)]
    np.testing.assert_allclose(metrics.pearson_correlation(t, p).numpy(), expected, rtol=1e-10)
    tm, pm = t.mean(-1, keepdims=True), p.mean(-1, keepdims=True)
    norm = t.var(-1, keepdims=True) + p.var(-1, keepdims=True) + (tm - pm) ** 2
    np.testing.assert_allclose(metrics.concordance_correlation(t, p).numpy(),
                               (2 * (t - pm) * (p - pm) / (norm + 1e-7)).mean(-1), rtol=1e-10)
    check_grad(lambda x: metrics.pearson_correlation(t, x), p)
    check_grad(lambda x: metrics.concordance_correlation(t, x), p)


def test_rate_at_constraint_hand_computation():
    # Scores 0, .3, .8 for negatives and .3, .8 for positives: at t in (.3, .8) specificity is
    # 2/3 and recall 1/2; at t < .3 recall is 1 and specificity 1/3.
    y_true, y_pred = [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8]
    assert metrics.SensitivityAtSpecificity(0.5)(y_true, y_pred) == pytest.approx(0.5)
    assert metrics.SpecificityAtSensitivity(0.9)(y_true, y_pred) == pytest.approx(1 / 3)
    assert metrics.PrecisionAtRecall(0.9)(y_true, y_pred) == pytest.approx(2 / 4)
    assert metrics.RecallAtPrecision(0.5)(y_true, y_pred) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="`recall` must be in the range"):
        metrics.PrecisionAtRecall(1.5)


CONFIGS = [
    (metrics.IoU, {"num_classes": 3, "target_class_ids": [1]},
     ["name", "dtype", "num_classes", "target_class_ids", "ignore_class", "sparse_y_true",
      "sparse_y_pred", "axis"], "io_u"),
    (metrics.BinaryIoU, {}, ["target_class_ids", "threshold", "name", "dtype"], "binary_io_u"),
    (metrics.MeanIoU, {"num_classes": 2},
     ["num_classes", "name", "dtype", "ignore_class", "sparse_y_true", "sparse_y_pred", "axis"],
     "mean_io_u"),
    (metrics.OneHotIoU, {"num_classes": 3, "target_class_ids": [1]},
     ["num_classes", "target_class_ids", "name", "dtype", "ignore_class", "sparse_y_pred",
      "axis"], "one_hot_io_u"),
    (metrics.OneHotMeanIoU, {"num_classes": 3},
     ["num_classes", "name", "dtype", "ignore_class", "sparse_y_pred", "axis"],
     "one_hot_mean_io_u"),
    (metrics.FBetaScore, {"average": "macro", "beta": 2.0},
     ["name", "dtype", "average", "beta", "threshold"], "fbeta_score"),
    (metrics.F1Score, {"threshold": 0.4}, ["name", "dtype", "average", "threshold"], "f1_score"),
    (metrics.R2Score, {"num_regressors": 2},
     ["name", "dtype", "class_aggregation", "num_regressors"], "r2_score"),
    (metrics.PearsonCorrelation, {"axis": 0}, ["name", "dtype", "axis"], "pearson_correlation"),
    (metrics.ConcordanceCorrelation, {}, ["name", "dtype", "axis"], "concordance_correlation"),
    (metrics.PrecisionAtRecall, {"recall": 0.4},
     ["name", "dtype", "class_id", "num_thresholds", "recall"], "precision_at_recall"),
    (metrics.RecallAtPrecision, {"precision": 0.4, "num_thresholds": 10},
     ["name", "dtype", "class_id", "num_thresholds", "precision"], "recall_at_precision"),
    (metrics.SensitivityAtSpecificity, {"specificity": 0.4},
     ["name", "dtype", "class_id", "num_thresholds", "specificity"],
     "sensitivity_at_specificity"),
    (metrics.SpecificityAtSensitivity, {"sensitivity": 0.4, "class_id": 1},
     ["name", "dtype", "class_id", "num_thresholds", "sensitivity"],
     "specificity_at_sensitivity"),
]


@pytest.mark.parametrize("cls,kwargs,keys,name", CONFIGS, ids=[c[0].__name__ for c in CONFIGS])
def test_config_round_trip(cls, kwargs, keys, name):
    metric = cls(**kwargs)
    config = metric.get_config()
    assert list(config) == keys
    assert config["name"].startswith(name)
    clone = metrics.deserialize(metrics.serialize(metric))
    assert type(clone) is cls and clone.get_config() == config


def test_focal_functions_are_exported():
    assert metrics.binary_focal_crossentropy is keras.losses.binary_focal_crossentropy
    assert metrics.categorical_focal_crossentropy is keras.losses.categorical_focal_crossentropy
    m = metrics.get(metrics.binary_focal_crossentropy)  # a name is not an identifier in Keras
    m.update_state([[0.0, 1.0]], [[0.4, 0.6]])
    assert m.result() == pytest.approx(
        float(keras.losses.binary_focal_crossentropy([[0.0, 1.0]], [[0.4, 0.6]])[0]))


def _binary_data(n=64):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3)).astype("float32")
    return x, (x[:, :1] - x[:, 1:2] > 0).astype("float32")


def test_fit_history_keys_are_keras_names():
    x, y = _binary_data()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    chosen = [metrics.BinaryIoU(name="binary_io_u"), metrics.PrecisionAtRecall(0.5),
              metrics.F1Score(average="micro", threshold=0.5), metrics.R2Score(),
              metrics.PearsonCorrelation(axis=0)]
    # Unnamed metrics get Keras's automatic names (made unique with _1, _2, ... as in Keras).
    names = [m.name for m in chosen]
    assert names[1].startswith("precision_at_recall") and names[2:] == [
        "f1_score", "r2_score", "pearson_correlation"]
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy",
                  metrics=chosen)
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss"} | set(names) | {f"val_{n}" for n in ["loss"] + names}
    assert history.history["binary_io_u"][-1] > history.history["binary_io_u"][0]
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert 0.5 < logs["binary_io_u"] <= 1.0 and 0.5 < logs["f1_score"] <= 1.0


class BinaryTruePositives(metrics.Metric):
    """Keras's guide example of a subclassed metric, written with add_variable."""

    def __init__(self, name="binary_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), initializer="zeros",
                                                name="true_positives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = ops.multiply(ops.cast(ops.greater(y_true, 0.5), self.dtype),
                              ops.cast(ops.greater(y_pred, 0.5), self.dtype))
        if sample_weight is not None:
            values = values * ops.cast(sample_weight, self.dtype)
        self.true_positives.assign(self.true_positives + ops.sum(values))

    def result(self):
        return self.true_positives


def test_subclassed_metric_in_fit_and_evaluate(capsys):
    x, y = _binary_data(32)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    metric = BinaryTruePositives()
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[metric])
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=1)
    out = capsys.readouterr().out
    assert "binary_true_positives: " in out
    assert set(history.history) == {"loss", "binary_true_positives"}
    # The state is reset between epochs: each epoch's count is at most the number of positives.
    assert all(0 <= v <= y.sum() for v in history.history["binary_true_positives"])
    predicted = model.predict(x, verbose=0) > 0.5
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["binary_true_positives"] == float((predicted & (y > 0.5)).sum())
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_add_variable_initializer_dtype_and_reset():
    class Custom(metrics.Metric):
        def __init__(self):
            super().__init__(name="custom")
            self.total = self.add_variable((2,), "ones", dtype="float64", name="total")
            self.count = self.add_variable(shape=(), initializer="zeros", dtype="int32",
                                           aggregation="sum", name="count")

    m = Custom()
    assert [v.name for v in m.variables] == ["total", "count"]
    assert m.total.dtype == np.float64 and m.count.dtype == np.int32
    np.testing.assert_array_equal(m.total.numpy(), [1.0, 1.0])
    m.reset_state()
    np.testing.assert_array_equal(m.total.numpy(), [0.0, 0.0])


def test_per_class_result_stays_an_array_in_the_logs():
    # F1Score(average=None) gives one score per class: History keeps the arrays, as Keras does.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 3)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 16)]
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy",
                  metrics=[metrics.F1Score(name="f1")])
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert history.history["f1"][0].shape == (3,)
    assert model.evaluate(x, y, verbose=0, return_dict=True)["f1"].shape == (3,)
    # One output column: still an array of one score, not a float (Keras keeps the shape).
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy",
                  metrics=[metrics.F1Score(name="f1", threshold=0.5)])
    history = model.fit(x, y[:, :1], epochs=1, batch_size=8, verbose=0)
    assert history.history["f1"][0].shape == (1,)


class PrecisionRecallPair(metrics.Metric):
    """A subclassed metric whose result is a dict: each entry becomes a log, as in Keras."""

    def __init__(self, name="pair", **kwargs):
        super().__init__(name=name, **kwargs)
        self.precision = metrics.Precision()
        self.recall = metrics.Recall()

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.precision.update_state(y_true, y_pred, sample_weight)
        self.recall.update_state(y_true, y_pred, sample_weight)

    def result(self):
        return {"p": self.precision.result(), "r": self.recall.result()}

    def reset_state(self):
        self.precision.reset_state()
        self.recall.reset_state()


def test_dict_result_spreads_into_the_logs():
    x, y = _binary_data(32)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[PrecisionRecallPair()])
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert set(history.history) == {"loss", "p", "r"}
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "p", "r"} and 0.0 <= logs["p"] <= 1.0


def test_metrics_held_as_attributes_are_part_of_the_state():
    pair = PrecisionRecallPair()
    assert [v.name for v in pair.variables] == ["true_positives", "false_positives",
                                                "true_positives", "false_negatives"]
    pair.update_state([0, 1, 1], [0.9, 0.8, 0.1])
    assert pair.result() == {"p": pytest.approx(0.5), "r": pytest.approx(0.5)}
    metrics.Metric.reset_state(pair)  # the base reset zeroes the held metrics' state too
    assert all(not v.numpy().any() for v in pair.variables)
    # A variable set under a second name is tracked once.
    m = metrics.Precision()
    assert len(m.variables) == 2
