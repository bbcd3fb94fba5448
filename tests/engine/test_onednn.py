"""The oneDNN kernel provider (engine/onednn.py) against the NumPy reference path.

Every case runs float32 through both providers and compares them, and compares values and
gradients with the float64 reference (the im2col path, whose gradients test_ops_conv.py and
test_ops_pooling.py check numerically). The oneDNN half skips where the library cannot load.
"""
import importlib

import numpy as np
import pytest

import engine
from engine import Tensor, onednn, ops
from tests.engine.test_ops_conv import ref_conv, ref_conv_transpose, ref_depthwise
from tests.engine.test_ops_pooling import reference_pool

conv_module = importlib.import_module("engine.ops.conv")
pool_module = importlib.import_module("engine.ops.pooling")
needs_onednn = pytest.mark.skipif(not onednn.available(), reason="libdnnl.so.3 does not load here")
PROVIDERS = [pytest.param("1", marks=needs_onednn, id="onednn"), pytest.param("0", id="numpy")]


@pytest.fixture
def provider(request, monkeypatch):
    monkeypatch.setenv(onednn.ENV_VAR, request.param)
    return request.param


def _values_and_grads(fn, arrays, dtype, seed=0):
    """fn(*arrays) and the gradient of sum(fn * r) for a fixed random r, in ``dtype``."""
    ts = [Tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    y = fn(*ts)
    r = np.random.default_rng(seed).standard_normal(y.shape).astype(dtype)
    grads = engine.grad(y, ts, grad_outputs=r)
    return [y.numpy()] + [g.numpy() if hasattr(g, "numpy") else np.asarray(g) for g in grads]


def _agree(fn, arrays, reference=None):
    """float32 values and gradients equal float64's (and ``reference``'s value) to 1e-4."""
    got = _values_and_grads(fn, arrays, np.float32)
    want = _values_and_grads(fn, arrays, np.float64)
    for g, w in zip(got, want):
        assert g.dtype == np.float32 and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=2e-4, atol=2e-4 * max(1.0, np.abs(w).max()))
    if reference is not None:
        want = reference(*[a.astype(np.float64) for a in arrays])
        np.testing.assert_allclose(got[0], want, rtol=2e-4, atol=2e-4 * np.abs(want).max())


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


CONVS = [  # x shape, kernel shape, strides, padding, dilation
    ((2, 11, 3), (3, 3, 5), 1, "same", 1),
    ((2, 12, 4), (4, 2, 6), 3, "valid", 1),
    ((2, 9, 9, 1), (5, 5, 1, 8), 1, "same", 1),
    ((2, 9, 8, 3), (3, 3, 3, 4), 2, "same", 1),
    ((2, 10, 11, 8), (3, 2, 8, 6), (2, 1), "valid", 1),
    ((1, 12, 12, 4), (3, 3, 4, 5), 1, "same", 2),
    ((2, 7, 7, 6), (1, 1, 6, 4), 1, "valid", 1),
    ((2, 8, 8, 6), (3, 3, 2, 9), 1, "same", 1),  # grouped: 3 groups
    ((2, 5, 6, 7, 3), (2, 3, 2, 3, 4), 1, "same", 1),
    ((1, 6, 7, 5, 2), (3, 2, 2, 2, 3), 2, "valid", 1),
]


@pytest.mark.parametrize("provider", PROVIDERS, indirect=True)
@pytest.mark.parametrize("xs, ks, s, padding, d", CONVS)
def test_conv_equals_the_reference(provider, xs, ks, s, padding, d):
    def fn(x, w):
        return ops.conv(x, w, strides=s, padding=padding, dilation_rate=d)

    _agree(fn, [_rand(*xs, seed=1), _rand(*ks, seed=2)],
           lambda x, w: ref_conv(x, w, s, padding, d))


@pytest.mark.parametrize("provider", PROVIDERS, indirect=True)
@pytest.mark.parametrize("xs, ks, s, padding", [
    ((2, 9, 9, 3), (3, 3, 3, 2), 1, "same"),
    ((2, 10, 9, 4), (5, 5, 4, 1), 2, "same"),
    ((2, 13, 3), (3, 3, 2), 2, "valid"),
])
def test_depthwise_conv_equals_the_reference(provider, xs, ks, s, padding):
    def fn(x, w):
        return ops.depthwise_conv(x, w, strides=s, padding=padding)

    _agree(fn, [_rand(*xs, seed=3), _rand(*ks, seed=4)],
           lambda x, w: ref_depthwise(x, w, s, padding))


