"""EfficientNetB0 to B7 (Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional
Neural Networks", ICML 2019), built block for block as ``keras/src/applications/efficientnet.py``
builds them.

The models take pixels in [0, 255] and preprocess them inside: ``Rescaling(1/255)``, then an
adapted ``Normalization`` whose ``mean``, ``variance`` and ``count`` (int64) are weights read
from the file, and for ``weights="imagenet"`` one more ``Rescaling`` (below), so
:func:`preprocess_input` returns its input unchanged.
"""
from __future__ import annotations

import copy
import math

import kerasish
from kerasish import layers
from kerasish.symbolic import is_keras_tensor

from . import imagenet_utils
from .weights import cached_file, is_imagenet, valid_weights_argument

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/keras-applications/"

# One dict per stage of EfficientNet-B0; the other sizes round the filters and repeats.
DEFAULT_BLOCKS_ARGS = [
    {"kernel_size": k, "repeats": r, "filters_in": fi, "filters_out": fo, "expand_ratio": e,
     "id_skip": True, "strides": s, "se_ratio": 0.25}
    for k, r, fi, fo, e, s in [(3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2),
                               (3, 3, 40, 80, 6, 2), (5, 3, 80, 112, 6, 1),
                               (5, 4, 112, 192, 6, 2), (3, 1, 192, 320, 6, 1)]
]

CONV_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                           "config": {"scale": 2.0, "mode": "fan_out",
                                      "distribution": "truncated_normal"}}
DENSE_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                            "config": {"scale": 1.0 / 3.0, "mode": "fan_out",
                                       "distribution": "uniform"}}

IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225]


def _bn_axis():
    return 3 if kerasish.config.image_data_format() == "channels_last" else 1


def image_input(input_tensor, input_shape):
    """The model's input: a new ``Input``, or ``input_tensor`` (wrapped if not symbolic)."""
    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if not is_keras_tensor(input_tensor):
        return layers.Input(tensor=input_tensor, shape=input_shape)
    return input_tensor


def source_inputs(input_tensor, img_input):
    """The model's inputs: the true inputs of ``input_tensor``, which may lie further up."""
    if input_tensor is not None:
        return kerasish.utils.get_source_inputs(input_tensor)
    return img_input


def top_or_pooling(x, include_top, pooling, dropout_rate, classes, classifier_activation,
                   weights, **dense_kwargs):
    """EfficientNet's (and V2's) end: ``avg_pool`` + ``top_dropout`` + ``predictions``, or the
    optional pooling of the features."""
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        return layers.Dense(classes, activation=classifier_activation,
                            kernel_initializer=DENSE_KERNEL_INITIALIZER, name="predictions",
                            **dense_kwargs)(x)
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def load_named_weights(model, weights, include_top, name, base_url):
    """Keras's loading in the EfficientNet and ConvNeXt families: the ImageNet file is named
    after the model (``<name>.h5`` / ``<name>_notop.h5``), looked up in Keras's cache."""
    if is_imagenet(weights):
        fname = name + (".h5" if include_top else "_notop.h5")
        model.load_weights(cached_file(fname, base_url + fname))
    elif weights is not None:
        model.load_weights(weights)


def check_arguments(weights, include_top, classes):
    """The checks of ``weights`` and ``classes`` with EfficientNet's texts."""
    if not valid_weights_argument(weights):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), `imagenet` (pre-training on ImageNet), or the path "
                         f"to the weights file to be loaded. Received: weights={weights}")
    if is_imagenet(weights) and include_top and classes != 1000:
        raise ValueError('If using `weights="imagenet"` with `include_top` as true, `classes` '
                         f"should be 1000. Received: classes={classes}")


