"""The zoo's shared ImageNet helpers: the three preprocessing modes on NumPy and CuPy arrays,
engine Tensors and KerasTensors, against closed forms of Keras's definitions; the input-shape
rule and correct_pad against Keras 3.15's documented results."""
import numpy as np
import pytest

import engine
import kerasish
from applications import imagenet_utils, weights

PIXEL = (255.0, 128.0, 0.0)  # one RGB pixel
# Keras's definitions, written out: "tf" x / 127.5 - 1; "torch" (x / 255 - mean) / std with
# ImageNet's RGB mean and std; "caffe" BGR minus ImageNet's BGR mean pixel.
EXPECTED = {
    "tf": [1.0, 128.0 / 127.5 - 1.0, -1.0],
    "torch": [(1.0 - 0.485) / 0.229, (128.0 / 255.0 - 0.456) / 0.224, (0.0 - 0.406) / 0.225],
    "caffe": [0.0 - 103.939, 128.0 - 116.779, 255.0 - 123.68],
}


def batch(layout):
    """Two 2x2 images of PIXEL, channels last or first."""
    x = np.broadcast_to(np.asarray(PIXEL, "float32"), (2, 2, 2, 3)).copy()
    return x if layout == "channels_last" else np.moveaxis(x, -1, 1).copy()


def expected(mode, layout):
    out = np.broadcast_to(np.asarray(EXPECTED[mode]), (2, 2, 2, 3))
    return out if layout == "channels_last" else np.moveaxis(out, -1, 1)


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
@pytest.mark.parametrize("mode", ["tf", "torch", "caffe"])
def test_modes_on_arrays(xp, mode, layout):
    x = xp.asarray(batch(layout))
    out = imagenet_utils.preprocess_input(x, data_format=layout, mode=mode)
    assert type(out) is type(x) and out.dtype == np.float32
    np.testing.assert_allclose(engine.backend.to_numpy(out), expected(mode, layout), rtol=1e-6,
                               atol=1e-6)
    # Float arrays are updated in place, as Keras updates NumPy arrays.
    assert out.base is x or out is x


@pytest.mark.parametrize("mode", ["tf", "torch", "caffe"])
def test_integer_arrays_become_floatx(xp, mode):
    x = xp.asarray(batch("channels_last").astype("uint8"))
    out = imagenet_utils.preprocess_input(x, mode=mode)
    assert out.dtype == np.float32
    np.testing.assert_allclose(engine.backend.to_numpy(out), expected(mode, "channels_last"),
                               rtol=1e-6, atol=1e-6)
    assert int(x[0, 0, 0, 0]) == 255  # the integer input is left as it was


