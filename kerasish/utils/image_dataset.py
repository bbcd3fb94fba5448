"""``keras.utils.image_dataset_from_directory``: image files in class folders as a PyDataset."""
from __future__ import annotations

import math

import numpy as np

from . import dataset_utils, image_utils

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}
_MODES = {"rgb": "RGB", "rgba": "RGBA", "grayscale": "L"}


def _resize(img, size, interpolation):
    img = image_utils._resize_axis(np, img, 0, size[0], interpolation)
    return image_utils._resize_axis(np, img, 1, size[1], interpolation)


def _with_pad(img, size, interpolation):
    """Resized to fit in ``size`` keeping its aspect ratio, centered on zeros (TF's
    ``resize_with_pad``)."""
    height, width = img.shape[:2]
    ratio = max(width / size[1], height / size[0])
    inner = (max(int(math.floor(height / ratio)), 1), max(int(math.floor(width / ratio)), 1))
    out = np.zeros(tuple(size) + img.shape[2:], img.dtype)
    top, left = (size[0] - inner[0]) // 2, (size[1] - inner[1]) // 2
    out[top:top + inner[0], left:left + inner[1]] = _resize(img, inner, interpolation)
    return out


def _loader(image_size, color_mode, interpolation, data_format, crop, pad):
    def load(path):
        pil = image_utils.pil_image()
        with pil.open(path) as img:
            img = img.convert(_MODES[color_mode])
            x = np.asarray(img, dtype="float32")
        x = x[:, :, None] if x.ndim == 2 else x
        if crop:
            x = image_utils.smart_resize(x, image_size, interpolation=interpolation)
        elif pad:
            x = _with_pad(x, image_size, interpolation)
        else:
            x = _resize(x, image_size, interpolation)
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x

    return load


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, format="tf",
                                 verbose=True):
    """A ``PyDataset`` of ``(images, labels)`` batches from image files (Pillow reads them).

    With ``labels="inferred"``, each sub-folder of ``directory`` is a class (in alphanumeric
    order, or the order of ``class_names``) and holds that class's images (.bmp, .gif, .jpeg,
    .jpg, .png, in nested folders too). Images are float32 ``(batch, height, width,
    channels)``, resized with half-pixel-center bilinear (or nearest) interpolation; labels are
    int32 ``(batch,)`` ("int"), float32 one-hot ("categorical") or float32 ``(batch, 1)``
    ("binary").

    Args:
        directory: The folder.
        labels: ``"inferred"``, None (images only) or a list of int labels, one per file in
            sorted path order.
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` or None (images only).
        class_names: The class folders to use, in label order (with ``"inferred"``).
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"`` (1, 3 or 4 channels).
        batch_size: Images per batch; None = one image per item.
        image_size: ``(height, width)`` the images are resized to.
        shuffle: Shuffle the files (with ``np.random.RandomState(seed)``, as Keras does).
        seed: The shuffle's seed; needed with ``validation_split`` and ``shuffle``.
        validation_split: Fraction of the files kept for validation (the last ones).
        subset: ``"training"``, ``"validation"`` or ``"both"`` (returns both datasets).
        interpolation: ``"bilinear"`` or ``"nearest"``.
        follow_links: Whether to visit folders behind symlinks.
        crop_to_aspect_ratio: Take the largest centered crop of the target aspect ratio first.
        pad_to_aspect_ratio: Resize within the target and pad with zeros instead.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        format: ``"tf"`` or ``"grain"`` in Keras; either way kerasish returns a PyDataset.
        verbose: Print how many files and classes were found.

    Returns:
        A PyDataset with ``class_names`` and ``file_paths`` attributes (a list of two with
        ``subset="both"``).

    >>> train = image_dataset_from_directory("photos", image_size=(64, 64),
    ...                                      validation_split=0.2, subset="training", seed=1)
    """
    if color_mode not in _CHANNELS:
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
                         f"Received: color_mode={color_mode}")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError("Invalid `image_size` value. Expected a tuple of 2 integers. "
                         f"Received: image_size={image_size}")
    interpolation = interpolation.lower()
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError("kerasish resizes with `interpolation` 'bilinear' or 'nearest'. "
                         f"Received: interpolation={interpolation}")
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set "
                         "to `True`.")
    data_format = image_utils._data_format(data_format)
    image_utils.pil_image()  # a clear error before any work when Pillow is missing
    load = _loader(tuple(int(s) for s in image_size), color_mode, interpolation, data_format,
                   crop_to_aspect_ratio, pad_to_aspect_ratio)

    def make(paths, labels, label_mode, class_names):
        return dataset_utils.FileDataset(paths, labels, label_mode, class_names, batch_size,
                                         load)

    return dataset_utils.build_from_directory(
        directory, labels, label_mode, class_names, ALLOWLIST_FORMATS, batch_size, shuffle,
        seed, validation_split, subset, follow_links, verbose, make, what="images")
