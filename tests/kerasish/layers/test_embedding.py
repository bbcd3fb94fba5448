"""Embedding: lookup against NumPy indexing, dtypes, mask_zero, gradients, errors."""
import numpy as np
import pytest

import kerasish as keras
from engine import Tensor
from kerasish.layers.embedding import Embedding
from tests.helpers import check_layer_grads, run_layer_test


def _table(input_dim, output_dim, seed=0):
    return np.random.default_rng(seed).standard_normal((input_dim, output_dim)).astype("float32")


def _reference(table, indices):
    """Row by row: out[..., :] = table[index]."""
    indices = np.asarray(indices)
    out = np.empty(indices.shape + (table.shape[1],), dtype=np.float64)
    for position in np.ndindex(*indices.shape):
        out[position] = table[int(indices[position])]
    return out


@pytest.mark.parametrize("input_shape", [(2, 4), (3,), (2, 3, 2)])
def test_embedding_layer_test(input_shape):
    run_layer_test(Embedding, {"input_dim": 10, "output_dim": 3}, input_shape,
                   input_shape + (3,), expected_num_trainable_weights=1,
                   input_dtype="int32", expected_weight_names=["embeddings"])


def test_embedding_layer_test_mask_zero():
    run_layer_test(Embedding, {"input_dim": 6, "output_dim": 2, "mask_zero": True}, (2, 5),
                   (2, 5, 2), expected_num_trainable_weights=1, input_dtype="int64")


def test_embedding_default_initializer_is_uniform_005():
    layer = Embedding(50, 40)
    layer.build(None)
    values = layer.embeddings.numpy()
    assert values.shape == (50, 40) and values.dtype == np.float32
    assert values.min() >= -0.05 and values.max() <= 0.05 and values.std() > 0.02
    config = layer.get_config()["embeddings_initializer"]
    assert config["class_name"] == "RandomUniform"
    assert config["config"]["minval"] == -0.05 and config["config"]["maxval"] == 0.05


def test_embedding_config_keys():
    config = Embedding(5, 2, mask_zero=True).get_config()
    for key in ("input_dim", "output_dim", "embeddings_initializer", "embeddings_regularizer",
                "activity_regularizer", "embeddings_constraint", "mask_zero",
                "quantization_config"):
        assert key in config
    clone = Embedding.from_config(config)
    assert clone.mask_zero and clone.input_dim == 5 and clone.output_dim == 2


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32", "int64", "float32",
                                   "float64"])
def test_embedding_lookup_any_index_dtype(dtype):
    table = _table(7, 3)
    indices = np.array([[0, 6, 2], [2, 2, 5]]).astype(dtype)
    layer = Embedding(7, 3)
    layer.build(None)
    layer.set_weights([table])
    y = layer(indices)
    assert y.dtype == np.float32 and y.shape == (2, 3, 3)
    np.testing.assert_array_equal(y.numpy(), _reference(table, indices.astype(np.int64)))


def test_embedding_symbolic_int_input_gives_float32():
    tokens = keras.Input((5,), dtype="int32")
    out = Embedding(9, 4)(tokens)
    assert out.shape == (None, 5, 4) and str(out.dtype) == "float32"


def test_embedding_weights_argument():
    table = _table(4, 2)
    layer = Embedding(4, 2, weights=[table])
    assert layer.built
    np.testing.assert_array_equal(layer(np.array([3, 1])).numpy(), table[[3, 1]])


def test_embedding_mask_zero():
    indices = np.array([[3, 1, 0, 0], [0, 2, 0, 5]])
    layer = Embedding(6, 2, mask_zero=True)
    expected = indices != 0
    y = layer(indices)
    np.testing.assert_array_equal(y._keras_mask.numpy(), expected)
    assert y._keras_mask.dtype == np.bool_
    np.testing.assert_array_equal(layer.compute_mask(Tensor(indices)).numpy(), expected)
    plain = Embedding(6, 2)
    assert plain.compute_mask(Tensor(indices)) is None
    assert getattr(plain(indices), "_keras_mask", None) is None


def test_embedding_grads_float64_with_repeated_indices():
    layer = Embedding(5, 3, dtype="float64", embeddings_initializer="random_normal")
    indices = np.array([[1, 1, 4], [0, 1, 4]])
    check_layer_grads(layer, indices)


def test_embedding_gradient_is_a_scatter_add():
    import engine

    layer = Embedding(4, 2)
    y = layer(np.array([[1, 1], [3, 1]]))
    (grad,) = engine.grad(engine.ops.sum(y), [layer.embeddings])
    np.testing.assert_array_equal(grad.numpy(), [[0, 0], [3, 3], [0, 0], [1, 1]])


def test_embedding_bad_arguments():
    with pytest.raises(ValueError, match="Received: input_dim=0"):
        Embedding(0, 3)
    with pytest.raises(ValueError, match="Received: output_dim=3.0"):
        Embedding(5, 3.0)
    with pytest.raises(ValueError, match="Received: lora_rank=4"):
        Embedding(5, 3, lora_rank=4)
    with pytest.warns(UserWarning, match="input_length"):
        Embedding(5, 3, input_length=7)


def test_embedding_index_out_of_range():
    layer = Embedding(5, 3, name="tok")
    with pytest.raises(ValueError, match=r"Layer 'tok' \(input_dim=5\).*max=5"):
        layer(np.array([[1, 5]]))
