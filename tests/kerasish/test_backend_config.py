"""keras.backend, keras.config and the top-level names: Operation, Function, scopes, device."""
import logging

import numpy as np
import pytest

import kerasish as keras
from engine import Tensor
from kerasish import config


@pytest.fixture
def restore_config():
    saved = dict(config._FLAGS), config.max_epochs(), config.max_steps_per_epoch()
    yield
    config._FLAGS.update(saved[0])
    config.set_max_epochs(saved[1])
    config.set_max_steps_per_epoch(saved[2])


def test_backend_namespace():
    b = keras.backend
    assert b.backend() == "kerasish" == keras.config.backend()
    assert b.floatx() == "float32" and b.epsilon() == 1e-7
    assert b.image_data_format() == "channels_last"
    assert b.standardize_dtype(np.float32) == "float32"
    assert b.result_type("int8", "uint8") == "int16" and b.result_type("int32", float) == "float32"
    assert b.is_float_dtype("float16") and not b.is_float_dtype("int32")
    assert b.is_int_dtype("uint8") and not b.is_int_dtype("bool")
    assert b.is_keras_tensor(keras.Input((2,))) and not b.is_keras_tensor(np.zeros(2))
    b.set_epsilon(1e-5)
    assert b.epsilon() == 1e-5
    b.set_epsilon(1e-7)


def test_clear_session_and_get_uid_share_the_name_counters():
    keras.backend.clear_session()
    assert keras.layers.Dense(1).name == "dense"
    assert keras.backend.get_uid("dense") == 2  # one Dense took 1
    assert keras.layers.Dense(1).name == "dense_2"
    keras.utils.clear_session()
    assert keras.backend.get_uid("x") == 1 and keras.backend.get_uid("x") == 2
    keras.backend.clear_session(free_memory=False)
    assert keras.layers.Dense(1).name == "dense"


def test_set_backend_only_accepts_kerasish():
    keras.config.set_backend("kerasish")
    with pytest.raises(ValueError, match="Received: backend=jax"):
        keras.config.set_backend("jax")


def test_config_flags(restore_config):
    c = keras.config
    assert c.is_flash_attention_enabled() is None
    c.disable_flash_attention()
    assert c.is_flash_attention_enabled() is False
    c.enable_flash_attention()
    assert c.is_flash_attention_enabled() is None
    assert c.is_traceback_filtering_enabled()
    c.disable_traceback_filtering()
    assert not c.is_traceback_filtering_enabled()
    c.enable_traceback_filtering()
    assert not c.is_unsafe_deserialization_enabled()
    c.enable_unsafe_deserialization()
    assert c.is_unsafe_deserialization_enabled()


def test_interactive_logging_sends_progress_to_logging(restore_config, capsys, caplog):
    assert keras.utils.is_interactive_logging_enabled()
    keras.utils.disable_interactive_logging()
    assert not keras.config.is_interactive_logging_enabled()
    with caplog.at_level(logging.INFO, logger="kerasish"):
        bar = keras.utils.Progbar(2, verbose=2)
        bar.update(2, [("loss", 0.5)])
    assert capsys.readouterr().out == ""
    assert "2/2" in caplog.text and "loss: 0.5000" in caplog.text
    keras.config.enable_interactive_logging()
    keras.utils.Progbar(1, verbose=2).update(1)
    assert "1/1" in capsys.readouterr().out


def _tiny_model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_fit_honours_max_epochs_and_max_steps_per_epoch(restore_config):
    x, y = np.zeros((40, 2), "float32"), np.zeros((40, 1), "float32")
    keras.config.set_max_epochs(2)
    keras.config.set_max_steps_per_epoch(3)
    assert keras.config.max_epochs() == 2 and keras.config.max_steps_per_epoch() == 3
    steps = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: steps.append(b))
    with pytest.warns(UserWarning) as record:
        history = _tiny_model().fit(x, y, epochs=5, batch_size=4, verbose=0,
                                    callbacks=[counter])
    messages = [str(w.message) for w in record]
    assert messages == ["Limiting epochs to 2", "Limiting steps_per_epoch to 3"]
    assert history.epoch == [0, 1] and steps == [0, 1, 2, 0, 1, 2]
    keras.config.set_max_epochs(None)
    keras.config.set_max_steps_per_epoch(None)
    assert len(_tiny_model().fit(x, y, epochs=3, batch_size=20, verbose=0).epoch) == 3


