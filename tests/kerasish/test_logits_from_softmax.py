"""Softmax/sigmoid then cross-entropy is computed from the logits, as Keras on TensorFlow does.

A softmax or sigmoid activation's output remembers its input (``_keras_logits``); the
cross-entropy ops then start from those logits instead of clipping the probabilities, so a
saturated output keeps its ``p - y`` gradient (the clip would zero it).

The reference run (REFERENCE, at the bottom) was made once with Keras 3.15.1 on TensorFlow 2.21
(``KERAS_BACKEND=tensorflow``, compiled train step, CPU) by building the same model, loading
the initial weights of ``_initial_weights`` with ``set_weights``, compiling with
``SGD(0.05, momentum=0.9)`` and calling ``fit(x, y, batch_size=4, shuffle=False)`` twice (two
steps each); ``loss`` is the two History values, ``w1``/``w2`` the weights after each fit.
tf.keras 2.21 gives the same loss and weights (within 1e-5) except BatchNormalization's moving
variance, which tf.keras 2 updates with the unbiased (n / (n - 1)) batch variance.
"""
import warnings

import numpy as np
import pytest

import kerasish as keras
from engine import Tensor, gradcheck
from engine import ops as E
from kerasish import activations, layers, losses

N, H, W, C, F, K = 8, 6, 6, 2, 3, 4
WEIGHT_NAMES = ["conv_kernel", "conv_bias", "gamma", "beta", "moving_mean", "moving_variance",
                "dense_kernel", "dense_bias"]


def _wave(shape, a, b, scale=1.0):
    """Deterministic data without a random generator: ``scale * sin(a * i + b)``."""
    n = int(np.prod(shape))
    return (scale * np.sin(np.arange(n, dtype=np.float64) * a + b)).reshape(shape).astype(
        np.float32)


def _np_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _np_log_softmax(z):
    s = z - z.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


# Logits whose softmax saturates: the true class gets a probability far below 1e-7.
LOGITS = np.array([[30.0, -5.0, 2.0], [-20.0, 25.0, 0.0], [1.0, 2.0, 3.0], [40.0, 0.0, -40.0]])
LABELS = np.array([2, 0, 2, 1])
ONE_HOT = np.eye(3)[LABELS]


# -- the mechanism, against NumPy ------------------------------------------------------------
@pytest.mark.parametrize("loss_name", ["categorical_crossentropy",
                                       "sparse_categorical_crossentropy"])
def test_saturated_softmax_gradient_is_p_minus_y(loss_name):
    z = Tensor(LOGITS.astype(np.float32), requires_grad=True)
    y = ONE_HOT if loss_name == "categorical_crossentropy" else LABELS
    loss = losses.get(loss_name)(y, activations.softmax(z))
    loss.backward()
    b = len(LABELS)
    # From the logits: mean(logsumexp(z) - z_true), and the gradient (softmax(z) - y) / B.
    np.testing.assert_allclose(loss.item(), -_np_log_softmax(LOGITS)[range(b), LABELS].mean(),
                               rtol=1e-6)
    np.testing.assert_allclose(z.grad.numpy(), (_np_softmax(LOGITS) - ONE_HOT) / b, atol=1e-7)
    # The clipped probabilities would cap each loss at -log(1e-7) = 16.1 and zero the gradient.
    assert loss.item() > 20.0


def test_saturated_sigmoid_gradient_is_p_minus_y():
    z = Tensor(LOGITS.astype(np.float32), requires_grad=True)
    y = (LOGITS < 0).astype(np.float32)  # every saturated output is on the wrong side
    loss = losses.BinaryCrossentropy()(y, activations.sigmoid(z))
    loss.backward()
    p = 1.0 / (1.0 + np.exp(-LOGITS))
    per_element = np.maximum(LOGITS, 0) - LOGITS * y + np.log1p(np.exp(-np.abs(LOGITS)))
    np.testing.assert_allclose(loss.item(), per_element.mean(), rtol=1e-6)
    np.testing.assert_allclose(z.grad.numpy(), (p - y) / LOGITS.size, atol=1e-7)


