"""keras.random: distributions (moments against closed forms), seeds, SeedGenerator, devices."""
import numpy as np
import pytest

import kerasish as keras
from engine import Tensor, backend
from engine.gradcheck import check_grad
from kerasish import config, random

N = 200_000  # samples per moment check: standard errors below 0.3% of a unit variance


@pytest.fixture(params=["cpu", pytest.param("gpu", marks=pytest.mark.gpu)])
def device(request):
    if request.param == "gpu" and not backend.cupy_available():
        pytest.skip("CuPy with a CUDA device is not available")
    previous = config.device()
    config.set_device(request.param)
    yield request.param
    config.set_device(previous)


def _np(t):
    assert isinstance(t, Tensor)
    return backend.to_numpy(t.data)


def test_normal_and_uniform_moments_dtype_and_device(device):
    x = random.normal((N,), mean=2.0, stddev=3.0, seed=1)
    assert x.dtype == "float32" and x.device == device and x.shape == (N,)
    x = _np(x)
    assert abs(x.mean() - 2.0) < 0.03 and abs(x.std() - 3.0) < 0.03
    u = _np(random.uniform((N,), minval=-1.0, maxval=3.0, seed=2))
    assert u.min() >= -1.0 and u.max() < 3.0
    assert abs(u.mean() - 1.0) < 0.02 and abs(u.var() - 16 / 12) < 0.02  # (b - a)^2 / 12
    assert random.uniform((2,), dtype="float64", seed=0).dtype == "float64"
    assert random.normal((2,), dtype="float16", seed=0).dtype == "float16"


def test_truncated_normal_stays_within_two_stddevs(device):
    x = _np(random.truncated_normal((N,), mean=1.0, stddev=2.0, seed=3))
    assert x.min() >= 1.0 - 4.0 and x.max() <= 1.0 + 4.0
    # Variance of a standard normal truncated to [-2, 2]: 1 - 2 * 2 * phi(2) / (2 * Phi(2) - 1).
    phi2 = np.exp(-2.0) / np.sqrt(2 * np.pi)
    var = 1 - 4 * phi2 / 0.9544997361036416
    assert abs(x.mean() - 1.0) < 0.02 and abs(x.var() / 4 - var) < 0.01


def test_randint_range_and_frequencies(device):
    x = random.randint((N,), minval=3, maxval=7, seed=4)
    assert x.dtype == "int32"
    counts = np.bincount(_np(x), minlength=7)[3:]
    assert counts.sum() == N and np.all(np.abs(counts / N - 0.25) < 0.01)
    assert random.randint((2,), 0, 5, dtype="int64", seed=0).dtype == "int64"
    with pytest.raises(ValueError, match="integer `dtype`"):
        random.randint((2,), 0, 5, dtype="float32")


def test_gamma_beta_binomial_moments(device):
    g = _np(random.gamma((N,), alpha=3.0, seed=5))
    assert abs(g.mean() - 3.0) < 0.03 and abs(g.var() - 3.0) < 0.1  # mean = var = alpha
    b = _np(random.beta((N,), alpha=2.0, beta=3.0, seed=6))
    assert abs(b.mean() - 0.4) < 0.005 and abs(b.var() - 0.04) < 0.002  # ab/((a+b)^2(a+b+1))
    n = random.binomial((N,), counts=10, probabilities=0.3, seed=7)
    assert n.dtype == "float32"
    n = _np(n)
    assert np.all(n == np.round(n)) and abs(n.mean() - 3.0) < 0.03 and abs(n.var() - 2.1) < 0.05


def test_categorical_follows_the_softmax_of_the_logits(device):
    probs = np.array([[0.2, 0.5, 0.3], [0.9, 0.05, 0.05]])
    draws = random.categorical(np.log(probs), 50_000, seed=8)
    assert draws.shape == (2, 50_000) and draws.dtype == "int32"
    draws = _np(draws)
    for row, p in zip(draws, probs):
        assert np.allclose(np.bincount(row, minlength=3) / 50_000, p, atol=0.01)
    with pytest.raises(ValueError, match="2-D"):
        random.categorical(np.zeros(3), 2)


def test_dropout_scales_keeps_rate_and_is_differentiable(device):
    x = np.ones((400, 500), "float32")
    y = _np(random.dropout(x, 0.25, seed=9))
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.01
    # A mask broadcast over the first axis: whole columns drop together.
    z = _np(random.dropout(np.ones((4, 6), "float32"), 0.5, noise_shape=(1, 6), seed=3))
    assert np.all(z == z[:1])
    w = np.random.default_rng(0).standard_normal((3, 4))
    check_grad(lambda t: random.dropout(t, 0.5, seed=11), w)


def test_shuffle_permutes_along_an_axis(device):
    x = np.arange(12).reshape(3, 4)
    y = _np(random.shuffle(x, axis=1, seed=10))
    assert sorted(y[0].tolist()) == [0, 1, 2, 3] and np.all(y - y[:, :1] == (y[0] - y[0, 0]))
    assert sorted(_np(random.shuffle(np.arange(50), seed=1)).tolist()) == list(range(50))


def test_an_int_seed_is_a_fixed_draw_and_none_follows_set_random_seed(device):
    a, b = random.normal((5,), seed=42), random.normal((5,), seed=42)
    assert np.array_equal(_np(a), _np(b))
    assert not np.array_equal(_np(a), _np(random.normal((5,), seed=43)))
    keras.utils.set_random_seed(7)
    first = [_np(random.uniform((3,))) for _ in range(2)]
    assert not np.array_equal(*first)  # None: a new draw each call
    keras.utils.set_random_seed(7)
    again = [_np(random.uniform((3,))) for _ in range(2)]
    assert all(np.array_equal(p, q) for p, q in zip(first, again))


def test_seed_generator_advances_and_reproduces():
    gen = random.SeedGenerator(1337)
    assert gen.state.dtype == "uint32" and gen.state.shape == (2,)
    assert backend.to_numpy(gen.state.data).tolist() == [1337, 0]
    a, b = _np(random.normal((4,), seed=gen)), _np(random.normal((4,), seed=gen))
    assert not np.array_equal(a, b)
    assert backend.to_numpy(gen.state.data).tolist() == [1337, 2]
    other = random.SeedGenerator(1337)
    assert np.array_equal(_np(random.normal((4,), seed=other)), a)
    assert np.array_equal(_np(random.normal((4,), seed=other)), b)
    assert gen.get_config() == {"seed": 1337, "name": gen.name}
    assert random.SeedGenerator.from_config(gen.get_config()).name == gen.name
    assert gen.next(ordered=False).tolist() == [1337, 2]  # then (state + 1) * 5387 % 933199
    assert backend.to_numpy(gen.state.data).tolist() == [1338 * 5387 % 933199, 3 * 5387]


def test_bad_seed_and_dtype_are_refused():
    with pytest.raises(ValueError, match="SeedGenerator"):
        random.normal((2,), seed="abc")
    with pytest.raises(ValueError, match="must be an integer"):
        random.SeedGenerator(seed=1.5)
    with pytest.raises(ValueError, match="floating point"):
        random.uniform((2,), dtype="int32")
