"""kerasish.metrics: every metric over two update_state calls against a hand computation, then
reset; AUC against trapezoids and interpolations written here in NumPy."""
import numpy as np
import pytest

from engine import Tensor
from kerasish import metrics

RNG = np.random.default_rng(0)


def approx(x, rel=1e-6):
    return pytest.approx(x, rel=rel, abs=1e-7)


def two_updates(metric, first, second):
    """Runs two update_state calls (each a tuple of args or (args, kwargs)); returns result."""
    for call in (first, second):
        args, kwargs = call if isinstance(call[-1], dict) else (call, {})
        metric.update_state(*args, **kwargs)
    return metric.result()


def assert_reset(metric):
    metric.reset_state()
    assert all(not np.asarray(v.numpy()).any() for v in metric.variables)


# -- Mean, Sum, MeanMetricWrapper -------------------------------------------------------------
def test_mean():
    m = metrics.Mean()
    assert m.name == "mean" and m.result() == 0.0
    result = two_updates(m, ([1, 3, 5, 7],), (([2, 4],), {"sample_weight": [1, 3]}))
    assert result == approx((16 + 2 + 12) / (4 + 4))
    assert_reset(m)
    assert m.result() == 0.0
    # Values of rank 2 with (N,) weights: averaged per sample first.
    m.update_state([[1, 3], [5, 7]], sample_weight=[1, 0])
    assert m.result() == approx(2.0)
    m.reset_state()
    # Weights of the values' shape: per-sample means of the weighted values and of the weights.
    m.update_state([[1, 3], [5, 7]], sample_weight=[[1, 0], [1, 1]])
    assert m.result() == approx((0.5 + 6.0) / (0.5 + 1.0))


def test_mean_with_scalar_values_and_int_weights():
    # What the trainer does with each batch loss: weight it by the batch size.
    m = metrics.Mean(name="loss")
    m.update_state(np.float32(2.0), sample_weight=4)
    m.update_state(np.array(5.0, np.float32), sample_weight=2)
    assert m.result() == approx(3.0)


def test_sum():
    m = metrics.Sum()
    result = two_updates(m, (([1, 3, 5, 7],), {"sample_weight": [1, 1, 0, 0]}),
                         ([[1, 2], [3, 4]],))
    assert result == approx(4 + 10)
    assert_reset(m)


def test_mean_metric_wrapper_and_masks():
    def abs_error(y_true, y_pred):
        return abs(y_true - y_pred)

    m = metrics.MeanMetricWrapper(abs_error, name="abs_error")
    result = two_updates(m, ([1.0, 2.0], [1.5, 2.5]),
                         (([0.0, 0.0], [1.0, 3.0]), {"sample_weight": [1, 0]}))
    assert m.name == "abs_error" and result == approx((0.5 + 0.5 + 1.0) / 3)
    assert_reset(m)
    pred = Tensor(np.array([[1.0], [5.0], [2.0]], np.float32))
    pred._keras_mask = np.array([True, False, True])
    mse = metrics.MeanSquaredError()
    mse.update_state([[0.0], [0.0], [0.0]], pred)
    assert mse.result() == approx((1 + 4) / 2)


def test_metrics_take_engine_tensors_and_record_no_graph():
    pred = Tensor(np.array([[0.2, 0.8], [0.9, 0.1]], np.float32), requires_grad=True)
    m = metrics.CategoricalAccuracy()
    m.update_state(np.array([[0, 1], [0, 1]]), pred)
    assert m.result() == 0.5
    value = metrics.categorical_accuracy(np.array([[0, 1], [0, 1]]), pred)
    assert isinstance(value, Tensor) and not value.requires_grad
    np.testing.assert_array_equal(value.numpy(), [1.0, 0.0])


