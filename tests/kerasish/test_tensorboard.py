"""The TensorBoard callback: its event files read back with TensorBoard's EventAccumulator and
compared with History, the model's weights and hand-worked steps (as observed on Keras 3.15)."""
import json

import numpy as np
import pytest

from tests.kerasish.tb_helpers import decode_images, load, plugin, series

import kerasish as keras  # noqa: E402
from kerasish import layers  # noqa: E402


def mnist_like(name="mnist"):
    """The talk's CNN in miniature, layers named as in the talk."""
    keras.utils.set_random_seed(3)
    return keras.Sequential([
        keras.Input((8, 8, 1), name="images"),
        layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1"),
        layers.MaxPooling2D(name="pool1"),
        layers.Flatten(name="flatten"),
        layers.Dense(6, activation="relu", name="fc1"),
        layers.Dense(3, name="fc2"),
    ], name=name)


def data(n=48):
    rng = np.random.default_rng(0)
    return rng.random((n, 8, 8, 1)).astype("float32"), rng.integers(0, 3, n)


def fit(log_dir, epochs=3, optimizer=None, **kwargs):
    """48 samples, validation_split=0.25, batch 12: 3 training batches per epoch."""
    model = mnist_like()
    model.compile(optimizer or keras.optimizers.Adam(1e-2),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    x, y = data()
    history = model.fit(x, y, batch_size=12, epochs=epochs, validation_split=0.25, verbose=0,
                        callbacks=[keras.callbacks.TensorBoard(log_dir, **kwargs)])
    return model, history


def values(acc, tag):
    return [(step, float(v)) for step, v in series(acc, tag)]


def test_epoch_scalars_match_history_at_epoch_steps(tmp_path):
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=3, decay_rate=0.5)
    _, history = fit(tmp_path, optimizer=keras.optimizers.Adam(schedule))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train", "validation"]
    train, val = load(tmp_path / "train"), load(tmp_path / "validation")
    h = history.history
    for key in ("loss", "accuracy"):
        assert values(train, f"epoch_{key}") == [
            (e, float(np.float32(v))) for e, v in enumerate(h[key])]
        assert values(val, f"epoch_{key}") == [
            (e, float(np.float32(v))) for e, v in enumerate(h[f"val_{key}"])]
        # evaluation_*: at optimizer.iterations = 3 batches per epoch
        assert values(val, f"evaluation_{key}_vs_iterations") == [
            (3 * (e + 1), float(np.float32(v))) for e, v in enumerate(h[f"val_{key}"])]
    # The rate after epoch e: 0.01 * 0.5 ** (iterations / 3), iterations = 3 (e + 1).
    assert values(train, "epoch_learning_rate") == [
        (e, float(np.float32(0.01 * 0.5 ** (e + 1)))) for e in range(3)]
    assert plugin(train, "epoch_loss") == "scalars"
    assert not [t for t in train.Tags()["tensors"] if t.startswith("batch_")]
    assert not [t for t in val.Tags()["tensors"] if "learning_rate" in t]


