"""Optimizer updates fused into one kernel per variable on the GPU (``engine.backend.fuse``):
a few steps on CuPy equal the same optimizer's steps on NumPy (the path the CPU tests check
against Keras's numbers), the weights and slots stay float32 and keep their arrays, and on
NumPy ``fuse`` runs the plain function."""
import numpy as np
import pytest

from engine import backend
from kerasish import config, optimizers
from kerasish.optimizers import adam, adaptive, sgd
from kerasish.variables import Variable

SHAPES = [(6, 4), (4,), ()]
STEPS = 3

# (factory, module, the fused step(s) it must call on the GPU)
CASES = {
    "adam": (lambda: optimizers.Adam(learning_rate=0.01), adam, "_adam_step"),
    "amsgrad": (lambda: optimizers.Adam(learning_rate=0.01, amsgrad=True), adam,
                "_amsgrad_step"),
    "adamw": (lambda: optimizers.AdamW(learning_rate=0.01, weight_decay=0.1), adam,
              "_adam_step"),
    "adam_clip_ema": (lambda: optimizers.Adam(learning_rate=0.01, clipnorm=0.5, use_ema=True),
                      adam, "_adam_step"),
    "sgd": (lambda: optimizers.SGD(learning_rate=0.1), sgd, "_sgd_step"),
    "momentum": (lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9), sgd,
                 "_momentum_step"),
    "nesterov": (lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True), sgd,
                 "_nesterov_step"),
    "sgd_global_clip": (lambda: optimizers.SGD(learning_rate=0.1, momentum=0.5,
                                               global_clipnorm=1.0), sgd, "_momentum_step"),
    "rmsprop": (lambda: optimizers.RMSprop(learning_rate=0.01), adaptive, "_rmsprop_step"),
    "rmsprop_centered_momentum": (
        lambda: optimizers.RMSprop(learning_rate=0.01, momentum=0.9, centered=True), adaptive,
        "_rmsprop_step"),
    "rmsprop_momentum": (lambda: optimizers.RMSprop(learning_rate=0.01, momentum=0.5),
                         adaptive, "_rmsprop_step"),
    "rmsprop_centered": (lambda: optimizers.RMSprop(learning_rate=0.01, centered=True),
                         adaptive, "_rmsprop_step"),
}


def _data():
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]
    return weights, grads


def _train(make, device, weights, grads):
    """Runs the steps with variables on ``device``; returns the variables and the optimizer."""
    previous = config.device()
    config.set_device(device)
    try:
        variables = [Variable(w.copy(), name=f"w{i}") for i, w in enumerate(weights)]
        opt = make()
        for step_grads in grads:
            opt.apply([backend.to_device(g, device) for g in step_grads], variables)
    finally:
        config.set_device(previous)
    return variables, opt


@pytest.fixture
def gpu():
    if not backend.cupy_available():
        pytest.skip("CuPy with a CUDA device is not available")
    return backend.xp_for("gpu")


@pytest.fixture
def calls(monkeypatch):
    """Wraps every fused step of the three modules, recording (name, argument dtypes)."""
    seen = []
    for module in (adam, sgd, adaptive):
        for name in [n for n in vars(module) if n.endswith("_step") and n.startswith("_")]:
            step = getattr(module, name)

            def spy(*args, _step=step, _name=name):
                seen.append((_name, [a.dtype for a in args if a is not None]))
                return _step(*args)

            monkeypatch.setattr(module, name, spy)
    return seen


@pytest.mark.gpu
@pytest.mark.parametrize("case", sorted(CASES))
def test_fused_steps_equal_the_numpy_steps(case, gpu, calls):
    make, _, fused_name = CASES[case]
    weights, grads = _data()
    cpu_vars, cpu_opt = _train(make, "cpu", weights, grads)
    assert calls == []  # the NumPy path never goes through the fused steps
    gpu_vars, gpu_opt = _train(make, "gpu", weights, grads)
    assert len(calls) == STEPS * len(SHAPES)
    for name, dtypes in calls:
        assert name == fused_name
        assert all(d == np.float32 for d in dtypes), dtypes  # arrays and scalars alike
    for a, b, w in zip(cpu_vars, gpu_vars, weights):
        assert backend.device_of(b.data) == "gpu" and b.data.dtype == np.float32
        np.testing.assert_allclose(backend.to_numpy(b.data), a.numpy(), rtol=2e-6, atol=1e-7)
        assert not np.array_equal(a.numpy(), w)  # it trained
    names = [[v.path.split("/", 1)[1] for v in o.variables] for o in (cpu_opt, gpu_opt)]
    assert names[0] == names[1]
    for a, b in zip(cpu_opt.variables, gpu_opt.variables):
        assert b.data.dtype == a.data.dtype  # slots float32; iteration int64 (on the host)
        np.testing.assert_allclose(backend.to_numpy(b.data), a.numpy(), rtol=2e-6, atol=1e-7)


@pytest.mark.gpu
@pytest.mark.parametrize("case", ["adam", "amsgrad", "nesterov", "rmsprop_centered_momentum"])
def test_fused_steps_update_in_place(case, gpu):
    make = CASES[case][0]
    weights, grads = _data()
    variables, opt = _train(make, "gpu", weights, grads[:1])
    arrays = [v.data for v in variables + opt.variables]
    for step_grads in grads[1:]:
        opt.apply([backend.to_device(g, "gpu") for g in step_grads], variables)
    assert all(v.data is a for v, a in zip(variables + opt.variables, arrays))


def test_fuse_on_numpy_runs_the_plain_function():
    seen = []

    def axpy(xp, y, x, a):
        seen.append(xp)
        y += a * x

    fused = backend.fuse(axpy)
    assert fused.__wrapped__ is axpy and fused.__name__ == "axpy"
    y, x = np.ones(3, np.float32), np.arange(3, dtype=np.float32)
    assert fused(y, x, np.float32(2)) is None
    assert seen == [np]
    np.testing.assert_array_equal(y, [1, 3, 5])
    assert y.dtype == np.float32


@pytest.mark.gpu
def test_fuse_on_cupy_keeps_float32_and_writes_in_place(gpu):
    def axpy(xp, y, x, a):
        y += a * xp.sqrt(x)

    fused = backend.fuse(axpy)
    y, x = gpu.ones(3, dtype=np.float32), gpu.asarray(np.array([0, 1, 4], np.float32))
    buffer = y
    fused(y, x, np.float32(0.5))
    fused(y, x, np.float32(0.5))
    assert y is buffer and y.dtype == np.float32
    np.testing.assert_array_equal(backend.to_numpy(y), [1, 2, 3])