@pytest.mark.parametrize("case", ["categorical", "sparse", "binary"])
def test_gradcheck_through_the_activation(case):
    z = LOGITS / 10.0  # float64, moderate: finite differences stay accurate
    if case == "binary":
        target = (LOGITS < 0).astype(np.float64)
        fn = lambda t: E.binary_crossentropy(target, activations.sigmoid(t))  # noqa: E731
    elif case == "sparse":
        fn = lambda t: E.sparse_categorical_crossentropy(  # noqa: E731
            LABELS, activations.softmax(t))
    else:
        fn = lambda t: E.categorical_crossentropy(ONE_HOT, activations.softmax(t))  # noqa: E731
    gradcheck.check_grad(fn, z)


def test_activation_outputs_carry_their_logits():
    z = Tensor(LOGITS.astype(np.float32))
    assert activations.softmax(z)._keras_logits is z
    assert activations.sigmoid(z)._keras_logits is z
    assert activations.get("softmax")(z)._keras_logits is z
    assert E.softmax(z)._keras_logits is None  # the engine op alone stays plain
    assert activations.relu(z)._keras_logits is None
    x = np.ones((2, 3), np.float32)
    dense = layers.Dense(3, activation="softmax")
    assert dense(x)._keras_logits is not None
    assert layers.Activation("sigmoid")(x)._keras_logits is not None
    assert layers.Softmax()(x)._keras_logits is not None
    assert layers.Softmax(axis=[1])(x)._keras_logits is not None
    # As Keras: several axes (exp of x - logsumexp), or a mask's where(), leave no logits.
    assert layers.Softmax(axis=[0, 1])(x)._keras_logits is None
    assert layers.Softmax()(x, mask=np.array([[1, 1, 0], [1, 0, 1]], bool))._keras_logits is None
    assert E.cast(activations.softmax(z), "float64")._keras_logits is None


def test_probabilities_without_logits_are_still_clipped():
    p = Tensor(_np_softmax(LOGITS).astype(np.float32), requires_grad=True)
    loss = E.categorical_crossentropy(Tensor(ONE_HOT.astype(np.float32)), p)
    np.testing.assert_allclose(loss.numpy()[[0, 3]], -np.log(1e-7), rtol=1e-5)


def test_from_logits_true_on_a_softmax_output_warns_and_uses_the_logits():
    z = Tensor(LOGITS.astype(np.float32))
    with pytest.warns(UserWarning) as record:
        loss = E.categorical_crossentropy(ONE_HOT, activations.softmax(z), from_logits=True)
    assert str(record[0].message) == (
        '"`categorical_crossentropy` received `from_logits=True`, but the `output` argument '
        "was produced by a Softmax activation and thus does not represent logits. Was this "
        "intended?")
    np.testing.assert_allclose(loss.numpy(), -(ONE_HOT * _np_log_softmax(LOGITS)).sum(-1),
                               rtol=1e-6)
    with pytest.warns(UserWarning, match="produced by a Sigmoid activation"):
        E.binary_crossentropy(ONE_HOT, activations.sigmoid(z), from_logits=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        E.categorical_crossentropy(ONE_HOT, z, from_logits=True)  # plain logits: no warning


# -- a small CNN trained as in real Keras ----------------------------------------------------
def _initial_weights():
    return [_wave((3, 3, C, F), 0.71, 0.3, 0.5), _wave((F,), 1.1, 0.2, 0.1),
            1.0 + _wave((F,), 0.9, 0.4, 0.2), _wave((F,), 1.7, 0.6, 0.1),
            np.zeros(F, np.float32), np.ones(F, np.float32),
            _wave((F * 4, K), 0.53, 0.7, 12.0), _wave((K,), 2.3, 0.1, 0.5)]


def _data():
    x = _wave((N, H, W, C), 0.37, 0.1)
    labels = np.array([0, 1, 2, 3, 3, 2, 1, 0])
    return x, labels, np.eye(K, dtype=np.float32)[labels], (_wave((N, K), 1.3, 0.5) > 0).astype(
        np.float32)


def _cnn(head, activation):
    """Conv2D -> BatchNormalization -> ReLU -> MaxPool -> Dense with a softmax or sigmoid."""
    inputs = keras.Input((H, W, C))
    h = layers.MaxPooling2D(2)(layers.ReLU()(layers.BatchNormalization()(
        layers.Conv2D(F, 3)(inputs))))
    h = layers.Flatten()(h)
    if head == "dense":
        outputs = layers.Dense(K, activation=activation)(h)
    elif head == "activation":
        outputs = layers.Activation(activation)(layers.Dense(K)(h))
    else:
        outputs = layers.Softmax()(layers.Dense(K)(h))
    model = keras.Model(inputs, outputs)
    model.set_weights(_initial_weights())
    return model


def _train(loss, y, head="dense", activation="softmax", jit_compile="auto"):
    x = _data()[0]
    model = _cnn(head, activation)
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss=loss,
                  jit_compile=jit_compile)
    runs = []
    for _ in range(2):  # 2 steps, then 2 more (a compiled step replays its plan there)
        history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        runs.append((history.history["loss"][0], model.get_weights()))
    return model, runs


