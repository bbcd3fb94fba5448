"""Convolutions named and called like ``keras.ops``: conv, depthwise_conv, separable_conv,
conv_transpose. Channels-last inputs (N, *spatial, C), 1 to 3 spatial dims; kernels in Keras's
layout ((*K, C_in, C_out), HWIO for 2-D). Each conv is im2col + GEMM, a block of rows at a time
(``_im2col.py``), or oneDNN's kernels for float32 NumPy arrays (``engine/onednn.py``), or
cuDNN's for CuPy arrays where CuPy still ships ``cupyx.cudnn`` (``engine/cudnn.py``); its
input gradient is the conv of the output gradient with the flipped kernel
(stride 1) or a GEMM + col2im, and conv_transpose is that input gradient run forward. Nothing
but the inputs is kept for backward: the kernel gradient redoes the im2col.
"""
from __future__ import annotations

import numpy as np

from .. import cudnn, onednn
from ..autograd import Function
from ._im2col import Geometry, make_geometry
from ._im2col import conv_forward as _conv_forward
from ._im2col import conv_grad_input as _conv_grad_input
from ._im2col import conv_grad_kernel as _conv_grad_kernel
from ._utils import conv_output_length, same_padding, tuple_of

__all__ = ["conv", "depthwise_conv", "separable_conv", "conv_transpose"]


# -- argument checks ----------------------------------------------------------------------------

def _received(x, w):
    return f"Received: inputs.shape={tuple(x.shape)}, kernel.shape={tuple(w.shape)}"


def _check_format(op, padding, data_format):
    """The padding name (lower case); raises for a bad padding or a channels-first format."""
    if data_format not in (None, "channels_last"):
        raise ValueError(
            f"{op}: only data_format='channels_last' (or None) is supported; inputs are "
            f"(batch, *spatial, channels). Received: data_format={data_format!r}"
        )
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{op}: padding must be 'valid' or 'same'. Received: padding={padding!r}")
    return padding.lower()


def _check_ranks(op, x, w):
    if x.ndim not in (3, 4, 5):
        raise ValueError(
            f"{op}: expected inputs of rank 3, 4 or 5 (batch, *spatial, channels) for a 1-D, 2-D "
            f"or 3-D convolution. {_received(x, w)}"
        )
    if w.ndim != x.ndim:
        raise ValueError(
            f"{op}: the kernel must have rank {x.ndim} ({x.ndim - 2} spatial dims, then in and "
            f"out channels) to match the inputs. {_received(x, w)}"
        )


def _positive(op, value, n, name):
    t = tuple_of(value, n, name)
    if any(v < 1 for v in t):
        raise ValueError(f"{op}: `{name}` must be positive. Received: {name}={value}")
    return t


def _conv_geometry(op, x, w, kernel, strides, padding, dilation_rate) -> Geometry:
    n = x.ndim - 2
    strides = _positive(op, strides, n, "strides")
    dilation = _positive(op, dilation_rate, n, "dilation_rate")
    in_shape = x.shape[1:-1]
    out_shape = tuple(conv_output_length(length, k, s, padding, d)
                      for length, k, s, d in zip(in_shape, kernel, strides, dilation))
    if any(o < 1 for o in out_shape):
        spans = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation))
        raise ValueError(
            f"{op}: the input's spatial shape {tuple(in_shape)} is smaller than the (dilated) "
            f"kernel {spans} with padding='valid'. {_received(x, w)}"
        )
    before = (0,) * n
    if padding == "same":
        before = tuple(same_padding(length, k, s, d)[0]
                       for length, k, s, d in zip(in_shape, kernel, strides, dilation))
    return make_geometry(in_shape, out_shape, kernel, strides, dilation, before)