@pytest.mark.parametrize("mode", ["tf", "torch", "caffe"])
def test_modes_on_tensors(xp, mode):
    device = "gpu" if xp is not np else "cpu"
    for dtype in ("float32", "uint8"):
        x = engine.Tensor(xp.asarray(batch("channels_last").astype(dtype)))
        out = imagenet_utils.preprocess_input(x, mode=mode)
        assert isinstance(out, engine.Tensor) and out.dtype == np.float32
        assert out.device == device
        np.testing.assert_allclose(engine.backend.to_numpy(out.data),
                                   expected(mode, "channels_last"), rtol=1e-6, atol=1e-6)
    x = engine.Tensor(xp.asarray(batch("channels_first")))
    out = imagenet_utils.preprocess_input(x, data_format="channels_first", mode=mode)
    np.testing.assert_allclose(engine.backend.to_numpy(out.data),
                               expected(mode, "channels_first"), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", ["tf", "torch", "caffe"])
def test_modes_inside_a_model(mode):
    inputs = kerasish.Input((2, 2, 3))
    outputs = imagenet_utils.preprocess_input(inputs, mode=mode)
    model = kerasish.Model(inputs, outputs)
    np.testing.assert_allclose(model.predict(batch("channels_last"), verbose=0),
                               expected(mode, "channels_last"), rtol=1e-6, atol=1e-5)


def test_single_channels_first_image_and_errors():
    image = batch("channels_first")[0]  # (3, 2, 2): the channel axis is the first
    out = imagenet_utils.preprocess_input(image, data_format="channels_first", mode="caffe")
    np.testing.assert_allclose(out[:, 0, 0], EXPECTED["caffe"], rtol=1e-6)
    with pytest.raises(ValueError, match=r"Expected mode to be one of `caffe`, `tf` or `torch`. "
                                         r"Received: mode=keras"):
        imagenet_utils.preprocess_input(image, mode="keras")
    with pytest.raises(ValueError, match=r"Expected data_format to be one of `channels_first` "
                                         r"or `channels_last`. Received: data_format=NHWC"):
        imagenet_utils.preprocess_input(image, data_format="NHWC")


def test_decode_predictions_uses_keras_class_index():
    preds = np.zeros((1, 1000), dtype="float32")
    preds[0, [386, 101, 340]] = [0.2, 0.7, 0.1]
    decoded = imagenet_utils.decode_predictions(preds, top=3)
    assert [row[:2] for row in decoded[0]] == [
        ("n01871265", "tusker"), ("n02504458", "African_elephant"), ("n02391049", "zebra")]
    assert decoded[0][0][2] == np.float32(0.7)


@pytest.mark.parametrize("shape, kernel, padding", [
    ((224, 224, 3), 3, ((0, 1), (0, 1))),  # even: pad after only, as TensorFlow's "same"
    ((225, 225, 3), 3, ((1, 1), (1, 1))),
    ((None, None, 3), 3, ((0, 1), (0, 1))),  # unknown counts as even
    ((224, 225, 3), (5, 3), ((1, 2), (1, 1))),
])
def test_correct_pad(shape, kernel, padding):
    assert imagenet_utils.correct_pad(kerasish.Input(shape), kernel) == padding


def test_obtain_input_shape():
    ois = imagenet_utils.obtain_input_shape
    assert ois(None, 224, 32, "channels_last", require_flatten=True) == (224, 224, 3)
    assert ois(None, 224, 32, "channels_first", require_flatten=False) == (3, None, None)
    assert ois((64, 80, 3), 224, 32, "channels_last", require_flatten=False,
               weights="imagenet") == (64, 80, 3)
    assert ois(None, 299, 71, "channels_last", require_flatten=True,
               weights="imagenet") == (299, 299, 3)
    with pytest.warns(UserWarning, match="expects 1 or 3 input channels.*with 4 input"):
        assert ois((32, 32, 4), 224, 32, "channels_last", require_flatten=False) == (32, 32, 4)
    with pytest.raises(ValueError, match="`input_shape` must be a tuple of three integers."):
        ois((32, 32), 224, 32, "channels_last", require_flatten=False)


def test_weights_table_and_cache_lookup(tmp_path, monkeypatch):
    entry = weights.IMAGENET_FILES["resnet101v2"]
    # Keras's names, URLs and md5s (keras/src/applications/resnet.py).
    assert entry[True] == (
        "resnet101v2_weights_tf_dim_ordering_tf_kernels.h5",
        "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
        "resnet101v2_weights_tf_dim_ordering_tf_kernels.h5", "6343647c601c52e1368623803854d971")
    assert entry[False][0] == "resnet101v2_weights_tf_dim_ordering_tf_kernels_notop.h5"
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / entry[False][0]).write_bytes(b"")
    assert weights.imagenet_weights_path("resnet101v2", include_top=False) == str(
        tmp_path / "models" / entry[False][0])
    with pytest.raises(FileNotFoundError, match="vgg16_weights_tf_dim_ordering_tf_kernels.h5"):
        weights.imagenet_weights_path("vgg16", include_top=True)
    assert weights.valid_weights_argument(None) and weights.valid_weights_argument("imagenet")
    assert not weights.valid_weights_argument("no/such/file.h5")
