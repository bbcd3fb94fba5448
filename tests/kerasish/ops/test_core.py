"""kerasish.ops core and math parts: conversions, scatter/slice, control flow, custom gradients,
segments, top-k, special functions and the FFT family, against NumPy closed forms."""
import math

import numpy as np
import pytest

import engine
from engine import Tensor
from engine.gradcheck import check_grad
from kerasish import ops
from kerasish.symbolic import KerasTensor

R = np.random.default_rng(0)
X = R.standard_normal((3, 5))
SEG = np.array([0, 2, 0, 1, 2])


def _grads(fn, *arrays):
    ts = [Tensor(a, requires_grad=True) for a in arrays]
    return [g.numpy() for g in engine.grad(fn(*ts), ts,
                                           grad_outputs=np.ones(fn(*arrays).shape))]


# -- tensors and dtypes ---------------------------------------------------------------------

def test_conversions_and_queries():
    assert ops.convert_to_tensor([1, 2]).dtype == np.int32
    assert ops.convert_to_tensor([1.0]).dtype == np.float32
    assert ops.convert_to_tensor(np.zeros(2), dtype="float16").dtype == np.float16
    t = ops.convert_to_tensor(X)
    assert ops.is_tensor(t) and not ops.is_tensor(X)
    assert ops.dtype(t) == "float64" and ops.shape(t) == (3, 5)
    assert ops.shape(KerasTensor((None, 4))) == (None, 4)
    np.testing.assert_array_equal(ops.convert_to_numpy(t), X)
    np.testing.assert_array_equal(ops.cast(X, "int32").numpy(), X.astype(np.int32))
    y = ops.saturate_cast(np.array([-5.0, 100.7, 300.0]), "uint8").numpy()
    assert y.dtype == np.uint8 and y.tolist() == [0, 100, 255]
    with pytest.raises(ValueError, match="sparse"):
        ops.convert_to_tensor(X, sparse=True)


def test_stop_gradient_and_unstack():
    assert np.all(_grads(lambda t: ops.stop_gradient(t) * t, X)[0] == X)
    parts = ops.unstack(X, axis=1)
    assert len(parts) == 5 and np.array_equal(parts[2].numpy(), X[:, 2])
    with pytest.raises(ValueError, match="num"):
        ops.unstack(X, num=2)


# -- slices and scatters --------------------------------------------------------------------

def test_slice_and_slice_update():
    np.testing.assert_array_equal(ops.slice(X, (1, 2), (2, 2)).numpy(), X[1:3, 2:4])
    u = R.standard_normal((2, 2))
    ref = X.copy()
    ref[1:3, 2:4] = u
    np.testing.assert_array_equal(ops.slice_update(X, (1, 2), u).numpy(), ref)
    check_grad(lambda x, v: ops.slice_update(x, (1, 2), v), X, u)


def test_scatter_adds_repeats():
    y = ops.scatter(np.array([[0, 1], [2, 0], [0, 1]]), np.array([1.0, 2.0, 3.0]), (3, 2))
    np.testing.assert_array_equal(y.numpy(), [[0, 4], [0, 0], [2, 0]])
    rows = ops.scatter(np.array([[0], [2]]), X[:2], (4, 5)).numpy()
    np.testing.assert_array_equal(rows[[0, 2]], X[:2])
    check_grad(lambda v: ops.scatter(np.array([[0, 1], [2, 0], [0, 1]]), v, (3, 2)),
               np.array([1.0, 2.0, 3.0]))


@pytest.mark.parametrize("reduction,ufunc", [(None, None), ("add", np.add),
                                             ("max", np.maximum), ("min", np.minimum),
                                             ("mul", np.multiply)])
def test_scatter_update(reduction, ufunc):
    idx = np.array([[0, 1], [2, 3]])
    upd = np.array([9.0, -8.0])
    ref = X.copy()
    if ufunc is None:
        ref[0, 1], ref[2, 3] = upd
    else:
        ufunc.at(ref, (idx[:, 0], idx[:, 1]), upd)
    np.testing.assert_allclose(ops.scatter_update(X, idx, upd, reduction=reduction).numpy(), ref)
    check_grad(lambda x, u: ops.scatter_update(x, idx, u, reduction=reduction), X, upd)


# -- control flow ---------------------------------------------------------------------------