@pytest.mark.parametrize("provider", PROVIDERS, indirect=True)
@pytest.mark.parametrize("xs, ks, s, padding, output_padding", [
    ((2, 4, 5, 4), (3, 3, 2, 4), 2, "same", None),
    ((2, 4, 4, 3), (3, 3, 5, 3), 2, "valid", 1),
    ((2, 5, 3), (4, 3, 3), 3, "valid", None),
    ((1, 3, 4, 3, 2), (2, 3, 2, 3, 2), 2, "same", None),
])
def test_conv_transpose_equals_the_reference(provider, xs, ks, s, padding, output_padding):
    def fn(x, w):
        return ops.conv_transpose(x, w, strides=s, padding=padding,
                                  output_padding=output_padding)

    _agree(fn, [_rand(*xs, seed=5), _rand(*ks, seed=6)],
           lambda x, w: ref_conv_transpose(x, w, s, padding, output_padding))


POOLS = [  # x shape, pool, strides, padding
    ((2, 9, 3), 3, 2, "same"),
    ((2, 8, 8, 3), 2, None, "valid"),
    ((2, 9, 9, 4), 3, 2, "valid"),
    ((2, 9, 8, 4), 3, 1, "same"),
    ((2, 7, 7, 2), (3, 2), (2, 1), "same"),
    ((1, 5, 6, 5, 2), 2, None, "same"),
]


@pytest.mark.parametrize("provider", PROVIDERS, indirect=True)
@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize("xs, pool, s, padding", POOLS)
def test_pooling_equals_the_reference(provider, kind, xs, pool, s, padding):
    fn = getattr(ops, f"{kind}_pool")
    _agree(lambda x: fn(x, pool, s, padding), [_rand(*xs, seed=9)],
           lambda x: reference_pool(x, pool, s, padding, kind))


@pytest.mark.parametrize("provider", PROVIDERS, indirect=True)
def test_pooling_ties_and_overlaps_route_as_keras(provider):
    (g,) = _values_and_grads(lambda t: ops.max_pool(t, 2), [np.ones((1, 4, 4, 1))],
                             np.float32)[1:]
    expected = np.zeros((4, 4), np.float32)
    expected[::2, ::2] = 1  # the first maximum of each window takes its gradient
    np.testing.assert_array_equal(g[0, :, :, 0] != 0, expected != 0)
    x = Tensor(np.array([0.0, 1.0, 5.0, 1.0, 0.0, 2.0], np.float32).reshape(1, 6, 1),
               requires_grad=True)
    (g,) = engine.grad(ops.max_pool(x, 3, 1), [x], grad_outputs=np.ones((1, 4, 1), np.float32))
    np.testing.assert_array_equal(g.numpy().ravel(), [0, 0, 3, 0, 0, 1])
    y = ops.average_pool(np.ones((1, 5, 5, 1), np.float32), 3, 1, "same")
    np.testing.assert_allclose(y.numpy(), 1.0, rtol=1e-6)  # padding never counts


@pytest.mark.parametrize("provider", PROVIDERS, indirect=True)
@pytest.mark.parametrize("shape, affine", [
    ((6, 5), (True, True)),
    ((2, 7, 4), (True, False)),
    ((3, 5, 4, 6), (False, True)),
    ((2, 3, 4, 3, 5), (False, False)),
])
def test_batch_normalization_train_equals_the_reference(provider, shape, affine):
    c = shape[-1]
    params = [_rand(c, seed=10) if affine[0] else None, _rand(c, seed=11) if affine[1] else None]
    present = [p for p in params if p is not None]

    def fn(x, *given):
        it = iter(given)
        offset, scale = [next(it) if p is not None else None for p in params]
        return ops.batch_normalization_train(x, -1, offset, scale, epsilon=1e-3)[0]

    x = _rand(*shape, seed=12) * 3 + 1

    def reference(x, *given):
        it = iter(given)
        offset, scale = [next(it) if p is not None else None for p in params]
        axes = tuple(range(x.ndim - 1))
        y = (x - x.mean(axes)) / np.sqrt(x.var(axes) + 1e-3)
        return y * (1 if scale is None else scale) + (0 if offset is None else offset)

    _agree(fn, [x] + present, reference)
    _, mean, var = ops.batch_normalization_train(x.astype(np.float32), -1)
    axes = tuple(range(x.ndim - 1))
    np.testing.assert_allclose(mean.numpy(), x.mean(axes), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(var.numpy(), x.var(axes), rtol=1e-4)
    assert mean.dtype == var.dtype == np.float32


@pytest.mark.parametrize("provider", PROVIDERS, indirect=True)
@pytest.mark.parametrize("shape, affine", [((5, 4, 6), (True, True)), ((3, 4, 4, 5), (False, True)),
                                           ((6, 3), (True, False))])
def test_batch_normalization_inference_equals_the_reference(provider, shape, affine):
    c = shape[-1]
    x, mean, var = _rand(*shape, seed=16), _rand(c, seed=17), np.abs(_rand(c, seed=18)) + 0.1
    offset = _rand(c, seed=19) if affine[0] else None
    scale = _rand(c, seed=20) if affine[1] else None
    want = (x - mean) / np.sqrt(var + 1e-3) * (1 if scale is None else scale) + (
        0 if offset is None else offset)
    f32 = [None if v is None else v.astype(np.float32) for v in (x, mean, var, offset, scale)]
    y = ops.batch_normalization(f32[0], f32[1], f32[2], -1, f32[3], f32[4], epsilon=1e-3)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-5)
    fn = importlib.import_module("engine.ops.normalization").BatchNormalization()
    fn.needs_input_grad = (False,) * 5
    inplace = f32[0].copy()
    out = fn.forward_(np, inplace, *f32[1:3], f32[3], f32[4], axis=-1, epsilon=1e-3)
    assert out is inplace
    np.testing.assert_array_equal(out, y.numpy())  # a plan replays the eager bits


