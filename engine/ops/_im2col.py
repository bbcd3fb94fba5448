"""im2col/col2im and the GEMMs of the conv ops (channels-last, 1 to 3 spatial dims).

A conv is described by a ``Geometry``. ``col_blocks`` reads every window of the padded input
as one strided view (N, *out, *kernel, C) and copies it, a block of output rows at a time, into
(rows, T*C) columns (T kernel taps, C channels), so a block of a conv is one GEMM with the
(T*C, O) kernel; ``col2im`` scatters such a matrix back with one slice-add per tap.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

# NOTE: on the CPU the columns are built a block of about this many bytes at a time, so a conv
# never holds the whole (N*P, T*C) matrix and its GEMMs read them from cache: 1.3-2x faster
# than one whole matrix. 4 MB was best on one thread, but each GEMM call syncs OpenBLAS's
# threads, and with 2 threads on a busy machine 16 MB blocks were 1.5x faster than 4 MB.
BLOCK_BYTES = 16 << 20
BLOCK_PIXELS = 1024  # but at least this many output pixels (GEMM rows) per block
# NOTE: on the GPU the blocks are big (big GEMMs keep it busy), but bounded whatever the batch:
# one whole-batch im2col of an InceptionV3 conv at batch 256 is 6.4 GB. The columns (and the
# col2im matrix of an input gradient) of one block take at most this, or one output row.
GPU_BLOCK_BYTES = 256 << 20


def _block_pixels(xp, width, itemsize):
    """How many output pixels (GEMM rows) of ``width`` columns one block holds."""
    if xp is np:
        return max(BLOCK_PIXELS, BLOCK_BYTES // (width * itemsize))
    return max(1, GPU_BLOCK_BYTES // (width * itemsize))


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
                and not any(self.pad_before + self.pad_after))

    @property
    def padded_shape(self) -> tuple:
        return tuple(map(sum, zip(self.in_shape, self.pad_before, self.pad_after)))

    @property
    def interior(self) -> tuple:
        """Where the input sits in the padded input: an index into (N, *padded, C)."""
        spans = zip(self.pad_before, self.in_shape)
        return (slice(None),) + tuple(slice(b, b + n) for b, n in spans)

    def adjoint(self) -> Geometry | None:
        """For stride 1, the conv of the output gradient with the flipped kernel that gives the
        input gradient (a 'full' correlation); None for strided convs."""
        if any(s != 1 for s in self.strides):
            return None
        taps = zip(self.kernel, self.dilation, self.pad_before)
        before = tuple((k - 1) * d - p for k, d, p in taps)
        return make_geometry(self.out_shape, self.in_shape, self.kernel, self.strides,
                             self.dilation, before)


def make_geometry(in_shape, out_shape, kernel, strides, dilation, pad_before) -> Geometry:
    """A Geometry whose ``pad_after`` is just enough for the last window (0 when it fits)."""
    pad_after = tuple(
        max(0, (o - 1) * s + (k - 1) * d + 1 - n - p)
        for n, o, k, s, d, p in zip(in_shape, out_shape, kernel, strides, dilation, pad_before)
    )
    return Geometry(tuple(in_shape), tuple(out_shape), tuple(kernel), tuple(strides),
                    tuple(dilation), tuple(pad_before), pad_after)


def _windows(xp, x, g: Geometry):
    """Every window of a padded (n, *padded, C) input as a strided view (n, *out, *kernel, C)."""
    s = x.strides
    strides = ((s[0],) + tuple(a * b for a, b in zip(s[1:-1], g.strides))
               + tuple(a * d for a, d in zip(s[1:-1], g.dilation)) + (s[-1],))
    shape = x.shape[:1] + g.out_shape + g.kernel + x.shape[-1:]
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


def _even(total, size):
    """A block size of at most ``size`` (at least 1) that splits ``total`` into even blocks."""
    blocks = math.ceil(total / min(total, max(1, size)))
    return math.ceil(total / blocks)


def col_blocks(xp, x, g: Geometry):
    """Yields ``(cols, index)``: the (rows, T*C) im2col matrix of the output pixels ``y[index]``
    of ``y`` (N, *out, O), block by block: whole images, or rows of one big image.

    NOTE: ``cols`` is one buffer, overwritten by the next block: use it before asking for more.
    """
    n, c, rows = x.shape[0], x.shape[-1], g.out_shape[0]
    if g.pointwise:
        yield x.reshape(-1, c), (slice(None),)
        return
    width, per_row = g.taps * c, math.prod(g.out_shape[1:])
    pixels = _block_pixels(xp, width, x.itemsize)
    images = _even(n, pixels // (rows * per_row))
    step = _even(rows, pixels // per_row)
    buf = xp.empty(images * step * per_row * width, dtype=x.dtype)
    pad = any(g.pad_before + g.pad_after)
    # NOTE: zeroed once; each block writes only the interior, so the border stays zero.
    xpad = xp.zeros((images,) + g.padded_shape + (c,), dtype=x.dtype) if pad else None
    for a in range(0, n, images):
        src = x[a:a + images]
        if pad:
            xpad[:len(src)][g.interior] = src
            src = xpad[:len(src)]
        windows = _windows(xp, src, g)
        for r in range(0, rows, step):
            view = windows[:, r:r + step]
            cols = buf[:view.size].reshape(view.shape)
            cols[...] = view
            yield cols.reshape(-1, width), (slice(a, a + images), slice(r, r + step))


# NOTE: with this few input channels per tap, im2col copies runs of C floats (1 for MNIST, 3
# for RGB): slow. The transposed columns (T*C, M), one strided plane per tap and channel,
# copy runs of whole output rows instead: 5x faster for C=1, and the GEMMs take them as is.
FEW_CHANNELS = 4


def _few_channels(x, g: Geometry, groups):
    return type(x) is np.ndarray and groups == 1 and x.shape[-1] <= FEW_CHANNELS and not g.pointwise


def cols_t(xp, x, g: Geometry):
    """The transposed im2col matrix (T*C, N*P) of an input with few channels."""
    n, c = x.shape[0], x.shape[-1]
    if any(g.pad_before + g.pad_after):
        xpad = xp.zeros((n,) + g.padded_shape + (c,), dtype=x.dtype)
        xpad[g.interior] = x
        x = xpad
    out = xp.empty((g.taps * c, n) + g.out_shape, dtype=x.dtype)
    for t, tap in enumerate(np.ndindex(*g.kernel)):
        index = (slice(None),) + tuple(
            slice(k * d, k * d + (o - 1) * s + 1, s)
            for k, d, o, s in zip(tap, g.dilation, g.out_shape, g.strides))
        for ch in range(c):
            out[t * c + ch] = x[index + (ch,)]
    return out.reshape(g.taps * c, -1)


def col2im(xp, cols, g: Geometry, channels: int):
    """The adjoint of im2col: (N*P, T*C) -> (N, *in_shape, C), overlaps summed."""
    n = cols.shape[0] // math.prod(g.out_shape)
    if g.pointwise:
        return cols.reshape((n,) + g.in_shape + (channels,))
    x = xp.zeros((n,) + g.padded_shape + (channels,), dtype=cols.dtype)
    windows = _windows(xp, x, g)
    cols = cols.reshape((n,) + g.out_shape + (g.taps, channels))
    for t, tap in enumerate(np.ndindex(*g.kernel)):
        # NOTE: positions within one tap are distinct, so `+=` through the view is exact.
        windows[(Ellipsis,) + tap + (slice(None),)] += cols[..., t, :]
    return x[g.interior]


# -- the conv, its kernel gradient and its input gradient, block by block. A kernel is
# (*K, C/groups, O); groups split C and O into contiguous blocks (TF's feature_group_count).

def conv_forward(xp, x, w, g: Geometry, groups=1):
    """conv(x, w): one GEMM per block of columns, written into y (N, *out, O)."""
    y = xp.empty((x.shape[0],) + g.out_shape + w.shape[-1:], dtype=x.dtype)
    if _few_channels(x, g, groups):
        xp.matmul(cols_t(xp, x, g).T, w.reshape(-1, w.shape[-1]), out=y.reshape(-1, y.shape[-1]))
        return y
    for cols, index in col_blocks(xp, x, g):
        if groups == 1:
            xp.matmul(cols, w.reshape(-1, w.shape[-1]), out=y[index].reshape(cols.shape[0], -1))
        else:
            y[index] = gemm_forward(xp, cols, w, groups).reshape(y[index].shape)
    return y


def conv_grad_kernel(xp, x, gy, g: Geometry, kernel_shape, groups=1):
    """The gradient of ``conv_forward`` w.r.t. its (*K, C/groups, O) kernel; the im2col is
    done again here (cheaper than keeping it: it would be T times the input)."""
    if _few_channels(x, g, groups):
        return xp.matmul(cols_t(xp, x, g), gy.reshape(-1, gy.shape[-1])).reshape(kernel_shape)
    gw = None
    for cols, index in col_blocks(xp, x, g):
        part = gemm_grad_kernel(xp, cols, gy[index].reshape(cols.shape[0], -1), kernel_shape,
                                groups)
        gw = part if gw is None else xp.add(gw, part, out=gw)
    return gw


def conv_grad_input(xp, gy, w, g: Geometry, groups=1):
    """The gradient of ``conv_forward`` w.r.t. its input (N, *in_shape, C)."""
    n, channels = gy.shape[0], w.shape[-2] * groups
    adjoint = g.adjoint()
    # NOTE: the stride-1 gradient is a conv of gy with the flipped kernel, whose im2col is O/C
    # times col2im's matrix: faster for C=32, O=64 (1.4x), twice slower for C=1, O=32.
    if adjoint is not None and groups == 1 and gy.shape[-1] <= 4 * channels:
        flipped = w[(slice(None, None, -1),) * len(g.kernel)].swapaxes(-1, -2)
        return conv_forward(xp, gy, xp.ascontiguousarray(flipped), adjoint)
    gx = xp.empty((n,) + g.in_shape + (channels,), dtype=gy.dtype)
    width, per_image = g.taps * channels, math.prod(g.out_shape)  # an image's col2im matrix
    if xp is np:
        images = max(1, BLOCK_BYTES // (per_image * width * gy.itemsize))
    else:
        images = max(1, _block_pixels(xp, width, gy.itemsize) // per_image)
    for a in range(0, n, images):
        gcols = gemm_grad_cols(xp, gy[a:a + images].reshape(-1, gy.shape[-1]), w, groups)
        gx[a:a + images] = col2im(xp, gcols, g, channels)
    return gx


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


def gemm_forward(xp, cols, w, groups):
    """(M, T*C) columns times a (*K, C/groups, O) kernel -> (M, O), groups > 1."""
    y = xp.matmul(_group_cols(cols, math.prod(w.shape[:-2]), groups), _group_kernel(w, groups))
    return y.transpose(1, 0, 2).reshape(cols.shape[0], w.shape[-1])


def gemm_grad_cols(xp, gy2, w, groups):
    """Gradient of ``gemm_forward`` w.r.t. its columns: (M, O) -> (M, T*C)."""
    if groups == 1:
        return xp.matmul(gy2, w.reshape(-1, w.shape[-1]).T)
    m, taps, cg = gy2.shape[0], math.prod(w.shape[:-2]), w.shape[-2]
    gc = xp.matmul(_group_gy(gy2, groups), _group_kernel(w, groups).transpose(0, 2, 1))
    return gc.reshape(groups, m, taps, cg).transpose(1, 2, 0, 3).reshape(m, -1)


def gemm_grad_kernel(xp, cols, gy2, kernel_shape, groups):
    """Gradient of ``gemm_forward`` w.r.t. its kernel, shaped ``kernel_shape``."""
    if groups == 1:
        return xp.matmul(cols.T, gy2).reshape(kernel_shape)
    taps, cg = math.prod(kernel_shape[:-2]), kernel_shape[-2]
    gw = xp.matmul(_group_cols(cols, taps, groups).transpose(0, 2, 1), _group_gy(gy2, groups))
    return gw.reshape(groups, taps, cg, -1).transpose(1, 2, 0, 3).reshape(kernel_shape)
