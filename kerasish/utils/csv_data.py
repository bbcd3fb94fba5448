"""``csv_dataset``: a CSV file (or several) streamed in batches of named columns, the way
``tf.data.experimental.make_csv_dataset`` reads them (types inferred or given, a header or
column names, missing values), as a ``PyDataset`` that ``fit``/``evaluate``/``predict`` take.

Only a byte offset per batch is kept in memory; each batch is parsed from the file when asked
for, so a file larger than memory trains with memory bounded by the batch.
"""
from __future__ import annotations

import csv
import glob
import io
import math
import os

import numpy as np

from ..data import PyDataset

_TYPE_NAMES = {"int32": np.int32, "int64": np.int64, "float32": np.float32,
               "float64": np.float64, "string": object, "str": object}


def _paths(file_pattern):
    patterns = [file_pattern] if isinstance(file_pattern, (str, os.PathLike)) \
        else list(file_pattern)
    paths = []
    for pattern in patterns:
        found = sorted(glob.glob(os.fspath(pattern)))
        if not found:
            raise ValueError(f"csv_dataset: no file matches {os.fspath(pattern)!r}. Received: "
                             f"file_pattern={file_pattern!r}")
        paths += found
    return paths


def _kind(text):
    for cast, kind in ((int, np.int32), (float, np.float32)):
        try:
            value = cast(text)
        except ValueError:
            continue
        if kind is np.int32 and not -2 ** 31 <= value < 2 ** 31:
            return np.int64
        return kind
    return object


def _widest(a, b):
    order = [np.int32, np.int64, np.float32, object]
    return order[max(order.index(a), order.index(b))]


def _column_type(spec):
    """(numpy type, default or None) of one ``column_defaults`` entry: a value gives its type
    and is the default; a type or type name makes the column required."""
    if spec in (int, float, str):
        return {int: np.int32, float: np.float32, str: object}[spec], None
    if isinstance(spec, str) and spec in _TYPE_NAMES:
        return _TYPE_NAMES[spec], None
    if isinstance(spec, np.dtype) or (isinstance(spec, type) and issubclass(spec, np.generic)):
        return np.dtype(spec).type, None
    if isinstance(spec, (list, tuple)):  # tf's [default] (or [] for a required column)
        return _column_type(spec[0]) if spec else (np.float32, None)
    if isinstance(spec, bool) or not isinstance(spec, (int, float, str, np.generic)):
        raise ValueError("csv_dataset: each of `column_defaults` must be a value (the default "
                         "of a column), a type or a type name. Received: "
                         f"column_defaults entry {spec!r}")
    kind = object if isinstance(spec, str) else _kind(str(spec))
    return kind, spec


class CSVDataset(PyDataset):
    """Batches of a CSV's columns: ``({name: (batch,) array}, label)`` or ``{name: array}``
    (see ``csv_dataset``)."""

    def __init__(self, paths, batch_size, column_names, types, defaults, label_name,
                 select, delimiter, quoting, na_value, header, shuffle, seed, ignore_errors,
                 encoding, **kwargs):
        super().__init__(**kwargs)
        self.paths, self.batch_size = paths, int(batch_size)
        self.column_names, self.types, self.defaults = column_names, types, defaults
        self.label_name, self.select = label_name, select
        self.delimiter, self.quoting, self.na_value = delimiter, quoting, na_value
        self.header, self.shuffle, self.ignore_errors = header, shuffle, ignore_errors
        self.encoding = encoding
        self._rng = np.random.default_rng(seed)
        self._batches = self._index()  # (path, byte offset, rows) per batch
        self._order = np.arange(len(self._batches))
        if shuffle:
            self._rng.shuffle(self._order)

    def _index(self):
        batches = []
        for path in self.paths:
            with open(path, "rb") as f:
                offset = 0
                if self.header:
                    offset += len(f.readline())
                start, rows = offset, 0
                for line in f:
                    if not line.strip():
                        offset += len(line)
                        continue
                    if rows == 0:
                        start = offset
                    rows += 1
                    offset += len(line)
                    if rows == self.batch_size:
                        batches.append((path, start, rows))
                        rows = 0
                if rows:
                    batches.append((path, start, rows))
        return batches

    def __len__(self):
        return len(self._batches)

    def _read_rows(self, path, offset, count):
        with open(path, "rb") as f:
            f.seek(offset)
            lines = []
            while len(lines) < count:
                line = f.readline()
                if not line:
                    break
                if line.strip():
                    lines.append(line.decode(self.encoding))
        return list(csv.reader(io.StringIO("".join(lines)), delimiter=self.delimiter,
                               quoting=self.quoting))

    def _convert(self, rows, path):
        columns = [[] for _ in self.column_names]
        for number, row in enumerate(rows):
            try:
                if len(row) != len(self.column_names):
                    raise ValueError(f"expected {len(self.column_names)} fields, found "
                                     f"{len(row)}")
                values = [self._value(field, i) for i, field in enumerate(row)]
            except ValueError as e:
                if self.ignore_errors:
                    continue
                raise ValueError(f"csv_dataset: bad record in {path} (row {number + 1} of the "
                                 f"batch): {e}. Received: {row!r}") from None
            for column, value in zip(columns, values):
                column.append(value)
        return {name: np.asarray(column, dtype=self.types[i]) if self.types[i] is not object
                else np.asarray(column, dtype=object)
                for i, (name, column) in enumerate(zip(self.column_names, columns))}

    def _value(self, field, i):
        if field == self.na_value or (field == "" and self.types[i] is not object):
            if self.defaults[i] is None:
                raise ValueError(f"column '{self.column_names[i]}' is missing a value and has "
                                 "no default (give one in `column_defaults`)")
            return self.defaults[i]
        kind = self.types[i]
        if kind is object:
            return field
        return int(field) if np.issubdtype(kind, np.integer) else float(field)

    def __getitem__(self, index):
        path, offset, count = self._batches[self._order[index]]
        rows = self._read_rows(path, offset, count)
        columns = self._convert(rows, path)
        if self.shuffle:
            perm = self._rng.permutation(len(next(iter(columns.values()))))
            columns = {k: v[perm] for k, v in columns.items()}
        features = {k: v for k, v in columns.items()
                    if k != self.label_name and (self.select is None or k in self.select)}
        if self.label_name is None:
            return features
        return features, columns[self.label_name]

    def on_epoch_end(self):
        if self.shuffle:
            self._rng.shuffle(self._order)


