"""ConvNeXt Tiny, Small, Base, Large and XLarge against Keras 3.15's facts (data/convnext_*.json,
written once by a script outside the repository from Keras 3.15's models built with
weights=None), a Keras-layout weights file written here with h5py (the stem and downsampling
blocks are nested groups), a NumPy reference of the stem and the first block, and the
family's layers LayerScale and StochasticDepth."""
import os

import h5py
import numpy as np
import pytest

import applications
import kerasish
from applications import convnext
from applications.convnext import LayerScale, StochasticDepth
from tests.applications import zoo_checks as zc
from tests.applications import zoo_helpers as zh
from tests.applications.zoo_checks import zero_weights  # noqa: F401 (a fixture)
from engine import Tensor
from tests.helpers import check_layer_grads, run_layer_test

MODELS = {f"convnext_{size}": getattr(applications, f"ConvNeXt{cls}")
          for size, cls in [("tiny", "Tiny"), ("small", "Small"), ("base", "Base"),
                            ("large", "Large"), ("xlarge", "XLarge")]}
ORIGIN = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
LN_EPS = 1e-6
# Keras 3.15's feature widths (include_top=False, pooling="avg").
WIDTHS = {"convnext_tiny": 768, "convnext_small": 768, "convnext_base": 1024,
          "convnext_large": 1536, "convnext_xlarge": 2048}


@pytest.mark.usefixtures("zero_weights")
@pytest.mark.parametrize("key", MODELS)
def test_top_model_matches_keras(key):
    facts = zh.keras_facts(key)
    kerasish.utils.clear_session()
    model = MODELS[key](weights=None)
    zc.assert_matches_keras(model, facts)
    assert list(model.input_shape) == facts["input_shape"]
    assert model.output_shape == (None, 1000)


@pytest.mark.usefixtures("zero_weights")
@pytest.mark.parametrize("key", MODELS)
def test_notop_matches_keras(key):
    facts = zh.keras_facts(key)
    kerasish.utils.clear_session()
    model = MODELS[key](weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3))
    zc.assert_notop_matches_keras(model, facts)
    assert model.output_shape == (None, WIDTHS[key])
    kerasish.utils.clear_session()
    bare = MODELS[key](weights=None, include_top=False, input_shape=(32, 32, 3))
    assert list(bare.output_shape) == facts["notop"]["bare_output_shape"]
    assert len([layer for layer in bare.layers if not zc.is_op_layer(layer)]) == (
        facts["notop"]["bare_num_layers"])


def test_nested_stem_and_blocks():
    kerasish.utils.clear_session()
    model = applications.ConvNeXtTiny(weights=None, include_top=False)
    stem = model.get_layer("convnext_tiny_stem")
    assert isinstance(stem, kerasish.Sequential)
    assert [layer.name for layer in stem.layers] == ["convnext_tiny_stem_conv",
                                                     "convnext_tiny_stem_layernorm"]
    down = model.get_layer("convnext_tiny_downsampling_block_2")
    assert [type(layer).__name__ for layer in down.layers] == ["LayerNormalization", "Conv2D"]
    dw = model.get_layer("convnext_tiny_stage_1_block_0_depthwise_conv")
    assert dw.get_config()["groups"] == 192 and dw.kernel.shape == (7, 7, 1, 192)
    assert model.get_layer("convnext_tiny_stage_0_block_0_gelu").get_config()[
        "activation"] == "gelu"
    scale = model.get_layer("convnext_tiny_stage_3_block_2_layer_scale")
    np.testing.assert_array_equal(scale.gamma.numpy(), np.full(768, 1e-6, "float32"))
    # 18 blocks, each ending in a residual add (an op, as Keras's `inputs + x`).
    assert zc.num_ops(model) == 18


def test_stochastic_depth_only_with_a_drop_path_rate():
    kerasish.utils.clear_session()
    model = convnext.ConvNeXt([1, 1, 2, 1], [8, 8, 16, 16], drop_path_rate=0.3,
                              include_top=False, input_shape=(32, 32, 3), name="tiny_test")
    drops = [layer for layer in model.layers if isinstance(layer, StochasticDepth)]
    # The schedule is linspace(0, rate, 5): the first block's 0 keeps an identity activation.
    assert [layer.drop_path_rate for layer in drops] == pytest.approx([0.075, 0.15, 0.225, 0.3])
    assert model.get_layer("tiny_test_stage_0_block_0_identity") is not None
    no_scale = convnext.ConvNeXt([1, 1, 1, 1], [8, 8, 8, 8], layer_scale_init_value=None,
                                 include_top=False, include_preprocessing=False)
    assert not any(isinstance(layer, LayerScale) for layer in no_scale.layers)
    assert type(no_scale.layers[1]).__name__ == "Sequential"


