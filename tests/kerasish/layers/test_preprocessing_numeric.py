"""Rescaling, Normalization, Discretization and CategoryEncoding: Keras 3.15's numbers (its
docstring examples and outputs computed with Keras 3.15, hard-coded), adapt, configs, and
save -> load through ``.keras`` and legacy ``.h5``."""
import numpy as np
import pytest

import kerasish as keras
from kerasish import layers
from kerasish.sparse import SparseBatch
from tests.helpers import check_layer_grads, run_layer_test

ADAPT_ROWS = np.array([[0., 7., 4.], [2., 9., 6.], [0., 7., 4.], [2., 9., 6.]], "float32")


def _save_load(model, tmp_path, suffix):
    path = tmp_path / f"model{suffix}"
    model.save(path)
    return keras.models.load_model(path)


# -- Rescaling ----------------------------------------------------------------------------------

def test_rescaling_harness_and_grads():
    run_layer_test(layers.Rescaling, {"scale": 0.5, "offset": -1.0}, (2, 3), (2, 3))
    run_layer_test(layers.Rescaling, {"scale": [1.0, 2.0, 3.0]}, (2, 4, 3), (2, 4, 3))
    x = np.random.default_rng(0).standard_normal((2, 3))
    check_layer_grads(layers.Rescaling(2.0, 1.0, dtype="float64"), x)


def test_rescaling_numbers():
    # Keras 3.15: Rescaling([1., 2., 3.], 0.5)(uint8 ones) -> [[1.5, 2.5, 3.5]] as float32.
    y = layers.Rescaling([1.0, 2.0, 3.0], 0.5)(np.ones((1, 3), "uint8"))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), [[1.5, 2.5, 3.5]])
    y = layers.Rescaling(1 / 127.5, offset=-1)(np.array([[0, 255]], "uint8"))
    np.testing.assert_allclose(y.numpy(), [[-1.0, 1.0]], rtol=1e-6)


def test_rescaling_config_as_keras():
    config = layers.Rescaling([1.0, 2.0, 3.0], 0.5).get_config()
    assert (config["scale"], config["offset"]) == ([1.0, 2.0, 3.0], 0.5)
    # An array scale is written as a tagged value and read back as an array.
    config = layers.Rescaling(np.array([1.0, 2.0]), 0.5).get_config()
    assert config["scale"]["config"]["value"] == [1.0, 2.0]
    clone = layers.Rescaling.from_config(config)
    np.testing.assert_array_equal(clone(np.ones((1, 2))).numpy(), [[1.5, 2.5]])


# -- Normalization ------------------------------------------------------------------------------

def test_normalization_harness_and_grads():
    run_layer_test(layers.Normalization, {"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 9.0]},
                   (2, 3), (2, 3))
    run_layer_test(layers.Normalization, {}, (2, 3), (2, 3),
                   expected_num_non_trainable_weights=3,
                   expected_weight_names=["mean", "variance", "count"])
    layer = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], dtype="float64")
    check_layer_grads(layer, np.random.default_rng(0).standard_normal((3, 2)))
    layer = layers.Normalization(axis=None, invert=True, dtype="float64")
    layer.adapt(np.array([1.0, 2.0, 4.0]))
    check_layer_grads(layer, np.random.default_rng(1).standard_normal((3, 2)))


def test_normalization_keras_docstring_numbers():
    layer = layers.Normalization(axis=None)
    layer.adapt(np.array([1., 2., 3., 4., 5.], "float32"))
    np.testing.assert_allclose(layer(np.array([1., 2., 3.], "float32")).numpy(),
                               [-1.4142135, -0.70710677, 0.], rtol=1e-6)
    layer = layers.Normalization(axis=-1)
    layer.adapt(ADAPT_ROWS)
    np.testing.assert_allclose(layer(ADAPT_ROWS[:1]).numpy(), [[-1., -1., -1.]])
    layer = layers.Normalization(mean=3., variance=2.)
    np.testing.assert_allclose(layer(np.array([[1.], [2.], [3.]], "float32")).numpy(),
                               [[-1.4142135], [-0.70710677], [0.]], rtol=1e-6)
    layer = layers.Normalization(axis=-1, invert=True)
    layer.adapt(ADAPT_ROWS)
    np.testing.assert_allclose(layer(np.array([[1., 2., 3.]], "float32")).numpy(),
                               [[2., 10., 8.]])


