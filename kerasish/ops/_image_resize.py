"""``resize`` and ``scale_and_translate``: JAX's (and Keras's) separable resampling.

Each resized axis is one matmul with a weight matrix built on the host from the kernel, so the
op is differentiable with respect to the images.
"""
from __future__ import annotations

import numpy as np

from engine import Tensor
from engine import ops as E

from ._base import data_format as _fmt
from ._base import shape_of, spec, tensor, xp_of
from ._symbolic import keras_op


def _channel_axis(x):
    if x.ndim not in (3, 4):
        raise ValueError("Invalid images rank: expected rank 3 (single image) or rank 4 (batch "
                         f"of images). Received input with shape: images.shape={tuple(x.shape)}")


def _triangle(x):
    return np.maximum(0, 1 - np.abs(x))


def _keys_cubic(x):
    out = ((1.5 * x - 2.5) * x) * x + 1.0
    out = np.where(x >= 1.0, ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0, out)
    return np.where(x >= 2.0, 0.0, out)


def _lanczos(radius):
    def kernel(x):
        y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius)
        safe = np.where(x != 0, np.pi ** 2 * x ** 2, 1)
        return np.where(x > radius, 0.0, np.where(x > 1e-3, y / safe, 1.0))
    return kernel


_KERNELS = {"linear": _triangle, "bilinear": _triangle, "cubic": _keys_cubic,
            "bicubic": _keys_cubic, "lanczos3": _lanczos(3.0), "lanczos5": _lanczos(5.0)}
RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")


def _weights(m, n, scale, translation, kernel, antialias):
    """`(m, n)` weights of input samples for each output sample (JAX's scale_and_translate)."""
    inv = 1.0 / scale
    kernel_scale = max(inv, 1.0) if antialias else 1.0
    sample = (np.arange(n) + 0.5) * inv - translation * inv - 0.5
    w = kernel(np.abs(sample[None, :] - np.arange(m)[:, None]) / kernel_scale)
    total = w.sum(axis=0, keepdims=True)
    w = np.where(np.abs(total) > 1000.0 * np.finfo(np.float32).eps,
                 w / np.where(total != 0, total, 1), 0)
    return np.where(((sample >= -0.5) & (sample <= m - 0.5))[None, :], w, 0)


def _apply_weights(x, dims, sizes, scales, translations, kernel, antialias):
    integer = x.dtype.kind != "f"
    y = E.cast(x, "float32") if integer else x
    xp = xp_of(x)
    for d, n, s, t in zip(dims, sizes, scales, translations):
        d = d % y.ndim
        w = _weights(y.shape[d], n, float(s), float(t), kernel, antialias)
        order = tuple(i for i in range(y.ndim) if i != d) + (d,)
        back = list(range(y.ndim - 1))
        back.insert(d, y.ndim - 1)
        moved = E.matmul(E.transpose(y, order), Tensor(xp.asarray(w.astype(y.dtype))))
        y = E.transpose(moved, tuple(back))
    if integer:
        lo, hi = float(x.data.min()), float(x.data.max())
        y = E.cast(E.clip(E.round(y), lo, hi), x.dtype)
    return y


def _resize_spec(images, size, interpolation="bilinear", antialias=False,
                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, fill_mode="constant",
                 fill_value=0.0, data_format=None):
    shape = list(shape_of(images))
    i = -3 if _fmt(data_format) == "channels_last" else -2
    shape[i:i + 2 if i + 2 else None] = list(size)
    return spec(shape, images.dtype)


