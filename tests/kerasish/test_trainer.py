"""compile / fit / evaluate / predict: learning, logs and return values as Keras gives them."""
import numpy as np
import pytest

import kerasish as keras
from kerasish import layers


def blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])
    x = (centers[y] + rng.normal(0, 0.6, (n, 2))).astype("float32")
    return x, y.astype("int32")


def mlp(classes=3, activation=None):
    return keras.Sequential([keras.Input((2,)), layers.Dense(16, activation="relu"),
                             layers.Dense(classes, activation=activation)])


def test_fit_learns_blobs_and_history_has_keras_keys():
    keras.utils.set_random_seed(0)
    x, y = blobs()
    model = mlp()
    model.compile(optimizer=keras.optimizers.Adam(0.01), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, batch_size=16, epochs=10, validation_split=0.2, verbose=0)
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.epoch == list(range(10)) and model.history is history
    assert history.params == {"verbose": 0, "epochs": 10, "steps": 10}
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.9


def test_xor_is_learned():
    keras.utils.set_random_seed(1)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
    y = np.array([[0], [1], [1], [0]], "float32")
    model = keras.Sequential([keras.Input((2,)), layers.Dense(8, activation="tanh"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=300, batch_size=4, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] == 1.0


def test_evaluate_return_shapes():
    x, y = blobs(50)
    model = mlp()
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    loss = model.evaluate(x, y, verbose=0)
    logits = model.predict(x, verbose=0).astype("float64")
    log_p = logits - logits.max(1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(1, keepdims=True))
    assert isinstance(loss, float)
    np.testing.assert_allclose(loss, -log_p[np.arange(50), y].mean(), rtol=1e-5)
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.compile("sgd", "sparse_categorical_crossentropy",
                  metrics=["sparse_top_k_categorical_accuracy", "accuracy"])
    loss, top_k, acc = model.evaluate(x, y, verbose=0)
    d = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(d) == ["accuracy", "loss", "sparse_top_k_categorical_accuracy"]
    assert (d["loss"], d["accuracy"], d["sparse_top_k_categorical_accuracy"]) == (loss, acc, top_k)
    assert top_k == 1.0


def test_predict_batches_and_returns_float32_numpy():
    x, _ = blobs(100)
    model = mlp()
    seen = []

    class Sizes(keras.callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            seen.append(len(logs["outputs"]))

    out = model.predict(x, verbose=0, callbacks=[Sizes()])
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == (100, 3)
    assert seen == [32, 32, 32, 4]
    np.testing.assert_allclose(out, model(x).numpy(), rtol=1e-6)


def test_multi_output_logs_and_loss_weights():
    inputs = keras.Input((2,))
    h = layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, [layers.Dense(3, name="cls")(h), layers.Dense(1, name="reg")(h)])
    model.compile("adam", loss={"cls": keras.losses.SparseCategoricalCrossentropy(
        from_logits=True), "reg": "mse"}, metrics={"cls": ["accuracy"], "reg": ["mae"]},
        loss_weights={"cls": 1.0, "reg": 0.5})
    x, y = blobs(40)
    target = x[:, :1] * 2.0
    history = model.fit(x, [y, target], epochs=1, batch_size=40, validation_split=0.25,
                        verbose=0)
    assert list(history.history) == [
        "cls_accuracy", "cls_loss", "loss", "reg_loss", "reg_mae", "val_cls_accuracy",
        "val_cls_loss", "val_loss", "val_reg_loss", "val_reg_mae"]
    logs = model.evaluate(x, [y, target], verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + 0.5 * logs["reg_loss"], rel=1e-5)


def test_train_on_batch_returns_the_loss_before_the_update():
    x, y = blobs(32)
    model = mlp()
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = model.test_on_batch(x, y)
    first = model.train_on_batch(x, y)
    assert first == pytest.approx(before, rel=1e-6)
    assert model.test_on_batch(x, y) == pytest.approx(model.train_on_batch(x, y), rel=1e-6)


def test_fit_before_compile_and_ambiguous_cardinality_are_keras_errors():
    model = mlp()
    with pytest.raises(ValueError, match=r"You must call `compile\(\)` before using the model."):
        model.fit(np.ones((4, 2)), np.ones(4))
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"Data cardinality is ambiguous\. Make sure all arrays "
                                         r"contain the same number of samples\.'x' sizes: 100\n"
                                         r"'y' sizes: 90\n"):
        model.fit(np.ones((100, 2)), np.ones((90, 3)), verbose=0)


def test_sparse_labels_out_of_range_leave_the_model_intact():
    x, y = blobs(16)
    model = mlp()
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = model.get_weights()
    with pytest.raises(ValueError, match="7"):
        model.fit(x, np.full(16, 7), verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_string_data_is_a_clear_error():
    model = mlp()
    model.compile("sgd", "mse")
    # String inputs reach the model (issue 16); its first numeric layer refuses them.
    with pytest.raises(TypeError, match="computes on numbers but received strings"):
        model.fit(np.array([["a", "b"]] * 4), np.ones((4, 3)), verbose=0)
    with pytest.raises(ValueError, match="cannot be cast"):
        model.fit(np.ones((4, 2)), np.array([["a", "b", "c"]] * 4), verbose=0)


def test_generator_and_pydataset_inputs():
    x, y = blobs(64)
    model = mlp()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    def gen():
        while True:
            for i in range(0, 64, 16):
                yield x[i:i + 16], y[i:i + 16]

    history = model.fit(gen(), steps_per_epoch=4, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return x[i * 16:(i + 1) * 16], y[i * 16:(i + 1) * 16]

    assert model.fit(Batches(), epochs=1, verbose=0).params["steps"] == 4
    loss = model.evaluate(Batches(), verbose=0)
    assert isinstance(loss, float)
    np.testing.assert_allclose(loss, model.evaluate(x, y, batch_size=16, verbose=0), rtol=1e-6)


def test_two_runs_with_the_same_seed_are_bitwise_identical():
    def run():
        keras.utils.set_random_seed(42)
        x, y = blobs(64)
        model = keras.Sequential([keras.Input((2,)), layers.Dense(16, activation="relu"),
                                  layers.Dropout(0.3), layers.Dense(3)])
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        return model.get_weights()

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_class_weight_changes_the_loss_like_sample_weight():
    x, y = blobs(32)
    model = mlp()
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    weights = model.get_weights()
    a = model.train_on_batch(x, y, class_weight={0: 2.0, 1: 1.0, 2: 0.5})
    model.set_weights(weights)
    b = model.train_on_batch(x, y, sample_weight=np.array([2.0, 1.0, 0.5])[y])
    assert a == pytest.approx(b, rel=1e-6)