def test_weight_histograms_and_images_at_histogram_freq(tmp_path):
    model, _ = fit(tmp_path, histogram_freq=2, write_images=True)
    train = load(tmp_path / "train")
    tags = train.Tags()["tensors"]
    expected = [f"mnist/{w.path}/histogram" for w in model.weights]
    assert expected == ["mnist/conv1/kernel/histogram", "mnist/conv1/bias/histogram",
                        "mnist/fc1/kernel/histogram", "mnist/fc1/bias/histogram",
                        "mnist/fc2/kernel/histogram", "mnist/fc2/bias/histogram"]
    assert [t for t in tags if t.endswith("/histogram")] == expected
    for weight, tag in zip(model.get_weights(), expected):
        (first, _), (last, buckets) = series(train, tag)
        assert (first, last) == (0, 2)  # epochs 0 and 2 of 3
        assert plugin(train, tag) == "histograms"
        assert buckets.shape == (30, 3) and buckets[:, 2].sum() == weight.size
        assert buckets[0, 0] == weight.min() and buckets[-1, 1] == weight.max()
    # Images, drawn as Keras draws them: a (3,3,1,4) kernel -> 3 of 4 images of 3x3; a
    # (64, 6) kernel -> transposed, 64 wide and 6 high; a bias of 4 -> 1 wide and 4 high.
    for tag, (width, height, count) in {"mnist/conv1/kernel/image": (3, 3, 3),
                                        "mnist/fc1/kernel/image": (64, 6, 1),
                                        "mnist/conv1/bias/image": (1, 4, 1)}.items():
        assert plugin(train, tag) == "images"
        w, h, images = decode_images(series(train, tag)[-1][1])
        assert (w, h, len(images)) == (width, height, count)
        assert all(image.size == (width, height) for image in images)
    bias = model.get_layer("conv1").bias.numpy()
    _, _, (image,) = decode_images(series(train, "mnist/conv1/bias/image")[-1][1])
    # tf.summary.image's float conversion: clip(255.5 x) truncated, negatives black.
    np.testing.assert_array_equal(np.asarray(image)[:, 0],
                                  np.clip(bias * 255.5, 0, 255).astype(np.uint8))


def test_model_config_and_graph_with_layer_scopes(tmp_path):
    fit(tmp_path, epochs=1)
    train = load(tmp_path / "train")
    assert plugin(train, "keras") == "graph_keras_model"
    (step, config), = series(train, "keras")
    config = json.loads(config.item().decode())
    assert step == 0 and config["class_name"] == "Sequential"
    assert [layer["config"]["name"] for layer in config["config"]["layers"]][1:] == [
        "conv1", "pool1", "flatten", "fc1", "fc2"]
    graph = train.Graph()
    nodes = {node.name: node for node in graph.node}
    for name in ("conv1/kernel", "conv1/Conv2D", "conv1/BiasAdd", "conv1/Relu",
                 "pool1/MaxPool", "flatten/Reshape", "fc1/MatMul", "fc1/Relu", "fc2/BiasAdd"):
        assert name in nodes, sorted(nodes)
    assert list(nodes["conv1/Conv2D"].input) == ["images", "conv1/kernel"]
    assert list(nodes["fc1/MatMul"].input) == ["flatten/Reshape", "fc1/kernel"]
    assert list(nodes["fc2/MatMul"].input) == ["fc1/Relu", "fc2/kernel"]
    shape = nodes["pool1/MaxPool"].attr["_output_shapes"].list.shape[0]
    assert [d.size for d in shape.dim] == [-1, 4, 4, 4]


def test_update_freq_batch_logs_running_means_at_global_batch(tmp_path):
    seen = []
    model = mnist_like()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = data(36)
    model.fit(x, y, batch_size=12, epochs=2, verbose=0, callbacks=[
        keras.callbacks.TensorBoard(tmp_path, update_freq="batch"),
        keras.callbacks.LambdaCallback(
            on_train_batch_end=lambda batch, logs: seen.append(logs["loss"]))])
    train = load(tmp_path / "train")
    assert values(train, "batch_loss") == [
        (i + 1, float(np.float32(v))) for i, v in enumerate(seen)]
    assert [s for s, _ in values(train, "batch_accuracy")] == [1, 2, 3, 4, 5, 6]
    assert not (tmp_path / "validation").exists()


def test_update_freq_n_keeps_keras_quirk(tmp_path):
    fit(tmp_path, epochs=2, update_freq=2, histogram_freq=1)
    train = load(tmp_path / "train")
    assert [s for s, _ in values(train, "batch_loss")] == [2, 4, 6]
    # 3 batches per epoch: only epoch 1 ended on a multiple of 2 batches.
    assert [s for s, _ in values(train, "epoch_loss")] == [1]
    assert [s for s, _ in series(train, "mnist/fc1/bias/histogram")] == [1]


