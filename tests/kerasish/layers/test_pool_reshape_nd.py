"""3-D and adaptive pooling, and the 1-D and 3-D cropping, padding and upsampling layers:
the layer harness, gradient checks and plain-NumPy forward references."""
import numpy as np
import pytest

import engine
from kerasish import layers
from tests.engine.test_ops_nd_conv_pool import ref_adaptive
from tests.engine.test_ops_pooling import reference_pool
from tests.helpers import check_layer_grads, run_layer_test


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _eager(layer, x):
    with engine.no_grad():
        return layer(x.astype(np.float32)).numpy()


HARNESS = [
    (layers.MaxPooling3D, {}, (2, 4, 4, 6, 2), (2, 2, 2, 3, 2)),
    (layers.MaxPooling3D, {"pool_size": 3, "strides": 2, "padding": "same"}, (1, 5, 4, 3, 2),
     (1, 3, 2, 2, 2)),
    (layers.AveragePooling3D, {"pool_size": (2, 1, 2)}, (2, 4, 3, 4, 2), (2, 2, 3, 2, 2)),
    (layers.GlobalMaxPooling3D, {}, (2, 3, 4, 2, 5), (2, 5)),
    (layers.GlobalAveragePooling3D, {"keepdims": True}, (2, 3, 4, 2, 5), (2, 1, 1, 1, 5)),
    (layers.AdaptiveAveragePooling1D, {"output_size": 3}, (2, 7, 2), (2, 3, 2)),
    (layers.AdaptiveAveragePooling2D, {"output_size": (2, 3)}, (2, 5, 7, 2), (2, 2, 3, 2)),
    (layers.AdaptiveAveragePooling3D, {"output_size": 2}, (1, 5, 4, 3, 2), (1, 2, 2, 2, 2)),
    (layers.AdaptiveMaxPooling1D, {"output_size": 3}, (2, 7, 2), (2, 3, 2)),
    (layers.AdaptiveMaxPooling2D, {"output_size": (2, 3)}, (2, 5, 7, 2), (2, 2, 3, 2)),
    (layers.AdaptiveMaxPooling3D, {"output_size": (1, 2, 3)}, (1, 5, 4, 3, 2), (1, 1, 2, 3, 2)),
    (layers.Cropping1D, {"cropping": (1, 2)}, (2, 7, 3), (2, 4, 3)),
    (layers.Cropping3D, {"cropping": ((1, 0), (0, 2), 1)}, (2, 4, 5, 6, 2), (2, 3, 3, 4, 2)),
    (layers.ZeroPadding1D, {"padding": (2, 1)}, (2, 4, 3), (2, 7, 3)),
    (layers.ZeroPadding3D, {"padding": 1}, (2, 2, 3, 4, 1), (2, 4, 5, 6, 1)),
    (layers.UpSampling1D, {"size": 3}, (2, 4, 3), (2, 12, 3)),
    (layers.UpSampling3D, {"size": (2, 1, 3)}, (2, 2, 3, 2, 1), (2, 4, 3, 6, 1)),
]


@pytest.mark.parametrize("cls,kwargs,in_shape,out_shape", HARNESS,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(HARNESS)])
def test_layer_harness(cls, kwargs, in_shape, out_shape):
    run_layer_test(cls, kwargs, in_shape, out_shape)


@pytest.mark.parametrize("cls,kwargs,in_shape,out_shape", HARNESS,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(HARNESS)])
def test_grads(cls, kwargs, in_shape, out_shape):
    check_layer_grads(cls(dtype="float64", **kwargs), _x(*in_shape, seed=1))


def test_pool3d_matches_loops():
    x = _x(2, 5, 4, 5, 2)
    np.testing.assert_allclose(_eager(layers.MaxPooling3D(3, 2, "same"), x),
                               reference_pool(x, 3, 2, "same", kind="max"), atol=1e-6)
    np.testing.assert_allclose(_eager(layers.AvgPool3D((2, 2, 1)), x),
                               reference_pool(x, (2, 2, 1), kind="average"), atol=1e-6)
    np.testing.assert_allclose(_eager(layers.GlobalMaxPool3D(), x), x.max(axis=(1, 2, 3)),
                               atol=1e-6)
    np.testing.assert_allclose(_eager(layers.GlobalAvgPool3D(), x), x.mean(axis=(1, 2, 3)),
                               atol=1e-6)


@pytest.mark.parametrize("kind", ["average", "max"])
def test_adaptive_matches_loops(kind):
    x = _x(2, 7, 5, 3, seed=2)
    cls = layers.AdaptiveAveragePooling2D if kind == "average" else layers.AdaptiveMaxPooling2D
    np.testing.assert_allclose(_eager(cls((3, 2)), x), ref_adaptive(x, (3, 2), kind), atol=1e-6)


def test_adaptive_known_numbers():
    # NOTE: Keras 3.15 / PyTorch windows for 5 -> 3 steps: [0, 2), [1, 4), [3, 5).
    x = np.arange(5, dtype=np.float32).reshape(1, 5, 1)
    np.testing.assert_allclose(_eager(layers.AdaptiveAveragePooling1D(3), x).ravel(),
                               [0.5, 2.0, 3.5])
    np.testing.assert_allclose(_eager(layers.AdaptiveMaxPooling1D(3), x).ravel(), [1, 3, 4])


def test_reshaping_match_numpy():
    x = _x(2, 4, 3, 5, 2, seed=3)
    np.testing.assert_allclose(_eager(layers.ZeroPadding3D(((1, 0), (0, 2), 1)), x),
                               np.pad(x, ((0, 0), (1, 0), (0, 2), (1, 1), (0, 0))), atol=1e-6)
    np.testing.assert_allclose(_eager(layers.Cropping3D(((1, 0), (0, 2), 1)), x),
                               x[:, 1:, :1, 1:4], atol=1e-6)
    np.testing.assert_allclose(_eager(layers.UpSampling3D((2, 1, 3)), x),
                               x.repeat(2, 1).repeat(3, 3), atol=1e-6)
    s = x[:, :, 0, 0]
    np.testing.assert_allclose(_eager(layers.ZeroPadding1D(2), s),
                               np.pad(s, ((0, 0), (2, 2), (0, 0))), atol=1e-6)
    np.testing.assert_allclose(_eager(layers.Cropping1D((1, 2)), s), s[:, 1:-2], atol=1e-6)
    np.testing.assert_allclose(_eager(layers.UpSampling1D(2), s), s.repeat(2, 1), atol=1e-6)


def test_configs_are_keras():
    assert layers.Cropping1D().get_config()["cropping"] == (1, 1)
    assert "data_format" not in layers.Cropping1D().get_config()
    assert layers.ZeroPadding1D().get_config()["padding"] == (1, 1)
    assert layers.ZeroPadding3D().get_config()["padding"] == ((1, 1), (1, 1), (1, 1))
    assert layers.UpSampling1D().get_config()["size"] == 2
    assert layers.AdaptiveMaxPooling3D(2).get_config()["output_size"] == (2, 2, 2)
    assert layers.MaxPool3D is layers.MaxPooling3D and layers.AvgPool3D is layers.AveragePooling3D


def test_errors():
    with pytest.raises(ValueError, match="cropping"):
        layers.Cropping1D((3, 2))(np.ones((1, 5, 2), np.float32))
    with pytest.raises(TypeError, match="output_size"):
        layers.AdaptiveAveragePooling2D((2, 2, 2))
    with pytest.raises(TypeError, match="size"):
        layers.UpSampling1D((2,))
    with pytest.raises(ValueError, match="3 tuples of 2 ints|padding"):
        layers.ZeroPadding3D((1, 2))
