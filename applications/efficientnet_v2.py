"""EfficientNetV2 B0-B3, S, M and L (Tan & Le, "EfficientNetV2: Smaller Models and Faster
Training", ICML 2021), built block for block as ``keras/src/applications/efficientnet_v2.py``
builds them: fused MBConv stages (one regular convolution in place of expansion + depthwise)
followed by MBConv stages with squeeze and excitation.

The models take pixels in [0, 255] and preprocess them inside (``include_preprocessing``):
B0-B3 with ``Rescaling(1/255)`` and a ``Normalization`` by ImageNet's mean and variance
(constants, not weights), S/M/L with ``Rescaling(1/128, offset=-1)``.
"""
from __future__ import annotations

import copy
import math

import kerasish
from kerasish import initializers, layers

from . import imagenet_utils
from .efficientnet import (CONV_KERNEL_INITIALIZER, check_arguments, image_input,
                           load_named_weights, source_inputs, squeeze_excite, top_or_pooling)

BASE_WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                     "efficientnet_v2/")


def _stages(*rows):
    """Block arguments from rows (kernel, repeats, in, out, expand, se, strides, conv_type);
    conv_type 1 is a fused MBConv block, 0 a regular one."""
    keys = ("kernel_size", "num_repeat", "input_filters", "output_filters", "expand_ratio",
            "se_ratio", "strides", "conv_type")
    return [dict(zip(keys, row)) for row in rows]


_B_STAGES = _stages((3, 1, 32, 16, 1, 0, 1, 1), (3, 2, 16, 32, 4, 0, 2, 1),
                    (3, 2, 32, 48, 4, 0, 2, 1), (3, 3, 48, 96, 4, 0.25, 2, 0),
                    (3, 5, 96, 112, 6, 0.25, 1, 0), (3, 8, 112, 192, 6, 0.25, 2, 0))
DEFAULT_BLOCKS_ARGS = {
    "efficientnetv2-s": _stages(
        (3, 2, 24, 24, 1, 0.0, 1, 1), (3, 4, 24, 48, 4, 0.0, 2, 1), (3, 4, 48, 64, 4, 0, 2, 1),
        (3, 6, 64, 128, 4, 0.25, 2, 0), (3, 9, 128, 160, 6, 0.25, 1, 0),
        (3, 15, 160, 256, 6, 0.25, 2, 0)),
    "efficientnetv2-m": _stages(
        (3, 3, 24, 24, 1, 0, 1, 1), (3, 5, 24, 48, 4, 0, 2, 1), (3, 5, 48, 80, 4, 0, 2, 1),
        (3, 7, 80, 160, 4, 0.25, 2, 0), (3, 14, 160, 176, 6, 0.25, 1, 0),
        (3, 18, 176, 304, 6, 0.25, 2, 0), (3, 5, 304, 512, 6, 0.25, 1, 0)),
    "efficientnetv2-l": _stages(
        (3, 4, 32, 32, 1, 0, 1, 1), (3, 7, 32, 64, 4, 0, 2, 1), (3, 7, 64, 96, 4, 0, 2, 1),
        (3, 10, 96, 192, 4, 0.25, 2, 0), (3, 19, 192, 224, 6, 0.25, 1, 0),
        (3, 25, 224, 384, 6, 0.25, 2, 0), (3, 7, 384, 640, 6, 0.25, 1, 0)),
    **{f"efficientnetv2-b{i}": _B_STAGES for i in range(4)},
}


