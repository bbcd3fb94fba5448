"""VGG16 (Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015), built block for block as ``keras/src/applications/vgg16.py`` builds it.

Every layer has a given name (``block1_conv1`` ... ``fc1``, ``fc2``, ``predictions``), so
Keras's official weight files load by topology.
"""
from __future__ import annotations

import kerasish
from kerasish import layers
from kerasish.symbolic import is_keras_tensor

from . import imagenet_utils
from .weights import is_imagenet, load_model_weights, valid_weights_argument


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg16"):
    """Instantiates the VGG16 model (``keras.applications.VGG16``).

    Args:
        include_top: whether to end with the 3 fully-connected layers (``flatten``, ``fc1``,
            ``fc2``, ``predictions``).
        weights: ``None`` (random initialization), ``"imagenet"`` (Keras's file in
            ``$KERAS_HOME/models``, never downloaded) or the path of a weights file.
        input_tensor: optional KerasTensor (output of ``layers.Input()``) to build on.
        input_shape: without the top, any ``(rows, cols, 3)`` with rows, cols >= 32 (None
            allowed); with the top it must be ``(224, 224, 3)``.
        pooling: without the top, ``None`` (4D output), ``"avg"`` or ``"max"`` (2D output).
        classes: number of classes of the top; 1000 with ImageNet weights.
        classifier_activation: activation of ``predictions``; ``None`` gives logits.
        name: the model's name.

    Inputs are expected in "caffe" mode (BGR, ImageNet mean subtracted): see
    :func:`preprocess_input`.

    >>> model = VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    >>> model.output_shape
    (None, 1, 1, 512)
    """
    return build_vgg((2, 2, 3, 3, 3), "vgg16", include_top, weights, input_tensor, input_shape,
                     pooling, classes, classifier_activation, name)


def build_vgg(convs, model_key, include_top, weights, input_tensor, input_shape, pooling,
              classes, classifier_activation, name):
    """The VGG body shared by VGG16 and VGG19: five blocks of ``convs[i]`` 3x3 convolutions
    (64, 128, 256, 512, 512 filters) each ending with a 2x2 max pooling."""
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

    x = img_input
    for block, (count, filters) in enumerate(zip(convs, (64, 128, 256, 512, 512)), start=1):
        for i in range(1, count + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same",
                              name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)

    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
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
    load_model_weights(model, model_key, weights, include_top)
    return model


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
