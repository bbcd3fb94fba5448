"""kerasish.ops.nn: forward against NumPy closed forms (or numbers from Keras 3.15), float64
gradient checks of the composed ops, shapes on KerasTensors, and errors."""
import numpy as np
import pytest

from engine import Tensor
from engine.gradcheck import check_grad
from kerasish import ops
from kerasish.ops import nn
from kerasish.symbolic import KerasTensor

R = np.random.default_rng(0)
X = R.standard_normal((2, 3, 4))
IMG = R.standard_normal((2, 5, 6, 3))


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _sparsemax_ref(z):
    out = np.empty_like(z)
    for idx in np.ndindex(z.shape[:-1]):
        v = z[idx]
        s = np.sort(v)[::-1]
        k = np.arange(1, len(v) + 1)
        support = 1 + k * s > np.cumsum(s)
        kz = k[support][-1]
        tau = (np.cumsum(s)[kz - 1] - 1) / kz
        out[idx] = np.maximum(v - tau, 0)
    return out


UNARY = [  # (name, kwargs, reference)
    ("celu", {"alpha": 0.7}, lambda x: np.maximum(x, 0) + 0.7 * np.expm1(np.minimum(x, 0) / 0.7)),
    ("glu", {}, lambda x: x[..., :2] / (1 + np.exp(-x[..., 2:]))),
    ("hard_tanh", {}, lambda x: np.clip(x, -1, 1)),
    ("hard_shrink", {"threshold": 0.3}, lambda x: np.where(np.abs(x) > 0.3, x, 0)),
    ("soft_shrink", {}, lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0)),
    ("tanh_shrink", {}, lambda x: x - np.tanh(x)),
    ("sparse_plus", {}, lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4))),
    ("sparse_sigmoid", {}, lambda x: np.clip((x + 1) / 2, 0, 1)),
    ("squareplus", {"b": 3}, lambda x: (x + np.sqrt(x * x + 3)) / 2),
    ("threshold", {"threshold": 0.2, "default_value": -1.0}, lambda x: np.where(x > 0.2, x, -1)),
    ("sparsemax", {}, _sparsemax_ref),
    ("softmax", {"axis": (1, 2)}, lambda x: np.exp(x) / np.exp(x).sum((1, 2), keepdims=True)),
    ("log_softmax", {"axis": 1}, lambda x: np.log(_softmax(x, 1))),
    ("normalize", {}, lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)),
    ("normalize", {"order": 1, "axis": 1}, lambda x: x / np.abs(x).sum(1, keepdims=True)),
    ("rms_normalization", {"scale": 2.0},
     lambda x: 2 * x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-7)),
    ("layer_normalization", {"axis": (1, 2)},
     lambda x: (x - x.mean((1, 2), keepdims=True)) / np.sqrt(x.var((1, 2), keepdims=True) + 1e-7)),
    ("layer_normalization", {"rms_scaling": True},
     lambda x: x / np.sqrt(x.var(-1, keepdims=True) + 1e-7)),
]
UNARY_IDS = [f"{n}-{i}" for i, (n, _, _) in enumerate(UNARY)]


@pytest.mark.parametrize("name,kwargs,ref", UNARY, ids=UNARY_IDS)
def test_unary_forward_float32(name, kwargs, ref):
    y = getattr(nn, name)(X.astype(np.float32), **kwargs)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), ref(X), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name,kwargs,ref", UNARY, ids=UNARY_IDS)
def test_unary_grad(name, kwargs, ref):
    check_grad(lambda t: getattr(nn, name)(t, **kwargs), X)


def test_sparsemax_lies_on_the_simplex():
    y = nn.sparsemax(X.astype(np.float32), axis=1).numpy()
    np.testing.assert_allclose(y.sum(1), 1, rtol=1e-6)
    assert (y >= 0).all() and (y == 0).any()


def test_top_level_names():
    assert ops.celu is nn.celu and ops.dot_product_attention is nn.dot_product_attention
    assert ops.swish is nn.silu and ops.hard_swish is nn.hard_silu


def test_one_hot_and_multi_hot():
    labels = np.array([[1, 2, 2], [3, 1, 0]])
    np.testing.assert_array_equal(nn.one_hot(labels, 4, axis=0).numpy(),
                                  np.moveaxis(np.eye(4)[labels], -1, 0))
    np.testing.assert_array_equal(nn.multi_hot(labels, 5).numpy(),
                                  [[0, 1, 1, 0, 0], [1, 1, 0, 1, 0]])
    assert nn.multi_hot(np.array([0, 3]), num_classes=4).numpy().tolist() == [1, 0, 0, 1]
    with pytest.raises(ValueError, match="sparse"):
        nn.one_hot(labels, 4, sparse=True)


