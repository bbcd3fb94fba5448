"""VGG19 (Simonyan & Zisserman, ICLR 2015), built as ``keras/src/applications/vgg19.py`` builds
it: VGG16's blocks with four convolutions in each of the last three.
"""
from __future__ import annotations

from . import imagenet_utils
from .vgg16 import build_vgg


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg19"):
    """Instantiates the VGG19 model (``keras.applications.VGG19``).

    The arguments are VGG16's (see :func:`applications.vgg16.VGG16`): ``input_shape`` with the
    top must be ``(224, 224, 3)``, without it at least 32 x 32; inputs in "caffe" mode.

    >>> model = VGG19(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3))
    >>> model.output_shape
    (None, 512)
    """
    return build_vgg((2, 2, 4, 4, 4), "vgg19", include_top, weights, input_tensor, input_shape,
                     pooling, classes, classifier_activation, name)


def preprocess_input(x, data_format=None):
    """Converts RGB to BGR and subtracts ImageNet's mean pixel, without scaling ("caffe").

    >>> preprocess_input(np.array([[[0.0, 0.0, 0.0]]]))
    array([[[-103.939, -116.779, -123.68 ]]])
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions: per sample, the ``top`` (wnid, description, score) tuples.

    >>> decode_predictions(np.eye(1000)[[0]], top=1)
    [[('n01440764', 'tench', np.float64(1.0))]]
    """
    return imagenet_utils.decode_predictions(preds, top=top)
