"""ReLU, LeakyReLU, ELU, Softmax, PReLU against plain-NumPy references."""
import math

import numpy as np
import pytest

from engine import Tensor
from kerasish.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from tests.helpers import check_layer_grads, run_layer_test

# Away from every kink used below (0, 0.5, 1, 2) so finite differences are smooth.
X = np.array([[-3.1, -1.2, -0.3, 0.2, 0.7, 1.3, 2.6, 4.1]])


def _relu_reference(x, max_value=None, negative_slope=0.0, threshold=0.0):
    """Keras's ReLU, value by value: kept above the threshold (clipped to max_value), else
    negative_slope * (x - threshold)."""
    out = np.empty_like(x, dtype=np.float64)
    for i, v in np.ndenumerate(x):
        if v > threshold:
            out[i] = v if max_value is None else min(v, max_value)
        else:
            out[i] = negative_slope * (v - threshold)
    return out


# -- harness ------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs", [
    (ReLU, {}), (ReLU, {"max_value": 6.0, "negative_slope": 0.1, "threshold": 0.5}),
    (LeakyReLU, {}), (LeakyReLU, {"negative_slope": 0.1}), (ELU, {}), (ELU, {"alpha": 0.5}),
    (Softmax, {}), (Softmax, {"axis": 1}), (Softmax, {"axis": [1, 2]}),
])
def test_weightless_layer_test(cls, kwargs):
    run_layer_test(cls, kwargs, (2, 3, 4), (2, 3, 4))


@pytest.mark.parametrize("kwargs, alpha_shape", [
    ({}, (3, 4)), ({"shared_axes": [1]}, (1, 4)), ({"shared_axes": 2}, (3, 1))])
def test_prelu_layer_test(kwargs, alpha_shape):
    # NOTE: with the default alpha = 0 the loss mean(y^2) has a zero gradient in alpha.
    kwargs = {**kwargs, "alpha_initializer": "ones"}
    layer, _ = run_layer_test(PReLU, kwargs, (2, 3, 4), (2, 3, 4),
                              expected_num_trainable_weights=1, expected_weight_names=["alpha"])
    assert layer.alpha.shape == alpha_shape


def test_configs():
    assert ReLU().get_config()["max_value"] is None
    assert LeakyReLU().get_config()["negative_slope"] == 0.3
    assert ELU(alpha=0.5).get_config()["alpha"] == 0.5
    assert Softmax().get_config()["axis"] == -1
    config = PReLU(shared_axes=[1, 2]).get_config()
    assert config["shared_axes"] == [1, 2] and config["alpha_initializer"]["class_name"] == "Zeros"


# -- numbers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {}, {"max_value": 1.0}, {"negative_slope": 0.2}, {"threshold": 0.5},
    {"max_value": 2.0, "negative_slope": 0.1, "threshold": 0.5},
    {"max_value": 6.0}, {"negative_slope": 0.3, "threshold": 1.0},
])
def test_relu_numbers(kwargs):
    x = np.concatenate([X[0], [0.0, 0.5, 1.0, 6.0, 7.0]]).astype("float32")
    np.testing.assert_allclose(ReLU(**kwargs)(x).numpy(), _relu_reference(x, **kwargs),
                               rtol=1e-6, atol=1e-6)


def test_relu_hand_computed_keras_example():
    # keras.layers.ReLU(max_value=10, negative_slope=0.5, threshold=0) on [-10, -5, 0, 5, 10].
    y = ReLU(max_value=10.0, negative_slope=0.5)(np.array([-10, -5, 0.0, 5, 10], "float32"))
    np.testing.assert_array_equal(y.numpy(), [-5.0, -2.5, 0.0, 5.0, 10.0])


