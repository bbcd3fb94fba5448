"""``keras.utils`` helpers for data tuples and functional graphs."""
from __future__ import annotations

from ..data import unpack_x_y_sample_weight
from ..symbolic import is_keras_tensor


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The tuple ``fit`` unpacks: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.

    A lone ``x`` that is a tuple or list is wrapped as ``(x,)``, so that it reads as one input.

    >>> pack_x_y_sample_weight([1, 2], [3])
    ([1, 2], [3])
    """
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def get_source_inputs(tensor):
    """The input KerasTensors (from ``keras.Input``) that ``tensor`` is computed from, in the
    order the graph's first path reaches them.

    >>> inputs = keras.Input((3,))
    >>> get_source_inputs(keras.layers.Dense(2)(inputs)) == [inputs]
    True
    """
    if not is_keras_tensor(tensor) or tensor._keras_history is None:
        return [tensor] if is_keras_tensor(tensor) else tensor
    sources, stack = [], [tensor]
    while stack:
        t = stack.pop()
        history = t._keras_history
        layer, node_index = (history[0], history[1]) if history else (None, 0)
        if layer is None or not layer._inbound_nodes:
            found = [t]
        else:
            node = layer._inbound_nodes[node_index]
            if not node.is_input:
                stack.extend(reversed(node.input_tensors))
                continue
            found = list(node.outputs)
        for x in found:
            if all(x is not s for s in sources):
                sources.append(x)
    return sources


__all__ = ["get_source_inputs", "pack_x_y_sample_weight", "unpack_x_y_sample_weight"]
