"""MobileNetV3Small and MobileNetV3Large (Howard et al., "Searching for MobileNetV3", ICCV
2019), built block for block as ``keras/src/applications/mobilenet_v3.py`` builds them.

The models take pixels in [0, 255] and rescale them inside (``include_preprocessing``), so
:func:`preprocess_input` is the identity. Every layer with weights has a given name (``conv``,
``expanded_conv_1_expand``, ...); the activations and the hard sigmoid of the squeeze-and-excite
blocks are unnamed, as in Keras (``re_lu_3``, ``activation_2``, and the ``add`` / ``multiply``
operations of ``ReLU6(x + 3) * (1 / 6)``). The official files were written by tf.keras with
other layer names (``Conv/BatchNorm``, ...) and load by topology all the same.
"""
from __future__ import annotations

import warnings

import kerasish
from kerasish import layers

from . import imagenet_utils
from .weights import cached_file, is_imagenet, valid_weights_argument

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"

# The md5s Keras checks, per file: (top, notop). Kept for reference: a file in the cache is
# trusted as is (see weights.py).
WEIGHTS_HASHES = {
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb",
                             "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7",
                            "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c",
                                         "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7",
                             "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862",
                            "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37",
                                         "cde8136e733e811080d9fcd8a252f7e4"),
}

_DOC = """Instantiates the {name} architecture (``keras.applications.{name}``).

    Args:
        input_shape: optional ``(rows, cols, 3)``, each at least 32 or None; the default,
            with or without the top, is ``(None, None, 3)``: any size. Ignored when
            ``input_tensor`` is given.
        alpha: the width multiplier: every block's filters are scaled by it (rounded to a
            multiple of 8). ImageNet weights exist for 0.75 and 1.0 (1.0 only when
            minimalistic).
        minimalistic: the variant without squeeze-and-excite, hard-swish or 5x5 depthwise
            convolutions (ReLU and 3x3 everywhere).
        include_top: whether to end with the classifier (pooling, ``conv_2``, dropout,
            ``logits``, flatten and ``predictions``).
        weights: ``None`` (random initialization), ``"imagenet"`` (Keras's file in
            ``$KERAS_HOME/models``, never downloaded) or the path of a weights file.
        input_tensor: optional KerasTensor (output of ``layers.Input()``) to build on.
        classes: number of classes of the top; 1000 with ImageNet weights.
        pooling: without the top, ``None`` (4D output), ``"avg"`` (``avg_pool``) or ``"max"``
            (``max_pool``), 2D outputs.
        dropout_rate: the rate of the dropout before ``logits`` (none when 0).
        classifier_activation: activation of ``predictions``; ``None`` gives logits.
        include_preprocessing: whether the model starts with ``Rescaling(1 / 127.5,
            offset=-1)``, taking pixels in [0, 255].
        name: the model's name.

    The ImageNet files were trained at 224 x 224 and load for any size (with a warning for
    another one).

    >>> model = {name}(weights=None, include_top=False, pooling="avg",
    ...     input_shape=(32, 32, 3))
    >>> model.output_shape
    (None, {width})
    """