@pytest.mark.usefixtures("zero_weights")
def test_summary_matches_keras():
    # Keras's table lists the nested Sequential blocks as one row each and the residual adds.
    kerasish.utils.clear_session()
    model = applications.ConvNeXtTiny(weights=None, include_top=False, pooling="avg",
                                      input_shape=(32, 32, 3))
    zc.assert_summary_matches_keras(model, "convnext_tiny_summary.txt")


def test_arguments():
    kerasish.utils.clear_session()
    model = applications.ConvNeXtTiny(weights=None, classes=3, classifier_activation=None,
                                      name="mine")
    assert model.name == "mine" and model.output_shape == (None, 3)
    assert model.get_layer("mine_head_dense").get_config()["activation"] == "linear"
    pooled = applications.ConvNeXtTiny(weights=None, include_top=False, pooling="max",
                                       input_shape=(32, 32, 3))
    assert [type(layer).__name__ for layer in pooled.layers[-2:]] == [
        "GlobalMaxPooling2D", "LayerNormalization"]
    images = kerasish.Input((32, 32, 3))
    model = applications.ConvNeXtTiny(weights=None, include_top=False,
                                      input_tensor=kerasish.layers.Activation("linear")(images))
    assert model.inputs[0] is images


@pytest.mark.parametrize("kwargs, message", [
    ({"weights": "bogus"}, "The `weights` argument should be either `None` (random "
     "initialization), `imagenet` (pre-training on ImageNet), or the path to the weights file "
     "to be loaded."),
    ({"classes": 10}, 'If using `weights="imagenet"` with `include_top=True`, `classes` should '
     "be 1000. Received classes=10"),
    ({"input_shape": (200, 200, 3)}, "When setting `include_top=True` and loading `imagenet` "
     "weights, `input_shape` should be (224, 224, 3).  Received: input_shape=(200, 200, 3)"),
    ({"include_top": False, "name": "mine"}, 'Model name "mine" does not match weights variant '
     '"convnext_tiny". When using imagenet weights, model name must contain the weights '
     'variant (e.g., "convnext_tiny").'),
])
def test_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        applications.ConvNeXtTiny(**kwargs)
    assert str(info.value).startswith(message)


def test_channels_first_is_refused(monkeypatch):
    # NOTE: kerasish itself runs channels_last only; the check is Keras's first one.
    monkeypatch.setattr(kerasish.config, "image_data_format", lambda: "channels_first")
    with pytest.raises(ValueError, match="ConvNeXt does not support the `channels_first`"):
        applications.ConvNeXtTiny(weights=None)


@pytest.mark.parametrize("include_top", [True, False])
def test_missing_imagenet_file_names_the_path_and_url(tmp_path, monkeypatch, include_top):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    fname = "convnext_tiny.h5" if include_top else "convnext_tiny_notop.h5"
    with pytest.raises(FileNotFoundError) as info:
        applications.ConvNeXtTiny(include_top=include_top)
    assert os.path.join(str(tmp_path), "models", fname) in str(info.value)
    assert ORIGIN + fname in str(info.value)


# -- Keras's files, by topology; the forward pass against NumPy ----------------------------------
def reference_stem_and_block0(model, x):
    """Normalization by ImageNet's mean and std (x 255) -> stem (4x4/4 conv + LayerNorm) ->
    stage_0_block_0: 7x7 depthwise conv, LayerNorm, Dense 4C, exact GELU, Dense C, LayerScale,
    plus the block's input."""
    x = (x - 255 * np.array([0.485, 0.456, 0.406])) / (255 * np.array([0.229, 0.224, 0.225]))
    kernel, bias, gamma, beta = zh.weights_of(model, "convnext_tiny_stem")
    x = zc.layer_norm(zh.conv2d(x, kernel, bias, stride=4), gamma, beta, LN_EPS)
    name = "convnext_tiny_stage_0_block_0"
    kernel, bias = zh.weights_of(model, f"{name}_depthwise_conv")
    h = zh.depthwise_conv2d(x, np.moveaxis(kernel, 2, 3)) + bias  # (7, 7, 1, C) groups=C
    h = zc.layer_norm(h, *zh.weights_of(model, f"{name}_layernorm"), LN_EPS)
    kernel, bias = zh.weights_of(model, f"{name}_pointwise_conv_1")
    h = zc.gelu(h @ kernel + bias)
    kernel, bias = zh.weights_of(model, f"{name}_pointwise_conv_2")
    (gamma,) = zh.weights_of(model, f"{name}_layer_scale")
    return x + (h @ kernel + bias) * gamma


