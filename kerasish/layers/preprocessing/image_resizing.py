"""Resizing and CenterCrop: images brought to a fixed ``(height, width)`` (Keras's sampling
rules, from ``keras.ops.image.resize``)."""
from __future__ import annotations

from ._image import ImageLayer, as_images, image_size


def _resize(x, size, **kwargs):
    from ...ops.image import resize  # late: kerasish.ops imports the layers package

    return resize(x, size, **kwargs)


def _spatial_shape(input_shape, height, width):
    shape = list(input_shape)
    shape[-3], shape[-2] = height, width
    return tuple(shape)


class Resizing(ImageLayer):
    """Resizes images to ``(height, width)``; integer images stay integer (rounded, saturated).

    Args:
        height, width: the output size.
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"``, ``"lanczos3"``,
            ``"lanczos5"``.
        crop_to_aspect_ratio: take the largest centered crop of the target aspect ratio first.
        pad_to_aspect_ratio: pad (with ``fill_value``) to the target aspect ratio first.
        fill_mode, fill_value: how padding is filled (``"constant"`` only, as Keras).
        antialias: low-pass filter when downsampling.
        data_format: ``"channels_last"`` (the only one kerasish runs).

    >>> Resizing(2, 2)(np.ones((1, 4, 4, 3), "float32")).shape
    (1, 2, 2, 3)
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = height, width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)

    def call(self, inputs):
        x = as_images(self, inputs, cast=False)
        return _resize(x, (self.height, self.width), interpolation=self.interpolation,
                       antialias=self.antialias, crop_to_aspect_ratio=self.crop_to_aspect_ratio,
                       pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_mode=self.fill_mode,
                       fill_value=self.fill_value, data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        return _spatial_shape(input_shape, self.height, self.width)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}


class CenterCrop(ImageLayer):
    """Crops the center ``(height, width)`` of each image; an image smaller than that is first
    cropped to the target aspect ratio and resized (bilinear), as Keras's ``smart_resize``.

    >>> CenterCrop(2, 2)(np.arange(16.0).reshape(4, 4, 1))[..., 0].numpy()
    array([[ 5.,  6.],
           [ 9., 10.]], dtype=float32)
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = height, width

    def call(self, inputs):
        x = as_images(self, inputs)
        h, w = image_size(x)
        dh, dw = h - self.height, w - self.width
        if dh >= 0 and dw >= 0:
            top, left = dh // 2, dw // 2
            return x[..., top:top + self.height, left:left + self.width, :]
        return _resize(x, (self.height, self.width), crop_to_aspect_ratio=True,
                       data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        if len(input_shape) not in (3, 4):
            raise ValueError("`input_shape` must be a non-nested tuple or list of rank-1 with "
                             f"size 3 (unbatched) or 4 (batched). Received: "
                             f"input_shape={tuple(input_shape)}")
        return _spatial_shape(input_shape, self.height, self.width)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}
