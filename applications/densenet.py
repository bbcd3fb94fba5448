"""DenseNet121, DenseNet169 and DenseNet201 (Huang et al., "Densely Connected Convolutional
Networks", CVPR 2017), built block for block as ``keras/src/applications/densenet.py`` builds
them.

Every weighted layer has a given name (Keras 3's ``conv1_conv``, ``conv2_block1_0_bn``, ...;
Keras 2 wrote ``conv1/conv`` and ``conv1/bn`` in the official files); the files load by
topology, so either spelling loads.
"""
from __future__ import annotations

import kerasish
from kerasish import layers
from kerasish.symbolic import is_keras_tensor

from . import imagenet_utils
from .weights import is_imagenet, load_model_weights, valid_weights_argument

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"

# Blocks per dense block -> the model's key in Keras's weight files.
_WEIGHTS_NAMES = {(6, 12, 24, 16): "densenet121", (6, 12, 32, 32): "densenet169",
                  (6, 12, 48, 32): "densenet201"}


def dense_block(x, blocks, name):
    """``blocks`` conv blocks of growth rate 32, named ``f"{name}_block{i}"`` from 1.

    >>> y = dense_block(layers.Input((8, 8, 64)), 2, name="conv2")
    """
    for i in range(blocks):
        x = conv_block(x, 32, name=f"{name}_block{i + 1}")
    return x


def transition_block(x, reduction, name):
    """BN -> ReLU -> 1x1 Conv2D to ``reduction`` times the channels -> 2x2 average pooling.

    >>> y = transition_block(layers.Input((8, 8, 256)), 0.5, name="pool2")
    """
    bn_axis = 3 if kerasish.config.image_data_format() == "channels_last" else 1
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.Conv2D(int(x.shape[bn_axis] * reduction), 1, use_bias=False,
                      name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def conv_block(x, growth_rate, name):
    """A dense layer: BN -> ReLU -> 1x1 Conv2D (4 * growth) -> BN -> ReLU -> 3x3 Conv2D
    (growth), concatenated to its input.

    >>> y = conv_block(layers.Input((8, 8, 64)), 32, name="conv2_block1")
    """
    bn_axis = 3 if kerasish.config.image_data_format() == "channels_last" else 1
    x1 = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_0_bn")(x)
    x1 = layers.Activation("relu", name=f"{name}_0_relu")(x1)
    x1 = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(x1)
    x1 = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_1_bn")(x1)
    x1 = layers.Activation("relu", name=f"{name}_1_relu")(x1)
    x1 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False,
                       name=f"{name}_2_conv")(x1)
    return layers.Concatenate(axis=bn_axis, name=f"{name}_concat")([x, x1])


def DenseNet(blocks, include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", name="densenet"):
    """The DenseNet skeleton: stem, four dense blocks of ``blocks`` layers with transitions
    between them, then the top; the other arguments are those of :func:`DenseNet121`.

    >>> model = DenseNet([1, 1, 1, 1], weights=None, include_top=False, input_shape=(32, 32, 3))
    >>> model.output_shape
    (None, 1, 1, 68)
    """
    if kerasish.config.image_data_format() == "channels_first":
        raise ValueError("DenseNet does not support the `channels_first` image data format. "
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
    weights_name = _WEIGHTS_NAMES.get(tuple(blocks))
    if is_imagenet(weights) and weights_name is None:
        # NOTE: Keras finds this out after building the model; the same error, sooner.
        raise ValueError(f"weights_path undefined. Received: blocks={blocks}")
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=224, min_size=32,
        data_format=kerasish.config.image_data_format(), require_flatten=include_top,
        weights=weights)
    if input_tensor is None:
        img_input = layers.Input(shape=input_shape)
    elif not is_keras_tensor(input_tensor):
        img_input = layers.Input(tensor=input_tensor, shape=input_shape)
    else:
        img_input = input_tensor
    bn_axis = 3

    # NOTE: the two paddings are unnamed (zero_padding2d, zero_padding2d_1), as in Keras.
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)

    x = dense_block(x, blocks[0], name="conv2")
    x = transition_block(x, 0.5, name="pool2")
    x = dense_block(x, blocks[1], name="conv3")
    x = transition_block(x, 0.5, name="pool3")
    x = dense_block(x, blocks[2], name="conv4")
    x = transition_block(x, 0.5, name="pool4")
    x = dense_block(x, blocks[3], name="conv5")

    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
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
    load_model_weights(model, weights_name, weights, include_top)
    return model


def DenseNet121(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="densenet121"):
    """Instantiates the DenseNet121 architecture (``keras.applications.DenseNet121``).

    Args:
        include_top: whether to end with the 1000-way classifier (``avg_pool`` +
            ``predictions``).
        weights: ``None`` (random initialization), ``"imagenet"`` (Keras's file in
            ``$KERAS_HOME/models``, never downloaded) or the path of a weights file.
        input_tensor: optional KerasTensor (output of ``layers.Input()``) to build on.
        input_shape: without the top, any ``(rows, cols, 3)`` with rows, cols >= 32 (None
            allowed); with the top it must be ``(224, 224, 3)``.
        pooling: without the top, ``None`` (4D output), ``"avg"`` (``avg_pool``) or ``"max"``
            (``max_pool``), 2D outputs.
        classes: number of classes of the top; 1000 with ImageNet weights.
        classifier_activation: activation of ``predictions``; ``None`` gives logits.
        name: the model's name.

    Inputs are expected in "torch" mode (scaled to [0, 1], then normalized per channel): see
    :func:`preprocess_input`. Only the ``channels_last`` data format is supported.

    >>> model = DenseNet121(weights=None, include_top=False, pooling="avg")
    >>> model.output_shape
    (None, 1024)
    """
    return DenseNet([6, 12, 24, 16], include_top, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation, name=name)


def DenseNet169(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="densenet169"):
    """Instantiates the DenseNet169 architecture (``keras.applications.DenseNet169``):
    DenseNet121's arguments, with 32 layers in the third and fourth dense blocks.

    >>> model = DenseNet169(weights=None, include_top=False, pooling="avg")
    >>> model.output_shape
    (None, 1664)
    """
    return DenseNet([6, 12, 32, 32], include_top, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation, name=name)


def DenseNet201(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="densenet201"):
    """Instantiates the DenseNet201 architecture (``keras.applications.DenseNet201``):
    DenseNet121's arguments, with 48 and 32 layers in the third and fourth dense blocks.

    >>> model = DenseNet201(weights=None, include_top=False, pooling="avg")
    >>> model.output_shape
    (None, 1920)
    """
    return DenseNet([6, 12, 48, 32], include_top, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation, name=name)


def preprocess_input(x, data_format=None):
    """Scales pixels to [0, 1], then normalizes each channel with ImageNet's mean
    (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225) (``mode="torch"``).

    >>> preprocess_input(np.array([[[255.0, 255.0, 255.0]]]))
    array([[[2.2489083 , 2.42857143, 2.64      ]]])
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions: per sample, the ``top`` (wnid, description, score) tuples.

    >>> decode_predictions(np.eye(1000)[[0]], top=1)
    [[('n01440764', 'tench', np.float64(1.0))]]
    """
    return imagenet_utils.decode_predictions(preds, top=top)
