"""keras.utils: pad_sequences, to_categorical, normalize, timeseries windows, data tuples,
Config, get_source_inputs and the legacy (de)serialization."""
import numpy as np
import pytest

import kerasish as keras
from engine import Tensor
from kerasish import utils

SEQS = [[1], [2, 3], [4, 5, 6]]


@pytest.mark.parametrize("kwargs, expected", [
    ({}, [[0, 0, 1], [0, 2, 3], [4, 5, 6]]),
    ({"padding": "post"}, [[1, 0, 0], [2, 3, 0], [4, 5, 6]]),
    ({"maxlen": 2}, [[0, 1], [2, 3], [5, 6]]),
    ({"maxlen": 2, "truncating": "post"}, [[0, 1], [2, 3], [4, 5]]),
    ({"maxlen": 2, "padding": "post", "truncating": "post"}, [[1, 0], [2, 3], [4, 5]]),
    ({"maxlen": 4, "value": -1}, [[-1, -1, -1, 1], [-1, -1, 2, 3], [-1, 4, 5, 6]]),
])
def test_pad_sequences(kwargs, expected):
    out = utils.pad_sequences(SEQS, **kwargs)
    assert out.dtype == np.int32 and out.tolist() == expected


def test_pad_sequences_dtypes_steps_and_errors():
    out = utils.pad_sequences([[0.5], []], dtype="float32", padding="post", value=9.0)
    assert out.dtype == np.float32 and out.tolist() == [[0.5], [9.0]]
    steps = utils.pad_sequences([np.ones((1, 2)), np.zeros((2, 2))])
    assert steps.shape == (2, 2, 2) and steps[0].tolist() == [[0, 0], [1, 1]]
    words = utils.pad_sequences([["a"], ["b", "c"]], dtype=object, value="<pad>")
    assert words.tolist() == [["<pad>", "a"], ["b", "c"]]
    with pytest.raises(ValueError, match="dtype=object"):
        utils.pad_sequences([["a"]], value="x")
    with pytest.raises(ValueError, match='Padding type "mid"'):
        utils.pad_sequences(SEQS, padding="mid")
    with pytest.raises(ValueError, match='Truncating type "mid"'):
        utils.pad_sequences(SEQS, truncating="mid")
    with pytest.raises(ValueError, match="non-iterable"):
        utils.pad_sequences([1, 2])
    with pytest.raises(ValueError, match="expected shape"):
        utils.pad_sequences([np.ones((1, 2)), np.ones((1, 3))])
    assert keras.preprocessing.sequence.pad_sequences is utils.pad_sequences


def test_to_categorical():
    out = utils.to_categorical([[0], [2], [1]])
    assert out.dtype == np.float64 and out.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert utils.to_categorical([1, 0], num_classes=4).tolist() == [[0, 1, 0, 0], [1, 0, 0, 0]]
    assert utils.to_categorical(np.array([[0, 1], [1, 1]])).shape == (2, 2, 2)
    t = utils.to_categorical(Tensor(np.array([2, 0])), num_classes=3)
    assert isinstance(t, Tensor) and t.dtype == "float32"
    assert t.numpy().tolist() == [[0, 0, 1], [1, 0, 0]]


def test_normalize():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    assert np.allclose(utils.normalize(x), [[0.6, 0.8], [0.0, 0.0]])
    assert np.allclose(utils.normalize(x, order=1), [[3 / 7, 4 / 7], [0.0, 0.0]])
    assert np.allclose(utils.normalize(np.array([[3.0], [4.0]]), axis=0), [[0.6], [0.8]])
    t = utils.normalize(Tensor(np.array([[3.0, 4.0]], "float32")))
    assert t.dtype == "float32" and np.allclose(t.numpy(), [[0.6, 0.8]])


def _windows(ds):
    return [tuple(np.asarray(part).tolist() for part in (b if isinstance(b, tuple) else (b,)))
            for b in (ds[i] for i in range(len(ds)))]


def test_timeseries_windows():
    data, targets = np.arange(10), np.arange(10) * 10
    ds = utils.timeseries_dataset_from_array(data, targets, sequence_length=3, sampling_rate=2,
                                             sequence_stride=2, batch_size=2)
    assert isinstance(ds, keras.utils.PyDataset) and len(ds) == 2
    assert _windows(ds) == [([[0, 2, 4], [2, 4, 6]], [0, 20]), ([[4, 6, 8]], [40])]
    ds = utils.timeseries_dataset_from_array(data, None, sequence_length=4, batch_size=3,
                                             start_index=2, end_index=8)
    assert _windows(ds) == [([[2, 3, 4, 5], [3, 4, 5, 6], [4, 5, 6, 7]],)]
    # Targets shorter than the data cap the number of windows.
    ds = utils.timeseries_dataset_from_array(data, targets[:2], sequence_length=3)
    assert _windows(ds) == [([[0, 1, 2], [1, 2, 3]], [0, 10])]
    single = utils.timeseries_dataset_from_array(data, targets, 3, batch_size=None)
    assert len(single) == 8 and np.asarray(single[7][0]).tolist() == [7, 8, 9]
    assert int(single[7][1]) == 70
    with pytest.raises(IndexError):
        single[8]


