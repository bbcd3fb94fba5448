"""Keras 3's ``keras.ops.image``: color spaces, resizing, crops and pads, patches, filters.

Images are `(batch, height, width, channels)` or one `(height, width, channels)` image
(channels first with `data_format="channels_first"`). Resizing lives in ``_image_resize.py``,
warps in ``_image_warp.py``.
"""
from __future__ import annotations

import numpy as np

from engine import Tensor
from engine import ops as E

from ._base import data_format as _fmt
from ._base import float_tensor, shape_of, spec, tensor, tuple_of, xp_of
from ._image_resize import resize, scale_and_translate  # noqa: F401
from ._image_warp import (_batched, _image_spec, _unbatch, affine_transform,  # noqa: F401
                          elastic_transform, map_coordinates, perspective_transform)
from ._symbolic import keras_op

__all__ = [
    "affine_transform", "crop_images", "elastic_transform", "extract_patches",
    "extract_patches_3d", "gaussian_blur", "hsv_to_rgb", "map_coordinates", "pad_images",
    "perspective_transform", "resize", "rgb_to_grayscale", "rgb_to_hsv", "scale_and_translate",
    "sobel_edges", "ssim",
]


def _channel_axis(x, fmt):
    if x.ndim not in (3, 4):
        raise ValueError("Invalid images rank: expected rank 3 (single image) or rank 4 (batch "
                         f"of images). Received input with shape: images.shape={tuple(x.shape)}")
    return -1 if fmt == "channels_last" else -3


# -- colors ---------------------------------------------------------------------------------

def _gray_spec(images, data_format=None):
    shape = list(shape_of(images))
    shape[-1 if _fmt(data_format) == "channels_last" else -3] = 1
    return spec(shape, images.dtype)


@keras_op(spec=_gray_spec)
def rgb_to_grayscale(images, data_format=None):
    """`0.2989 R + 0.5870 G + 0.1140 B`, keeping a channel axis of size 1."""
    x = tensor(images)
    axis = _channel_axis(x, _fmt(data_format))
    if x.shape[axis] not in (1, 3):
        raise ValueError("Invalid channel size: expected 3 (RGB) or 1 (Grayscale). Received "
                         f"input with shape: images.shape={tuple(x.shape)}")
    if x.shape[axis] == 1:
        return x
    xf = x if x.dtype.kind == "f" else E.cast(x, "float32")
    shape = [1] * x.ndim
    shape[axis] = 3
    weights = xp_of(x).asarray([0.2989, 0.5870, 0.1140], dtype=xf.dtype).reshape(shape)
    y = E.sum(xf * Tensor(weights), axis=axis, keepdims=True)
    return y if y.dtype == x.dtype else E.cast(y, x.dtype)


def _planes(x, axis):
    return [E.squeeze(p, axis) for p in E.split(x, 3, axis=axis)]


def _float_images(images, fmt):
    x = tensor(images)
    axis = _channel_axis(x, fmt)
    if x.dtype.kind != "f":
        raise ValueError(f"Invalid images dtype: expected float dtype. Received: "
                         f"images.dtype={x.dtype.name}")
    return x, axis


