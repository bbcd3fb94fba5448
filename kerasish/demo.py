"""The demo job (``python -m kerasish``): an MLP and the talks' MNIST CNN, scaled to 8x8
images, trained and evaluated with Keras's API on real handwritten digits.

The data is scikit-learn's bundled copy of the UCI digits (1,797 8x8 images, no download),
through ``kerasish.datasets.digits``.
"""
from __future__ import annotations

import time

import numpy as np

import kerasish as keras
from kerasish import layers


def mlp():
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10),
    ], name="mlp")


def mnist_cnn():
    """conv 5x5x32 -> pool -> conv 5x5x64 -> pool -> fc 1024 -> fc 10, as in the talk; the
    kernels are 3x3 and fc1 has 256 units for 8x8 images."""
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.Conv2D(32, 3, padding="same", activation="relu", name="conv1"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, padding="same", activation="relu", name="conv2"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(256, activation="relu", name="fc1"),
        layers.Dense(10, name="fc2"),
    ], name="mnist_cnn")


def train_and_evaluate(model, data, epochs, learning_rate):
    (x_train, y_train), (x_test, y_test) = data
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.summary()
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1)
    loss, accuracy = model.evaluate(x_test, y_test)
    print(f"{model.name}: held-out accuracy {accuracy:.4f} (loss {loss:.4f}), "
          f"trained in {time.perf_counter() - start:.1f}s\n")
    return accuracy


def main():
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    # Pixels 0..16 -> [0, 1], with a channel axis for the convolutions.
    x_train = (x_train / 16.0).astype("float32")[..., np.newaxis]
    x_test = (x_test / 16.0).astype("float32")[..., np.newaxis]
    print(f"digits: {len(x_train)} training and {len(x_test)} held-out 8x8 images\n")
    data = (x_train, y_train), (x_test, y_test)
    results = {"mlp": train_and_evaluate(mlp(), data, epochs=20, learning_rate=1e-3),
               "mnist_cnn": train_and_evaluate(mnist_cnn(), data, epochs=20, learning_rate=1e-3)}
    print("held-out accuracy: " + ", ".join(f"{k} {v:.4f}" for k, v in results.items()))
    return results


if __name__ == "__main__":
    main()