def test_timeseries_shuffle_is_keras_order_and_fit_accepts_it():
    ds = utils.timeseries_dataset_from_array(np.arange(20, dtype="float32")[:, None],
                                             np.arange(20, dtype="float32"), sequence_length=5,
                                             batch_size=4, shuffle=True, seed=3)
    starts = np.arange(16)
    np.random.RandomState(3).shuffle(starts)  # Keras shuffles the window starts so
    x, y = ds[0]
    assert x.shape == (4, 5, 1) and y.tolist() == starts[:4].tolist()
    assert x[:, 0, 0].tolist() == starts[:4].tolist()
    ds.on_epoch_end()  # the next epoch reads the windows in a new order
    again = np.concatenate([ds[i][1] for i in range(len(ds))])
    assert sorted(again.tolist()) == list(range(16)) and again.tolist() != starts.tolist()
    model = keras.Sequential([keras.Input((5, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    assert len(model.fit(ds, epochs=2, verbose=0).history["loss"]) == 2


@pytest.mark.parametrize("kwargs, match", [
    ({"start_index": -1}, "start_index"), ({"start_index": 10}, "start_index"),
    ({"start_index": 4, "end_index": 3}, "end_index"), ({"end_index": 10}, "end_index"),
    ({"sampling_rate": 0}, "sampling_rate"), ({"sequence_stride": 10}, "sequence_stride"),
    ({"format": "torch"}, "format"),
])
def test_timeseries_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        utils.timeseries_dataset_from_array(np.arange(10), None, 3, **kwargs)


def test_pack_and_unpack_x_y_sample_weight():
    assert utils.pack_x_y_sample_weight(1) == 1
    assert utils.pack_x_y_sample_weight([1, 2]) == ([1, 2],)
    assert utils.pack_x_y_sample_weight(1, 2) == (1, 2)
    assert utils.pack_x_y_sample_weight(1, 2, 3) == (1, 2, 3)
    assert utils.unpack_x_y_sample_weight((1,)) == (1, None, None)
    assert utils.unpack_x_y_sample_weight([1, 2]) == (1, 2, None)
    assert utils.unpack_x_y_sample_weight(5) == (5, None, None)
    with pytest.raises(ValueError, match="sample_weight"):
        utils.unpack_x_y_sample_weight((1, 2, 3, 4))


def test_config():
    config = utils.Config(learning_rate=0.1, momentum=0.9)
    config.seed = 123
    config["use_ema"] = True
    assert config.seed == 123 and config["learning_rate"] == 0.1 and len(config) == 4
    assert list(config) == ["learning_rate", "momentum", "seed", "use_ema"]
    assert config.as_dict()["momentum"] == 0.9 and "seed" in config
    assert config.to_json() == ('{"learning_rate": 0.1, "momentum": 0.9, "seed": 123, '
                                '"use_ema": true}')
    with pytest.raises(AttributeError, match="Did you mean 'momentum'"):
        config.momentun
    config.freeze()
    assert config.frozen
    for mutate in (lambda: setattr(config, "x", 1), lambda: config.update(x=1),
                   lambda: config.pop("seed"), lambda: config.__delitem__("seed")):
        with pytest.raises(ValueError, match="frozen"):
            mutate()
    config.unfreeze()
    config.x = 1
    assert config.get("x") == 1 and config.get("missing", 7) == 7


def test_get_source_inputs_and_is_keras_tensor():
    a, b = keras.Input((3,)), keras.Input((2,))
    out = keras.layers.Concatenate()([keras.layers.Dense(2)(a), b])
    assert utils.get_source_inputs(out) == [a, b] and utils.get_source_inputs(a) == [a]
    assert utils.is_keras_tensor(out) and not utils.is_keras_tensor(np.zeros(2))
    assert utils.standardize_dtype(np.int64) == "int64"
    assert utils.Sequence is utils.PyDataset


def test_legacy_serialization_round_trip():
    layer = keras.layers.Dense(3, activation="relu", name="d")
    config = utils.legacy.serialize_keras_object(layer)
    assert config["class_name"] == "Dense" and "module" not in config
    again = utils.legacy.deserialize_keras_object(config, module_objects=vars(keras.layers))
    assert isinstance(again, keras.layers.Dense) and again.units == 3
    assert utils.legacy.serialize_keras_object(None) is None
    with pytest.raises(ValueError, match="Unknown object: 'Nope'"):
        utils.legacy.deserialize_keras_object({"class_name": "Nope", "config": {}})