def test_moments_batch_normalization_psnr_polar():
    mean, var = nn.moments(X, axes=(0, 2), keepdims=True)
    np.testing.assert_allclose(mean.numpy(), X.mean((0, 2), keepdims=True))
    np.testing.assert_allclose(var.numpy(), X.var((0, 2), keepdims=True))
    m, v = X.mean((0, 1)), X.var((0, 1)) + 1
    y = nn.batch_normalization(X, m, v, axis=-1, offset=0.1, scale=2.0)
    np.testing.assert_allclose(y.numpy(), (X - m) / np.sqrt(v + 1e-3) * 2 + 0.1)
    mse = np.mean((X - 0.9 * X) ** 2)
    np.testing.assert_allclose(nn.psnr(X, 0.9 * X, 3.0).numpy(),
                               20 * np.log10(3.0) - 10 * np.log10(mse))
    np.testing.assert_allclose(nn.polar(np.abs(X), X).numpy(), np.abs(X) * np.exp(1j * X))


def test_losses_match_engine():
    target = np.eye(4)[[0, 3, 1]]
    logits = R.standard_normal((3, 4))
    np.testing.assert_allclose(
        nn.categorical_crossentropy(target, logits, from_logits=True).numpy(),
        -(target * np.log(_softmax(logits))).sum(-1))
    np.testing.assert_allclose(
        nn.sparse_categorical_crossentropy(np.array([0, 3, 1]), logits, from_logits=True).numpy(),
        -(target * np.log(_softmax(logits))).sum(-1))
    p = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(nn.binary_crossentropy(target, logits, from_logits=True).numpy(),
                               -(target * np.log(p) + (1 - target) * np.log(1 - p)), rtol=1e-6)


# -- attention ------------------------------------------------------------------------------

def _attention_ref(q, k, v, bias=None, mask=None, scale=None, causal=False, cap=None):
    reps = q.shape[2] // k.shape[2]
    k, v = np.repeat(k, reps, axis=2), np.repeat(v, reps, axis=2)
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    logits = np.einsum("btnh,bsnh->bnts", q, k) * scale
    logits = logits + (0 if bias is None else bias)
    if cap is not None:
        logits = cap * np.tanh(logits / cap)
    keep = np.ones(logits.shape, bool)
    if mask is not None:
        keep &= mask
    if causal:
        keep &= np.tril(np.ones(logits.shape[-2:], bool))
    logits = np.where(keep, logits, -1e30)
    return np.einsum("bnts,bsnh->btnh", _softmax(logits), v)


Q, K, V = R.standard_normal((2, 4, 4, 3)), R.standard_normal((2, 5, 2, 3)), R.standard_normal(
    (2, 5, 2, 3))
MASK = R.random((2, 1, 4, 5)) > 0.3
MASK[..., 0] = True
BIAS = R.standard_normal((1, 4, 4, 5))
ATTENTION = [
    {}, {"bias": BIAS, "mask": MASK, "scale": 0.3}, {"is_causal": True},
    {"attn_logits_soft_cap": 0.8},
]


@pytest.mark.parametrize("kwargs", ATTENTION, ids=["plain", "bias-mask", "causal", "cap"])
def test_dot_product_attention(kwargs):
    y = nn.dot_product_attention(Q, K, V, **kwargs)
    ref = _attention_ref(Q, K, V, bias=kwargs.get("bias"), mask=kwargs.get("mask"),
                         scale=kwargs.get("scale"), causal=kwargs.get("is_causal", False),
                         cap=kwargs.get("attn_logits_soft_cap"))
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-6, atol=1e-8)
    check_grad(lambda q, k, v: nn.dot_product_attention(q, k, v, **kwargs), Q, K, V)


def test_dot_product_attention_errors():
    with pytest.raises(ValueError, match="4D"):
        nn.dot_product_attention(Q[0], K[0], V[0])
    with pytest.raises(ValueError, match="Flash"):
        nn.dot_product_attention(Q, K, V, flash_attention=True)


# -- convolutions, pooling, rearrangements --------------------------------------------------

def _cf(x):
    return np.moveaxis(x, -1, 1)


