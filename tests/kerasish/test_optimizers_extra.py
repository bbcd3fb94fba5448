"""Keras 3's newer optimizers against their update rules written out in float64 NumPy; their
variables (Keras's order), configs, loss scaling, legacy names and a fit."""
import numpy as np
import pytest

import kerasish
from engine import Tensor
from kerasish import optimizers
from kerasish.variables import Variable

RNG = np.random.default_rng(0)
W_MAT = RNG.normal(size=(3, 4))
W_VEC = RNG.normal(size=(4,))
GRADS_MAT = [RNG.normal(size=(3, 4)) for _ in range(3)]
GRADS_VEC = [RNG.normal(size=(4,)) for _ in range(3)]


def run(opt, w0, grads):
    w = Variable(w0, name="kernel", path="dense/kernel")
    out = []
    for g in grads:
        opt.apply([g.astype("float32")], [w])
        assert w.dtype == np.float32
        out.append(w.numpy().copy())
    return out


def check(opt, reference, w0=W_VEC, grads=GRADS_VEC, rtol=1e-5, atol=1e-6):
    for got, want in zip(run(opt, w0, grads), reference(w0.copy(), grads)):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# -- references ------------------------------------------------------------------------------
def lion_ref(w, grads, lr=0.01, b1=0.9, b2=0.99):
    m, out = np.zeros_like(w), []
    for g in grads:
        w = w - lr * np.sign(b1 * m + (1 - b1) * g)
        m = b2 * m + (1 - b2) * g
        out.append(w)
    return out


