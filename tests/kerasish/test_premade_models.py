"""keras.experimental.LinearModel and WideDeepModel (tf.keras 2's premade models): weights after
one fit step equal a hand-computed SGD step, two optimizers each step only their part, sparse
batches give the dense path's numbers, configs are tf.keras 2.21's, save -> load."""
import warnings

import numpy as np
import pytest

import kerasish as keras
from kerasish import layers
from kerasish.experimental import LinearModel, WideDeepModel

RNG = np.random.default_rng(0)
X = {"b": RNG.standard_normal((4, 2)).astype("float32"),
     "a": RNG.standard_normal((4, 3)).astype("float32")}
Y = RNG.standard_normal((4, 1)).astype("float32")


def _sgd_step_by_hand(features, y, weights, bias, lr):
    """One SGD step of mean squared error for ``y = sum_i x_i @ w_i + b`` (full batch)."""
    pred = sum(x @ w for x, w in zip(features, weights)) + bias
    g = 2.0 * (pred - y) / y.size
    return [w - lr * x.T @ g for x, w in zip(features, weights)], bias - lr * g.sum(axis=0)


def test_linear_model_dict_inputs_one_sgd_step_by_hand():
    model = LinearModel()
    model.compile(keras.optimizers.SGD(0.1), "mse")
    model.fit(X, Y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    # tf.keras 2: one Dense per key, in sorted key order, named by the key; kernels then bias.
    assert [w.path for w in model.weights] == ["a/kernel", "b/kernel", f"{model.name}/bias"]
    weights, bias = _sgd_step_by_hand([X["a"], X["b"]], Y, [np.zeros((3, 1)), np.zeros((2, 1))],
                                      np.zeros(1), 0.1)
    got = [w.numpy() for w in model.weights]
    for g, e in zip(got, weights + [bias]):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
    # The same numbers tf.keras 2.21 gives (tf_keras.experimental.LinearModel, same data).
    np.testing.assert_allclose(got[0].ravel(), [0.04322578, -0.11913133, 0.02548168], rtol=1e-5)
    np.testing.assert_allclose(got[2], [0.04621221], rtol=1e-5)
    with pytest.raises(ValueError, match="Missing keys"):
        model({"a": X["a"]})


def test_linear_model_list_and_single_inputs_and_activation():
    x1, x2 = X["a"], X["b"]
    model = LinearModel(units=2, activation="sigmoid", kernel_initializer="ones",
                        bias_initializer="ones")
    y = model([x1, x2]).numpy()
    expected = 1 / (1 + np.exp(-(x1.sum(-1, keepdims=True) + x2.sum(-1, keepdims=True) + 1)))
    np.testing.assert_allclose(y, np.repeat(expected, 2, axis=1), rtol=1e-5)
    assert [w.shape for w in model.weights] == [(3, 2), (2, 2), (2,)]
    single = LinearModel(use_bias=False)
    assert single(x1).shape == (4, 1) and len(single.weights) == 1


def test_linear_model_config_is_tf_keras():
    config = LinearModel(units=2, activation="sigmoid").get_config()
    # tf.keras 2.21's keys (its config also has name, trainable, dtype).
    assert set(config) >= {"name", "trainable", "dtype", "units", "activation", "use_bias",
                           "kernel_initializer", "bias_initializer", "kernel_regularizer",
                           "bias_regularizer"}
    assert config["activation"] == "sigmoid" and config["units"] == 2
    assert config["kernel_initializer"]["class_name"] == "Zeros"
    clone = LinearModel.from_config(config)
    assert clone.get_config() == {**config, "name": clone.name}


def _wide_deep(activation=None):
    dnn = keras.Sequential([layers.Dense(1, kernel_initializer="ones", bias_initializer="ones")])
    return WideDeepModel(LinearModel(), dnn, activation=activation)


@pytest.mark.parametrize("lrs", [(0.1, 0.05), (0.1, 0.0), (0.0, 0.1)])
def test_wide_deep_two_optimizers_each_step_their_part(lrs):
    x = X["a"]
    model = _wide_deep()
    model.compile([keras.optimizers.SGD(lrs[0]), keras.optimizers.SGD(lrs[1])], "mse")
    model.fit(x, Y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    linear_w, linear_b, dnn_w, dnn_b = (w.numpy() for w in model.weights)
    # By hand: y = x @ wl + bl + x @ wd + bd, each part stepped with its own learning rate.
    wl0, bl0, wd0, bd0 = np.zeros((3, 1)), np.zeros(1), np.ones((3, 1)), np.ones(1)
    pred = x @ wl0 + bl0 + x @ wd0 + bd0
    g = 2.0 * (pred - Y) / Y.size
    np.testing.assert_allclose(linear_w, wl0 - lrs[0] * x.T @ g, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(linear_b, bl0 - lrs[0] * g.sum(0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dnn_w, wd0 - lrs[1] * x.T @ g, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dnn_b, bd0 - lrs[1] * g.sum(0), rtol=1e-5, atol=1e-7)
    linear_opt, dnn_opt = model.optimizer
    assert int(linear_opt.iterations.numpy()) == 1 and int(dnn_opt.iterations.numpy()) == 1


def test_wide_deep_one_optimizer_two_inputs_and_activation():
    model = _wide_deep(activation="sigmoid")
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x_linear, x_dnn = X["b"], X["a"]
    model.fit([x_linear, x_dnn], Y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert [w.shape for w in model.weights] == [(2, 1), (1,), (3, 1), (1,)]
    wl, bl, wd, bd = (w.numpy() for w in model.weights)
    logits = x_linear @ wl + bl + x_dnn @ wd + bd
    np.testing.assert_allclose(model.predict([x_linear, x_dnn], verbose=0),
                               1 / (1 + np.exp(-logits)), rtol=1e-5)
    assert not np.allclose(wl, 0) and not np.allclose(wd, 1)


def test_sparse_zip_codes_give_the_dense_paths_numbers():
    n_zip = 50
    data = {"square_foot": RNG.uniform(0, 1, (16, 1)).astype("float32"),
            "zip_code": RNG.integers(0, n_zip, (16, 1))}
    y = RNG.standard_normal((16, 1)).astype("float32")

    def regressor(sparse):
        sq = keras.Input((1,), name="square_foot")
        zip_code = keras.Input((1,), name="zip_code", dtype="int64")
        encoded = layers.CategoryEncoding(n_zip, output_mode="one_hot", sparse=sparse)(zip_code)
        model = keras.Model({"square_foot": sq, "zip_code": zip_code},
                            LinearModel()([sq, encoded]))
        model.compile(keras.optimizers.SGD(0.5), "mse")
        model.fit(data, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        return model

    sparse, dense = regressor(True), regressor(False)
    for a, b in zip(sparse.weights, dense.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7)
    kernel = sparse.weights[1].numpy().ravel()
    assert kernel.shape == (n_zip,)
    # Categories absent from the data never move (their gradient is zero).
    absent = np.setdiff1d(np.arange(n_zip), data["zip_code"].ravel())
    np.testing.assert_array_equal(kernel[absent], 0.0)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_save_load(tmp_path, suffix):
    x = X["a"]
    dnn = keras.Sequential([layers.Dense(4, activation="relu"), layers.Dropout(0.1),
                            layers.Dense(1)])
    wide_deep = WideDeepModel(LinearModel(), dnn, activation="sigmoid")
    optimizer = ["ftrl", "adagrad"] if suffix == ".keras" else "adam"
    wide_deep.compile(optimizer, "binary_crossentropy")
    wide_deep.fit(x, (Y > 0).astype("float32"), epochs=2, verbose=0)
    linear = LinearModel(units=1)
    linear.compile("sgd", "mse")
    linear.fit(X, Y, verbose=0)
    for model, data in ((wide_deep, x), (linear, X)):
        path = str(tmp_path / f"{model.name}{suffix}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # .h5 is legacy (Keras's warning)
            model.save(path)
        loaded = keras.models.load_model(path)
        np.testing.assert_allclose(loaded.predict(data, verbose=0),
                                   model.predict(data, verbose=0), rtol=1e-6, atol=1e-6)
        assert type(loaded) is type(model)
        config, loaded_config = model.get_config(), loaded.get_config()
        assert {k: v for k, v in loaded_config.items() if k != "linear_model"} == \
            {k: v for k, v in config.items() if k != "linear_model"}
    assert isinstance(keras.models.load_model(str(tmp_path / f"{wide_deep.name}{suffix}"))
                      .optimizer, list if suffix == ".keras" else keras.optimizers.Adam)


def test_wide_deep_over_named_inputs_saves_both_optimizers(tmp_path):
    rng = np.random.default_rng(2)
    data = {"city": rng.integers(0, 6, (32, 1)), "income": rng.uniform(0, 1, (32, 1))}
    y = (data["income"] > 0.5).astype("float32")
    inputs = {"city": keras.Input((1,), name="city", dtype="int32"),
              "income": keras.Input((1,), name="income")}
    one_hot = layers.CategoryEncoding(6, output_mode="one_hot", sparse=True)(inputs["city"])
    wide = keras.Model(inputs, LinearModel()([one_hot, inputs["income"]]))
    embedded = layers.Flatten()(layers.Embedding(6, 2)(inputs["city"]))
    joined = layers.Concatenate()([embedded, inputs["income"]])
    deep = keras.Model(inputs, layers.Dense(1)(joined))
    model = WideDeepModel(wide, deep, activation="sigmoid")
    model.compile(["ftrl", keras.optimizers.Adagrad(0.1)], "binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(data, y, batch_size=8, epochs=2, verbose=0)
    path = str(tmp_path / "wide_deep.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0),
                               rtol=1e-6, atol=1e-6)
    assert [type(o).__name__ for o in loaded.optimizer] == ["Ftrl", "Adagrad"]
    assert loaded.optimizer[1].learning_rate == pytest.approx(0.1)
    for saved, restored in zip(model.optimizer, loaded.optimizer):  # slots included
        for v, w in zip(saved.variables, restored.variables):
            np.testing.assert_allclose(w.numpy(), v.numpy())
    loaded.fit(data, y, batch_size=8, verbose=0)  # trains on after loading


def test_subclassed_model_first_compiled_step_updates_the_weights():
    # A model built by its first call: the compiled step once listed no variables there and
    # skipped the first update; that step now runs eagerly.
    model = LinearModel()
    model.compile(keras.optimizers.SGD(0.1), "mse", jit_compile=True)
    model.fit(X["a"], Y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    weights, bias = _sgd_step_by_hand([X["a"]], Y, [np.zeros((3, 1))], np.zeros(1), 0.1)
    np.testing.assert_allclose(model.weights[0].numpy(), weights[0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.weights[1].numpy(), bias, rtol=1e-5, atol=1e-7)
