"""ZeroPadding2D, Cropping2D, UpSampling2D against NumPy."""
import numpy as np
import pytest

import kerasish as keras
from kerasish.layers.reshaping import Cropping2D, UpSampling2D, ZeroPadding2D
from tests.helpers import check_layer_grads, run_layer_test


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def ref_bilinear(x, fh, fw):
    """Half-pixel-centre bilinear resize by integer factors, clamped at the borders (loops)."""
    n, h, w, c = x.shape
    y = np.zeros((n, h * fh, w * fw, c))

    def taps(o, f, size):
        src = min(max((o + 0.5) / f - 0.5, 0.0), size - 1.0)
        lo = int(np.floor(src))
        hi = min(lo + 1, size - 1)
        return lo, hi, src - lo

    for i in range(h * fh):
        r0, r1, a = taps(i, fh, h)
        for j in range(w * fw):
            c0, c1, b = taps(j, fw, w)
            y[:, i, j] = ((1 - a) * (1 - b) * x[:, r0, c0] + (1 - a) * b * x[:, r0, c1]
                          + a * (1 - b) * x[:, r1, c0] + a * b * x[:, r1, c1])
    return y


# -- ZeroPadding2D --------------------------------------------------------------------------------

@pytest.mark.parametrize("padding,out", [(1, (2, 6, 7, 3)), ((2, 0), (2, 8, 5, 3)),
                                         (((1, 2), (3, 0)), (2, 7, 8, 3))])
def test_zero_padding_harness(padding, out):
    run_layer_test(ZeroPadding2D, {"padding": padding}, (2, 4, 5, 3), out, 0)


def test_zero_padding_matches_numpy():
    x = _x(2, 3, 4, 2, seed=1)
    y = ZeroPadding2D(((1, 2), (0, 3)))(x.astype("float32")).numpy()
    np.testing.assert_allclose(y, np.pad(x, ((0, 0), (1, 2), (0, 3), (0, 0))), atol=1e-6)
    assert ZeroPadding2D().padding == ((1, 1), (1, 1))
    assert ZeroPadding2D((2, 3)).padding == ((2, 2), (3, 3))


def test_zero_padding_grads():
    check_layer_grads(ZeroPadding2D(((1, 0), (2, 1)), dtype="float64"), _x(2, 3, 3, 2))


# -- Cropping2D -----------------------------------------------------------------------------------

@pytest.mark.parametrize("cropping,out", [(1, (2, 4, 5, 3)), ((2, 0), (2, 2, 7, 3)),
                                          (((0, 1), (3, 0)), (2, 5, 4, 3)),
                                          (((0, 0), (0, 0)), (2, 6, 7, 3))])
def test_cropping_harness(cropping, out):
    run_layer_test(Cropping2D, {"cropping": cropping}, (2, 6, 7, 3), out, 0)


def test_cropping_matches_numpy():
    x = _x(2, 6, 7, 2, seed=2)
    y = Cropping2D(((1, 2), (3, 0)))(x.astype("float32")).numpy()
    np.testing.assert_allclose(y, x[:, 1:4, 3:7], atol=1e-6)
    y = Cropping2D(((0, 2), (0, 1)))(x.astype("float32")).numpy()
    np.testing.assert_allclose(y, x[:, 0:4, 0:6], atol=1e-6)


def test_cropping_grads():
    check_layer_grads(Cropping2D(((1, 0), (1, 2)), dtype="float64"), _x(2, 4, 5, 2))


def test_cropping_too_much():
    with pytest.raises(ValueError, match=r"should be smaller .*Received: cropping=\(\(2, 2\)"):
        Cropping2D(((2, 2), (0, 0)))(keras.Input((4, 8, 3)))
    with pytest.raises(ValueError, match=r"Received: cropping="):
        Cropping2D(((0, 0), (3, 3)))(np.zeros((1, 4, 6, 3), "float32"))
    with pytest.raises(ValueError, match=r"Received: cropping=-1$"):
        Cropping2D(-1)