def test_channels_first_matches_channels_last():
    k = R.standard_normal((3, 3, 3, 4))
    last = nn.conv(IMG, k, strides=2, padding="same").numpy()
    first = nn.conv(_cf(IMG), k, strides=2, padding="same", data_format="channels_first")
    np.testing.assert_allclose(first.numpy(), _cf(last))
    dk = R.standard_normal((3, 3, 3, 2))
    pk = R.standard_normal((1, 1, 6, 5))
    y = nn.separable_conv(_cf(IMG), dk, pk, data_format="channels_first").numpy()
    np.testing.assert_allclose(y, _cf(nn.separable_conv(IMG, dk, pk).numpy()))
    tk = R.standard_normal((3, 3, 2, 3))
    y = nn.conv_transpose(_cf(IMG), tk, strides=2, data_format="channels_first").numpy()
    np.testing.assert_allclose(y, _cf(nn.conv_transpose(IMG, tk, strides=2).numpy()))
    assert y.shape == (2, 2, 11, 13)  # Keras: (n - 1) * stride + kernel
    check_grad(lambda x, w: nn.depthwise_conv(x, w, data_format="channels_first"), _cf(IMG), dk)


def _adaptive_ref(x, out, reduce):
    n, h, w, c = x.shape
    y = np.empty((n, out[0], out[1], c))
    for i in range(out[0]):
        for j in range(out[1]):
            hs, he = i * h // out[0], -(-(i + 1) * h // out[0])
            ws, we = j * w // out[1], -(-(j + 1) * w // out[1])
            y[:, i, j] = reduce(x[:, hs:he, ws:we], axis=(1, 2))
    return y


@pytest.mark.parametrize("name,reduce", [("adaptive_average_pool", np.mean),
                                         ("adaptive_max_pool", np.max)])
def test_adaptive_pools(name, reduce):
    fn = getattr(nn, name)
    np.testing.assert_allclose(fn(IMG, (3, 4)).numpy(), _adaptive_ref(IMG, (3, 4), reduce))
    y = fn(_cf(IMG), 2, data_format="channels_first").numpy()
    np.testing.assert_allclose(y, _cf(_adaptive_ref(IMG, (2, 2), reduce)))
    check_grad(lambda t: fn(t, (2, 4)), IMG)


def test_pools_and_pixel_shuffles():
    y = nn.max_pool(IMG, 2, padding="same").numpy()
    assert y.shape == (2, 3, 3, 3)
    np.testing.assert_allclose(y[:, 0, 0], IMG[:, :2, :2].max((1, 2)))
    z = nn.average_pool(_cf(IMG), 2, data_format="channels_first").numpy()
    np.testing.assert_allclose(z[:, :, 0, 0], _cf(IMG)[:, :, :2, :2].mean((2, 3)))
    x = R.standard_normal((2, 2, 3, 8))
    d = nn.depth_to_space(x, 2).numpy()
    assert d.shape == (2, 4, 6, 2)
    np.testing.assert_allclose(d[:, 1, 2], x[:, 0, 1, 4:6])  # row 1 = block row 1, col 2 = 1*2+0
    np.testing.assert_allclose(nn.space_to_depth(d, 2).numpy(), x)
    xc = _cf(x)
    np.testing.assert_allclose(nn.space_to_depth(nn.depth_to_space(xc, 2, "channels_first"), 2,
                                                 "channels_first").numpy(), xc)
    check_grad(lambda t: nn.depth_to_space(t, 2), x)


def _unfold_ref(x, k, d, p, s):
    x = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    n, c, h, w = x.shape
    oh, ow = (h - (k[0] - 1) * d[0] - 1) // s[0] + 1, (w - (k[1] - 1) * d[1] - 1) // s[1] + 1
    out = np.empty((n, c, k[0], k[1], oh, ow))
    for i in range(k[0]):
        for j in range(k[1]):
            out[:, :, i, j] = x[:, :, i * d[0]::s[0], j * d[1]::s[1]][:, :, :oh, :ow]
    return out.reshape(n, c * k[0] * k[1], oh * ow)


@pytest.mark.parametrize("k,d,p,s", [((3, 3), (1, 1), (1, 1), (2, 2)),
                                     ((2, 3), (2, 1), (0, 1), (1, 2))])
