"""kerasish.losses against plain-NumPy references (float64), Keras's documented numbers and
finite-difference gradients."""
import zlib

import numpy as np
import pytest

import engine
from engine import Tensor, backend
from engine.gradcheck import check_grad
from kerasish import losses

EPS = 1e-7
RNG = np.random.default_rng(0)


# -- NumPy references (per sample, float64) ----------------------------------------------------
def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def ref_cce(t, p, from_logits=False, axis=-1):
    if from_logits:
        p = softmax(p, axis)
    else:
        p = np.clip(p / p.sum(axis=axis, keepdims=True), EPS, 1 - EPS)
    return -(t * np.log(p)).sum(axis=axis)


def ref_bce(t, p, from_logits=False):
    p = sigmoid(p) if from_logits else np.clip(p, EPS, 1 - EPS)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(axis=-1)


def ref_hinge_labels(t):
    return 2 * t - 1 if np.isin(t, (0, 1)).all() else t


def unit(x):
    return x / np.sqrt((x * x).sum(-1, keepdims=True))


REFERENCES = {
    "mse": lambda t, p: ((t - p) ** 2).mean(-1),
    "mae": lambda t, p: np.abs(t - p).mean(-1),
    "mape": lambda t, p: 100 * (np.abs(t - p) / np.maximum(np.abs(t), EPS)).mean(-1),
    "msle": lambda t, p: ((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1))
                          ** 2).mean(-1),
    "cosine": lambda t, p: -(unit(t) * unit(p)).sum(-1),
    "huber": lambda t, p: np.where(np.abs(p - t) <= 1.0, 0.5 * (p - t) ** 2,
                                   np.abs(p - t) - 0.5).mean(-1),
    "huber2": lambda t, p: np.where(np.abs(p - t) <= 2.0, 0.5 * (p - t) ** 2,
                                    2.0 * np.abs(p - t) - 2.0).mean(-1),
    "log_cosh": lambda t, p: np.log(np.cosh(p - t)).mean(-1),
    "kld": lambda t, p: (np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1))
                         ).sum(-1),
    "poisson": lambda t, p: (p - t * np.log(p + EPS)).mean(-1),
    "hinge": lambda t, p: np.maximum(1 - ref_hinge_labels(t) * p, 0).mean(-1),
    "squared_hinge": lambda t, p: (np.maximum(1 - ref_hinge_labels(t) * p, 0) ** 2).mean(-1),
    "categorical_hinge": lambda t, p: np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1,
                                                 0),
    "cce": ref_cce,
    "cce_logits": lambda t, p: ref_cce(t, p, from_logits=True),
    "bce": ref_bce,
    "bce_logits": lambda t, p: ref_bce(t, p, from_logits=True),
}


def one_hot(ids, n):
    return np.eye(n)[ids]


def data(kind, shape=(6, 4)):
    """(y_true, y_pred) in float64 suited to each loss (the same for a kind, whatever the order
    the tests run in)."""
    rng = np.random.default_rng(zlib.crc32(kind.encode()))
    n, d = shape
    if kind in ("cce", "cce_logits", "categorical_hinge"):
        t = one_hot(rng.integers(0, d, n), d)
    elif kind in ("bce", "bce_logits"):
        t = rng.integers(0, 2, shape).astype(float)
    elif kind in ("hinge", "squared_hinge"):
        t = rng.choice([-1.0, 1.0], shape)
    elif kind == "kld":
        t = softmax(rng.normal(size=shape))
    else:
        t = rng.uniform(0.5, 2.0, shape)
    if kind in ("cce", "kld"):
        p = softmax(rng.normal(size=shape))
    elif kind in ("bce", "poisson", "msle"):
        p = rng.uniform(0.05, 0.95, shape)
    else:
        p = rng.normal(size=shape) * 2
    return t, p


CASES = [
    (losses.MeanSquaredError, {}, "mse"),
    (losses.MeanAbsoluteError, {}, "mae"),
    (losses.MeanAbsolutePercentageError, {}, "mape"),
    (losses.MeanSquaredLogarithmicError, {}, "msle"),
    (losses.CosineSimilarity, {}, "cosine"),
    (losses.Huber, {}, "huber"),
    (losses.Huber, {"delta": 2.0}, "huber2"),
    (losses.LogCosh, {}, "log_cosh"),
    (losses.KLDivergence, {}, "kld"),
    (losses.Poisson, {}, "poisson"),
    (losses.Hinge, {}, "hinge"),
    (losses.SquaredHinge, {}, "squared_hinge"),
    (losses.CategoricalHinge, {}, "categorical_hinge"),
    (losses.CategoricalCrossentropy, {}, "cce"),
    (losses.CategoricalCrossentropy, {"from_logits": True}, "cce_logits"),
    (losses.BinaryCrossentropy, {}, "bce"),
    (losses.BinaryCrossentropy, {"from_logits": True}, "bce_logits"),
]
IDS = [f"{cls.__name__}-{ref}" for cls, _, ref in CASES]