@keras_op(spec=_image_spec)
def rgb_to_hsv(images, data_format=None):
    """RGB in [0, 1] to hue, saturation, value in [0, 1]."""
    x, axis = _float_images(images, _fmt(data_format))
    zero = Tensor(xp_of(x).zeros((), dtype=x.dtype))
    x = E.where(E.less(E.abs(x), float(np.finfo(x.dtype).eps)), zero, x)
    r, g, b = _planes(x, axis)
    value = E.maximum(E.maximum(r, g), b)
    spread = value - E.minimum(E.minimum(r, g), b)
    positive = E.greater(value, 0)
    saturation = E.where(positive, spread / E.where(positive, value, zero + 1), zero)
    norm = 1.0 / (6.0 * E.where(E.greater(spread, 0), spread, zero + 1))
    hue = E.where(E.equal(value, g), norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = E.where(E.equal(value, r), norm * (g - b), hue)
    hue = E.where(E.greater(spread, 0), hue, zero)
    hue = hue + E.cast(E.less(hue, 0.0), x.dtype)
    return E.stack([hue, saturation, value], axis=axis)


@keras_op(spec=_image_spec)
def hsv_to_rgb(images, data_format=None):
    """Hue, saturation, value in [0, 1] to RGB."""
    x, axis = _float_images(images, _fmt(data_format))
    hue, sat, val = _planes(x, axis)
    dh = (hue - E.floor(hue)) * 6.0
    dr = E.clip(E.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = E.clip(2.0 - E.abs(dh - 2.0), 0.0, 1.0)
    db = E.clip(2.0 - E.abs(dh - 4.0), 0.0, 1.0)
    rest = 1.0 - sat
    return E.stack([val * (rest + sat * d) for d in (dr, dg, db)], axis=axis)


# -- crops and pads -------------------------------------------------------------------------

def _resolve(a, b, target, size, what):
    """Two of (before, after, target) given; returns (before, after)."""
    if [a, b, target].count(None) != 1:
        raise ValueError(f"Must specify exactly two of top/left_{what}, bottom/right_{what}, "
                         f"target size. Received: {a}, {b}, target={target}")
    for v in (a, b, target):
        if v is not None and v < 0:
            raise ValueError(f"{what} values must be >= 0. Received: {v}")
    sign = 1 if what == "padding" else -1
    if a is None:
        a = sign * (target - size) - b
    if b is None:
        b = sign * (target - size) - a
    if a < 0 or b < 0:
        raise ValueError(f"The {what} must be >= 0. Received: before={a}, after={b}, "
                         f"size={size}, target={target}")
    return a, b


def _crop_pad_spec(kind):
    def spec_fn(images, *args, **kwargs):
        names = [f"top_{kind}", f"left_{kind}", f"bottom_{kind}", f"right_{kind}",
                 "target_height", "target_width", "data_format"]
        given = dict(zip(names, args), **kwargs)
        top, left, bottom, right, th, tw, fmt = (given.get(n) for n in names)
        shape = list(shape_of(images))
        i = -3 if _fmt(fmt) == "channels_last" else -2
        sign = 1 if kind == "padding" else -1
        for j, (a, b, t) in enumerate(((top, bottom, th), (left, right, tw))):
            if t is None and shape[i + j] is not None:
                t = shape[i + j] + sign * (a + b)
            shape[i + j] = t
        return spec(shape, images.dtype)
    return spec_fn


@keras_op(spec=_crop_pad_spec("padding"))
def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None, data_format=None):
    """Zero-pads images; give two of (top, bottom, target_height) and of (left, right,
    target_width)."""
    x = tensor(images)
    _channel_axis(x, "channels_last")
    i = x.ndim - 3 if _fmt(data_format) == "channels_last" else x.ndim - 2
    pads = [(0, 0)] * x.ndim
    pads[i] = _resolve(top_padding, bottom_padding, target_height, x.shape[i], "padding")
    pads[i + 1] = _resolve(left_padding, right_padding, target_width, x.shape[i + 1],
                           "padding")
    return E.pad(x, tuple(pads))


@keras_op(spec=_crop_pad_spec("cropping"))
def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None, data_format=None):
    """Crops images; give two of (top, bottom, target_height) and of (left, right,
    target_width)."""
    x = tensor(images)
    _channel_axis(x, "channels_last")
    i = x.ndim - 3 if _fmt(data_format) == "channels_last" else x.ndim - 2
    key = [slice(None)] * x.ndim
    for j, (a, b, t) in enumerate(((top_cropping, bottom_cropping, target_height),
                                   (left_cropping, right_cropping, target_width))):
        before, after = _resolve(a, b, t, x.shape[i + j], "cropping")
        key[i + j] = slice(before, x.shape[i + j] - after)
    return x[tuple(key)]


# -- patches and filters --------------------------------------------------------------------

def _patches(images, size, strides, dilation_rate, padding, data_format, nd):
    from .nn import conv

    x = float_tensor(images)
    size = tuple_of(size, nd, "size")
    fmt = _fmt(data_format)
    channels = x.shape[-1] if fmt == "channels_last" else x.shape[-1 - nd]
    out = int(np.prod(size)) * channels
    kernel = Tensor(xp_of(x).eye(out, dtype=x.dtype).reshape(size + (channels, out)))
    unbatched = x.ndim == nd + 1
    x = E.expand_dims(x, 0) if unbatched else x
    y = conv(x, kernel, strides=strides or size, padding=padding, data_format=fmt,
             dilation_rate=dilation_rate)
    return E.squeeze(y, 0) if unbatched else y


