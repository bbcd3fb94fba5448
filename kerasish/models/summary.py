"""``model.summary()``: the table Keras 3 prints, drawn without the ``rich`` library.

Keras builds a ``rich.table.Table`` (heavy-head box, a line between rows, fixed column widths
from ``positions``) and prints it with a ``rich`` console. This module reproduces that output
character for character: rich's column-width reduction (``ratio_reduce``), its word wrapping
inside cells (``divide_line``; a word too long for its cell is cut with ``…``), header cells
aligned to the bottom, the console's cropping of lines wider than the console and, on a
terminal, rich's ANSI styling (bold headers and labels, coloured class names and numbers).

>>> model.summary()                       # prints to stdout
>>> model.summary(print_fn=lines.append)  # one call, with the whole table as one string
"""
from __future__ import annotations

import math
import re
import shutil
import sys

import numpy as np

from ._table import _BOLD, _NONE, _NUMBER, _SYMBOL, _Console, _Text, _render_table


# ----------------------------------------------------------------------------------------------
# The model facts.
# ----------------------------------------------------------------------------------------------
def count_params(weights):
    return int(sum(math.prod(w.shape) for w in weights))


def _dtype_bits(dtype):
    dtype = np.dtype(dtype)
    return 1 if dtype == np.bool_ else dtype.itemsize * 8


def weight_memory_size(weights):
    """Bytes taken by the (distinct) weights, from their shapes and dtypes."""
    unique = {id(w): w for w in weights}.values()
    return sum(math.prod(w.shape) * _dtype_bits(w.dtype) for w in unique) / 8


def readable_memory_size(size):
    """``780.00 B``, ``1.54 KB``, ``7.64 MB``: 1024 steps, 2 decimals."""
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    for unit in units:
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} {units[-1]}"


def _is_sequential_like(model):
    from .functional import Functional
    from .sequential import Sequential

    if isinstance(model, Sequential) or not isinstance(model, Functional):
        return True
    nodes = []
    for group in model._nodes_by_depth.values():
        if len(group) > 1 or (len(group) == 1 and len(group[0].input_tensors) > 1):
            return False
        nodes += group
    for layer in getattr(model, "operations", model.layers):
        seen = False
        for node in layer._inbound_nodes:
            if any(node is n for n in nodes):
                if seen:
                    return False
                seen = True
    return True


def _shape_text(shape):
    pieces = ["("]
    for i, dim in enumerate(shape):
        if i:
            pieces.append(", ")
        pieces.append((str(dim), _NONE if dim is None else _NUMBER))
    pieces.append(")")
    return pieces


def _format_layer_shape(layer):
    nodes = getattr(layer, "_inbound_nodes", None) or []
    build_shapes = getattr(layer, "_build_shapes", None)
    if not nodes and not build_shapes:
        return ["?"]
    if nodes:
        shapes = [_shape_text(t.shape) for t in nodes[-1].outputs]
    else:
        try:
            try:
                shape = layer.output_shape
                shapes = [_shape_text(shape)]
            except AttributeError:
                from .. import utils

                out = layer.compute_output_shape(build_shapes)
                flat = [out] if utils.is_shape(out) else _flat_shapes(out)
                shapes = [_shape_text(s) for s in flat]
        except NotImplementedError:
            return ["?"]
    if len(shapes) == 1:
        return shapes[0]
    pieces = ["["]
    for i, s in enumerate(shapes):
        if i:
            pieces.append(", ")
        pieces.extend(s)
    pieces.append("]")
    return pieces


def _flat_shapes(x):
    from .. import utils

    if utils.is_shape(x):
        return [x]
    items = [x[k] for k in sorted(x)] if isinstance(x, dict) else list(x)
    return [s for item in items for s in _flat_shapes(item)]


def get_layer_index_bound_by_layer_name(layers, layer_range=None):
    """[first, last + 1] indices of the layers between two names (or regexes), inclusive."""
    if layer_range is None:
        return [0, len(layers)]
    if len(layer_range) != 2:
        raise ValueError("layer_range must be a list or tuple of length 2. Received: "
                         f"layer_range = {layer_range} of length {len(layer_range)}")
    if not isinstance(layer_range[0], str) or not isinstance(layer_range[1], str):
        raise ValueError(  # noqa: TRY004 (Keras raises ValueError)
            f"layer_range should contain string type only. Received: {layer_range}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError("Passed layer_names do not match the layer names in the model. "
                         f"Received: {layer_range}")
    if min(lower) > max(upper):
        return [min(upper), max(lower) + 1]
    return [min(lower), max(upper) + 1]


