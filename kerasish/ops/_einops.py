"""``rearrange``: einops-style reshaping and transposing, e.g. ``"b (h w) c -> b h w c"``."""
from __future__ import annotations

import re

from engine import ops as E

from ._base import shape_of, spec
from ._base import tensor as to_tensor
from ._symbolic import keras_op


def _groups(side):
    """``"b (h w) c"`` -> ``[["b"], ["h", "w"], ["c"]]``."""
    return [g.split() if g.startswith("(") is False else g[1:-1].split()
            for g in re.findall(r"\([\w\s]*\)|\w+", side)]


def _plan(shape, pattern, axes_lengths):
    """(elementary sizes of the input, transpose order, output shape)."""
    if "->" not in pattern:
        raise ValueError(f"rearrange: the pattern needs '->'. Received: pattern={pattern!r}")
    left, right = (_groups(s) for s in pattern.split("->"))
    if len(left) != len(shape):
        raise ValueError(f"rearrange: the pattern's left side has {len(left)} axes but the "
                         f"tensor has {len(shape)}. Received: pattern={pattern!r}, "
                         f"shape={tuple(shape)}")
    sizes = dict(axes_lengths)
    for group, dim in zip(left, shape):
        unknown = [a for a in group if a not in sizes]
        if len(unknown) > 1:
            raise ValueError(f"rearrange: cannot infer the sizes of {unknown} in {group}. "
                             f"Received: pattern={pattern!r}, axes_lengths={axes_lengths}")
        if unknown:
            known = 1
            for a in group:
                known *= sizes.get(a, 1)
            sizes[unknown[0]] = None if dim is None else dim // known
    flat_left = [a for g in left for a in g]
    flat_right = [a for g in right for a in g]
    if sorted(flat_left) != sorted(flat_right):
        raise ValueError("rearrange: both sides must name the same axes. Received: "
                         f"pattern={pattern!r}")
    out = []
    for group in right:
        size = 1
        for a in group:
            size = None if size is None or sizes[a] is None else size * sizes[a]
        out.append(size)
    return [sizes[a] for a in flat_left], [flat_left.index(a) for a in flat_right], out


def _spec(tensor, pattern, **axes_lengths):
    return spec(_plan(shape_of(tensor), pattern, axes_lengths)[2], tensor.dtype)


@keras_op(spec=_spec)
def rearrange(tensor, pattern, **axes_lengths):
    """Reshapes and transposes `tensor` as einops's `rearrange` pattern says.

    >>> rearrange(np.zeros((2, 6, 3)), "b (h w) c -> b c h w", h=2).shape
    (2, 3, 2, 3)
    """
    x = to_tensor(tensor)
    elementary, order, out = _plan(x.shape, pattern, axes_lengths)
    return E.reshape(E.transpose(E.reshape(x, tuple(elementary)), tuple(order)), tuple(out))
