"""Optimizers against update rules written out in float64 NumPy, plus state, config and errors."""
import numpy as np
import pytest

import engine
from engine import backend
from kerasish import optimizers
from kerasish.layers import Dense
from kerasish.optimizers import schedules
from kerasish.variables import Variable

W0 = np.array([1.0, -2.0, 3.0, 0.5])
G1 = np.array([0.1, -0.2, 0.3, -0.4])
G2 = np.array([-0.5, 0.25, 0.05, 0.2])


def run(opt, grads=(G1, G2), w0=W0):
    """Applies each gradient in turn to one float32 weight; returns the weight after each."""
    w = Variable(w0, name="kernel", path="dense/kernel")
    out = []
    for g in grads:
        opt.apply([g], [w])
        out.append(w.numpy().copy())
    return out


def check(opt, expected):
    for got, want in zip(run(opt), expected):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


# -- references: one update rule each, step t = 1, 2, ... ------------------------------------
def sgd_ref(lr, momentum=0.0, nesterov=False):
    w, v, out = W0.copy(), np.zeros(4), []
    for g in (G1, G2):
        if momentum == 0:
            w = w - lr * g
        else:
            v = momentum * v - lr * g
            w = w + (momentum * v - lr * g if nesterov else v)
        out.append(w)
    return out


def adam_ref(lr, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=None):
    w, m, v, vmax, out = W0.copy(), np.zeros(4), np.zeros(4), np.zeros(4), []
    for t, g in enumerate((G1, G2), start=1):
        if wd is not None:
            w = w - w * wd * lr
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        lr_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        w = w - lr_t * m / (np.sqrt(vmax if amsgrad else v) + eps)
        out.append(w)
    return out


def rmsprop_ref(lr, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    w, v, mg, mom, out = W0.copy(), np.zeros(4), np.zeros(4), np.zeros(4), []
    for g in (G1, G2):
        v = rho * v + (1 - rho) * g * g
        mg = rho * mg + (1 - rho) * g
        step = lr * g / np.sqrt((v - mg * mg if centered else v) + eps)
        mom = momentum * mom + step
        w = w - (mom if momentum > 0 else step)
        out.append(w)
    return out


def adagrad_ref(lr, init=0.1, eps=1e-7):
    w, acc, out = W0.copy(), np.full(4, init), []
    for g in (G1, G2):
        acc = acc + g * g
        w = w - lr * g / np.sqrt(acc + eps)
        out.append(w)
    return out


def adadelta_ref(lr, rho=0.95, eps=1e-7):
    w, acc_g, acc_d, out = W0.copy(), np.zeros(4), np.zeros(4), []
    for g in (G1, G2):
        acc_g = rho * acc_g + (1 - rho) * g * g
        delta = -np.sqrt(acc_d + eps) * g / np.sqrt(acc_g + eps)
        acc_d = rho * acc_d + (1 - rho) * delta * delta
        w = w + lr * delta
        out.append(w)
    return out


def adamax_ref(lr, b1=0.9, b2=0.999, eps=1e-7):
    w, m, u, out = W0.copy(), np.zeros(4), np.zeros(4), []
    for t, g in enumerate((G1, G2), start=1):
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g))
        w = w - lr * m / ((1 - b1 ** t) * (u + eps))
        out.append(w)
    return out


def nadam_ref(lr, b1=0.9, b2=0.999, eps=1e-7):
    """Dozat's Nadam with Keras's momentum schedule mu_t = b1 * (1 - 0.5 * 0.96**t)."""
    w, m, v, prod, out = W0.copy(), np.zeros(4), np.zeros(4), 1.0, []
    for t, g in enumerate((G1, G2), start=1):
        mu_t, mu_next = b1 * (1 - 0.5 * 0.96 ** t), b1 * (1 - 0.5 * 0.96 ** (t + 1))
        prod = prod * mu_t
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = mu_next * m / (1 - prod * mu_next) + (1 - mu_t) * g / (1 - prod)
        w = w - lr * m_hat / (np.sqrt(v / (1 - b2 ** t)) + eps)
        out.append(w)
    return out


