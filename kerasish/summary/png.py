"""A minimal PNG encoder (8-bit gray, gray+alpha, RGB or RGBA) with zlib: no imaging library."""
from __future__ import annotations

import struct
import zlib

import numpy as np

_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG color type


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_png(image) -> bytes:
    """PNG bytes of a uint8 array of shape (height, width, channels), channels in 1..4.

    >>> encode_png(np.zeros((2, 3, 1), np.uint8))[:4]
    b'\\x89PNG'
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in _COLOR_TYPES:
        raise ValueError("encode_png expects a uint8 array of shape (height, width, channels) "
                         f"with 1 to 4 channels. Received: dtype={image.dtype}, "
                         f"shape={image.shape}")
    height, width, channels = image.shape
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[channels], 0, 0, 0)
    # Filter type 0 (none) before each row.
    rows = np.concatenate([np.zeros((height, 1), np.uint8),
                           image.reshape(height, width * channels)], axis=1)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + _chunk(b"IEND", b""))


def to_uint8(images) -> np.ndarray:
    """Float images in [0, 1] (or integer images) as uint8, as ``tf.summary.image`` does.

    >>> to_uint8(np.array([0.0, 0.5, 1.0]))
    array([  0, 127, 255], dtype=uint8)
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    if np.issubdtype(images.dtype, np.floating):
        # NOTE: TF's convert_image_dtype scales by 255.5 and truncates (saturating).
        return np.clip(images.astype(np.float64) * 255.5, 0, 255).astype(np.uint8)
    return np.clip(images, 0, 255).astype(np.uint8)
