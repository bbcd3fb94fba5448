"""ops.lstm (engine/ops/recurrent.py) on both providers: oneDNN's LSTM primitive
(engine/onednn_rnn.py) and the NumPy path (x @ kernel, then lstm_sequence).

Values and gradients are compared with a float64 NumPy LSTM written here (forward and
backpropagation through time by hand); the cases oneDNN does not take must give exactly what
the two ops applied one after the other give. The oneDNN half skips where the library
cannot load.
"""
import numpy as np
import pytest

import engine
from engine import Tensor, onednn, onednn_rnn, ops
from engine.gradcheck import check_grad

needs_onednn = pytest.mark.skipif(not onednn.available(), reason="libdnnl.so.3 does not load here")
PROVIDERS = [pytest.param("1", marks=needs_onednn, id="onednn"), pytest.param("0", id="numpy")]
# (batch, time, features, units): batch 1, one step, units not a multiple of 8
SHAPES = [(3, 5, 7, 6), (1, 1, 4, 3), (2, 4, 16, 13), (1, 6, 3, 5)]


@pytest.fixture
def provider(request, monkeypatch):
    monkeypatch.setenv(onednn.ENV_VAR, request.param)
    return request.param


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def reference_lstm(x, k, rk, h0, c0, b, gh, gc, go_backwards=False):
    """float64 (h, c, gx, gk, grk, gb, gh0, gc0): the final states of Keras's LSTM (gates
    i, f, c, o) and the gradients of sum(h * gh + c * gc)."""
    x, k, rk, h, c, b = [np.asarray(a, np.float64) for a in (x, k, rk, h0, c0, b)]
    steps = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    saved = []
    for t in steps:
        z = np.split(x[:, t] @ k + h @ rk + b, 4, axis=1)
        i, f, g, o = _sigmoid(z[0]), _sigmoid(z[1]), np.tanh(z[2]), _sigmoid(z[3])
        c_new = f * c + i * g
        saved.append((t, h, c, i, f, g, o, np.tanh(c_new)))
        h, c = o * np.tanh(c_new), c_new
    dh, dc = np.asarray(gh, np.float64), np.asarray(gc, np.float64)
    gx, gk, grk, gb = np.zeros_like(x), np.zeros_like(k), np.zeros_like(rk), np.zeros_like(b)
    for t, h_prev, c_prev, i, f, g, o, tc in reversed(saved):
        dc = dc + dh * o * (1 - tc ** 2)
        dz = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                             dc * i * (1 - g ** 2), dh * tc * o * (1 - o)], axis=1)
        gx[:, t] = dz @ k.T
        gk += x[:, t].T @ dz
        grk += h_prev.T @ dz
        gb += dz.sum(axis=0)
        dh, dc = dz @ rk.T, dc * f
    return h, c, gx, gk, grk, gb, dh, dc


def _inputs(batch, steps, features, units, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)

    def normal(*shape, scale=1.0):
        return (scale * rng.standard_normal(shape)).astype(dtype)

    return [normal(batch, steps, features), normal(features, 4 * units, scale=0.4),
            normal(units, 4 * units, scale=0.4), normal(batch, units), normal(batch, units),
            normal(4 * units, scale=0.5)]


def _run(arrays, weighting, **kwargs):
    """ops.lstm's value and its gradients (x, kernel, recurrent kernel, bias, h0, c0) of
    sum(y * weighting); a None bias is left out."""
    ts = [None if a is None else Tensor(a, requires_grad=True) for a in arrays]
    x, k, rk, h0, c0, b = ts
    y = ops.lstm(x, k, rk, h0, c0, bias=b, **kwargs)
    wanted = [t for t in (x, k, rk, b, h0, c0) if t is not None]
    grads = engine.grad(y, wanted, grad_outputs=weighting)
    return [y.numpy()] + [g.numpy() for g in grads]


@pytest.mark.parametrize("provider", PROVIDERS, indirect=True)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
def test_final_states_and_gradients_match_the_float64_reference(provider, shape, go_backwards):
    arrays = _inputs(*shape)
    batch, units = shape[0], shape[3]
    weighting = np.random.default_rng(1).standard_normal((batch, 2 * units)).astype(np.float32)
    got = _run(arrays, weighting, go_backwards=go_backwards, return_sequences=False)
    h, c, gx, gk, grk, gb, gh0, gc0 = reference_lstm(
        *arrays, weighting[:, :units], weighting[:, units:], go_backwards=go_backwards)
    want = [np.concatenate([h, c], axis=1), gx, gk, grk, gb, gh0, gc0]
    assert got[0].dtype == np.float32 and got[0].shape == (batch, 2 * units)
    for name, a, b in zip(["y", "x", "kernel", "recurrent", "bias", "h0", "c0"], got, want):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5, err_msg=name)


