"""The fused LSTM op against a float64 NumPy loop, and against the same LSTM composed of
primitive engine ops (to float32 rounding), with masks and go_backwards."""
import numpy as np
import pytest

import engine
from engine import Tensor, ops
from tests.engine import op_tests
from tests.helpers import OpCase, randn


def _sig(x):
    return 1 / (1 + np.exp(-x))


def lstm_ref(go_backwards=False, last_only=False):
    """Plain NumPy: the states [h | c] after each processed step."""
    def ref(x_proj, kernel, h, c, bias=None, mask=None):
        steps, u, out = x_proj.shape[1], kernel.shape[0], []
        for t in (reversed(range(steps)) if go_backwards else range(steps)):
            z = x_proj[:, t] + h @ kernel + (0 if bias is None else bias)
            i, f, g, o = _sig(z[:, :u]), _sig(z[:, u:2 * u]), np.tanh(z[:, 2 * u:3 * u]), \
                _sig(z[:, 3 * u:])
            c_new = f * c + i * g
            h_new = o * np.tanh(c_new)
            keep = np.ones((len(h), 1), bool) if mask is None else mask[:, t:t + 1]
            h, c = np.where(keep, h_new, h), np.where(keep, c_new, c)
            out.append(np.concatenate([h, c], axis=-1))
        return out[-1] if last_only else np.stack(out, axis=1)
    return ref


def lstm_composite(x_proj, kernel, h, c, bias=None, mask=None, go_backwards=False,
                   return_sequences=True):
    """The same recurrence from primitive ops (what LSTMCell's generic path does)."""
    steps, out = x_proj.shape[1], []
    if bias is not None:
        x_proj = ops.add(x_proj, bias)
    for t in (reversed(range(steps)) if go_backwards else range(steps)):
        z = ops.add(ops.getitem(x_proj, (slice(None), t)), ops.matmul(h, kernel))
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        c_new = ops.add(ops.multiply(ops.sigmoid(z_f), c),
                        ops.multiply(ops.sigmoid(z_i), ops.tanh(z_c)))
        h_new = ops.multiply(ops.sigmoid(z_o), ops.tanh(c_new))
        if mask is None:
            h, c = h_new, c_new
        else:
            keep = ops.getitem(mask, (slice(None), slice(t, t + 1)))
            h, c = ops.where(keep, h_new, h), ops.where(keep, c_new, c)
        out.append(ops.concatenate([h, c], axis=-1))
    return ops.stack(out, axis=1) if return_sequences else out[-1]


B, T, U = 3, 5, 2
X = randn(B, T, 4 * U, seed=1)
K = randn(U, 4 * U, seed=2) * 0.7
H0, C0 = randn(B, U, seed=3) * 0.5, randn(B, U, seed=4) * 0.5
BIAS = randn(4 * U, seed=5) * 0.5
ZERO = np.zeros((B, U))
XIN, W_IN = randn(B, T, 3, seed=6), randn(3, 4 * U, seed=7) * 0.7
# Row 0 all valid; row 1 starts masked and has a hole; row 2 masked at the end.
MASK = np.array([[1, 1, 1, 1, 1], [0, 0, 1, 0, 1], [1, 1, 1, 0, 0]], bool)

