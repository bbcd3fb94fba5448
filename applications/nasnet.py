"""NASNetMobile and NASNetLarge (Zoph et al., "Learning Transferable Architectures for Scalable
Image Recognition", CVPR 2018), built cell for cell as ``keras/src/applications/nasnet.py``
builds them.

The cells' convolutions, batch normalizations, poolings and sums have given names
(``normal_conv_1_0``, ``separable_conv_1_normal_left1_0``, ...); their ReLUs, the paddings and
croppings of the reduction shortcut and a few sums and concatenations take the session's
automatic names. Keras's official weight files load by topology.

Whether a cell's previous input ``p`` needs a strided reduction is decided from static shapes,
as in Keras 3. NASNetMobile without the top defaults to a 224 x 224 input, so its graph is the
one the official files were written from; NASNetLarge without the top and without an
``input_shape`` has unknown sizes, and then (as in Keras 3.15) skips the reductions of ``p``:
1012 layers instead of 1040, a graph the official notop file does not load into.
"""
from __future__ import annotations

import kerasish
from kerasish import layers
from kerasish.symbolic import is_keras_tensor

from . import imagenet_utils
from .weights import is_imagenet, load_model_weights, valid_weights_argument

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/"
NASNET_MOBILE_WEIGHT_PATH = f"{BASE_WEIGHTS_PATH}NASNet-mobile.h5"
NASNET_MOBILE_WEIGHT_PATH_NO_TOP = f"{BASE_WEIGHTS_PATH}NASNet-mobile-no-top.h5"
NASNET_LARGE_WEIGHT_PATH = f"{BASE_WEIGHTS_PATH}NASNet-large.h5"
NASNET_LARGE_WEIGHT_PATH_NO_TOP = f"{BASE_WEIGHTS_PATH}NASNet-large-no-top.h5"

# The batch normalizations of the cells: TensorFlow-slim's NASNet settings.
_BN = {"momentum": 0.9997, "epsilon": 1e-3}