@pytest.mark.parametrize("slope", [0.3, 0.0, 1.5])
def test_leaky_relu_numbers(slope):
    x = X.astype("float32")
    expected = np.where(X >= 0, X, slope * X)
    np.testing.assert_allclose(LeakyReLU(negative_slope=slope)(x).numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_elu_numbers(alpha):
    expected = np.array([[v if v > 0 else alpha * (math.exp(v) - 1) for v in X[0]]])
    np.testing.assert_allclose(ELU(alpha=alpha)(X.astype("float32")).numpy(), expected,
                               rtol=1e-6)


def _softmax_reference(x, axes):
    e = np.exp(x - x.max(axis=axes, keepdims=True))
    return e / e.sum(axis=axes, keepdims=True)


def test_softmax_keras_example():
    y = Softmax()(np.array([1.0, 2.0, 1.0], "float32")).numpy()
    np.testing.assert_allclose(y, [0.21194157, 0.5761169, 0.21194157], rtol=1e-6)


@pytest.mark.parametrize("axis, axes", [(-1, (2,)), (1, (1,)), ([1, 2], (1, 2))])
def test_softmax_numbers(axis, axes):
    x = np.random.default_rng(0).standard_normal((2, 3, 4)) * 3
    y = Softmax(axis=axis)(x.astype("float32")).numpy()
    np.testing.assert_allclose(y, _softmax_reference(x, axes), rtol=1e-5, atol=1e-7)


def test_softmax_mask_explicit_and_float():
    x = np.array([[1.0, 2.0, 3.0, 4.0], [0.5, 0.5, -1.0, 2.0]], "float32")
    mask = np.array([[True, False, True, False], [False, False, False, False]])
    # Row 0: softmax over [1, 3] only; row 1 is fully masked, so all zeros.
    e = np.exp([1.0, 3.0])
    expected = [[e[0] / e.sum(), 0.0, e[1] / e.sum(), 0.0], [0.0, 0.0, 0.0, 0.0]]
    layer = Softmax()
    np.testing.assert_allclose(layer(x, mask=Tensor(mask)).numpy(), expected, rtol=1e-6)
    # A float mask counts as True where it is > 0.5.
    float_mask = Tensor(mask.astype("float32") * 0.9)
    np.testing.assert_allclose(layer(x, mask=float_mask).numpy(), expected, rtol=1e-6)


def test_softmax_mask_broadcasts_from_the_right():
    x = np.random.default_rng(1).standard_normal((2, 3, 4)).astype("float32")
    mask = np.array([[[1, 1, 0, 1]], [[0, 1, 1, 1]]], dtype=bool)  # (2, 1, 4)
    y = Softmax()(x, mask=Tensor(mask)).numpy()
    full = np.broadcast_to(mask, x.shape)
    for position in np.ndindex(2, 3):
        row, keep = x[position].astype(np.float64), full[position]
        expected = np.zeros(4)
        expected[keep] = np.exp(row[keep]) / np.exp(row[keep]).sum()
        np.testing.assert_allclose(y[position], expected, rtol=1e-5, atol=1e-7)


def test_softmax_picks_up_and_passes_on_a_keras_mask():
    x = Tensor(np.array([[1.0, 2.0, 3.0]], "float32"))
    x._keras_mask = Tensor(np.array([[True, True, False]]))
    y = Softmax()(x)
    e = np.exp([1.0, 2.0])
    np.testing.assert_allclose(y.numpy(), [[e[0] / e.sum(), e[1] / e.sum(), 0.0]], rtol=1e-6)
    np.testing.assert_array_equal(y._keras_mask.numpy(), [[True, True, False]])


def test_relu_passes_a_mask_through():
    x = Tensor(X.astype("float32"))
    x._keras_mask = Tensor(np.ones((1, 8), bool))
    assert ReLU()(x)._keras_mask is x._keras_mask


def test_prelu_numbers():
    x = np.random.default_rng(2).standard_normal((2, 3, 4)).astype("float32")
    layer = PReLU(shared_axes=[1])
    layer.build(x.shape)
    alpha = np.array([[0.1, -0.5, 2.0, 0.0]], "float32")
    layer.set_weights([alpha])
    expected = np.empty(x.shape)
    for (b, t, c), v in np.ndenumerate(x):
        expected[b, t, c] = v if v >= 0 else alpha[0, c] * v
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-6, atol=1e-7)


def test_prelu_starts_as_relu():
    x = X.astype("float32")
    np.testing.assert_array_equal(PReLU()(x).numpy(), np.maximum(x, 0))


# -- gradients ----------------------------------------------------------------------------------
@pytest.mark.parametrize("layer_fn", [
    lambda: ReLU(dtype="float64"),
    lambda: ReLU(max_value=2.0, negative_slope=0.1, threshold=0.5, dtype="float64"),
    lambda: ReLU(threshold=1.0, dtype="float64"),
    lambda: LeakyReLU(negative_slope=0.2, dtype="float64"),
    lambda: ELU(alpha=0.7, dtype="float64"),
    lambda: Softmax(dtype="float64"),
    lambda: Softmax(axis=[0, 1], dtype="float64"),
    lambda: PReLU(alpha_initializer="random_normal", dtype="float64"),
], ids=["relu", "relu-all", "relu-threshold", "leaky", "elu", "softmax", "softmax-axes",
        "prelu"])
def test_grads(layer_fn):
    check_layer_grads(layer_fn(), np.concatenate([X, X[:, ::-1] * 0.9]))


def test_softmax_masked_grads():
    mask = Tensor(np.array([[True, False, True, True], [False, True, True, False]]))
    x = np.random.default_rng(3).standard_normal((2, 4))
    check_layer_grads(Softmax(dtype="float64"), x, call_kwargs={"mask": mask})


def test_prelu_shared_axes_grads():
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    check_layer_grads(PReLU(shared_axes=[1, 2], alpha_initializer="random_normal",
                            dtype="float64"), x)


# -- errors -------------------------------------------------------------------------------------
def test_bad_arguments():
    with pytest.raises(ValueError, match="Received: max_value=-1"):
        ReLU(max_value=-1)
    with pytest.raises(ValueError, match="Received: negative_slope=None"):
        ReLU(negative_slope=None)
    with pytest.raises(ValueError, match="Received: threshold=-0.5"):
        ReLU(threshold=-0.5)
    with pytest.raises(ValueError, match="Received: negative_slope=-0.1"):
        LeakyReLU(negative_slope=-0.1)
    with pytest.raises(ValueError, match="Received: alpha=fast"):
        ELU(alpha="fast")
    with pytest.raises(ValueError, match="Received: axis=last"):
        Softmax(axis="last")
    with pytest.raises(ValueError, match=r"Received: shared_axes=\[0\]"):
        PReLU(shared_axes=[0])


def test_leaky_relu_alpha_is_deprecated():
    with pytest.warns(UserWarning, match="`alpha` is deprecated"):
        layer = LeakyReLU(alpha=0.2)
    assert layer.negative_slope == 0.2


def test_bad_inputs():
    with pytest.raises(ValueError, match="Received: axis=2"):
        Softmax(axis=2)(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"mask.shape=\(2, 4\)"):
        Softmax()(np.ones((2, 3), "float32"), mask=Tensor(np.ones((2, 4), bool)))
    with pytest.raises(ValueError, match="must not have more dimensions"):
        Softmax()(np.ones((2, 3), "float32"), mask=Tensor(np.ones((1, 2, 3), bool)))
    with pytest.raises(ValueError, match=r"Received: shared_axes=\[3\]"):
        PReLU(shared_axes=[3])(np.ones((2, 3, 4), "float32"))
    layer = PReLU()
    layer(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"p_re_lu.*expected axis 1 .* value 3"):
        layer(np.ones((2, 5), "float32"))
