"""ResNet50V2, ResNet101V2 and ResNet152V2 (He et al., "Identity Mappings in Deep Residual
Networks", ECCV 2016), built as ``keras/src/applications/resnet_v2.py`` builds them: the
pre-activation blocks of :mod:`applications.resnet` on its :func:`~applications.resnet.ResNet`
skeleton.
"""
from __future__ import annotations

from . import imagenet_utils, resnet


def _v2_stacks(depths):
    def stack_fn(x):
        x = resnet.stack_residual_blocks_v2(x, 64, depths[0], name="conv2")
        x = resnet.stack_residual_blocks_v2(x, 128, depths[1], name="conv3")
        x = resnet.stack_residual_blocks_v2(x, 256, depths[2], name="conv4")
        return resnet.stack_residual_blocks_v2(x, 512, depths[3], stride1=1, name="conv5")

    return stack_fn


def ResNet50V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
               pooling=None, classes=1000, classifier_activation="softmax", name="resnet50v2"):
    """Instantiates the ResNet50V2 architecture (``keras.applications.ResNet50V2``).

    The arguments are ResNet50's (see :func:`applications.resnet.ResNet50`): ``input_shape``
    with the top must be ``(224, 224, 3)``, without it at least 32 x 32. Inputs are expected
    scaled to [-1, 1] ("tf" mode): see :func:`preprocess_input`.

    >>> model = ResNet50V2(weights=None, include_top=False, pooling="avg")
    >>> model.output_shape
    (None, 2048)
    """
    return resnet.ResNet(_v2_stacks((3, 4, 6, 3)), True, True, name=name,
                         weights_name="resnet50v2", include_top=include_top, weights=weights,
                         input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                         classes=classes, classifier_activation=classifier_activation)


def ResNet101V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="resnet101v2"):
    """Instantiates the ResNet101V2 architecture (``keras.applications.ResNet101V2``):
    ResNet50V2's arguments, with 23 blocks in ``conv4``.

    >>> model = ResNet101V2(weights=None, include_top=False, input_shape=(32, 32, 3))
    >>> model.output_shape
    (None, 1, 1, 2048)
    """
    return resnet.ResNet(_v2_stacks((3, 4, 23, 3)), True, True, name=name,
                         weights_name="resnet101v2", include_top=include_top, weights=weights,
                         input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                         classes=classes, classifier_activation=classifier_activation)


def ResNet152V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="resnet152v2"):
    """Instantiates the ResNet152V2 architecture (``keras.applications.ResNet152V2``):
    ResNet50V2's arguments, with 8 blocks in ``conv3`` and 36 in ``conv4``.

    >>> model = ResNet152V2(weights=None, include_top=False, input_shape=(32, 32, 3))
    >>> model.output_shape
    (None, 1, 1, 2048)
    """
    return resnet.ResNet(_v2_stacks((3, 8, 36, 3)), True, True, name=name,
                         weights_name="resnet152v2", include_top=include_top, weights=weights,
                         input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                         classes=classes, classifier_activation=classifier_activation)


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
