"""MobileNet (Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile
Vision Applications", 2017), built block for block as ``keras/src/applications/mobilenet.py``
builds it.

Every layer with weights has a given name (``conv1``, ``conv_dw_1``, ``conv_pw_1``, ...), so
Keras's official weight files load by topology. The file depends on ``alpha`` and the input
size: ``mobilenet_{1_0|7_5|5_0|2_5}_{rows}_tf[_no_top].h5``.
"""
from __future__ import annotations

import warnings

import kerasish
from kerasish import layers

from . import imagenet_utils
from .weights import cached_file, is_imagenet, valid_weights_argument

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"

# The widths and input sizes Keras publishes weights for; alpha's text in the file name.
IMAGENET_ALPHAS = {1.0: "1_0", 0.75: "7_5", 0.50: "5_0", 0.25: "2_5"}
IMAGENET_ROWS = (128, 160, 192, 224)


def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3, include_top=True,
              weights="imagenet", input_tensor=None, pooling=None, classes=1000,
              classifier_activation="softmax", name=None):
    """Instantiates the MobileNet architecture (``keras.applications.MobileNet``).

    Args:
        input_shape: optional ``(rows, cols, 3)``, each at least 32; with the top and ImageNet
            weights it must be ``(224, 224, 3)`` (or a square 128/160/192 size). Ignored when
            ``input_tensor`` is given.
        alpha: the width multiplier: every layer's filters are scaled by it. ImageNet weights
            exist for 0.25, 0.5, 0.75 and 1.0.
        depth_multiplier: the depthwise convolutions' channel multiplier (the "resolution
            multiplier" of the paper); 1 with ImageNet weights.
        dropout: the rate of the dropout before the classifier.
        include_top: whether to end with the classifier (pooling, ``dropout``, the 1x1
            convolution ``conv_preds``, ``reshape_2`` and ``predictions``).
        weights: ``None`` (random initialization), ``"imagenet"`` (Keras's file in
            ``$KERAS_HOME/models``, never downloaded) or the path of a weights file.
        input_tensor: optional KerasTensor (output of ``layers.Input()``) to build on.
        pooling: without the top, ``None`` (4D output), ``"avg"`` or ``"max"`` (2D output).
        classes: number of classes of the top; 1000 with ImageNet weights.
        classifier_activation: activation of ``predictions``; ``None`` gives logits.
        name: the model's name; ``None`` gives ``mobilenet_{alpha:.2f}_{rows}``.

    ImageNet weights exist for square inputs of 128, 160, 192 and 224 pixels; any other size
    loads the 224 file, with a warning. Inputs are expected scaled to [-1, 1]: see
    :func:`preprocess_input`.

    >>> model = MobileNet(weights=None, include_top=False, pooling="avg",
    ...                   input_shape=(32, 32, 3))
    >>> model.output_shape
    (None, 1024)
    """
    if not valid_weights_argument(weights):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), 'imagenet' (pre-training on ImageNet), or the path "
                         f"to the weights file to be loaded. Received weights={weights}")
    if is_imagenet(weights) and include_top and classes != 1000:
        raise ValueError("If using `weights='imagenet'` with `include_top=True`, `classes` "
                         f"should be 1000.  Received classes={classes}")

    channels_first = kerasish.config.image_data_format() == "channels_first"
    # The default size is a given square size with published weights, else 224.
    default_size = 224
    if input_shape is not None:
        rows, cols = input_shape[1:3] if channels_first else input_shape[:2]
        if rows == cols and rows in IMAGENET_ROWS:
            default_size = rows
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=kerasish.config.image_data_format(), require_flatten=include_top,
        weights=weights)
    rows, cols = input_shape[1:3] if channels_first else input_shape[:2]

    if is_imagenet(weights):
        if depth_multiplier != 1:
            raise ValueError("If imagenet weights are being loaded, depth multiplier must be "
                             f"1.  Received depth_multiplier={depth_multiplier}")
        if alpha not in IMAGENET_ALPHAS:
            # NOTE: no space after "one of", as in Keras's text.
            raise ValueError("If imagenet weights are being loaded, alpha can be one of"
                             "`0.25`, `0.50`, `0.75` or `1.0` only.  "
                             f"Received alpha={alpha}")
        if rows != cols or rows not in IMAGENET_ROWS:
            rows = 224
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in "
                          "[128, 160, 192, 224]. Weights for input shape (224, 224) will be "
                          "loaded as the default.", stacklevel=2)

    if input_tensor is None:
        img_input = layers.Input(shape=input_shape)
    elif not kerasish.backend.is_keras_tensor(input_tensor):
        img_input = layers.Input(tensor=input_tensor, shape=input_shape)
    else:
        img_input = input_tensor

    x = _conv_block(img_input, 32, alpha, strides=(2, 2))
    # (pointwise filters, strides) of blocks 1..13.
    for block_id, (filters, strides) in enumerate(_BLOCKS, start=1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier, strides=strides,
                                  block_id=block_id)

    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
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
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    model = kerasish.Functional(inputs, x, name=name)

    if is_imagenet(weights):
        # NOTE: an alpha not in the table cannot reach here (checked above).
        suffix = "" if include_top else "_no_top"
        fname = f"mobilenet_{IMAGENET_ALPHAS[alpha]}_{rows}_tf{suffix}.h5"
        model.load_weights(cached_file(fname, BASE_WEIGHT_PATH + fname))
    elif weights is not None:
        model.load_weights(weights)
    return model