CASES = [
    ("sgd", lambda: optimizers.SGD(0.1), lambda: sgd_ref(0.1)),
    ("sgd_momentum", lambda: optimizers.SGD(0.1, momentum=0.9), lambda: sgd_ref(0.1, 0.9)),
    ("sgd_nesterov", lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
     lambda: sgd_ref(0.1, 0.9, True)),
    ("adam", lambda: optimizers.Adam(0.1), lambda: adam_ref(0.1)),
    ("adam_amsgrad", lambda: optimizers.Adam(0.1, beta_2=0.5, amsgrad=True),
     lambda: adam_ref(0.1, b2=0.5, amsgrad=True)),
    ("adamw", lambda: optimizers.AdamW(0.1, weight_decay=0.2), lambda: adam_ref(0.1, wd=0.2)),
    ("rmsprop", lambda: optimizers.RMSprop(0.1), lambda: rmsprop_ref(0.1)),
    ("rmsprop_momentum", lambda: optimizers.RMSprop(0.1, momentum=0.5),
     lambda: rmsprop_ref(0.1, momentum=0.5)),
    ("rmsprop_centered", lambda: optimizers.RMSprop(0.1, centered=True),
     lambda: rmsprop_ref(0.1, centered=True)),
    ("rmsprop_centered_momentum", lambda: optimizers.RMSprop(0.1, momentum=0.5, centered=True),
     lambda: rmsprop_ref(0.1, momentum=0.5, centered=True)),
    ("adagrad", lambda: optimizers.Adagrad(0.1), lambda: adagrad_ref(0.1)),
    ("adadelta", lambda: optimizers.Adadelta(1.0), lambda: adadelta_ref(1.0)),
    ("adamax", lambda: optimizers.Adamax(0.1), lambda: adamax_ref(0.1)),
    ("nadam", lambda: optimizers.Nadam(0.1), lambda: nadam_ref(0.1)),
]


@pytest.mark.parametrize("make, reference", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_first_two_updates_match_the_rule(make, reference):
    check(make(), reference())


def test_amsgrad_case_really_uses_the_running_max():
    plain, ams = adam_ref(0.1, b2=0.5), adam_ref(0.1, b2=0.5, amsgrad=True)
    assert not np.allclose(plain[1], ams[1])


def test_engine_tensor_gradients():
    w = Variable(W0, name="w")
    grads = engine.grad((w * w).sum(), [w])
    optimizers.SGD(0.25).apply(grads, [w])
    np.testing.assert_allclose(w.numpy(), W0 - 0.25 * 2 * W0, rtol=1e-6)


# -- clipping, weight decay, loss scaling ----------------------------------------------------
def test_clipnorm_scales_each_gradient_to_the_norm():
    got = run(optimizers.SGD(1.0, clipnorm=0.1), grads=(G1,))[0]
    np.testing.assert_allclose(got, W0 - G1 * 0.1 / np.linalg.norm(G1), rtol=1e-6)
    small = run(optimizers.SGD(1.0, clipnorm=10.0), grads=(G1,))[0]
    np.testing.assert_allclose(small, W0 - G1, rtol=1e-6)


def test_clipvalue_clips_elements():
    got = run(optimizers.SGD(1.0, clipvalue=0.25), grads=(G1,))[0]
    np.testing.assert_allclose(got, W0 - np.clip(G1, -0.25, 0.25), rtol=1e-6)


def test_global_clipnorm_uses_the_norm_of_all_gradients():
    a, b = Variable(W0, name="a"), Variable(np.array([1.0, 1.0]), name="b")
    ga, gb = G1, np.array([0.6, -0.8])
    optimizers.SGD(1.0, global_clipnorm=0.5).apply([ga, gb], [a, b])
    scale = 0.5 / np.sqrt(np.sum(ga ** 2) + np.sum(gb ** 2))
    np.testing.assert_allclose(a.numpy(), W0 - scale * ga, rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), 1.0 - scale * gb, rtol=1e-6)


def test_global_clipnorm_with_zero_gradients_is_a_no_op():
    w = Variable(W0, name="w")
    optimizers.SGD(1.0, global_clipnorm=1.0).apply([np.zeros(4)], [w])
    np.testing.assert_array_equal(w.numpy(), W0.astype(np.float32))


def test_only_one_clipping_argument():
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and "
                                         "`global_clipnorm` can be set"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


