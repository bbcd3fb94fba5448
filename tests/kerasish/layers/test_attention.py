"""MultiHeadAttention, GroupQueryAttention, Attention and AdditiveAttention against plain-NumPy
attention (einsum projections, softmax over scaled scores, masks), with Keras's weights."""
import numpy as np
import pytest

import engine
import kerasish as keras
from kerasish.layers import (AdditiveAttention, Attention, GroupQueryAttention,
                             MultiHeadAttention)
from tests.helpers import check_layer_grads, run_layer_test


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _softmax(s, mask=None):
    if mask is not None:
        s = np.where(mask, s, -1e9)
    e = np.exp(s - s.max(-1, keepdims=True))
    p = e / e.sum(-1, keepdims=True)
    return p if mask is None else np.where(mask, p, 0.0)


def _randomize(layer, seed=1):
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.standard_normal(w.shape).astype("float32") * 0.5
                       for w in layer.weights])


def _mha_reference(layer, q, v, mask=None):
    """Plain NumPy: per-head projections, softmax(Q K^T / sqrt(key_dim)), output projection."""
    wq, bq, wk, bk, wv, bv, wo, bo = [w.numpy().astype(np.float64) for w in layer.weights]
    query = np.einsum("btd,dnh->btnh", q, wq) + bq
    key = np.einsum("bsd,dnh->bsnh", v, wk) + bk
    value = np.einsum("bsd,dnh->bsnh", v, wv) + bv
    scores = np.einsum("btnh,bsnh->bnts", query, key) / np.sqrt(wq.shape[-1])
    probs = _softmax(scores, None if mask is None else mask[:, None])
    heads = np.einsum("bnts,bsnh->btnh", probs, value)
    return np.einsum("btnh,nhd->btd", heads, wo) + bo, probs


# -- MultiHeadAttention -----------------------------------------------------------------------
def test_mha_weights_are_keras():
    keras.utils.clear_session(free_memory=False)  # NOTE: the paths hold the layer's auto name
    layer = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4, output_shape=7)
    layer(_x(2, 4, 6), _x(2, 5, 3))
    # Keras 3.15: MultiHeadAttention(2, 3, value_dim=4, output_shape=(7,))(q (.., 6), v (.., 3))
    assert [(w.path, w.shape) for w in layer.weights] == [
        ("multi_head_attention/query/kernel", (6, 2, 3)),
        ("multi_head_attention/query/bias", (2, 3)),
        ("multi_head_attention/key/kernel", (3, 2, 3)), ("multi_head_attention/key/bias", (2, 3)),
        ("multi_head_attention/value/kernel", (3, 2, 4)),
        ("multi_head_attention/value/bias", (2, 4)),
        ("multi_head_attention/attention_output/kernel", (2, 4, 7)),
        ("multi_head_attention/attention_output/bias", (7,))]
    assert [layer.query_dense.name, layer.key_dense.name, layer.value_dense.name,
            layer.output_dense.name] == ["query", "key", "value", "attention_output"]


@pytest.mark.parametrize("masked", [False, True])
def test_mha_matches_numpy(masked):
    q, v = _x(2, 4, 6), _x(2, 5, 3, seed=1)
    layer = MultiHeadAttention(num_heads=2, key_dim=3)
    layer(q, v)
    _randomize(layer)
    mask = np.random.default_rng(2).random((2, 4, 5)) > 0.3 if masked else None
    y, scores = layer(q, v, attention_mask=mask, return_attention_scores=True)
    expected, probs = _mha_reference(layer, q, v, mask)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(scores.numpy(), probs, rtol=1e-4, atol=1e-5)


