"""MobileNetV2 (Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
CVPR 2018), built block for block as ``keras/src/applications/mobilenet_v2.py`` builds it.

Every layer with weights has a given name (``Conv1``, ``block_1_expand``, ``Conv_1``, ...), so
Keras's official weight files load by topology. The file depends on ``alpha`` and the input
size: ``mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{alpha}_{rows}[_no_top].h5``.
"""
from __future__ import annotations

import warnings

import kerasish
from kerasish import layers

from . import imagenet_utils
from .weights import cached_file, is_imagenet, valid_weights_argument

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"

# The widths and input sizes Keras publishes weights for.
IMAGENET_ALPHAS = (0.35, 0.50, 0.75, 1.0, 1.3, 1.4)
IMAGENET_ROWS = (96, 128, 160, 192, 224)


def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights="imagenet",
                input_tensor=None, pooling=None, classes=1000, classifier_activation="softmax",
                name=None):
    """Instantiates the MobileNetV2 architecture (``keras.applications.MobileNetV2``).

    Args:
        input_shape: optional ``(rows, cols, 3)``, each at least 32; with the top and ImageNet
            weights it must be ``(224, 224, 3)``. Ignored when ``input_tensor`` is given.
        alpha: the width multiplier: every block's filters are scaled by it (rounded to a
            multiple of 8). ImageNet weights exist for 0.35, 0.5, 0.75, 1.0, 1.3 and 1.4.
        include_top: whether to end with the classifier (global average pooling +
            ``predictions``).
        weights: ``None`` (random initialization), ``"imagenet"`` (Keras's file in
            ``$KERAS_HOME/models``, never downloaded) or the path of a weights file.
        input_tensor: optional KerasTensor (output of ``layers.Input()``) to build on.
        pooling: without the top, ``None`` (4D output), ``"avg"`` or ``"max"`` (2D output).
        classes: number of classes of the top; 1000 with ImageNet weights.
        classifier_activation: activation of ``predictions``; ``None`` gives logits.
        name: the model's name; ``None`` gives ``mobilenetv2_{alpha:.2f}_{rows}``.

    ImageNet weights exist for square inputs of 96, 128, 160, 192 and 224 pixels; any other
    size loads the 224 file, with a warning. Inputs are expected scaled to [-1, 1]: see
    :func:`preprocess_input`.

    >>> model = MobileNetV2(weights=None, include_top=False, pooling="avg",
    ...                     input_shape=(32, 32, 3))
    >>> model.output_shape
    (None, 1280)
    """
    if not valid_weights_argument(weights):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), `imagenet` (pre-training on ImageNet), or the path "
                         "to the weights file to be loaded.  "
                         f"Received `weights={weights}`")
    if is_imagenet(weights) and include_top and classes != 1000:
        raise ValueError('If using `weights="imagenet"` with `include_top` as true, `classes` '
                         f"should be 1000. Received `classes={classes}`")

    channels_first = kerasish.config.image_data_format() == "channels_first"
    default_size = _default_size(input_shape, input_tensor, channels_first)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=kerasish.config.image_data_format(), require_flatten=include_top,
        weights=weights)
    rows, cols = input_shape[1:3] if channels_first else input_shape[:2]

    if is_imagenet(weights):
        if alpha not in IMAGENET_ALPHAS:
            raise ValueError("If imagenet weights are being loaded, alpha must be one of `0.35`, "
                             "`0.50`, `0.75`, `1.0`, `1.3` or `1.4` only; "
                             f"Received `alpha={alpha}`")
        if rows != cols or rows not in IMAGENET_ROWS:
            rows = 224
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in "
                          "[96, 128, 160, 192, 224]. Weights for input shape (224, 224) will "
                          "be loaded as the default.", stacklevel=2)

    if input_tensor is None:
        img_input = layers.Input(shape=input_shape)
    elif not kerasish.backend.is_keras_tensor(input_tensor):
        img_input = layers.Input(tensor=input_tensor, shape=input_shape)
    else:
        img_input = input_tensor
    channel_axis = 1 if channels_first else -1

    first_block_filters = _make_divisible(32 * alpha, 8)
    x = layers.Conv2D(first_block_filters, kernel_size=3, strides=(2, 2), padding="same",
                      use_bias=False, name="Conv1")(img_input)
    x = _bn(x, channel_axis, "bn_Conv1")
    x = layers.ReLU(6.0, name="Conv1_relu")(x)

    # (filters, stride, expansion) per block, block_id 0..16 in order.
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(x, filters=filters, alpha=alpha, stride=stride,
                                expansion=expansion, block_id=block_id)

    # NOTE: no alpha below 1 on the last convolution (the paper): only a wider net widens it.
    last_block_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_block_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = _bn(x, channel_axis, "Conv_1_bn")
    x = layers.ReLU(6.0, name="out_relu")(x)

    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)

    # The model starts at the true inputs of `input_tensor`, which may lie further up its graph.
    if input_tensor is not None:
        inputs = kerasish.utils.get_source_inputs(input_tensor)
    else:
        inputs = img_input
    if name is None:
        name = f"mobilenetv2_{alpha:0.2f}_{rows}"
    model = kerasish.Functional(inputs, x, name=name)

    if is_imagenet(weights):
        suffix = "" if include_top else "_no_top"
        fname = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}{suffix}.h5"
        model.load_weights(cached_file(fname, BASE_WEIGHT_PATH + fname))
    elif weights is not None:
        model.load_weights(weights)
    return model


