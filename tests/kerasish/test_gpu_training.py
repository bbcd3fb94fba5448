"""Training on each device as the GPU path promises: Dropout plans replay and equal the eager
steps bitwise, a resume with seeded Dropout is exact, logs come from one host read, class_weight
takes a device sample_weight, and an out-of-range id never wraps silently."""
import numpy as np
import pytest

import kerasish as keras
from engine import backend
from engine.ops import indexing
from kerasish import config, layers
from kerasish.compile_utils import logs_from


@pytest.fixture(params=["cpu", pytest.param("gpu", marks=pytest.mark.gpu)])
def device(request):
    if request.param == "gpu" and not backend.cupy_available():
        pytest.skip("CuPy with a CUDA device is not available")
    previous = config.device()
    config.set_device(request.param)
    yield request.param
    config.set_device(previous)


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((48, 6)).astype("float32"), rng.integers(0, 3, 48)


def _build():
    i = keras.Input((6,))
    h = layers.Dropout(0.3)(layers.Dense(16, activation="relu")(i))
    return keras.Model(i, layers.Dense(3)(layers.Dropout(0.2, seed=5)(h)))


def _fit(jit, epochs=1, callbacks=()):
    keras.utils.set_random_seed(0)
    model = _build()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=jit)
    x, y = _data()
    history = model.fit(x, y, batch_size=8, epochs=epochs, verbose=0, callbacks=list(callbacks))
    return model, history


def _same_weights(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights()))


def test_dropout_plans_replay_and_equal_the_eager_steps(device):
    compiled, h1 = _fit("auto", epochs=2)
    replays = sum(s.compiled.replays for s in compiled.__dict__["_compiled_steps"].values())
    assert replays == 10  # 12 steps: one traced, one checked, the rest replayed
    eager, h2 = _fit(False, epochs=2)
    assert _same_weights(compiled, eager)
    assert h1.history == h2.history


def test_resume_with_seeded_dropout_is_exact(device, tmp_path):
    straight, _ = _fit("auto", epochs=2)
    backup = keras.callbacks.BackupAndRestore(str(tmp_path), delete_checkpoint=False)
    _fit("auto", epochs=1, callbacks=[backup])
    keras.utils.set_random_seed(99)  # every stream must come back from the checkpoint
    resumed, _ = _fit("auto", epochs=2, callbacks=[backup])
    assert _same_weights(straight, resumed)


def test_logs_read_every_metric_at_once_with_result_values(device):
    mean, total = keras.metrics.Mean(), keras.metrics.Sum(name="total")
    acc = keras.metrics.SparseCategoricalAccuracy()
    mean.update_state([1.0, 2.0, 4.0])
    total.update_state([0.1, 0.2])
    acc.update_state([[1], [0]], [[0.2, 0.8], [0.3, 0.7]])
    assert logs_from([mean, total, acc]) == {
        "mean": mean.result(), "sparse_categorical_accuracy": 0.5, "total": total.result()}
    assert isinstance(logs_from([mean])["mean"], float)


def test_class_weight_with_a_device_sample_weight(device):
    x, y = _data()
    xp = backend.xp_for(device)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(3)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    sw = xp.asarray(np.linspace(0.5, 1.5, 48).astype("float32"))
    weights = {0: 1.0, 1: 2.0, 2: 0.5}
    loss = model.evaluate(x, y, sample_weight=np.linspace(0.5, 1.5, 48).astype("float32") *
                          np.array([weights[c] for c in y], "float32"), verbose=0,
                          batch_size=48)
    fitted = model.fit(x, y, sample_weight=sw, class_weight=weights, epochs=1, batch_size=48,
                       verbose=0, shuffle=False)
    assert np.isclose(fitted.history["loss"][0], loss, rtol=1e-6)  # the same weighted loss


def test_an_out_of_range_id_in_a_compiled_step_is_reported(device):
    keras.utils.set_random_seed(0)
    i = keras.Input((4,), dtype="int32")
    model = keras.Model(i, layers.Dense(2)(layers.Flatten()(layers.Embedding(10, 3)(i))))
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ids = np.random.default_rng(0).integers(0, 10, (40, 4)).astype("int32")
    ids[-1, 0] = 10  # the last batch only: the plan replays by then
    y = np.zeros(40, "int64")
    # The eager check (CPU, or a GPU outside a plan) names the op; a GPU plan's guard flags it.
    message = "take: indices must be in the range" if device == "cpu" else \
        "step on the device met an index out of range"
    with pytest.raises(ValueError, match=message):
        model.fit(ids, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    indexing.raise_index_errors()  # nothing left over


def test_batch_logs_are_read_only_for_callbacks_that_take_them(device):
    seen = []
    reader = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(dict(logs)))
    _, with_reader = _fit("auto", callbacks=[reader])
    assert len(seen) == 6 and set(seen[-1]) == {"accuracy", "loss"}
    assert all(isinstance(v, float) for v in seen[-1].values())
    assert seen[-1] == {k: v[-1] for k, v in with_reader.history.items()}

    class Counter(keras.callbacks.Callback):  # no batch-end hook: the steps' logs stay unread
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(batch)

    _, without = _fit("auto", callbacks=[Counter()])
    assert without.history == with_reader.history  # the epoch's logs, read at its end


def test_a_bad_label_in_a_top_k_metric_on_a_device_is_flagged_not_read(device):
    xp = backend.xp_for(device)
    fn = keras.metrics.sparse_top_k_categorical_accuracy
    y_pred = xp.asarray(np.array([[0.1, 0.9, 0.0], [0.5, 0.3, 0.2]], "float32"))
    if device == "cpu":
        with pytest.raises(ValueError, match="label 3 is out of range for 3 classes"):
            fn(np.array([1, 3]), y_pred, k=1)
        return
    matches = backend.to_numpy(fn(xp.asarray(np.array([1, 3])), y_pred, k=1).data)
    assert matches.tolist() == [True, False]  # the bad label counts no match...
    with pytest.raises(ValueError, match="out of range"):
        indexing.raise_index_errors()  # ...and is reported at the end of the epoch
