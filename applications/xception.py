"""Xception (Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions", CVPR
2017), built block for block as ``keras/src/applications/xception.py`` builds it.

The residual projections (1x1 Conv2D + BatchNormalization) and the ``add`` layers are unnamed
in Keras, so they take the session's automatic names (``conv2d``, ``batch_normalization``,
``add`` ... ``_3``); Keras's official weight files load by topology all the same.
"""
from __future__ import annotations

import kerasish
from kerasish import layers
from kerasish.symbolic import is_keras_tensor

from . import imagenet_utils
from .weights import is_imagenet, load_model_weights, valid_weights_argument


def Xception(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", name="xception"):
    """Instantiates the Xception architecture (``keras.applications.Xception``).

    Args:
        include_top: whether to end with the 1000-way classifier (``avg_pool`` +
            ``predictions``).
        weights: ``None`` (random initialization), ``"imagenet"`` (Keras's file in
            ``$KERAS_HOME/models``, never downloaded) or the path of a weights file.
        input_tensor: optional KerasTensor (output of ``layers.Input()``) to build on.
        input_shape: without the top, any ``(rows, cols, 3)`` with rows, cols >= 71 (None
            allowed); with the top it must be ``(299, 299, 3)``.
        pooling: without the top, ``None`` (4D output), ``"avg"`` or ``"max"`` (2D output).
        classes: number of classes of the top; 1000 with ImageNet weights.
        classifier_activation: activation of ``predictions``; ``None`` gives logits.
        name: the model's name.

    Inputs are expected scaled to [-1, 1]: see :func:`preprocess_input`.

    >>> model = Xception(weights=None, include_top=False, pooling="avg",
    ...                  input_shape=(71, 71, 3))
    >>> model.output_shape
    (None, 2048)
    """
    if not valid_weights_argument(weights):
        # NOTE: Keras's text, which ends without the value; ours adds it.
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), 'imagenet' (pre-training on ImageNet), or the path "
                         f"to the weights file to be loaded. Received: weights={weights}")
    if is_imagenet(weights) and include_top and classes != 1000:
        raise ValueError("If using `weights='imagenet'` with `include_top=True`, `classes` "
                         f"should be 1000.  Received classes={classes}")
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=299, min_size=71,
        data_format=kerasish.config.image_data_format(), require_flatten=include_top,
        weights=weights)
    if input_tensor is None:
        img_input = layers.Input(shape=input_shape)
    elif not is_keras_tensor(input_tensor):
        img_input = layers.Input(tensor=input_tensor, shape=input_shape)
    else:
        img_input = input_tensor
    channel_axis = 1 if kerasish.config.image_data_format() == "channels_first" else -1

    # Entry flow.
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(
        img_input)
    x = layers.BatchNormalization(axis=channel_axis, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=channel_axis, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)

    # NOTE: block2 has no ReLU before its first separable convolution (block1 ends with one),
    # and its second activation is named block2_sepconv2_act, as in Keras.
    x = _entry_block(x, 128, 128, 2, channel_axis, first_act=False)
    x = _entry_block(x, 256, 256, 3, channel_axis)
    x = _entry_block(x, 728, 728, 4, channel_axis)

    # Middle flow: eight identity-shortcut blocks of three separable convolutions.
    for i in range(8):
        residual = x
        prefix = f"block{i + 5}"
        for j in (1, 2, 3):
            x = layers.Activation("relu", name=f"{prefix}_sepconv{j}_act")(x)
            x = layers.SeparableConv2D(728, (3, 3), padding="same", use_bias=False,
                                       name=f"{prefix}_sepconv{j}")(x)
            x = layers.BatchNormalization(axis=channel_axis, name=f"{prefix}_sepconv{j}_bn")(x)
        x = layers.add([x, residual])

    # Exit flow.
    x = _entry_block(x, 728, 1024, 13, channel_axis)
    x = layers.SeparableConv2D(1536, (3, 3), padding="same", use_bias=False,
                               name="block14_sepconv1")(x)
    x = layers.BatchNormalization(axis=channel_axis, name="block14_sepconv1_bn")(x)
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = layers.SeparableConv2D(2048, (3, 3), padding="same", use_bias=False,
                               name="block14_sepconv2")(x)
    x = layers.BatchNormalization(axis=channel_axis, name="block14_sepconv2_bn")(x)
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
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
    load_model_weights(model, "xception", weights, include_top)
    return model


def _entry_block(x, filters1, filters2, block, channel_axis, first_act=True):
    """A downsampling block (block2-4, block13): two separable convolutions and a stride-2 max
    pooling, added to a strided 1x1 projection of the input.

    The statement order is Keras's: the projection is created first, so it takes the lower
    automatic names (``conv2d``, ``batch_normalization``).
    """
    residual = layers.Conv2D(filters2, (1, 1), strides=(2, 2), padding="same",
                             use_bias=False)(x)
    residual = layers.BatchNormalization(axis=channel_axis)(residual)
    prefix = f"block{block}"
    if first_act:
        x = layers.Activation("relu", name=f"{prefix}_sepconv1_act")(x)
    x = layers.SeparableConv2D(filters1, (3, 3), padding="same", use_bias=False,
                               name=f"{prefix}_sepconv1")(x)
    x = layers.BatchNormalization(axis=channel_axis, name=f"{prefix}_sepconv1_bn")(x)
    x = layers.Activation("relu", name=f"{prefix}_sepconv2_act")(x)
    x = layers.SeparableConv2D(filters2, (3, 3), padding="same", use_bias=False,
                               name=f"{prefix}_sepconv2")(x)
    x = layers.BatchNormalization(axis=channel_axis, name=f"{prefix}_sepconv2_bn")(x)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"{prefix}_pool")(x)
    return layers.add([x, residual])


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