# -- accuracy ----------------------------------------------------------------------------------
ACCURACY_CASES = [
    (metrics.Accuracy(), ([[1], [2], [3], [4]], [[0], [2], [3], [4]]),
     (([[1], [2]], [[1], [3]]), {"sample_weight": [1, 3]}), (3 + 1) / (4 + 4)),
    (metrics.BinaryAccuracy(), ([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]),
     (([[1], [0]], [[0.4], [0.4]]), {"sample_weight": [2, 1]}), (3 + 1) / (4 + 3)),
    # Rank-1 labels: Keras averages over the last axis, so each batch is one value.
    (metrics.BinaryAccuracy(threshold=0.7), ([1, 1, 0], [0.65, 0.9, 0.2]),
     ([0, 1], [0.75, 0.71]), (2 / 3 + 1 / 2) / 2),
    (metrics.CategoricalAccuracy(), ([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]),
     (([[1, 0, 0]], [[0.5, 0.2, 0.3]]), {"sample_weight": [0.5]}), (1 + 0.5) / 2.5),
    (metrics.SparseCategoricalAccuracy(), ([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]),
     (([0, 2], [[0.6, 0.3, 0.1], [0.6, 0.3, 0.1]]), {"sample_weight": [0.7, 0.3]}),
     (1 + 0.7) / 3),
    (metrics.TopKCategoricalAccuracy(k=2),
     ([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.5, 0.1, 0.4]]),
     ([[1, 0, 0]], [[0.2, 0.5, 0.3]]), 1 / 3),
    (metrics.SparseTopKCategoricalAccuracy(k=1), ([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]),
     (([0, 1], [[0.6, 0.3, 0.1], [0.6, 0.3, 0.1]]), {"sample_weight": [1, 2]}), (1 + 1) / 5),
]


@pytest.mark.parametrize("metric,first,second,expected", ACCURACY_CASES,
                         ids=lambda v: type(v).__name__ if isinstance(v, metrics.Metric) else "")
def test_accuracy_metrics(metric, first, second, expected):
    assert metric._direction == "up"
    assert two_updates(metric, first, second) == approx(expected)
    assert_reset(metric)
    assert metric.result() == 0.0


def test_top_k_counts_ties_at_the_boundary_and_higher_ranks():
    scores = [[0.5, 0.5, 0.0], [0.3, 0.3, 0.4]]
    np.testing.assert_array_equal(
        metrics.sparse_top_k_categorical_accuracy([1, 0], scores, k=1).numpy(), [1.0, 0.0])
    np.testing.assert_array_equal(
        metrics.sparse_top_k_categorical_accuracy([[1], [0]], scores, k=2).numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(  # rank-3 predictions keep the labels' shape
        metrics.top_k_categorical_accuracy(np.eye(3)[[[0, 2]]], [[[0.9, 0.0, 0.1],
                                                                  [0.9, 0.0, 0.1]]], k=1).numpy(),
        [[1.0, 0.0]])


def test_accuracy_function_shapes():
    np.testing.assert_array_equal(metrics.binary_accuracy([[1, 0], [0, 0]],
                                                          [[0.6, 0.4], [0.7, 0.1]]).numpy(),
                                  [1.0, 0.5])
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(
        np.array([[1], [0]]), [[0.2, 0.8], [0.3, 0.7]]).numpy(), [1.0, 0.0])


# -- confusion matrix metrics -------------------------------------------------------------------
def test_confusion_counts():
    y1, p1 = [0, 1, 1, 0, 1], [0.2, 0.7, 0.4, 0.9, 0.6]
    y2, p2 = [1, 0], [0.8, 0.1]
    expected = {"TruePositives": 2 + 1, "FalsePositives": 1 + 0, "TrueNegatives": 1 + 1,
                "FalseNegatives": 1 + 0}
    for name, count in expected.items():
        m = getattr(metrics, name)()
        assert two_updates(m, (y1, p1), (y2, p2)) == count
        assert_reset(m)
    m = metrics.TruePositives(thresholds=[0.3, 0.65])
    np.testing.assert_array_equal(two_updates(m, (y1, p1), ((y2, p2), {"sample_weight": [3, 1]})),
                                  [3 + 3, 1 + 3])


def test_precision_and_recall_at_thresholds():
    y, p = [0, 1, 1, 0, 1], [0.2, 0.5, 0.7, 0.65, 0.1]
    # t=0.3: positives {1,2,3} -> tp 2, fp 1, fn 1.  t=0.6: {2,3} -> tp 1, fp 1, fn 2.
    precision = metrics.Precision(thresholds=[0.3, 0.6])
    recall = metrics.Recall(thresholds=[0.3, 0.6])
    np.testing.assert_allclose(precision(y, p), [2 / 3, 1 / 2], rtol=1e-6)
    np.testing.assert_allclose(recall(y, p), [2 / 3, 1 / 3], rtol=1e-6)
    # Second batch, weighted: [1, 0] at [0.9, 0.4], weights [2, 5] -> tp +2 at both thresholds,
    # fp +5 at t=0.3 only.
    precision.update_state([1, 0], [0.9, 0.4], sample_weight=[2, 5])
    recall.update_state([1, 0], [0.9, 0.4], sample_weight=[2, 5])
    np.testing.assert_allclose(precision.result(), [4 / 10, 3 / 4], rtol=1e-6)
    np.testing.assert_allclose(recall.result(), [4 / 5, 3 / 5], rtol=1e-6)
    assert_reset(precision)