def test_unfold_and_fold_are_adjoint(k, d, p, s):
    x = _cf(IMG)
    cols = nn.unfold(x, k, dilation=d, padding=p, stride=s)
    np.testing.assert_allclose(cols.numpy(), _unfold_ref(x, k, d, p, s))
    y = R.standard_normal(cols.shape)
    back = nn.fold(y, x.shape[2:], k, dilation=d, padding=p, stride=s).numpy()
    assert back.shape == x.shape
    np.testing.assert_allclose((cols.numpy() * y).sum(), (x * back).sum())  # <Ux, y> = <x, U*y>
    check_grad(lambda t: nn.fold(t, x.shape[2:], k, dilation=d, padding=p, stride=s), y)


# -- CTC (numbers from Keras 3.15) ----------------------------------------------------------

LOGITS = np.array([[[0.5, 1.0, -0.3, 0.2], [0.1, -0.4, 1.2, 0.0], [1.5, 0.2, 0.1, -1.0],
                    [0.0, 0.3, 0.3, 0.9], [-0.2, 1.1, 0.4, 0.0]],
                   [[1.0, 0.0, 0.0, 0.5], [0.2, 0.9, -0.5, 0.1], [0.3, 0.2, 0.8, 0.0],
                    [0.0, 0.0, 0.0, 0.0], [0.6, -0.6, 0.2, 0.3]]], "float32")
LABELS = np.array([[1, 2, 2], [3, 1, 0]], "int32")


def test_ctc_loss():
    y = nn.ctc_loss(LABELS, LOGITS, np.array([3, 2]), np.array([5, 4]))
    np.testing.assert_allclose(y.numpy(), [3.931783, 2.778444], rtol=1e-5)
    y = nn.ctc_loss(LABELS, LOGITS, np.array([2, 2]), np.array([5, 5]), mask_index=3)
    np.testing.assert_allclose(y.numpy(), [4.220598, 3.973375], rtol=1e-5)
    check_grad(lambda t: nn.ctc_loss(LABELS, t, np.array([3, 2]), np.array([5, 4])),
               LOGITS.astype(np.float64))


def test_ctc_decode():
    paths, scores = nn.ctc_decode(LOGITS, np.array([5, 3]))
    np.testing.assert_array_equal(paths.numpy(), [[[1, 2, 3, 1, -1], [1, 2, -1, -1, -1]]])
    np.testing.assert_allclose(scores.numpy(), [[-5.7], [-2.7]], rtol=1e-6)
    paths, _ = nn.ctc_decode(LOGITS, np.array([5, 3]), merge_repeated=False, mask_index=2)
    np.testing.assert_array_equal(paths.numpy(), [[[1, 0, 3, 1, -1], [0, 1, -1, -1, -1]]])
    paths, scores = nn.ctc_decode(LOGITS, np.array([5, 4]), strategy="beam_search",
                                  beam_width=5, top_paths=2)
    np.testing.assert_array_equal(paths.numpy(), [[[1, 2, 1, -1, -1], [1, 2, -1, -1, -1]],
                                                  [[1, 2, 3, 1, -1], [3, 1, -1, -1, -1]]])
    np.testing.assert_allclose(scores.numpy(), [[-2.80046, -3.241715], [-2.357457, -2.778444]],
                               rtol=1e-5)
    with pytest.raises(ValueError, match="strategy"):
        nn.ctc_decode(LOGITS, np.array([5, 3]), strategy="best")


# -- symbolic shapes ------------------------------------------------------------------------