_BLOCKS = ((16, 1, 1),
           (24, 2, 6), (24, 1, 6),
           (32, 2, 6), (32, 1, 6), (32, 1, 6),
           (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6),
           (96, 1, 6), (96, 1, 6), (96, 1, 6),
           (160, 2, 6), (160, 1, 6), (160, 1, 6),
           (320, 1, 6))


def _default_size(input_shape, input_tensor, channels_first):
    """The input size whose ImageNet file Keras picks: a square size with published weights
    taken from ``input_shape`` (or from ``input_tensor``'s shape), else 224.

    Both given: their column counts must agree (Keras's check, texts included).
    """
    is_tensor = kerasish.backend.is_keras_tensor(input_tensor)
    if input_shape is not None and input_tensor is not None:
        if not is_tensor:
            raise ValueError("input_tensor is not a Keras tensor; "
                             f"Received `input_tensor={input_tensor}`")
        if channels_first and input_tensor.shape[1] != input_shape[1]:
            raise ValueError("input_shape[1] must equal shape(input_tensor)[1] when "
                             "`image_data_format` is `channels_first`; Received "
                             f"`input_tensor.shape={input_tensor.shape}`, "
                             f"`input_shape={input_shape}`")
        if not channels_first and input_tensor.shape[2] != input_shape[1]:
            raise ValueError("input_tensor.shape[2] must equal input_shape[1]; Received "
                             f"`input_tensor.shape={input_tensor.shape}`, "
                             f"`input_shape={input_shape}`")
    if input_shape is None:
        if input_tensor is None or not is_tensor:
            return 224
        # NOTE: a tensor's shape has the batch axis first.
        rows, cols = input_tensor.shape[2:4] if channels_first else input_tensor.shape[1:3]
    else:
        rows, cols = input_shape[1:3] if channels_first else input_shape[:2]
    return rows if rows == cols and rows in IMAGENET_ROWS else 224


def _bn(x, channel_axis, name):
    return layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999,
                                     name=name)(x)


def _inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    """An inverted residual block: 1x1 expansion (not in block 0) -> 3x3 depthwise (stride)
    -> linear 1x1 projection, added to the input when shapes allow.

    Layers are named ``block_{id}_*`` (``expanded_conv_*`` for block 0, which has no
    expansion).

    >>> y = _inverted_res_block(layers.Input((16, 16, 16)), 6, 2, 1.0, 24, block_id=1)
    """
    channel_axis = 1 if kerasish.config.image_data_format() == "channels_first" else -1
    in_channels = inputs.shape[channel_axis]
    # The last 1x1 convolution's filters, a multiple of 8.
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"

    if block_id:
        x = layers.Conv2D(expansion * in_channels, kernel_size=1, padding="same",
                          use_bias=False, activation=None, name=f"{prefix}expand")(x)
        x = _bn(x, channel_axis, f"{prefix}expand_BN")
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    else:
        prefix = "expanded_conv_"

    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3),
                                 name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False,
                               padding="same" if stride == 1 else "valid",
                               name=f"{prefix}depthwise")(x)
    x = _bn(x, channel_axis, f"{prefix}depthwise_BN")
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)

    x = layers.Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False,
                      activation=None, name=f"{prefix}project")(x)
    x = _bn(x, channel_axis, f"{prefix}project_BN")

    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def _make_divisible(v, divisor, min_value=None):
    """``v`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``), never
    more than 10% below ``v`` (TensorFlow's slim MobileNet rule).

    >>> _make_divisible(32 * 0.35, 8)
    16
    """
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def preprocess_input(x, data_format=None):
    """Scales pixels from [0, 255] to [-1, 1], sample-wise (``mode="tf"``).

    >>> preprocess_input(np.array([[0.0, 255.0]]))
    array([[-1.,  1.]])
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions: per sample, the ``top`` (wnid, description, score) tuples.

    >>> decode_predictions(np.eye(1000)[[0]], top=1)
    [[('n01440764', 'tench', np.float64(1.0))]]
    """
    return imagenet_utils.decode_predictions(preds, top=top)
