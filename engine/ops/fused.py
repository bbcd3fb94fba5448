"""Fused ops that only compiled plans make (``engine/_fuse.py``): a conv and the bias, batch
norm or ReLU steps after it, written by the conv kernel itself (oneDNN post-ops) instead of a
pass each over its output.

``ConvBias`` gives the bits of its steps run one by one, and runs their own backward in the
same order, so a plan that holds it still equals the eager step bit for bit. ``ConvAffine``
(inference only) applies a batch norm's per-channel scale and shift in the conv: equal to
the separate steps to float32 rounding, not bitwise.
"""
from __future__ import annotations

from .. import onednn
from ..autograd import Function
from . import activation, elementwise
from .conv import conv_forward


class ConvBias(Function):
    """conv(x, w) + b, then ReLU if ``relu``: Conv, Add and Relu as one step."""

    def forward(self, xp, x, w, b, conv_cls, relu, strides, padding, dilation_rate):
        need_x, need_w, need_b = self.needs_input_grad
        self.conv, self.add = conv_cls(), elementwise.Add()
        self.conv.needs_input_grad, self.add.needs_input_grad = (need_x, need_w), (True, need_b)
        self.relu = activation.Relu() if relu else None
        if self.relu is not None:
            self.relu.needs_input_grad = (True,)
        conv = self.conv
        x, wk = conv.prepare(x, w, strides, padding, dilation_rate)
        y = onednn.conv_forward(x, wk, conv.g, conv.groups, b, relu) if b.dtype == x.dtype \
            else None
        if y is None:  # the steps one by one, as the plan would have run them
            y = self.add.forward_(xp, conv_forward(xp, x, wk, conv.g, conv.groups), b)
            return y if self.relu is None else self.relu.forward_(xp, y)
        self.add.shapes = y.shape, b.shape
        if self.relu is not None and any(self.needs_input_grad):
            self.relu.mask = y > 0  # NOTE: ReLU's input is positive where its output is
        return y

    def backward(self, xp, gy):
        if self.relu is not None:
            gy = self.relu.backward(xp, gy)[0]
        g_sum, g_b = self.add.backward(xp, gy)
        g_x, g_w = self.conv.backward(xp, g_sum) if any(self.conv.needs_input_grad) \
            else (None, None)
        return g_x, g_w, g_b


class ConvAffine(Function):
    """conv(x, w) [+ b], then inference batch norm [and ReLU], in one kernel; no gradient."""

    def forward(self, xp, x, w, b, mean, variance, offset, scale, conv_cls, relu, epsilon,
                strides, padding, dilation_rate):
        fn = conv_cls()
        fn.needs_input_grad = (False, False)
        dtype = x.dtype
        inv = (1 / xp.sqrt(variance.astype(dtype) + dtype.type(epsilon))).astype(dtype)
        s = inv if scale is None else inv * scale.astype(dtype)
        shift = -mean.astype(dtype) * s
        if b is not None:
            shift += b.astype(dtype) * s
        if offset is not None:
            shift += offset.astype(dtype)
        x, wk = fn.prepare(x, w, strides, padding, dilation_rate)
        y = onednn.conv_forward(x, wk, fn.g, fn.groups, None, relu, (s, shift))
        if y is None:
            y = conv_forward(xp, x, wk, fn.g, fn.groups)
            y *= s
            y += shift
            if relu:
                xp.maximum(y, 0, out=y)
        return y

    def backward(self, xp, gy):
        raise RuntimeError("ConvAffine is made only in plans that compute no gradient")