def test_cond_switch_loops():
    assert ops.cond(np.array(True), lambda: 1, lambda: 2) == 1
    assert ops.switch(7, [lambda x: x + 1, lambda x: x * 10], 3) == 30  # clamped to the last
    assert ops.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + i), (0, 0)) == (5, 10)
    assert ops.while_loop(lambda i: i < 100, lambda i: i + 1, 0, maximum_iterations=7) == 7
    assert ops.fori_loop(2, 5, lambda i, v: v * i, 1) == 24
    with pytest.raises(ValueError, match="eagerly"):
        ops.cond(KerasTensor(()), lambda: 1, lambda: 2)


def test_scan_map_and_gradients_through_them():
    def cumulative(x):
        carry, ys = ops.scan(lambda c, v: (c + v, c * v), Tensor(np.zeros(5)), x)
        return carry + ops.sum(ys, axis=0)

    carry, ys = ops.scan(lambda c, v: (c + v, c * v), np.zeros(5), X)
    np.testing.assert_allclose(carry.numpy(), X.sum(0))
    prefix = np.concatenate([np.zeros((1, 5)), np.cumsum(X, 0)[:-1]])
    np.testing.assert_allclose(ys.numpy(), prefix * X)
    check_grad(cumulative, X)
    c, ys = ops.scan(lambda c, v: (c + 1, None), 0, length=4, reverse=True)
    assert c == 4 and ys is None
    y = ops.map(lambda r: {"s": ops.sum(r), "m": ops.max(r)}, X)
    np.testing.assert_allclose(y["s"].numpy(), X.sum(1))
    np.testing.assert_allclose(ops.vectorized_map(lambda r: r * 2, X).numpy(), X * 2)


def test_associative_scan():
    np.testing.assert_allclose(ops.associative_scan(lambda a, b: a + b, X, axis=1).numpy(),
                               np.cumsum(X, 1))
    y = ops.associative_scan(lambda a, b: a * b, X, reverse=True).numpy()
    np.testing.assert_allclose(y, np.cumprod(X[::-1], 0)[::-1])
    pair = ops.associative_scan(lambda a, b: (a[0] + b[0], ops.maximum(a[1], b[1])), (X, X))
    np.testing.assert_allclose(pair[1].numpy(), np.maximum.accumulate(X, 0))


def test_custom_gradient_uses_the_given_gradient():
    @ops.custom_gradient
    def square_with_fake_grad(x):
        def grad(upstream):
            return upstream * 10.0
        return x * x, grad

    g = _grads(square_with_fake_grad, X)[0]
    np.testing.assert_array_equal(g, np.full_like(X, 10.0))

    @ops.custom_gradient
    def two(x, y):
        def grad(upstream):
            return upstream[0] + upstream[1], upstream[1] * 3.0
        return (x + y, x * y), grad

    xs, ys = Tensor(X, requires_grad=True), Tensor(X + 1, requires_grad=True)
    a, b = two(xs, ys)
    np.testing.assert_allclose(a.numpy(), 2 * X + 1)
    gx, gy = engine.grad(ops.sum(a) + ops.sum(b), [xs, ys])
    np.testing.assert_array_equal(gx.numpy(), np.full_like(X, 2.0))
    np.testing.assert_array_equal(gy.numpy(), np.full_like(X, 3.0))


def test_rearrange():
    x = R.standard_normal((2, 6, 3))
    y = ops.rearrange(x, "b (h w) c -> b c h w", h=2)
    np.testing.assert_array_equal(y.numpy(), x.reshape(2, 2, 3, 3).transpose(0, 3, 1, 2))
    assert ops.rearrange(x, "b s c -> (b s) c").shape == (12, 3)
    assert ops.rearrange(KerasTensor((None, 6, 3)), "b (h w) c -> b c h w", w=3).shape == (
        None, 3, 2, 3)
    with pytest.raises(ValueError, match="same axes"):
        ops.rearrange(x, "b s c -> b s")


# -- math -----------------------------------------------------------------------------------

def _segment_ref(data, ids, n, ufunc, init):
    out = np.full((n,) + data.shape[1:], init)
    for i, s in enumerate(ids):
        if 0 <= s < n:
            out[s] = ufunc(out[s], data[i])
    return out