def _assert_matches(runs, reference, keys, atol, loss_rtol=1e-5):
    for (loss, weights), expected_loss, key in zip(runs, reference["loss"], ["w1", "w2"]):
        np.testing.assert_allclose(loss, expected_loss, rtol=loss_rtol)
        if key not in keys:
            continue
        for name, ours, theirs in zip(WEIGHT_NAMES, weights, reference[key].values()):
            np.testing.assert_allclose(ours.ravel(), theirs, rtol=1e-5, atol=atol, err_msg=name)


@pytest.mark.parametrize("head,jit_compile", [("dense", "auto"), ("dense", False),
                                              ("activation", "auto"), ("softmax", "auto")])
def test_cnn_with_softmax_trains_as_keras(head, jit_compile):
    model, runs = _train("categorical_crossentropy", _data()[2], head, jit_compile=jit_compile)
    _assert_matches(runs, REFERENCE["categorical"], ("w1", "w2"), atol=1e-5)
    if jit_compile:
        assert any(step.compiled.replays for step in model._compiled_steps.values())


def test_cnn_with_softmax_and_sparse_labels_trains_as_keras():
    _, runs = _train("sparse_categorical_crossentropy", _data()[1])
    _assert_matches(runs, REFERENCE["categorical"], ("w1", "w2"), atol=1e-5)


@pytest.mark.parametrize("jit_compile", ["auto", False])
def test_crossentropy_metric_reads_the_logits_too(jit_compile):
    # Keras 3.15 on TensorFlow: the metric equals the loss, 32.982063, 20.624088, 19.741199 over
    # three fits, and evaluate gives 172.48737 for both (its BatchNormalization in inference).
    x, _, y, _ = _data()
    model = _cnn("dense", "softmax")
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                  loss="categorical_crossentropy", metrics=["categorical_crossentropy"],
                  jit_compile=jit_compile)
    for expected in (32.982063, 20.624088, 19.741199):
        logs = model.fit(x, y, batch_size=4, shuffle=False, verbose=0).history
        np.testing.assert_allclose(logs["categorical_crossentropy"][0], expected, rtol=1e-5)
        np.testing.assert_allclose(logs["loss"][0], expected, rtol=1e-5)
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=4, verbose=0), [172.48737] * 2,
                               rtol=1e-5)