def NASNet(input_shape=None, penultimate_filters=4032, num_blocks=6, stem_block_filters=96,
           skip_reduction=True, filter_multiplier=2, include_top=True, weights="imagenet",
           input_tensor=None, pooling=None, classes=1000, default_size=None,
           classifier_activation="softmax", name="NASNet"):
    """A NASNet-A model (``keras.applications.nasnet.NASNet``'s arguments).

    Args:
        input_shape: as for :func:`NASNetLarge`.
        penultimate_filters: the number of filters of the last cells (``24 * filters``); a
            multiple of ``24 * filter_multiplier ** 2``.
        num_blocks: the number of normal cells between two reductions.
        stem_block_filters: the filters of the stem's 3x3 convolution.
        skip_reduction: whether the reduction cells' inputs skip to the next normal cell
            (NASNetLarge) instead of their outputs (NASNetMobile).
        filter_multiplier: the growth of the filters at each reduction.
        default_size: the top's input size (224 for NASNetMobile, 331 for NASNetLarge; None
            gives 331); it also chooses the ImageNet weights file.
        The other arguments are those of :func:`NASNetLarge`.

    >>> model = NASNet((32, 32, 3), penultimate_filters=96, num_blocks=1, weights=None,
    ...                include_top=False)
    >>> model.output_shape
    (None, 1, 1, 96)
    """
    if kerasish.config.image_data_format() == "channels_first":
        raise ValueError("NASNet does not support the `channels_first` image data format. "
                         "Switch to `channels_last` by editing your local config file at "
                         "~/.keras/keras.json")
    if not valid_weights_argument(weights):
        # NOTE: Keras's text, which ends without the value; ours adds it.
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), `imagenet` (pre-training on ImageNet), or the path "
                         f"to the weights file to be loaded. Received: weights={weights}")
    if is_imagenet(weights) and include_top and classes != 1000:
        raise ValueError('If using `weights` as `"imagenet"` with `include_top` as true, '
                         f"`classes` should be 1000. Received: classes={classes}")
    if isinstance(input_shape, tuple) and None in input_shape and is_imagenet(weights):
        raise ValueError("When specifying the input shape of a NASNet and loading `ImageNet` "
                         "weights, the input_shape argument must be static (no None entries). "
                         f"Got: `input_shape={input_shape}`.")
    if default_size is None:
        default_size = 331
    weights_name = {224: "nasnet_mobile", 331: "nasnet_large"}.get(default_size)
    if is_imagenet(weights) and weights_name is None:
        # NOTE: Keras finds this out after building the model; the same error, sooner.
        raise ValueError("ImageNet weights can only be loaded with NASNetLarge or NASNetMobile. "
                         f"Received: default_size={default_size}")
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=kerasish.config.image_data_format(), require_flatten=include_top,
        weights=weights)
    if input_tensor is None:
        img_input = layers.Input(shape=input_shape)
    elif not is_keras_tensor(input_tensor):
        img_input = layers.Input(tensor=input_tensor, shape=input_shape)
    else:
        img_input = input_tensor

    if penultimate_filters % (24 * (filter_multiplier ** 2)) != 0:
        raise ValueError("For NASNet-A models, the `penultimate_filters` must be a multiple of "
                         "24 * (`filter_multiplier` ** 2). "
                         f"Current value: {penultimate_filters}")
    filters = penultimate_filters // 24

    x = layers.Conv2D(stem_block_filters, (3, 3), strides=(2, 2), padding="valid",
                      use_bias=False, name="stem_conv1", kernel_initializer="he_normal")(img_input)
    x = layers.BatchNormalization(axis=-1, name="stem_bn1", **_BN)(x)

    p = None
    x, p = _reduction_a_cell(x, p, filters // (filter_multiplier ** 2), block_id="stem_1")
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")

    for i in range(num_blocks):
        x, p = _normal_a_cell(x, p, filters, block_id=f"{i}")
    x, p0 = _reduction_a_cell(x, p, filters * filter_multiplier,
                              block_id=f"reduce_{num_blocks}")
    p = p0 if not skip_reduction else p

    for i in range(num_blocks):
        x, p = _normal_a_cell(x, p, filters * filter_multiplier,
                              block_id=f"{num_blocks + i + 1}")
    x, p0 = _reduction_a_cell(x, p, filters * filter_multiplier ** 2,
                              block_id=f"reduce_{2 * num_blocks}")
    p = p0 if not skip_reduction else p

    for i in range(num_blocks):
        x, p = _normal_a_cell(x, p, filters * filter_multiplier ** 2,
                              block_id=f"{2 * num_blocks + i + 1}")

    x = layers.Activation("relu")(x)

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
    model = kerasish.Functional(inputs, x, name=name)
    load_model_weights(model, weights_name, weights, include_top)
    return model


def NASNetMobile(input_shape=None, include_top=True, weights="imagenet", input_tensor=None,
                 pooling=None, classes=1000, classifier_activation="softmax",
                 name="nasnet_mobile"):
    """Instantiates a Mobile NASNet model in ImageNet mode (``keras.applications.NASNetMobile``).

    Args:
        input_shape: without the top, any ``(rows, cols, 3)`` with rows, cols >= 32 (the
            default is ``(224, 224, 3)``; None sizes are refused with ImageNet weights); with
            the top it must be ``(224, 224, 3)``.
        include_top: whether to end with the 1000-way classifier (global average pooling +
            ``predictions``).
        weights: ``None`` (random initialization), ``"imagenet"`` (Keras's file in
            ``$KERAS_HOME/models``, never downloaded) or the path of a weights file.
        input_tensor: optional KerasTensor (output of ``layers.Input()``) to build on.
        pooling: without the top, ``None`` (4D output), ``"avg"`` or ``"max"`` (2D output).
        classes: number of classes of the top; 1000 with ImageNet weights.
        classifier_activation: activation of ``predictions``; ``None`` gives logits.
        name: the model's name.

    Inputs are expected scaled to [-1, 1]: see :func:`preprocess_input`. Only the
    ``channels_last`` data format is supported.

    >>> model = NASNetMobile(weights=None, include_top=False, pooling="avg")
    >>> model.output_shape
    (None, 1056)
    """
    if not include_top and input_shape is None:
        input_shape = (224, 224, 3)
    return NASNet(input_shape, penultimate_filters=1056, num_blocks=4, stem_block_filters=32,
                  skip_reduction=False, filter_multiplier=2, include_top=include_top,
                  weights=weights, input_tensor=input_tensor, pooling=pooling, classes=classes,
                  default_size=224, classifier_activation=classifier_activation, name=name)


def NASNetLarge(input_shape=None, include_top=True, weights="imagenet", input_tensor=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="nasnet_large"):
    """Instantiates a NASNet model in ImageNet mode (``keras.applications.NASNetLarge``).

    Args:
        input_shape: without the top, any ``(rows, cols, 3)`` with rows, cols >= 32 (None sizes
            are refused with ImageNet weights); with the top it must be ``(331, 331, 3)``.
        The other arguments are those of :func:`NASNetMobile`.

    Inputs are expected scaled to [-1, 1]: see :func:`preprocess_input`.

    >>> model = NASNetLarge(weights=None, include_top=False, pooling="avg",
    ...                     input_shape=(32, 32, 3))
    >>> model.output_shape
    (None, 4032)
    """
    return NASNet(input_shape, penultimate_filters=4032, num_blocks=6, stem_block_filters=96,
                  skip_reduction=True, filter_multiplier=2, include_top=include_top,
                  weights=weights, input_tensor=input_tensor, pooling=pooling, classes=classes,
                  default_size=331, classifier_activation=classifier_activation, name=name)


def _separable_conv_block(ip, filters, kernel_size=(3, 3), strides=(1, 1), block_id=None):
    """ReLU -> SeparableConv2D (strided: on a ``correct_pad`` padding) -> BN -> ReLU ->
    SeparableConv2D -> BN."""
    x = layers.Activation("relu")(ip)
    if strides == (2, 2):
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                                 name=f"separable_conv_1_pad_{block_id}")(x)
        conv_pad = "valid"
    else:
        conv_pad = "same"
    x = layers.SeparableConv2D(filters, kernel_size, strides=strides,
                               name=f"separable_conv_1_{block_id}", padding=conv_pad,
                               use_bias=False)(x)
    x = layers.BatchNormalization(axis=-1, name=f"separable_conv_1_bn_{block_id}", **_BN)(x)
    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(filters, kernel_size, name=f"separable_conv_2_{block_id}",
                               padding="same", use_bias=False)(x)
    return layers.BatchNormalization(axis=-1, name=f"separable_conv_2_bn_{block_id}", **_BN)(x)