def MobileNetV3(stack_fn, last_point_ch, input_shape=None, alpha=1.0, model_type="large",
                minimalistic=False, include_top=True, weights="imagenet", input_tensor=None,
                classes=1000, pooling=None, dropout_rate=0.2, classifier_activation="softmax",
                include_preprocessing=True, name=None):
    """The MobileNetV3 skeleton: the stem, ``stack_fn``'s blocks, the last 1x1 convolution,
    then the top (``last_point_ch`` wide); the other arguments are those of
    :func:`MobileNetV3Small`. ``model_type`` ("small" or "large") names the weights file.

    >>> model = MobileNetV3(lambda x, *args: x, 1024, weights=None, include_top=False)
    >>> model.output_shape
    (None, None, None, 96)
    """
    if not valid_weights_argument(weights):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), `imagenet` (pre-training on ImageNet), or the path "
                         f"to the weights file to be loaded.  Received weights={weights}")
    if is_imagenet(weights) and include_top and classes != 1000:
        raise ValueError('If using `weights="imagenet"` with `include_top` as true, `classes` '
                         f"should be 1000.  Received classes={classes}")

    channels_first = kerasish.config.image_data_format() == "channels_first"
    input_shape = _input_shape(input_shape, input_tensor, channels_first)
    rows, cols = input_shape[1:3] if channels_first else input_shape[:2]
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError("Input size must be at least 32x32; Received "
                         f"`input_shape={input_shape}`")

    if is_imagenet(weights):
        if (not minimalistic and alpha not in (0.75, 1.0)) or (minimalistic and alpha != 1.0):
            raise ValueError("If imagenet weights are being loaded, alpha can be one of `0.75`, "
                             "`1.0` for non minimalistic or `1.0` for minimalistic only. "
                             f"Received: alpha={alpha}, minimalistic={minimalistic}")
        if rows != cols or rows != 224:
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not 224. "
                          "Weights for input shape (224, 224) will be loaded as the default.",
                          stacklevel=3)

    if input_tensor is None:
        img_input = layers.Input(shape=input_shape)
    elif not kerasish.backend.is_keras_tensor(input_tensor):
        img_input = layers.Input(tensor=input_tensor, shape=input_shape)
    else:
        img_input = input_tensor
    channel_axis = 1 if channels_first else -1

    if minimalistic:
        kernel, activation, se_ratio = 3, relu, None
    else:
        kernel, activation, se_ratio = 5, hard_swish, 0.25

    x = img_input
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False,
                      name="conv")(x)
    x = _bn(x, channel_axis, "conv_bn")
    x = activation(x)

    x = stack_fn(x, kernel, activation, se_ratio)

    last_conv_ch = _depth(x.shape[channel_axis] * 6)
    # NOTE: a wider net (alpha > 1) widens the top too; a narrower one keeps it.
    if alpha > 1.0:
        last_point_ch = _depth(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, kernel_size=1, padding="same", use_bias=False,
                      name="conv_1")(x)
    x = _bn(x, channel_axis, "conv_1_bn")
    x = activation(x)

    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_ch, kernel_size=1, padding="same", use_bias=True,
                          name="conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, kernel_size=1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)

    # The model starts at the true inputs of `input_tensor`, which may lie further up its graph.
    if input_tensor is not None:
        inputs = kerasish.utils.get_source_inputs(input_tensor)
    else:
        inputs = img_input
    model = kerasish.Functional(inputs, x, name=name)

    if is_imagenet(weights):
        # NOTE: str(float(alpha)): alpha=1 names the "1.0" file, as Keras means to.
        model_name = "{}{}_224_{}_float".format(
            model_type, "_minimalistic" if minimalistic else "", float(alpha))
        suffix = "" if include_top else "_no_top_v2"
        fname = f"weights_mobilenet_v3_{model_name}{suffix}.h5"
        model.load_weights(cached_file(fname, BASE_WEIGHT_PATH + fname))
    elif weights is not None:
        model.load_weights(weights)
    return model


def _input_shape(input_shape, input_tensor, channels_first):
    """Keras's input shape of MobileNetV3: ``input_shape`` (checked against ``input_tensor``
    when both are given), else ``input_tensor``'s, else ``(None, None, 3)``."""
    is_tensor = kerasish.backend.is_keras_tensor(input_tensor)
    if input_shape is not None and input_tensor is not None:
        if not is_tensor:
            raise ValueError(f"input_tensor specified: {input_tensor} is not a keras tensor")
        if channels_first and input_tensor.shape[1] != input_shape[1]:
            raise ValueError("When backend.image_data_format()=channels_first, input_shape[1] "
                             "must equal input_tensor.shape[1].  Received "
                             f"input_shape={input_shape}, "
                             f"input_tensor.shape={input_tensor.shape}")
        if not channels_first and input_tensor.shape[2] != input_shape[1]:
            raise ValueError("input_shape[1] must equal input_tensor.shape[2].  Received "
                             f"input_shape={input_shape}, "
                             f"input_tensor.shape={input_tensor.shape}")
    if input_shape is None and is_tensor:
        # NOTE: (cols, rows), as Keras writes it: the same for the square inputs it is meant for.
        if channels_first:
            rows, cols = input_tensor.shape[2:4]
            return (3, cols, rows)
        rows, cols = input_tensor.shape[1:3]
        return (cols, rows, 3)
    if input_shape is None:
        return (3, None, None) if channels_first else (None, None, 3)
    return tuple(input_shape)


