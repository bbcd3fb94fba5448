"""ReversibleEmbedding: the lookup, the reverse projection (tied or not), soft cap, masks."""
import numpy as np
import pytest

import kerasish as keras
from kerasish.layers import ReversibleEmbedding
from tests.helpers import check_layer_grads, run_layer_test


@pytest.mark.parametrize("tie_weights, names", [(True, ["embeddings"]),
                                                (False, ["embeddings", "reverse_embeddings"])])
def test_harness_and_weights(tie_weights, names):
    layer, _ = run_layer_test(ReversibleEmbedding, {"input_dim": 7, "output_dim": 3,
                                                    "tie_weights": tie_weights},
                              (2, 4), (2, 4, 3), expected_num_trainable_weights=len(names),
                              input_dtype="int32", expected_weight_names=names,
                              # the lookup alone leaves reverse_embeddings without a gradient
                              run_training_check=tie_weights)
    if not tie_weights:
        assert layer.reverse_embeddings.shape == (3, 7)


@pytest.mark.parametrize("tie_weights", [True, False])
def test_reverse_call_matches_numpy(tie_weights):
    layer = ReversibleEmbedding(7, 3, tie_weights=tie_weights, logit_soft_cap=2.0)
    ids = np.array([[1, 2, 6]])
    vectors = layer(ids).numpy()
    np.testing.assert_array_equal(vectors, layer.embeddings.numpy()[ids])
    kernel = layer.embeddings.numpy().T if tie_weights else layer.reverse_embeddings.numpy()
    logits = layer(vectors, reverse=True).numpy()
    np.testing.assert_allclose(logits, 2.0 * np.tanh(vectors @ kernel / 2.0), rtol=1e-5,
                               atol=1e-7)
    assert logits.shape == (1, 3, 7)


def test_reverse_gradients_and_dtype():
    layer = ReversibleEmbedding(6, 4, tie_weights=False, dtype="float64")
    layer.build()
    check_layer_grads(layer, np.random.default_rng(0).standard_normal((2, 3, 4)),
                      call_kwargs={"reverse": True})
    layer = ReversibleEmbedding(6, 4, reverse_dtype="float64")
    assert layer(np.ones((2, 4), "float32"), reverse=True).dtype == np.float64


def test_mask_zero_masks_the_lookup_only():
    layer = ReversibleEmbedding(5, 2, mask_zero=True)
    y = layer(np.array([[0, 3]]))
    np.testing.assert_array_equal(y._keras_mask.numpy(), [[False, True]])
    assert getattr(layer(y, reverse=True), "_keras_mask", None) is None


def test_symbolic_reverse_call_and_config():
    layer = ReversibleEmbedding(9, 4)
    assert layer(keras.Input((5, 4)), reverse=True).shape == (None, 5, 9)
    config = layer.get_config()
    assert (config["tie_weights"], config["reverse_dtype"], config["logit_soft_cap"]) == \
        (True, None, None)
    assert ReversibleEmbedding.from_config(config).input_dim == 9