@pytest.mark.parametrize("provider", PROVIDERS, indirect=True)
def test_without_bias(provider):
    arrays = _inputs(2, 4, 5, 3)
    weighting = np.random.default_rng(2).standard_normal((2, 6)).astype(np.float32)
    got = _run(arrays[:5] + [None], weighting, return_sequences=False)
    h, c, gx, gk, grk, _, gh0, gc0 = reference_lstm(*arrays[:5], np.zeros(12), weighting[:, :3],
                                                    weighting[:, 3:])
    for a, b in zip(got, [np.concatenate([h, c], axis=1), gx, gk, grk, gh0, gc0]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)


@needs_onednn
def test_onednn_runs_the_standard_case_forward_and_backward(monkeypatch):
    monkeypatch.setenv(onednn.ENV_VAR, "1")
    calls = []
    for name in ("lstm_forward", "lstm_backward"):
        original = getattr(onednn_rnn, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            out = _original(*args, **kwargs)
            calls.append((_name, out is not None))
            return out

        monkeypatch.setattr(onednn_rnn, name, spy)
    arrays = _inputs(2, 3, 4, 5)
    _run(arrays, np.ones((2, 10), np.float32), return_sequences=False)
    assert calls == [("lstm_forward", True), ("lstm_backward", True)]
    with engine.no_grad():  # inference: the forward alone, no workspace kept
        y = ops.lstm(*arrays[:5], bias=arrays[5], return_sequences=False)
    assert calls[2] == ("lstm_forward", True) and len(calls) == 3
    np.testing.assert_allclose(y.numpy(), _run(arrays, np.ones((2, 10), np.float32),
                                               return_sequences=False)[0], rtol=1e-6, atol=1e-7)


@needs_onednn
def test_workspace_is_kept_while_the_graph_lives_and_reused_after(monkeypatch):
    monkeypatch.setenv(onednn.ENV_VAR, "1")
    arrays, weighting = _inputs(2, 3, 4, 5, seed=9), np.ones((2, 10), np.float32)
    ts = [Tensor(a, requires_grad=True) for a in arrays]
    y = ops.lstm(*ts[:5], bias=ts[5], return_sequences=False)
    first = engine.grad(y, ts, grad_outputs=weighting, retain_graph=True)
    other = _run(_inputs(2, 3, 4, 5, seed=10), weighting, return_sequences=False)  # same shape
    second = engine.grad(y, ts, grad_outputs=weighting)
    _assert_same([g.numpy() for g in first], [g.numpy() for g in second])
    assert not np.array_equal(other[1], second[0].numpy())
    (entry,) = [v for k, v in onednn._cache.items() if k[:2] == ("lstm", (2, 3, 4)) and k[-2]]
    del y
    spare = list(entry.spare)
    assert spare  # the graph is gone: its workspace waits for the next step
    _run(arrays, weighting, return_sequences=False)
    assert any(a is b for a in entry.spare for b in spare)


def _composite(arrays, weighting, mask=None, **kwargs):
    """x @ kernel then lstm_sequence (the path before ops.lstm): value and gradients."""
    ts = [Tensor(a, requires_grad=True) for a in arrays]
    x, k, rk, h0, c0, b = ts
    batch, steps, features = x.shape
    proj = ops.reshape(ops.matmul(ops.reshape(x, (batch * steps, features)), k),
                       (batch, steps, k.shape[1]))
    y = ops.lstm_sequence(proj, rk, h0, c0, bias=b, mask=mask, **kwargs)
    grads = engine.grad(y, [x, k, rk, b, h0, c0], grad_outputs=weighting)
    return [y.numpy()] + [g.numpy() for g in grads]


def _assert_same(got, want):
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", ["forced", "refused"])
def test_fallback_is_bitwise_the_two_ops(case, monkeypatch):
    if case == "forced":
        monkeypatch.setenv(onednn.ENV_VAR, "0")
    else:  # oneDNN declines the case (a primitive it refuses): the op runs the NumPy path
        monkeypatch.setattr(onednn_rnn, "lstm_forward", lambda *a, **k: None)
    arrays = _inputs(3, 4, 5, 6)
    weighting = np.random.default_rng(3).standard_normal((3, 12)).astype(np.float32)
    _assert_same(_run(arrays, weighting, return_sequences=False),
                 _composite(arrays, weighting, return_sequences=False))


@pytest.mark.parametrize("kwargs", [
    {"mask": True, "return_sequences": False},
    {"mask": True, "return_sequences": True, "go_backwards": True},
    {"return_sequences": True},
    {"return_sequences": True, "go_backwards": True},
    {"return_sequences": False, "dtype": np.float64},
], ids=["mask", "mask_backwards_sequences", "sequences", "backwards_sequences", "float64"])
def test_cases_onednn_does_not_take_are_the_two_ops(kwargs, monkeypatch):
    monkeypatch.setenv(onednn.ENV_VAR, "1")
    kwargs = dict(kwargs)
    arrays = _inputs(3, 4, 5, 6, dtype=kwargs.pop("dtype", np.float32))
    mask = np.array([[1, 0, 1, 1], [0, 1, 1, 0], [1, 1, 1, 1]], bool) if kwargs.pop(
        "mask", False) else None
    shape = (3, 4, 12) if kwargs["return_sequences"] else (3, 12)
    weighting = np.random.default_rng(4).standard_normal(shape).astype(arrays[0].dtype)
    _assert_same(_run(arrays, weighting, mask=mask, **kwargs),
                 _composite(arrays, weighting, mask=mask, **kwargs))


@pytest.mark.parametrize("return_sequences", [False, True])
def test_gradients_match_finite_differences(return_sequences):
    # float64: the NumPy path
    arrays = _inputs(2, 3, 4, 3, seed=5, dtype=np.float64)
    check_grad(lambda x, k, rk, h0, c0, b: ops.lstm(x, k, rk, h0, c0, bias=b,
                                                    return_sequences=return_sequences), *arrays)


def test_shapes_are_checked():
    x, k, rk, h0, c0, b = _inputs(2, 3, 4, 5)
    with pytest.raises(ValueError, match="Received: x.shape=.2, 3, 4., kernel.shape=.5, 20."):
        ops.lstm(x, np.zeros((5, 20), np.float32), rk, h0, c0)  # 5 features, x has 4
    with pytest.raises(ValueError, match=r"lstm: expects x@kernel .* Received: x@kernel"):
        ops.lstm(x, k, rk, h0[:1], c0)


@pytest.mark.parametrize("provider", PROVIDERS, indirect=True)
def test_compiled_step_replays_bitwise_the_eager_step(provider):
    rng = np.random.default_rng(6)
    variables = [Tensor(a, requires_grad=True) for a in _inputs(4, 5, 6, 7)[1:3]]
    k, rk = variables

    def fn(inputs):
        (x,) = inputs
        h0 = c0 = Tensor(np.zeros((x.shape[0], 7), np.float32))
        y = ops.lstm(x, k, rk, h0, c0, return_sequences=False)
        return [ops.mean(ops.square(y)), y]

    step = engine.jit.value_and_grad(fn, variables)
    for _ in range(4):
        x = Tensor(rng.standard_normal((4, 5, 6)).astype(np.float32))
        (loss, y), grads = step([x])
        expected = fn([x])
        np.testing.assert_array_equal(loss.numpy(), expected[0].numpy())
        for got, want in zip(grads, engine.grad(expected[0], variables)):
            np.testing.assert_array_equal(got, want.numpy())
    assert step.replays == 2
    assert all(type(p).__name__ == "Plan" for p in step.plans.values())


@pytest.mark.parametrize("provider", PROVIDERS, indirect=True)
def test_compiled_fit_of_an_lstm_model_keeps_its_plan(provider):
    import kerasish as keras  # the Keras side of a compiled step (W3's model, small)
    from engine._plan import Plan

    rng = np.random.default_rng(7)
    x, y = rng.integers(0, 50, (40, 6)), rng.integers(0, 2, (40, 1)).astype(np.float32)
    results = []
    for jit in (False, True):
        keras.utils.set_random_seed(8)
        model = keras.Sequential([keras.Input((6,), dtype="int32"),
                                  keras.layers.Embedding(50, 8), keras.layers.LSTM(5),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy", jit_compile=jit)
        history = model.fit(x, y, batch_size=8, epochs=2, verbose=0).history
        results.append((history, model.get_weights()))
    steps = model.__dict__["_compiled_steps"].values()
    assert sum(s.compiled.replays for s in steps) > 0
    assert all(isinstance(p, Plan) for s in steps for p in s.compiled.plans.values())
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1], strict=True):
        np.testing.assert_array_equal(a, b)


@needs_onednn
@pytest.mark.parametrize("training", [False, True])
def test_a_thread_runs_the_shape_another_thread_ran_first(monkeypatch, training):
    # a served model: its first request in one thread, the next ones in a pool's threads
    import threading

    monkeypatch.setenv(onednn.ENV_VAR, "1")
    arrays = _inputs(2, 3, 4, 8, seed=3)
    weighting = np.random.default_rng(4).standard_normal((2, 16)).astype(np.float32)
    results = [_run(arrays, weighting, return_sequences=False) if training else None]

    def run():
        if training:
            results.append(_run(arrays, weighting, return_sequences=False))
        else:
            with engine.no_grad():
                ts = [Tensor(a) for a in arrays]
                results.append(ops.lstm(*ts, return_sequences=False).numpy())

    run()
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    for a, b in zip(results[-2], results[-1]):
        np.testing.assert_array_equal(a, b)