def test_precision_recall_default_threshold_two_updates():
    p, r = metrics.Precision(), metrics.Recall()
    assert p.name.startswith("precision") and r.name.startswith("recall")
    first, second = ([0, 1, 1, 1], [1, 0, 1, 1]), ([1, 0], [0.8, 0.2])
    # tp 2+1, fp 1+0, fn 1+0.
    assert two_updates(p, first, second) == approx(3 / 4)
    assert two_updates(r, first, second) == approx(3 / 4)
    assert p._direction == r._direction == "up"


def test_precision_recall_top_k_and_class_id():
    y = [[0, 1, 1], [1, 0, 0]]
    scores = [[0.2, 0.5, 0.9], [0.1, 0.8, 0.3]]
    # top-1: row 0 -> class 2 (right), row 1 -> class 1 (wrong): tp 1, fp 1, fn 2.
    assert metrics.Precision(top_k=1)(y, scores) == approx(0.5)
    assert metrics.Recall(top_k=1)(y, scores) == approx(1 / 3)
    # class 1 only: labels [1, 0], scores [0.5, 0.8] > 0.5 -> [no, yes]: tp 0, fp 1, fn 1.
    assert metrics.Precision(class_id=1)(y, scores) == 0.0
    assert metrics.Recall(class_id=1)(y, scores) == 0.0
    assert metrics.Recall(class_id=0)(y, [[0.2, 0.5, 0.9], [0.6, 0.8, 0.3]]) == 1.0
    with pytest.raises(ValueError, match="When class_id is provided, y_pred must be a 2D array"):
        metrics.Precision(class_id=1)([1, 0], [0.3, 0.4])


def test_threshold_validation():
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]. Received: "
                                         r"\[1.5\]"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="Expected a value in interval \\(0, 1\\). Received: "
                                         "threshold=1"):
        metrics.BinaryAccuracy(threshold=1)


# -- AUC ----------------------------------------------------------------------------------------
def np_counts(y, p, thresholds, w=None):
    """tp, fp, tn, fn per threshold, counting ``p > t`` as positive."""
    y, p = np.asarray(y, bool), np.asarray(p, float)
    w = np.ones(len(y)) if w is None else np.asarray(w, float)
    pos = p[None, :] > np.asarray(thresholds)[:, None]
    return [((a & b) * w).sum(1) for a, b in ((pos, y), (pos, ~y), (~pos, ~y), (~pos, y))]


def keras_thresholds(n):
    return np.array([-1e-7] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + 1e-7])


def roc_trapezoid(y, p, n, w=None):
    tp, fp, tn, fn = np_counts(y, p, keras_thresholds(n), w)
    tpr, fpr = tp / (tp + fn), fp / (fp + tn)
    return sum((fpr[i] - fpr[i + 1]) * (tpr[i] + tpr[i + 1]) / 2 for i in range(n - 1))


def test_auc_documented_example_and_accumulation():
    m = metrics.AUC(num_thresholds=3)
    assert m.name.startswith("auc") and m._direction == "up"
    # thresholds [-eps, 0.5, 1+eps]: tp [2, 1, 0], fp [2, 0, 0] -> 0.75 (Keras's docstring).
    assert m([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]) == approx(0.75)
    m.update_state([1, 0], [0.6, 0.4])
    y, p = [0, 0, 1, 1, 1, 0], [0, 0.5, 0.3, 0.9, 0.6, 0.4]
    assert m.result() == approx(roc_trapezoid(y, p, 3))
    assert_reset(m)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1])
    assert m.result() == approx(1.0)


def test_auc_roc_trapezoid_by_hand():
    y = [0, 1, 0, 1, 1, 0, 1, 0]
    p = [0.1, 0.35, 0.4, 0.8, 0.65, 0.7, 0.2, 0.05]
    w = [1, 2, 1, 1, 0.5, 1, 1, 3]
    m = metrics.AUC(num_thresholds=5)
    m.update_state(y[:4], p[:4], sample_weight=w[:4])
    m.update_state(y[4:], p[4:], sample_weight=w[4:])
    assert m.result() == approx(roc_trapezoid(y, p, 5, w), rel=1e-5)


def test_auc_converges_to_the_exact_rank_auc():
    y = RNG.integers(0, 2, 60)
    p = (RNG.permutation(100)[:60] + 0.25) / 100  # distinct, one per bucket of width 0.005
    pos, neg = p[y == 1], p[y == 0]
    exact = (pos[:, None] > neg[None, :]).mean()
    assert metrics.AUC(num_thresholds=201)(y, p) == approx(exact, rel=1e-5)