def _aspect(x, size, crop, pad, fill_value, hw):
    """Crops or pads `x` (spatial axes `hw`) to the aspect ratio of `size`, centered."""
    (ha, wa), (th, tw) = hw, size
    h, w = x.shape[ha], x.shape[wa]
    if crop:
        ch = max(min(h, int(float(w * th) / tw)), 1)
        cw = max(min(w, int(float(h * tw) / th)), 1)
        top, left = int(float(h - ch) / 2), int(float(w - cw) / 2)
        key = [slice(None)] * x.ndim
        key[ha], key[wa] = slice(top, top + ch), slice(left, left + cw)
        return x[tuple(key)]
    ph, pw = max(h, int(float(w * th) / tw)), max(w, int(float(h * tw) / th))
    top, left = int(float(ph - h) / 2), int(float(pw - w) / 2)
    pads = [(0, 0)] * x.ndim
    if top > 0:
        pads[ha] = (top, top)
    elif left > 0:
        pads[wa] = (left, left)
    return E.pad(x, tuple(pads), constant_values=fill_value) if top > 0 or left > 0 else x


@keras_op(spec=_resize_spec)
def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """Resizes images to `size = (height, width)` with JAX's (and Keras's) sampling rules.

    >>> resize(np.ones((1, 4, 4, 3), "float32"), (2, 2)).shape
    (1, 2, 2, 3)
    """
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError("Invalid value for argument `interpolation`. Expected of one "
                         f"{RESIZE_INTERPOLATIONS}. Received: interpolation={interpolation}")
    if fill_mode != "constant":
        raise ValueError("Invalid value for argument `fill_mode`. Only `'constant'` is "
                         f"supported. Received: fill_mode={fill_mode}")
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be "
                         "`True`. Received: pad_to_aspect_ratio=True, crop_to_aspect_ratio=True")
    if len(size) != 2:
        raise ValueError("Argument `size` must be a tuple of two elements (height, width). "
                         f"Received: size={size}")
    x = tensor(images)
    _channel_axis(x)
    first = _fmt(data_format) == "channels_first"
    hw = (x.ndim - 2, x.ndim - 1) if first else (x.ndim - 3, x.ndim - 2)
    if crop_to_aspect_ratio or pad_to_aspect_ratio:
        x = _aspect(x, tuple(size), crop_to_aspect_ratio, pad_to_aspect_ratio, fill_value, hw)
    dims = [d for d, n in zip(hw, size) if x.shape[d] != n]
    sizes = [int(size[hw.index(d)]) for d in dims]
    if interpolation == "nearest":
        xp = xp_of(x)
        for d, n in zip(dims, sizes):
            m = x.shape[d]
            offsets = np.floor((np.arange(n, dtype=np.float32) + 0.5) * m / n).astype(np.int64)
            x = E.take(x, xp.asarray(offsets), axis=d)
        return x
    scales = [n / x.shape[d] for d, n in zip(dims, sizes)]
    return _apply_weights(x, dims, sizes, scales, [0.0] * len(dims),
                          _KERNELS[interpolation], antialias)


SCALE_AND_TRANSLATE_METHODS = ("linear", "bilinear", "trilinear", "cubic", "bicubic",
                               "tricubic", "lanczos3", "lanczos5")


@keras_op(spec=lambda images, output_shape, *args, **kwargs: spec(output_shape, images.dtype))
def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method,
                        antialias=True):
    """Resamples `images` on `spatial_dims` to `output_shape`: output sample `i` reads input
    `(i + 0.5 - translation) / scale - 0.5` through the `method` kernel (JAX's op)."""
    if method not in SCALE_AND_TRANSLATE_METHODS:
        raise ValueError("Invalid value for argument `method`. Expected of one "
                         f"{SCALE_AND_TRANSLATE_METHODS}. Received: method={method}")
    kernel = _KERNELS["linear" if method.endswith("linear") else
                      "cubic" if method.endswith("cubic") else method]
    x = tensor(images)
    scale = np.asarray(scale.numpy() if isinstance(scale, Tensor) else scale).reshape(-1)
    translation = np.asarray(translation.numpy() if isinstance(translation, Tensor)
                             else translation).reshape(-1)
    sizes = [int(output_shape[d]) for d in spatial_dims]
    return _apply_weights(x, list(spatial_dims), sizes, scale, translation, kernel, antialias)
