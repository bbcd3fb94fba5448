"""ResNet50, ResNet101 and ResNet152 (He et al., "Deep Residual Learning for Image
Recognition", CVPR 2016), built block for block as ``keras/src/applications/resnet.py`` builds
them; :func:`ResNet` and the V2 residual blocks serve ``resnet_v2`` too.

Every layer has a given name (``conv1_conv``, ``conv2_block1_0_conv``, ...), so Keras's official
weight files load by topology.
"""
from __future__ import annotations

import kerasish
from kerasish import layers
from kerasish.symbolic import is_keras_tensor

from . import imagenet_utils
from .weights import is_imagenet, load_model_weights, valid_weights_argument

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"


def ResNet(stack_fn, preact, use_bias, include_top=True, weights="imagenet", input_tensor=None,
           input_shape=None, pooling=None, classes=1000, classifier_activation="softmax",
           name="resnet", weights_name=None):
    """The ResNet / ResNetV2 skeleton: stem, ``stack_fn``'s residual stacks, then the top.

    Args:
        stack_fn: a function from the stem's output to the last stack's output.
        preact: whether the blocks are pre-activation ones (V2): the stem then has no batch
            normalization and the body ends with ``post_bn`` + ``post_relu``.
        use_bias: whether the stem's convolution has a bias.
        weights_name: the key of Keras's ImageNet file names (``"resnet50"``, ...).
        The other arguments are those of :func:`ResNet50`.

    >>> model = ResNet(lambda x: x, False, True, weights=None, include_top=False)
    >>> model.output_shape
    (None, None, None, 64)
    """
    if not valid_weights_argument(weights):
        # NOTE: two spaces before "Received", as in Keras's text.
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), 'imagenet' (pre-training on ImageNet), or the path "
                         f"to the weights file to be loaded.  Received: weights={weights}")
    if is_imagenet(weights) and include_top and classes != 1000:
        raise ValueError("If using `weights='imagenet'` with `include_top=True`, `classes` "
                         f"should be 1000.  Received classes={classes}")
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
    bn_axis = 3 if kerasish.config.image_data_format() == "channels_last" else 1

    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name="conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)

    x = stack_fn(x)

    if preact:
        x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name="post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)

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


def _bn(x, name):
    bn_axis = 3 if kerasish.config.image_data_format() == "channels_last" else 1
    return layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=name)(x)


def residual_block_v1(x, filters, kernel_size=3, stride=1, conv_shortcut=True, name=None):
    """A bottleneck block of ResNet V1: 1x1 (stride) -> 3x3 -> 1x1 (4 * filters), each with
    batch normalization, added to the shortcut (a strided 1x1 projection or the identity).

    >>> y = residual_block_v1(layers.Input((8, 8, 64)), 64, name="conv2_block1")
    """
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = _bn(shortcut, f"{name}_0_bn")
    else:
        shortcut = x

    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = _bn(x, f"{name}_1_bn")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)

    x = layers.Conv2D(filters, kernel_size, padding="SAME", name=f"{name}_2_conv")(x)
    x = _bn(x, f"{name}_2_bn")
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)

    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = _bn(x, f"{name}_3_bn")

    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def stack_residual_blocks_v1(x, filters, blocks, stride1=2, name=None):
    """``blocks`` V1 blocks; the first projects its shortcut and strides by ``stride1``."""
    x = residual_block_v1(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = residual_block_v1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def residual_block_v2(x, filters, kernel_size=3, stride=1, conv_shortcut=False, name=None):
    """A pre-activation bottleneck block of ResNet V2: BN + ReLU first, then 1x1 -> padded 3x3
    (stride) -> 1x1 (4 * filters), added to the shortcut (a 1x1 projection of the
    pre-activation, a 1x1 max pooling with the block's stride, or the identity).

    >>> y = residual_block_v2(layers.Input((8, 8, 64)), 64, conv_shortcut=True, name="b")
    """
    preact = _bn(x, f"{name}_preact_bn")
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)

    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    else:
        # NOTE: the unnamed pooling takes the session's automatic name (max_pooling2d, ...).
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x

    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = _bn(x, f"{name}_1_bn")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)

    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, kernel_size, strides=stride, use_bias=False,
                      name=f"{name}_2_conv")(x)
    x = _bn(x, f"{name}_2_bn")
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)

    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


def stack_residual_blocks_v2(x, filters, blocks, stride1=2, name=None):
    """``blocks`` V2 blocks; the first projects its shortcut, the last strides by ``stride1``."""
    x = residual_block_v2(x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = residual_block_v2(x, filters, name=f"{name}_block{i}")
    return residual_block_v2(x, filters, stride=stride1, name=f"{name}_block{blocks}")


def _v1_stacks(depths):
    def stack_fn(x):
        x = stack_residual_blocks_v1(x, 64, depths[0], stride1=1, name="conv2")
        x = stack_residual_blocks_v1(x, 128, depths[1], name="conv3")
        x = stack_residual_blocks_v1(x, 256, depths[2], name="conv4")
        return stack_residual_blocks_v1(x, 512, depths[3], name="conv5")

    return stack_fn


def ResNet50(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", name="resnet50"):
    """Instantiates the ResNet50 architecture (``keras.applications.ResNet50``).

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

    Inputs are expected in "caffe" mode (BGR, ImageNet mean subtracted): see
    :func:`preprocess_input`.

    >>> model = ResNet50(weights=None, include_top=False, pooling="avg")
    >>> model.output_shape
    (None, 2048)
    """
    return ResNet(_v1_stacks((3, 4, 6, 3)), preact=False, use_bias=True,
                  weights_name="resnet50", name=name, include_top=include_top, weights=weights,
                  input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                  classes=classes, classifier_activation=classifier_activation)


def ResNet101(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
              pooling=None, classes=1000, classifier_activation="softmax", name="resnet101"):
    """Instantiates the ResNet101 architecture (``keras.applications.ResNet101``): ResNet50's
    arguments, with 23 blocks in ``conv4``.

    >>> model = ResNet101(weights=None, include_top=False, input_shape=(32, 32, 3))
    >>> model.output_shape
    (None, 1, 1, 2048)
    """
    return ResNet(_v1_stacks((3, 4, 23, 3)), preact=False, use_bias=True,
                  weights_name="resnet101", name=name, include_top=include_top,
                  weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                  pooling=pooling, classes=classes, classifier_activation=classifier_activation)


def ResNet152(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
              pooling=None, classes=1000, classifier_activation="softmax", name="resnet152"):
    """Instantiates the ResNet152 architecture (``keras.applications.ResNet152``): ResNet50's
    arguments, with 8 blocks in ``conv3`` and 36 in ``conv4``.

    >>> model = ResNet152(weights=None, include_top=False, input_shape=(32, 32, 3))
    >>> model.output_shape
    (None, 1, 1, 2048)
    """
    return ResNet(_v1_stacks((3, 8, 36, 3)), preact=False, use_bias=True,
                  weights_name="resnet152", name=name, include_top=include_top,
                  weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                  pooling=pooling, classes=classes, classifier_activation=classifier_activation)


def preprocess_input(x, data_format=None):
    """Converts RGB to BGR and subtracts ImageNet's mean pixel, without scaling ("caffe").

    >>> preprocess_input(np.array([[[255.0, 255.0, 255.0]]]))
    array([[[151.061, 138.221, 131.32 ]]])
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions: per sample, the ``top`` (wnid, description, score) tuples.

    >>> decode_predictions(np.eye(1000)[[0]], top=1)
    [[('n01440764', 'tench', np.float64(1.0))]]
    """
    return imagenet_utils.decode_predictions(preds, top=top)
