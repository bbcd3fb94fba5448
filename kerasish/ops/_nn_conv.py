"""``keras.ops.nn`` convolutions, pooling and pixel rearrangements (re-exported by ``nn``).

The engine's fat ops are channels-last; ``channels_first`` inputs are transposed around them.
"""
from __future__ import annotations

from engine import ops as E

from ._base import data_format as _fmt, float_tensor, from_last, shape_of, spec, to_last, tuple_of
from ._symbolic import keras_op


def _out_length(n, k, s, padding, d=1):
    if n is None or (k is None and padding != "same"):
        return None
    if padding == "same":
        return -(-n // s)
    return (n - (k - 1) * d - 1) // s + 1


def _spatial(shape, fmt):
    return (shape[2:], shape[1]) if fmt == "channels_first" else (shape[1:-1], shape[-1])


def _assemble(batch, spatial, channels, fmt):
    if fmt == "channels_first":
        return (batch, channels) + tuple(spatial)
    return (batch,) + tuple(spatial) + (channels,)


def _conv_spec(inputs, kernel, strides=1, padding="valid", data_format_=None, dilation_rate=1,
               depthwise=False):
    fmt = _fmt(data_format_)
    shape, kshape = shape_of(inputs), shape_of(kernel)
    (spatial, _), nd = _spatial(shape, fmt), len(shape) - 2
    strides, dil = tuple_of(strides, nd, "strides"), tuple_of(dilation_rate, nd, "dilation_rate")
    out = [_out_length(n, k, s, padding.lower(), d)
           for n, k, s, d in zip(spatial, kshape[:nd], strides, dil)]
    channels = kshape[-1] * kshape[-2] if depthwise else kshape[-1]
    return spec(_assemble(shape[0], out, channels, fmt), inputs.dtype)


@keras_op(spec=lambda inputs, kernel, strides=1, padding="valid", data_format=None,
          dilation_rate=1: _conv_spec(inputs, kernel, strides, padding, data_format,
                                      dilation_rate))
def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution (cross-correlation); `kernel` is `(*kernel_size, in_ch, out_ch)`."""
    fmt = _fmt(data_format)
    x = to_last(float_tensor(inputs), fmt)
    y = E.conv(x, float_tensor(kernel), strides=strides, padding=padding.lower(),
               dilation_rate=dilation_rate)
    return from_last(y, fmt)


@keras_op(spec=lambda inputs, kernel, strides=1, padding="valid", data_format=None,
          dilation_rate=1: _conv_spec(inputs, kernel, strides, padding, data_format,
                                      dilation_rate, depthwise=True))
def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Depthwise N-D convolution; `kernel` is `(*kernel_size, channels, multiplier)`."""
    fmt = _fmt(data_format)
    y = E.depthwise_conv(to_last(float_tensor(inputs), fmt), float_tensor(kernel),
                         strides=strides, padding=padding.lower(), dilation_rate=dilation_rate)
    return from_last(y, fmt)


def _separable_spec(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                    data_format=None, dilation_rate=1):
    kernel = spec(shape_of(depthwise_kernel)[:-2] + shape_of(pointwise_kernel)[-2:])
    return _conv_spec(inputs, kernel, strides, padding, data_format, dilation_rate)


@keras_op(spec=_separable_spec)
def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """A depthwise conv then a 1x1 conv with `pointwise_kernel`."""
    fmt = _fmt(data_format)
    y = E.separable_conv(to_last(float_tensor(inputs), fmt), float_tensor(depthwise_kernel),
                         float_tensor(pointwise_kernel), strides=strides,
                         padding=padding.lower(), dilation_rate=dilation_rate)
    return from_last(y, fmt)


def _transpose_out(n, k, s, padding, output_padding, d):
    """Keras's transposed-conv output length along one axis."""
    if n is None or k is None:
        return None
    span = (k - 1) * d + 1
    if padding == "valid":
        extra = max(span, s) - span if output_padding is None else output_padding
        return (n - 1) * s + span + extra
    if output_padding is None:
        return n * s
    return (n - 1) * s + span % 2 + output_padding


def _conv_transpose_spec(inputs, kernel, strides=1, padding="valid", output_padding=None,
                         data_format=None, dilation_rate=1):
    fmt = _fmt(data_format)
    shape, kshape = shape_of(inputs), shape_of(kernel)
    spatial, nd = _spatial(shape, fmt)[0], len(shape) - 2
    strides, dil = tuple_of(strides, nd, "strides"), tuple_of(dilation_rate, nd, "dilation_rate")
    outp = (None,) * nd if output_padding is None else tuple_of(output_padding, nd)
    out = [_transpose_out(n, k, s, padding.lower(), p, d)
           for n, k, s, p, d in zip(spatial, kshape[:nd], strides, outp, dil)]
    return spec(_assemble(shape[0], out, kshape[-2], fmt), inputs.dtype)


@keras_op(spec=_conv_transpose_spec)
def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """N-D transposed convolution; `kernel` is `(*kernel_size, out_ch, in_ch)`."""
    fmt = _fmt(data_format)
    y = E.conv_transpose(to_last(float_tensor(inputs), fmt), float_tensor(kernel),
                         strides=strides, padding=padding.lower(),
                         output_padding=output_padding, dilation_rate=dilation_rate)
    return from_last(y, fmt)


def _pool_spec(inputs, pool_size, strides=None, padding="valid", data_format=None):
    fmt = _fmt(data_format)
    shape = shape_of(inputs)
    (spatial, channels), nd = _spatial(shape, fmt), len(shape) - 2
    pool = tuple_of(pool_size, nd, "pool_size")
    strides = pool if strides is None else tuple_of(strides, nd, "strides")
    out = [_out_length(n, k, s, padding.lower()) for n, k, s in zip(spatial, pool, strides)]
    return spec(_assemble(shape[0], out, channels, fmt), inputs.dtype)


@keras_op(spec=_pool_spec)
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """N-D max pooling (1 to 3 spatial dims)."""
    return E.max_pool(float_tensor(inputs), pool_size, strides=strides, padding=padding.lower(),
                      data_format=_fmt(data_format))


@keras_op(spec=_pool_spec)
def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """N-D average pooling (1 to 3 spatial dims); "same" averages the valid taps only."""
    return E.average_pool(float_tensor(inputs), pool_size, strides=strides,
                          padding=padding.lower(),
                          data_format=_fmt(data_format))


def _adaptive_spec(inputs, output_size, data_format=None):
    fmt = _fmt(data_format)
    shape = shape_of(inputs)
    channels = _spatial(shape, fmt)[1]
    return spec(_assemble(shape[0], tuple_of(output_size, len(shape) - 2, "output_size"),
                          channels, fmt), inputs.dtype)


def _adaptive(inputs, output_size, data_format, reduce):
    fmt = _fmt(data_format)
    x = to_last(float_tensor(inputs), fmt)
    nd = x.ndim - 2
    sizes = tuple_of(output_size, nd, "output_size")
    for axis, out in zip(range(1, nd + 1), sizes):
        n = x.shape[axis]
        cells = []
        for i in range(out):  # the window of cell i is [floor(i n / out), ceil((i + 1) n / out))
            start, stop = (i * n) // out, -(-((i + 1) * n) // out)
            key = (slice(None),) * axis + (slice(start, stop),)
            cells.append(reduce(x[key], axis=axis, keepdims=True))
        x = E.concatenate(cells, axis=axis)
    return from_last(x, fmt)


@keras_op(spec=_adaptive_spec)
def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed `output_size`: cell `i` of `out` averages input
    `[floor(i n / out), ceil((i + 1) n / out))`."""
    return _adaptive(inputs, output_size, data_format, E.mean)


@keras_op(spec=_adaptive_spec)
def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed `output_size` (windows as `adaptive_average_pool`'s)."""
    return _adaptive(inputs, output_size, data_format, E.max)


def _d2s_spec(x, block_size, data_format="channels_last", inverse=False):
    shape = list(shape_of(x))
    sp, ch = (slice(2, 4), 1) if data_format == "channels_first" else (slice(1, 3), 3)

    def scale(d, up, factor):
        return None if d is None else (d * factor if up else d // factor)

    shape[sp] = [scale(d, not inverse, block_size) for d in shape[sp]]
    shape[ch] = scale(shape[ch], inverse, block_size ** 2)
    return spec(shape, x.dtype)


@keras_op(spec=_d2s_spec)
def depth_to_space(x, block_size, data_format="channels_last"):
    """Moves `block_size**2` channel blocks into spatial blocks (pixel shuffle), 4-D input."""
    x = float_tensor(x)
    b = block_size
    if data_format == "channels_first":
        n, c, h, w = x.shape
        y = E.transpose(E.reshape(x, (n, c // b ** 2, b, b, h, w)), (0, 1, 4, 2, 5, 3))
        return E.reshape(y, (n, c // b ** 2, h * b, w * b))
    n, h, w, c = x.shape
    y = E.transpose(E.reshape(x, (n, h, w, b, b, c // b ** 2)), (0, 1, 3, 2, 4, 5))
    return E.reshape(y, (n, h * b, w * b, c // b ** 2))


@keras_op(spec=lambda x, block_size, data_format="channels_last":
          _d2s_spec(x, block_size, data_format, inverse=True))
def space_to_depth(x, block_size, data_format="channels_last"):
    """Moves spatial `block_size x block_size` blocks into channels (pixel unshuffle)."""
    x = float_tensor(x)
    b = block_size
    if data_format == "channels_first":
        n, c, h, w = x.shape
        y = E.transpose(E.reshape(x, (n, c, h // b, b, w // b, b)), (0, 1, 3, 5, 2, 4))
        return E.reshape(y, (n, c * b * b, h // b, w // b))
    n, h, w, c = x.shape
    y = E.transpose(E.reshape(x, (n, h // b, b, w // b, b, c)), (0, 1, 3, 2, 4, 5))
    return E.reshape(y, (n, h // b, w // b, c * b * b))


def _fold_geometry(kernel_size, dilation, padding, stride):
    return (tuple_of(kernel_size, 2, "kernel_size"), tuple_of(dilation, 2, "dilation"),
            tuple_of(padding, 2, "padding"), tuple_of(stride, 2, "stride"))


def _unfold_spec(x, kernel_size, dilation=1, padding=0, stride=1):
    geometry = _fold_geometry(kernel_size, dilation, padding, stride)
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = geometry
    n, c, h, w = shape_of(x)
    oh = None if h is None else (h + 2 * ph - (kh - 1) * dh - 1) // sh + 1
    ow = None if w is None else (w + 2 * pw - (kw - 1) * dw - 1) // sw + 1
    return spec((n, None if c is None else c * kh * kw,
                 None if oh is None or ow is None else oh * ow), x.dtype)


@keras_op(spec=_unfold_spec)
def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of a channels-first `(N, C, H, W)` batch as `(N, C*kh*kw, L)` (im2col)."""
    geometry = _fold_geometry(kernel_size, dilation, padding, stride)
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = geometry
    x = float_tensor(x)
    if ph or pw:
        x = E.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c, h, w = x.shape
    oh, ow = (h - (kh - 1) * dh - 1) // sh + 1, (w - (kw - 1) * dw - 1) // sw + 1
    taps = [x[:, :, i * dh:i * dh + (oh - 1) * sh + 1:sh, j * dw:j * dw + (ow - 1) * sw + 1:sw]
            for i in range(kh) for j in range(kw)]
    return E.reshape(E.stack(taps, axis=2), (n, c * kh * kw, oh * ow))


def _fold_spec(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    kh, kw = tuple_of(kernel_size, 2, "kernel_size")
    n, ckk = shape_of(x)[:2]
    return spec((n, None if ckk is None else ckk // (kh * kw))
                + tuple_of(output_size, 2, "output_size"), x.dtype)


@keras_op(spec=_fold_spec)
def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums `(N, C*kh*kw, L)` blocks back into a `(N, C, *output_size)` image (col2im)."""
    geometry = _fold_geometry(kernel_size, dilation, padding, stride)
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = geometry
    oh, ow = tuple_of(output_size, 2, "output_size")
    x = float_tensor(x)
    n, ckk, _ = x.shape
    c = ckk // (kh * kw)
    hp, wp = oh + 2 * ph, ow + 2 * pw
    nh, nw = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    blocks = E.reshape(x, (n, c, kh, kw, nh, nw))
    out = None
    for i in range(kh):
        for j in range(kw):
            tap = blocks[:, :, i, j]
            if sh > 1 or sw > 1:  # spread the taps out with zeros between them
                tap = E.reshape(E.pad(E.reshape(tap, (n, c, nh, 1, nw, 1)),
                                      ((0, 0),) * 3 + ((0, sh - 1), (0, 0), (0, sw - 1))),
                                (n, c, nh * sh, nw * sw))
            th, tw = min(tap.shape[2], hp - i * dh), min(tap.shape[3], wp - j * dw)
            tap = E.pad(tap[:, :, :th, :tw], ((0, 0), (0, 0), (i * dh, hp - i * dh - th),
                                              (j * dw, wp - j * dw - tw)))
            out = tap if out is None else out + tap
    return out[:, :, ph:ph + oh, pw:pw + ow]
