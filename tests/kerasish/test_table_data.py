"""Tables and files as data (issue 16): pandas DataFrames and dicts of columns (named inputs
matched by name), ``kerasish.utils.csv_dataset``, ``kerasish.utils.HDF5Matrix`` and
``HDF5Dataset``, with memory bounded by the batch."""
import csv
import tracemalloc

import numpy as np
import pytest

import kerasish as keras
from kerasish import layers

h5py = pytest.importorskip("h5py")
pd = pytest.importorskip("pandas")


def _two_input_model():
    a, b = keras.Input((1,), name="a"), keras.Input((1,), name="b")
    model = keras.Model([a, b], layers.Dense(1, kernel_initializer="ones")(
        layers.Concatenate()([a, b])))
    model.compile(keras.optimizers.SGD(0.01), "mse")
    return model


def test_dataframe_and_dict_of_columns():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.standard_normal(12), "b": rng.integers(0, 5, 12),
                       "y": rng.standard_normal(12)})
    # A DataFrame is one array (Keras 3), float64 -> float32; a Series is a column.
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(df[["a", "b"]], df["y"], batch_size=4, verbose=0)
    np.testing.assert_allclose(model.predict(df[["a", "b"]], verbose=0),
                               model.predict(df[["a", "b"]].to_numpy("float32"), verbose=0))
    # A dict of columns feeds named inputs by name, whatever the key order; an int64 column
    # feeds a float32 Input as float32 (Keras converts to the Input's dtype).
    named, arrays = _two_input_model(), _two_input_model()
    named.fit({"b": df["b"], "a": df["a"]}, df["y"], batch_size=4, shuffle=False, verbose=0)
    arrays.fit([df["a"].to_numpy("float32")[:, None], df["b"].to_numpy("float32")[:, None]],
               df["y"].to_numpy("float32"), batch_size=4, shuffle=False, verbose=0)
    for w, v in zip(named.weights, arrays.weights):
        assert w.dtype == np.float32
        np.testing.assert_allclose(w.numpy(), v.numpy(), rtol=1e-6)
    loss = named.evaluate(dict(df[["a", "b"]]), df["y"], verbose=0)
    assert np.isfinite(loss)


def _write_csv(path, rows, header=True):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        if header:
            writer.writerow(["sqft", "rooms", "city", "price"])
        writer.writerows(rows)


ROWS = [[f"{1000 + 10 * i}.5", "" if i == 7 else str(i % 5 + 1), ["a,b", "c", "d"][i % 3],
         f"{i / 10:.1f}"] for i in range(23)]


def test_csv_dataset_types_missing_values_and_batches(tmp_path):
    path = tmp_path / "houses.csv"
    _write_csv(path, ROWS)
    ds = keras.utils.csv_dataset(str(path), batch_size=10, label_name="price", shuffle=False)
    assert len(ds) == 3
    with pytest.raises(ValueError, match="'rooms' is missing a value"):
        ds[0]  # row 7 has no rooms, and inferred columns have no default (tf.data's rule)
    x, y = ds[1]
    dtypes = {k: v.dtype for k, v in x.items()}
    assert dtypes == {"sqft": np.float32, "rooms": np.int32, "city": object}
    np.testing.assert_allclose(x["sqft"], [1100.5 + 10 * i for i in range(10)])
    assert list(x["city"][:3]) == ["c", "d", "a,b"]  # a quoted delimiter stays in its field
    np.testing.assert_allclose(y, [i / 10 for i in range(10, 20)], rtol=1e-6)
    assert ds[2][1].shape == (3,)
    filled = keras.utils.csv_dataset(str(path), batch_size=10, label_name="price",
                                     column_defaults=[0.0, -1, "", 0.0], shuffle=False)
    assert filled[0][0]["rooms"][7] == -1 and filled[0][0]["rooms"].dtype == np.int32
    typed = keras.utils.csv_dataset(str(path), batch_size=10, column_defaults=[
        "float64", 0.0, "string", float], select_columns=["rooms"], shuffle=False)
    assert list(typed[0]) == ["rooms"] and typed[0]["rooms"].dtype == np.float32
    skipping = keras.utils.csv_dataset(str(path), batch_size=10, ignore_errors=True,
                                       shuffle=False)
    assert len(skipping[0]["rooms"]) == 9


def test_csv_dataset_without_header_globs_and_shuffles(tmp_path):
    for part in range(2):
        _write_csv(tmp_path / f"part{part}.csv", ROWS[part * 12:(part + 1) * 12], header=False)
    with pytest.raises(ValueError, match="column_names"):
        keras.utils.csv_dataset(str(tmp_path / "part*.csv"), 5, header=False)
    kwargs = dict(column_names=["sqft", "rooms", "city", "price"], header=False,
                  column_defaults=[0.0, 0, "", 0.0], label_name="price")
    ds = keras.utils.csv_dataset(str(tmp_path / "part*.csv"), 5, shuffle=True, shuffle_seed=3,
                                 **kwargs)
    assert len(ds) == 6  # 12 + 11 rows, batches of 5 within each file
    seen = np.concatenate([ds[i][1] for i in range(len(ds))])
    np.testing.assert_allclose(np.sort(seen), [i / 10 for i in range(23)], rtol=1e-6)
    again = keras.utils.csv_dataset(str(tmp_path / "part*.csv"), 5, shuffle=True,
                                    shuffle_seed=3, **kwargs)
    np.testing.assert_array_equal(np.concatenate([again[i][1] for i in range(len(ds))]), seen)