def test_normalization_weights_and_config():
    layer = layers.Normalization()
    layer.adapt(ADAPT_ROWS)
    assert [(w.name, w.dtype, w.trainable) for w in layer.weights] == [
        ("mean", np.float32, False), ("variance", np.float32, False), ("count", np.int64, False)]
    np.testing.assert_array_equal(layer.adapt_mean.numpy(), [1., 8., 5.])
    np.testing.assert_array_equal(layer.adapt_variance.numpy(), [1., 1., 1.])  # population
    assert layer.get_config()["axis"] == (-1,) and layer.get_config()["mean"] is None
    config = layers.Normalization(axis=(1, 2), mean=[1, 2], variance=[3, 4]).get_config()
    assert (config["axis"], config["mean"], config["variance"]) == ((1, 2), [1, 2], [3, 4])
    # Given statistics broadcast right-aligned against the kept axes (Keras 3.15's numbers).
    y = layers.Normalization(mean=[1, 2], variance=[3, 4])(np.ones((2, 2), "float32"))
    np.testing.assert_allclose(y.numpy(), [[0., -0.5], [0., -0.5]])


def test_normalization_adapt_batches_merge_as_one_array():
    rng = np.random.default_rng(0)
    data = rng.normal(3.0, 2.0, (50, 4, 3)).astype("float32")
    whole = layers.Normalization(axis=-1)
    whole.adapt(data)
    batched = layers.Normalization(axis=-1)
    batched.adapt([data[i:i + 16] for i in range(0, 50, 16)])  # 16, 16, 16, 2
    expected = data.reshape(-1, 3).astype("float64")
    np.testing.assert_allclose(whole.adapt_mean.numpy(), expected.mean(0), rtol=1e-5)
    np.testing.assert_allclose(whole.adapt_variance.numpy(), expected.var(0), rtol=1e-5)
    np.testing.assert_allclose(batched.adapt_mean.numpy(), expected.mean(0), rtol=1e-5)
    np.testing.assert_allclose(batched.adapt_variance.numpy(), expected.var(0), rtol=1e-5)
    gen = layers.Normalization(axis=None)
    gen.adapt((data[i:i + 10], None) for i in range(0, 50, 10))  # (x, y) batches give x
    np.testing.assert_allclose(gen.adapt_mean.numpy(), expected.mean(), rtol=1e-5)

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return data[i * 10:(i + 1) * 10], np.zeros(10)

    sequence = layers.Normalization(axis=-1)
    sequence.adapt(Batches())
    np.testing.assert_allclose(sequence.adapt_variance.numpy(), expected.var(0), rtol=1e-5)


def test_normalization_errors():
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="same shape"):
        layers.Normalization(mean=[1.0, 2.0], variance=1.0)
    with pytest.raises(ValueError, match="empty iterable"):
        layers.Normalization().adapt([])
    layer = layers.Normalization()
    layer.adapt(ADAPT_ROWS)
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt(np.ones((2, 4), "float32"))
    with pytest.raises(TypeError, match="Unsupported data type"):
        layer.adapt(3)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_normalization_and_rescaling_save_load(tmp_path, suffix):
    inputs = keras.Input(shape=(3,))
    norm = layers.Normalization()
    norm.adapt(ADAPT_ROWS * 3.0)
    outputs = layers.Dense(2)(layers.Rescaling([1.0, 0.5, 2.0], 1.0)(norm(inputs)))
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    loaded = _save_load(model, tmp_path, suffix)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    assert [w.name for w in loaded.layers[1].weights] == ["mean", "variance", "count"]


# -- CategoryEncoding ---------------------------------------------------------------------------
# Outputs of keras.layers.CategoryEncoding(4, output_mode=mode) in Keras 3.15 (jax backend).
CATEGORY_INPUTS = [np.array([3, 2, 0, 1]), np.array([[0, 1], [0, 0], [1, 2], [3, 1]]),
                   np.array([[1], [2]]), np.array(2)]
