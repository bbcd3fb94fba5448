"""The north star end to end: the Video-QA program of the TensorFlow Dev Summit 2017 talk, run
as written, with weights="imagenet" resolved from a KERAS_HOME filled with a generated
Keras-layout file."""
import numpy as np
import pytest

import kerasish
from applications import InceptionV3
from tests.applications.test_inception_v3 import NOTOP_FILE, write_keras2_weights_file


@pytest.fixture(scope="module")
def keras_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("keras_home")
    (home / "models").mkdir()
    kerasish.utils.clear_session()
    notop = InceptionV3(weights=None, include_top=False)
    write_keras2_weights_file(home / "models" / NOTOP_FILE, notop, seed=5)
    return home


def video_qa(videos, questions, answers_one_hot):
    # the TensorFlow Dev Summit 2017 talk, verbatim.
    import kerasish as keras
    from kerasish import layers

    video = layers.Input(shape=(None, 150, 150, 3))
    cnn = keras.applications.InceptionV3(weights="imagenet", include_top=False, pooling="avg")
    cnn.trainable = False
    encoded_frames = layers.TimeDistributed(cnn)(video)
    encoded_vid = layers.LSTM(256)(encoded_frames)

    question = layers.Input(shape=(100,), dtype="int32")
    x = layers.Embedding(10000, 256, mask_zero=True)(question)
    encoded_q = layers.LSTM(128)(x)

    x = layers.concatenate([encoded_vid, encoded_q])
    x = layers.Dense(128, activation="relu")(x)
    outputs = layers.Dense(1000)(x)

    model = keras.models.Model([video, question], outputs)
    model.compile(optimizer=keras.optimizers.Adam(),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    model.fit([videos, questions], answers_one_hot, batch_size=2, epochs=1)
    return model, cnn


def test_video_qa_program_runs_as_written(keras_home, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    rng = np.random.default_rng(0)
    videos = rng.uniform(-1, 1, (2, 2, 150, 150, 3)).astype("float32")
    questions = np.zeros((2, 100), "int32")
    questions[0, :6], questions[1, :9] = rng.integers(1, 10000, 6), rng.integers(1, 10000, 9)
    answers_one_hot = np.eye(1000, dtype="float32")[[3, 7]]

    kerasish.utils.clear_session()
    before = {}

    class Snapshot(kerasish.callbacks.Callback):
        def on_train_begin(self, logs=None):
            before.update({id(w): w.numpy().copy() for w in self.model.weights})

    original_fit = kerasish.Model.fit
    monkeypatch.setattr(kerasish.Model, "fit", lambda self, *a, **k: original_fit(
        self, *a, **{**k, "callbacks": [Snapshot()]}))
    model, cnn = video_qa(videos, questions, answers_one_hot)
    assert "1/1" in capsys.readouterr().out  # Keras's progress bar

    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    # 27,098,504 weights, plus Adam's 2 x 5,295,720 slots + iteration + learning_rate after fit.
    assert model.count_params() == 27_098_504 and len(model.layers) == 9
    assert " Trainable params: 5,295,720" in text
    assert " Non-trainable params: 21,802,784" in text
    assert " Optimizer params: 10,591,442" in text
    assert f" Total params: {27_098_504 + 10_591_442:,}" in text

    cnn_ids = {id(w) for w in cnn.weights}
    for w in model.weights:
        changed = not np.array_equal(before[id(w)], w.numpy())
        assert changed == (id(w) not in cnn_ids), w.path

    predictions = model.predict([videos, questions], verbose=0)
    path = tmp_path / "video_qa.keras"
    model.save(path)
    restored = kerasish.models.load_model(path)
    np.testing.assert_array_equal(restored.predict([videos, questions], verbose=0), predictions)