def round_filters(filters, width_coefficient, min_depth, depth_divisor):
    """Filters scaled by ``width_coefficient``, rounded to a multiple of ``depth_divisor``."""
    filters *= width_coefficient
    minimum_depth = min_depth or depth_divisor
    return int(max(minimum_depth,
                   int(filters + depth_divisor / 2) // depth_divisor * depth_divisor))


def round_repeats(repeats, depth_coefficient):
    """Repeats scaled by ``depth_coefficient``, rounded up."""
    return int(math.ceil(depth_coefficient * repeats))


def _bn(x, bn_momentum, name):
    axis = 3 if kerasish.config.image_data_format() == "channels_last" else 1
    return layers.BatchNormalization(axis=axis, momentum=bn_momentum, name=name)(x)


def _conv(filters, kernel_size, strides, name):
    return layers.Conv2D(filters, kernel_size, strides=strides,
                         kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same",
                         use_bias=False, name=name)


def _residual(x, inputs, strides, input_filters, output_filters, survival_probability, name):
    if strides == 1 and input_filters == output_filters:
        if survival_probability:
            # NOTE: Keras passes the schedule's value as the dropout *rate* (0 for the first
            # block, which then has no Dropout layer); kept, as the files expect those layers.
            x = layers.Dropout(survival_probability, noise_shape=(None, 1, 1, 1),
                               name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def MBConvBlock(input_filters, output_filters, expand_ratio=1, kernel_size=3, strides=1,
                se_ratio=0.0, bn_momentum=0.9, activation="swish", survival_probability=0.8,
                name=None):
    """MBConv (mobile inverted residual bottleneck): 1x1 expansion, depthwise convolution,
    squeeze and excitation, 1x1 projection, residual. Returns a function of the input.

    >>> y = MBConvBlock(16, 16, expand_ratio=4, name="b_")(layers.Input((8, 8, 16)))
    """
    if name is None:
        name = kerasish.backend.get_uid("block0")

    def apply(inputs):
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = _conv(filters, 1, 1, f"{name}expand_conv")(x)
            x = _bn(x, bn_momentum, f"{name}expand_bn")
            x = layers.Activation(activation, name=f"{name}expand_activation")(x)
        x = layers.DepthwiseConv2D(kernel_size, strides=strides,
                                   depthwise_initializer=CONV_KERNEL_INITIALIZER,
                                   padding="same", use_bias=False, name=f"{name}dwconv2")(x)
        x = _bn(x, bn_momentum, f"{name}bn")
        x = layers.Activation(activation, name=f"{name}activation")(x)
        if 0 < se_ratio <= 1:
            x = squeeze_excite(x, input_filters, filters, se_ratio, activation, name)
        x = _conv(output_filters, 1, 1, f"{name}project_conv")(x)
        x = _bn(x, bn_momentum, f"{name}project_bn")
        return _residual(x, inputs, strides, input_filters, output_filters,
                         survival_probability, name)

    return apply


def FusedMBConvBlock(input_filters, output_filters, expand_ratio=1, kernel_size=3, strides=1,
                     se_ratio=0.0, bn_momentum=0.9, activation="swish",
                     survival_probability=0.8, name=None):
    """Fused MBConv: one ``kernel_size`` convolution does the expansion and the spatial mixing,
    then squeeze and excitation, a 1x1 projection (or the only convolution when
    ``expand_ratio`` is 1) and the residual. Returns a function of the input.

    >>> y = FusedMBConvBlock(16, 16, name="b_")(layers.Input((8, 8, 16)))
    """
    if name is None:
        name = kerasish.backend.get_uid("block0")

    def apply(inputs):
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = _conv(filters, kernel_size, strides, f"{name}expand_conv")(x)
            x = _bn(x, bn_momentum, f"{name}expand_bn")
            x = layers.Activation(activation, name=f"{name}expand_activation")(x)
        if 0 < se_ratio <= 1:
            x = squeeze_excite(x, input_filters, filters, se_ratio, activation, name)
        fused = expand_ratio == 1
        x = _conv(output_filters, kernel_size if fused else 1, strides if fused else 1,
                  f"{name}project_conv")(x)
        x = _bn(x, bn_momentum, f"{name}project_bn")
        if fused:
            x = layers.Activation(activation, name=f"{name}project_activation")(x)
        return _residual(x, inputs, strides, input_filters, output_filters,
                         survival_probability, name)

    return apply


def EfficientNetV2(width_coefficient, depth_coefficient, default_size, dropout_rate=0.2,
                   drop_connect_rate=0.2, depth_divisor=8, min_depth=8, bn_momentum=0.9,
                   activation="swish", blocks_args="default", name="efficientnetv2",
                   include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                   pooling=None, classes=1000, classifier_activation="softmax",
                   include_preprocessing=True, weights_name=None):
    """The EfficientNetV2 skeleton: preprocessing, stem, the stages of ``blocks_args`` scaled
    by ``width_coefficient`` and ``depth_coefficient``, then the top.

    Args:
        blocks_args: ``"default"`` (the variant's stages, from ``weights_name``: ``"b0"`` ...
            ``"b3"``, ``"-s"``, ``"-m"``, ``"-l"``; else from ``name``) or a list of dicts as
            in DEFAULT_BLOCKS_ARGS.
        The other arguments are those of :func:`EfficientNetV2B0` and of
        :func:`applications.efficientnet.EfficientNet`.

    >>> model = EfficientNetV2(1.0, 1.0, 224, weights=None, include_top=False,
    ...                        weights_name="b0")
    >>> model.output_shape
    (None, None, None, 1280)
    """
    # NOTE: Keras finds the variant from `name` alone, so that another name fails with a
    # KeyError; the variant functions name their variant here, so any model name works.
    variant = name if weights_name is None else "efficientnetv2" + (
        weights_name if weights_name.startswith("-") else f"-{weights_name}")
    if blocks_args == "default":
        blocks_args = DEFAULT_BLOCKS_ARGS[variant]
    check_arguments(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=kerasish.config.image_data_format(), require_flatten=include_top,
        weights=weights)
    img_input = image_input(input_tensor, input_shape)
    bn_axis = 3 if kerasish.config.image_data_format() == "channels_last" else 1

    x = img_input
    if include_preprocessing:
        # The B variants keep V1's preprocessing when the input has 3 channels.
        if variant.split("-")[-1].startswith("b") and input_shape[bn_axis - 1] == 3:
            x = layers.Rescaling(scale=1.0 / 255)(x)
            x = layers.Normalization(mean=[0.485, 0.456, 0.406],
                                     variance=[0.229**2, 0.224**2, 0.225**2], axis=bn_axis)(x)
        else:
            x = layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)

    def filters_of(filters):
        return round_filters(filters, width_coefficient, min_depth, depth_divisor)

    x = _conv(filters_of(blocks_args[0]["input_filters"]), 3, 2, "stem_conv")(x)
    x = _bn(x, bn_momentum, "stem_bn")
    x = layers.Activation(activation, name="stem_activation")(x)

    blocks_args = copy.deepcopy(blocks_args)
    b = 0
    blocks = float(sum(args["num_repeat"] for args in blocks_args))
    for i, args in enumerate(blocks_args):
        if args["num_repeat"] <= 0:
            raise ValueError("The number of repeats in `EfficientNetV2` must be > 0. "
                             f"Received: num_repeat={args['num_repeat']}")
        args["input_filters"] = filters_of(args["input_filters"])
        args["output_filters"] = filters_of(args["output_filters"])
        block = {0: MBConvBlock, 1: FusedMBConvBlock}[args.pop("conv_type")]
        for j in range(round_repeats(args.pop("num_repeat"), depth_coefficient)):
            if j > 0:  # only the first block of a stage strides and changes the width
                args["strides"] = 1
                args["input_filters"] = args["output_filters"]
            x = block(activation=activation, bn_momentum=bn_momentum,
                      survival_probability=drop_connect_rate * b / blocks,
                      name=f"block{i + 1}{chr(j + 97)}_", **args)(x)
            b += 1

    x = layers.Conv2D(filters_of(1280), 1, strides=1, kernel_initializer=CONV_KERNEL_INITIALIZER,
                      padding="same", use_bias=False, name="top_conv")(x)
    x = _bn(x, bn_momentum, "top_bn")
    x = layers.Activation(activation, name="top_activation")(x)
    x = top_or_pooling(x, include_top, pooling, dropout_rate, classes, classifier_activation,
                       weights, bias_initializer=initializers.Constant(0.0))

    model = kerasish.Functional(source_inputs(input_tensor, img_input), x, name=name)
    load_named_weights(model, weights, include_top, name, BASE_WEIGHTS_PATH)
    return model


_DOC = """Instantiates the {model} architecture (``keras.applications.{model}``).

    Args:
        include_top: whether to end with the classifier (``avg_pool``, ``top_dropout``,
            ``predictions``).
        weights: ``None`` (random initialization), ``"imagenet"`` (Keras's file
            ``<name>.h5`` / ``<name>_notop.h5`` in ``$KERAS_HOME/models``, never downloaded) or
            the path of a weights file.
        input_tensor: optional KerasTensor (output of ``layers.Input()``) to build on.
        input_shape: without the top, any ``(rows, cols, channels)`` with rows, cols >= 32
            (None allowed); with the top it must be ``({size}, {size}, 3)``.
        pooling: without the top, ``None`` (4D output), ``"avg"`` or ``"max"``.
        classes: number of classes of the top; 1000 with ImageNet weights.
        classifier_activation: activation of ``predictions``; ``None`` gives logits.
        include_preprocessing: whether the model starts with its preprocessing layers (then
            it takes pixels in [0, 255]; without them, inputs in [-1, 1]).
        name: the model's name (also the ImageNet file's name, as in Keras).

    >>> model = {model}(weights=None, include_top=False, pooling="avg")
    >>> model.output_shape
    (None, {width})
    """

# variant -> (width, depth, default size); Keras's table (dropout 0.2 for all).
_SIZES = {"b0": (1.0, 1.0, 224), "b1": (1.0, 1.1, 240), "b2": (1.1, 1.2, 260),
          "b3": (1.2, 1.4, 300), "-s": (1.0, 1.0, 384), "-m": (1.0, 1.0, 480),
          "-l": (1.0, 1.0, 480)}
_FEATURES = {"b0": 1280, "b1": 1280, "b2": 1408, "b3": 1536, "-s": 1280, "-m": 1280, "-l": 1280}


def _variant(key):
    width, depth, size = _SIZES[key]
    default_name = "efficientnetv2" + (key if key.startswith("-") else f"-{key}")

    def model_fn(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                 pooling=None, classes=1000, classifier_activation="softmax",
                 include_preprocessing=True, name=default_name):
        return EfficientNetV2(width_coefficient=width, depth_coefficient=depth,
                              default_size=size, name=name, include_top=include_top,
                              weights=weights, input_tensor=input_tensor,
                              input_shape=input_shape, pooling=pooling, classes=classes,
                              classifier_activation=classifier_activation,
                              include_preprocessing=include_preprocessing, weights_name=key)

    model_fn.__name__ = model_fn.__qualname__ = f"EfficientNetV2{key.strip('-').upper()}"
    model_fn.__doc__ = _DOC.format(model=model_fn.__name__, size=size, width=_FEATURES[key])
    return model_fn


EfficientNetV2B0 = _variant("b0")
EfficientNetV2B1 = _variant("b1")
EfficientNetV2B2 = _variant("b2")
EfficientNetV2B3 = _variant("b3")
EfficientNetV2S = _variant("-s")
EfficientNetV2M = _variant("-m")
EfficientNetV2L = _variant("-l")


def preprocess_input(x, data_format=None):
    """A pass-through kept for Keras's API: EfficientNetV2 preprocesses inside the model, so
    the input (NumPy or CuPy array, tensor) comes back as it is.

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