def lamb_ref(w, grads, lr=0.01, b1=0.9, b2=0.999, eps=1e-7):
    m, v, out = np.zeros_like(w), np.zeros_like(w), []
    for t, g in enumerate(grads, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        update = (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        ratio = np.linalg.norm(w) / np.linalg.norm(update)
        w = w - ratio * lr * update
        out.append(w)
    return out


def ftrl_ref(w, grads, lr=0.1, power=-0.5, init=0.1, l1=0.01, l2=0.02, shrink=0.03, beta=0.5):
    n, z, out = np.full_like(w, init), np.zeros_like(w), []
    l2 = l2 + beta / (2 * lr)
    for g in grads:
        n_new = n + g * g
        z = z + g + 2 * shrink * w - (n_new ** -power - n ** -power) / lr * w
        w = (np.clip(z, -l1, l1) - z) / (n_new ** -power / lr + 2 * l2)
        n = n_new
        out.append(w)
    return out


def adafactor_ref(w, grads, lr=0.05, decay=-0.8, eps1=1e-30, eps2=1e-3, clip=1.0):
    r, c, v, out = np.zeros(w.shape[:-1]), np.zeros(w.shape[-1:]), np.zeros_like(w), []
    for t, g in enumerate(grads, 1):
        rho = min(lr, 1 / np.sqrt(t))
        alpha = max(eps2, np.sqrt(np.mean(w ** 2))) * rho
        g2 = g * g + eps1
        b2 = 1 - t ** decay
        if w.ndim == 2:
            r = b2 * r + (1 - b2) * g2.mean(axis=1)
            c = b2 * c + (1 - b2) * g2.mean(axis=0)
            v = np.outer(r / r.mean(), c)
        else:
            v = b2 * v + (1 - b2) * g2
        u = g / np.sqrt(v)
        w = w - alpha * u / max(1.0, np.sqrt(np.mean(u * u)) / clip)
        out.append(w)
    return out


def sf_adamw_ref(w, grads, lr=0.01, b1=0.9, b2=0.999, eps=1e-8, warmup=2):
    z, v, x, out = w.copy(), np.zeros_like(w), w.copy(), []
    for t, g in enumerate(grads, 1):
        lr_t = lr * min(t / warmup, 1.0)
        v = b2 * v + (1 - b2) * g * g
        z = z - lr_t * g / (np.sqrt(v / (1 - b2 ** t)) + eps)
        x = (1 - 1 / t) * x + z / t  # x: the running average of the z's
        w = (1 - b1) * z + b1 * x
        out.append(w)
    return out


def _newton_schulz(x, steps=5, a=3.4445, b=-4.7750, c=2.0315):
    tall = x.shape[0] > x.shape[1]
    x = x.T if tall else x
    x = x / (np.linalg.norm(x) + 1e-7)
    for _ in range(steps):
        s = x @ x.T
        x = a * x + (b * s + c * s @ s) @ x
    return x.T if tall else x


def muon_ref(w, grads, lr=0.02, mu=0.95, wd=0.004, rms_rate=0.2):
    m, out = np.zeros_like(w), []
    for g in grads:
        w = w - w * wd * lr
        m = mu * m + g
        update = _newton_schulz(g + mu * m)
        w = w - lr * update * np.sqrt(max(w.shape)) * rms_rate
        out.append(w)
    return out


def muon_adamw_ref(w, grads, lr=0.02, b1=0.9, b2=0.999, eps=1e-7, wd=0.004):
    m, v, out = np.zeros_like(w), np.zeros_like(w), []
    for t, g in enumerate(grads, 1):
        w = w - w * wd * lr
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        w = w - m * lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) / (np.sqrt(v) + eps)
        out.append(w)
    return out


# -- updates ---------------------------------------------------------------------------------
def test_lion():
    check(optimizers.Lion(learning_rate=0.01), lion_ref)


def test_lamb():
    check(optimizers.Lamb(learning_rate=0.01), lamb_ref, w0=W_MAT, grads=GRADS_MAT)


def test_ftrl():
    opt = optimizers.Ftrl(learning_rate=0.1, l1_regularization_strength=0.01,
                          l2_regularization_strength=0.02,
                          l2_shrinkage_regularization_strength=0.03, beta=0.5)
    check(opt, ftrl_ref)


@pytest.mark.parametrize("w0,grads", [(W_MAT, GRADS_MAT), (W_VEC, GRADS_VEC)],
                         ids=["matrix", "vector"])
def test_adafactor(w0, grads):
    check(optimizers.Adafactor(learning_rate=0.05), adafactor_ref, w0=w0, grads=grads)


def test_schedule_free_adamw():
    check(optimizers.ScheduleFreeAdamW(learning_rate=0.01, warmup_steps=2), sf_adamw_ref)


def test_muon_matrix_and_adamw_fallback():
    check(optimizers.Muon(learning_rate=0.02), muon_ref, w0=W_MAT, grads=GRADS_MAT, rtol=1e-4,
          atol=1e-5)
    check(optimizers.Muon(learning_rate=0.02), muon_ref, w0=W_MAT.T.copy(),
          grads=[g.T.copy() for g in GRADS_MAT], rtol=1e-4, atol=1e-5)
    check(optimizers.Muon(learning_rate=0.02), muon_adamw_ref)
    opt = optimizers.Muon(learning_rate=0.02, exclude_layers=["dense"])
    check(opt, muon_adamw_ref, w0=W_MAT, grads=GRADS_MAT)


# -- variables and configs -------------------------------------------------------------------
def _names(opt, *shapes):
    ws = [Variable(np.ones(s), name=f"w{i}", path=f"d/w{i}") for i, s in enumerate(shapes)]
    opt.build(ws)
    return [(v.path.split("/", 1)[1], tuple(v.shape)) for v in opt.variables]


def test_variables_in_keras_order():
    assert _names(optimizers.Ftrl(), (2, 3)) == [
        ("iteration", ()), ("learning_rate", ()), ("d_w0_accumulator", (2, 3)),
        ("d_w0_linear", (2, 3))]
    lamb = [n for n, _ in _names(optimizers.Lamb(), (2,))]
    assert lamb[2:] == ["d_w0_momentum", "d_w0_velocity"]
    assert [n for n, _ in _names(optimizers.Lion(), (2,))][2:] == ["d_w0_momentum"]
    # Keras: r, c per weight (scalars for a vector), then the velocity
    assert _names(optimizers.Adafactor(), (2, 3), (3,))[2:] == [
        ("w0", (2,)), ("w0", (3,)), ("d_w0_velocity", (2, 3)), ("w1", ()), ("w1", ()),
        ("d_w1_velocity", (3,))]
    assert [n for n, _ in _names(optimizers.Muon(), (2, 3), (3,))][2:] == [
        "d_w0_momentum", "d_w1_momentum", "d_w1_velocity"]
    lso = optimizers.LossScaleOptimizer(optimizers.SGD(0.1, momentum=0.9))
    assert [n for n, _ in _names(lso, (2,))] == [
        "iteration", "learning_rate", "step_counter", "dynamic_scale", "iteration",
        "learning_rate", "d_w0_momentum"]


@pytest.mark.parametrize("opt", [
    optimizers.Lion(0.01, beta_2=0.9), optimizers.Lamb(epsilon=1e-5),
    optimizers.Ftrl(0.2, l1_regularization_strength=0.1), optimizers.Adafactor(clip_threshold=2.),
    optimizers.ScheduleFreeAdamW(warmup_steps=3), optimizers.Muon(exclude_layers=["x"]),
], ids=lambda o: type(o).__name__)
def test_config_round_trip(opt):
    config = opt.get_config()
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is type(opt) and again.get_config() == config
    assert optimizers.get(type(opt).__name__.lower()).__class__ is type(opt)


def test_loss_scale_optimizer_config():
    opt = optimizers.LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=8.0,
                                        dynamic_growth_steps=3)
    config = opt.get_config()
    assert set(config) == {"name", "inner_optimizer", "initial_scale", "dynamic_growth_steps"}
    assert config["inner_optimizer"]["class_name"] == "Adam"
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert isinstance(again.inner_optimizer, optimizers.Adam)
    assert again.initial_scale == 8.0 and again.dynamic_growth_steps == 3
    with pytest.raises(ValueError, match="does not support `clipnorm`"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), clipnorm=1.0)
    with pytest.raises(ValueError, match="dynamic=False"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), dynamic=False)


