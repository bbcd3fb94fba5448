"""1-D and 3-D convolutions and pooling, and adaptive pooling, against plain NumPy loops, with
float64 gradient checks (the 2-D paths are in test_ops_conv.py and test_ops_pooling.py)."""
import numpy as np
import pytest

from engine import Tensor, ops
from tests.engine import op_tests
from tests.engine.test_ops_conv import ref_conv, ref_conv_transpose, ref_depthwise
from tests.engine.test_ops_pooling import reference_pool
from tests.helpers import OpCase, randn

TOL = {"atol": 1e-4, "rtol": 1e-4}


def ref_adaptive(x, output_size, kind, data_format="channels_last"):
    """PyTorch's windows: output i of an axis of n pools inputs floor(i n/o) .. ceil((i+1) n/o)."""
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    nd = x.ndim - 2
    out = (output_size,) * nd if isinstance(output_size, int) else tuple(output_size)
    y = np.empty((x.shape[0],) + out + (x.shape[-1],))
    reduce = np.max if kind == "max" else np.mean
    for idx in np.ndindex(*out):
        window = tuple(slice(int(np.floor(i * n / o)), int(np.ceil((i + 1) * n / o)))
                       for i, n, o in zip(idx, x.shape[1:-1], out))
        y[(slice(None),) + idx] = reduce(x[(slice(None),) + window], axis=tuple(range(1, nd + 1)))
    return np.moveaxis(y, -1, 1) if data_format == "channels_first" else y


def _case(name, label, fn, ref, inputs):
    return OpCase(name, fn, inputs, ref, label=label, **TOL)


def _conv(label, x, w, **kw):
    return _case("conv", label, lambda a, b: ops.conv(a, b, **kw),
                 lambda a, b: ref_conv(a, b, **kw), [x, w])


def _depthwise(label, x, w, **kw):
    return _case("depthwise_conv", label, lambda a, b: ops.depthwise_conv(a, b, **kw),
                 lambda a, b: ref_depthwise(a, b, **kw), [x, w])


def _transpose(label, x, w, **kw):
    return _case("conv_transpose", label, lambda a, b: ops.conv_transpose(a, b, **kw),
                 lambda a, b: ref_conv_transpose(a, b, **kw), [x, w])


def _pool(name, kind, label, x, *args, **kw):
    return _case(name, label, lambda a: getattr(ops, name)(a, *args, **kw),
                 lambda a: reference_pool(a, *args, kind=kind, **kw), [x])


def _adaptive(kind, label, x, size, **kw):
    name = f"adaptive_{kind}_pool"
    return _case(name, label, lambda a: getattr(ops, name)(a, size, **kw),
                 lambda a: ref_adaptive(a, size, kind, **kw), [x])


CASES = [
    _conv("3d-valid-few-channels", randn(2, 4, 5, 4, 2, seed=1), randn(2, 3, 2, 2, 3, seed=2)),
    _conv("3d-same-stride2-many-channels", randn(1, 5, 4, 5, 6, seed=3),
          randn(3, 3, 3, 6, 2, seed=4), strides=2, padding="same"),
    _conv("3d-dilation2", randn(1, 5, 5, 5, 2, seed=5), randn(2, 2, 2, 2, 2, seed=6),
          dilation_rate=2),
    _conv("3d-groups2", randn(1, 3, 4, 4, 4, seed=7), randn(2, 2, 2, 2, 4, seed=8),
          padding="same"),
    _depthwise("1d-stride2-mult2", randn(2, 9, 3, seed=9), randn(3, 3, 2, seed=10), strides=2),
    _depthwise("1d-dilation2", randn(2, 9, 3, seed=11), randn(2, 3, 1, seed=12),
               dilation_rate=2, padding="same"),
    _depthwise("3d-same", randn(1, 4, 4, 3, 2, seed=13), randn(2, 3, 2, 2, 2, seed=14),
               padding="same"),
    _transpose("1d-valid-k3", randn(2, 5, 3, seed=15), randn(3, 2, 3, seed=16)),
    _transpose("1d-valid-stride3-outpad2", randn(2, 4, 2, seed=17), randn(2, 3, 2, seed=18),
               strides=3, output_padding=2),
    _transpose("3d-same-stride2", randn(1, 2, 3, 2, 3, seed=19), randn(3, 3, 2, 2, 3, seed=20),
               strides=2, padding="same"),
    _transpose("3d-valid-mixed-strides", randn(1, 3, 2, 2, 2, seed=21),
               randn(2, 2, 3, 3, 2, seed=22), strides=(1, 2, 3)),
    _pool("max_pool", "max", "3d-2x2x2", randn(2, 4, 4, 4, 2, seed=23), 2),
    _pool("max_pool", "max", "3d-3x3x3-s2-same", randn(1, 5, 4, 5, 2, seed=24), 3, 2, "same"),
    _pool("average_pool", "average", "3d-2x2x2", randn(2, 4, 4, 4, 2, seed=25), 2),
    _pool("average_pool", "average", "3d-3-s1-same", randn(1, 4, 3, 4, 2, seed=26), 3, 1,
          "same"),
    _adaptive("average", "1d-uneven", randn(2, 7, 3, seed=27), 3),
    _adaptive("average", "2d-overlap", randn(2, 5, 7, 2, seed=28), (3, 4)),
    _adaptive("average", "3d", randn(1, 5, 4, 6, 2, seed=29), (2, 3, 4)),
    _adaptive("average", "2d-upsample", randn(1, 2, 3, 2, seed=30), (4, 5)),
    _adaptive("average", "channels-first", randn(2, 3, 6, 5, seed=31), 2,
              data_format="channels_first"),
    _adaptive("max", "1d-uneven", randn(2, 7, 3, seed=32), 3),
    _adaptive("max", "2d-overlap", randn(2, 5, 7, 2, seed=33), (3, 4)),
    _adaptive("max", "3d", randn(1, 5, 4, 6, 2, seed=34), (2, 3, 4)),
    _adaptive("max", "2d-upsample", randn(1, 2, 3, 2, seed=35), (4, 5)),
    _adaptive("max", "channels-first", randn(2, 3, 6, 5, seed=36), 2,
              data_format="channels_first"),
]

test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


def test_adaptive_pool_of_input_size_is_identity():
    x = randn(2, 5, 4, 3).astype(np.float32)
    for fn in (ops.adaptive_average_pool, ops.adaptive_max_pool):
        np.testing.assert_array_equal(fn(Tensor(x), (5, 4)).numpy(), x)


def test_adaptive_max_pool_ties_route_to_one_input():
    x = Tensor(np.ones((1, 4, 1), np.float32), requires_grad=True)
    ops.sum(ops.adaptive_max_pool(x, 2)).backward()
    np.testing.assert_array_equal(x.grad.numpy().ravel(), [1, 0, 1, 0])


def test_adaptive_average_pool_keeps_float64():
    assert ops.adaptive_average_pool(Tensor(randn(1, 6, 2)), 4).dtype == np.float64


@pytest.mark.parametrize("fn", [ops.adaptive_average_pool, ops.adaptive_max_pool])
def test_adaptive_pool_errors(fn):
    with pytest.raises(ValueError, match="rank 3, 4 or 5"):
        fn(Tensor(np.ones((2, 3), np.float32)), 2)
    with pytest.raises(ValueError, match="positive"):
        fn(Tensor(np.ones((2, 3, 3, 1), np.float32)), 0)
    with pytest.raises(ValueError, match="data_format"):
        fn(Tensor(np.ones((2, 3, 3, 1), np.float32)), 2, data_format="nhwc")