def test_weight_decay_is_decoupled_and_excludable():
    kernel = Variable(W0, name="kernel", path="d/kernel")
    bias = Variable(np.array([2.0]), name="bias", path="d/bias")
    opt = optimizers.SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply([G1, np.array([1.0])], [kernel, bias])
    np.testing.assert_allclose(kernel.numpy(), W0 - W0 * 0.5 * 0.1 - 0.1 * G1, rtol=1e-6)
    np.testing.assert_allclose(bias.numpy(), [2.0 - 0.1], rtol=1e-6)
    other = Variable(W0, name="w")
    opt2 = optimizers.SGD(0.1, weight_decay=0.5)
    opt2.exclude_from_weight_decay(var_list=[other])
    opt2.apply([G1], [other])
    np.testing.assert_allclose(other.numpy(), W0 - 0.1 * G1, rtol=1e-6)


def test_loss_scale_factor_divides_gradients():
    opt = optimizers.SGD(0.1, loss_scale_factor=4.0)
    assert float(opt.scale_loss(engine.Tensor(2.0))) == 8.0
    np.testing.assert_allclose(run(opt, grads=(G1,))[0], W0 - 0.1 * G1 / 4, rtol=1e-6)


# -- learning rate: setter, schedules --------------------------------------------------------
def test_learning_rate_setter_updates_the_variable_used_next_step():
    opt = optimizers.SGD(0.1)
    w = Variable(W0, name="w")
    opt.apply([G1], [w])
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5 and isinstance(opt.learning_rate, float)
    assert opt.variables[1].name == "learning_rate" and float(opt.variables[1].data) == 0.5
    opt.learning_rate = 1  # ints are fine once the optimizer exists
    opt.apply([G2], [w])
    np.testing.assert_allclose(w.numpy(), W0 - 0.1 * G1 - 1.0 * G2, rtol=1e-6)


def test_a_schedule_is_read_at_the_current_iteration():
    lr = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = optimizers.SGD(lr)
    assert opt.learning_rate == pytest.approx(0.1)
    got = run(opt)
    np.testing.assert_allclose(got[0], W0 - 0.1 * G1, rtol=1e-6)
    np.testing.assert_allclose(got[1], W0 - 0.1 * G1 - 0.05 * G2, rtol=1e-6)
    assert opt.learning_rate == pytest.approx(0.025)
    assert [v.name for v in opt.variables] == ["iteration"]  # Keras: no learning_rate variable
    with pytest.raises(TypeError, match="its learning rate is not settable"):
        opt.learning_rate = 0.1


def test_setting_a_schedule_untracks_the_learning_rate_variable():
    opt = optimizers.SGD(0.1)
    opt.learning_rate = schedules.InverseTimeDecay(1.0, 1, 1.0)
    assert [v.name for v in opt.variables] == ["iteration"]
    assert opt.learning_rate == 1.0


def test_callable_learning_rate():
    opt = optimizers.SGD(lambda: 0.25)
    np.testing.assert_allclose(run(opt, grads=(G1,))[0], W0 - 0.25 * G1, rtol=1e-6)


def test_learning_rate_must_be_a_float():
    with pytest.raises(ValueError, match="Argument `learning_rate` should be float.*"
                                         "Received instead: learning_rate=1$"):
        optimizers.Adam(learning_rate=1)


# -- variables: count, order, names, dtype, device -------------------------------------------
def _dense_variables():
    layer = Dense(3, name="d")
    layer.build((None, 2))
    return layer.trainable_variables


@pytest.mark.parametrize("make, slots", [
    (lambda: optimizers.SGD(), []),
    (lambda: optimizers.SGD(momentum=0.9), ["momentum"]),
    (lambda: optimizers.Adam(), ["momentum", "velocity"]),
    (lambda: optimizers.Adam(amsgrad=True), ["momentum", "velocity", "velocity_hat"]),
    (lambda: optimizers.Adamax(), ["momentum", "norm"]),
    (lambda: optimizers.Adagrad(), ["accumulator"]),
    (lambda: optimizers.Adadelta(), ["accumulated_grad", "accumulated_delta_var"]),
])
def test_variables_count_and_order(make, slots):
    opt = make()
    kernel, bias = _dense_variables()
    assert not opt.built and len(opt.variables) == 2
    opt.build([kernel, bias])
    assert opt.built
    names = [v.name for v in opt.variables]
    # Slots made together are interleaved weight by weight; velocity_hat comes after (Keras).
    together = [s for s in slots if s != "velocity_hat"]
    expected = ["iteration", "learning_rate"]
    expected += [f"d_{w}_{s}" for w in ("kernel", "bias") for s in together]
    expected += [f"d_{w}_velocity_hat" for w in ("kernel", "bias") if "velocity_hat" in slots]
    assert names == expected
    assert len(opt.variables) == 2 + len(slots) * 2
    assert opt.variables[0].dtype == np.int64 and opt.variables[0].shape == ()
    assert opt.variables[1].dtype == np.float32 and opt.variables[1].shape == ()
    for v in opt.variables[2:]:
        assert v.dtype == np.float32 and not v.trainable
        assert v.path == f"{opt.name}/{v.name}"