def test_loss_scale_optimizer_skips_non_finite_steps_and_grows():
    opt = optimizers.LossScaleOptimizer(optimizers.SGD(0.5), initial_scale=8.0,
                                        dynamic_growth_steps=2)
    w = Variable(np.ones(2), name="w")
    opt.apply([np.array([8.0, 16.0], "float32")], [w])  # unscaled: [1, 2]
    np.testing.assert_allclose(w.numpy(), [0.5, 0.0])
    assert float(opt.dynamic_scale.numpy()) == 8.0 and int(opt.step_counter.numpy()) == 1
    opt.apply([np.array([np.inf, 1.0], "float32")], [w])  # skipped, scale halved
    np.testing.assert_allclose(w.numpy(), [0.5, 0.0])
    assert float(opt.dynamic_scale.numpy()) == 4.0 and int(opt.step_counter.numpy()) == 0
    assert int(opt.iterations.numpy()) == 1
    opt.apply([np.array([np.nan, 1.0], "float32")], [w])
    assert float(opt.dynamic_scale.numpy()) == 2.0
    for _ in range(2):  # two finite steps in a row double the scale
        opt.apply([np.array([0.0, 2.0], "float32")], [w])
    assert float(opt.dynamic_scale.numpy()) == 4.0 and int(opt.iterations.numpy()) == 3
    np.testing.assert_allclose(w.numpy(), [0.5, -1.0])  # 2 / 2 twice
    assert float(opt.scale_loss(Tensor(np.array(1.5, "float32"))).numpy()) == 6.0
    assert opt.learning_rate == pytest.approx(0.5)


@pytest.mark.parametrize("name", ["Adagrad", "Adam", "Ftrl", "Optimizer", "RMSprop", "SGD"])
def test_legacy_names_raise_keras_3s_import_error(name):
    with pytest.raises(ImportError, match="not supported in Keras 3"):
        getattr(optimizers.legacy, name)(learning_rate=0.1)


@pytest.mark.parametrize("opt", ["lion", "lamb", "ftrl", "adafactor", "schedulefreeadamw",
                                 "muon"])
def test_fit_reduces_the_loss(opt):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 1.0]) > 0).astype("float32")[:, None]
    model = kerasish.Sequential([kerasish.Input((4,)), kerasish.layers.Dense(8, "relu"),
                                 kerasish.layers.Dense(1, "sigmoid")])
    optimizer = optimizers.get(opt)
    optimizer.learning_rate = 0.05 if opt != "ftrl" else 0.5
    model.compile(optimizer, "binary_crossentropy")
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0).history["loss"]
    assert history[-1] < history[0]


# -- MultiOptimizer --------------------------------------------------------------------------
def test_optimizer_map_lookup():
    sgd, adam, rms = optimizers.SGD(), optimizers.Adam(), optimizers.RMSprop()
    table = optimizers.OptimizerMap(rms)
    table["encoder/layer_0/dense"] = adam
    table["encoder/.*"] = sgd
    table["decoder"] = adam
    assert table["encoder/layer_0/dense"] is adam and table["decoder"] is adam
    assert table["encoder/layer_0/attention/query"] is sgd
    assert table["decoder/layer_0/dense"] is rms
    with pytest.raises(ValueError, match="already exists"):
        table["decoder"] = sgd
    with pytest.raises(ValueError, match="cannot be LossScaleOptimizer"):
        table["x"] = optimizers.LossScaleOptimizer(optimizers.SGD())
    table["encoder/layer_0/.*"] = rms
    with pytest.raises(ValueError, match="Multiple optimizers"):
        table["encoder/layer_0/x"]
    with pytest.raises(TypeError, match="default_optimizer"):
        optimizers.OptimizerMap("sgd")