def _transpose_length(length, kernel, stride, padding, output_padding, dilation):
    """(output length, zeros before) of a transposed conv along one axis, as Keras computes them.

    The length is Keras's ``_get_output_shape_given_tf_padding``; the left padding is the one
    Keras hands to JAX (``_convert_conv_transpose_padding_args_from_keras_to_jax``), which in the
    adjoint conv's terms is ``span - 1 - left_pad`` zeros before its input.
    """
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return (length - 1) * stride + span + extra, 0
    if output_padding is None:
        out, pad_len = length * stride, stride + span - 2
    else:
        out = (length - 1) * stride + span % 2 + output_padding
        pad_len = span + span % 2 - 2 + output_padding
    left = min(pad_len // 2 + pad_len % 2, span - 1)
    return out, span - 1 - left


def _transpose_geometry(op, x, w, strides, padding, output_padding, dilation_rate) -> Geometry:
    n = x.ndim - 2
    strides = _positive(op, strides, n, "strides")
    dilation = _positive(op, dilation_rate, n, "dilation_rate")
    pads = (None,) * n if output_padding is None else tuple_of(output_padding, n, "output_padding")
    if any(p is not None and not 0 <= p < s for p, s in zip(pads, strides)):
        raise ValueError(
            f"{op}: each `output_padding` must be >= 0 and lower than the stride along its axis "
            f"(strides={strides}). Received: output_padding={output_padding}"
        )
    kernel = w.shape[:-2]
    sizes = [_transpose_length(length, k, s, padding, p, d)
             for length, k, s, p, d in zip(x.shape[1:-1], kernel, strides, pads, dilation)]
    out_shape = tuple(s for s, _ in sizes)
    if any(o < 1 for o in out_shape):
        raise ValueError(
            f"{op}: this configuration gives an empty output of spatial shape {out_shape}. "
            f"{_received(x, w)}"
        )
    # NOTE: the adjoint conv reads the transposed conv's output and writes its input.
    return make_geometry(out_shape, x.shape[1:-1], kernel, strides, dilation,
                         tuple(b for _, b in sizes))


def _cast(a, dtype):
    return a.astype(dtype, copy=False)


# -- the kernel providers: oneDNN for float32 NumPy arrays when it loads, cuDNN for CuPy arrays
# when cupyx.cudnn imports, else im2col + GEMM (in blocks of bounded size on both devices) --

def conv_forward(xp, x, w, g, groups=1):
    y = onednn.conv_forward(x, w, g, groups)
    y = cudnn.conv_forward(xp, x, w, g, groups) if y is None else y
    return _conv_forward(xp, x, w, g, groups) if y is None else y


def conv_grad_input(xp, gy, w, g, groups=1):
    gx = onednn.conv_grad_input(gy, w, g, groups)
    gx = cudnn.conv_grad_input(xp, gy, w, g, groups) if gx is None else gx
    return _conv_grad_input(xp, gy, w, g, groups) if gx is None else gx


def conv_grad_kernel(xp, x, gy, g, kernel_shape, groups=1):
    gw = onednn.conv_grad_kernel(x, gy, g, kernel_shape, groups)
    gw = cudnn.conv_grad_kernel(xp, x, gy, g, kernel_shape, groups) if gw is None else gw
    return _conv_grad_kernel(xp, x, gy, g, kernel_shape, groups) if gw is None else gw


# -- ops ----------------------------------------------------------------------------------------

class Conv(Function):
    """conv: im2col + GEMM; groups when C_in is a multiple of the kernel's C_in (Keras)."""

    op = "conv"

    def grouped_kernel(self, x, w):
        """The kernel as (*K, C/groups, O) and the number of groups."""
        cin, cout = w.shape[-2], w.shape[-1]
        if cin == 0 or x.shape[-1] % cin or cout % (x.shape[-1] // cin or 1):
            raise ValueError(
                f"{self.op}: the input has {x.shape[-1]} channels but the kernel expects {cin} "
                f"(kernel.shape[-2]; for a grouped conv, a divisor of the input channels whose "
                f"group count also divides the {cout} output channels). {_received(x, w)}"
            )
        return w, x.shape[-1] // cin

    def prepare(self, x, w, strides=1, padding="valid", dilation_rate=1):
        """Checks, geometry, groups and what backward keeps; the (x, kernel) the kernel takes,
        in their common dtype (``ops/fused.py`` runs its own kernel on them)."""
        _check_ranks(self.op, x, w)
        wk, self.groups = self.grouped_kernel(x, w)
        self.g = _conv_geometry(self.op, x, w, wk.shape[:-2], strides, padding, dilation_rate)
        self.dtypes, self.w_shape, self.channels = (x.dtype, w.dtype), w.shape, x.shape[-1]
        dtype = np.result_type(x.dtype, w.dtype)
        wk, x = _cast(wk, dtype), _cast(x, dtype)
        need_x, need_w = self.needs_input_grad
        self.wk, self.x = (wk if need_x else None), (x if need_w else None)
        return x, wk

    def forward(self, xp, x, w, strides=1, padding="valid", dilation_rate=1):
        x, wk = self.prepare(x, w, strides, padding, dilation_rate)
        return conv_forward(xp, x, wk, self.g, self.groups)

    def backward(self, xp, gy):
        gx = gw = None
        if self.needs_input_grad[0]:
            gx = _cast(conv_grad_input(xp, gy, self.wk, self.g, self.groups), self.dtypes[0])
        if self.needs_input_grad[1]:
            kshape = self.g.kernel + (self.channels // self.groups, gy.shape[-1])
            gw = conv_grad_kernel(xp, self.x, gy, self.g, kshape, self.groups)
            gw = _cast(gw.reshape(self.w_shape), self.dtypes[1])
        return gx, gw


class DepthwiseConv(Conv):
    """depthwise_conv: a conv with one group per input channel (TF's channel c*M + m order)."""

    op = "depthwise_conv"

    def grouped_kernel(self, x, w):
        if w.shape[-2] != x.shape[-1]:
            raise ValueError(
                f"{self.op}: the input has {x.shape[-1]} channels but the kernel expects "
                f"{w.shape[-2]} (kernel.shape[-2]). {_received(x, w)}"
            )
        # (*K, C, M) -> (*K, 1, C*M): output channel c*M + m belongs to group c.
        return w.reshape(w.shape[:-2] + (1, -1)), x.shape[-1]


class ConvTranspose(Function):
    """conv_transpose: the input gradient of the adjoint conv; backward is that conv."""

    def forward(self, xp, x, w, strides=1, padding="valid", output_padding=None,
                dilation_rate=1):
        op = "conv_transpose"
        _check_ranks(op, x, w)
        if w.shape[-1] != x.shape[-1]:
            raise ValueError(
                f"{op}: the input has {x.shape[-1]} channels but the kernel expects "
                f"{w.shape[-1]} (kernel.shape[-1]; the kernel is (*K, out_channels, "
                f"in_channels)). {_received(x, w)}"
            )
        self.g = _transpose_geometry(op, x, w, strides, padding, output_padding, dilation_rate)
        self.dtypes = x.dtype, w.dtype
        dtype = np.result_type(x.dtype, w.dtype)
        x, w = _cast(x, dtype), _cast(w, dtype)
        need_x, need_w = self.needs_input_grad
        self.x, self.w = (x if need_w else None), (w if need_x else None)
        return conv_grad_input(xp, x, w, self.g)

    def backward(self, xp, gy):
        gx = gw = None
        if self.needs_input_grad[0]:
            gx = _cast(conv_forward(xp, gy, self.w, self.g), self.dtypes[0])
        if self.needs_input_grad[1]:
            kshape = self.g.kernel + (gy.shape[-1], self.x.shape[-1])
            gw = _cast(conv_grad_kernel(xp, gy, self.x, self.g, kshape), self.dtypes[1])
        return gx, gw


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """General N-D convolution (cross-correlation, as in Keras), channels-last.

    Args:
        inputs: (batch, *spatial, channels), 1 to 3 spatial dims.
        kernel: (*kernel_size, in_channels, out_channels). When ``channels`` is ``groups`` times
            ``in_channels`` the conv is grouped (Keras ``Conv2D(groups=...)``).
        strides: int or tuple, one per spatial dim.
        padding: "valid" or "same" (TF/Keras: the odd pixel of padding goes after).
        data_format: None or "channels_last" only.
        dilation_rate: int or tuple, one per spatial dim.

    Returns:
        (batch, *out_spatial, out_channels).
    """
    padding = _check_format("conv", padding, data_format)
    return Conv.apply(inputs, kernel, strides=strides, padding=padding,
                      dilation_rate=dilation_rate)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Depthwise N-D convolution: each input channel is convolved with its own filters.

    Args:
        inputs: (batch, *spatial, channels).
        kernel: (*kernel_size, channels, depth_multiplier).
        strides, padding, data_format, dilation_rate: as in ``conv``.

    Returns:
        (batch, *out_spatial, channels * depth_multiplier); channel ``c * multiplier + m`` is
        input channel ``c`` through filter ``m``.
    """
    padding = _check_format("depthwise_conv", padding, data_format)
    return DepthwiseConv.apply(inputs, kernel, strides=strides, padding=padding,
                               dilation_rate=dilation_rate)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """Depthwise conv followed by a 1x1 (pointwise) conv.

    Args:
        inputs: (batch, *spatial, channels).
        depthwise_kernel: (*kernel_size, channels, depth_multiplier).
        pointwise_kernel: (1, ..., 1, channels * depth_multiplier, out_channels).
        strides, padding, data_format, dilation_rate: of the depthwise step, as in ``conv``.

    Returns:
        (batch, *out_spatial, out_channels).
    """
    y = depthwise_conv(inputs, depthwise_kernel, strides=strides, padding=padding,
                       data_format=data_format, dilation_rate=dilation_rate)
    return conv(y, pointwise_kernel, strides=1, padding="valid", data_format=data_format)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """General N-D transposed convolution (the gradient of ``conv`` w.r.t. its input).

    Args:
        inputs: (batch, *spatial, in_channels).
        kernel: (*kernel_size, out_channels, in_channels), as Keras's ConvNDTranspose stores it.
        strides: int or tuple, one per spatial dim.
        padding: "valid" or "same".
        output_padding: None (size inferred) or int/tuple, each lower than its stride.
        data_format: None or "channels_last" only.
        dilation_rate: int or tuple, one per spatial dim.

    Returns:
        (batch, *out_spatial, out_channels), sized as Keras's
        ``compute_conv_transpose_output_shape``.
    """
    padding = _check_format("conv_transpose", padding, data_format)
    return ConvTranspose.apply(inputs, kernel, strides=strides, padding=padding,
                               output_padding=output_padding, dilation_rate=dilation_rate)