def test_top_level_names_are_the_classes_of_their_namespaces():
    assert keras.Initializer is keras.initializers.Initializer
    assert keras.Loss is keras.losses.Loss and keras.Metric is keras.metrics.Metric
    assert keras.Optimizer is keras.optimizers.Optimizer
    assert keras.Regularizer is keras.regularizers.Regularizer
    assert keras.InputSpec is keras.layers.InputSpec
    assert isinstance(keras.Input((2,)), keras.KerasTensor)
    assert keras.version() == keras.__version__


class Double(keras.Operation):
    def call(self, x):
        return x * 2

    def compute_output_spec(self, x):
        return keras.KerasTensor(x.shape, x.dtype)


def test_operation_runs_eagerly_and_records_a_node_symbolically():
    out = Double()(Tensor(np.array([1.0, 2.0], "float32")))
    assert np.array_equal(out.numpy(), [2.0, 4.0])
    inputs = keras.Input((3,))
    y = Double(name="double")(inputs)
    assert keras.backend.is_keras_tensor(y) and y.shape == (None, 3)
    model = keras.Model(inputs, y)
    assert np.array_equal(model.predict(np.ones((2, 3), "float32"), verbose=0), 2 * np.ones((2, 3)))
    with pytest.raises(ValueError, match="cannot contain"):
        Double(name="a/b")


def test_function_runs_a_graph():
    x = keras.Input((2,))
    fn = keras.Function(x, keras.layers.ReLU()(x), name="relu_fn")
    out = fn(np.array([[-1.0, 2.0]], "float32"))
    assert np.array_equal(np.asarray(out.numpy()), [[0.0, 2.0]])
    assert fn.inputs == [x] and len(fn.outputs) == 1 and fn.name == "relu_fn"


def test_name_scope_prefixes_variable_paths():
    with keras.name_scope("block"):
        with keras.name_scope("inner"):
            v = keras.Variable(np.zeros(2), name="w")
        u = keras.Variable(np.zeros(2), name="u")
    assert v.path == "block/inner/w" and u.path == "block/u"
    assert keras.Variable(np.zeros(2), name="free").path == "free"
    with pytest.raises(ValueError, match="cannot contain"):
        keras.name_scope("a/b")


def test_stateless_scope_leaves_variables_unchanged():
    v = keras.Variable(np.zeros(3), name="v")
    w = keras.Variable(np.full(3, 5.0), name="w")
    with keras.StatelessScope([(v, np.ones(3))]) as scope:
        assert np.array_equal(v.numpy(), np.ones(3))  # the mapping's value inside
        v.assign(v.numpy() * 2)
        w.assign(np.zeros(3))
        assert np.array_equal(scope.get_current_value(w), np.zeros(3))
    assert np.array_equal(v.numpy(), np.zeros(3)) and np.array_equal(w.numpy(), np.full(3, 5.0))
    assert np.array_equal(scope.get_current_value(v), np.full(3, 2.0))
    assert scope.get_current_value(keras.Variable(np.zeros(1), name="unseen")) is None
    with pytest.raises(ValueError, match="shape"):
        keras.StatelessScope([(v, np.ones(4))])
    with pytest.raises(ValueError, match="Variable"):
        keras.StatelessScope([(np.ones(3), np.ones(3))])


def test_symbolic_scope_and_device():
    from kerasish.scopes import in_symbolic_scope

    with keras.SymbolicScope():
        assert in_symbolic_scope()
    assert not in_symbolic_scope()
    with keras.device("cpu:0"):
        assert config.device() == "cpu"
    with keras.device("/device:CPU:0"):
        assert config.device() == "cpu"
    with pytest.raises(ValueError, match="Invalid device name"):
        with keras.device("tpu:0"):
            pass