def _adjust_block(p, ip, filters, block_id=None):
    """Matches the previous cell's output ``p`` to ``ip``: a factorized reduction (two strided
    1x1 paths, the second shifted by one pixel) when their sizes differ, a 1x1 projection when
    only their channels differ."""
    if p is None:
        return ip
    # NOTE: static sizes, compared as Keras 3 compares them (an unknown size equals another).
    if p.shape[-2] != ip.shape[-2]:
        p = layers.Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
        p1 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                                     name=f"adjust_avg_pool_1_{block_id}")(p)
        p1 = layers.Conv2D(filters // 2, (1, 1), padding="same", use_bias=False,
                           name=f"adjust_conv_1_{block_id}", kernel_initializer="he_normal")(p1)
        p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                                     name=f"adjust_avg_pool_2_{block_id}")(p2)
        p2 = layers.Conv2D(filters // 2, (1, 1), padding="same", use_bias=False,
                           name=f"adjust_conv_2_{block_id}", kernel_initializer="he_normal")(p2)
        p = layers.concatenate([p1, p2], axis=-1)
        return layers.BatchNormalization(axis=-1, name=f"adjust_bn_{block_id}", **_BN)(p)
    if p.shape[-1] != filters:
        p = layers.Activation("relu")(p)
        p = layers.Conv2D(filters, (1, 1), strides=(1, 1), padding="same",
                          name=f"adjust_conv_projection_{block_id}", use_bias=False,
                          kernel_initializer="he_normal")(p)
        p = layers.BatchNormalization(axis=-1, name=f"adjust_bn_{block_id}", **_BN)(p)
    return p


