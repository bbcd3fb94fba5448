"""``keras.utils.timeseries_dataset_from_array``: sliding windows over a series, in batches."""
from __future__ import annotations

import numpy as np

from ..data import PyDataset


class TimeseriesDataset(PyDataset):
    """Batches of windows ``data[start + i * sampling_rate]`` (``i < sequence_length``), with
    ``targets[start]`` when targets are given.

    With ``seed`` (a shuffled dataset), each epoch after the first draws a new window order,
    as Keras's ``tf.data`` pipeline reshuffles.

    Attributes:
        start_positions: Each window's first index (relative to ``start_index``), in the
            dataset's (first epoch's) order.
    """

    def __init__(self, data, targets, sequence_length, sampling_rate, batch_size,
                 start_positions, seed=None):
        super().__init__()
        self.data, self.targets = data, targets
        self.sequence_length, self.sampling_rate = sequence_length, sampling_rate
        self.batch_size = batch_size
        self.start_positions = start_positions
        self._starts = start_positions
        self._rng = None if seed is None else np.random.RandomState(seed)

    def on_epoch_end(self):
        if self._rng is not None:
            self._starts = self._rng.permutation(self.start_positions)

    def __len__(self):
        if self.batch_size is None:
            return len(self.start_positions)
        return -(-len(self.start_positions) // self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index out of range. Received: index={index}, "
                             f"len={len(self)}")
        if self.batch_size is None:
            starts = self._starts[index:index + 1]
        else:
            starts = self._starts[index * self.batch_size:(index + 1) * self.batch_size]
        steps = np.arange(self.sequence_length) * self.sampling_rate
        x = np.asarray(self.data[starts[:, None] + steps[None, :]])
        y = None if self.targets is None else np.asarray(self.targets[starts])
        if self.batch_size is None:
            x, y = x[0], None if y is None else y[0]
        return x if y is None else (x, y)


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None, format="tf"):
    """A ``PyDataset`` of sliding windows over ``data`` (Keras's windows exactly).

    Window ``k`` starts at ``start_index + k * sequence_stride`` and holds
    ``sequence_length`` steps taken every ``sampling_rate`` steps; its target is
    ``targets[start_index + k * sequence_stride]``. Windows end before ``end_index``.

    Args:
        data: Array-like of timesteps (axis 0 is time).
        targets: Array-like of targets (axis 0 aligned with ``data``), or None.
        sequence_length: Steps per window.
        sequence_stride: Steps between the starts of consecutive windows.
        sampling_rate: Steps between the samples of one window.
        batch_size: Windows per batch; None = one window per item, without a batch axis.
        shuffle: Shuffle the windows (their starts, with ``np.random.RandomState(seed)``).
        seed: The shuffle's seed.
        start_index, end_index: Only ``data[start_index:end_index]`` is used.
        format: ``"tf"`` or ``"grain"`` in Keras; either way kerasish returns a PyDataset.

    >>> ds = timeseries_dataset_from_array(np.arange(10), None, sequence_length=3, batch_size=4)
    >>> ds[0].tolist()
    [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]
    """
    n = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: "
                             f"start_index={start_index}")
        if start_index >= n:
            raise ValueError("`start_index` must be lower than the length of the data. "
                             f"Received: start_index={start_index}, for data of length {n}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError("`end_index` must be higher than `start_index`. Received: "
                             f"start_index={start_index}, and end_index={end_index} ")
        if end_index >= n:
            raise ValueError("`end_index` must be lower than the length of the data. "
                             f"Received: end_index={end_index}, for data of length {n}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
        if value >= n:
            raise ValueError(f"`{name}` must be lower than the length of the data. Received: "
                             f"{name}={value}, for data of length {n}")
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    start_index = start_index or 0
    end_index = n if end_index is None else end_index
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    starts = np.arange(0, max(num_seqs, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(starts)
    data = np.asarray(data)[start_index:end_index]
    if targets is not None:
        targets = np.asarray(targets)[start_index:end_index]
    return TimeseriesDataset(data, targets, sequence_length, sampling_rate, batch_size, starts,
                             seed if shuffle else None)
