"""Keras's ``keras.applications.imagenet_utils``: input preprocessing, decoding predictions,
and the input-shape and activation checks the ImageNet models share.

The ImageNet class index is the very file Keras downloads (``imagenet_class_index.json``, md5
``c2c37ea517e94d9795004a39431a14cb``), shipped here as package data so nothing is fetched.
"""
from __future__ import annotations

import json
import os
import warnings

import numpy as np

import kerasish
from kerasish import ops

CLASS_INDEX = None
CLASS_INDEX_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "imagenet_class_index.json")

# Per-channel constants of the "torch" and "caffe" modes (RGB order; caffe's mean is for BGR).
_TORCH_MEAN, _TORCH_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
_CAFFE_MEAN = (103.939, 116.779, 123.68)


def preprocess_input(x, data_format=None, mode="caffe"):
    """Scales a batch of images the way an ImageNet model was trained on them.

    ``mode``: "tf" -> x / 127.5 - 1 (pixels in [-1, 1]); "torch" -> x / 255, then each channel
    normalized with ImageNet's mean and std; "caffe" -> RGB to BGR, then ImageNet's mean pixel
    subtracted. An integer input is converted to ``floatx()`` first. A float array (NumPy or
    CuPy) is updated in place, as Keras updates NumPy arrays (pass a copy to keep it); tensors
    (engine Tensors, KerasTensors of a model being built) get a new value.

    >>> preprocess_input(np.array([[0.0, 127.5, 255.0]]), mode="tf")
    array([[-1.,  0.,  1.]])
    """
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError("Expected mode to be one of `caffe`, `tf` or `torch`. "
                         f"Received: mode={mode}")
    if data_format is None:
        data_format = kerasish.config.image_data_format()
    elif data_format not in {"channels_first", "channels_last"}:
        raise ValueError("Expected data_format to be one of `channels_first` or "
                         f"`channels_last`. Received: data_format={data_format}")
    if isinstance(x, np.ndarray) or _is_cupy_array(x):
        return _preprocess_numpy_input(x, data_format=data_format, mode=mode)
    return _preprocess_tensor_input(x, data_format=data_format, mode=mode)


def _is_cupy_array(x):
    # NOTE: the zoo may not import cupy (only engine/backend.py does); the type's module tells.
    # A CuPy ndarray (or a strict stand-in of one, module cupy_*): dtype, shape and ``get()``.
    return type(x).__module__.split(".")[0].startswith("cupy") and hasattr(x, "dtype") and \
        callable(getattr(x, "get", None))


def _channel_shape(ndim, data_format):
    """The broadcast shape of a per-channel constant: (1, ..., 3) or (3, 1, 1) / (1, 3, 1, 1)."""
    if data_format == "channels_first":
        return (3, 1, 1) if ndim == 3 else (1, 3) + (1,) * (ndim - 2)
    return (1,) * (ndim - 1) + (3,)


def _flip_channels(x, ndim, data_format):
    """RGB -> BGR along the channel axis (axis 0 of a single channels-first image)."""
    if data_format == "channels_first":
        return x[::-1, ...] if ndim == 3 else x[:, ::-1, ...]
    return x[..., ::-1]


def _channel(x, c, data_format):
    """The index of channel ``c`` (a view's key, for in-place updates)."""
    if data_format == "channels_first":
        return c if x.ndim == 3 else (slice(None), c)
    return (Ellipsis, c)


