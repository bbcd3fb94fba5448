"""Learning-rate schedules against their closed forms (float64 math written here)."""
import math

import numpy as np
import pytest

from kerasish.optimizers import schedules
from kerasish.variables import Variable


def approx(x):
    return pytest.approx(x, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("step", [0, 1, 7, 10, 25])
def test_exponential_decay(step):
    smooth = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    stairs = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert smooth(step) == approx(0.1 * 0.5 ** (step / 10))
    assert stairs(step) == approx(0.1 * 0.5 ** (step // 10))
    assert isinstance(smooth(step), float)


def test_piecewise_constant_decay_boundaries_belong_to_the_left():
    schedule = schedules.PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])
    expected = {0: 1.0, 100: 1.0, 101: 0.5, 200: 0.5, 201: 0.1, 10_000: 0.1}
    for step, value in expected.items():
        assert schedule(step) == approx(value)
    with pytest.raises(ValueError, match="The length of boundaries should be 1 less than"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5])


def test_polynomial_decay():
    linear = schedules.PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.1)
    assert linear(5) == approx(0.9 * 0.5 + 0.1)
    assert linear(50) == approx(0.1)  # capped at decay_steps
    squared = schedules.PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.0, power=2.0)
    assert squared(3) == approx((1 - 0.3) ** 2)
    cycled = schedules.PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.0, cycle=True)
    assert cycled(0) == approx(1.0)
    assert cycled(15) == approx(1 - 15 / 20)  # decay_steps grows to the next multiple: 20


@pytest.mark.parametrize("step", [0, 3, 10, 17])
def test_inverse_time_decay(step):
    smooth = schedules.InverseTimeDecay(0.5, decay_steps=5, decay_rate=2.0)
    stairs = schedules.InverseTimeDecay(0.5, decay_steps=5, decay_rate=2.0, staircase=True)
    assert smooth(step) == approx(0.5 / (1 + 2.0 * step / 5))
    assert stairs(step) == approx(0.5 / (1 + 2.0 * (step // 5)))


@pytest.mark.parametrize("step", [0, 4, 10, 30])
def test_cosine_decay(step):
    schedule = schedules.CosineDecay(0.2, decay_steps=10, alpha=0.1)
    s = min(step, 10)
    cosine = 0.5 * (1 + math.cos(math.pi * s / 10))
    assert schedule(step) == approx(0.2 * ((1 - 0.1) * cosine + 0.1))


def test_cosine_decay_with_warmup():
    schedule = schedules.CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=4)
    assert schedule(0) == approx(0.0)
    assert schedule(2) == approx(0.5)  # linear warmup
    assert schedule(4) == approx(1.0)  # decay starts from the warmup target
    assert schedule(9) == approx(0.5 * (1 + math.cos(math.pi * 5 / 10)))
    assert schedule(100) == approx(0.0)


def test_cosine_decay_restarts():
    constant = schedules.CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=1.0, alpha=0.0)
    assert constant(3) == approx(0.5 * (1 + math.cos(math.pi * 0.3)))
    assert constant(13) == approx(0.5 * (1 + math.cos(math.pi * 0.3)))
    growing = schedules.CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=2.0, m_mul=0.5)
    # The second period lasts 20 steps (10..30) and peaks at 0.5.
    assert growing(15) == approx(0.5 * 0.5 * (1 + math.cos(math.pi * 5 / 20)))
    assert growing(35) == approx(0.25 * 0.5 * (1 + math.cos(math.pi * 5 / 40)))


def test_step_may_be_a_variable():
    step = Variable(np.array(20, dtype=np.int64), name="iteration", trainable=False,
                    dtype="int64")
    schedule = schedules.ExponentialDecay(1.0, decay_steps=10, decay_rate=0.1)
    assert schedule(step) == approx(0.01)


ALL = [
    schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True),
    schedules.PiecewiseConstantDecay([10, 20], [0.3, 0.2, 0.1]),
    schedules.PolynomialDecay(0.1, 100, end_learning_rate=0.01, power=0.5, cycle=True),
    schedules.InverseTimeDecay(0.1, 10, 0.5),
    schedules.CosineDecay(0.1, 100, alpha=0.05, warmup_target=0.2, warmup_steps=10),
    schedules.CosineDecayRestarts(0.1, 10, t_mul=1.5, m_mul=0.9, alpha=0.01),
]


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: type(s).__name__)
def test_config_round_trip(schedule):
    config = schedule.get_config()
    again = type(schedule).from_config(config)
    assert again.get_config() == config
    restored = schedules.deserialize(schedules.serialize(schedule))
    assert type(restored) is type(schedule) and restored.get_config() == config
    for step in (0, 5, 17, 250):
        assert restored(step) == schedule(step)


def test_keras_config_keys_and_errors():
    assert list(schedules.CosineDecay(0.1, 10).get_config()) == [
        "initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target", "warmup_steps"]
    assert schedules.serialize(schedules.InverseTimeDecay(0.1, 1, 1.0))["module"] == \
        "keras.optimizers.schedules"
    with pytest.raises(ValueError, match="Argument `decay_steps` must be > 0. "
                                         "Received: decay_steps=0"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(NotImplementedError, match="must override `__call__"):
        schedules.LearningRateSchedule()(0)
    with pytest.raises(ValueError, match="Could not interpret decay identifier"):
        schedules.deserialize({"class_name": "Nope", "config": {}})
