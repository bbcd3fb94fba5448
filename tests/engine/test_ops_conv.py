"""Convolutions against naive NumPy loops, with gradient checks for inputs and kernels."""
import numpy as np
import pytest

import engine
from engine import Tensor, ops
from engine.ops import _im2col
from tests.engine import op_tests
from tests.helpers import OpCase, randn


# -- plain-NumPy references (float64, a loop over output positions) ---------------------------

def _tuple(v, n):
    return (v,) * n if isinstance(v, int) else tuple(v)


def _tf_same_pads(length, k, s, d):
    span = (k - 1) * d + 1
    out = -(-length // s)
    total = max((out - 1) * s + span - length, 0)
    return total // 2, total - total // 2


def ref_conv(x, w, strides=1, padding="valid", dilation_rate=1):
    """Cross-correlation, channels-last; grouped when x has a multiple of w's in-channels."""
    n = x.ndim - 2
    s, d, k = _tuple(strides, n), _tuple(dilation_rate, n), w.shape[:-2]
    if padding == "same":
        pads = [_tf_same_pads(x.shape[1 + i], k[i], s[i], d[i]) for i in range(n)]
        x = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    spans = [(k[i] - 1) * d[i] + 1 for i in range(n)]
    out = [(x.shape[1 + i] - spans[i]) // s[i] + 1 for i in range(n)]
    cin, cout = w.shape[-2:]
    groups = x.shape[-1] // cin
    og = cout // groups
    y = np.zeros((x.shape[0], *out, cout))
    for pos in np.ndindex(*out):
        window = x[(slice(None),) + tuple(slice(p * s[i], p * s[i] + spans[i], d[i])
                                          for i, p in enumerate(pos))]
        for g in range(groups):
            patch = window[..., g * cin:(g + 1) * cin]
            y[(slice(None),) + pos + (slice(g * og, (g + 1) * og),)] = np.tensordot(
                patch, w[..., g * og:(g + 1) * og], axes=n + 1)
    return y


def ref_depthwise(x, w, strides=1, padding="valid", dilation_rate=1):
    per_channel = [ref_conv(x[..., c:c + 1], w[..., c:c + 1, :], strides, padding, dilation_rate)
                   for c in range(x.shape[-1])]
    y = np.stack(per_channel, axis=-2)  # (N, *out, C, M): channel c*M + m
    return y.reshape(y.shape[:-2] + (-1,))


def ref_separable(x, dw, pw, strides=1, padding="valid", dilation_rate=1):
    return ref_conv(ref_depthwise(x, dw, strides, padding, dilation_rate), pw)


def keras_transpose_length(length, k, s, padding, output_padding=None, d=1):
    """Keras's ``_get_output_shape_given_tf_padding``."""
    span = (k - 1) * d + 1
    if padding == "valid":
        extra = max(span, s) - span if output_padding is None else output_padding
        return (length - 1) * s + span + extra
    if output_padding is None:
        return length * s
    return (length - 1) * s + span % 2 + output_padding


def _jax_pads(k, s, d, padding, output_padding):
    """Keras's padding for ``jax.lax.conv_transpose`` (dilate, pad, correlate with flipped w)."""
    span = (k - 1) * d + 1
    if padding == "valid":
        extra = max(span, s) - span if output_padding is None else output_padding
        return span - 1, span - 1 + extra
    pad_len = s + span - 2 if output_padding is None else span + span % 2 - 2 + output_padding
    left = min(pad_len // 2 + pad_len % 2, span - 1)
    return left, pad_len - left


def ref_conv_transpose(x, w, strides=1, padding="valid", output_padding=None, dilation_rate=1):
    n = x.ndim - 2
    s, d, k = _tuple(strides, n), _tuple(dilation_rate, n), w.shape[:-2]
    ops_ = (None,) * n if output_padding is None else _tuple(output_padding, n)
    dilated = np.zeros((x.shape[0], *[(x.shape[1 + i] - 1) * s[i] + 1 for i in range(n)],
                        x.shape[-1]))
    dilated[(slice(None),) + tuple(slice(None, None, si) for si in s)] = x
    pads = [_jax_pads(k[i], s[i], d[i], padding, ops_[i]) for i in range(n)]
    z = np.pad(dilated, [(0, 0)] + pads + [(0, 0)])
    flipped = np.flip(w, axis=tuple(range(n))).swapaxes(-1, -2)
    return ref_conv(z, flipped, 1, "valid", d)


# -- the table --------------------------------------------------------------------------------

X = randn(2, 5, 5, 3, seed=1)
X6 = randn(2, 6, 6, 3, seed=2)
W = randn(3, 3, 3, 4, seed=3)
X1 = randn(2, 7, 3, seed=4)
W1 = randn(3, 3, 4, seed=5)
DW = randn(3, 3, 3, 2, seed=6)
PW = randn(1, 1, 6, 4, seed=7)
Y = randn(2, 3, 3, 4, seed=8)  # conv_transpose inputs: 4 channels in
WT = randn(3, 3, 2, 4, seed=9)  # (kh, kw, out=2, in=4)
TOL = {"atol": 1e-4, "rtol": 1e-4}


def _conv_case(label, x, w, **kw):
    return OpCase("conv", lambda a, b: ops.conv(a, b, **kw), [x, w],
                  lambda a, b: ref_conv(a, b, **kw), label=label, **TOL)


def _depthwise_case(label, x, w, **kw):
    return OpCase("depthwise_conv", lambda a, b: ops.depthwise_conv(a, b, **kw), [x, w],
                  lambda a, b: ref_depthwise(a, b, **kw), label=label, **TOL)


def _transpose_case(label, x, w, **kw):
    return OpCase("conv_transpose", lambda a, b: ops.conv_transpose(a, b, **kw), [x, w],
                  lambda a, b: ref_conv_transpose(a, b, **kw), label=label, **TOL)


CASES = [
    _conv_case("valid", X, W),
    _conv_case("same", X, W, padding="same"),
    _conv_case("same-stride2-odd", X, W, strides=2, padding="same"),
    _conv_case("valid-stride2-even", X6, W, strides=2),
    _conv_case("same-stride2-even-k4", X6, randn(4, 4, 3, 2, seed=10), strides=2, padding="same"),
    _conv_case("valid-dilation2", X, W, dilation_rate=2),
    _conv_case("same-dilation2", X6, W, padding="same", dilation_rate=(2, 1)),
    _conv_case("strides-tuple", X6, W, strides=(1, 2), padding="same"),
    _conv_case("1x3-same", X, randn(1, 3, 3, 2, seed=11), padding="same"),
    _conv_case("3x1-same", X, randn(3, 1, 3, 2, seed=12), padding="same"),
    _conv_case("1x1", X, randn(1, 1, 3, 4, seed=13)),
    _conv_case("1x1-stride2", X, randn(1, 1, 3, 4, seed=14), strides=2, padding="same"),
    _conv_case("groups2", randn(2, 5, 5, 4, seed=15), randn(3, 3, 2, 6, seed=16),
               padding="same"),
    # more than _im2col.FEW_CHANNELS (4) input channels: the blocked im2col path
    _conv_case("6ch-same-stride2", randn(2, 5, 6, 6, seed=21), randn(3, 3, 6, 2, seed=22),
               strides=2, padding="same"),
    _conv_case("6ch-valid-dilation2", randn(2, 6, 5, 6, seed=23), randn(2, 2, 6, 3, seed=24),
               dilation_rate=2),
    _conv_case("1d-valid", X1, W1),
    _conv_case("1d-same-stride2", X1, W1, strides=2, padding="same"),
    _conv_case("1d-dilation2", X1, W1, dilation_rate=2, padding="same"),
    _conv_case("3d-same", randn(1, 4, 3, 4, 2, seed=17), randn(2, 3, 2, 2, 3, seed=18),
               padding="same", strides=(2, 1, 1)),
    _depthwise_case("valid", X, DW),
    _depthwise_case("same-stride2", X, DW, strides=2, padding="same"),
    _depthwise_case("dilation2", X6, DW, dilation_rate=2, padding="same"),
    _depthwise_case("1d", X1, randn(3, 3, 2, seed=19), padding="same"),
    OpCase("separable_conv", lambda a, b, c: ops.separable_conv(a, b, c, padding="same"),
           [X, DW, PW], lambda a, b, c: ref_separable(a, b, c, padding="same"),
           label="same", **TOL),
    OpCase("separable_conv", lambda a, b, c: ops.separable_conv(a, b, c, strides=2), [X6, DW, PW],
           lambda a, b, c: ref_separable(a, b, c, strides=2), label="valid-stride2", **TOL),
    _transpose_case("valid-stride1", Y, WT),
    _transpose_case("valid-stride2", Y, WT, strides=2),
    _transpose_case("same-stride1", Y, WT, padding="same"),
    _transpose_case("same-stride2", Y, WT, strides=2, padding="same"),
    _transpose_case("same-stride2-k4", Y, randn(4, 4, 2, 4, seed=20), strides=2, padding="same"),
    _transpose_case("valid-stride2-outpad1", Y, WT, strides=2, output_padding=1),
    _transpose_case("same-stride2-outpad", Y, WT, strides=2, padding="same",
                    output_padding=(0, 1)),
    _transpose_case("same-dilation2", Y, WT, padding="same", dilation_rate=2),
    _transpose_case("1d-stride2", randn(2, 4, 3, seed=21), randn(3, 2, 3, seed=22), strides=2,
                    padding="same"),
]

test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


# -- conv_transpose: Keras's shapes and the adjoint of conv -----------------------------------

@pytest.mark.parametrize("k,s,padding,d", [
    (3, 1, "valid", 1), (3, 2, "valid", 1), (2, 2, "valid", 1), (1, 2, "valid", 1),
    (3, 1, "same", 1), (3, 2, "same", 1), (4, 2, "same", 1), (5, 3, "same", 1),
    (3, 1, "same", 2), (3, 2, "valid", 2), (2, 3, "same", 1),
])
def test_conv_transpose_is_the_adjoint_of_conv(k, s, padding, d):
    y = randn(2, 3, 4, 3, seed=30)
    w = randn(k, k, 2, 3, seed=31)  # conv: 2 -> 3 channels; conv_transpose: 3 -> 2
    out = ops.conv_transpose(y, w, strides=s, padding=padding, dilation_rate=d).numpy()
    expected = [keras_transpose_length(n, k, s, padding, None, d) for n in y.shape[1:3]]
    assert out.shape == (2, *expected, 2)
    x = randn(*out.shape, seed=32)
    conv_x = ops.conv(x, w, strides=s, padding=padding, dilation_rate=d).numpy()
    assert conv_x.shape == y.shape
    np.testing.assert_allclose(np.sum(conv_x * y), np.sum(x * out), rtol=1e-10)


@pytest.mark.parametrize("s,padding,output_padding", [
    (2, "valid", 0), (2, "valid", 1), (3, "same", 2), (2, "same", 0), (2, "same", 1)])
def test_conv_transpose_output_padding_shape(s, padding, output_padding):
    y = randn(1, 3, 2, 2, seed=33)
    out = ops.conv_transpose(y, randn(3, 3, 1, 2, seed=34), strides=s, padding=padding,
                             output_padding=output_padding)
    expected = [keras_transpose_length(n, 3, s, padding, output_padding) for n in (3, 2)]
    assert out.shape == (1, *expected, 1)


# -- dtypes, fast paths, partial gradients ----------------------------------------------------

def test_float64_stays_float64():
    assert ops.conv(X, W, padding="same").dtype == np.float64
    assert ops.conv_transpose(Y, WT, strides=2).dtype == np.float64


def test_mixed_dtypes_give_each_input_its_own_grad_dtype():
    x = Tensor(X.astype(np.float32), requires_grad=True)
    w = Tensor(W, requires_grad=True)  # float64
    y = ops.conv(x, w, padding="same")
    assert y.dtype == np.float64
    y.backward(np.ones(y.shape))
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64


def test_pointwise_is_a_matmul():
    x, w = X.astype(np.float32), randn(1, 1, 3, 5, seed=40).astype(np.float32)
    np.testing.assert_allclose(ops.conv(x, w, padding="same").numpy(), x @ w[0, 0], rtol=1e-5,
                               atol=1e-6)


def test_only_the_kernel_needs_grad():
    w = Tensor(W.astype(np.float32), requires_grad=True)
    (gw,) = engine.grad(ops.conv(X.astype(np.float32), w, strides=2), [w],
                        grad_outputs=np.ones((2, 2, 2, 4), np.float32))
    assert gw.shape == W.shape and gw.dtype == np.float32


def test_benchmark_shapes():
    x = np.ones((4, 28, 28, 1), np.float32)
    y = ops.conv(x, np.ones((5, 5, 1, 32), np.float32), padding="same")
    assert y.shape == (4, 28, 28, 32) and y.dtype == np.float32
    assert float(y.numpy()[0, 14, 14, 0]) == 25.0 and float(y.numpy()[0, 0, 0, 0]) == 9.0


# -- the blocked im2col and the stride-1 input gradient against one whole im2col ------------

BLOCK_CASES = [  # x shape, kernel shape, strides, padding, dilation
    ((3, 9, 8, 4), (3, 3, 4, 5), 1, "same", 1),
    ((3, 9, 8, 4), (3, 3, 4, 5), 2, "same", 1),
    ((3, 9, 8, 4), (3, 2, 4, 5), (2, 1), "valid", 1),
    ((3, 9, 8, 4), (3, 3, 4, 5), 1, "valid", (2, 1)),
    ((3, 9, 8, 4), (3, 3, 4, 40), 1, "same", 1),  # O > 4C: gx by GEMM + col2im
    ((3, 9, 8, 4), (3, 3, 2, 6), 1, "same", 1),  # 2 groups
    ((3, 9, 8, 4), (1, 1, 4, 5), 1, "valid", 1),
    ((3, 11, 4), (3, 4, 5), 1, "same", 2),
    ((2, 5, 4, 3, 2), (3, 2, 2, 2, 3), 1, "same", 1),
]


def _conv_and_grads(x, w, gy, **kw):
    xt, wt = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    y = ops.conv(xt, wt, **kw)
    y.backward(gy)
    return y.numpy(), xt.grad.numpy(), wt.grad.numpy()


@pytest.mark.parametrize("block_bytes", [1, 700, 5000, 30000, 50000])
@pytest.mark.parametrize("x_shape,w_shape,strides,padding,dilation", BLOCK_CASES)
def test_blocks_equal_one_im2col(monkeypatch, block_bytes, x_shape, w_shape, strides, padding,
                                 dilation):
    x, w = randn(*x_shape, seed=50), randn(*w_shape, seed=51)
    kw = dict(strides=strides, padding=padding, dilation_rate=dilation)
    y = ref_conv(x, w, strides, padding, dilation)
    gy = randn(*y.shape, seed=52)
    monkeypatch.setattr(_im2col, "BLOCK_PIXELS", 1)
    monkeypatch.setattr(_im2col, "BLOCK_BYTES", 1 << 40)  # one block: the plain im2col
    whole = _conv_and_grads(x, w, gy, **kw)
    monkeypatch.setattr(_im2col, "BLOCK_BYTES", block_bytes)
    blocked = _conv_and_grads(x, w, gy, **kw)
    np.testing.assert_allclose(blocked[0], y, atol=1e-12)
    for ours, plain in zip(blocked, whole):
        np.testing.assert_allclose(ours, plain, rtol=1e-12, atol=1e-12)
    if x.shape[-1] != w.shape[-2]:
        return
    # conv_transpose runs the same blocks the other way round: it is conv's adjoint.
    n = x.ndim - 2
    spans = [(k - 1) * d + 1 for k, d in zip(w.shape, _tuple(dilation, n))]
    extra = [length - (out - 1) * s - (span % 2 if padding == "same" else span)
             for length, out, s, span in zip(x.shape[1:], gy.shape[1:], _tuple(strides, n), spans)]
    out = ops.conv_transpose(gy, w, output_padding=None if strides == 1 else extra, **kw)
    np.testing.assert_allclose(out.numpy(), blocked[1], rtol=1e-12, atol=1e-12)


def test_blocks_keep_float32(monkeypatch):
    monkeypatch.setattr(_im2col, "BLOCK_BYTES", 3000)
    monkeypatch.setattr(_im2col, "BLOCK_PIXELS", 1)
    x = Tensor(randn(2, 6, 6, 3).astype(np.float32), requires_grad=True)
    w = Tensor(randn(3, 3, 3, 4).astype(np.float32), requires_grad=True)
    y = ops.conv(x, w, padding="same")
    y.backward(np.ones(y.shape, np.float32))
    assert {y.dtype, x.grad.dtype, w.grad.dtype} == {np.dtype(np.float32)}
    expected = ref_conv(x.numpy().astype(np.float64), w.numpy().astype(np.float64), 1, "same")
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_stride1_input_gradient_is_a_full_correlation():
    g = _im2col.make_geometry((7, 6), (5, 6), (3, 2), (1, 1), (1, 2), (0, 1))
    gy, w = randn(2, 5, 6, 3, seed=53), randn(3, 2, 4, 3, seed=54)
    assert g.adjoint() is not None
    plain = _im2col.col2im(np, gy.reshape(-1, 3) @ w.reshape(-1, 3).T, g, 4)
    np.testing.assert_allclose(_im2col.conv_grad_input(np, gy, w, g), plain, rtol=1e-12,
                               atol=1e-12)


# -- errors -----------------------------------------------------------------------------------

def test_channel_mismatch():
    with pytest.raises(ValueError, match=r"conv: the input has 3 channels but the kernel "
                                         r"expects 4.*Received: inputs.shape=\(2, 5, 5, 3\), "
                                         r"kernel.shape=\(3, 3, 4, 2\)"):
        ops.conv(X, randn(3, 3, 4, 2))


def test_groups_must_divide_output_channels():
    with pytest.raises(ValueError, match="the input has 4 channels"):
        ops.conv(randn(1, 5, 5, 4), randn(3, 3, 2, 3))


def test_wrong_rank():
    with pytest.raises(ValueError, match=r"rank 3, 4 or 5.*Received: inputs.shape=\(5, 3\)"):
        ops.conv(randn(5, 3), W)
    with pytest.raises(ValueError, match=r"kernel must have rank 4.*kernel.shape=\(3, 3, 4\)"):
        ops.conv(X, randn(3, 3, 4))


def test_bad_padding_and_data_format():
    with pytest.raises(ValueError, match=r"Received: padding='full'"):
        ops.conv(X, W, padding="full")
    with pytest.raises(ValueError, match=r"Received: data_format='channels_first'"):
        ops.depthwise_conv(X, DW, data_format="channels_first")
    assert ops.conv(X, W, padding="SAME").shape == (2, 5, 5, 4)


def test_bad_strides_and_small_inputs():
    with pytest.raises(ValueError, match=r"Received: strides=0"):
        ops.conv(X, W, strides=0)
    with pytest.raises(ValueError, match=r"`strides` must be an int or a tuple of 2"):
        ops.conv(X, W, strides=(1, 1, 1))
    with pytest.raises(ValueError, match=r"smaller than the \(dilated\) kernel \(5, 5\)"):
        ops.conv(randn(1, 4, 4, 3), W, dilation_rate=2)


def test_depthwise_and_transpose_channel_mismatch():
    with pytest.raises(ValueError, match="depthwise_conv: the input has 3 channels but the "
                                         "kernel expects 2"):
        ops.depthwise_conv(X, randn(3, 3, 2, 2))
    with pytest.raises(ValueError, match="conv_transpose: the input has 4 channels but the "
                                         "kernel expects 2"):
        ops.conv_transpose(Y, randn(3, 3, 4, 2))


def test_output_padding_must_be_below_stride():
    with pytest.raises(ValueError, match=r"Received: output_padding=2"):
        ops.conv_transpose(Y, WT, strides=2, output_padding=2)