def _preprocess_numpy_input(x, data_format, mode):
    """NumPy and CuPy arrays: Keras's NumPy arithmetic, in place on float inputs."""
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(kerasish.config.floatx(), copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    if mode == "torch":
        x /= 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        # NOTE: the flip is a view, so the in-place updates below still write into the caller's
        # array, as Keras's do.
        x = _flip_channels(x, x.ndim, data_format)
        mean, std = _CAFFE_MEAN, None
    # Python scalars per channel, as Keras: the arithmetic stays in the array's dtype and works
    # on any array module.
    for c in range(3):
        x[_channel(x, c, data_format)] -= mean[c]
        if std is not None:
            x[_channel(x, c, data_format)] /= std[c]
    return x


def _preprocess_tensor_input(x, data_format, mode):
    # Tensors take the same arithmetic without in-place updates.
    dtype = str(getattr(x, "dtype", kerasish.config.floatx()))
    if not kerasish.backend.is_float_dtype(dtype):
        dtype = kerasish.config.floatx()
        x = ops.cast(x, dtype)
    if mode == "tf":
        return x / 127.5 - 1.0
    ndim = len(x.shape)
    shape = _channel_shape(ndim, data_format)
    if mode == "torch":
        x = x / 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        x = _flip_channels(x, ndim, data_format)
        mean, std = _CAFFE_MEAN, None
    x = x - _constant_like(x, mean, dtype, shape)
    if std is not None:
        x = x / _constant_like(x, std, dtype, shape)
    return x


def _constant_like(x, value, dtype, shape):
    """A per-channel constant on ``x``'s device (a GPU tensor takes a GPU constant)."""
    const = np.asarray(value, dtype).reshape(shape)
    device = getattr(x, "device", None)
    if isinstance(device, str) and device != "cpu" and hasattr(x, "to"):
        return ops.convert_to_tensor(const).to(device)
    return const


def _class_index():
    global CLASS_INDEX
    if CLASS_INDEX is None:
        with open(CLASS_INDEX_FILE, encoding="utf-8") as f:
            CLASS_INDEX = json.load(f)
    return CLASS_INDEX


def decode_predictions(preds, top=5):
    """Decodes the prediction of an ImageNet model.

    Returns one list per sample of the ``top`` guesses, best first, each a tuple
    ``(class_name, class_description, score)``.

    >>> decode_predictions(np.eye(1000)[[1]], top=1)
    [[('n01443537', 'goldfish', np.float64(1.0))]]
    """
    preds = preds.get() if _is_cupy_array(preds) else np.asarray(preds)  # GPU: one copy
    if len(preds.shape) != 2 or preds.shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (i.e. a 2D array "
                         f"of shape (samples, 1000)). Received array with shape: {preds.shape}")
    index = _class_index()
    results = []
    for pred in preds:
        top_indices = pred.argsort()[-top:][::-1]
        result = [tuple(index[str(i)]) + (pred[i],) for i in top_indices]
        result.sort(key=lambda r: r[2], reverse=True)
        results.append(result)
    return results


def _check_given_shape(input_shape, min_size, data_format, weights):
    """The rank, channel and minimum-size checks of a user-given ``input_shape``."""
    if len(input_shape) != 3:
        raise ValueError("`input_shape` must be a tuple of three integers.")
    channels_first = data_format == "channels_first"
    channels = input_shape[0] if channels_first else input_shape[-1]
    if channels != 3 and weights == "imagenet":
        raise ValueError(f"The input must have 3 channels; Received `input_shape={input_shape}`")
    rows, cols = input_shape[1:] if channels_first else input_shape[:2]
    if (rows is not None and rows < min_size) or (cols is not None and cols < min_size):
        raise ValueError(f"Input size must be at least {min_size}x{min_size}; "
                         f"Received: input_shape={input_shape}")


def obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten,
                       weights=None):
    """Keras's input-shape rule of the ImageNet models: default, validate or complete it.

    >>> obtain_input_shape(None, 299, 75, "channels_last", require_flatten=False)
    (None, None, 3)
    """
    channels_first = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if channels_first else input_shape[-1]
        if channels not in {1, 3}:
            warnings.warn("This model usually expects 1 or 3 input channels. However, it was "
                          f"passed an input_shape with {channels} input channels.", stacklevel=2)
        default_shape = ((channels, default_size, default_size) if channels_first
                         else (default_size, default_size, channels))
    else:
        default_shape = (3, default_size, default_size) if channels_first else (
            default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default_shape:
            # NOTE: two spaces after the period, as in Keras's text.
            raise ValueError("When setting `include_top=True` and loading `imagenet` weights, "
                             f"`input_shape` should be {default_shape}.  "
                             f"Received: input_shape={input_shape}")
        return default_shape
    if input_shape:
        _check_given_shape(input_shape, min_size, data_format, weights)
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if channels_first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError("If `include_top` is True, you should specify a static `input_shape`. "
                         f"Received: input_shape={input_shape}")
    return input_shape


def validate_activation(classifier_activation, weights):
    """Pretrained weights allow only ``None`` or ``"softmax"`` as the classifier's activation.

    >>> validate_activation("relu", None)  # random weights: anything goes
    """
    if weights is None:
        return
    activation = kerasish.activations.get(classifier_activation)
    if activation not in {kerasish.activations.get("softmax"), kerasish.activations.get(None)}:
        raise ValueError("Only `None` and `softmax` activations are allowed for the "
                         "`classifier_activation` argument when using pretrained weights, with "
                         f"`include_top=True`; Received: classifier_activation={activation}")


def correct_pad(inputs, kernel_size):
    """The ZeroPadding2D padding before a stride-2 "valid" convolution that gives TensorFlow's
    "same" output: one more row/column at the bottom/right for an even (or unknown) size.

    Returns ``((top, bottom), (left, right))``, for ``layers.ZeroPadding2D(padding=...)``.

    >>> correct_pad(kerasish.Input((224, 224, 3)), 3)
    ((0, 1), (0, 1))
    """
    first = 2 if kerasish.config.image_data_format() == "channels_first" else 1
    rows, cols = tuple(inputs.shape)[first:first + 2]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    # NOTE: an unknown size counts as even, as in Keras (a graph built once for any size).
    adjust = (1, 1) if rows is None else (1 - rows % 2, 1 - cols % 2)
    half = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((half[0] - adjust[0], half[0]), (half[1] - adjust[1], half[1]))
