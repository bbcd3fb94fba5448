"""Keras 3's initializer names (the lower-case aliases are the classes), STFT, deserialize, and
OrthogonalRegularizer."""
import numpy as np
import pytest

from engine import Tensor
from kerasish import initializers, regularizers

ALIASES = {"constant": "Constant", "zeros": "Zeros", "ones": "Ones", "identity": "Identity",
           "orthogonal": "Orthogonal", "random_normal": "RandomNormal",
           "random_uniform": "RandomUniform", "truncated_normal": "TruncatedNormal",
           "variance_scaling": "VarianceScaling", "glorot_normal": "GlorotNormal",
           "glorot_uniform": "GlorotUniform", "he_normal": "HeNormal", "he_uniform": "HeUniform",
           "lecun_normal": "LecunNormal", "lecun_uniform": "LecunUniform", "stft": "STFT",
           "IdentityInitializer": "Identity", "OrthogonalInitializer": "Orthogonal",
           "STFTInitializer": "STFT"}


@pytest.mark.parametrize("alias,name", sorted(ALIASES.items()))
def test_aliases_are_the_classes(alias, name):
    cls = getattr(initializers, name)
    assert getattr(initializers, alias) is cls
    assert type(initializers.get(alias)) is cls
    instance = cls()
    again = initializers.deserialize(initializers.serialize(instance))
    assert type(again) is cls and again.get_config() == instance.get_config()
    assert type(instance.clone()) is cls


def test_get_from_class_and_value():
    assert type(initializers.get(initializers.HeNormal)) is initializers.HeNormal
    values = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(initializers.get(values)((2, 3), "float32"), values)
    with pytest.raises(ValueError, match="must match the variable shape"):
        initializers.get(values)((3, 2))
    with pytest.raises(ValueError, match="Could not interpret"):
        initializers.deserialize({"class_name": "Nope", "config": {}})


def test_stft_against_keras_numbers():
    # Keras 3.15 (NumPy backend): STFT("real", "hann", "density")(shape=(5, 1, 3))[:, 0, :]
    expected = np.array([[0.0, 0.0, 0.0], [0.40824828, 0.0, -0.40824828],
                         [0.81649655, -0.81649655, 0.81649655],
                         [0.40824828, 0.0, -0.40824828], [0.0, 0.0, 0.0]])
    kernel = initializers.STFT("real", "hann", "density")((5, 1, 3))
    assert kernel.dtype == np.float32 and kernel.shape == (5, 1, 3)
    np.testing.assert_allclose(kernel[:, 0, :], expected, atol=1e-6)
    # STFT("imag", "hamming", "spectrum", periodic=True)((6, 1, 4)), column 1
    imag = initializers.STFT("imag", "hamming", "spectrum", periodic=True)((6, 1, 4))
    np.testing.assert_allclose(imag[:, 0, 1], [0.0, -0.08286047, -0.20581469, 0.0, 0.2058147,
                                               0.08286044], atol=1e-6)


def test_stft_is_a_windowed_dft():
    frame, bins = 8, 5
    kernel_re = initializers.STFT("real", None, None)((frame, 1, bins))
    kernel_im = initializers.STFT("imag", None, None)((frame, 1, bins))
    signal = np.random.default_rng(0).normal(size=frame)
    spectrum = np.fft.rfft(signal)
    np.testing.assert_allclose(signal @ kernel_re[:, 0, :], spectrum.real, atol=1e-5)
    np.testing.assert_allclose(signal @ kernel_im[:, 0, :], spectrum.imag, atol=1e-5)
    window = np.linspace(0.5, 1.0, frame)
    custom = initializers.STFT("real", window, None)((frame, 1, bins))
    np.testing.assert_allclose(custom[:, 0, :], kernel_re[:, 0, :] * window[:, None], atol=1e-6)
    with pytest.raises(ValueError, match="side should be"):
        initializers.STFT("both")
    with pytest.raises(ValueError, match="Scaling is invalid"):
        initializers.STFT(scaling="l3")


def _orthogonal_reference(w, factor, mode):
    x = w if mode == "rows" else w.T
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    product = x @ x.T
    size = product.shape[0]
    off = np.abs(product * (1 - np.eye(size))).sum()
    return factor * 0.5 * off / (size * (size - 1) / 2)


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer(mode):
    w = np.random.default_rng(0).normal(size=(3, 5))
    reg = regularizers.OrthogonalRegularizer(0.1, mode=mode)
    got = reg(Tensor(w.astype("float32")))
    np.testing.assert_allclose(float(got.numpy()), _orthogonal_reference(w, 0.1, mode),
                               rtol=1e-5)
    # Keras 3.15 (JAX backend) on [[1, 0, 1], [1, 1, 0], [0, 2, 1]]: 0.048289444 both ways
    square = np.array([[1.0, 0, 1], [1, 1, 0], [0, 2, 1]], "float32")
    np.testing.assert_allclose(float(reg(Tensor(square)).numpy()), 0.048289444, rtol=1e-6)
    assert regularizers.orthogonal_regularizer is regularizers.OrthogonalRegularizer
    config = regularizers.serialize(reg)
    again = regularizers.deserialize(config)
    assert type(again) is regularizers.OrthogonalRegularizer
    assert again.get_config() == {"factor": 0.1, "mode": mode}
    assert type(regularizers.get("orthogonal_regularizer")) is regularizers.OrthogonalRegularizer


def test_orthogonal_regularizer_gradient_and_errors():
    from engine.gradcheck import check_grad

    w = np.random.default_rng(1).normal(size=(4, 3))
    check_grad(regularizers.OrthogonalRegularizer(0.3, "columns"), w)
    with pytest.raises(ValueError, match="rank 2"):
        regularizers.OrthogonalRegularizer()(Tensor(np.ones((2, 2, 2), "float32")))
    with pytest.raises(ValueError, match="mode"):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="non-negative"):
        regularizers.OrthogonalRegularizer(-1.0)


def test_identity_is_for_matrices():
    np.testing.assert_array_equal(initializers.IdentityInitializer(2.0)((2, 3)),
                                  2 * np.eye(2, 3))
    with pytest.raises(ValueError, match="only be used for 2D matrices"):
        initializers.identity()((2, 2, 2))