def test_mha_causal_mask_and_input_masks():
    q = _x(2, 4, 6)
    layer = MultiHeadAttention(num_heads=2, key_dim=3)
    layer(q, q)
    _randomize(layer)
    causal = np.tril(np.ones((4, 4), bool))[None]
    expected, _ = _mha_reference(layer, q, q, np.broadcast_to(causal, (2, 4, 4)))
    np.testing.assert_allclose(layer(q, q, use_causal_mask=True).numpy(), expected, rtol=1e-4,
                               atol=1e-4)
    # Keras masks on the inputs: query [B, T] -> [B, T, 1], value [B, S] -> [B, 1, S].
    query_mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    value_mask = np.array([[1, 0, 1, 1], [1, 1, 1, 0]], bool)
    query, value = engine.Tensor(q), engine.Tensor(q)
    query._keras_mask, value._keras_mask = engine.Tensor(query_mask), engine.Tensor(value_mask)
    y = layer(query, value)
    expected, _ = _mha_reference(layer, q, q, query_mask[:, :, None] & value_mask[:, None, :])
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(y._keras_mask.numpy(), query_mask)


def test_mha_harness_and_gradients():
    value = _x(2, 5, 3, seed=3)
    # NOTE: the key bias gets no gradient (it adds the same q.b to every score of a query, and
    # softmax ignores that), so the one-step check runs on the layer without biases below.
    run_layer_test(MultiHeadAttention, {"num_heads": 2, "key_dim": 3}, (2, 4, 6), (2, 4, 6),
                   expected_num_trainable_weights=8, call_kwargs={"value": value},
                   run_training_check=False)
    run_layer_test(MultiHeadAttention, {"num_heads": 2, "key_dim": 2, "use_bias": False,
                                        "output_shape": (5,), "dropout": 0.1, "seed": 1},
                   (2, 4, 6), (2, 4, 5), expected_num_trainable_weights=4,
                   call_kwargs={"value": value})
    layer = MultiHeadAttention(2, 3, dtype="float64", bias_initializer="random_normal")
    check_layer_grads(layer, np.random.default_rng(4).standard_normal((2, 4, 6)),
                      call_kwargs={"value": np.random.default_rng(5).standard_normal((2, 5, 3)),
                                   "use_causal_mask": True})


def test_mha_attention_axes_over_2d_positions():
    x = _x(2, 3, 4, 6)
    layer = MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(1, 2))
    y, scores = layer(x, x, return_attention_scores=True)
    assert y.shape == (2, 3, 4, 6) and scores.shape == (2, 2, 3, 4, 3, 4)
    np.testing.assert_allclose(scores.numpy().reshape(2, 2, 12, 12).sum(-1), 1.0, rtol=1e-5)
    # Flattening the positions gives ordinary attention over 12 steps with the same weights.
    flat = MultiHeadAttention(num_heads=2, key_dim=3)
    flat(x.reshape(2, 12, 6), x.reshape(2, 12, 6))
    flat.set_weights(layer.get_weights())
    np.testing.assert_allclose(flat(x.reshape(2, 12, 6), x.reshape(2, 12, 6)).numpy(),
                               y.numpy().reshape(2, 12, 6), rtol=1e-4, atol=1e-5)


def test_mha_in_a_functional_model_with_key_and_scores():
    q_in, v_in, k_in = keras.Input((4, 6)), keras.Input((5, 3)), keras.Input((5, 2))
    out, scores = MultiHeadAttention(2, 3)(q_in, v_in, key=k_in, return_attention_scores=True)
    assert out.shape == (None, 4, 6) and scores.shape == (None, 2, 4, 5)
    model = keras.Model([q_in, v_in, k_in], [out, scores])
    y, s = model.predict([_x(2, 4, 6), _x(2, 5, 3), _x(2, 5, 2)], verbose=0)
    assert y.shape == (2, 4, 6) and s.shape == (2, 2, 4, 5)
    assert [w.shape for w in model.layers[-1].weights][2] == (2, 2, 3)  # key kernel (2, N, H)


def test_mha_dropout_only_in_training_and_config():
    x = _x(2, 4, 6)
    layer = MultiHeadAttention(2, 3, dropout=0.5, seed=3)
    np.testing.assert_array_equal(layer(x, x).numpy(), layer(x, x).numpy())
    assert not np.allclose(layer(x, x, training=True).numpy(), layer(x, x).numpy())
    config = layer.get_config()
    assert set(config) >= {"num_heads", "key_dim", "value_dim", "dropout", "use_bias",
                           "output_shape", "attention_axes", "kernel_initializer", "seed"}
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadAttention(0, 3)


