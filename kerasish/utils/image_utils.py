"""Images as files, Pillow images and arrays (``keras.utils.load_img`` and friends).

Pillow is imported when first needed (the ``images`` extra); without it these functions raise an
ImportError that says what to install. Arrays are channels-last, ``(height, width, channels)``.
"""
from __future__ import annotations

import io
import pathlib
import warnings

import numpy as np

from engine import Tensor, backend

from .. import config

_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def pil_image():
    """The ``PIL.Image`` module, or an ImportError naming the package to install."""
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError("Could not import PIL.Image: kerasish's image utilities need Pillow. "
                          "Install it with `pip install pillow` (or kerasish's `images` "
                          "extra).") from e
    return Image


def _data_format(data_format):
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of 'channels_first', "
                         f"'channels_last'. Received: data_format={data_format}")
    return data_format


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """Loads an image file into a Pillow image.

    Args:
        path: Path (str, bytes or ``pathlib.Path``) or an ``io.BytesIO``.
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``.
        target_size: None (the file's size) or ``(height, width)``.
        interpolation: Pillow resampling used to resize: ``"nearest"``, ``"bilinear"``,
            ``"bicubic"``, ``"hamming"``, ``"box"`` or ``"lanczos"``.
        keep_aspect_ratio: Resize a centered crop of the target's aspect ratio instead of
            stretching.

    >>> img = load_img("cat.png", target_size=(64, 64))   # doctest: +SKIP
    """
    image = pil_image()
    if isinstance(path, io.BytesIO):
        img = image.open(path)
    elif isinstance(path, (pathlib.Path, bytes, str)):
        if isinstance(path, pathlib.Path):
            path = str(path.resolve())
        with open(path, "rb") as f:
            img = image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    modes = {"grayscale": ("L", "I;16", "I"), "rgba": ("RGBA",), "rgb": ("RGB",)}
    if color_mode not in modes:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba". '
                         f"Received: color_mode={color_mode!r}")
    if img.mode not in modes[color_mode]:
        img = img.convert(modes[color_mode][0])
    if target_size is None:
        return img
    size = (int(target_size[1]), int(target_size[0]))  # Pillow's (width, height)
    if img.size == size:
        return img
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"Invalid interpolation method {interpolation} specified. Supported "
                         f"methods are {', '.join(_INTERPOLATIONS)}")
    resample = getattr(image.Resampling, interpolation.upper())
    if not keep_aspect_ratio:
        return img.resize(size, resample)
    width, height = img.size
    crop_height = min(height, (width * size[1]) // size[0])
    crop_width = min(width, (height * size[0]) // size[1])
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return img.resize(size, resample, box=[left, top, left + crop_width, top + crop_height])


def img_to_array(img, data_format=None, dtype=None):
    """A Pillow image (or array-like) as a ``(height, width, channels)`` array of ``dtype``
    (floatx by default); a grayscale image gets one channel.

    >>> img_to_array(array_to_img(np.zeros((2, 3, 3)))).shape
    (2, 3, 3)
    """
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=dtype or config.floatx())
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x
    if x.ndim == 2:
        return x[None] if data_format == "channels_first" else x[:, :, None]
    raise ValueError(f"Unsupported image shape: {x.shape}")


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A ``(height, width, channels)`` array (1, 3 or 4 channels) as a Pillow image.

    Args:
        x: The array.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        scale: Rescale the values to [0, 255] (min to 0, max to 255) first.
        dtype: The dtype the array is read as (floatx by default).

    >>> array_to_img(np.zeros((2, 3, 1))).mode
    'L'
    """
    image = pil_image()
    data_format = _data_format(data_format)
    x = backend.to_numpy(x.data if isinstance(x, Tensor) else x)
    x = np.array(x, dtype=dtype or config.floatx())
    if x.ndim != 3:
        raise ValueError("Expected image array to have rank 3 (single image). "
                         f"Got array with shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        if np.max(x) != 0:
            x /= np.max(x)
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return image.fromarray(x.astype("uint8"), "RGB" if channels == 3 else "RGBA")
    if channels == 1:
        if np.max(x) > 255:  # 32-bit integer grayscale
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Saves an array as an image file (format from ``file_format`` or the path's suffix).

    >>> save_img("out.png", np.zeros((8, 8, 3)))   # doctest: +SKIP
    """
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.")
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def _resize_axis(xp, x, axis, out_size, interpolation):
    """Resizes one axis: half-pixel centers (bilinear: linear between the two nearest source
    pixels, edges clamped; nearest: the source pixel whose span holds the center)."""
    in_size = x.shape[axis]
    if in_size == out_size:
        return x
    centers = (xp.arange(out_size, dtype=np.float64) + 0.5) * (in_size / out_size) - 0.5
    if interpolation == "nearest":
        index = xp.clip(xp.floor(centers + 0.5), 0, in_size - 1).astype(np.int64)
        return xp.take(x, index, axis=axis)
    centers = xp.clip(centers, 0, in_size - 1)
    low = xp.floor(centers).astype(np.int64)
    high = xp.minimum(low + 1, in_size - 1)
    shape = [1] * x.ndim
    shape[axis] = out_size
    frac = (centers - low).reshape(shape).astype(x.dtype)
    return xp.take(x, low, axis=axis) * (1 - frac) + xp.take(x, high, axis=axis) * frac


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last", **kwargs):
    """Resizes images to ``size`` without distorting them: the largest centered crop of the
    target aspect ratio is taken, then resized.

    Args:
        x: An image ``(height, width, channels)`` or a batch of them; NumPy in, NumPy out.
        size: ``(height, width)``.
        interpolation: ``"bilinear"`` or ``"nearest"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    >>> smart_resize(np.zeros((40, 20, 3)), (10, 10)).shape
    (10, 10, 3)
    """
    kwargs.pop("backend_module", None)
    if kwargs:
        raise TypeError(f"smart_resize() got unexpected keyword arguments: {list(kwargs)}")
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError("kerasish's smart_resize interpolates 'bilinear' or 'nearest'. "
                         f"Received: interpolation={interpolation!r}")
    is_tensor = isinstance(x, Tensor)
    img = x.data if is_tensor else x
    xp = backend.get_array_module(img)
    img = xp.asarray(img)
    if img.ndim not in (3, 4):
        raise ValueError("Expected an image array with shape `(height, width, channels)`, or "
                         "`(batch_size, height, width, channels)`, but got input with "
                         f"incorrect rank, of shape {img.shape}.")
    h_axis = img.ndim - 3 if data_format == "channels_last" else img.ndim - 2
    height, width = img.shape[h_axis], img.shape[h_axis + 1]
    target_height, target_width = int(size[0]), int(size[1])
    crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    top, left = int((height - crop_height) / 2), int((width - crop_width) / 2)
    index = [slice(None)] * img.ndim
    index[h_axis] = slice(top, top + crop_height)
    index[h_axis + 1] = slice(left, left + crop_width)
    img = img[tuple(index)]
    if img.dtype.kind != "f":
        img = img.astype(config.floatx())
    img = _resize_axis(xp, img, h_axis, target_height, interpolation)
    img = _resize_axis(xp, img, h_axis + 1, target_width, interpolation)
    return Tensor(img) if is_tensor else img