def MobileNetV3Small(input_shape=None, alpha=1.0, minimalistic=False, include_top=True,
                     weights="imagenet", input_tensor=None, classes=1000, pooling=None,
                     dropout_rate=0.2, classifier_activation="softmax",
                     include_preprocessing=True, name="MobileNetV3Small"):
    def stack_fn(x, kernel, activation, se_ratio):
        def depth(d):
            return _depth(d * alpha)

        x = _inverted_res_block(x, 1, depth(16), 3, 2, se_ratio, relu, 0)
        x = _inverted_res_block(x, 72.0 / 16, depth(24), 3, 2, None, relu, 1)
        x = _inverted_res_block(x, 88.0 / 24, depth(24), 3, 1, None, relu, 2)
        x = _inverted_res_block(x, 4, depth(40), kernel, 2, se_ratio, activation, 3)
        x = _inverted_res_block(x, 6, depth(40), kernel, 1, se_ratio, activation, 4)
        x = _inverted_res_block(x, 6, depth(40), kernel, 1, se_ratio, activation, 5)
        x = _inverted_res_block(x, 3, depth(48), kernel, 1, se_ratio, activation, 6)
        x = _inverted_res_block(x, 3, depth(48), kernel, 1, se_ratio, activation, 7)
        x = _inverted_res_block(x, 6, depth(96), kernel, 2, se_ratio, activation, 8)
        x = _inverted_res_block(x, 6, depth(96), kernel, 1, se_ratio, activation, 9)
        return _inverted_res_block(x, 6, depth(96), kernel, 1, se_ratio, activation, 10)

    return MobileNetV3(stack_fn, 1024, input_shape, alpha, "small", minimalistic, include_top,
                       weights, input_tensor, classes, pooling, dropout_rate,
                       classifier_activation, include_preprocessing, name=name)


def MobileNetV3Large(input_shape=None, alpha=1.0, minimalistic=False, include_top=True,
                     weights="imagenet", input_tensor=None, classes=1000, pooling=None,
                     dropout_rate=0.2, classifier_activation="softmax",
                     include_preprocessing=True, name="MobileNetV3Large"):
    def stack_fn(x, kernel, activation, se_ratio):
        def depth(d):
            return _depth(d * alpha)

        x = _inverted_res_block(x, 1, depth(16), 3, 1, None, relu, 0)
        x = _inverted_res_block(x, 4, depth(24), 3, 2, None, relu, 1)
        x = _inverted_res_block(x, 3, depth(24), 3, 1, None, relu, 2)
        x = _inverted_res_block(x, 3, depth(40), kernel, 2, se_ratio, relu, 3)
        x = _inverted_res_block(x, 3, depth(40), kernel, 1, se_ratio, relu, 4)
        x = _inverted_res_block(x, 3, depth(40), kernel, 1, se_ratio, relu, 5)
        x = _inverted_res_block(x, 6, depth(80), 3, 2, None, activation, 6)
        x = _inverted_res_block(x, 2.5, depth(80), 3, 1, None, activation, 7)
        x = _inverted_res_block(x, 2.3, depth(80), 3, 1, None, activation, 8)
        x = _inverted_res_block(x, 2.3, depth(80), 3, 1, None, activation, 9)
        x = _inverted_res_block(x, 6, depth(112), 3, 1, se_ratio, activation, 10)
        x = _inverted_res_block(x, 6, depth(112), 3, 1, se_ratio, activation, 11)
        x = _inverted_res_block(x, 6, depth(160), kernel, 2, se_ratio, activation, 12)
        x = _inverted_res_block(x, 6, depth(160), kernel, 1, se_ratio, activation, 13)
        return _inverted_res_block(x, 6, depth(160), kernel, 1, se_ratio, activation, 14)

    return MobileNetV3(stack_fn, 1280, input_shape, alpha, "large", minimalistic, include_top,
                       weights, input_tensor, classes, pooling, dropout_rate,
                       classifier_activation, include_preprocessing, name=name)