def test_csv_dataset_trains_named_inputs(tmp_path):
    path = tmp_path / "houses.csv"
    _write_csv(path, ROWS)
    ds = keras.utils.csv_dataset(str(path), 8, label_name="price", select_columns=["sqft",
                                 "rooms"], column_defaults=[0.0, 0, "", 0.0], shuffle_seed=0)
    sqft, rooms = keras.Input((1,), name="sqft"), keras.Input((1,), name="rooms")
    scaled = layers.Rescaling(1 / 1000)(sqft)
    model = keras.Model([sqft, rooms], layers.Dense(1)(layers.Concatenate()([scaled, rooms])))
    model.compile("adam", "mse")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(ds, verbose=0).shape == (23, 1)


@pytest.fixture
def h5_file(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((100, 4)), rng.standard_normal((100, 1))
    path = tmp_path / "data.h5"
    with h5py.File(path, "w") as f:
        f["x"], f["y"] = x, y
    return str(path), x, y


def test_hdf5_matrix_indexing(h5_file):
    path, x, _ = h5_file
    matrix = keras.utils.HDF5Matrix(path, "x", start=10, end=60)
    assert (len(matrix), matrix.shape, matrix.dtype, matrix.ndim) == (50, (50, 4), np.float64, 2)
    np.testing.assert_array_equal(matrix[0:5], x[10:15])
    np.testing.assert_array_equal(matrix[-1], x[59])
    np.testing.assert_array_equal(matrix[[7, 2, 7, 0]], x[[17, 12, 17, 10]])  # any order
    np.testing.assert_array_equal(matrix[::10], x[10:60:10])
    doubled = keras.utils.HDF5Matrix(path, "x", normalizer=lambda a: 2 * a)
    np.testing.assert_array_equal(doubled[3], 2 * x[3])
    with pytest.raises(IndexError):
        matrix[50]
    with pytest.raises(TypeError, match="lazily"):
        np.asarray(matrix)


def test_fit_on_hdf5_matrix_equals_fit_on_arrays(h5_file):
    path, x, y = h5_file

    def trained(xs, ys):
        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
        model.compile(keras.optimizers.SGD(0.1), "mse")
        history = model.fit(xs, ys, batch_size=16, epochs=2, validation_split=0.2, verbose=0)
        return model, history.history

    lazy, lazy_history = trained(keras.utils.HDF5Matrix(path, "x"),
                                 keras.utils.HDF5Matrix(path, "y"))
    eager, eager_history = trained(x.astype("float32"), y.astype("float32"))
    np.testing.assert_allclose(lazy_history["val_loss"], eager_history["val_loss"], rtol=1e-5)
    np.testing.assert_allclose(lazy.weights[0].numpy(), eager.weights[0].numpy(), rtol=1e-5)
    assert lazy.predict(keras.utils.HDF5Matrix(path, "x"), verbose=0).shape == (100, 1)


def test_hdf5_dataset_over_files(h5_file, tmp_path):
    path, x, y = h5_file
    second = str(tmp_path / "more.h5")
    with h5py.File(second, "w") as f:
        f["x"], f["y"] = x[:30] + 1, y[:30]
    ds = keras.utils.HDF5Dataset([path, second], x="x", y="y", batch_size=32)
    assert len(ds) == 5
    xb, yb = ds[3]  # rows 96..127: 4 from the first file, 28 from the second
    assert xb.dtype == np.float32 and xb.shape == (32, 4)
    np.testing.assert_allclose(xb, np.concatenate([x[96:], x[:28] + 1]), rtol=1e-6)
    named = keras.utils.HDF5Dataset(path, x={"features": "x"}, y="y", batch_size=50,
                                    shuffle=True, seed=0)
    assert set(named[0][0]) == {"features"}
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    assert len(model.fit(ds, epochs=2, verbose=0).history["loss"]) == 2


def test_hdf5_fit_memory_is_bounded_by_the_batch(tmp_path):
    path = str(tmp_path / "big.h5")
    rows, cols = 8192, 512  # 16 MB of float32
    with h5py.File(path, "w") as f:
        data = f.create_dataset("x", (rows, cols), "float32")
        for s in range(0, rows, 1024):
            data[s:s + 1024] = np.random.default_rng(s).standard_normal((1024, cols))
        f["y"] = np.zeros((rows, 1), "float32")
    model = keras.Sequential([keras.Input((cols,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = keras.utils.HDF5Matrix(path, "x"), keras.utils.HDF5Matrix(path, "y")
    model.fit(x[:64], y[:64], verbose=0)  # builds the weights and the step first
    tracemalloc.start()
    try:
        model.fit(x, y, batch_size=256, epochs=1, verbose=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # A batch is 0.5 MB; the file is 16 MB.
    assert peak < 4 * 2 ** 20, peak
