"""PyDataset loading with 1, 2 and 4 workers: one fit epoch over a dataset whose ``__getitem__``
sleeps (as one reading files would), threads and processes, as a ratio to ``workers=1``.

    python bench/pydataset_workers.py [--batches 40] [--sleep-ms 10]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import kerasish as keras
from kerasish import layers


class Sleepy(keras.utils.PyDataset):
    def __init__(self, batches, sleep_s, **kwargs):
        super().__init__(**kwargs)
        self.batches, self.sleep_s = batches, sleep_s
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((32, 64)).astype("float32")
        self.y = rng.standard_normal((32, 1)).astype("float32")

    def __len__(self):
        return self.batches

    def __getitem__(self, i):
        time.sleep(self.sleep_s)
        return self.x, self.y


def epoch_seconds(batches, sleep_s, workers, processes):
    model = keras.Sequential([keras.Input((64,)), layers.Dense(64, activation="relu"),
                              layers.Dense(1)])
    model.compile("sgd", "mse")
    data = Sleepy(batches, sleep_s, workers=workers, use_multiprocessing=processes)
    model.fit(data, epochs=1, verbose=0)  # warm-up: traces the compiled step
    start = time.perf_counter()
    model.fit(data, epochs=1, verbose=0)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--sleep-ms", type=float, default=10.0)
    args = parser.parse_args()
    sleep_s = args.sleep_ms / 1000
    print(f"{args.batches} batches, __getitem__ sleeps {args.sleep_ms} ms")
    base = epoch_seconds(args.batches, sleep_s, 1, False)
    print(f"{'workers':>8} {'kind':>9} {'epoch s':>8} {'vs workers=1':>13}")
    print(f"{1:>8} {'inline':>9} {base:8.3f} {1.0:13.2f}")
    for processes in (False, True):
        for workers in (2, 4):
            t = epoch_seconds(args.batches, sleep_s, workers, processes)
            kind = "processes" if processes else "threads"
            print(f"{workers:>8} {kind:>9} {t:8.3f} {t / base:13.2f}")


if __name__ == "__main__":
    main()