def EfficientNet(width_coefficient, depth_coefficient, default_size, dropout_rate=0.2,
                 drop_connect_rate=0.2, depth_divisor=8, activation="swish",
                 blocks_args="default", name="efficientnet", include_top=True,
                 weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                 classes=1000, classifier_activation="softmax", weights_name=None):
    """The EfficientNet skeleton: in-model preprocessing, the stem, the MBConv stages scaled by
    ``width_coefficient`` (filters) and ``depth_coefficient`` (repeats), then the top.

    Args:
        width_coefficient, depth_coefficient: the scaling of filters and repeats.
        default_size: the input size of the top model (224 for B0 ... 600 for B7).
        dropout_rate: the rate of ``top_dropout``.
        drop_connect_rate: the largest rate of the blocks' residual dropout, reached linearly.
        depth_divisor: filters are rounded to a multiple of it.
        activation: the blocks' activation.
        blocks_args: ``"default"`` (B0's stages) or a list of dicts like DEFAULT_BLOCKS_ARGS.
        weights_name: ``"b0"`` ... ``"b7"`` (Keras's key of the weight hashes).
        The other arguments are those of :func:`EfficientNetB0`.

    >>> model = EfficientNet(1.0, 1.0, 224, weights=None, include_top=False)
    >>> model.output_shape
    (None, None, None, 1280)
    """
    if blocks_args == "default":
        blocks_args = DEFAULT_BLOCKS_ARGS
    check_arguments(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=kerasish.config.image_data_format(), require_flatten=include_top,
        weights=weights)
    img_input = image_input(input_tensor, input_shape)
    bn_axis = _bn_axis()

    def round_filters(filters, divisor=depth_divisor):
        filters *= width_coefficient
        new_filters = max(divisor, int(filters + divisor / 2) // divisor * divisor)
        if new_filters < 0.9 * filters:  # never round down by more than 10%
            new_filters += divisor
        return int(new_filters)

    def round_repeats(repeats):
        return int(math.ceil(depth_coefficient * repeats))

    # Stem, after the in-model preprocessing.
    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=bn_axis)(x)
    if is_imagenet(weights):
        # NOTE: the file's normalization holds the variance where the original divides by the
        # standard deviation's square (tensorflow#49930); one more division by sqrt(std)
        # restores the original scaling, for the ImageNet weights only.
        x = layers.Rescaling([1.0 / math.sqrt(std) for std in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(round_filters(32), 3, strides=2, padding="valid", use_bias=False,
                      kernel_initializer=CONV_KERNEL_INITIALIZER, name="stem_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)

    # The stages: block1a, block2a, block2b, ...; the residual dropout grows linearly.
    blocks_args = copy.deepcopy(blocks_args)
    b = 0
    blocks = float(sum(round_repeats(args["repeats"]) for args in blocks_args))
    for i, args in enumerate(blocks_args):
        if args["repeats"] <= 0:
            raise ValueError("The number of repeats in `EfficientNet` must be > 0. "
                             f"Received: repeats={args['repeats']}")
        args["filters_in"] = round_filters(args["filters_in"])
        args["filters_out"] = round_filters(args["filters_out"])
        for j in range(round_repeats(args.pop("repeats"))):
            if j > 0:  # only the first block of a stage strides and changes the width
                args["strides"] = 1
                args["filters_in"] = args["filters_out"]
            x = block(x, activation, drop_connect_rate * b / blocks,
                      name=f"block{i + 1}{chr(j + 97)}_", **args)
            b += 1

    # Top.
    x = layers.Conv2D(round_filters(1280), 1, padding="same", use_bias=False,
                      kernel_initializer=CONV_KERNEL_INITIALIZER, name="top_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name="top_bn")(x)
    x = layers.Activation(activation, name="top_activation")(x)
    x = top_or_pooling(x, include_top, pooling, dropout_rate, classes, classifier_activation,
                       weights)

    model = kerasish.Functional(source_inputs(input_tensor, img_input), x, name=name)
    load_named_weights(model, weights, include_top, name, BASE_WEIGHTS_PATH)
    return model


def squeeze_excite(x, filters_in, filters, se_ratio, activation, name):
    """Squeeze and excitation: global average -> 1x1 reduce (``activation``) -> 1x1 expand
    (sigmoid), multiplied into ``x`` channel by channel."""
    filters_se = max(1, int(filters_in * se_ratio))
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se_shape = (filters, 1, 1) if _bn_axis() == 1 else (1, 1, filters)
    se = layers.Reshape(se_shape, name=f"{name}se_reshape")(se)
    se = layers.Conv2D(filters_se, 1, padding="same", activation=activation,
                       kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}se_reduce")(se)
    se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid",
                       kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}se_expand")(se)
    return layers.multiply([x, se], name=f"{name}se_excite")


def block(inputs, activation="swish", drop_rate=0.0, name="", filters_in=32, filters_out=16,
          kernel_size=3, strides=1, expand_ratio=1, se_ratio=0.0, id_skip=True):
    """An inverted residual (MBConv) block: 1x1 expansion, depthwise convolution, squeeze and
    excitation, 1x1 projection, and a residual add (with drop-connect) when shapes allow.

    >>> y = block(layers.Input((8, 8, 16)), filters_in=16, filters_out=16, name="b_")
    """
    bn_axis = _bn_axis()
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = layers.Conv2D(filters, 1, padding="same", use_bias=False,
                          kernel_initializer=CONV_KERNEL_INITIALIZER,
                          name=f"{name}expand_conv")(inputs)
        x = layers.BatchNormalization(axis=bn_axis, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    else:
        x = inputs

    if strides == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                                 name=f"{name}dwconv_pad")(x)
        conv_pad = "valid"
    else:
        conv_pad = "same"
    x = layers.DepthwiseConv2D(kernel_size, strides=strides, padding=conv_pad, use_bias=False,
                               depthwise_initializer=CONV_KERNEL_INITIALIZER,
                               name=f"{name}dwconv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)

    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, filters_in, filters, se_ratio, activation, name)

    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False,
                      kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}project_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name=f"{name}project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            # NOTE: one draw per sample (noise_shape), dropping the whole residual branch.
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


_DOC = """Instantiates the {model} architecture (``keras.applications.{model}``).

    Args:
        include_top: whether to end with the classifier (``avg_pool``, ``top_dropout``,
            ``predictions``).
        weights: ``None`` (random initialization), ``"imagenet"`` (Keras's file
            ``<name>.h5`` / ``<name>_notop.h5`` in ``$KERAS_HOME/models``, never downloaded) or
            the path of a weights file.
        input_tensor: optional KerasTensor (output of ``layers.Input()``) to build on.
        input_shape: without the top, any ``(rows, cols, 3)`` with rows, cols >= 32 (None
            allowed); with the top it must be ``({size}, {size}, 3)``.
        pooling: without the top, ``None`` (4D output), ``"avg"`` or ``"max"``.
        classes: number of classes of the top; 1000 with ImageNet weights.
        classifier_activation: activation of ``predictions``; ``None`` gives logits.
        name: the model's name (also the ImageNet file's name, as in Keras).

    The model takes float pixels in [0, 255]; its first layers preprocess them.

    >>> model = {model}(weights=None, include_top=False, pooling="avg")
    >>> model.output_shape
    (None, {width})
    """

# name -> (width, depth, default size, dropout rate); Keras's table.
_SIZES = {"b0": (1.0, 1.0, 224, 0.2), "b1": (1.0, 1.1, 240, 0.2), "b2": (1.1, 1.2, 260, 0.3),
          "b3": (1.2, 1.4, 300, 0.3), "b4": (1.4, 1.8, 380, 0.4), "b5": (1.6, 2.2, 456, 0.4),
          "b6": (1.8, 2.6, 528, 0.5), "b7": (2.0, 3.1, 600, 0.5)}
_FEATURES = {"b0": 1280, "b1": 1280, "b2": 1408, "b3": 1536, "b4": 1792, "b5": 2048,
             "b6": 2304, "b7": 2560}


def _variant(key):
    width, depth, size, dropout = _SIZES[key]

    def model_fn(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                 pooling=None, classes=1000, classifier_activation="softmax",
                 name=f"efficientnet{key}"):
        return EfficientNet(width, depth, size, dropout, name=name, include_top=include_top,
                            weights=weights, input_tensor=input_tensor,
                            input_shape=input_shape, pooling=pooling, classes=classes,
                            classifier_activation=classifier_activation, weights_name=key)

    model_fn.__name__ = model_fn.__qualname__ = f"EfficientNet{key.upper()}"
    model_fn.__doc__ = _DOC.format(model=model_fn.__name__, size=size, width=_FEATURES[key])
    return model_fn


EfficientNetB0 = _variant("b0")
EfficientNetB1 = _variant("b1")
EfficientNetB2 = _variant("b2")
EfficientNetB3 = _variant("b3")
EfficientNetB4 = _variant("b4")
EfficientNetB5 = _variant("b5")
EfficientNetB6 = _variant("b6")
EfficientNetB7 = _variant("b7")


def preprocess_input(x, data_format=None):
    """A pass-through kept for Keras's API: EfficientNet preprocesses inside the model, so the
    input (NumPy or CuPy array, tensor) comes back as it is.

    >>> preprocess_input(np.array([0.0, 255.0]))
    array([  0., 255.])
    """
    return x


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions: per sample, the ``top`` (wnid, description, score) tuples.

    >>> decode_predictions(np.eye(1000)[[0]], top=1)
    [[('n01440764', 'tench', np.float64(1.0))]]
    """
    return imagenet_utils.decode_predictions(preds, top=top)