CASES = [
    OpCase("lstm_sequence", lambda x, k, h, c: ops.lstm_sequence(x, k, h, c), [X, K, ZERO, ZERO],
           expected=lstm_ref(), label="zero-state"),
    OpCase("lstm_sequence", lambda x, k, h, c, b: ops.lstm_sequence(x, k, h, c, b),
           [X, K, H0, C0, BIAS], expected=lstm_ref(), label="states-bias"),
    OpCase("lstm_sequence", lambda x, k, h, c, b, m: ops.lstm_sequence(x, k, h, c, b, m),
           [X, K, H0, C0, BIAS, MASK], expected=lstm_ref(), label="mask"),
    OpCase("lstm_sequence",
           lambda x, k, h, c, m: ops.lstm_sequence(x, k, h, c, mask=m, go_backwards=True),
           [X, K, H0, C0, MASK], expected=lambda x, k, h, c, m: lstm_ref(True)(x, k, h, c, None, m),
           label="backwards-mask"),
    OpCase("lstm_sequence",
           lambda x, k, h, c, b, m: ops.lstm_sequence(x, k, h, c, b, m, return_sequences=False),
           [X, K, H0, C0, BIAS, MASK], expected=lstm_ref(last_only=True), label="last"),
    # the whole LSTM, input projection included (oneDNN's primitive takes float32 last-only)
    OpCase("lstm", lambda x, w, k, h, c, b: ops.lstm(x, w, k, h, c, b, return_sequences=False),
           [XIN, W_IN, K, H0, C0, BIAS],
           expected=lambda x, w, k, h, c, b: lstm_ref(last_only=True)(x @ w, k, h, c, b),
           label="last"),
    OpCase("lstm", lambda x, w, k, h, c, m: ops.lstm(x, w, k, h, c, mask=m, go_backwards=True),
           [XIN, W_IN, K, H0, C0, MASK],
           expected=lambda x, w, k, h, c, m: lstm_ref(True)(x @ w, k, h, c, None, m),
           label="backwards-mask-sequences"),
]

test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_fused_equals_composite(xp, masked, go_backwards, return_sequences):
    """float32: the forward and the gradient of every input to float32 rounding."""
    rng = np.random.default_rng(7)
    b, steps, u = 4, 9, 6
    arrays = [rng.standard_normal((b, steps, 4 * u)), rng.standard_normal((u, 4 * u)) * 0.5,
              rng.standard_normal((b, u)), rng.standard_normal((b, u)),
              rng.standard_normal(4 * u)]
    mask = rng.random((b, steps)) > 0.3 if masked else None
    shape = (b, steps, 2 * u) if return_sequences else (b, 2 * u)
    w = xp.asarray(rng.standard_normal(shape), dtype=np.float32)
    results = []
    for fn in (ops.lstm_sequence, lstm_composite):
        ts = [Tensor(xp.asarray(a, dtype=np.float32), requires_grad=True) for a in arrays]
        m = None if mask is None else Tensor(xp.asarray(mask))
        y = fn(*ts, m, go_backwards=go_backwards, return_sequences=return_sequences)
        results.append((y.numpy(), [g.numpy() for g in engine.grad(y, ts, grad_outputs=w)]))
    (y1, g1), (y2, g2) = results
    np.testing.assert_allclose(y1, y2, rtol=1e-6, atol=1e-6)
    for a, b_ in zip(g1, g2):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b_, rtol=1e-5, atol=1e-5)


def test_inference_path_equals_training_path():
    """Under no_grad the op keeps one step's gates instead of all; the values are the same."""
    args = [Tensor(a.astype(np.float32), requires_grad=True) for a in (X, K, H0, C0)]
    mask = Tensor(MASK)
    with engine.no_grad():
        y0 = ops.lstm_sequence(*args, mask=mask)
    y1 = ops.lstm_sequence(*args, mask=mask)
    assert y1.requires_grad and not y0.requires_grad
    np.testing.assert_array_equal(y0.numpy(), y1.numpy())


def test_saturated_gates_stay_finite():
    """Huge pre-activations saturate the gates without overflow warnings or NaNs."""
    x = Tensor((X * 1e4).astype(np.float32), requires_grad=True)
    y = ops.lstm_sequence(x, K.astype(np.float32), ZERO.astype(np.float32),
                          ZERO.astype(np.float32))
    (g,) = engine.grad(y, [x], grad_outputs=np.ones(y.shape, np.float32))
    assert np.isfinite(y.numpy()).all() and np.isfinite(g.numpy()).all()


def test_bad_shapes_say_what_was_received():
    with pytest.raises(ValueError, match="Received: x_proj.shape"):
        ops.lstm_sequence(X[:, :, :7], K, H0, C0)
    with pytest.raises(ValueError, match="mask.shape=\\(3, 4\\)"):
        ops.lstm_sequence(X, K, H0, C0, mask=MASK[:, :4])
    with pytest.raises(ValueError, match="bias.shape=\\(7,\\)"):
        ops.lstm_sequence(X, K, H0, C0, bias=BIAS[:7])