def _two_layer_model():
    model = kerasish.Sequential([kerasish.Input((3,)), kerasish.layers.Dense(4, name="first"),
                                 kerasish.layers.Dense(1, name="second")])
    return model


def test_multi_optimizer_dispatches_by_path():
    model = _two_layer_model()
    sgd, adam = optimizers.SGD(0.1, momentum=0.9), optimizers.Adam(0.01)
    multi = optimizers.MultiOptimizer(optimizers.OptimizerMap(sgd, {"second/.*": adam}))
    weights = model.trainable_weights
    before = [w.numpy().copy() for w in weights]
    grads = [np.ones(w.shape, "float32") for w in weights]
    multi.apply(grads, weights)
    # SGD with momentum: w - 0.1 * g; Adam's first step: w - lr * sign(g) (nearly)
    np.testing.assert_allclose(weights[0].numpy(), before[0] - 0.1, rtol=1e-6)
    np.testing.assert_allclose(weights[2].numpy(), before[2] - 0.01, rtol=1e-4, atol=1e-6)
    assert int(multi.iterations.numpy()) == 1 and int(adam.iterations.numpy()) == 1
    names = [v.path.split("/", 1)[1] for v in multi.variables]
    assert names == ["iteration", "learning_rate", "iteration", "learning_rate",
                     "second_kernel_momentum", "second_kernel_velocity", "second_bias_momentum",
                     "second_bias_velocity", "iteration", "learning_rate",
                     "first_kernel_momentum", "first_bias_momentum"]
    assert multi.optimizers == [adam, sgd]
    with pytest.raises(AttributeError, match="sub-optimizers"):
        multi.learning_rate
    multi.set_weights([v.numpy() for v in multi.variables])


def test_multi_optimizer_config_and_fit():
    multi = optimizers.MultiOptimizer(optimizers.OptimizerMap(
        optimizers.SGD(0.05), {"second/.*": optimizers.Adam(0.01)}))
    config = multi.get_config()
    assert config["optimizer_map"]["class_name"] == "OptimizerMap"
    again = optimizers.deserialize(optimizers.serialize(multi))
    assert [type(o) for o in again.optimizers] == [optimizers.Adam, optimizers.SGD]
    model = _two_layer_model()
    model.compile(again, "mse")
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    history = model.fit(x, x.sum(axis=1, keepdims=True), epochs=5, verbose=0).history["loss"]
    assert history[-1] < history[0]
    # a function choosing the optimizer works too
    chosen = {"first": optimizers.SGD(0.05), "second": optimizers.Lion(0.001)}
    selector = optimizers.MultiOptimizer(lambda v: chosen[v.path.split("/")[0]])
    model = _two_layer_model()
    model.compile(selector, "mse")
    model.fit(x, x.sum(axis=1, keepdims=True), epochs=1, verbose=0)
    assert int(chosen["second"].iterations.numpy()) == 1


def test_loss_scale_factor_scales_the_loss_and_unscales_the_gradients():
    x = np.random.default_rng(2).normal(size=(16, 3)).astype("float32")
    results = []
    for factor in (None, 128.0):
        kerasish.utils.set_random_seed(0)
        model = _two_layer_model()
        model.compile(optimizers.SGD(0.1, loss_scale_factor=factor), "mse")
        model.fit(x, x[:, :1], epochs=2, batch_size=8, verbose=0)
        results.append(model.get_weights())
    for scaled, plain in zip(results[1], results[0]):
        np.testing.assert_allclose(scaled, plain, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [
    lambda: optimizers.Lion(0.01), lambda: optimizers.Lamb(0.01),
    lambda: optimizers.Ftrl(0.1, l1_regularization_strength=0.01), lambda: optimizers.Adafactor(),
    lambda: optimizers.ScheduleFreeAdamW(0.01), lambda: optimizers.Muon(0.02),
    lambda: optimizers.LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=4.0),
], ids=["lion", "lamb", "ftrl", "adafactor", "sf_adamw", "muon", "loss_scale"])
def test_updates_on_the_array_module(xp, make):
    """Each update runs on the weight's own array module and matches NumPy's."""
    results = []
    for module in (np, xp):
        w = Variable(W_MAT, name="kernel", path="dense/kernel")
        w.data = module.asarray(w.data)
        opt = make()
        for g in GRADS_MAT:
            opt.apply([module.asarray(g, dtype="float32")], [w])
        assert type(w.data) is type(module.asarray(W_MAT))
        results.append(w.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-5, atol=1e-6)