def csv_dataset(file_pattern, batch_size, column_names=None, column_defaults=None,
                label_name=None, select_columns=None, field_delim=",", use_quote_delim=True,
                na_value="", header=True, shuffle=True, shuffle_seed=None,
                num_rows_for_inference=100, ignore_errors=False, encoding="utf-8", **kwargs):
    """Streams CSV files in batches of named columns (``tf.data.experimental.make_csv_dataset``'s
    arguments), for ``fit``/``evaluate``/``predict``: each batch is ``(features, label)`` with
    ``features`` a dict of ``(batch,)`` arrays keyed by column name (matched to the model's
    named inputs), or ``features`` alone without ``label_name``.

    Args:
        file_pattern: a path, a glob pattern, or a list of them.
        batch_size: rows per batch (a file's last batch may be smaller).
        column_names: the columns' names; default: the header's.
        column_defaults: one entry per column: a value (the column's type, and what a missing
            value becomes), or a type / type name (``int``, ``"float32"``, ``"string"``; then a
            missing value is an error). Default: types inferred from the first
            ``num_rows_for_inference`` rows (int32, int64, float32 or string), missing values
            an error.
        label_name: the column returned as the label.
        select_columns: names of the feature columns to keep (the label is always read).
        field_delim: the delimiter; use_quote_delim: whether quotes may enclose delimiters.
        na_value: the text that means a missing value (an empty numeric field is one too).
        header: whether the first line of each file holds the column names.
        shuffle: shuffle the batches' order each epoch, and the rows within each batch.
        shuffle_seed: seed of that shuffling.
        ignore_errors: skip malformed records instead of raising.
        **kwargs: ``PyDataset``'s ``workers``, ``use_multiprocessing``, ``max_queue_size``.

    Returns:
        A ``PyDataset`` of the batches (records must not contain line breaks).

    >>> ds = csv_dataset("houses.csv", batch_size=32, label_name="price")
    >>> model.fit(ds, epochs=3)
    """
    paths = _paths(file_pattern)
    quoting = csv.QUOTE_MINIMAL if use_quote_delim else csv.QUOTE_NONE
    with open(paths[0], encoding=encoding, newline="") as f:
        reader = csv.reader(f, delimiter=field_delim, quoting=quoting)
        first = next(reader, None)
        if header and first is None:
            raise ValueError(f"csv_dataset: {paths[0]} is empty. Received: header={header}")
        names = list(column_names) if column_names is not None else \
            (list(first) if header else None)
        if names is None:
            raise ValueError("csv_dataset: without a header, `column_names` must be given. "
                             f"Received: column_names={column_names}, header={header}")
        sample = [] if header else [first]
        for row in reader:
            if len(sample) >= num_rows_for_inference:
                break
            sample.append(row)
    if column_defaults is not None:
        if len(column_defaults) != len(names):
            raise ValueError("csv_dataset: one of `column_defaults` per column is expected. "
                             f"Received: {len(column_defaults)} defaults for {len(names)} "
                             f"columns {names}")
        pairs = [_column_type(spec) for spec in column_defaults]
        types, defaults = [p[0] for p in pairs], [p[1] for p in pairs]
    else:
        types = []
        for i in range(len(names)):
            kind = None
            for row in sample:
                if i < len(row) and row[i] not in (na_value, ""):
                    k = _kind(row[i])
                    kind = k if kind is None else _widest(kind, k)
            types.append(kind or np.float32)
        defaults = [None] * len(names)
    if label_name is not None and label_name not in names:
        raise ValueError(f"csv_dataset: `label_name` is not one of the columns {names}. "
                         f"Received: label_name={label_name!r}")
    select = None if select_columns is None else \
        {names[c] if isinstance(c, int) else c for c in select_columns}
    if select is not None and not select <= set(names):
        raise ValueError(f"csv_dataset: `select_columns` names columns not in {names}. "
                         f"Received: select_columns={select_columns}")
    if batch_size is None or int(batch_size) < 1 or math.isnan(float(batch_size)):
        raise ValueError(f"csv_dataset: `batch_size` must be a positive integer. Received: "
                         f"batch_size={batch_size}")
    return CSVDataset(paths, batch_size, names, types, defaults, label_name, select,
                      field_delim, quoting, na_value, header, shuffle, shuffle_seed,
                      ignore_errors, encoding, **kwargs)