# -- GroupQueryAttention ----------------------------------------------------------------------
def test_gqa_weights_are_keras_and_forward_matches_numpy():
    q, v = _x(2, 4, 6), _x(2, 5, 6, seed=1)
    layer = GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2)
    layer(q, v)
    assert type(layer).__name__ == "GroupedQueryAttention"
    assert [(w.path, w.shape) for w in layer.weights] == [
        ("grouped_query_attention/query/kernel", (6, 4, 3)),
        ("grouped_query_attention/query/bias", (4, 3)),
        ("grouped_query_attention/key/kernel", (6, 2, 3)),
        ("grouped_query_attention/key/bias", (2, 3)),
        ("grouped_query_attention/value/kernel", (6, 2, 3)),
        ("grouped_query_attention/value/bias", (2, 3)),
        ("grouped_query_attention/attention_output/kernel", (4, 3, 6)),
        ("grouped_query_attention/attention_output/bias", (6,))]
    _randomize(layer)
    wq, bq, wk, bk, wv, bv, wo, bo = [w.numpy().astype(np.float64) for w in layer.weights]
    query = np.einsum("btd,dnh->btnh", q, wq) + bq
    key = np.repeat(np.einsum("bsd,dnh->bsnh", v, wk) + bk, 2, axis=2)
    value = np.repeat(np.einsum("bsd,dnh->bsnh", v, wv) + bv, 2, axis=2)
    causal = np.tril(np.ones((4, 5), bool))
    probs = _softmax(np.einsum("btnh,bsnh->bnts", query, key) / np.sqrt(3), causal)
    expected = np.einsum("btnh,nhd->btd", np.einsum("bnts,bsnh->btnh", probs, value), wo) + bo
    y, scores = layer(q, v, use_causal_mask=True, return_attention_scores=True)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(scores.numpy(), probs, rtol=1e-4, atol=1e-5)


def test_gqa_harness_and_gradients():
    value = _x(2, 5, 6, seed=3)
    run_layer_test(GroupQueryAttention, {"head_dim": 2, "num_query_heads": 4,
                                         "num_key_value_heads": 2},
                   (2, 4, 6), (2, 4, 6), expected_num_trainable_weights=8,
                   call_kwargs={"value": value}, run_training_check=False)
    run_layer_test(GroupQueryAttention, {"head_dim": 2, "num_query_heads": 2,
                                         "num_key_value_heads": 2, "use_bias": False},
                   (2, 4, 6), (2, 4, 6), expected_num_trainable_weights=4,
                   call_kwargs={"value": value})
    layer = GroupQueryAttention(2, 4, 1, dtype="float64", bias_initializer="random_normal")
    check_layer_grads(layer, np.random.default_rng(4).standard_normal((2, 4, 6)),
                      call_kwargs={"value": np.random.default_rng(5).standard_normal((2, 3, 6))})
    with pytest.raises(ValueError, match="divisible"):
        GroupQueryAttention(2, 3, 2)


def test_gqa_symbolic_scores_shape():
    q_in, v_in = keras.Input((4, 6)), keras.Input((7, 6))
    out, scores = GroupQueryAttention(2, 4, 2)(q_in, v_in, return_attention_scores=True)
    assert out.shape == (None, 4, 6) and scores.shape == (None, 4, 4, 7)