SPECS = [  # (fn, args, kwargs, expected shapes)
    (nn.relu, [(None, 3)], {}, [(None, 3)]),
    (nn.glu, [(None, 8)], {}, [(None, 4)]),
    (nn.conv, [(None, 7, 8, 3), (3, 3, 3, 4)], {"strides": 2, "padding": "same"},
     [(None, 4, 4, 4)]),
    (nn.conv, [(None, 3, 7, 8), (3, 3, 3, 4)], {"data_format": "channels_first"},
     [(None, 4, 5, 6)]),
    (nn.depthwise_conv, [(None, 7, 8, 3), (3, 3, 3, 2)], {}, [(None, 5, 6, 6)]),
    (nn.separable_conv, [(None, 7, 8, 3), (3, 3, 3, 2), (1, 1, 6, 5)], {}, [(None, 5, 6, 5)]),
    (nn.conv_transpose, [(None, 7, 8, 3), (3, 3, 2, 3)], {"strides": 2}, [(None, 15, 17, 2)]),
    (nn.max_pool, [(None, 7, 8, 3)], {"pool_size": 2}, [(None, 3, 4, 3)]),
    (nn.adaptive_average_pool, [(None, 7, 8, 3)], {"output_size": (2, 3)}, [(None, 2, 3, 3)]),
    (nn.depth_to_space, [(None, 2, 3, 8)], {"block_size": 2}, [(None, 4, 6, 2)]),
    (nn.space_to_depth, [(None, 4, 6, 2)], {"block_size": 2}, [(None, 2, 3, 8)]),
    (nn.unfold, [(None, 3, 7, 8)], {"kernel_size": 3}, [(None, 27, 30)]),
    (nn.fold, [(None, 27, 30)], {"output_size": (7, 8), "kernel_size": 3}, [(None, 3, 7, 8)]),
    (nn.moments, [(None, 3, 4)], {"axes": (0, 2)}, [(3,), (3,)]),
    (nn.categorical_crossentropy, [(None, 4), (None, 4)], {}, [(None,)]),
    (nn.dot_product_attention, [(None, 4, 2, 3), (None, 5, 2, 3), (None, 5, 2, 6)], {},
     [(None, 4, 2, 6)]),
    (nn.psnr, [(None, 3), (None, 3)], {"max_val": 1.0}, [()]),
]


@pytest.mark.parametrize("fn,args,kwargs,expected", SPECS,
                         ids=[s[0].__name__ + str(i) for i, s in enumerate(SPECS)])
def test_specs_on_keras_tensors(fn, args, kwargs, expected):
    out = fn(*[KerasTensor(s) for s in args], **kwargs)
    out = out if isinstance(out, (list, tuple)) else [out]
    assert [tuple(o.shape) for o in out] == expected
    assert all(isinstance(o, KerasTensor) for o in out)


def test_one_hot_spec_and_ctc_spec():
    assert nn.one_hot(KerasTensor((None, 3), "int32"), 5).shape == (None, 3, 5)
    assert nn.ctc_loss(KerasTensor((None, 3), "int32"), KerasTensor((None, 6, 4)),
                       KerasTensor((None,), "int32"), KerasTensor((None,), "int32")).shape == (
        None,)


def test_errors():
    with pytest.raises(ValueError, match="even"):
        nn.glu(np.ones((2, 3)))
    with pytest.raises(ValueError, match="order"):
        nn.normalize(np.ones(3), order=0)
    with pytest.raises(ValueError, match="one shape"):
        nn.psnr(np.ones(3), np.ones(4), 1.0)
    with pytest.raises(ValueError, match="data_format"):
        nn.conv(IMG, np.ones((3, 3, 3, 1)), data_format="nhwc")


def test_integer_inputs_become_float():
    y = nn.relu(Tensor(np.array([-1, 2])))
    assert y.dtype == np.float32 and y.numpy().tolist() == [0.0, 2.0]


def test_a_functional_model_of_nn_ops_trains_and_predicts_like_eager():
    from kerasish import Input, Model, layers

    inputs = Input((6, 4))
    dense = layers.Dense(8)
    h = nn.layer_normalization(dense(inputs))
    h = nn.dot_product_attention(*(ops.reshape(h, (-1, 6, 2, 4)),) * 3, is_causal=True)
    h = nn.rms_normalization(nn.celu(ops.reshape(h, (-1, 6, 8))))
    head = layers.Dense(1)
    outputs = head(nn.adaptive_average_pool(h, 2, data_format="channels_last"))
    model = Model(inputs, outputs)
    x = R.standard_normal((32, 6, 4)).astype(np.float32)
    y = x[:, ::3, :1].astype(np.float32)
    model.compile(optimizer="adam", loss="mse")
    losses = model.fit(x, y, epochs=6, batch_size=8, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    e = nn.layer_normalization(dense(x))
    e = nn.dot_product_attention(*(ops.reshape(e, (-1, 6, 2, 4)),) * 3, is_causal=True)
    e = head(nn.adaptive_average_pool(nn.rms_normalization(nn.celu(ops.reshape(e, (-1, 6, 8)))),
                                      2))
    np.testing.assert_allclose(model.predict(x, verbose=0), e.numpy(), rtol=1e-5, atol=1e-6)


def test_normalize_of_a_zero_vector_is_zero_without_warnings():
    np.testing.assert_array_equal(nn.normalize(np.zeros((2, 3), "float32")).numpy(), 0)
