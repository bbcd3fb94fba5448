"""Shared fixtures: the ``xp`` fixture runs a test on NumPy, and on CuPy when a GPU answers."""
import numpy as np
import pytest

from engine import backend
from engine import random as engine_random


def _cupy_param():
    return pytest.param("cupy", marks=pytest.mark.gpu, id="cupy")


@pytest.fixture(params=[pytest.param("numpy", id="numpy"), _cupy_param()])
def xp(request):
    """The array module under test: numpy always; cupy only with a CUDA device (marked gpu)."""
    if request.param == "numpy":
        return np
    if not backend.cupy_available():
        pytest.skip("CuPy with a CUDA device is not available")
    return backend.xp_for("gpu")


@pytest.fixture(autouse=True)
def _seeded():
    engine_random.seed(0)
    yield