def _normal_a_cell(ip, p, filters, block_id=None):
    """A normal cell: five pairwise sums of separable convolutions, poolings and identities
    of ``h`` (``ip`` projected) and ``p``, concatenated with ``p``. Returns ``(x, ip)``."""
    p = _adjust_block(p, ip, filters, block_id)
    h = layers.Activation("relu")(ip)
    h = layers.Conv2D(filters, (1, 1), strides=(1, 1), padding="same",
                      name=f"normal_conv_1_{block_id}", use_bias=False,
                      kernel_initializer="he_normal")(h)
    h = layers.BatchNormalization(axis=-1, name=f"normal_bn_1_{block_id}", **_BN)(h)

    x1_1 = _separable_conv_block(h, filters, kernel_size=(5, 5),
                                 block_id=f"normal_left1_{block_id}")
    x1_2 = _separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}")
    x1 = layers.add([x1_1, x1_2], name=f"normal_add_1_{block_id}")

    x2_1 = _separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2_{block_id}")
    x2_2 = _separable_conv_block(p, filters, (3, 3), block_id=f"normal_right2_{block_id}")
    x2 = layers.add([x2_1, x2_2], name=f"normal_add_2_{block_id}")

    x3 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same",
                                 name=f"normal_left3_{block_id}")(h)
    x3 = layers.add([x3, p], name=f"normal_add_3_{block_id}")

    x4_1 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same",
                                   name=f"normal_left4_{block_id}")(p)
    x4_2 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same",
                                   name=f"normal_right4_{block_id}")(p)
    x4 = layers.add([x4_1, x4_2], name=f"normal_add_4_{block_id}")

    x5 = _separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}")
    x5 = layers.add([x5, h], name=f"normal_add_5_{block_id}")

    x = layers.concatenate([p, x1, x2, x3, x4, x5], axis=-1, name=f"normal_concat_{block_id}")
    return x, ip


def _reduction_a_cell(ip, p, filters, block_id=None):
    """A reduction cell: halves the spatial size with strided separable convolutions and
    poolings of ``h`` (``ip`` projected) and ``p``. Returns ``(x, ip)``."""
    p = _adjust_block(p, ip, filters, block_id)
    h = layers.Activation("relu")(ip)
    h = layers.Conv2D(filters, (1, 1), strides=(1, 1), padding="same",
                      name=f"reduction_conv_1_{block_id}", use_bias=False,
                      kernel_initializer="he_normal")(h)
    h = layers.BatchNormalization(axis=-1, name=f"reduction_bn_1_{block_id}", **_BN)(h)
    h3 = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(h, 3),
                              name=f"reduction_pad_1_{block_id}")(h)

    x1_1 = _separable_conv_block(h, filters, (5, 5), strides=(2, 2),
                                 block_id=f"reduction_left1_{block_id}")
    x1_2 = _separable_conv_block(p, filters, (7, 7), strides=(2, 2),
                                 block_id=f"reduction_right1_{block_id}")
    x1 = layers.add([x1_1, x1_2], name=f"reduction_add_1_{block_id}")

    x2_1 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                               name=f"reduction_left2_{block_id}")(h3)
    x2_2 = _separable_conv_block(p, filters, (7, 7), strides=(2, 2),
                                 block_id=f"reduction_right2_{block_id}")
    x2 = layers.add([x2_1, x2_2], name=f"reduction_add_2_{block_id}")

    x3_1 = layers.AveragePooling2D((3, 3), strides=(2, 2), padding="valid",
                                   name=f"reduction_left3_{block_id}")(h3)
    x3_2 = _separable_conv_block(p, filters, (5, 5), strides=(2, 2),
                                 block_id=f"reduction_right3_{block_id}")
    x3 = layers.add([x3_1, x3_2], name=f"reduction_add3_{block_id}")

    x4 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same",
                                 name=f"reduction_left4_{block_id}")(x1)
    x4 = layers.add([x2, x4])

    # NOTE: Keras names this block "reduction_left4" too (its layers are
    # separable_conv_1_reduction_left4_*); kept, since the weight files use those names.
    x5_1 = _separable_conv_block(x1, filters, (3, 3), block_id=f"reduction_left4_{block_id}")
    x5_2 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                               name=f"reduction_right5_{block_id}")(h3)
    x5 = layers.add([x5_1, x5_2], name=f"reduction_add4_{block_id}")

    x = layers.concatenate([x2, x3, x4, x5], axis=-1, name=f"reduction_concat_{block_id}")
    return x, ip


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
