"""Pooling ops against a naive NumPy loop over output pixels, with gradient checks."""
import math

import numpy as np
import pytest

import engine
from engine import Tensor, ops
from tests.engine import op_tests
from tests.helpers import OpCase, randn


def reference_pool(x, pool_size, strides=None, padding="valid", kind="max",
                   data_format="channels_last"):
    """Loops over output pixels; each window is clipped to the real input (TF 'same')."""
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    nd = x.ndim - 2
    pool = (pool_size,) * nd if isinstance(pool_size, int) else tuple(pool_size)
    strides = pool if strides is None else (
        (strides,) * nd if isinstance(strides, int) else tuple(strides))
    sizes = x.shape[1:-1]
    if padding == "same":
        out = [math.ceil(n / s) for n, s in zip(sizes, strides)]
        before = [max((o - 1) * s + k - n, 0) // 2
                  for o, s, k, n in zip(out, strides, pool, sizes)]
    else:
        out = [(n - k) // s + 1 for n, k, s in zip(sizes, pool, strides)]
        before = [0] * nd
    y = np.empty((x.shape[0], *out, x.shape[-1]))
    for idx in np.ndindex(*out):
        window = []
        for i, k, s, b, n in zip(idx, pool, strides, before, sizes):
            start = i * s - b
            window.append(slice(max(start, 0), min(start + k, n)))
        patch = x[(slice(None), *window, slice(None))]
        reduce = np.max if kind == "max" else np.mean
        y[(slice(None), *idx, slice(None))] = reduce(patch, axis=tuple(range(1, nd + 1)))
    if data_format == "channels_first":
        y = np.moveaxis(y, -1, 1)
    return y


def _cases(name, kind):
    fn = getattr(ops, name)

    def case(label, x, *args, **kwargs):
        return OpCase(name, lambda t: fn(t, *args, **kwargs), [x],
                      lambda a: reference_pool(a, *args, kind=kind, **kwargs), label=label)

    return [
        case("2x2", randn(2, 4, 4, 3, seed=1), 2),
        case("2x2-odd-crop", randn(2, 5, 5, 2, seed=2), 2),
        case("3x3-s2-valid", randn(2, 7, 7, 2, seed=3), 3, 2),
        case("3x3-s1-same", randn(1, 5, 5, 2, seed=4), 3, 1, "same"),
        case("3x3-s2-same", randn(1, 6, 6, 2, seed=5), 3, 2, "same"),
        case("2x2-s2-same-odd", randn(2, 5, 5, 2, seed=6), 2, 2, "same"),
        case("rect", randn(2, 5, 6, 2, seed=7), (2, 3), (1, 2), "same"),
        case("1d-valid", randn(2, 7, 3, seed=8), 2),
        case("1d-same-overlap", randn(2, 7, 3, seed=9), 3, 2, "same"),
        case("3d", randn(1, 4, 5, 4, 2, seed=10), 2, (2, 2, 1), "same"),
        case("channels-first", randn(2, 3, 5, 5, seed=11), 3, 2, "valid",
             data_format="channels_first"),
    ]


CASES = _cases("max_pool", "max") + _cases("average_pool", "average")

test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


def _grad(fn, x, xp=np):
    t = Tensor(xp.asarray(x, dtype=np.float32), requires_grad=True)
    y = fn(t)
    (g,) = engine.grad(y, [t], grad_outputs=xp.ones(y.shape, dtype=np.float32))
    return g.numpy()


def test_max_pool_ties_route_to_first_max(xp):
    g = _grad(lambda t: ops.max_pool(t, 2), np.ones((1, 4, 4, 1)), xp)
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(g[0, :, :, 0], expected)


def test_max_pool_overlapping_windows_accumulate(xp):
    x = np.array([0.0, 1.0, 5.0, 1.0, 0.0, 2.0]).reshape(1, 6, 1)
    g = _grad(lambda t: ops.max_pool(t, 3, 1), x, xp)  # windows 0..3 all see the 5, then 2
    np.testing.assert_array_equal(g.ravel(), [0, 0, 3, 0, 0, 1])


def test_average_pool_same_counts_only_real_pixels(xp):
    y = ops.average_pool(Tensor(xp.ones((1, 5, 5, 1), dtype=np.float32)), 3, 1, "same")
    np.testing.assert_allclose(y.numpy(), 1.0, rtol=1e-6)  # zeros from padding never count
    g = _grad(lambda t: ops.average_pool(t, 2, 2, "same"), np.ones((1, 3, 3, 1)), xp)
    # windows: 2x2 (count 4), 2x1 (2), 1x2 (2), 1x1 (1)
    np.testing.assert_allclose(g[0, :, :, 0], [[.25, .25, .5], [.25, .25, .5], [.5, .5, 1.]])


def test_max_pool_same_pads_with_minus_infinity(xp):
    x = -np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    y = ops.max_pool(Tensor(xp.asarray(x, dtype=np.float32)), 2, 2, "same").numpy()
    np.testing.assert_array_equal(y[0, :, :, 0], [[-1, -3], [-7, -9]])


@pytest.mark.parametrize("pool,strides,padding", [
    (3, 2, "valid"), (3, 1, "same"), ((2, 3), (2, 1), "same"), (2, 2, "valid")])
def test_axis_by_axis_pooling_equals_a_pass_per_window(pool, strides, padding):
    x = np.maximum(randn(3, 11, 10, 5, seed=12), 0).astype(np.float32)  # ReLU-like: ties
    y = ops.max_pool(x, pool, strides, padding).numpy()
    np.testing.assert_array_equal(y, reference_pool(x, pool, strides, padding, "max"))
    y = ops.average_pool(x, pool, strides, padding).numpy()
    np.testing.assert_allclose(y, reference_pool(x, pool, strides, padding, "average"),
                               rtol=1e-6, atol=1e-7)


def test_float64_stays_float64():
    assert ops.max_pool(randn(1, 4, 4, 1), 2).dtype == np.float64
    assert ops.average_pool(randn(1, 4, 4, 1), 3, 1, "same").dtype == np.float64


@pytest.mark.parametrize("fn", [ops.max_pool, ops.average_pool])
def test_bad_input_raises_clear_errors(fn):
    x = np.zeros((2, 4, 4, 3), np.float32)
    with pytest.raises(ValueError, match=r"rank 3, 4 or 5.*Received: inputs.shape=\(4, 4\)"):
        fn(np.zeros((4, 4), np.float32), 2)
    with pytest.raises(ValueError, match="Received: padding='full'"):
        fn(x, 2, padding="full")
    with pytest.raises(ValueError, match="does not fit"):
        fn(x, 5)
    with pytest.raises(ValueError, match="Received: pool_size="):
        fn(x, (2, 2, 2))
    with pytest.raises(ValueError, match="Received: data_format='nhwc'"):
        fn(x, 2, data_format="nhwc")


def reference_pool_grad(x, gy, pool, strides, padding, kind):
    """Loops over output pixels: the window's first maximum (row-major) or each real pixel
    (1 / count of them) gets the output's gradient."""
    nd = x.ndim - 2
    pool = (pool,) * nd if isinstance(pool, int) else tuple(pool)
    strides = (strides,) * nd if isinstance(strides, int) else tuple(strides)
    sizes = x.shape[1:-1]
    before = [0] * nd
    if padding == "same":
        before = [max((o - 1) * s + k - n, 0) // 2
                  for o, s, k, n in zip(gy.shape[1:-1], strides, pool, sizes)]
    gx = np.zeros(x.shape)
    for b, c in np.ndindex(x.shape[0], x.shape[-1]):
        for idx in np.ndindex(*gy.shape[1:-1]):
            window = tuple(slice(max(i * s - p, 0), min(i * s - p + k, n))
                           for i, s, p, k, n in zip(idx, strides, before, pool, sizes))
            patch = gx[(b, *window, c)]  # a view: writes land in gx
            g = gy[(b, *idx, c)]
            if kind == "max":
                first = np.unravel_index(np.argmax(x[(b, *window, c)]), patch.shape)
                patch[first] += g
            else:
                patch += g / patch.size
    return gx


@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize("shape,pool,strides,padding", [
    ((3, 8, 6, 4), 2, 2, "valid"),           # windows tile the input: max's store-only path
    ((3, 9, 7, 4), 2, 2, "valid"),           # disjoint windows, cropped border
    ((2, 7, 7, 3), 2, 3, "valid"),           # gaps between windows
    ((2, 7, 8, 3), 2, 3, "same"),
    ((2, 8, 8, 3), (2, 2), (2, 2), "same"),  # 'same' without padding: tiled too
    ((2, 9, 9, 3), 3, 2, "same"),            # overlapping: `+=` path
    ((2, 7, 6, 3), (3, 2), (1, 2), "same"),
    ((2, 9, 3), 4, 1, "same"),               # even window, uneven padding
    ((2, 6, 7, 3), 3, 1, "valid"),
    ((1, 4, 6, 4, 2), 2, 2, "valid"),
    ((1, 5, 4, 5, 2), 3, (2, 1, 2), "same"),
])
def test_fast_paths_equal_window_loop_with_ties(kind, shape, pool, strides, padding):
    # Quantised ReLU-like inputs: many windows hold several equal maxima (zeros and repeats).
    x = np.round(np.maximum(randn(*shape, seed=13), 0) * 2).astype(np.float32)
    fn = ops.max_pool if kind == "max" else ops.average_pool
    t = Tensor(x, requires_grad=True)
    y = fn(t, pool, strides, padding)
    np.testing.assert_allclose(y.numpy(), reference_pool(x, pool, strides, padding, kind),
                               rtol=1e-6, atol=1e-6)
    gy = randn(*y.shape, seed=14).astype(np.float32)
    (g,) = engine.grad(y, [t], grad_outputs=gy)
    expected = reference_pool_grad(x, gy.astype(np.float64), pool, strides, padding, kind)
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-5, atol=1e-6)