# -- Attention / AdditiveAttention --------------------------------------------------------------
def run_list_input_layer_test(layer_cls, init_kwargs, shapes, expected_shape, trainable):
    """The harness of tests.helpers.run_layer_test for layers called on [query, value]."""
    data = [_x(*s, seed=i) for i, s in enumerate(shapes)]
    layer = layer_cls(**init_kwargs)
    symbolic = layer([keras.Input(s[1:]) for s in shapes])
    assert symbolic.shape == (None,) + tuple(expected_shape[1:])
    layer = layer_cls(**init_kwargs)
    y = layer(data)
    assert y.shape == tuple(expected_shape) and len(layer.trainable_weights) == trainable
    clone = layer_cls.from_config(layer.get_config())
    clone(data)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(data).numpy(), y.numpy(), rtol=1e-6)
    if trainable:
        before = [w.numpy().copy() for w in layer.trainable_weights]
        loss = engine.ops.mean(engine.ops.square(layer(data, training=True)))
        for w, g in zip(layer.trainable_weights, engine.grad(loss, layer.trainable_weights)):
            w.assign(w.numpy() - 0.1 * g.numpy())
        for w, b in zip(layer.trainable_weights, before):
            assert not np.allclose(w.numpy(), b), f"{w.path} did not change"


@pytest.mark.parametrize("cls, kwargs, trainable", [
    (Attention, {}, 0), (Attention, {"use_scale": True, "score_mode": "concat"}, 2),
    (AdditiveAttention, {}, 1), (AdditiveAttention, {"use_scale": False}, 0)])
def test_attention_harness_and_gradients(cls, kwargs, trainable):
    run_list_input_layer_test(cls, kwargs, [(2, 3, 4), (2, 5, 4)], (2, 3, 4), trainable)
    rng = np.random.default_rng(7)
    check_layer_grads(cls(dtype="float64", **kwargs), rng.standard_normal((2, 3, 4)),
                      rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 4)),
                      call_kwargs={"use_causal_mask": True})


def test_attention_dot_and_concat_match_numpy():
    q, v, k = _x(2, 3, 4), _x(2, 5, 4, seed=1), _x(2, 5, 4, seed=2)
    layer = Attention(use_scale=True)
    layer([q, v, k])
    layer.set_weights([np.float32(0.7)])
    probs = _softmax(0.7 * q @ k.transpose(0, 2, 1))
    y, scores = layer([q, v, k], return_attention_scores=True)
    np.testing.assert_allclose(y.numpy(), probs @ v, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores.numpy(), probs, rtol=1e-5, atol=1e-6)
    concat = Attention(use_scale=True, score_mode="concat")
    concat([q, v])
    concat.set_weights([np.float32(0.5), np.float32(2.0)])
    scores = 2.0 * np.tanh(0.5 * (q[:, :, None] + v[:, None])).sum(-1)
    np.testing.assert_allclose(concat([q, v]).numpy(), _softmax(scores) @ v, rtol=1e-5,
                               atol=1e-6)


def test_additive_attention_matches_numpy_with_masks():
    q, v = _x(2, 3, 4), _x(2, 5, 4, seed=1)
    layer = AdditiveAttention()
    layer([q, v])
    scale = layer.scale.numpy()
    assert layer.scale.shape == (4,)
    q_mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    v_mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    y = layer([q, v], mask=[q_mask, v_mask])
    scores = (scale * np.tanh(q[:, :, None] + v[:, None])).sum(-1)
    expected = _softmax(np.where(v_mask[:, None], scores, scores - 1e9)) @ v
    np.testing.assert_allclose(y.numpy(), expected * q_mask[..., None], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(y._keras_mask.numpy(), q_mask)


def test_attention_causal_scores_and_errors():
    q = _x(1, 4, 2)
    _, scores = Attention()([q, q], use_causal_mask=True, return_attention_scores=True)
    assert np.allclose(np.triu(scores.numpy()[0], 1), 0.0)
    with pytest.raises(ValueError, match="list of inputs"):
        Attention()(q)
    with pytest.raises(ValueError, match="score_mode"):
        Attention(score_mode="add")
    assert "score_mode" not in AdditiveAttention().get_config()
    assert Attention(dropout=0.1, seed=2).get_config()["seed"] == 2


@pytest.mark.parametrize("filename", ["model.keras", "model.weights.h5", "model.h5"])
def test_attention_models_round_trip_through_files(tmp_path, filename):
    q_in, v_in = keras.Input((4, 6)), keras.Input((5, 6))
    x = MultiHeadAttention(2, 3, name="mha")(q_in, v_in)
    x = GroupQueryAttention(2, 4, 2, name="gqa")(x, v_in, use_causal_mask=True)
    x = Attention()([x, v_in])
    model = keras.Model([q_in, v_in], x)
    data = [_x(2, 4, 6), _x(2, 5, 6, seed=1)]
    expected = model.predict(data, verbose=0)
    path = str(tmp_path / filename)
    if filename.endswith(".weights.h5"):
        model.save_weights(path)
        for w in model.weights:
            w.assign(np.zeros(w.shape, "float32"))
        model.load_weights(path)
        loaded = model
    else:
        model.save(path)
        loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), expected, rtol=1e-6, atol=1e-6)
    if filename.endswith(".keras"):
        import json
        import zipfile

        config = json.loads(zipfile.ZipFile(path).read("config.json"))
        mha = [entry for entry in config["config"]["layers"] if entry["name"] == "mha"][0]
        # Keras's build config for build(query_shape, value_shape)
        assert mha["build_config"] == {"shapes_dict": {"query_shape": [None, 4, 6],
                                                       "value_shape": [None, 5, 6]}}