def test_imagenet_notop_file_loads_and_predicts_as_numpy(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = applications.ConvNeXtTiny(weights=None, include_top=False,
                                       input_shape=(32, 32, 3))
    (tmp_path / "models").mkdir()
    path = tmp_path / "models" / "convnext_tiny_notop.h5"
    written = zc.write_keras_weights_file(path, layout.layers, seed=11)
    with h5py.File(path, "r") as f:  # the nested group's layout (tf.keras's)
        assert [n.decode() for n in f["convnext_tiny_stem"].attrs["weight_names"]] == [
            "convnext_tiny_stem_conv/kernel:0", "convnext_tiny_stem_conv/bias:0",
            "convnext_tiny_stem_layernorm/gamma:0", "convnext_tiny_stem_layernorm/beta:0"]
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    kerasish.utils.clear_session()
    model = applications.ConvNeXtTiny(include_top=False, pooling="avg", input_shape=(32, 32, 3))
    zh.assert_loaded(model, written, [
        "convnext_tiny_stem", "convnext_tiny_stage_0_block_0_layer_scale",
        "convnext_tiny_downsampling_block_2", "convnext_tiny_stage_3_block_2_pointwise_conv_2"])
    np.testing.assert_array_equal(model.layers[-1].weights[0].numpy(),
                                  written[layout.layers[-1].name][0])
    images = np.random.default_rng(12).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    assert convnext.preprocess_input(images) is images
    after_block0 = model.get_layer("convnext_tiny_stage_0_block_1_depthwise_conv").input
    block = kerasish.Model(model.input, after_block0)
    np.testing.assert_allclose(block.predict(images, verbose=0),
                               reference_stem_and_block0(model, images.astype(np.float64)),
                               rtol=1e-4, atol=1e-4)
    features = model.predict(images, verbose=0)
    assert features.shape == (2, 768) and np.isfinite(features).all()


def test_imagenet_top_file_loads_the_head_too(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = applications.ConvNeXtTiny(weights=None)
    (tmp_path / "models").mkdir()
    written = zc.write_keras_weights_file(tmp_path / "models" / "convnext_tiny.h5",
                                          layout.layers, seed=13)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    kerasish.utils.clear_session()
    model = applications.ConvNeXtTiny()
    zh.assert_loaded(model, written, ["convnext_tiny_downsampling_block_0",
                                      "convnext_tiny_head_layernorm", "convnext_tiny_head_dense"])


# -- the family's layers --------------------------------------------------------------------------
def test_layer_scale_layer():
    run_layer_test(LayerScale, {"init_values": 0.1, "projection_dim": 4}, input_shape=(2, 3, 4),
                   expected_output_shape=(2, 3, 4), expected_num_trainable_weights=1,
                   expected_num_non_trainable_weights=0)
    rng = np.random.default_rng(0)
    check_layer_grads(LayerScale(0.5, 4, dtype="float64"), rng.standard_normal((2, 3, 4)))
    layer = LayerScale(0.5, 3)
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(layer(x).numpy(), 0.5 * x)
    assert layer.get_config()["init_values"] == 0.5
    assert layer.get_config()["projection_dim"] == 3


def test_stochastic_depth_layer():
    run_layer_test(StochasticDepth, {"drop_path_rate": 0.5}, input_shape=(2, 3, 4),
                   expected_output_shape=(2, 3, 4), expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0)
    check_layer_grads(StochasticDepth(0.3, dtype="float64"),
                      np.random.default_rng(0).standard_normal((2, 3, 4)))
    layer = StochasticDepth(0.5)
    x = np.ones((64, 2, 2, 3), "float32")
    np.testing.assert_array_equal(layer(x).numpy(), x)  # inference: the identity
    kerasish.utils.set_random_seed(1)
    y = layer(x, training=True).numpy()
    # Each sample is all 0 or all 1 / keep_prob = 2, and about half are kept.
    per_sample = y.reshape(64, -1)
    assert set(np.unique(per_sample)) <= {0.0, 2.0}
    assert (per_sample.min(axis=1) == per_sample.max(axis=1)).all()
    assert 16 < (per_sample[:, 0] > 0).sum() < 48
    # In training the gradient is the kept samples' scale: the mask / keep_prob.
    x = Tensor(np.ones((8, 3), "float64"), requires_grad=True)
    y = StochasticDepth(0.5, dtype="float64")(x, training=True)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.numpy())
    assert layer.get_config()["drop_path_rate"] == 0.5


def test_layers_are_registered_for_saving():
    assert kerasish.saving.get_registered_object("convnext>LayerScale") is LayerScale
    assert kerasish.saving.get_registered_object("convnext>StochasticDepth") is StochasticDepth


# -- preprocessing and public names ---------------------------------------------------------------
def test_preprocess_input_is_a_pass_through_and_decode_predictions():
    pixels = np.array([[[[255, 128, 0]]]], dtype="uint8")
    assert convnext.preprocess_input(pixels) is pixels
    preds = np.zeros((1, 1000), dtype="float32")
    preds[0, [145, 3]] = [0.75, 0.25]
    assert [r[:2] for r in convnext.decode_predictions(preds, top=2)[0]] == [
        ("n02056570", "king_penguin"), ("n01491361", "tiger_shark")]


def test_public_names():
    for fn in MODELS.values():
        assert getattr(kerasish.applications, fn.__name__) is fn
        assert getattr(kerasish.applications.convnext, fn.__name__) is fn
    assert sorted(fn.__name__ for fn in MODELS.values()) == [
        "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge"]
