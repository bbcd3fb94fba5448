"""SGD and Adam update in place and in chunks (optimizers/_gradients.in_chunks); the weights and
slots must equal the plain NumPy formulas bit for bit, over several chunks and a partial one."""
import numpy as np
import pytest

from kerasish.optimizers import SGD, Adam
from kerasish.optimizers import _gradients
from kerasish.variables import Variable

SHAPE = (3 * _gradients._CHUNK // 512 + 7, 512)  # three full chunks and a partial one


def _data(seed, shape=SHAPE):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]


def _grads(g, transposed):
    # A transposed (non-contiguous) gradient takes the whole-array path.
    return [np.ascontiguousarray(g.T).T if transposed else g, g * np.float32(0.5)]


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_equals_plain_formula(momentum, nesterov, transposed):
    w0, g, _ = _data(0)
    var = Variable(w0.copy(), name="w")
    opt = SGD(learning_rate=0.01, momentum=momentum, nesterov=nesterov)
    w, m = w0.copy(), np.zeros_like(w0)
    lr, mom = np.float32(0.01), np.float32(momentum)
    for grad in _grads(g, transposed):
        opt.apply([grad], [var])
        if momentum == 0:
            w -= grad * lr
        else:
            m[...] = m * mom - grad * lr
            w += m * mom - grad * lr if nesterov else m
    np.testing.assert_array_equal(var.numpy(), w)
    if momentum:
        np.testing.assert_array_equal(opt.momentums[0].numpy(), m)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_equals_plain_formula(amsgrad, transposed):
    w0, g, _ = _data(1)
    var = Variable(w0.copy(), name="w")
    opt = Adam(learning_rate=1e-3, amsgrad=amsgrad)
    w, m, v, v_hat = w0.copy(), np.zeros_like(w0), np.zeros_like(w0), np.zeros_like(w0)
    f = np.float32
    for step, grad in enumerate(_grads(g, transposed), start=1):
        opt.apply([grad], [var])
        alpha = f(1e-3) * np.sqrt(1 - f(0.999) ** f(step)) / (1 - f(0.9) ** f(step))
        m += (grad - m) * (1 - 0.9)
        v += (np.square(grad) - v) * (1 - 0.999)
        np.maximum(v_hat, v, out=v_hat)
        w -= (m * alpha) / (np.sqrt(v_hat if amsgrad else v) + 1e-7)
    np.testing.assert_array_equal(var.numpy(), w)
    np.testing.assert_array_equal(opt._momentums[0].numpy(), m)
    np.testing.assert_array_equal(opt._velocities[0].numpy(), v)


def test_chunks_cover_every_element_once():
    a = np.zeros(SHAPE, np.float32)
    for (view,), (buf,) in _gradients.in_chunks(a):
        assert view.shape == buf.shape
        view += 1
    assert (a == 1).all()
