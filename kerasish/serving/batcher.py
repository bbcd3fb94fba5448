"""Dynamic batching with TF Serving's knobs (its BasicBatchScheduler, in Python).

Requests (tasks) join the open batch while it has room and matching shapes; a batch is run when
it is full, when a later task could not join it, or ``batch_timeout_micros`` after its first
task arrived. At most ``max_enqueued_batches`` batches wait: past that a task fails at once
with UNAVAILABLE (HTTP 503), so overload sheds load instead of growing latency.
``num_batch_threads`` threads run the batches, outside the event loop; NumPy releases the GIL
in its GEMMs, so they overlap.
"""
import collections
import concurrent.futures
import os
import threading
import time

import numpy as np

from .errors import invalid_argument, unavailable

QUEUE_FULL = "The batch scheduling queue to which this task was submitted is full"
# TF Serving's BasicBatchScheduler defaults (num_batch_threads: the number of CPUs).
DEFAULTS = {"max_batch_size": 1000, "batch_timeout_micros": 0, "max_enqueued_batches": 10,
            "num_batch_threads": os.cpu_count() or 1, "allowed_batch_sizes": ()}


class _Batch:
    __slots__ = ("tasks", "size", "key", "deadline", "closed")

    def __init__(self, key, deadline):
        self.tasks, self.size, self.key, self.deadline, self.closed = [], 0, key, deadline, False


class Batcher:
    """Merges concurrent ``submit`` calls into batches for ``run(arrays) -> arrays``.

    >>> batcher = Batcher(signature.predict, max_batch_size=32, batch_timeout_micros=2000)
    >>> future = batcher.submit({"x": x})   # a concurrent.futures.Future of the outputs
    """

    def __init__(self, run, max_batch_size=None, batch_timeout_micros=None,
                 max_enqueued_batches=None, num_batch_threads=None, allowed_batch_sizes=None,
                 on_batch=None, name="batcher"):
        given = dict(max_batch_size=max_batch_size, batch_timeout_micros=batch_timeout_micros,
                     max_enqueued_batches=max_enqueued_batches,
                     num_batch_threads=num_batch_threads, allowed_batch_sizes=allowed_batch_sizes)
        opts = {k: DEFAULTS[k] if v is None else v for k, v in given.items()}
        for k in ("max_batch_size", "max_enqueued_batches", "num_batch_threads"):
            if int(opts[k]) < 1:
                raise ValueError(f"`{k}` must be at least 1. Received: {k}={opts[k]}")
        if int(opts["batch_timeout_micros"]) < 0:
            raise ValueError("`batch_timeout_micros` must be >= 0. Received: "
                             f"batch_timeout_micros={opts['batch_timeout_micros']}")
        self.max_batch_size = int(opts["max_batch_size"])
        self.timeout = int(opts["batch_timeout_micros"]) / 1e6
        self.max_enqueued_batches = int(opts["max_enqueued_batches"])
        self.allowed = sorted(int(s) for s in opts["allowed_batch_sizes"])
        if self.allowed and self.allowed[-1] != self.max_batch_size:
            raise ValueError("The last entry of `allowed_batch_sizes` must equal "
                             f"`max_batch_size`. Received: allowed_batch_sizes={self.allowed}, "
                             f"max_batch_size={self.max_batch_size}")
        self._run, self._on_batch = run, on_batch
        self._batches = collections.deque()
        self._cond = threading.Condition()
        self._stopped = False
        self.queued_tasks = 0
        self._threads = [threading.Thread(target=self._loop, name=f"{name}-{i}", daemon=True)
                         for i in range(int(opts["num_batch_threads"]))]
        for t in self._threads:
            t.start()

    def submit(self, arrays):
        """Enqueues one request (a dict of arrays sharing a first axis); returns a Future."""
        size = len(next(iter(arrays.values())))
        if size > self.max_batch_size:
            raise invalid_argument(f"Task size {size} is larger than maximum input batch size "
                                   f"{self.max_batch_size}")
        key = tuple((n, a.shape[1:], a.dtype.str) for n, a in arrays.items())
        future = concurrent.futures.Future()
        with self._cond:
            if self._stopped:
                raise unavailable("The batcher is stopped (the model is being unloaded)")
            last = self._batches[-1] if self._batches else None
            if last is None or last.closed or last.key != key or \
                    last.size + size > self.max_batch_size:
                if last is not None:
                    last.closed = True
                if len(self._batches) >= self.max_enqueued_batches:
                    raise unavailable(QUEUE_FULL)
                last = _Batch(key, time.monotonic() + self.timeout)
                self._batches.append(last)
            last.tasks.append((arrays, size, future))
            last.size += size
            last.closed = last.size >= self.max_batch_size
            self.queued_tasks += 1
            self._cond.notify()
        return future

    def full(self):
        """Whether a new task would surely be refused (checked before decoding a request, so
        that overload is refused cheaply)."""
        with self._cond:
            return len(self._batches) >= self.max_enqueued_batches and self._batches[-1].closed

    def _next_batch(self):
        with self._cond:
            while not self._stopped:
                if self._batches:
                    head = self._batches[0]
                    wait = head.deadline - time.monotonic()
                    if head.closed or wait <= 0:
                        self._batches.popleft()
                        self.queued_tasks -= len(head.tasks)
                        return head
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    def _loop(self):
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._process(batch)

    def _process(self, batch):
        tasks = [t for t in batch.tasks if t[2].set_running_or_notify_cancel()]
        if not tasks:
            return
        try:
            names = list(tasks[0][0])
            merged = {n: (tasks[0][0][n] if len(tasks) == 1 else
                          np.concatenate([t[0][n] for t in tasks])) for n in names}
            padded = self._padded_size(batch.size)
            if self._on_batch is not None:
                self._on_batch(batch.size, padded)
            outputs = self._run(merged if padded == batch.size else
                                {n: _pad_rows(a, padded) for n, a in merged.items()})
            start = 0
            for _, size, future in tasks:
                future.set_result({n: o[start:start + size] for n, o in outputs.items()})
                start += size
        except Exception as e:  # every waiting request must hear of it
            for _, _, future in tasks:
                if not future.done():
                    future.set_exception(e)

    def _padded_size(self, size):
        for allowed in self.allowed:
            if allowed >= size:
                return allowed
        return size

    def stop(self):
        """Stops the threads after the batches in hand; waiting tasks fail with 503."""
        with self._cond:
            self._stopped = True
            pending = [t for b in self._batches for t in b.tasks]
            self._batches.clear()
            self.queued_tasks = 0
            self._cond.notify_all()
        for _, _, future in pending:
            if future.set_running_or_notify_cancel():
                future.set_exception(unavailable("The model was unloaded before this request "
                                                 "ran"))
        for t in self._threads:
            t.join()


def _pad_rows(a, rows):
    """Pads the batch axis to ``rows`` with copies of the first row (any valid row will do)."""
    extra = np.repeat(a[:1], rows - len(a), axis=0)
    return np.concatenate([a, extra])