def as_f32(*arrays):
    return [a.astype(np.float32) for a in arrays]


@pytest.mark.parametrize("cls,kwargs,ref", CASES, ids=IDS)
def test_every_loss_matches_its_numpy_reference(cls, kwargs, ref):
    t, p = data(ref)
    per_sample = REFERENCES[ref](t, p)
    t32, p32 = as_f32(t, p)
    none = cls(reduction=None, **kwargs)(t32, p32)
    assert isinstance(none, Tensor) and none.dtype == np.float32
    np.testing.assert_allclose(none.numpy(), per_sample, rtol=2e-5, atol=2e-6)
    value = cls(**kwargs)(t32, p32)
    assert value.shape == () and value.dtype == np.float32
    np.testing.assert_allclose(float(value), per_sample.mean(), rtol=2e-5, atol=2e-6)
    w = RNG.uniform(0, 2, len(t))
    weighted = cls(**kwargs)(t32, p32, sample_weight=w)
    np.testing.assert_allclose(float(weighted), (per_sample * w).sum() / len(t), rtol=2e-5,
                               atol=2e-6)


@pytest.mark.parametrize("cls,kwargs,ref", CASES, ids=IDS)
def test_function_form_gives_the_per_sample_values(cls, kwargs, ref):
    t, p = data(ref)
    loss = cls(**kwargs)
    out = loss.fn(*as_f32(t, p), **loss._fn_kwargs)
    np.testing.assert_allclose(out.numpy(), REFERENCES[ref](t, p), rtol=2e-5, atol=2e-6)


def test_hinge_converts_binary_labels_and_keeps_signed_ones():
    p = np.array([[0.5, -2.0, 0.3]], np.float32)
    zero_one = losses.hinge(np.array([[1.0, 0.0, 1.0]]), p)
    signed = losses.hinge(np.array([[1.0, -1.0, 1.0]]), p)
    expected = (0.5 + 0.0 + 0.7) / 3
    np.testing.assert_allclose([float(zero_one[0]), float(signed[0])], [expected] * 2,
                               rtol=1e-6)


