"""im2col/col2im and the GEMMs of the conv ops (channels-last, 1 to 3 spatial dims).

A conv is described by a ``Geometry``. ``im2col`` copies, per kernel tap, one strided slice of
the padded input into an (N*P, T*C) matrix (P output pixels, T taps, C channels), so a conv is
one GEMM with the (T*C, O) kernel; ``col2im`` scatters such a matrix back with slice-adds. Both
loop over the T kernel taps only, never over batch, pixels or channels (Chainer's
``utils/conv.py`` by slicing, which runs unchanged on NumPy and CuPy).
"""
from __future__ import annotations

import itertools
import math
from typing import NamedTuple


class Geometry(NamedTuple):
    """Where each output pixel of a conv reads its input.

    Output pixel ``o`` of a spatial axis reads padded input ``o * stride + tap * dilation``;
    the padded input is the input with ``pad_before``/``pad_after`` zeros on that axis.
    """

    in_shape: tuple
    out_shape: tuple
    kernel: tuple
    strides: tuple
    dilation: tuple
    pad_before: tuple
    pad_after: tuple

    @property
    def taps(self) -> int:
        return math.prod(self.kernel)

    @property
    def pointwise(self) -> bool:
        """1x1 kernel, stride 1, no padding: the input already is the im2col matrix."""
        return (all(k == 1 for k in self.kernel) and all(s == 1 for s in self.strides)
                and not any(self.pad_before) and not any(self.pad_after))


def make_geometry(in_shape, out_shape, kernel, strides, dilation, pad_before) -> Geometry:
    """A Geometry whose ``pad_after`` is just enough for the last window (0 when it fits)."""
    pad_after = tuple(
        max(0, (o - 1) * s + (k - 1) * d + 1 - n - p)
        for n, o, k, s, d, p in zip(in_shape, out_shape, kernel, strides, dilation, pad_before)
    )
    return Geometry(tuple(in_shape), tuple(out_shape), tuple(kernel), tuple(strides),
                    tuple(dilation), tuple(pad_before), pad_after)


def _windows(g: Geometry):
    """For each kernel tap (in the kernel's C order), the slice of the padded input it reads."""
    for offsets in itertools.product(*(range(k) for k in g.kernel)):
        spatial = tuple(slice(t * d, t * d + (o - 1) * s + 1, s)
                        for t, d, o, s in zip(offsets, g.dilation, g.out_shape, g.strides))
        yield (slice(None),) + spatial + (slice(None),)


def im2col(xp, x, g: Geometry):
    """(N, *in_shape, C) -> (N*P, T*C), columns ordered (tap, channel) like a reshaped kernel."""
    n, c = x.shape[0], x.shape[-1]
    if g.pointwise:
        return x.reshape(-1, c)
    if any(g.pad_before) or any(g.pad_after):
        # NOTE: padded once here; the windows below are views of this one copy.
        x = xp.pad(x, [(0, 0)] + list(zip(g.pad_before, g.pad_after)) + [(0, 0)])
    cols = xp.empty((n,) + g.out_shape + (g.taps, c), dtype=x.dtype)
    for t, window in enumerate(_windows(g)):
        cols[..., t, :] = x[window]
    return cols.reshape(-1, g.taps * c)


def col2im(xp, cols, g: Geometry, channels: int):
    """The adjoint of ``im2col``: (N*P, T*C) -> (N, *in_shape, C), overlaps summed."""
    n = cols.shape[0] // math.prod(g.out_shape)
    if g.pointwise:
        return cols.reshape((n,) + g.in_shape + (channels,))
    padded = tuple(a + b + c for a, b, c in zip(g.in_shape, g.pad_before, g.pad_after))
    x = xp.zeros((n,) + padded + (channels,), dtype=cols.dtype)
    cols = cols.reshape((n,) + g.out_shape + (g.taps, channels))
    for t, window in enumerate(_windows(g)):
        x[window] += cols[..., t, :]
    crop = tuple(slice(b, b + length) for b, length in zip(g.pad_before, g.in_shape))
    return x[(slice(None),) + crop + (slice(None),)]


# -- GEMMs. A kernel is (*K, C/groups, O); groups split C and O into contiguous blocks (TF's
# feature_group_count). groups == 1 is the hot path: one plain 2-D matmul.

def _group_cols(cols, taps, groups):
    m, width = cols.shape
    cg = width // (taps * groups)
    return cols.reshape(m, taps, groups, cg).transpose(2, 0, 1, 3).reshape(groups, m, -1)


def _group_kernel(w, groups):
    cg, cout = w.shape[-2], w.shape[-1]
    w = w.reshape(-1, cg, groups, cout // groups)
    return w.transpose(2, 0, 1, 3).reshape(groups, -1, cout // groups)


def _group_gy(gy2, groups):
    m, cout = gy2.shape
    return gy2.reshape(m, groups, cout // groups).transpose(1, 0, 2)


def gemm_forward(xp, cols, w, groups=1):
    """(M, T*C) columns times a (*K, C/groups, O) kernel -> (M, O)."""
    cout = w.shape[-1]
    if groups == 1:
        return xp.matmul(cols, w.reshape(-1, cout))
    taps = math.prod(w.shape[:-2])
    y = xp.matmul(_group_cols(cols, taps, groups), _group_kernel(w, groups))
    return y.transpose(1, 0, 2).reshape(cols.shape[0], cout)


def gemm_grad_cols(xp, gy2, w, groups=1):
    """Gradient of ``gemm_forward`` w.r.t. its columns: (M, O) -> (M, T*C)."""
    if groups == 1:
        return xp.matmul(gy2, w.reshape(-1, w.shape[-1]).T)
    m, taps, cg = gy2.shape[0], math.prod(w.shape[:-2]), w.shape[-2]
    gc = xp.matmul(_group_gy(gy2, groups), _group_kernel(w, groups).transpose(0, 2, 1))
    return gc.reshape(groups, m, taps, cg).transpose(1, 2, 0, 3).reshape(m, -1)


def gemm_grad_kernel(xp, cols, gy2, kernel_shape, groups=1):
    """Gradient of ``gemm_forward`` w.r.t. its kernel, shaped ``kernel_shape``."""
    if groups == 1:
        return xp.matmul(cols.T, gy2).reshape(kernel_shape)
    taps, cg = math.prod(kernel_shape[:-2]), kernel_shape[-2]
    gw = xp.matmul(_group_cols(cols, taps, groups).transpose(0, 2, 1), _group_gy(gy2, groups))
    return gw.reshape(groups, taps, cg, -1).transpose(1, 2, 0, 3).reshape(kernel_shape)