_BLOCKS = ((64, (1, 1)),
           (128, (2, 2)), (128, (1, 1)),
           (256, (2, 2)), (256, (1, 1)),
           (512, (2, 2)), (512, (1, 1)), (512, (1, 1)), (512, (1, 1)), (512, (1, 1)),
           (512, (1, 1)),
           (1024, (2, 2)), (1024, (1, 1)))


def _conv_block(inputs, filters, alpha, kernel=(3, 3), strides=(1, 1)):
    """The first convolution: Conv2D (no bias, ``filters * alpha`` filters) -> batch
    normalization -> ReLU6, named ``conv1``, ``conv1_bn``, ``conv1_relu``.

    >>> y = _conv_block(layers.Input((32, 32, 3)), 32, 1.0, strides=(2, 2))
    """
    channel_axis = 1 if kerasish.config.image_data_format() == "channels_first" else -1
    filters = int(filters * alpha)
    x = layers.Conv2D(filters, kernel, padding="same", use_bias=False, strides=strides,
                      name="conv1")(inputs)
    x = layers.BatchNormalization(axis=channel_axis, name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(inputs, pointwise_conv_filters, alpha, depth_multiplier=1,
                          strides=(1, 1), block_id=1):
    """A depthwise separable block: 3x3 depthwise convolution -> BN -> ReLU6, then 1x1
    pointwise convolution (``pointwise_conv_filters * alpha``) -> BN -> ReLU6.

    A strided block pads one row and column at the bottom and right first (``conv_pad_{id}``)
    and convolves "valid", as TensorFlow's "same" would.

    >>> y = _depthwise_conv_block(layers.Input((16, 16, 32)), 64, 1.0, block_id=1)
    """
    channel_axis = 1 if kerasish.config.image_data_format() == "channels_first" else -1
    pointwise_conv_filters = int(pointwise_conv_filters * alpha)

    if strides == (1, 1):
        x = inputs
    else:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(inputs)
    x = layers.DepthwiseConv2D((3, 3), padding="same" if strides == (1, 1) else "valid",
                               depth_multiplier=depth_multiplier, strides=strides,
                               use_bias=False, name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(axis=channel_axis, name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)

    x = layers.Conv2D(pointwise_conv_filters, (1, 1), padding="same", use_bias=False,
                      strides=(1, 1), name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=channel_axis, name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


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