def test_auc_summation_methods_and_pr_curve():
    y = [0, 1, 1, 0, 1, 0, 1]
    p = [0.1, 0.6, 0.8, 0.3, 0.45, 0.7, 0.9]
    n = 4
    tp, fp, tn, fn = np_counts(y, p, keras_thresholds(n))
    tpr, fpr = tp / (tp + fn), fp / (fp + tn)
    precision = np.divide(tp, tp + fp, out=np.zeros(n), where=tp + fp > 0)
    widths_roc, widths_pr = fpr[:-1] - fpr[1:], tpr[:-1] - tpr[1:]
    lo, hi = np.minimum, np.maximum
    expected = {
        ("ROC", "minoring"): (widths_roc * lo(tpr[:-1], tpr[1:])).sum(),
        ("ROC", "majoring"): (widths_roc * hi(tpr[:-1], tpr[1:])).sum(),
        ("PR", "minoring"): (widths_pr * lo(precision[:-1], precision[1:])).sum(),
        ("PR", "majoring"): (widths_pr * hi(precision[:-1], precision[1:])).sum(),
    }
    for (curve, method), value in expected.items():
        m = metrics.AUC(num_thresholds=n, curve=curve, summation_method=method)
        assert m(y, p) == approx(value, rel=1e-5), (curve, method)


def pr_interpolated_by_quadrature(tp, fp, fn, steps=20000):
    """Precision integrated over recall with TP and P = TP + FP linear inside each interval."""
    total_pos = tp[0] + fn[0]
    p = tp + fp
    area = 0.0
    s = (np.arange(steps) + 0.5) / steps  # midpoints: never the 0/0 end point
    for i in range(len(tp) - 1):
        dtp = tp[i] - tp[i + 1]
        if dtp == 0:
            continue
        tp_s = tp[i + 1] + s * dtp
        p_s = p[i + 1] + s * (p[i] - p[i + 1])
        area += (tp_s / p_s).mean() * dtp / total_pos
    return area


def test_auc_pr_interpolation_by_quadrature():
    y = [0, 1, 1, 0, 1, 0, 1, 1, 0, 0]
    p = [0.1, 0.6, 0.8, 0.3, 0.45, 0.7, 0.9, 0.2, 0.55, 0.05]
    n = 6
    tp, fp, tn, fn = np_counts(y, p, keras_thresholds(n))
    m = metrics.AUC(num_thresholds=n, curve="PR")
    assert m(y, p) == approx(pr_interpolated_by_quadrature(tp, fp, fn), rel=1e-4)


def test_auc_from_logits_multi_label_and_explicit_thresholds():
    logits = RNG.normal(size=(20, 3)) * 3
    y = RNG.integers(0, 2, (20, 3))
    probs = 1 / (1 + np.exp(-logits))
    plain = metrics.AUC(num_thresholds=50)(y, probs)
    assert metrics.AUC(num_thresholds=50, from_logits=True)(y, logits) == approx(plain, 1e-5)
    per_label = [metrics.AUC(num_thresholds=50)(y[:, j], probs[:, j]) for j in range(3)]
    assert metrics.AUC(num_thresholds=50, multi_label=True)(y, probs) == \
        approx(np.mean(per_label), 1e-5)
    weighted = metrics.AUC(num_thresholds=50, multi_label=True, num_labels=3,
                           label_weights=[1.0, 0.0, 3.0])
    assert weighted(y, probs) == approx((per_label[0] + 3 * per_label[2]) / 4, 1e-5)
    m = metrics.AUC(thresholds=[0.5, 0.25])
    assert m.num_thresholds == 4 and m.thresholds == pytest.approx([-1e-7, 0.25, 0.5, 1 + 1e-7])
    assert m.get_config()["thresholds"] == pytest.approx([0.25, 0.5])


def test_auc_errors():
    with pytest.raises(ValueError, match="Argument `num_thresholds` must be an integer > 1. "
                                         "Received: num_thresholds=1"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match='Invalid AUC curve value: "bogus"'):
        metrics.AUC(curve="bogus")
    with pytest.raises(ValueError, match='Invalid AUC summation method value: "bogus"'):
        metrics.AUC(summation_method="bogus")
    with pytest.raises(ValueError, match="`num_labels` is needed only when `multi_label`"):
        metrics.AUC(num_labels=3)
