"""Backends: the array module follows the arrays; devices never mix silently."""
import numpy as np
import pytest

from engine import Tensor, backend, ops


def test_numpy_arrays_pick_numpy():
    assert backend.get_array_module(np.ones(2)) is np
    assert backend.get_array_module() is np
    assert backend.device_of(np.ones(2)) == "cpu"


def test_to_numpy_and_to_device_cpu_round_trip():
    a = backend.to_device([1.0, 2.0], "cpu")
    assert isinstance(a, np.ndarray)
    np.testing.assert_array_equal(backend.to_numpy(a), [1.0, 2.0])


def test_unknown_device_is_an_error():
    with pytest.raises(ValueError, match="Received: device='tpu'"):
        backend.to_device(np.ones(2), "tpu")


def test_gpu_without_cupy_is_a_clear_error():
    if backend.cupy_available():
        pytest.skip("a GPU is available here")
    with pytest.raises(RuntimeError, match="CuPy"):
        backend.to_device(np.ones(2), "gpu")


def test_ops_run_on_the_inputs_device(xp):
    y = ops.multiply(Tensor(xp.ones(3, dtype=xp.float32)), 2.0)
    assert backend.get_array_module(y.data) is xp


@pytest.mark.gpu
def test_mixing_devices_names_both():
    if not backend.cupy_available():
        pytest.skip("CuPy with a CUDA device is not available")
    cpu = Tensor(np.ones(3, np.float32))
    gpu = cpu.to("gpu")
    assert gpu.device == "gpu"
    with pytest.raises(ValueError, match="different devices.*cpu.*gpu"):
        ops.add(cpu, gpu)


@pytest.mark.gpu
def test_gradient_flows_back_across_to():
    if not backend.cupy_available():
        pytest.skip("CuPy with a CUDA device is not available")
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    y = ops.multiply(x.to("gpu"), 3.0)
    y.backward(backend.to_device(np.ones(3, np.float32), "gpu"))
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), 3.0)


def test_mixed_device_error_without_a_gpu(monkeypatch):
    # A stand-in device check proves the guard fires before any array math.
    monkeypatch.setattr(backend, "device_of", lambda a: "gpu" if a.shape == (2,) else "cpu")
    with pytest.raises(ValueError, match=r"different devices.*'cpu', 'gpu'"):
        ops.add(np.ones(3, np.float32), np.ones(2, np.float32))
