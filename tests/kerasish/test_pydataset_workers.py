"""PyDataset workers: batches in index order whatever the load times, errors raised at their
batch, and no worker left behind when fit ends early or raises."""
import threading
import time

import numpy as np
import pytest

import kerasish as keras
from kerasish import layers
from kerasish.data_workers import ordered_batches


class Slow(keras.utils.PyDataset):
    """Batch i is filled with i; later indices load faster, so order must be restored."""

    def __init__(self, n=8, fail_at=None, **kwargs):
        super().__init__(**kwargs)
        self.n, self.fail_at, self.loaded = n, fail_at, []

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(0.002 * (self.n - i))
        if i == self.fail_at:
            raise RuntimeError(f"broken batch {i}")
        self.loaded.append(i)
        x = np.full((4, 3), i, "float32")
        return x, x[:, :1]


def pool_threads():
    return [t for t in threading.enumerate() if t.name.startswith("pydataset")]


@pytest.mark.parametrize("multiprocessing", [False, True])
def test_batches_come_in_index_order(multiprocessing):
    data = Slow(workers=3, use_multiprocessing=multiprocessing, max_queue_size=4)
    firsts = [int(x[0, 0]) for x, _ in ordered_batches(data, range(2, 8), 3, multiprocessing, 4)]
    assert firsts == [2, 3, 4, 5, 6, 7]
    assert pool_threads() == []


def test_the_queue_is_bounded():
    data = Slow(n=50)
    batches = ordered_batches(data, range(50), workers=2, max_queue_size=5)
    next(batches)
    time.sleep(0.05)
    assert len(data.loaded) <= 1 + 5
    batches.close()
    assert pool_threads() == []


def model():
    m = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    m.compile("sgd", "mse")
    return m


def test_fit_with_workers_equals_fit_without():
    a, b = model(), model()
    b.set_weights(a.get_weights())
    ha = a.fit(Slow(workers=1), epochs=2, verbose=0).history["loss"]
    hb = b.fit(Slow(workers=4, max_queue_size=2), epochs=2, verbose=0).history["loss"]
    assert ha == hb
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_an_error_in_a_worker_stops_fit_cleanly():
    with pytest.raises(RuntimeError, match="broken batch 5"):
        model().fit(Slow(workers=3, fail_at=5), epochs=1, verbose=0)
    assert pool_threads() == []


def test_steps_per_epoch_shorter_than_the_dataset_shuts_the_workers_down():
    model().fit(Slow(n=20, workers=2), steps_per_epoch=3, epochs=2, verbose=0)
    assert pool_threads() == []


def test_bad_worker_counts_are_refused():
    with pytest.raises(ValueError, match="workers=0"):
        Slow(workers=0)