# ----------------------------------------------------------------------------------------------
# print_summary
# ----------------------------------------------------------------------------------------------
def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False,
                  show_trainable=False, layer_range=None):
    """Prints Keras 3's summary table of ``model``.

    Args:
        model: a Sequential, Functional or subclassed model.
        line_length: total width of the table. Defaults to 88 (sequential-like models) or 108
            (others), +12 with ``show_trainable``, capped at the terminal's columns - 4.
        positions: right edges of the columns, as fractions of ``line_length``.
        print_fn: called once with the whole table as one plain-text string (no ANSI codes).
            Defaults to writing to ``sys.stdout`` (styled when it is a terminal).
        expand_nested: also list the layers of nested models, prefixed with ``└``.
        show_trainable: adds a ``Trainable`` column (``Y``, ``N`` or ``-``).
        layer_range: two layer names (or regexes): print only the layers between them.
    """
    layers = getattr(model, "operations", model.layers)
    sequential_like = _is_sequential_like(model)
    relevant_nodes = []
    if sequential_like:
        default_line_length = 88
        positions = positions or [0.45, 0.80, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #"]
        justifies = ["left", "left", "right"]
    else:
        default_line_length = 108
        positions = positions or [0.3, 0.56, 0.74, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        justifies = ["left", "left", "right", "left"]
        for group in model._nodes_by_depth.values():
            relevant_nodes += group
    if show_trainable:
        default_line_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        headers.append("Trainable")
        justifies.append("center")
    default_line_length = min(default_line_length, shutil.get_terminal_size().columns - 4)
    line_length = line_length or default_line_length
    column_widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        column_widths.append(width)
        current += width
    if len(positions) < len(headers):
        raise ValueError(f"`positions` needs {len(headers)} entries, one per column. "
                         f"Received: positions={positions}")

    def connections(layer):
        pieces = []
        for node in layer._inbound_nodes:
            if relevant_nodes and not any(node is n for n in relevant_nodes):
                continue  # a call of the layer outside this model
            for tensor in node.input_tensors:
                inbound, node_index, tensor_index = tensor._keras_history
                if pieces:
                    pieces.append(", ")
                pieces += [f"{inbound.name}[", (str(node_index), _NUMBER), "][",
                           (str(tensor_index), _NUMBER), "]"]
        return pieces or ["-"]

    def layer_fields(layer, prefix):
        name = _Text.of(f"{prefix}{layer.name} (", (type(layer).__name__, _SYMBOL), ")")
        if not hasattr(layer, "built"):
            params = _Text.of(("0", _NUMBER))
        elif not layer.built:
            params = _Text.of(("0", _NUMBER), " (unbuilt)")
        else:
            params = _Text.of((f"{layer.count_params():,}", _NUMBER))
        fields = [name, _Text.of(*_format_layer_shape(layer)), params]
        if not sequential_like:
            fields.append(_Text.of(*connections(layer)))
        if show_trainable:
            if len(getattr(layer, "weights", ())) > 0:
                fields.append(_Text.of(("Y", (True, 34)) if layer.trainable else ("N", (True, 9))))
            else:
                fields.append(_Text.of(("-", _BOLD)))
        return fields

    def layer_rows(layer, level=0):
        rows = [layer_fields(layer, "   " * level + "└ " if level else "")]
        nested = getattr(layer, "layers", None) if expand_nested else None
        if nested:
            for sub in nested:
                rows.extend(layer_rows(sub, level + 1))
        return rows

    start, stop = get_layer_index_bound_by_layer_name(layers, layer_range)
    rows = [row for layer in layers[start:stop] for row in layer_rows(layer)]

    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    trainable_count, trainable_size = count_params(trainable), weight_memory_size(trainable)
    non_trainable_count = count_params(non_trainable)
    non_trainable_size = weight_memory_size(non_trainable)
    optimizer = getattr(model, "optimizer", None)
    optimizer_built = optimizer is not None and bool(getattr(optimizer, "built", False))
    if optimizer_built:
        opt_vars = list(optimizer.variables)
        optimizer_count, optimizer_size = count_params(opt_vars), weight_memory_size(opt_vars)
    else:
        optimizer_count = optimizer_size = 0
    total_count = trainable_count + non_trainable_count + optimizer_count
    total_size = trainable_size + non_trainable_size + optimizer_size

    console = _Console(sys.stdout, force_plain=print_fn is not None)
    out = console.render_text(_Text.of((f'Model: "{model.name}"', _BOLD)))
    table = _render_table([_Text(h) for h in headers], justifies, rows,
                          column_widths[:len(headers)], line_length)
    out += [console.render_line(segments) for segments in table]
    totals = [("Total params", total_count, total_size),
              ("Trainable params", trainable_count, trainable_size),
              ("Non-trainable params", non_trainable_count, non_trainable_size)]
    if optimizer_built:
        totals.append(("Optimizer params", optimizer_count, optimizer_size))
    for label, count, size in totals:
        out += console.render_text(_Text.of((f" {label}: ", _BOLD), (f"{count:,}", _NUMBER),
                                            f" ({readable_memory_size(size)})"))
    text = "".join(line + "\n" for line in out)
    if print_fn is not None:
        print_fn(text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


__all__ = ["print_summary"]
