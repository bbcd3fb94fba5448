"""Pooling layers against naive NumPy window loops."""
import math

import numpy as np
import pytest

import kerasish as keras
from engine import Tensor
from kerasish.layers.pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D,
                                     GlobalAveragePooling2D, GlobalMaxPooling1D,
                                     GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D)
from tests.helpers import check_layer_grads, run_layer_test


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def ref_pool2d(x, pool, strides, padding, mode):
    """Windows over the real pixels only: 'same' pads (TF: odd pixel after) are never read, so
    max ignores them and average divides by the count of real pixels."""
    n, h, w, c = x.shape
    if padding == "same":
        oh, ow = math.ceil(h / strides[0]), math.ceil(w / strides[1])
        top = max((oh - 1) * strides[0] + pool[0] - h, 0) // 2
        left = max((ow - 1) * strides[1] + pool[1] - w, 0) // 2
    else:
        oh, ow = (h - pool[0]) // strides[0] + 1, (w - pool[1]) // strides[1] + 1
        top = left = 0
    y = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * strides[0] - top, j * strides[1] - left
            win = x[:, max(r0, 0):min(r0 + pool[0], h), max(c0, 0):min(c0 + pool[1], w), :]
            y[:, i, j] = win.max(axis=(1, 2)) if mode == "max" else win.mean(axis=(1, 2))
    return y


# -- windowed pooling -----------------------------------------------------------------------------

@pytest.mark.parametrize("cls,kwargs,in_shape,out_shape", [
    (MaxPooling2D, {}, (2, 6, 7, 3), (2, 3, 3, 3)),
    (MaxPooling2D, {"pool_size": 3, "strides": 1, "padding": "same"}, (2, 5, 4, 3),
     (2, 5, 4, 3)),
    (AveragePooling2D, {"pool_size": (2, 3)}, (2, 6, 7, 3), (2, 3, 2, 3)),
    (AveragePooling2D, {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 5, 6, 3),
     (2, 3, 3, 3)),
    (MaxPooling1D, {}, (2, 7, 3), (2, 3, 3)),
    (MaxPooling1D, {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 3), (2, 4, 3)),
    (AveragePooling1D, {"pool_size": 2, "strides": 1}, (2, 7, 3), (2, 6, 3)),
])
def test_pooling_harness(cls, kwargs, in_shape, out_shape):
    run_layer_test(cls, kwargs, in_shape, out_shape, 0)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("pool,strides,padding", [
    ((2, 2), (2, 2), "valid"), ((3, 2), (1, 2), "valid"), ((3, 3), (1, 1), "same"),
    ((3, 3), (2, 2), "same"), ((2, 3), (3, 2), "same"), ((4, 4), (2, 3), "same"),
])
def test_pooling2d_matches_loop(mode, pool, strides, padding):
    x = _x(2, 7, 6, 3, seed=1)
    cls = MaxPooling2D if mode == "max" else AveragePooling2D
    got = cls(pool, strides=strides, padding=padding)(x.astype("float32")).numpy()
    np.testing.assert_allclose(got, ref_pool2d(x, pool, strides, padding, mode),
                               atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("pool,strides,padding", [(2, None, "valid"), (3, 2, "same"),
                                                  (3, 1, "same")])
def test_pooling1d_matches_loop(mode, pool, strides, padding):
    x = _x(2, 8, 3, seed=2)
    cls = MaxPooling1D if mode == "max" else AveragePooling1D
    got = cls(pool, strides=strides, padding=padding)(x.astype("float32")).numpy()
    want = ref_pool2d(x[:, None], (1, pool), (1, strides or pool), padding, mode)[:, 0]
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


def test_average_same_excludes_padding_by_hand():
    # 1..9 in a 3x3 image, 2x2 windows, stride 1, 'same': the pad row/column go after, so the
    # last window of each row averages 2 pixels and the corner one pixel.
    x = np.arange(1, 10, dtype="float32").reshape(1, 3, 3, 1)
    y = AveragePooling2D(2, strides=1, padding="same")(x).numpy()[0, :, :, 0]
    np.testing.assert_allclose(y, [[3, 4, 4.5], [6, 7, 7.5], [7.5, 8.5, 9]])
    m = MaxPooling2D(2, strides=1, padding="same")(-x).numpy()[0, :, :, 0]
    np.testing.assert_allclose(m, -np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]]))


@pytest.mark.parametrize("layer,shape", [
    (lambda: MaxPooling2D(2, dtype="float64"), (2, 4, 5, 2)),
    (lambda: MaxPooling2D(3, strides=2, padding="same", dtype="float64"), (2, 5, 5, 2)),
    (lambda: AveragePooling2D(3, strides=1, padding="same", dtype="float64"), (2, 4, 4, 2)),
    (lambda: MaxPooling1D(3, strides=1, dtype="float64"), (2, 6, 2)),
    (lambda: AveragePooling1D(2, padding="same", dtype="float64"), (2, 5, 2)),
])
def test_pooling_grads(layer, shape):
    check_layer_grads(layer(), _x(*shape, seed=3))


# -- global pooling -------------------------------------------------------------------------------