@pytest.mark.parametrize("name,ufunc,init", [("segment_sum", np.add, 0.0),
                                             ("segment_max", np.maximum, -np.inf),
                                             ("segment_min", np.minimum, np.inf),
                                             ("segment_prod", np.multiply, 1.0)])
def test_segments(name, ufunc, init):
    fn = getattr(ops, name)
    np.testing.assert_allclose(fn(X.T, SEG).numpy(), _segment_ref(X.T, SEG, 3, ufunc, init))
    ids = np.array([0, -1, 0, 3, 2])  # -1 is dropped; segment 1 stays empty
    np.testing.assert_allclose(fn(X.T, ids, num_segments=4).numpy(),
                               _segment_ref(X.T, ids, 4, ufunc, init))
    check_grad(lambda t: fn(t, SEG), X.T)
    assert fn(KerasTensor((None, 3)), SEG, num_segments=3).shape == (3, 3)


def test_top_k_and_in_top_k():
    values, indices = ops.top_k(X, 2)
    order = np.argsort(-X, axis=-1, kind="stable")[:, :2]
    np.testing.assert_array_equal(indices.numpy(), order)
    assert indices.dtype == np.int32
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(X, order, -1))
    check_grad(lambda t: ops.top_k(t, 3)[0], X)
    hit = ops.in_top_k(np.array([order[0, 0], order[1, 1], order[2, -1]]), X, 2).numpy()
    assert hit.tolist() == [True, True, True]
    assert ops.in_top_k(np.array([order[0, 0]]), -X[:1], 1).numpy().tolist() == [False]
    with pytest.raises(ValueError, match="k=6"):
        ops.top_k(X, 6)


ELEMENTWISE = [
    ("logsumexp", {"axis": 1}, lambda x: np.log(np.exp(x).sum(1))),
    ("rsqrt", {}, lambda x: 1 / np.sqrt(np.abs(x) + 0.5)),
    ("erf", {}, np.vectorize(math.erf)),
    ("erfc", {}, np.vectorize(math.erfc)),
]


@pytest.mark.parametrize("name,kwargs,ref", ELEMENTWISE, ids=[e[0] for e in ELEMENTWISE])
def test_elementwise_math(name, kwargs, ref):
    x = np.abs(X) + 0.5 if name == "rsqrt" else X
    np.testing.assert_allclose(getattr(ops, name)(x.astype(np.float32), **kwargs).numpy(),
                               ref(X), rtol=1e-5, atol=1e-6)
    check_grad(lambda t: getattr(ops, name)(t, **kwargs), x)


def test_erfinv_logdet_cdist():
    p = np.tanh(X)
    np.testing.assert_allclose(ops.erf(ops.erfinv(p)).numpy(), p, atol=1e-12)
    a = R.standard_normal((2, 3, 3))
    spd = a @ a.transpose(0, 2, 1) + np.eye(3)
    np.testing.assert_allclose(ops.logdet(spd).numpy(), np.linalg.slogdet(spd)[1])
    check_grad(ops.logdet, spd)
    d = ops.cdist(X, X[:2] + 1).numpy()
    np.testing.assert_allclose(d, np.linalg.norm(X[:, None] - X[None, :2] - 1, axis=-1))
    check_grad(ops.cdist, X, X[:2] + 1)


def test_complex_views():
    z = X + 1j * X[::-1]
    np.testing.assert_array_equal(ops.view_as_real(z).numpy(), np.stack([z.real, z.imag], -1))
    np.testing.assert_array_equal(ops.view_as_complex(np.stack([X, X * 2], -1)).numpy(),
                                  X + 2j * X)


# -- FFT family -----------------------------------------------------------------------------

@pytest.mark.parametrize("name,ref", [("fft", np.fft.fft), ("fft2", np.fft.fft2),
                                      ("ifft2", np.fft.ifft2)])
def test_fft(name, ref):
    real, imag = getattr(ops, name)((X, X * 2))
    z = ref(X + 2j * X)
    np.testing.assert_allclose(real.numpy(), z.real, atol=1e-12)
    np.testing.assert_allclose(imag.numpy(), z.imag, atol=1e-12)


