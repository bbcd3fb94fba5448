"""Keras 3's newer activations: forward against plain NumPy, gradients by finite differences."""
import numpy as np
import pytest

from engine import Tensor
from engine.gradcheck import check_grad
from kerasish import activations

# NOTE: no point sits on a kink (0, +-0.5, +-1), where finite differences are meaningless.
X = np.array([[-2.3, -1.2, -0.7, -0.2, 0.3, 0.8, 1.4, 2.6],
              [0.9, -0.35, 1.7, -3.1, 0.05, -0.6, 2.2, -1.6]])


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


CASES = [
    ("celu", {"alpha": 1.5}, lambda x: np.where(x > 0, x, 1.5 * (np.exp(x / 1.5) - 1))),
    ("glu", {}, lambda x: x[:, :4] * _sigmoid(x[:, 4:])),
    ("glu", {"axis": 0}, lambda x: x[:1] * _sigmoid(x[1:])),
    ("hard_shrink", {}, lambda x: np.where(np.abs(x) > 0.5, x, 0)),
    ("hard_shrink", {"threshold": 1.0}, lambda x: np.where(np.abs(x) > 1.0, x, 0)),
    ("hard_tanh", {}, lambda x: np.clip(x, -1, 1)),
    ("soft_shrink", {}, lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0)),
    ("sparse_plus", {}, lambda x: np.where(x <= -1, 0, np.where(x < 1, (x + 1) ** 2 / 4, x))),
    ("sparse_sigmoid", {}, lambda x: np.where(x <= -1, 0, np.where(x >= 1, 1, (x + 1) / 2))),
    ("squareplus", {}, lambda x: (x + np.sqrt(x * x + 4)) / 2),
    ("squareplus", {"b": 1.0}, lambda x: (x + np.sqrt(x * x + 1)) / 2),
    ("tanh_shrink", {}, lambda x: x - np.tanh(x)),
    ("threshold", {"threshold": 0.1, "default_value": -2.0}, lambda x: np.where(x > 0.1, x, -2)),
    ("mish", {}, lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    ("hard_silu", {}, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    ("hard_swish", {}, lambda x: x * np.clip(x + 3, 0, 6) / 6),
]


def _call(name, kwargs):
    fn = activations.get(name)
    return lambda x: fn(x, **kwargs)


@pytest.mark.parametrize("name,kwargs,expected", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_forward_and_gradient(xp, name, kwargs, expected):
    y = _call(name, kwargs)(Tensor(xp.asarray(X, dtype="float32")))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), expected(X), rtol=1e-5, atol=1e-6)
    check_grad(_call(name, kwargs), xp.asarray(X))


def _sparsemax_reference(z):
    """Sparsemax row by row, by bisection on tau: sum(max(z - tau, 0)) = 1."""
    out = np.empty_like(z)
    for i, row in enumerate(z):
        lo, hi = row.min() - 1, row.max()
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if np.maximum(row - mid, 0).sum() > 1 else (lo, mid)
        out[i] = np.maximum(row - lo, 0)
    return out


def test_sparsemax_projects_onto_the_simplex():
    x = np.array([[0.5, 1.2, -0.3, 2.0], [0.1, 0.1, 0.1, 0.1], [3.0, -1.0, 0.0, 0.2]])
    y = activations.sparsemax(Tensor(x.astype("float32"))).numpy()
    np.testing.assert_allclose(y, [[0, 0.1, 0, 0.9], [0.25] * 4, [1, 0, 0, 0]], atol=1e-6)
    np.testing.assert_allclose(y, _sparsemax_reference(x), atol=1e-6)
    y0 = activations.sparsemax(Tensor(x.T.astype("float32")), axis=0).numpy()
    np.testing.assert_allclose(y0, y.T, atol=1e-6)


def test_sparsemax_gradient(xp):
    x = xp.asarray([[0.5, 1.2, -0.3, 2.0, 1.0], [0.3, 0.1, 0.2, -0.4, 0.25]])
    check_grad(activations.sparsemax, x)
    check_grad(lambda t: activations.sparsemax(t, axis=0), x.T.copy())


def test_glu_odd_axis_is_an_error():
    with pytest.raises(ValueError, match="divisible by 2"):
        activations.glu(Tensor(np.ones((2, 3), "float32")))


@pytest.mark.parametrize("name", ["celu", "glu", "hard_shrink", "hard_silu", "hard_swish",
                                  "hard_tanh", "mish", "soft_shrink", "sparse_plus",
                                  "sparse_sigmoid", "sparsemax", "squareplus", "tanh_shrink",
                                  "threshold", "relu", "silu"])
def test_get_serialize_deserialize(name):
    fn = getattr(activations, name)
    assert activations.get(name) is fn
    serialized = activations.serialize(fn)
    assert activations.deserialize(serialized) is fn
    assert activations.deserialize({"module": "keras.activations", "class_name": "function",
                                    "config": serialized, "registered_name": None}) is fn


def test_deserialize_custom_and_unknown():
    def mine(x):
        return x

    assert activations.deserialize("mine", custom_objects={"mine": mine}) is mine
    with pytest.raises(ValueError, match="Could not interpret"):
        activations.deserialize("nope")


def test_dense_with_a_new_activation_trains_a_step():
    import kerasish

    model = kerasish.Sequential([kerasish.Input((3,)), kerasish.layers.Dense(4, activation="mish"),
                                 kerasish.layers.Dense(1, activation="squareplus")])
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    history = model.fit(x, x[:, :1], epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.layers[0].get_config()["activation"] == "mish"
