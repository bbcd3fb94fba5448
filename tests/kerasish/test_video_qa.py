"""The north star: the Video-QA program of the talks, with a small frozen CNN for InceptionV3."""
import numpy as np

import kerasish as keras
from kerasish import layers


def frozen_cnn():
    cnn = keras.Sequential([
        layers.Input((150, 150, 3)),
        layers.Conv2D(16, 3, strides=2, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, activation="relu"),
        layers.BatchNormalization(),
        layers.GlobalAveragePooling2D(),
    ])
    cnn.trainable = False
    return cnn


def video_qa_model():
    # As written in the talk, with the CNN above standing in for InceptionV3.
    video = layers.Input(shape=(None, 150, 150, 3))
    cnn = frozen_cnn()
    encoded_frames = layers.TimeDistributed(cnn)(video)
    encoded_vid = layers.LSTM(256)(encoded_frames)

    question = layers.Input(shape=(100,), dtype="int32")
    x = layers.Embedding(10000, 256, mask_zero=True)(question)
    encoded_q = layers.LSTM(128)(x)

    x = layers.concatenate([encoded_vid, encoded_q])
    x = layers.Dense(128, activation="relu")(x)
    outputs = layers.Dense(1000)(x)
    return keras.models.Model([video, question], outputs)


def test_video_qa_builds_with_keras_counts():
    model = video_qa_model()
    assert len(model.layers) == 9
    assert model.count_params() == 3_236_552
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 3_231_336
    assert model.count_params() - trainable == 5_216
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert " Total params: 3,236,552" in text
    assert " Trainable params: 3,231,336" in text
    assert " Non-trainable params: 5,216" in text


def test_video_qa_forward_on_two_videos_and_padded_questions():
    model = video_qa_model()
    rng = np.random.default_rng(0)
    videos = rng.random((2, 3, 150, 150, 3), dtype=np.float32)
    questions = np.zeros((2, 100), np.int32)
    questions[0, :7] = rng.integers(1, 10000, 7)
    questions[1, :12] = rng.integers(1, 10000, 12)
    logits = model([videos, questions])
    assert logits.shape == (2, 1000) and logits.dtype == np.float32
    assert np.isfinite(logits.numpy()).all()
    # Masked steps keep the LSTM state, so padding before the words equals padding after them.
    left_padded = np.zeros_like(questions)
    left_padded[0, -7:], left_padded[1, -12:] = questions[0, :7], questions[1, :12]
    np.testing.assert_allclose(model([videos, left_padded]).numpy(), logits.numpy(), rtol=1e-5,
                               atol=1e-5)


def test_import_kerasish_as_keras_resolves_the_public_names():
    assert keras.layers.Dense and keras.layers.LSTM and keras.layers.TimeDistributed
    assert keras.Input and keras.Model and keras.models.Model and keras.Sequential
    assert keras.models.Sequential is keras.Sequential and keras.models.Model is keras.Model