@pytest.mark.parametrize("n", [None, 8, 4])
def test_rfft_irfft(n):
    real, imag = ops.rfft(X, fft_length=n)
    z = np.fft.rfft(X, n=n)
    np.testing.assert_allclose(real.numpy(), z.real, atol=1e-12)
    np.testing.assert_allclose(imag.numpy(), z.imag, atol=1e-12)
    back = ops.irfft((X, X * 2), fft_length=n if n is None else n - 1).numpy()
    np.testing.assert_allclose(back, np.fft.irfft(X + 2j * X, n=n if n is None else n - 1),
                               atol=1e-12)
    check_grad(lambda t: ops.rfft(t, fft_length=n)[1], X)
    check_grad(lambda a, b: ops.irfft((a, b), fft_length=7), X, X * 2)


def _stft_ref(x, length, step, n, center=True):
    if center:
        x = np.pad(x, [(0, 0), (n // 2, n // 2)], mode="reflect")
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / length)
    win = np.pad(win, ((n - length) // 2, n - length - (n - length) // 2))
    frames = [x[:, s:s + n] * win for s in range(0, x.shape[1] - n + 1, step)]
    return np.fft.rfft(np.stack(frames, 1), n=n)


def test_extract_sequences_stft_istft():
    sig = R.standard_normal((2, 40))
    frames = ops.extract_sequences(sig, 8, 3).numpy()
    np.testing.assert_array_equal(frames, np.stack([sig[:, s:s + 8] for s in range(0, 33, 3)],
                                                   1))
    check_grad(lambda t: ops.extract_sequences(t, 6, 4), sig)
    for length, step, n, center in [(8, 4, 8, True), (6, 3, 8, False)]:
        real, imag = ops.stft(sig, length, step, n, center=center)
        z = _stft_ref(sig, length, step, n, center)
        np.testing.assert_allclose(real.numpy(), z.real, atol=1e-12)
        np.testing.assert_allclose(imag.numpy(), z.imag, atol=1e-12)
    real, imag = ops.stft(sig, 16, 4, 16)
    np.testing.assert_allclose(ops.istft((real, imag), 16, 4, 16, length=40).numpy(), sig,
                               atol=1e-12)
    check_grad(lambda t: ops.stft(t, 8, 4, 8)[0], sig)
    check_grad(lambda a, b: ops.istft((a, b), 8, 4, 8), real.numpy()[:, :, :5],
               imag.numpy()[:, :, :5])


def test_math_specs():
    kt = KerasTensor((None, 40))
    real, imag = ops.stft(kt, 8, 4, 8)
    assert real.shape == (None, 11, 5) and imag.shape == (None, 11, 5)
    assert ops.istft((real, imag), 8, 4, 8).shape == (None, 40)
    assert ops.rfft(kt)[0].shape == (None, 21)
    assert ops.irfft((KerasTensor((None, 21)),) * 2).shape == (None, 40)
    assert ops.extract_sequences(kt, 8, 3).shape == (None, 11, 8)
    values, indices = ops.top_k(KerasTensor((None, 7)), 3)
    assert values.shape == indices.shape == (None, 3) and indices.dtype == "int32"
    assert ops.cast(kt, "int8").dtype == "int8"
    assert ops.logsumexp(kt, axis=1).shape == (None,)


def test_unstack_spec():
    parts = ops.unstack(KerasTensor((None, 3)), axis=1)
    assert [p.shape for p in parts] == [(None,)] * 3
    assert [p.shape for p in ops.unstack(KerasTensor((None, 3)), num=2)] == [(3,)] * 2
    with pytest.raises(ValueError, match="known size"):
        ops.unstack(KerasTensor((None, 3)))


@pytest.mark.parametrize("call", [
    lambda kt: ops.map(lambda r: r, kt), lambda kt: ops.scan(lambda c, v: (c, v), 0, kt),
    lambda kt: ops.associative_scan(lambda a, b: a + b, kt),
    lambda kt: ops.while_loop(lambda v: True, lambda v: v, kt)])
def test_control_flow_on_keras_tensors_says_eager(call):
    with pytest.raises(ValueError, match="eagerly"):
        call(KerasTensor((None, 3)))


def test_scatter_update_repeated_index_keeps_the_last():
    y = ops.scatter_update(np.zeros((2, 2)), np.array([[0, 1], [1, 1], [0, 1]]),
                           np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(y.numpy(), [[0, 3], [0, 2]])