@pytest.mark.parametrize("cls,in_shape,out_shape,kept", [
    (GlobalAveragePooling1D, (2, 5, 3), (2, 3), (2, 1, 3)),
    (GlobalMaxPooling1D, (2, 5, 3), (2, 3), (2, 1, 3)),
    (GlobalAveragePooling2D, (2, 4, 5, 3), (2, 3), (2, 1, 1, 3)),
    (GlobalMaxPooling2D, (2, 4, 5, 3), (2, 3), (2, 1, 1, 3)),
])
def test_global_pooling_harness(cls, in_shape, out_shape, kept):
    run_layer_test(cls, {}, in_shape, out_shape, 0)
    run_layer_test(cls, {"keepdims": True}, in_shape, kept, 0)


def test_global_pooling_matches_numpy():
    x = _x(2, 4, 5, 3, seed=4)
    x32 = x.astype("float32")
    np.testing.assert_allclose(GlobalAveragePooling2D()(x32).numpy(), x.mean(axis=(1, 2)),
                               atol=1e-6)
    np.testing.assert_allclose(GlobalMaxPooling2D(keepdims=True)(x32).numpy(),
                               x.max(axis=(1, 2), keepdims=True), atol=1e-6)
    s = x[:, 0]
    np.testing.assert_allclose(GlobalAveragePooling1D(keepdims=True)(s.astype("float32"))
                               .numpy(), s.mean(axis=1, keepdims=True), atol=1e-6)
    np.testing.assert_allclose(GlobalMaxPooling1D()(s.astype("float32")).numpy(),
                               s.max(axis=1), atol=1e-6)


def test_global_average_1d_mask():
    x = _x(3, 4, 2, seed=5)
    mask = np.array([[1, 1, 0, 0], [1, 0, 1, 1], [1, 1, 1, 1]], dtype=bool)
    x_inf = x.copy()
    x_inf[0, 3] = np.inf  # a masked step must not leak in
    want = np.stack([x[i][mask[i]].mean(axis=0) for i in range(3)])
    layer = GlobalAveragePooling1D()
    got = layer(x_inf.astype("float32"), mask=mask).numpy()
    np.testing.assert_allclose(got, want, atol=1e-6)
    # The same mask attached to the input (as Embedding(mask_zero=True) does); no mask out.
    t = Tensor(x_inf.astype("float32"))
    t._keras_mask = Tensor(mask)
    y = GlobalAveragePooling1D(keepdims=True)(t)
    np.testing.assert_allclose(y.numpy(), want[:, None], atol=1e-6)
    assert getattr(y, "_keras_mask", None) is None


def test_global_average_1d_mask_grads():
    mask = np.array([[1, 1, 0, 0, 1], [0, 1, 1, 1, 1]], dtype=bool)
    check_layer_grads(GlobalAveragePooling1D(dtype="float64"), _x(2, 5, 3, seed=6),
                      call_kwargs={"mask": mask})


@pytest.mark.parametrize("cls,shape", [(GlobalAveragePooling1D, (2, 5, 3)),
                                       (GlobalMaxPooling1D, (2, 5, 3)),
                                       (GlobalAveragePooling2D, (2, 3, 4, 2)),
                                       (GlobalMaxPooling2D, (2, 3, 4, 2))])
def test_global_pooling_grads(cls, shape):
    check_layer_grads(cls(dtype="float64"), _x(*shape, seed=7))


# -- symbolic shapes and errors -------------------------------------------------------------------

def test_symbolic_unknown_dims():
    x = keras.Input((None, None, 3))
    assert MaxPooling2D()(x).shape == (None, None, None, 3)
    assert GlobalAveragePooling2D()(x).shape == (None, 3)
    assert AveragePooling1D(2)(keras.Input((None, 4))).shape == (None, None, 4)


def test_rank_errors():
    with pytest.raises(ValueError, match=r"expected ndim=4, found ndim=5"):
        MaxPooling2D()(np.zeros((1, 2, 4, 4, 3), "float32"))
    with pytest.raises(ValueError, match=r"expected ndim=3, found ndim=4"):
        GlobalAveragePooling1D()(keras.Input((4, 4, 3)))
    with pytest.raises(ValueError, match=r"expected ndim=4, found ndim=3"):
        GlobalMaxPooling2D()(np.zeros((1, 4, 3), "float32"))


@pytest.mark.parametrize("make,match", [
    (lambda: MaxPooling2D(padding="full"), r"Received: padding='full'$"),
    (lambda: MaxPooling2D((2, 2, 2)), r"Received: pool_size=\(2, 2, 2\)$"),
    (lambda: AveragePooling1D(0), r"Received: pool_size=0$"),
    (lambda: MaxPooling1D(2, strides=0), r"Received: strides=0$"),
    (lambda: MaxPooling2D(data_format="channels_first"), r"channels_last only"),
    (lambda: GlobalAveragePooling2D(data_format="channels_first"),
     r"Received: data_format='channels_first'$"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_window_larger_than_input():
    with pytest.raises(ValueError, match=r"zero or negative.*Received: input_shape=\(None, 2, 8,"):
        MaxPooling2D(3)(keras.Input((2, 8, 3)))


def test_float32_stays_float32():
    x = np.zeros((2, 4, 4, 3), "float32")
    mask = np.ones((2, 4), bool)
    for layer in (MaxPooling2D(), AveragePooling2D(3, strides=1, padding="same"),
                  GlobalAveragePooling2D(), GlobalMaxPooling2D()):
        assert layer(x).dtype == np.float32
    assert GlobalAveragePooling1D()(x[:, 0], mask=mask).dtype == np.float32