def test_rmsprop_creates_each_slot_kind_for_all_weights_first():
    opt = optimizers.RMSprop(momentum=0.5, centered=True)
    opt.build(_dense_variables())
    assert [v.name for v in opt.variables[2:]] == [
        "d_kernel_velocity", "d_bias_velocity", "d_kernel_momentum", "d_bias_momentum",
        "d_kernel_average_gradient", "d_bias_average_gradient"]


def test_nadam_keeps_its_momentum_product_last_and_adagrad_starts_at_its_value():
    opt = optimizers.Nadam()
    opt.build(_dense_variables())
    assert len(opt.variables) == 2 + 2 * 2 + 1 and float(opt.variables[-1].data) == 1.0
    ada = optimizers.Adagrad(initial_accumulator_value=0.3)
    ada.build(_dense_variables())
    np.testing.assert_allclose(ada.variables[2].numpy(), np.full((2, 3), 0.3))


def test_slots_live_on_the_weights_device(xp):
    w = Variable(W0, name="w")
    w.data = xp.asarray(w.data)
    opt = optimizers.Adam(0.1)
    opt.apply([xp.asarray(G1)], [w])
    opt.apply([G2], [w])  # a host gradient is moved to the weight's device
    assert all(backend.device_of(v.data) == w.device for v in opt.variables[2:])
    np.testing.assert_allclose(w.numpy(), adam_ref(0.1)[1], rtol=1e-5, atol=1e-6)


def test_iterations_counts_applies():
    opt = optimizers.SGD(0.1)
    w = Variable(W0, name="w")
    assert int(opt.iterations) == 0
    result = opt.apply_gradients([(G1, w)])
    assert result is opt.iterations and int(opt.iterations) == 1
    opt.apply([G2])  # built: the variables may be left out
    assert int(opt.iterations) == 2


