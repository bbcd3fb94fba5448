"""Dtype policies and mixed precision: float16 compute, float32 weights, loss scaling."""
import numpy as np
import pytest

import kerasish
from kerasish import dtype_policies, layers, mixed_precision, optimizers


@pytest.fixture
def mixed(monkeypatch):
    monkeypatch.setattr(dtype_policies, "_GLOBAL_POLICY", None)
    mixed_precision.set_global_policy("mixed_float16")
    yield
    monkeypatch.setattr(dtype_policies, "_GLOBAL_POLICY", None)


def test_policies():
    policy = dtype_policies.DTypePolicy("mixed_float16")
    assert (policy.name, policy.compute_dtype, policy.variable_dtype) == (
        "mixed_float16", "float16", "float32")
    assert dtype_policies.get("float64").compute_dtype == "float64"
    assert dtype_policies.get(np.float16).variable_dtype == "float16"
    assert dtype_policies.get(None).name == "float32"
    assert repr(dtype_policies.FloatDTypePolicy("float32")) == '<DTypePolicy "float32">'
    assert dtype_policies.FloatDTypePolicy("float32") == dtype_policies.DTypePolicy("float32")
    config = dtype_policies.serialize(policy)
    assert config == {"module": "keras", "class_name": "DTypePolicy",
                      "config": {"name": "mixed_float16"}, "registered_name": None}
    assert dtype_policies.deserialize(config) == policy
    assert dtype_policies.get({"class_name": "Policy", "config": {"name": "float16"}}).name == \
        "float16"
    with pytest.raises(ValueError, match="bfloat16"):
        dtype_policies.get("mixed_bfloat16")
    with pytest.raises(ValueError, match="Invalid `policy`"):
        dtype_policies.set_dtype_policy(3)
    assert mixed_precision.Policy is dtype_policies.DTypePolicy
    assert mixed_precision.LossScaleOptimizer is optimizers.LossScaleOptimizer


def test_policy_map():
    policies = dtype_policies.DTypePolicyMap("float32", {"encoder/.*": "float16"})
    policies["decoder"] = "mixed_float16"
    assert policies["encoder/dense"].name == "float16"
    assert policies["decoder"].compute_dtype == "float16"
    assert policies["decoder/attention"].name == "float32"
    assert policies.name == "map_float32" and len(policies) == 2
    with pytest.raises(ValueError, match="already exist"):
        policies["decoder"] = "float32"
    again = dtype_policies.deserialize(dtype_policies.serialize(policies))
    assert again["encoder/x"].name == "float16" and again["decoder"].name == "mixed_float16"
    policies["encoder/a/.*"] = "float64"
    with pytest.raises(ValueError, match="matches multiple"):
        policies["encoder/a/b"]


def test_layer_properties_and_config(mixed):
    dense = layers.Dense(3)
    assert dense.dtype_policy.name == "mixed_float16"
    assert (dense.dtype, dense.compute_dtype, dense.variable_dtype) == (
        "float32", "float16", "float32")
    assert dense.get_config()["dtype"]["config"] == {"name": "mixed_float16"}
    again = layers.Dense.from_config(dense.get_config())
    assert again.compute_dtype == "float16"
    assert layers.Dense(3, dtype="float32").compute_dtype == "float32"


def test_mixed_layer_computes_in_float16_from_float32_weights(mixed):
    dense = layers.Dense(3)
    x = np.random.default_rng(0).normal(size=(4, 2)).astype("float32")
    y = dense(x)
    assert y.dtype == np.float16
    assert dense.kernel.dtype == np.float32 and dense.bias.dtype == np.float32
    # the attributes are the float32 Variables again after the call
    assert isinstance(dense.kernel, kerasish.Variable)
    expected = x.astype(np.float16) @ dense.kernel.numpy().astype(np.float16)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-3, atol=1e-3)
    inputs = kerasish.Input((2,))
    hidden = layers.Dense(4)(inputs)
    assert hidden.dtype == "float16"
    assert layers.Activation("linear", dtype="float32")(hidden).dtype == "float32"