# -- which provider runs ------------------------------------------------------------------------

def _refuse(*args, **kwargs):
    raise AssertionError("the NumPy path ran where oneDNN should have")


@needs_onednn
def test_float32_numpy_arrays_go_through_onednn(monkeypatch):
    monkeypatch.setenv(onednn.ENV_VAR, "1")
    for name in ("_conv_forward", "_conv_grad_input", "_conv_grad_kernel"):
        monkeypatch.setattr(conv_module, name, _refuse)
    _values_and_grads(lambda x, w: ops.conv(x, w, padding="same"),
                      [_rand(2, 6, 6, 3), _rand(3, 3, 3, 4)], np.float32)
    assert "onednn" in onednn.describe()


@pytest.fixture
def spy(monkeypatch):
    """Counts the NumPy path's forward convs."""
    calls = []
    real = conv_module._conv_forward

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(conv_module, "_conv_forward", counted)
    return calls


def test_float64_and_the_env_var_use_the_numpy_path(monkeypatch, spy):
    x, w = _rand(1, 5, 5, 2), _rand(3, 3, 2, 2)
    ops.conv(x, w)  # float64
    assert len(spy) == 1
    monkeypatch.setenv(onednn.ENV_VAR, "0")
    ops.conv(x.astype(np.float32), w.astype(np.float32))
    assert len(spy) == 2 and onednn.describe().startswith("numpy")


def test_a_missing_library_falls_back_to_numpy(monkeypatch, spy):
    loads = onednn.available()
    monkeypatch.setenv(onednn.ENV_VAR, "1")
    monkeypatch.setattr(onednn, "_library_paths", lambda: ["/nonexistent/libdnnl.so.3"])
    onednn.reset()
    try:
        assert not onednn.available() and not onednn.enabled()
        assert "oneDNN not loaded" in onednn.describe()
        x, w = _rand(2, 6, 6, 3, seed=7), _rand(3, 3, 3, 4, seed=8)
        _agree(lambda a, b: ops.conv(a, b, padding="same"), [x, w],
               lambda a, b: ref_conv(a, b, 1, "same"))
        assert spy
    finally:
        monkeypatch.undo()
        onednn.reset()
    assert onednn.available() == loads


@needs_onednn
def test_the_primitive_cache_is_bounded(monkeypatch):
    monkeypatch.setenv(onednn.ENV_VAR, "1")
    monkeypatch.setattr(onednn, "MAX_CACHED", 2)
    w = _rand(3, 3, 2, 3).astype(np.float32)
    for size in (5, 6, 7, 8):
        x = _rand(1, size, size, 2).astype(np.float32)
        np.testing.assert_allclose(ops.conv(x, w).numpy(), ref_conv(x, w), rtol=1e-4, atol=1e-4)
        assert len(onednn._cache) <= 2


@needs_onednn
def test_gemms_join_onednns_pool_after_a_conv_runs_there(monkeypatch):
    monkeypatch.setenv(onednn.ENV_VAR, "1")
    monkeypatch.setattr(onednn, "_gemm_budget", 0)
    a, b = _rand(64, 128, seed=13), _rand(128, 80, seed=14)
    assert onednn.matmul(a.astype(np.float32), b.astype(np.float32)) is None  # OpenBLAS's
    ops.conv(_rand(1, 5, 5, 2).astype(np.float32), _rand(3, 3, 2, 2).astype(np.float32))
    for x, w in [(a, b), (_rand(2, 3, 64, 128, seed=15), b)]:
        got = _values_and_grads(ops.matmul, [x, w], np.float32)
        want = _values_and_grads(ops.matmul, [x, w], np.float64)
        for g, v in zip(got, want):
            assert g.dtype == np.float32
            np.testing.assert_allclose(g, v, rtol=1e-4, atol=1e-4 * np.abs(v).max())
    bt = np.ascontiguousarray(b.T).astype(np.float32).T  # a transposed view, taken as it is
    np.testing.assert_allclose(onednn.matmul(a.astype(np.float32), bt), a @ b, rtol=1e-4,
                               atol=1e-3)
    monkeypatch.setattr(onednn, "_gemm_budget", 1)  # then OpenBLAS's again, until a conv
    assert onednn.matmul(a.astype(np.float32), bt) is not None
    assert onednn.matmul(a.astype(np.float32), bt) is None