MobileNetV3Small.__doc__ = _DOC.format(name="MobileNetV3Small", width=576)
MobileNetV3Large.__doc__ = _DOC.format(name="MobileNetV3Large", width=960)


def relu(x):
    """An unnamed ``ReLU()`` layer on ``x``."""
    return layers.ReLU()(x)


def hard_sigmoid(x):
    """``ReLU6(x + 3) / 6``: an unnamed ``ReLU(6.0)`` between two operations (``add``,
    ``multiply``), as Keras records them."""
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def hard_swish(x):
    """An unnamed ``Activation("hard_swish")`` layer on ``x``: ``x * ReLU6(x + 3) / 6``."""
    return layers.Activation("hard_swish")(x)


def _depth(v, divisor=8, min_value=None):
    """``v`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``), never
    more than 10% below ``v`` (TensorFlow's slim MobileNet rule).

    >>> _depth(16 * 0.75)
    16
    """
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _bn(x, channel_axis, name):
    return layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999,
                                     name=name)(x)


def _se_block(inputs, filters, se_ratio, prefix):
    """Squeeze-and-excite: the channels' means through a 1x1 bottleneck (ReLU) and a 1x1
    expansion (hard sigmoid) scale ``inputs`` channel by channel."""
    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(
        inputs)
    x = layers.Conv2D(_depth(filters * se_ratio), kernel_size=1, padding="same",
                      name=f"{prefix}squeeze_excite_conv")(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, kernel_size=1, padding="same",
                      name=f"{prefix}squeeze_excite_conv_1")(x)
    x = hard_sigmoid(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def _inverted_res_block(x, expansion, filters, kernel_size, stride, se_ratio, activation,
                        block_id):
    """An inverted residual block: 1x1 expansion (not in block 0) -> depthwise (stride) ->
    optional squeeze-and-excite -> linear 1x1 projection, added to the input when shapes
    allow. Layers are named ``expanded_conv_{id}_*`` (``expanded_conv_*`` for block 0).

    >>> y = _inverted_res_block(layers.Input((16, 16, 16)), 4, 24, 3, 2, None, relu, 1)
    """
    channel_axis = 1 if kerasish.config.image_data_format() == "channels_first" else -1
    shortcut = x
    prefix = "expanded_conv_"
    infilters = x.shape[channel_axis]
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(_depth(infilters * expansion), kernel_size=1, padding="same",
                          use_bias=False, name=f"{prefix}expand")(x)
        x = _bn(x, channel_axis, f"{prefix}expand_bn")
        x = activation(x)

    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                                 name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=stride,
                               padding="same" if stride == 1 else "valid", use_bias=False,
                               name=f"{prefix}depthwise")(x)
    x = _bn(x, channel_axis, f"{prefix}depthwise_bn")
    x = activation(x)

    if se_ratio:
        x = _se_block(x, _depth(infilters * expansion), se_ratio, prefix)

    x = layers.Conv2D(filters, kernel_size=1, padding="same", use_bias=False,
                      name=f"{prefix}project")(x)
    x = _bn(x, channel_axis, f"{prefix}project_bn")

    if stride == 1 and infilters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def preprocess_input(x, data_format=None):
    """The identity: MobileNetV3 rescales its input itself (``include_preprocessing``).

    Kept for API consistency with the other applications; ``data_format`` is ignored.

    >>> preprocess_input(np.array([[0, 255]], dtype="uint8"))
    array([[  0, 255]], dtype=uint8)
    """
    return x


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions: per sample, the ``top`` (wnid, description, score) tuples.

    >>> decode_predictions(np.eye(1000)[[0]], top=1)
    [[('n01440764', 'tench', np.float64(1.0))]]
    """
    return imagenet_utils.decode_predictions(preds, top=top)