# -- exact resume ----------------------------------------------------------------------------
@pytest.mark.parametrize("make", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_restoring_variables_reproduces_the_next_step_exactly(make):
    opt = make()
    w = Variable(W0, name="kernel", path="dense/kernel")
    opt.apply([G1], [w])
    opt.apply([G2], [w])
    state = [v.numpy().copy() for v in opt.variables]
    weights = w.numpy().copy()
    opt.apply([G1], [w])

    fresh, w2 = make(), Variable(weights, name="kernel", path="dense/kernel")
    fresh.build([w2])
    for v, a in zip(fresh.variables, state):
        v.assign(a)
    fresh.apply([G1], [w2])
    np.testing.assert_array_equal(w2.numpy(), w.numpy())
    assert int(fresh.iterations) == 3


# -- ema and gradient accumulation -----------------------------------------------------------
def test_ema_tracks_the_weights_and_overwrites_them():
    opt = optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    w = Variable(W0, name="w")
    opt.apply([G1], [w])
    w1 = W0 - 0.1 * G1
    np.testing.assert_allclose(opt.variables[2].numpy(), w1, rtol=1e-6)  # first step: copy
    opt.apply([G2], [w])
    average = 0.5 * w1 + 0.5 * (w1 - 0.1 * G2)
    np.testing.assert_allclose(w.numpy(), average, rtol=1e-6)  # overwritten at step 2
    opt.finalize_variable_values([w])
    np.testing.assert_allclose(w.numpy(), average, rtol=1e-6)


def test_gradient_accumulation_updates_with_the_mean_every_n_steps():
    opt = optimizers.SGD(0.1, gradient_accumulation_steps=2)
    got = run(opt)
    np.testing.assert_array_equal(got[0], W0.astype(np.float32))
    np.testing.assert_allclose(got[1], W0 - 0.1 * (G1 + G2) / 2, rtol=1e-6)
    assert int(opt.iterations) == 1 and int(opt.variables[0].data) == 2
    with pytest.raises(ValueError, match="must be an integer >= 2"):
        optimizers.SGD(gradient_accumulation_steps=1)


# -- missing gradients, unknown variables ----------------------------------------------------
def test_none_gradients_are_skipped_with_keras_warning():
    a, b = Variable(W0, name="a", path="d/a"), Variable(W0, name="b", path="d/b")
    opt = optimizers.SGD(0.1)
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['d/b'\]"):
        opt.apply([G1, None], [a, b])
    np.testing.assert_array_equal(b.numpy(), W0.astype(np.float32))
    with pytest.raises(ValueError, match="No gradients provided for any variable."):
        opt.apply([None, None], [a, b])


def test_apply_errors():
    opt = optimizers.SGD(0.1)
    with pytest.raises(ValueError, match="must already be built"):
        opt.apply([G1])
    w = Variable(W0, name="w")
    opt.apply([G1], [w])
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply([G1], [Variable(W0, name="other")])
    with pytest.raises(ValueError, match=r"Received: gradient.shape=\(3,\)"):
        opt.apply([np.ones(3)], [w])


# -- config, get, serialize ------------------------------------------------------------------
def test_adam_config_keys_are_keras():
    config = optimizers.Adam(name="my_adam").get_config()
    assert list(config) == [
        "name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue",
        "use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
        "gradient_accumulation_steps", "beta_1", "beta_2", "epsilon", "amsgrad"]
    assert config["name"] == "my_adam"
    assert config["learning_rate"] == float(np.float32(0.001))


@pytest.mark.parametrize("make", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_config_round_trip(make):
    opt = make()
    config = opt.get_config()
    again = type(opt).from_config(config)
    assert type(again) is type(opt) and again.get_config() == config
    restored = optimizers.deserialize(optimizers.serialize(opt))
    assert restored.get_config() == config


def test_config_round_trip_with_a_schedule():
    opt = optimizers.SGD(schedules.CosineDecay(0.1, decay_steps=100, alpha=0.1))
    config = opt.get_config()
    assert config["learning_rate"]["class_name"] == "CosineDecay"
    again = optimizers.SGD.from_config(config)
    assert isinstance(again._learning_rate, schedules.CosineDecay)
    assert again.learning_rate == pytest.approx(0.1)


@pytest.mark.parametrize("identifier, cls", [
    ("adam", optimizers.Adam), ("Adam", optimizers.Adam), ("sgd", optimizers.SGD),
    ("SGD", optimizers.SGD), ("rmsprop", optimizers.RMSprop), ("adamw", optimizers.AdamW),
    ("adagrad", optimizers.Adagrad), ("adadelta", optimizers.Adadelta),
    ("adamax", optimizers.Adamax), ("nadam", optimizers.Nadam),
])
def test_get_by_name(identifier, cls):
    assert type(optimizers.get(identifier)) is cls


def test_get_instance_dict_and_errors():
    opt = optimizers.Adam()
    assert optimizers.get(opt) is opt and optimizers.get(None) is None
    from_dict = optimizers.get({"class_name": "SGD", "config": {"momentum": 0.5}})
    assert isinstance(from_dict, optimizers.SGD) and from_dict.momentum == 0.5
    with pytest.raises(ValueError, match="^Could not interpret optimizer identifier: bogus_opt$"):
        optimizers.get("bogus_opt")
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        optimizers.get(42)


def test_default_names_are_unique_snake_case():
    first, second = optimizers.Adagrad(), optimizers.Adagrad()
    assert first.name.startswith("adagrad") and first.name != second.name


def test_constructor_errors():
    with pytest.raises(ValueError, match=r"`momentum` must be a float between \[0, 1\]."):
        optimizers.SGD(momentum=1)
    with pytest.raises(ValueError, match="Argument `weight_decay` must be a float"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="Argument\\(s\\) not recognized"):
        optimizers.Adam(bogus=1)
    with pytest.raises(ValueError, match="`ema_momentum` must be in the range"):
        optimizers.Adam(use_ema=True, ema_momentum=2.0)