CATEGORY_OUTPUTS = {
    "one_hot": [[[0, 0, 0, 1], [0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]],
                [[[1, 0, 0, 0], [0, 1, 0, 0]], [[1, 0, 0, 0], [1, 0, 0, 0]],
                 [[0, 1, 0, 0], [0, 0, 1, 0]], [[0, 0, 0, 1], [0, 1, 0, 0]]],
                [[0, 1, 0, 0], [0, 0, 1, 0]], [[0, 0, 1, 0]]],
    "multi_hot": [[1, 1, 1, 1], [[1, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]],
                  [[0, 1, 0, 0], [0, 0, 1, 0]], [0, 0, 1, 0]],
    "count": [[1, 1, 1, 1], [[1, 1, 0, 0], [2, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]],
              [[0, 1, 0, 0], [0, 0, 1, 0]], [0, 0, 1, 0]],
}


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_category_encoding_keras_numbers_dense_and_sparse(mode):
    dense = layers.CategoryEncoding(4, output_mode=mode)
    sparse = layers.CategoryEncoding(4, output_mode=mode, sparse=True)
    for x, expected in zip(CATEGORY_INPUTS, CATEGORY_OUTPUTS[mode]):
        y = dense(x)
        assert y.dtype == np.float32
        np.testing.assert_array_equal(y.numpy(), expected)
        s = sparse(x)
        assert isinstance(s, SparseBatch) and s.shape == y.shape
        np.testing.assert_array_equal(s.to_dense().numpy(), expected)
        # Canonical order: sorted coordinates, no repeats; as many entries as nonzeros.
        keys = np.ravel_multi_index(tuple(s.indices.T), s.dense_shape)
        assert (np.diff(keys) > 0).all() and s.nnz == np.count_nonzero(expected)


def test_category_encoding_count_weights_and_errors():
    layer = layers.CategoryEncoding(4, output_mode="count")
    weights = np.array([[.1, .2], [.1, .1], [.2, .3], [.4, .2]])
    y = layer(CATEGORY_INPUTS[1], count_weights=weights)
    np.testing.assert_allclose(y.numpy(), [[.1, .2, 0, 0], [.2, 0, 0, 0], [0, .2, .3, 0],
                                           [0, .2, 0, .4]], rtol=1e-6)
    s = layers.CategoryEncoding(4, output_mode="count", sparse=True)(
        CATEGORY_INPUTS[1], count_weights=weights)
    np.testing.assert_allclose(s.to_dense().numpy(), y.numpy())
    with pytest.raises(ValueError, match="`count_weights` is not used"):
        layers.CategoryEncoding(4)(CATEGORY_INPUTS[1], count_weights=weights)
    with pytest.raises(ValueError, match=r"0 <= values < num_tokens with num_tokens=4"):
        layers.CategoryEncoding(4)(np.array([[5, 1]]))
    with pytest.raises(ValueError, match="Unknown arg for output_mode"):
        layers.CategoryEncoding(4, output_mode="tf_idf")
    with pytest.raises(ValueError, match="num_tokens must be set"):
        layers.CategoryEncoding()


def test_category_encoding_harness_config_and_spec():
    run_layer_test(layers.CategoryEncoding, {"num_tokens": 5, "output_mode": "count"}, (3, 4),
                   (3, 5), input_dtype="int64")
    run_layer_test(layers.CategoryEncoding, {"num_tokens": 5, "output_mode": "one_hot"},
                   (3, 1), (3, 5), input_dtype="int64")
    config = layers.CategoryEncoding(4, output_mode="binary").get_config()
    assert (config["num_tokens"], config["output_mode"]) == (4, "multi_hot")
    spec = layers.CategoryEncoding(4, sparse=True)(keras.Input((2,), dtype="int32"))
    assert spec.shape == (None, 4) and spec.sparse and spec.dtype == "float32"


# -- Discretization ------------------------------------------------------------------------------
ROWS = np.array([[-1.5, 1.0, 3.4, .5], [0.0, 3.0, 1.3, 0.0]])


