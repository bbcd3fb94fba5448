"""Parallel, in-order loading of a PyDataset's batches (Keras's ``workers`` and
``use_multiprocessing``), through a bounded queue of pending loads."""
from __future__ import annotations

import collections
import concurrent.futures
import multiprocessing

_dataset = None  # NOTE: each worker process's copy, set once by _init_process


def _init_process(dataset):
    global _dataset
    _dataset = dataset


def _load_in_process(index):
    return _dataset[index]


def _executor(dataset, workers, use_multiprocessing):
    if not use_multiprocessing:
        return concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="pydataset"), \
            dataset.__getitem__
    # NOTE: fork shares the dataset without pickling it (as Keras does on Linux); elsewhere it
    # must pickle.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context(method), initializer=_init_process,
        initargs=(dataset,))
    return pool, _load_in_process


def ordered_batches(dataset, indices, workers, use_multiprocessing=False, max_queue_size=10):
    """Yields ``dataset[i]`` for ``i`` in ``indices``, in that order, loaded by ``workers``
    threads (or processes) with at most ``max_queue_size`` loads pending.

    Closing the generator (the loop ends early, or raises) cancels what is pending and shuts
    the workers down; an error raised by ``__getitem__`` is raised here, at its batch.
    """
    indices = iter(indices)
    pool, load = _executor(dataset, workers, use_multiprocessing)
    pending = collections.deque()
    depth = max(int(max_queue_size), workers, 1)
    try:
        for index in indices:
            pending.append(pool.submit(load, index))
            if len(pending) >= depth:
                break
        while pending:
            batch = pending.popleft().result()
            for index in indices:
                pending.append(pool.submit(load, index))
                break
            yield batch
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
