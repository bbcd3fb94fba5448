"""The demo job: trains and evaluates a small network on real handwritten digits.

The data is scikit-learn's bundled copy of the UCI digits (1,797 8x8 images, no download).
Until the Keras training loop lands, the network is written directly on ``engine``.
"""
from __future__ import annotations

import sys
import time

import numpy as np

import engine
from engine import Tensor, ops


def load_digits_split(seed=0, test_fraction=0.25):
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - the demo extra installs it
        sys.exit("The demo needs scikit-learn: pip install -e '.[demo]'")
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int32)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(len(x) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return (x[train], y[train]), (x[test], y[test])


def glorot(rng, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return Tensor(rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32),
                  requires_grad=True)


class MLP:
    """Dense(64, relu) -> Dense(10) logits, trained with SGD + momentum."""

    def __init__(self, n_in, n_hidden, n_out, seed=0):
        rng = np.random.default_rng(seed)
        self.params = [glorot(rng, n_in, n_hidden), Tensor(np.zeros(n_hidden, np.float32), True),
                       glorot(rng, n_hidden, n_out), Tensor(np.zeros(n_out, np.float32), True)]
        self.velocity = [np.zeros_like(p.data) for p in self.params]

    def __call__(self, x):
        w1, b1, w2, b2 = self.params
        return ops.add(ops.matmul(ops.relu(ops.add(ops.matmul(x, w1), b1)), w2), b2)

    def loss(self, x, y):
        logits = self(x)
        return ops.mean(ops.sparse_categorical_crossentropy(y, logits, from_logits=True)), logits

    def step(self, x, y, lr=0.1, momentum=0.9):
        loss, logits = self.loss(x, y)
        grads = engine.grad(loss, self.params)
        for p, v, g in zip(self.params, self.velocity, grads):
            v *= momentum
            v -= lr * g.data
            p.data += v
        return loss.item(), logits.numpy()


def accuracy(logits, y):
    return float((logits.argmax(axis=-1) == y).mean())


def main(epochs=10, batch_size=32):
    (x_train, y_train), (x_test, y_test) = load_digits_split()
    print(f"digits: {len(x_train)} train / {len(x_test)} test images, 8x8 pixels, 10 classes")
    model = MLP(64, 64, 10)
    steps = -(-len(x_train) // batch_size)
    rng = np.random.default_rng(0)
    for epoch in range(1, epochs + 1):
        print(f"Epoch {epoch}/{epochs}")
        start, order = time.perf_counter(), rng.permutation(len(x_train))
        total_loss = correct = 0.0
        for i in range(steps):
            idx = order[i * batch_size:(i + 1) * batch_size]
            loss, logits = model.step(x_train[idx], y_train[idx])
            total_loss += loss * len(idx)
            correct += accuracy(logits, y_train[idx]) * len(idx)
        ms = (time.perf_counter() - start) * 1000 / steps
        print(f"{steps}/{steps} ━━━━━━━━━━━━━━━━━━━━ {ms:.0f}ms/step - "
              f"accuracy: {correct / len(x_train):.4f} - loss: {total_loss / len(x_train):.4f}")
    with engine.no_grad():
        loss, logits = model.loss(x_test, y_test)
    test_acc = accuracy(logits.numpy(), y_test)
    print(f"test accuracy: {test_acc:.4f} - test loss: {loss.item():.4f}")
    return test_acc


if __name__ == "__main__":
    main()