@pytest.mark.parametrize("jit_compile", ["auto", False])
def test_cnn_with_sigmoid_trains_as_keras(jit_compile):
    _, runs = _train("binary_crossentropy", _data()[3], activation="sigmoid",
                     jit_compile=jit_compile)
    # NOTE: this run amplifies float32 rounding more: Keras 3 and tf.keras 2 themselves differ
    # by 2.3e-5 in the conv kernel, and a batch norm summed in another order (oneDNN's) moves
    # the second loss by 1.1e-5.
    _assert_matches(runs, REFERENCE["binary"], ("w2",), atol=1e-4, loss_rtol=5e-5)


REFERENCE = {
    'categorical': {
        'loss': [32.982063, 20.624088],
        'w1': {
            'conv_kernel': [
                -0.0078995749, 3.2003856, -0.055818528, 0.24300148, 1.8857436, -0.87072343,
                -0.49427974, 0.31354311, -0.61602056, 0.28122336, -0.059842393, 0.15880659,
                0.43983966, -1.7397931, -0.50301927, -0.29281425, -3.0306325, -0.031996548,
                0.12346382, 1.5983779, 0.70174056, 0.054093868, 2.1032305, -0.36291355, -0.7213037,
                2.6312771, -0.21280952, 0.061020367, 3.8521166, 0.096926421, -0.01540374, 3.1308017,
                -0.9109081, -0.64745104, 2.4443121, -0.5422318, 0.55382729, -2.8884716, 0.84339619,
                0.32317215, -3.2797053, 0.07289958, -0.36157572, -2.6230006, 0.61906135, 0.41053855,
                -0.80237681, 0.90040123, 0.043601207, -0.3354713, -0.074565694, -0.58755738,
                0.91948211, 0.34526181
            ],
            'conv_bias': [
                0.019867221, 0.096357077, 0.067547306
            ],
            'gamma': [
                2.045239, -0.31458008, 0.062478185
            ],
            'beta': [
                0.8118518, -1.4514613, -0.60414881
            ],
            'moving_mean': [
                0.00039287994, 0.0020230208, 0.0014631331
            ],
            'moving_variance': [
                0.98664564, 2.093749, 1.0205216
            ],
            'dense_kernel': [
                7.7045274, 11.299454, 11.841745, 9.0085688, 3.7260263, -2.4886279, -8.0371408,
                -11.42301, -11.72246, -8.6734047, -3.308202, 2.8746209, 8.3685312, 11.635016,
                11.613873, 8.3516121, 2.8354177, -3.3427203, -8.6964083, -11.695168, -11.460368,
                -7.9968204, -2.3992333, 3.7061608, 9.0183163, 11.846579, 11.359615, 7.6235385,
                1.9698988, -4.2198544, -9.300499, -11.901299, -11.135708, -7.290277, -1.4926677,
                4.5546174, 9.6072512, 11.982916, 11.008813, 6.8930779, 1.0647621, -5.0670934,
                -9.8883066, -11.975681, -10.779251, -6.5593491, -0.60010773, 5.4515095
            ],
            'dense_bias': [
                0.021896906, 0.36669791, -0.46446621, 0.29205143
            ],
        },
        'w2': {
            'conv_kernel': [
                -0.31409574, 5.4497309, -0.52303815, -0.082241401, 3.4125507, -1.3138902,
                -0.79454917, 0.91116428, -0.97515404, 0.046567142, -0.47229147, -0.067685843,
                0.30255646, -3.1064889, -0.56621623, -0.31414372, -5.1666002, 0.076654822,
                0.31175888, 2.5122261, 0.84758627, 0.1337025, 3.8920798, -0.38762674, -0.76115626,
                5.0530152, -0.40473676, -0.09289939, 6.5789728, -0.23623972, -0.26255846, 5.7937083,
                -1.3402193, -0.95438957, 4.6828575, -1.009583, 0.75870818, -5.629528, 1.232141,
                0.60558045, -5.7690306, 0.52936333, -0.039862871, -4.5236773, 1.0814643, 0.72801369,
                -1.8571572, 1.3061587, 0.31386977, -0.4015958, 0.21962991, -0.4010748, 1.850964,
                0.48807636
            ],
            'conv_bias': [
                0.019867485, 0.096358098, 0.067548126
            ],
            'gamma': [
                2.2000785, -1.5354863, -2.560982
            ],
            'beta': [
                0.72452629, -2.687547, -2.4525492
            ],
            'moving_mean': [
                0.00079895096, 0.0039300676, 0.0032515679
            ],
            'moving_variance': [
                1.0348036, 14.235076, 1.429698
            ],
            'dense_kernel': [
                7.8472233, 11.053044, 11.868889, 9.0851393, 3.6718299, -2.4933295, -8.0045862,
                -11.396666, -11.718342, -8.6149282, -3.2622414, 2.7660661, 8.4826612, 11.436862,
                11.655973, 8.3935375, 2.7765527, -3.315402, -8.6655264, -11.694503, -11.441304,
                -7.9172001, -2.328016, 3.5362597, 9.0838003, 11.694876, 11.498531, 7.5708408,
                1.9405794, -4.1953101, -9.2683201, -11.928702, -11.109165, -7.210227, -1.4201226,
                4.3754792, 9.6969776, 11.807987, 11.149334, 6.8377581, 1.0424815, -5.0414104,
                -9.8862629, -11.981128, -10.781845, -6.5004177, -0.54454321, 5.3396072
            ],
            'dense_bias': [
                0.046700869, 0.31844765, -0.41400197, 0.26503348
            ],
        },
    },
    'binary': {
        'loss': [10.17238, 23.919027],
        'w2': {
            'conv_kernel': [
                0.10345004, 0.42313322, 0.31740174, 0.37835631, 0.17639887, -0.52699763,
                -0.35324121, -0.096540116, -0.34831029, 0.40885887, 0.88483799, 0.31426728,
                0.53679562, 0.43179202, -0.48084965, -0.2396594, 0.073944382, -0.14611694,
                0.0095041841, 0.0018421113, 0.6126188, -0.021857522, -0.58927357, -0.31487888,
                -0.74896765, -0.79277682, -0.034118794, 0.085389264, 0.15994197, 0.38209033,
                0.057699416, -0.32977477, -0.55787021, -0.53550881, -0.31629294, -0.16910079,
                0.50379437, 0.747823, 0.51812935, 0.22868472, -0.12161715, -0.29667217, -0.48773134,
                -0.37054941, 0.25520355, 0.26979157, 0.23957779, 0.59150541, -0.09268754,
                -0.64503717, -0.28669456, -0.70094371, -0.69970626, 0.25861275
            ],
            'conv_bias': [
                0.019868106, 0.096358031, 0.067548014
            ],
            'gamma': [
                -0.92758554, 1.2954447, 0.74324512
            ],
            'beta': [
                -1.3811933, -0.061732709, -0.16827865
            ],
            'moving_mean': [
                0.00076927687, 0.0035668912, 0.0028292965
            ],
            'moving_variance': [
                0.97415048, 1.0363005, 0.98217189
            ],
            'dense_kernel': [
                7.7340126, 11.264385, 11.749574, 9.023263, 3.7915232, -2.4992261, -8.0843401,
                -11.429075, -11.689121, -8.7547235, -3.3643405, 2.9473729, 8.3939152, 11.533431,
                11.551157, 8.3931322, 2.8898296, -3.3920705, -8.7301235, -11.660398, -11.435775,
                -8.0542717, -2.4515448, 3.8019006, 9.0341463, 11.770313, 11.293256, 7.6929164,
                2.0121229, -4.2343364, -9.3011608, -11.846675, -11.084905, -7.3429956, -1.5411144,
                4.6474681, 9.6574116, 11.918523, 10.955762, 6.9459844, 1.1055664, -5.0692372,
                -9.8642464, -11.964923, -10.721454, -6.6030755, -0.6512568, 5.4971189
            ],
            'dense_bias': [
                0.059517205, 0.32648471, -0.5043202, 0.32516909
            ],
        },
    },
}