def test_mixed_model_trains_with_loss_scaling(mixed):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")[:, None]
    inputs = kerasish.Input((4,))
    outputs = layers.Dense(1, activation="sigmoid")(layers.Dense(8, activation="relu")(inputs))
    model = kerasish.Model(inputs, outputs)
    model.compile(optimizers.SGD(0.5), "binary_crossentropy")
    assert isinstance(model.optimizer, optimizers.LossScaleOptimizer)
    history = model.fit(x, y, epochs=4, batch_size=16, verbose=0).history["loss"]
    assert history[-1] < history[0]
    assert all(w.dtype == np.float32 for w in model.weights)
    assert model.predict(x[:3], verbose=0).dtype == np.float16
    assert model.compute_loss(x, y, model(x)).dtype == np.float32
    assert float(model.optimizer.dynamic_scale.numpy()) == 2.0 ** 15
    assert int(model.optimizer.iterations.numpy()) == 16


def test_loss_scale_optimizer_skips_an_inf_gradient_and_halves(mixed):
    model = kerasish.Sequential([kerasish.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    before = [w.copy() for w in model.get_weights()]
    grads = [np.full(w.shape, np.inf, "float32") for w in model.get_weights()]
    model.optimizer.apply(grads, model.trainable_weights)
    for w, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(w, b)
    assert float(model.optimizer.dynamic_scale.numpy()) == 2.0 ** 14
    assert int(model.optimizer.iterations.numpy()) == 0


def test_auto_scale_loss_off_keeps_the_optimizer(mixed):
    model = kerasish.Sequential([kerasish.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse", auto_scale_loss=False)
    assert isinstance(model.optimizer, optimizers.SGD)


def test_conv_batchnorm_and_lstm_models_run_mixed(mixed):
    rng = np.random.default_rng(0)
    images, labels = rng.normal(size=(8, 6, 6, 2)).astype("float32"), rng.integers(0, 3, 8)
    conv = kerasish.Sequential([kerasish.Input((6, 6, 2)), layers.Conv2D(4, 3, activation="relu"),
                                layers.BatchNormalization(), layers.GlobalAveragePooling2D(),
                                layers.Dense(3, activation="softmax")])
    tokens, targets = rng.integers(1, 10, (8, 4)), rng.normal(size=(8, 1)).astype("float32")
    lstm = kerasish.Sequential([kerasish.Input((4,), dtype="int32"), layers.Embedding(10, 3),
                                layers.LSTM(5), layers.LayerNormalization(), layers.Dense(1)])
    for model, x, y, loss in ((conv, images, labels, "sparse_categorical_crossentropy"),
                              (lstm, tokens, targets, "mse")):
        model.compile("adam", loss)
        # NOTE: a step whose scaled float16 backward overflows is skipped (and warns nothing)
        model.fit(x, y, epochs=2, verbose=0)
        assert all(w.dtype == np.float32 for w in model.weights)
        assert model.predict(x[:2], verbose=0).dtype == np.float16
        scale, steps = float(model.optimizer.dynamic_scale.numpy()), 2
        skipped = steps - int(model.optimizer.iterations.numpy())
        assert scale == 2.0 ** (15 - skipped)


def test_an_overflowing_scaled_backward_is_skipped_quietly(mixed):
    model = kerasish.Sequential([kerasish.Input((2,)), layers.Dense(1, kernel_initializer="ones")])
    model.compile("sgd", "mse")
    x, y = np.full((4, 2), 100.0, "float32"), np.zeros((4, 1), "float32")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)  # 2 * 200 * 2**15 overflows float16
    np.testing.assert_array_equal(model.get_weights()[0], np.ones((2, 1)))
    assert float(model.optimizer.dynamic_scale.numpy()) == 2.0 ** 14
    assert int(model.optimizer.iterations.numpy()) == 0


def test_autocast_false_keeps_float32_weights_in_the_call(mixed):
    dense = layers.Dense(2, autocast=False)
    assert dense.input_dtype == "float16"
    y = dense(np.ones((1, 3), "float32"))
    assert y.dtype == np.float32  # the float16 input meets float32 weights, not cast
    assert layers.Dense(2).input_dtype == "float16"
