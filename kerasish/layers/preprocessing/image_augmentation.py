"""Augmentation layers, active in training only (Keras's convention: also when ``training`` is
not given, e.g. a direct call; ``fit`` passes True, ``predict``/``evaluate`` False). Each draws
one set of parameters per image from its seeded generator; the geometric ones warp the images
with ``keras.ops.image.affine_transform``, so gradients still reach the pixels."""
from __future__ import annotations

import numpy as np

from engine import ops

from ._image import RandomImageLayer, as_images, check_choice, factor_pair, image_size

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")
HORIZONTAL, VERTICAL = "horizontal", "vertical"
HORIZONTAL_AND_VERTICAL = "horizontal_and_vertical"


def _affine(x, transform, layer):
    from ...ops.image import affine_transform  # late: kerasish.ops imports the layers package

    return affine_transform(x, layer._on_device(x, transform), interpolation=layer.interpolation,
                            fill_mode=layer.fill_mode, fill_value=layer.fill_value,
                            data_format=layer.data_format)


class RandomFlip(RandomImageLayer):
    """Flips each image, with probability 1/2, left-right (``"horizontal"``), up-down
    (``"vertical"``) or both at once (``"horizontal_and_vertical"``: one draw flips both).

    >>> RandomFlip("horizontal", seed=1)(np.ones((2, 4, 4, 3)), training=False).shape
    (2, 4, 4, 3)
    """

    def __init__(self, mode=HORIZONTAL_AND_VERTICAL, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL):
            raise ValueError(f"RandomFlip layer {self.name} received an unknown mode argument "
                             f"{mode}")
        self.mode = mode

    def call(self, inputs, training=None):
        x = as_images(self, inputs)
        if not self._active(training):
            return x
        flips = self._uniform(0.0, 1.0, (self._batch_size(x),)) <= 0.5
        shape = (-1, 1, 1, 1) if x.ndim == 4 else (1, 1, 1)
        mask = self._on_device(x, flips.reshape(shape))
        y = x
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            y = ops.where(mask, ops.flip(y, axis=-2), y)
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            y = ops.where(mask, ops.flip(y, axis=-3), y)
        return y

    def get_config(self):
        return {**super().get_config(), "seed": self.seed, "mode": self.mode}


class _RandomWarp(RandomImageLayer):
    """Shared by rotation, zoom and translation: fill mode, fill value and interpolation."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        check_choice(fill_mode, FILL_MODES, "fill_mode")
        check_choice(interpolation, INTERPOLATIONS, "interpolation")
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, fill_value

    def _transforms(self, n, height, width):
        raise NotImplementedError

    def call(self, inputs, training=None):
        x = as_images(self, inputs)
        if not self._active(training):
            return x
        height, width = image_size(x)
        transform = self._transforms(self._batch_size(x), height, width)
        return _affine(x, transform if x.ndim == 4 else transform[0], self)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "seed": self.seed,
                "fill_value": self.fill_value}


def _warp_factor(factor, name, lowest_open):
    """Keras's height/width factor: a number ``f`` gives ``(-|f|, |f|)``, a pair is sorted;
    each value in [-1, 1] (``(-1, 1]`` for zoom, where -1 would zoom by 0)."""
    error = ("The `height_factor` and `width_factor` arguments should be a number (or a list "
             f"of two numbers) in the range {'(' if lowest_open else '['}-1.0, 1.0]. "
             f"Received: {name}={factor}")
    values = list(factor) if isinstance(factor, (tuple, list)) else [factor]
    if (isinstance(factor, (tuple, list)) and len(factor) != 2) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise ValueError(error)
    for v in values:
        if v > 1.0 or v < -1.0 or (lowest_open and v == -1.0):
            raise ValueError(error)
    if isinstance(factor, (tuple, list)):
        return tuple(sorted(factor))
    return (-abs(factor), abs(factor))


class RandomRotation(_RandomWarp):
    """Rotates each image about its center by a random angle of ``factor`` turns (a number
    ``f`` draws from ``[-f, f]``, a pair ``(low, high)`` from it; 0.5 is 180 degrees).

    >>> RandomRotation(0.1, seed=0)(np.ones((2, 8, 8, 3))).shape
    (2, 8, 8, 3)
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self.factor = factor_pair(
            factor, (-1, 1), "The `factor` argument should be a number (or a list of two "
            f"numbers) in the range [-1, 1]. Received: factor={factor}")

    def _transforms(self, n, height, width):
        angle = self._uniform(self.factor[0] * 360.0, self.factor[1] * 360.0, (n,))
        return rotation_transforms(np.deg2rad(angle.astype(np.float64)), height, width)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def rotation_transforms(theta, height, width):
    """Keras's affine rows ``[a0, a1, a2, b0, b1, b2, 0, 0]`` of a rotation by ``theta``
    (radians) about the image center ``((width - 1) / 2, (height - 1) / 2)``."""
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    cos, sin = np.cos(theta), np.sin(theta)
    zeros = np.zeros_like(theta)
    rows = [cos, -sin, cx - cx * cos + cy * sin, sin, cos, cy - cx * sin - cy * cos, zeros, zeros]
    return np.stack(rows, axis=1).astype(np.float32)