def test_discretization_keras_numbers():
    layer = layers.Discretization(bin_boundaries=[0., 1., 2.])
    y = layer(ROWS)
    assert y.dtype == np.int32
    np.testing.assert_array_equal(y.numpy(), [[0, 2, 3, 1], [1, 3, 2, 1]])
    expected = {"multi_hot": [[1, 1, 1, 1], [0, 1, 1, 1]], "count": [[1, 1, 1, 1], [0, 2, 1, 1]],
                "one_hot": np.eye(4)[[[0, 2, 3, 1], [1, 3, 2, 1]]]}
    for mode, out in expected.items():
        y = layers.Discretization(bin_boundaries=[0., 1., 2.], output_mode=mode)(ROWS)
        np.testing.assert_array_equal(y.numpy(), out)
        s = layers.Discretization(bin_boundaries=[0., 1., 2.], output_mode=mode,
                                  sparse=True)(ROWS)
        np.testing.assert_array_equal(s.to_dense().numpy(), out)


def test_discretization_adapt_matches_keras_quantiles():
    # Boundaries that Keras 3.15's Discretization.adapt gives on the same data.
    layer = layers.Discretization(num_bins=3)
    layer.adapt(ROWS)
    np.testing.assert_allclose(layer.bin_boundaries, [0.0, 1.100000023841858])
    np.testing.assert_array_equal(layer(ROWS).numpy(), [[0, 1, 2, 1], [1, 2, 2, 1]])
    layer = layers.Discretization(num_bins=3)
    layer.adapt(np.arange(10.))
    np.testing.assert_allclose(layer.bin_boundaries, [2.3333332538604736, 5.666666507720947])
    rng = np.random.default_rng(0)
    data = rng.normal(size=(1000, 2)).astype("float32")
    x = rng.uniform(0, 100, size=5000).astype("float32")
    cases = [
        (dict(num_bins=4), data,
         [-0.7007958889007568, -0.03446555510163307, 0.6587346792221069]),
        (dict(num_bins=5, epsilon=0.05), [data[i:i + 128] for i in range(0, 1000, 128)],
         [-0.8078513741493225, -0.1927342414855957, 0.30058783292770386, 0.9123467803001404]),
        (dict(num_bins=10, epsilon=0.001), x,
         [9.433507919311523, 19.293577194213867, 30.00107192993164, 39.704227447509766,
          49.46086502075195, 59.54087448120117, 69.73441314697266, 80.01679229736328,
          89.28358459472656]),
        (dict(num_bins=10), (x[i:i + 700] for i in range(0, 5000, 700)),
         [10.380804061889648, 20.71414566040039, 31.8209228515625, 40.571590423583984,
          51.46226119995117, 60.667388916015625, 71.03988647460938, 81.04048919677734,
          90.9101791381836]),
    ]
    for kwargs, adapt_data, expected in cases:
        layer = layers.Discretization(**kwargs)
        layer.adapt(adapt_data)
        np.testing.assert_allclose(layer.bin_boundaries, expected, rtol=1e-7)


def test_discretization_config_harness_and_errors():
    layer = layers.Discretization(num_bins=3)
    layer.adapt(np.arange(10.))
    config = layer.get_config()
    assert sorted(config) == sorted(["bin_boundaries", "num_bins", "epsilon", "output_mode",
                                     "sparse", "name", "dtype"]) and config["dtype"] == "float32"
    clone = layers.Discretization.from_config(config)
    assert clone.bin_boundaries == layer.bin_boundaries and clone.num_bins == 3
    run_layer_test(layers.Discretization, {"bin_boundaries": [-1.0, 0.0, 1.0]}, (2, 3), (2, 3))
    run_layer_test(layers.Discretization, {"bin_boundaries": [0.0], "output_mode": "count"},
                   (2, 3), (2, 2))
    with pytest.raises(ValueError, match="either `num_bins` or `bin_boundaries`"):
        layers.Discretization()
    with pytest.raises(ValueError, match="`sparse=True` may only be used"):
        layers.Discretization(num_bins=2, sparse=True)
    with pytest.raises(ValueError, match="Cannot adapt"):
        layers.Discretization(bin_boundaries=[0.0]).adapt(ROWS)
    with pytest.raises(ValueError, match="call `adapt"):
        layers.Discretization(num_bins=2)(ROWS)


# -- sparse batches through Dense, and saving -----------------------------------------------------