def test_mha_in_a_model_uses_the_embedding_mask():
    ids = keras.Input((5,), dtype="int32")
    x = keras.layers.Embedding(10, 6, mask_zero=True)(ids)
    attention = MultiHeadAttention(2, 3)
    model = keras.Model(ids, attention(x, x))
    data = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 0]])
    y = model.predict(data, verbose=0)
    vectors = model.layers[1].embeddings.numpy()[data]
    keep = data != 0
    expected, _ = _mha_reference(attention, vectors, vectors, keep[:, :, None] & keep[:, None])
    np.testing.assert_allclose(y[keep], expected[keep], rtol=1e-4, atol=1e-5)


def test_mixed_float16_computes_in_float16_with_float32_weights():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        q = _x(2, 4, 6)
        for layer, args in ((MultiHeadAttention(2, 3), (q, q)),
                            (GroupQueryAttention(2, 4, 2), (q, q)), (Attention(), ([q, q],))):
            assert layer(*args).dtype == np.float16
            assert all(w.dtype == np.float32 for w in layer.weights)
        assert MultiHeadAttention(2, 3)(keras.Input((4, 6)), keras.Input((5, 6))).dtype == \
            "float16"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_flash_attention_flag_and_gqa_activity_regularizer():
    q = _x(2, 4, 6)
    np.testing.assert_allclose(MultiHeadAttention(2, 3, flash_attention=True, seed=0)(q, q).shape,
                               (2, 4, 6))
    with pytest.raises(ValueError, match="attention scores"):
        MultiHeadAttention(2, 3, flash_attention=True)(q, q, return_attention_scores=True)
    with pytest.raises(ValueError, match="Dropout"):
        GroupQueryAttention(2, 4, 2, flash_attention=True, dropout=0.1)
    layer = GroupQueryAttention(2, 4, 2, activity_regularizer="l2")
    layer(q, q)
    assert len(layer.losses) == 5  # its output's and its four projections'


def test_mha_numbers_from_keras():
    # Keras 3.15: MultiHeadAttention(2, 2) with weights_i = 0.5 * sin(arange(size) + i),
    # called on cos(arange(12)).reshape(1, 3, 4) twice with use_causal_mask=True.
    q = np.cos(np.arange(12, dtype="float32")).reshape(1, 3, 4)
    layer = MultiHeadAttention(2, 2)
    layer(q, q)
    layer.set_weights([0.5 * np.sin(np.arange(w.size) + i).reshape(w.shape).astype("float32")
                       for i, w in enumerate(layer.get_weights())])
    expected = [[[0.3817164, 0.5370398, 0.1986112, -0.3224196],
                 [0.4147656, 0.5331368, 0.1613446, -0.3587872],
                 [0.4114687, 0.5613838, 0.1951653, -0.3504874]]]
    np.testing.assert_allclose(layer(q, q, use_causal_mask=True).numpy(), expected, atol=2e-6)
