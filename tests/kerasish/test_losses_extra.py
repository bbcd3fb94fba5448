"""Focal and generalized cross-entropies, Dice, Tversky, Circle and CTC against numbers produced
once with Keras 3.15 (numpy backend) on the inputs below, plus gradient checks, configs and fit."""
import numpy as np
import pytest

import engine
import kerasish as keras
from engine import Tensor
from engine.gradcheck import check_grad
from kerasish import losses

RNG = np.random.default_rng(7)
YT_B = (RNG.uniform(size=(3, 4)) > 0.5).astype("float32")
YP_B = RNG.uniform(0.05, 0.95, size=(3, 4)).astype("float32")
LG_B = RNG.standard_normal((3, 4)).astype("float32") * 2
YT_C = np.eye(4, dtype="float32")[[0, 3, 1]]
YP_C = RNG.uniform(0.05, 1.0, size=(3, 4)).astype("float32")
LG_C = RNG.standard_normal((3, 4)).astype("float32") * 2
IDS = np.array([0, 3, 1])
EMB = RNG.standard_normal((6, 5)).astype("float32")
EMB /= np.linalg.norm(EMB, axis=1, keepdims=True)
LAB = np.array([0, 1, 0, 2, 1, 3])
CTC_T = np.array([[1, 2, 0], [3, 3, 0]])
CTC_LG = RNG.standard_normal((2, 6, 4)).astype("float32")
SEG_T = (RNG.uniform(size=(2, 3, 3, 1)) > 0.5).astype("float32")
SEG_P = RNG.uniform(size=(2, 3, 3, 1)).astype("float32")
SW = np.array([0.5, 1.0, 2.0], "float32")

# (loss, y_true, y_pred, call kwargs, Keras 3.15's result)
KERAS_CASES = {
    "bfce": (losses.BinaryFocalCrossentropy(), YT_B, YP_B, {}, 0.452926367521286),
    "bfce_balanced_logits_smoothing": (
        losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=1.5,
                                       from_logits=True, label_smoothing=0.1),
        YT_B, LG_B, {}, 0.3501770496368408),
    "bfce_none": (losses.BinaryFocalCrossentropy(reduction=None), YT_B, YP_B, {},
                  [0.32749947905540466, 0.7441459894180298, 0.2871335446834564]),
    "bfce_sample_weight": (losses.BinaryFocalCrossentropy(), YT_B, YP_B, {"sample_weight": SW},
                           0.49405428767204285),
    "cfce": (losses.CategoricalFocalCrossentropy(), YT_C, YP_C, {}, 0.5193638205528259),
    "cfce_logits_alpha_list": (
        losses.CategoricalFocalCrossentropy(alpha=[0.1, 0.2, 0.3, 0.4], gamma=3.0,
                                            from_logits=True, label_smoothing=0.2),
        YT_C, LG_C, {}, 0.3250913619995117),
    "gce": (losses.CategoricalGeneralizedCrossEntropy(q=0.3, reduction=None), IDS,
            YP_C / YP_C.sum(1, keepdims=True), {},
            [2.0792956352233887, 1.204736351966858, 1.839542269706726]),
    "dice": (losses.Dice(), SEG_T, SEG_P, {}, 0.4281284809112549),
    "dice_axis": (losses.Dice(axis=(1, 2, 3), reduction=None), SEG_T, SEG_P, {},
                  [0.6189208030700684, 0.28182899951934814]),
    "tversky": (losses.Tversky(alpha=0.3, beta=0.7), SEG_T, SEG_P, {}, 0.38335347175598145),
    "tversky_axis": (losses.Tversky(alpha=0.3, beta=0.7, axis=(1, 2, 3), reduction=None),
                     SEG_T, SEG_P, {}, [0.5972828269004822, 0.2133183479309082]),
    "circle": (losses.Circle(), LAB, EMB, {}, 48.950870513916016),
    "circle_none": (losses.Circle(gamma=10.0, margin=0.25, reduction=None), LAB, EMB, {},
                    [10.180753707885742, 6.1491265296936035, 12.076976776123047, 0.0,
                     4.790664196014404, 0.0]),
    "circle_keep_diagonal": (losses.Circle(gamma=10.0, remove_diagonal=False), LAB, EMB, {},
                             4.819082736968994),
    "ctc": (losses.CTC(), CTC_T, CTC_LG, {}, 5.496467590332031),
    "ctc_none": (losses.CTC(reduction=None), CTC_T, CTC_LG, {},
                 [5.114009857177734, 5.878925800323486]),
}