def test_sparse_encoding_feeds_dense_as_the_dense_encoding_does():
    ids = np.random.default_rng(0).integers(0, 50, (8, 3))
    inputs = keras.Input((3,), dtype="int64")
    dense = layers.Dense(2)
    model = keras.Model(inputs, dense(layers.CategoryEncoding(50, "count", sparse=True)(inputs)))
    reference = layers.CategoryEncoding(50, "count")(ids).numpy() @ dense.kernel.numpy() \
        + dense.bias.numpy()
    np.testing.assert_allclose(model.predict(ids, verbose=0), reference, rtol=1e-5, atol=1e-6)
    # One SGD step: the kernel rows of absent categories do not move.
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = dense.kernel.numpy().copy()
    model.fit(ids, np.ones((8, 2), "float32"), batch_size=8, epochs=1, verbose=0)
    moved = np.abs(dense.kernel.numpy() - before).sum(axis=1) > 0
    np.testing.assert_array_equal(moved, np.isin(np.arange(50), ids))


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_discretization_and_category_encoding_save_load(tmp_path, suffix):
    inputs = keras.Input(shape=(2,))
    disc = layers.Discretization(num_bins=4)
    disc.adapt(np.random.default_rng(0).normal(size=(200, 2)))
    encoded = layers.CategoryEncoding(4, output_mode="count", sparse=True)(disc(inputs))
    model = keras.Model(inputs, layers.Dense(3)(encoded))
    x = np.random.default_rng(1).normal(size=(6, 2)).astype("float32")
    loaded = _save_load(model, tmp_path, suffix)
    assert loaded.layers[1].bin_boundaries == disc.bin_boundaries
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_sparse_path_memory_does_not_grow_with_the_category_count():
    import tracemalloc

    def peak_bytes(num_tokens):
        ids = np.random.default_rng(0).integers(0, num_tokens, (512, 1))
        inputs = keras.Input((1,), dtype="int64")
        encoded = layers.CategoryEncoding(num_tokens, "one_hot", sparse=True)(inputs)
        model = keras.Model(inputs, layers.Dense(1, kernel_initializer="zeros")(encoded))
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        y = np.ones((512, 1), "float32")
        model.fit(ids, y, batch_size=512, epochs=1, verbose=0)  # first step: build, trace
        tracemalloc.start()
        model.fit(ids, y, batch_size=512, epochs=1, verbose=0)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    # A dense (512, 100000) float32 batch alone is 200 MB; the sparse step stays near the
    # size of the kernel and its gradient (100000 floats each).
    small, large = peak_bytes(1_000), peak_bytes(100_000)
    assert large < 20e6, large
    assert large - small < 8 * 100_000 * 4, (small, large)


# -- files written by the real Keras 3 ------------------------------------------------------------
_KERAS3_SCRIPT = """
import sys, numpy as np, keras
folder = sys.argv[1]
inputs = keras.Input((3,))
norm = keras.layers.Normalization()
norm.adapt(np.arange(12.0).reshape(4, 3).astype("float32"))
x = keras.layers.Rescaling([1.0, 2.0, 3.0], 0.5)(norm(inputs))
x = keras.layers.Discretization(bin_boundaries=[-1.0, 0.0, 1.5])(x)
x = keras.layers.CategoryEncoding(4, output_mode="count")(x)
model = keras.Model(inputs, keras.layers.Dense(2)(x))
model.save(folder + "/m.keras")
model.save(folder + "/m.h5")
data = np.array([[0.0, 1, 2], [5, 7, 8], [9, 10, 11]], "float32")
np.save(folder + "/y.npy", np.asarray(model.predict(data, verbose=0)))
"""


@pytest.mark.compat
def test_models_saved_by_keras3_load_and_predict_the_same(tmp_path):
    import os
    import subprocess

    python = os.environ.get("KERASISH_KERAS3_PYTHON")
    if not python:
        pytest.skip("KERASISH_KERAS3_PYTHON names no real Keras 3 interpreter")
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", PYTHONWARNINGS="ignore")
    subprocess.run([python, "-c", _KERAS3_SCRIPT, str(tmp_path)], env=env, check=True,
                   capture_output=True, timeout=600)
    data = np.array([[0.0, 1, 2], [5, 7, 8], [9, 10, 11]], "float32")
    for name in ("m.keras", "m.h5"):
        model = keras.models.load_model(tmp_path / name)
        np.testing.assert_allclose(model.predict(data, verbose=0), np.load(tmp_path / "y.npy"),
                                   rtol=1e-6, atol=1e-6)