def test_keras_documented_values():
    # Numbers from Keras's docstrings (keras/src/losses/losses.py).
    y_true = np.array([[0, 1, 0], [0, 0, 1]])
    y_pred = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    cce = losses.CategoricalCrossentropy()
    assert float(cce(y_true, y_pred)) == pytest.approx(1.177, abs=1e-3)
    assert float(cce(y_true, y_pred, sample_weight=np.array([0.3, 0.7]))) == \
        pytest.approx(0.814, abs=1e-3)
    assert float(losses.CategoricalCrossentropy(reduction="sum")(y_true, y_pred)) == \
        pytest.approx(2.354, abs=1e-3)
    np.testing.assert_allclose(losses.SparseCategoricalCrossentropy(reduction=None)(
        [1, 2], y_pred).numpy(), [0.0513, 2.303], atol=1e-3)
    bt, bp = np.array([[0, 1], [0, 0]]), np.array([[-18.6, 0.51], [2.94, -12.8]])
    bce = losses.BinaryCrossentropy(from_logits=True)
    assert float(bce(bt, bp)) == pytest.approx(0.8654, abs=1e-4)
    assert float(bce(bt, bp, sample_weight=[0.8, 0.2])) == pytest.approx(0.243, abs=1e-3)
    assert float(losses.BinaryCrossentropy(from_logits=True, reduction="sum")(bt, bp)) == \
        pytest.approx(1.730, abs=1e-3)
    assert float(losses.huber([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).numpy().mean()) == \
        pytest.approx(0.155, abs=1e-3)
    np.testing.assert_allclose(losses.binary_crossentropy([[0, 1], [0, 0]],
                                                          [[0.6, 0.4], [0.4, 0.6]]).numpy(),
                               [0.916, 0.714], atol=1e-3)


@pytest.mark.parametrize("ref", ["cce", "cce_logits"])
def test_sparse_categorical_crossentropy_equals_categorical_on_one_hot(ref):
    ids = RNG.integers(0, 5, 8)
    p = softmax(RNG.normal(size=(8, 5))) if ref == "cce" else RNG.normal(size=(8, 5)) * 3
    expected = REFERENCES[ref](one_hot(ids, 5), p).mean()
    loss = losses.SparseCategoricalCrossentropy(from_logits=ref == "cce_logits")
    p32 = p.astype(np.float32)
    for labels in (ids, ids[:, None], ids.astype(np.float32), ids.astype(np.int32)):
        assert float(loss(labels, p32)) == pytest.approx(expected, rel=1e-5)


def test_label_smoothing():
    t, p = data("cce")
    s = 0.2
    smoothed = t * (1 - s) + s / t.shape[-1]
    got = losses.CategoricalCrossentropy(label_smoothing=s)(*as_f32(t, p))
    assert float(got) == pytest.approx(ref_cce(smoothed, p).mean(), rel=1e-5)
    t, p = data("bce")
    got = losses.BinaryCrossentropy(label_smoothing=s)(*as_f32(t, p))
    assert float(got) == pytest.approx(ref_bce(t * (1 - s) + 0.5 * s, p).mean(), rel=1e-5)


def test_reductions():
    t, p = data("mse")
    per_sample = REFERENCES["mse"](t, p)
    w = np.array([1.0, 0.0, 2.0, 0.5, 1.0, 0.0])
    t32, p32 = as_f32(t, p)

    def run(reduction, sample_weight=w):
        return losses.MeanSquaredError(reduction=reduction)(t32, p32, sample_weight=sample_weight)

    assert float(run("sum")) == pytest.approx((per_sample * w).sum(), rel=1e-5)
    assert float(run("sum_over_batch_size")) == pytest.approx((per_sample * w).mean(), rel=1e-5)
    assert float(run("mean")) == pytest.approx((per_sample * w).mean(), rel=1e-5)
    assert float(run("mean_with_sample_weight")) == \
        pytest.approx((per_sample * w).sum() / w.sum(), rel=1e-5)
    assert float(run("mean_with_sample_weight", None)) == pytest.approx(per_sample.mean(),
                                                                        rel=1e-5)
    assert float(run("mean_with_sample_weight", np.zeros(6))) == 0.0
    for none in ("none", None):
        np.testing.assert_allclose(run(none).numpy(), per_sample * w, rtol=1e-5)
    # A (N, 1) weight broadcasts like an (N,) one; a scalar weight scales everything.
    assert float(run("sum", w[:, None])) == pytest.approx((per_sample * w).sum(), rel=1e-5)
    assert float(run("sum", 3.0)) == pytest.approx(3 * per_sample.sum(), rel=1e-5)


def test_reduction_error():
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`. Expected one "
                                         "of .*Received: reduction=bogus"):
        losses.MeanSquaredError(reduction="bogus")


def test_rank_handling_like_keras():
    y = np.array([1.0, 2.0, 3.0])
    p = np.array([[1.5], [2.0], [2.0]], np.float32)
    # (N,) labels against (N, 1) predictions: expanded, one value per sample.
    none = losses.MeanSquaredError(reduction=None)(y, p)
    np.testing.assert_allclose(none.numpy(), [0.25, 0.0, 1.0])
    assert float(losses.MeanSquaredError()(y, p)) == pytest.approx(1.25 / 3)
    assert float(losses.MeanSquaredError()(y[:, None], p[:, 0])) == pytest.approx(1.25 / 3)
    probs = np.array([[0.9], [0.2]], np.float32)
    assert float(losses.BinaryCrossentropy()(np.array([1, 0]), probs)) == \
        pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2, rel=1e-5)
    # Without the wrapper's rank rule the function sees different ranks: Keras's error text.
    with pytest.raises(ValueError, match=r"Arguments `target` and `output` must have the same "
                                         r"rank \(ndim\). Received: target.shape=\(2,\), "
                                         r"output.shape=\(2, 3\)"):
        losses.CategoricalCrossentropy()(np.array([0, 1]), np.full((2, 3), 1 / 3, np.float32))
    with pytest.raises(ValueError, match="must have the same shape"):
        losses.categorical_crossentropy(np.zeros((2, 4)), np.full((2, 3), 1 / 3))


def test_categorical_crossentropy_warns_on_one_class():
    with pytest.warns(SyntaxWarning, match="Consider using 'binary_crossentropy'"):
        losses.categorical_crossentropy(np.ones((2, 1)), np.ones((2, 1)))
    with pytest.raises(ValueError, match="`axis` must be of type `int`"):
        losses.categorical_crossentropy(np.ones((2, 2)), np.ones((2, 2)), axis=True)


def test_ignore_class_masks_samples_out_of_the_mean():
    p = softmax(RNG.normal(size=(5, 3)))
    ids = np.array([0, 2, -1, 1, -1])
    keep = ids != -1
    per_sample = ref_cce(one_hot(ids[keep], 3), p[keep])
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1)
    assert float(loss(ids, p.astype(np.float32))) == pytest.approx(per_sample.mean(), rel=1e-5)
    none = losses.SparseCategoricalCrossentropy(ignore_class=-1, reduction=None)(ids, p)
    assert none.numpy()[~keep].tolist() == [0.0, 0.0]
    summed = losses.SparseCategoricalCrossentropy(ignore_class=-1, reduction="sum")(ids, p)
    assert float(summed) == pytest.approx(per_sample.sum(), rel=1e-5)
    # The gradient of the ignored rows is exactly zero (and finite).
    logits = Tensor(RNG.normal(size=(5, 3)).astype(np.float32), requires_grad=True)
    (g,) = engine.grad(losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)(
        ids, logits), [logits])
    assert np.isfinite(g.numpy()).all() and not g.numpy()[~keep].any()


def test_keras_mask_on_y_pred_weights_the_mean():
    t, p = as_f32(*data("mse"))
    mask = np.array([True, False, True, True, False, True])
    pred = Tensor(p)
    pred._keras_mask = mask
    expected = REFERENCES["mse"](t, p)[mask].mean()
    assert float(losses.MeanSquaredError()(t, pred)) == pytest.approx(expected, rel=1e-5)


def test_dtypes_inputs_and_devices():
    t = np.array([[1, 0]])  # int labels are cast to float32
    p = np.array([[0.8, 0.3]])  # float64 predictions are cast to float32
    value = losses.BinaryCrossentropy()(t, p)
    assert value.dtype == np.float32
    assert float(value) == pytest.approx(-(np.log(0.8) + np.log(0.7)) / 2, rel=1e-6)
    assert losses.MeanSquaredError()([[1.0]], [[2.0]]).dtype == np.float32
    assert losses.MeanSquaredError(dtype="float64")([[1.0]], [[2.0]]).dtype == np.float64
    assert float(losses.MeanSquaredError()(Tensor(t), Tensor(p))) == pytest.approx(0.065)


# -- gradients -----------------------------------------------------------------------------------
GRAD_CASES = [case for case in CASES if case[2] not in ("huber", "huber2")] + [
    (losses.Huber, {"delta": 0.1}, "huber"),
]


def kink_margin(ref, t, p):
    """How far the data is from the points where the loss is not differentiable."""
    if ref in ("hinge", "squared_hinge"):
        return np.abs(1 - t * p).min()
    if ref in ("mae", "mape"):
        return np.abs(t - p).min()
    if ref == "huber":
        return np.abs(np.abs(p - t) - 0.1).min()
    if ref == "categorical_hinge":
        top2 = np.sort((1 - t) * p, axis=-1)[:, -2:]
        hinge_arg = top2[:, 1] - (t * p).sum(-1) + 1
        return min(np.abs(hinge_arg).min(), (top2[:, 1] - top2[:, 0]).min())
    return np.inf


@pytest.mark.parametrize("cls,kwargs,ref", GRAD_CASES,
                         ids=[f"{c.__name__}-{r}" for c, _, r in GRAD_CASES])
def test_gradient_matches_finite_differences(cls, kwargs, ref):
    t, p = data(ref, (4, 3))
    assert kink_margin(ref, t, p) > 1e-3
    w = np.linspace(0.5, 1.5, len(t))
    loss = cls(dtype="float64", **kwargs)
    check_grad(lambda pred: loss(t, pred, sample_weight=w), p, atol=1e-6, rtol=1e-4)


def test_gradient_closed_forms():
    t, p = as_f32(*data("mse"))
    pred = Tensor(p, requires_grad=True)
    (g,) = engine.grad(losses.MeanSquaredError()(t, pred), [pred])
    np.testing.assert_allclose(g.numpy(), 2 * (p - t) / p.size, rtol=1e-5, atol=1e-7)
    ids = RNG.integers(0, 4, 6)
    logits = RNG.normal(size=(6, 4)).astype(np.float32)
    pred = Tensor(logits, requires_grad=True)
    w = RNG.uniform(0, 2, 6).astype(np.float32)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    (g,) = engine.grad(loss(ids, pred, sample_weight=w), [pred])
    expected = (softmax(logits.astype(float)) - one_hot(ids, 4)) * w[:, None] / 6
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-5, atol=1e-7)
    labels = RNG.integers(0, 2, (6, 1)).astype(np.float32)
    pred = Tensor(logits[:, :1], requires_grad=True)
    (g,) = engine.grad(losses.BinaryCrossentropy(from_logits=True)(labels, pred), [pred])
    np.testing.assert_allclose(g.numpy(), (sigmoid(logits[:, :1]) - labels) / 6, rtol=1e-5)


# -- identifiers and configs -----------------------------------------------------------------------
@pytest.mark.parametrize("identifier,cls_name,name", [
    ("mse", "LossFunctionWrapper", "mse"),
    ("mean_squared_error", "LossFunctionWrapper", "mean_squared_error"),
    ("MeanSquaredError", "MeanSquaredError", "mean_squared_error"),
    ("sparse_categorical_crossentropy", "LossFunctionWrapper", "sparse_categorical_crossentropy"),
    ("SparseCategoricalCrossentropy", "SparseCategoricalCrossentropy",
     "sparse_categorical_crossentropy"),
    ("bce", "LossFunctionWrapper", "bce"),
    ("Huber", "Huber", "huber_loss"),
])
def test_get_resolves_strings(identifier, cls_name, name):
    loss = losses.get(identifier)
    assert type(loss).__name__ == cls_name and loss.name == name
    t, p = data("bce")
    if "sparse" in identifier.lower():
        t = t[:, 0]
    assert float(loss(*as_f32(t, p))) > 0


def test_get_other_identifiers():
    instance = losses.Huber(delta=3.0)
    assert losses.get(instance) is instance
    assert isinstance(losses.get(losses.Poisson), losses.Poisson)
    config = {"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}}
    got = losses.get(config)
    assert isinstance(got, losses.CategoricalCrossentropy) and got.from_logits

    def my_loss(y_true, y_pred):
        return engine.ops.mean(y_pred - y_true, axis=-1)

    wrapped = losses.get(my_loss)
    assert isinstance(wrapped, losses.LossFunctionWrapper) and wrapped.name == "my_loss"
    assert float(wrapped([[1.0, 2.0]], [[2.0, 4.0]])) == 1.5
    assert losses.get(lambda t, p: p).name == "lambda"
    assert losses.get(None) is None
    with pytest.raises(ValueError, match="^Could not interpret loss identifier: bogus_loss$"):
        losses.get("bogus_loss")
    with pytest.raises(ValueError, match="Could not interpret loss identifier: 3"):
        losses.get(3)


@pytest.mark.parametrize("cls", losses.losses.CLASSES[1:], ids=lambda c: c.__name__)
def test_config_round_trip(cls):
    loss = cls(reduction="sum", name="custom")
    config = loss.get_config()
    assert config["name"] == "custom" and config["reduction"] == "sum"
    again = cls.from_config(config)
    assert again.get_config() == config
    serialized = losses.serialize(loss)
    assert serialized["class_name"] == cls.__name__
    assert losses.deserialize(serialized).get_config() == config


def test_specific_configs_and_default_names():
    assert losses.CategoricalCrossentropy(label_smoothing=0.1).get_config() == {
        "name": "categorical_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": False, "label_smoothing": 0.1, "axis": -1}
    assert losses.SparseCategoricalCrossentropy(ignore_class=0).get_config() == {
        "name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": False, "ignore_class": 0}
    assert losses.Huber(delta=2.5).get_config()["delta"] == 2.5
    wrapper = losses.LossFunctionWrapper(losses.huber, name="h", delta=0.5)
    rebuilt = losses.LossFunctionWrapper.from_config(wrapper.get_config())
    assert rebuilt.fn is losses.huber and rebuilt._fn_kwargs == {"delta": 0.5}
    assert losses.serialize(losses.mse)["config"] == "mean_squared_error"


# -- devices ---------------------------------------------------------------------------------------
def test_losses_follow_the_arrays_device(xp):
    """The same values (and gradients on y_pred's device) for NumPy and CuPy inputs."""
    device = "cpu" if xp is np else "gpu"
    w = np.linspace(0.5, 1.5, 6).astype(np.float32)
    for cls, kwargs, ref in CASES:
        t, p = as_f32(*data(ref))
        expected = float(cls(**kwargs)(t, p, sample_weight=w))
        pred = Tensor(xp.asarray(p), requires_grad=True)
        value = cls(**kwargs)(xp.asarray(t), pred, sample_weight=xp.asarray(w))
        assert value.device == device and float(value) == pytest.approx(expected, rel=1e-5)
        (g,) = engine.grad(value, [pred])
        assert g.device == device
    ids = xp.asarray(np.array([0, 2, -1, 1]))
    logits = Tensor(xp.asarray(RNG.normal(size=(4, 3)).astype(np.float32)))
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    expected = loss(backend.to_numpy(ids), logits.numpy())
    assert float(loss(ids, logits)) == pytest.approx(float(expected), rel=1e-5)