# -- UpSampling2D ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,out", [({}, (2, 6, 8, 3)), ({"size": (1, 3)}, (2, 3, 12, 3)),
                                        ({"size": 3, "interpolation": "bilinear"},
                                         (2, 9, 12, 3))])
def test_upsampling_harness(kwargs, out):
    run_layer_test(UpSampling2D, kwargs, (2, 3, 4, 3), out, 0)


def test_upsampling_nearest_by_hand():
    # Keras's docstring example: size (1, 2) repeats each column twice.
    x = np.arange(12, dtype="float32").reshape(2, 2, 1, 3)
    y = UpSampling2D(size=(1, 2))(x).numpy()
    want = np.array([[[[0, 1, 2], [0, 1, 2]], [[3, 4, 5], [3, 4, 5]]],
                     [[[6, 7, 8], [6, 7, 8]], [[9, 10, 11], [9, 10, 11]]]])
    np.testing.assert_array_equal(y, want)
    x = _x(2, 3, 2, 2, seed=3)
    y = UpSampling2D((2, 3))(x.astype("float32")).numpy()
    np.testing.assert_allclose(y, x.repeat(2, axis=1).repeat(3, axis=2), atol=1e-6)


@pytest.mark.parametrize("size", [(2, 2), (3, 1), (4, 3), (1, 2)])
def test_upsampling_bilinear_matches_loop(size):
    x = _x(2, 3, 4, 2, seed=4)
    y = UpSampling2D(size, interpolation="bilinear")(x.astype("float32")).numpy()
    np.testing.assert_allclose(y, ref_bilinear(x, *size), atol=1e-5)


def test_upsampling_bilinear_by_hand():
    # Row [0, 4] doubled: samples at -0.25, 0.25, 0.75, 1.25 -> clamp, 1, 3, clamp.
    x = np.array([0.0, 4.0], dtype="float32").reshape(1, 1, 2, 1)
    y = UpSampling2D((1, 2), interpolation="bilinear")(x).numpy().ravel()
    np.testing.assert_allclose(y, [0, 1, 3, 4])
    one = np.full((1, 1, 1, 1), 7.0, dtype="float32")  # a single pixel stays constant
    np.testing.assert_allclose(UpSampling2D(3, interpolation="bilinear")(one).numpy(), 7.0)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_upsampling_grads(interpolation):
    check_layer_grads(UpSampling2D((2, 3), interpolation=interpolation, dtype="float64"),
                      _x(2, 3, 2, 2))


# -- shapes and errors ----------------------------------------------------------------------------

def test_symbolic_unknown_dims():
    x = keras.Input((None, 5, 3))
    assert ZeroPadding2D(2)(x).shape == (None, None, 9, 3)
    assert Cropping2D(1)(x).shape == (None, None, 3, 3)
    assert UpSampling2D(2)(x).shape == (None, None, 10, 3)


@pytest.mark.parametrize("layer", [ZeroPadding2D, Cropping2D, UpSampling2D])
def test_rank_error(layer):
    with pytest.raises(ValueError, match=r"expected ndim=4, found ndim=5"):
        layer()(np.zeros((1, 2, 4, 4, 3), "float32"))
    with pytest.raises(ValueError, match=r"expected ndim=4, found ndim=3"):
        layer()(keras.Input((4, 3)))


@pytest.mark.parametrize("make,match", [
    (lambda: ZeroPadding2D((1, 2, 3)), r"Received: padding=\(1, 2, 3\)$"),
    (lambda: ZeroPadding2D(((1, -1), (0, 0))), r"Received: 1st entry of padding=\(1, -1\)$"),
    (lambda: UpSampling2D(0), r"Received: size=0$"),
    (lambda: UpSampling2D(interpolation="bicubic"), r"Received: interpolation='bicubic'$"),
    (lambda: UpSampling2D(data_format="channels_first"), r"channels_last only"),
    (lambda: Cropping2D(data_format="channels_first"), r"channels_last only"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_float32_stays_float32():
    x = np.zeros((1, 3, 3, 2), "float32")
    for layer in (ZeroPadding2D(), Cropping2D(1), UpSampling2D(),
                  UpSampling2D(3, interpolation="bilinear")):
        assert layer(x).dtype == np.float32
