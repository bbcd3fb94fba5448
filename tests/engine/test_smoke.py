"""Seconds-long smoke test (tinygrad's test_tiny): run it before every commit.

    python -m pytest tests/engine/test_smoke.py -q
"""
import numpy as np

import engine
from engine import Tensor, ops


def test_tiny_mlp_learns_xor():
    rng = np.random.default_rng(0)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([0, 1, 1, 0], np.int32)
    params = [Tensor(rng.standard_normal((2, 16)).astype(np.float32), requires_grad=True),
              Tensor(np.zeros(16, np.float32), requires_grad=True),
              Tensor(rng.standard_normal((16, 2)).astype(np.float32), requires_grad=True),
              Tensor(np.zeros(2, np.float32), requires_grad=True)]

    def loss_fn():
        h = ops.tanh(ops.add(ops.matmul(x, params[0]), params[1]))
        logits = ops.add(ops.matmul(h, params[2]), params[3])
        return ops.mean(ops.sparse_categorical_crossentropy(y, logits, from_logits=True)), logits

    first = loss_fn()[0].item()
    for _ in range(300):
        loss, _ = loss_fn()
        for p, g in zip(params, engine.grad(loss, params)):
            p.data -= 0.5 * g.data
    loss, logits = loss_fn()
    assert loss.item() < 0.1 * first
    assert loss.dtype == np.float32
    np.testing.assert_array_equal(ops.argmax(logits, axis=-1).numpy(), y)


def test_tiny_convnet_step_runs_and_keeps_float32():
    rng = np.random.default_rng(0)
    x = rng.random((2, 6, 6, 1), dtype=np.float32)
    k = Tensor(rng.standard_normal((3, 3, 1, 4)).astype(np.float32) * 0.3, requires_grad=True)
    h = ops.max_pool(ops.relu(ops.conv(x, k, padding="same")), 2)
    loss = ops.mean(ops.square(h))
    loss.backward()
    assert h.shape == (2, 3, 3, 4) and k.grad.dtype == np.float32 and k.grad.shape == k.shape