def test_evaluate_writes_keras_config_and_evaluation_at_iterations(tmp_path):
    model, _ = fit(tmp_path / "fit", epochs=2)
    x, y = data(20)
    result = model.evaluate(x, y, batch_size=10, verbose=0, return_dict=True,
                            callbacks=[keras.callbacks.TensorBoard(tmp_path / "eval")])
    assert load(tmp_path / "eval" / "train").Tags()["tensors"] == ["keras"]
    val = load(tmp_path / "eval" / "validation")
    assert sorted(val.Tags()["tensors"]) == ["evaluation_accuracy_vs_iterations",
                                             "evaluation_loss_vs_iterations"]
    assert values(val, "evaluation_loss_vs_iterations") == [
        (6, float(np.float32(result["loss"])))]


def test_functional_tags_have_no_model_name_and_steps_per_second(tmp_path):
    inputs = keras.Input((4,), dtype="int32")
    outputs = layers.Dense(2, name="out")(layers.Flatten(name="flat")(
        layers.Embedding(10, 3, name="emb")(inputs)))
    model = keras.Model(inputs, outputs)
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).integers(0, 10, (8, 4))
    model.fit(x, np.zeros((8, 2)), batch_size=4, verbose=0, callbacks=[keras.callbacks.TensorBoard(
        tmp_path, histogram_freq=1, write_steps_per_second=True)])
    train = load(tmp_path / "train")
    assert [t for t in train.Tags()["tensors"] if t.endswith("histogram")] == [
        "emb/embeddings/histogram", "out/kernel/histogram", "out/bias/histogram"]
    (step, rate), = values(train, "epoch_steps_per_second")
    assert step == 0 and rate > 0
    assert "emb/GatherV2" in {node.name for node in train.Graph().node}


def test_activation_histograms_and_input_images(tmp_path):
    x, _ = data(5)
    model, _ = fit(tmp_path, epochs=1, histogram_freq=1, write_images=True,
                   activation_data=x)
    train = load(tmp_path / "train")
    # fc1's output through another path: a sub-model up to fc1, run by predict.
    sub = keras.Model(model.inputs, model.get_layer("fc1").output)
    fc1 = sub.predict(x, verbose=0)
    (_, buckets), = series(train, "mnist/fc1/activations/histogram")
    assert buckets[:, 2].sum() == fc1.size == 5 * 6
    np.testing.assert_allclose([buckets[0, 0], buckets[-1, 1]], [fc1.min(), fc1.max()],
                               rtol=1e-6)
    assert fc1.min() == 0.0  # relu
    w, h, images = decode_images(series(train, "input_images")[0][1])
    assert (w, h, len(images)) == (8, 8, 3)
    expected = (x[0, :, :, 0] - x[:3].min()) / (x[:3].max() - x[:3].min())
    np.testing.assert_array_equal(np.asarray(images[0]),
                                  np.clip(expected * 255.5, 0, 255).astype(np.uint8))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="update_freq.*Received: update_freq='often'"):
        keras.callbacks.TensorBoard(update_freq="often")
    with pytest.raises(ValueError, match="profile_batch=2"):
        keras.callbacks.TensorBoard(profile_batch=2)


def test_subclassed_model_gets_scalars_but_no_graph(tmp_path):
    class Linear(keras.Model):
        def __init__(self):
            super().__init__()
            self.out = layers.Dense(2, name="out")

        def call(self, x):
            return self.out(x)

    model = Linear()
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 3), "float32"), np.zeros((4, 2)), verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, histogram_freq=1)])
    train = load(tmp_path / "train")
    assert "keras" not in train.Tags()["tensors"] and not train.Tags()["graph"]
    assert "out/kernel/histogram" in train.Tags()["tensors"]
    assert [s for s, _ in values(train, "epoch_loss")] == [0]