@pytest.mark.parametrize("key", sorted(KERAS_CASES))
def test_matches_keras(key):
    loss, y_true, y_pred, kwargs, expected = KERAS_CASES[key]
    got = loss(y_true, y_pred, **kwargs)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), expected, rtol=2e-5, atol=1e-6)


def test_functions_match_keras_docstrings():
    y_true, y_pred = [[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]]
    np.testing.assert_allclose(
        losses.binary_focal_crossentropy(y_true, y_pred, gamma=2).numpy(), [0.330, 0.206],
        atol=1e-3)
    cat = losses.categorical_focal_crossentropy([[0, 1, 0], [0, 0, 1]],
                                                [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    # NOTE: Keras's docstring prints stale numbers; these are what Keras 3.15 computes.
    np.testing.assert_allclose(cat.numpy(), [3.2058331e-05, 4.6627346e-01], rtol=1e-5)
    seg_t = [[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]]
    seg_p = [[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]]
    np.testing.assert_allclose(losses.dice(seg_t, seg_p, axis=(1, 2, 3)).numpy(),
                               [0.5, 0.75757575], rtol=1e-6)
    assert losses.dice(seg_t, seg_p).shape == ()


def test_closed_forms():
    # GCE: (1 - p**q) / q of the true class; Tversky with alpha = beta = 0.5 is Dice.
    p = np.array([[0.64, 0.36], [0.19, 0.81]], "float32")
    got = losses.categorical_generalized_cross_entropy(np.array([[0], [1]]), p, q=0.5)
    np.testing.assert_allclose(got.numpy(), (1 - np.sqrt([0.64, 0.81])) / 0.5, rtol=1e-6)
    np.testing.assert_allclose(losses.tversky(SEG_T, SEG_P).numpy(),
                               losses.dice(SEG_T, SEG_P).numpy(), rtol=1e-6)
    # gamma = 0 and no balancing: binary focal is plain binary cross-entropy.
    np.testing.assert_allclose(losses.binary_focal_crossentropy(YT_B, YP_B, gamma=0.0).numpy(),
                               losses.binary_crossentropy(YT_B, YP_B).numpy(), rtol=1e-6)


def test_circle_masks_queries_without_pairs():
    # Each query's only same-label sample is itself: no positives, loss 0, and the mean is 0/0.
    loss = losses.Circle(reduction=None)(np.array([0, 1, 2]), EMB[:3])
    np.testing.assert_array_equal(loss.numpy(), [0.0, 0.0, 0.0])
    assert float(losses.Circle()(np.array([0, 1, 2]), EMB[:3])) == 0.0


def test_circle_large_gamma_is_stable():
    got = losses.Circle(gamma=1000.0)(LAB, EMB)
    assert np.isfinite(float(got))


GRAD_CASES = [
    ("bfce", losses.BinaryFocalCrossentropy, {"gamma": 2.0}, YT_B, YP_B),
    ("bfce_logits", losses.BinaryFocalCrossentropy,
     {"from_logits": True, "apply_class_balancing": True, "label_smoothing": 0.1}, YT_B, LG_B),
    ("cfce", losses.CategoricalFocalCrossentropy, {}, YT_C, YP_C),
    ("cfce_logits", losses.CategoricalFocalCrossentropy,
     {"from_logits": True, "alpha": [0.1, 0.2, 0.3, 0.4]}, YT_C, LG_C),
    ("gce", losses.CategoricalGeneralizedCrossEntropy, {"q": 0.7}, IDS, YP_C),
    ("dice", losses.Dice, {}, SEG_T, SEG_P),
    ("dice_axis", losses.Dice, {"axis": (1, 2, 3)}, SEG_T, SEG_P),
    ("tversky", losses.Tversky, {"alpha": 0.3, "beta": 0.7}, SEG_T, SEG_P),
    ("circle", losses.Circle, {"gamma": 10.0}, LAB, EMB),
    ("circle_refs_diag", losses.Circle, {"gamma": 5.0, "remove_diagonal": False}, LAB, EMB),
    ("ctc", losses.CTC, {}, CTC_T, CTC_LG),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradient_matches_finite_differences(case):
    _, cls, kwargs, y_true, y_pred = case
    loss = cls(dtype="float64", **kwargs)
    w = None if y_pred.ndim > 3 or cls is losses.Circle else \
        np.linspace(0.5, 1.5, len(y_pred))
    check_grad(lambda pred: loss(y_true, pred, sample_weight=w), y_pred.astype("float64"),
               atol=1e-6, rtol=1e-4)


def test_circle_with_reference_embeddings_is_differentiable():
    refs = EMB[::-1].astype("float64")

    def fn(pred, ref):
        return losses.circle(LAB, pred, ref_labels=LAB[::-1], ref_embeddings=ref, gamma=8.0)
    check_grad(fn, EMB.astype("float64"), refs)


CONFIGS = [
    (losses.BinaryFocalCrossentropy, {"apply_class_balancing": True, "alpha": 0.3},
     ["name", "reduction", "from_logits", "label_smoothing", "axis", "apply_class_balancing",
      "alpha", "gamma"]),
    (losses.CategoricalFocalCrossentropy, {"gamma": 1.0},
     ["name", "reduction", "from_logits", "label_smoothing", "axis", "alpha", "gamma"]),
    (losses.CategoricalGeneralizedCrossEntropy, {"q": 0.2}, ["name", "reduction", "q"]),
    (losses.Dice, {"axis": (1, 2)}, ["name", "reduction", "axis"]),
    (losses.Tversky, {"alpha": 0.1}, ["name", "reduction", "alpha", "beta", "axis"]),
    (losses.Circle, {"margin": 0.3}, ["name", "reduction", "gamma", "margin",
                                      "remove_diagonal"]),
    (losses.CTC, {}, ["name", "reduction"]),
]


@pytest.mark.parametrize("cls,kwargs,keys", CONFIGS, ids=[c[0].__name__ for c in CONFIGS])
def test_config_round_trip(cls, kwargs, keys):
    loss = cls(**kwargs)
    config = loss.get_config()
    assert list(config) == keys
    assert config["name"] == keras.utils.to_snake_case(cls.__name__) or cls is losses.CTC
    clone = losses.deserialize(losses.serialize(loss))
    assert type(clone) is cls and clone.get_config() == config
    assert type(losses.get(cls.__name__)) is cls


def test_defaults_and_names_are_keras():
    assert losses.Circle().get_config() == {
        "name": "circle", "reduction": "sum_over_batch_size", "gamma": 80.0, "margin": 0.4,
        "remove_diagonal": True}
    assert losses.CTC().name == "ctc"
    assert losses.CategoricalGeneralizedCrossEntropy().q == 0.5
    with pytest.raises(ValueError, match="q must be in the interval"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.0)
    for fn in (losses.dice, losses.tversky, losses.circle, losses.ctc,
               losses.binary_focal_crossentropy, losses.categorical_focal_crossentropy,
               losses.categorical_generalized_cross_entropy):
        assert losses.get(fn.__name__).fn is fn
        assert losses.deserialize(losses.serialize(fn)) is fn


def test_ctc_checks_shapes():
    with pytest.raises(ValueError, match=r"y_true.shape=\(2,\)"):
        losses.ctc(np.array([1, 2]), CTC_LG)
    with pytest.raises(ValueError, match=r"y_pred.shape=\(2, 6\)"):
        losses.ctc(CTC_T, CTC_LG[..., 0])


def test_focal_loss_trains_a_classifier():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype("float32")
    y = (x[:, :1] + x[:, 1:2] > 0).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.5),
                  loss=losses.BinaryFocalCrossentropy(), metrics=["accuracy"])
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_ctc_loss_trains_through_a_model():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 6, 4)).astype("float32")
    y = np.tile(np.array([[1, 2, 0]]), (8, 1))
    model = keras.Sequential([keras.Input((6, 4)), keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="ctc")
    history = model.fit(x, y, epochs=4, batch_size=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_gradient_flows_in_float32():
    pred = Tensor(YP_B, requires_grad=True)
    (g,) = engine.grad(losses.BinaryFocalCrossentropy()(YT_B, pred), [pred])
    assert g.dtype == np.float32 and np.isfinite(g.numpy()).all()
