"""The embedding projector's files: the config parsed with protobuf's text format and
TensorBoard's ProjectorConfig, the tensors compared with the weights / a hand computation, the
labels and the sprite decoded by Pillow."""
import numpy as np
import pytest

from tests.kerasish.tb_helpers import load

import kerasish as keras  # noqa: E402
from kerasish import layers  # noqa: E402

text_format = pytest.importorskip("google.protobuf.text_format")


def read_config(log_dir):
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    config = ProjectorConfig()
    text_format.Parse((log_dir / "projector_config.pbtxt").read_text(), config)
    return config


def read_tsv(path):
    return np.array([[float(v) for v in line.split("\t")]
                     for line in path.read_text().splitlines()])


def test_embedding_layer_weights_with_keras_tensor_name_and_metadata_file(tmp_path):
    inputs = keras.Input((3,), dtype="int32")
    x = layers.Embedding(12, 4, name="words")(inputs)
    model = keras.Model(inputs, layers.Dense(1, name="out")(layers.Flatten()(x)))
    model.compile("sgd", "mse")
    (tmp_path / "words.tsv").write_text("".join(f"w{i}\n" for i in range(12)))
    data = np.random.default_rng(0).integers(0, 12, (6, 3))
    model.fit(data, np.zeros((6, 1)), epochs=2, verbose=0, callbacks=[
        keras.callbacks.TensorBoard(tmp_path, embeddings_freq=1,
                                    embeddings_metadata={"words": "words.tsv"})])
    (entry,) = read_config(tmp_path).embeddings
    assert entry.tensor_name == "layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE"
    assert entry.metadata_path == "words.tsv" and list(entry.tensor_shape) == [12, 4]
    tensor = read_tsv(tmp_path / entry.tensor_path)
    np.testing.assert_allclose(tensor, model.get_layer("words").embeddings.numpy(), rtol=1e-5)


def test_layer_outputs_of_images_with_labels_and_sprite(tmp_path):
    from PIL import Image

    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((6, 5, 1)), layers.Flatten(name="flat"),
                              layers.Dense(4, activation="relu", name="fc1"),
                              layers.Dense(2, name="fc2")])
    model.compile("sgd", "mse")
    images = np.random.default_rng(2).random((7, 6, 5, 1)).astype("float32")
    labels = [3, 1, 4, 1, 5, 9, 2]
    model.fit(images, np.zeros((7, 2)), epochs=1, verbose=0, callbacks=[
        keras.callbacks.TensorBoard(tmp_path, embeddings_freq=1, embeddings_data=images,
                                    embeddings_metadata=labels)])
    (entry,) = read_config(tmp_path).embeddings
    assert entry.tensor_name == "fc1/output" and list(entry.tensor_shape) == [7, 4]
    kernel, bias = model.get_layer("fc1").get_weights()
    expected = np.maximum(images.reshape(7, -1) @ kernel + bias, 0)  # by hand
    np.testing.assert_allclose(read_tsv(tmp_path / entry.tensor_path), expected,
                               rtol=1e-5, atol=1e-6)
    assert (tmp_path / entry.metadata_path).read_text().splitlines() == [str(v) for v in labels]
    assert list(entry.sprite.single_image_dim) == [5, 6]  # width, height
    sheet = Image.open(tmp_path / entry.sprite.image_path)
    assert sheet.size == (3 * 5, 3 * 6)  # 7 images: a 3 x 3 grid
    pixels = np.asarray(sheet)[:, :, 0].astype(float)
    scaled = (images - images.min()) / (images.max() - images.min())
    top_left = np.clip(scaled[0, :, :, 0] * 255.5, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(pixels[:6, :5], top_left)
    np.testing.assert_array_equal(pixels[12:, 5:], 0)  # the 8th and 9th cells are empty
    for name in (entry.tensor_path, entry.metadata_path, entry.sprite.image_path):
        assert (tmp_path / name).is_file()


def test_projector_plugin_reads_the_config(tmp_path):
    """TensorBoard's projector plugin finds the embedding and its files on its own."""
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.projector import projector_plugin

    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="fc1"),
                              layers.Dense(1, name="out")])
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).random((5, 4)).astype("float32")
    model.fit(x, np.zeros((5, 1)), verbose=0, callbacks=[keras.callbacks.TensorBoard(
        tmp_path, embeddings_freq=1, embeddings_data=x, embeddings_metadata=list("abcde"))])
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(tmp_path))
    multiplexer.Reload()
    context = base_plugin.TBContext(
        logdir=str(tmp_path), multiplexer=multiplexer,
        data_provider=data_provider.MultiplexerDataProvider(multiplexer, str(tmp_path)))
    plugin = projector_plugin.ProjectorPlugin(context)
    plugin._update_configs()
    (run, config), = plugin._configs.items()
    assert run == "." and [e.tensor_name for e in config.embeddings] == ["fc1/output"]
    assert list(config.embeddings[0].tensor_shape) == [5, 3]
    assert load(tmp_path / "train").Tags()["tensors"]  # the run folders hold events too


def test_unknown_metadata_layer_is_an_error(tmp_path):
    model = keras.Sequential([keras.Input((2,), dtype="int32"), layers.Embedding(5, 2, name="e")])
    model.compile("sgd", "mse")
    callback = keras.callbacks.TensorBoard(tmp_path, embeddings_freq=1,
                                           embeddings_metadata={"nope": "m.tsv"})
    with pytest.raises(ValueError, match=r"embeddings_metadata.*nope"):
        model.fit(np.zeros((2, 2), int), np.zeros((2, 2, 2)), verbose=0, callbacks=[callback])