def _patches_spec(nd):
    def spec_fn(images, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
        from ._nn_conv import _conv_spec

        if nd == 2 and not isinstance(size, int) and len(size) == 3:
            return _patches_spec(3)(images, size, strides, dilation_rate, padding, data_format)
        shape = shape_of(images)
        size = tuple_of(size, nd, "size")
        fmt = _fmt(data_format)
        unbatched = len(shape) == nd + 1
        full = (None,) + tuple(shape) if unbatched else tuple(shape)
        channels = full[-1] if fmt == "channels_last" else full[1]
        k = spec(size + (channels, None if channels is None else int(np.prod(size)) * channels))
        out = _conv_spec(spec(full, images.dtype), k, strides or size, padding, fmt,
                         dilation_rate)
        return spec(out.shape[1:] if unbatched else out.shape, images.dtype)
    return spec_fn


@keras_op(spec=_patches_spec(2))
def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid",
                    data_format=None):
    """Patches of `size` every `strides` pixels, flattened into the channel axis (in
    (row, column, channel) order)."""
    if not isinstance(size, int) and len(size) == 3:
        return extract_patches_3d(images, size, strides, dilation_rate, padding, data_format)
    return _patches(images, size, strides, dilation_rate, padding, data_format, 2)


@keras_op(spec=_patches_spec(3))
def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid",
                       data_format=None):
    """Patches of volumes, flattened into the channel axis."""
    return _patches(volumes, size, strides, dilation_rate, padding, data_format, 3)


def _gaussian_1d(size, sigma):
    x = np.arange(size) - (size - 1) / 2
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


@keras_op(spec=_image_spec)
def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Blurs each channel with a Gaussian kernel (zero padding, output the input's size)."""
    fmt = _fmt(data_format)
    x, unbatched = _batched(images, fmt)
    ks = tuple_of(kernel_size, 2, "kernel_size")
    sg = [float(s) for s in np.ravel(np.asarray(sigma, dtype=np.float64)) * np.ones(2)]
    # NOTE: as Keras: kernel_size[0] and sigma[0] shape the horizontal (width) profile.
    kernel = np.outer(_gaussian_1d(ks[1], sg[1]), _gaussian_1d(ks[0], sg[0]))
    c = x.shape[-1]
    kh, kw = kernel.shape
    kernel = np.tile(kernel[:, :, None, None], (1, 1, c, 1)).astype(x.dtype)
    padded = E.pad(x, ((0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0)))
    y = E.depthwise_conv(padded, Tensor(xp_of(x).asarray(kernel)))
    return _unbatch(y, fmt, unbatched)


@keras_op(spec=lambda images, data_format=None: spec(shape_of(images) + (2,), images.dtype))
def sobel_edges(images, data_format=None):
    """Sobel derivatives `(..., channels, 2)`: [vertical (y), horizontal (x)], with the edges
    reflected."""
    fmt = _fmt(data_format)
    x, _ = _batched(images, fmt)
    p = E.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="symmetric")
    h, w = x.shape[1], x.shape[2]

    def at(i, j):
        return p[:, i:i + h, j:j + w, :]

    smooth_x = [at(i, 0) + 2.0 * at(i, 1) + at(i, 2) for i in (0, 2)]
    smooth_y = [at(0, j) + 2.0 * at(1, j) + at(2, j) for j in (0, 2)]
    y = E.stack([smooth_x[1] - smooth_x[0], smooth_y[1] - smooth_y[0]], axis=-1)
    return E.transpose(y, (0, 3, 1, 2, 4)) if fmt == "channels_first" else y


def _ssim_spec(image1, image2, *args, **kwargs):
    return spec(shape_of(image1)[:1] if len(shape_of(image1)) == 4 else (), image1.dtype)


@keras_op(spec=_ssim_spec)
def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         data_format=None):
    """Structural similarity per image (Gaussian window, valid positions only), averaged over
    channels."""
    fmt = _fmt(data_format)
    a, unbatched = _batched(image1, fmt)
    b, _ = _batched(image2, fmt)
    n, h, w, c = a.shape
    g = _gaussian_1d(filter_size, filter_sigma)
    kernel = Tensor(xp_of(a).asarray(np.outer(g, g).reshape(filter_size, filter_size, 1, 1)
                                     .astype(a.dtype)))

    def blur(t):
        return E.conv(E.reshape(E.transpose(t, (0, 3, 1, 2)), (n * c, h, w, 1)), kernel)

    mu1, mu2 = blur(a), blur(b)
    s11, s22, s12 = blur(a * a) - mu1 * mu1, blur(b * b) - mu2 * mu2, blur(a * b) - mu1 * mu2
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    m = ((2.0 * mu1 * mu2 + c1) * (2.0 * s12 + c2)
         / ((mu1 * mu1 + mu2 * mu2 + c1) * (s11 + s22 + c2)))
    per_image = E.mean(E.reshape(E.mean(m, axis=(1, 2, 3)), (n, c)), axis=-1)
    return E.squeeze(per_image, 0) if unbatched else per_image
