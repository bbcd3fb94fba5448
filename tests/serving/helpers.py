"""Small models, repositories and a running server for the serving tests."""
import contextlib
import os

import numpy as np

import kerasish as keras
from kerasish import layers


def mlp(seed):
    keras.utils.set_random_seed(seed)
    x = keras.Input((4,), name="x")
    h = layers.Dense(8, activation="relu")(x)
    return keras.Model(x, layers.Dense(3, name="probs")(h))


def two_outputs(seed=0):
    keras.utils.set_random_seed(seed)
    x = keras.Input((4,), name="x")
    return keras.Model(x, [layers.Dense(2, name="scores")(x), layers.Dense(1, name="value")(x)])


def video_qa(seed=0):
    """The Video-QA graph of the TF Dev Summit 2017 talk, small: a tiny frozen CNN per frame."""
    keras.utils.set_random_seed(seed)
    video = layers.Input(shape=(None, 12, 12, 3), name="video")
    cnn = keras.Sequential([layers.Input((12, 12, 3)), layers.Conv2D(4, 3, activation="relu"),
                            layers.GlobalAveragePooling2D()])
    cnn.trainable = False
    encoded_vid = layers.LSTM(8)(layers.TimeDistributed(cnn)(video))
    question = layers.Input(shape=(6,), dtype="int32", name="question")
    encoded_q = layers.LSTM(4)(layers.Embedding(50, 8, mask_zero=True)(question))
    x = layers.Dense(8, activation="relu")(layers.concatenate([encoded_vid, encoded_q]))
    return keras.models.Model([video, question], layers.Dense(5, name="answer")(x))


def save_version(model, base, version, staging=None):
    """Saves ``model`` as ``base/version/model.keras``; with ``staging``, written there first
    and renamed into place (how a version should appear under a live server)."""
    target = os.path.join(base, str(version))
    if staging is None:
        os.makedirs(target)
        model.save(os.path.join(target, "model.keras"))
        return target
    folder = os.path.join(staging, str(version))
    os.makedirs(folder)
    model.save(os.path.join(folder, "model.keras"))
    os.rename(folder, target)
    return target


@contextlib.contextmanager
def running(models, **kwargs):
    """A ModelServer on 127.0.0.1 (free port) in a thread, and an httpx client for it."""
    import httpx

    from kerasish.serving import ModelServer

    kwargs.setdefault("poll_seconds", 0)
    server = ModelServer(models, host="127.0.0.1", port=0, **kwargs).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield server, client
    finally:
        server.stop()


def rows(n, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 4)).astype(np.float32)
