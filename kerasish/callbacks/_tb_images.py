"""Images for the TensorBoard callback: a weight drawn as Keras draws it, and a sprite sheet of
input images for the projector."""
from __future__ import annotations

import math

import numpy as np

from ..summary.png import to_uint8


def weight_as_images(weight):
    """The (N, H, W, C) batch Keras 3 writes for a weight (``write_images=True``), or None.

    The weight is squeezed; 1-D (n) -> one n x 1 image; 2-D -> one image, transposed so that
    it is wider than high; 3-D (h, w, c) -> c images of h x w; 4-D is used as it is, and only
    if its last axis is 1, 3 or 4.
    """
    image = np.squeeze(np.asarray(weight))
    if image.ndim == 1:
        image = image.reshape(1, image.shape[0], 1, 1)
    elif image.ndim == 2:
        if image.shape[0] > image.shape[1]:
            image = image.T
        image = image.reshape(1, image.shape[0], image.shape[1], 1)
    elif image.ndim == 3:
        image = np.transpose(image, (2, 0, 1))[..., None]  # channels last: one image each
    if image.ndim == 4 and image.shape[-1] in (1, 3, 4):
        return image
    return None


def is_image_batch(data) -> bool:
    """True for a (N, H, W, C) array with C in {1, 3, 4}."""
    shape = np.shape(data)
    return len(shape) == 4 and shape[-1] in (1, 3, 4)


def _scaled(images):
    """Images as uint8: floats are stretched from their min..max to 0..255."""
    images = np.asarray(images)
    if np.issubdtype(images.dtype, np.floating):
        low, high = float(images.min()), float(images.max())
        images = (images - low) / (high - low) if high > low else np.zeros_like(images)
    return to_uint8(images)


def input_images(data, max_outputs=3):
    """Up to ``max_outputs`` images of an input batch, stretched to the full gray range."""
    return _scaled(np.asarray(data)[:max_outputs])


def sprite(images, max_size=8192):
    """(sprite sheet, [width, height] of one image) for the projector: the images in rows of
    ceil(sqrt(N)), filling a square; None if the sheet would exceed TensorBoard's 8192 px."""
    images = _scaled(images)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    images = images[..., :3]
    count, height, width = images.shape[:3]
    side = math.ceil(math.sqrt(count))
    if side * max(height, width) > max_size:
        return None
    sheet = np.zeros((side * height, side * width, 3), np.uint8)
    for i, image in enumerate(images):
        row, col = divmod(i, side)
        sheet[row * height:(row + 1) * height, col * width:(col + 1) * width] = image
    return sheet, [width, height]