class RandomZoom(_RandomWarp):
    """Zooms each image about its center. ``height_factor`` ``f`` draws a zoom of
    ``1 + U(-f, f)`` (a pair: ``1 + U(low, high)``): positive values zoom *out* (the image
    shrinks), negative values zoom in. ``width_factor=None`` keeps the aspect ratio.

    >>> RandomZoom(0.2, seed=0)(np.ones((2, 8, 8, 3))).shape
    (2, 8, 8, 3)
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_lower, self.height_upper = _warp_factor(height_factor, "height_factor", True)
        if width_factor is not None:
            self.width_lower, self.width_upper = _warp_factor(width_factor, "width_factor", True)

    def _transforms(self, n, height, width):
        zh = self._uniform(1.0 + self.height_lower, 1.0 + self.height_upper, (n,))
        zw = zh
        if self.width_factor is not None:
            zw = self._uniform(1.0 + self.width_lower, 1.0 + self.width_upper, (n,))
        return zoom_transforms(zh, zw, height, width)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


def zoom_transforms(zoom_h, zoom_w, height, width):
    """Rows of a zoom by ``(zoom_h, zoom_w)`` about the image center (Keras's matrix)."""
    zeros = np.zeros_like(zoom_h)
    rows = [zoom_w, zeros, (width - 1) / 2.0 * (1.0 - zoom_w), zeros, zoom_h,
            (height - 1) / 2.0 * (1.0 - zoom_h), zeros, zeros]
    return np.stack(rows, axis=1).astype(np.float32)


class RandomTranslation(_RandomWarp):
    """Shifts each image by a random fraction of its height and width (``height_factor`` ``f``
    draws from ``[-f, f]``, a pair from ``[low, high]``; positive moves down/right).

    >>> RandomTranslation(0.1, 0.1, seed=0)(np.ones((2, 8, 8, 3))).shape
    (2, 8, 8, 3)
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_lower, self.height_upper = _warp_factor(height_factor, "height_factor",
                                                            False)
        self.width_lower, self.width_upper = _warp_factor(width_factor, "width_factor", False)

    def _transforms(self, n, height, width):
        dy = self._uniform(self.height_lower, self.height_upper, (n,)) * height
        dx = self._uniform(self.width_lower, self.width_upper, (n,)) * width
        return translation_transforms(dy, dx)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


def translation_transforms(dy, dx):
    """Rows of a shift by ``(dy, dx)`` pixels: output ``(x, y)`` reads ``(x - dx, y - dy)``."""
    ones, zeros = np.ones_like(dy), np.zeros_like(dy)
    return np.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], axis=1).astype(np.float32)


class RandomContrast(RandomImageLayer):
    """Scales each image's deviation from its per-channel mean by a random factor drawn from
    ``[1 - low, 1 + high]`` (``factor`` ``f`` gives ``(0, f)``, Keras's rule), then clips to
    ``value_range``.

    >>> RandomContrast(0.5, seed=0)(np.ones((1, 2, 2, 3)), training=False).shape
    (1, 2, 2, 3)
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor_pair(
            factor, (0, 1), "The `factor` argument should be a number (or a list of two "
            f"numbers) in the range [0, 1]. Received: factor={factor}")
        self.value_range = value_range

    def call(self, inputs, training=None):
        x = as_images(self, inputs)
        if not self._active(training):
            return x
        shape = (-1, 1, 1, 1) if x.ndim == 4 else (1, 1, 1)
        draw = self._uniform(1.0 - self.factor[0], 1.0 + self.factor[1], (self._batch_size(x),))
        scale = self._on_device(x, draw.reshape(shape).astype(x.dtype))
        mean = ops.mean(x, axis=(-3, -2), keepdims=True)
        y = ops.add(ops.multiply(ops.subtract(x, mean), scale), mean)
        return ops.clip(y, float(self.value_range[0]), float(self.value_range[1]))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range,
                "seed": self.seed}


class RandomBrightness(RandomImageLayer):
    """Adds to each image a random delta of ``U(low, high) * (value_range[1] -
    value_range[0])`` (``factor`` ``f`` gives ``(-f, f)``), then clips to ``value_range``.

    >>> RandomBrightness(0.2, seed=0)(np.ones((1, 2, 2, 3)), training=False).shape
    (1, 2, 2, 3)
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor_pair(
            factor, (-1, 1), "The `factor` argument should be a number (or a list of two "
            f"numbers) in the range [-1, 1]. Received: factor={factor}")
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError("The `value_range` argument should be a list of two numbers. "
                             f"Received: value_range={value_range}")
        self.value_range = sorted(value_range)

    def call(self, inputs, training=None):
        x = as_images(self, inputs)
        if not self._active(training):
            return x
        shape = (-1, 1, 1, 1) if x.ndim == 4 else (1, 1, 1)
        span = self.value_range[1] - self.value_range[0]
        draw = self._uniform(self.factor[0], self.factor[1], (self._batch_size(x),)) * span
        delta = self._on_device(x, draw.reshape(shape).astype(x.dtype))
        return ops.clip(ops.add(x, delta), float(self.value_range[0]),
                        float(self.value_range[1]))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range,
                "seed": self.seed}


__all__ = ["RandomBrightness", "RandomContrast", "RandomFlip", "RandomRotation",
           "RandomTranslation", "RandomZoom"]
