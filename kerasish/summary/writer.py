"""Summary writers: one event file each, written by the `tensorboard` package's own writer."""
from __future__ import annotations

import contextlib
import os
import time

from ._lib import tb

_DEFAULT = []  # stack of (writer, step) set by `as_default`, innermost last
_BASE = [(None, None)]  # what `set_as_default` set: used outside any `as_default` block


class SummaryWriter:
    """Writes summaries to a new ``events.out.tfevents.*.v2`` file in ``logdir``.

    Made by ``create_file_writer``. Use ``with writer.as_default(): summary.scalar(...)``.

    Args:
        logdir: The folder of the event file (created if missing).
        max_queue: Events kept in memory before they are written.
        flush_millis: Longest time between two writes to disk, in milliseconds.
        filename_suffix: Appended to the event file's name.

    >>> writer = SummaryWriter("logs/run1")
    """

    def __init__(self, logdir, max_queue=10, flush_millis=120000, filename_suffix=".v2"):
        if not isinstance(logdir, (str, os.PathLike)) or not os.fspath(logdir):
            raise ValueError(f"`logdir` must be a non-empty path. Received: logdir={logdir!r}")
        self.logdir = os.fspath(logdir)
        file_writer = tb("summary.writer.event_file_writer")
        self._events = file_writer.EventFileWriter(
            self.logdir, max_queue_size=max_queue, flush_secs=flush_millis / 1000,
            filename_suffix=filename_suffix)
        self._closed = False

    @property
    def path(self) -> str:
        """The event file this writer writes."""
        return self._events._file_name

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self):
        if self._closed:
            raise RuntimeError(f"The summary writer of {self.logdir!r} is closed.")

    @contextlib.contextmanager
    def as_default(self, step=None):
        """Makes this the writer of ``kerasish.summary.*`` calls inside the block.

        Args:
            step: The default step of those calls (their own ``step`` argument wins).
        """
        _DEFAULT.append((self, step))
        try:
            yield self
        finally:
            _DEFAULT.pop()
            self.flush()

    def set_as_default(self, step=None):
        """Makes this the default writer from now on (outside any ``as_default`` block)."""
        _BASE[0] = (self, step)

    def write_summary(self, summary, step, wall_time=None):
        """Appends one ``Summary`` protobuf as an event at ``step``."""
        self._check_open()
        event_pb2 = tb("compat.proto.event_pb2")
        event = event_pb2.Event(wall_time=time.time() if wall_time is None else wall_time,
                                step=int(step), summary=summary)
        self._events.add_event(event)

    def write_graph(self, graph_def, step=0):
        """Writes a ``GraphDef`` protobuf: the Graphs dashboard's op-level graph."""
        self._check_open()
        event_pb2 = tb("compat.proto.event_pb2")
        self._events.add_event(event_pb2.Event(wall_time=time.time(), step=int(step),
                                               graph_def=graph_def.SerializeToString()))

    def flush(self):
        """Writes every pending event to disk."""
        if not self._closed:
            self._events.flush()

    def close(self):
        """Flushes and closes the event file; the writer cannot be used afterwards."""
        if not self._closed:
            self._events.close()
            self._closed = True

    def __repr__(self):
        return f"<SummaryWriter logdir={self.logdir!r}>"


def create_file_writer(logdir, max_queue=None, flush_millis=None, filename_suffix=None,
                       name=None):
    """A ``SummaryWriter`` for ``logdir`` (``tf.summary.create_file_writer``'s arguments).

    >>> writer = create_file_writer("logs/custom")
    >>> with writer.as_default():
    ...     scalar("loss", 0.5, step=1)
    """
    del name  # accepted for compatibility: it names a TF resource
    return SummaryWriter(logdir, max_queue=10 if max_queue is None else max_queue,
                         flush_millis=120000 if flush_millis is None else flush_millis,
                         filename_suffix=".v2" if filename_suffix is None else filename_suffix)


def default_writer():
    """(writer, default step) of the innermost ``as_default`` block, or (None, None)."""
    writer, step = _DEFAULT[-1] if _DEFAULT else _BASE[0]
    return (None, None) if writer is None or writer.closed else (writer, step)


def resolve_step(step):
    if step is None:
        step = default_writer()[1]
    if step is None:
        raise ValueError("No step set. Pass `step=` to the summary call or to "
                         "`writer.as_default(step=...)`.")
    return int(step)
