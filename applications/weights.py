"""Resolving an application's ``weights`` argument: ``None``, ``"imagenet"`` or a file path.

kerasish never downloads. ``"imagenet"`` means the very file ``keras.utils.get_file`` would have
left in Keras's cache, ``$KERAS_HOME/models/<Keras's file name>`` (default
``~/.keras/models``), so weights Keras already downloaded are used as they are. When the file is
missing, the error gives the path to put it at and the URL where Keras publishes it.
"""
from __future__ import annotations

import os

from kerasish.datasets import _cache

CACHE_SUBDIR = "models"
ORIGIN = "https://storage.googleapis.com/tensorflow/keras-applications/"

# model -> (file name, md5 Keras checks after a download) with and without the top.
# NOTE: the md5s are kept for reference only: a file put in the cache by hand is trusted as is
# (it may be a re-export), and a mismatch would make Keras download again, which we never do.
IMAGENET_FILES = {
    "inception_v3": {
        True: ("inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
               "9a0d58056eeedaa3f26cb7ebd46da564"),
        False: ("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
                "bcbd6486424b2319ff4ef7d526e38f63"),
    },
}


def check_weights_argument(weights, include_top, classes):
    """Keras's checks of ``weights`` and ``classes``, made before the model is built.

    >>> check_weights_argument(None, include_top=True, classes=10)
    """
    if not (weights is None or _is_imagenet(weights) or _exists(weights)):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), `imagenet` (pre-training on ImageNet), or the path "
                         f"to the weights file to be loaded; Received: weights={weights}")
    if _is_imagenet(weights) and include_top and classes != 1000:
        raise ValueError('If using `weights="imagenet"` with `include_top=True`, `classes` '
                         f"should be 1000. Received classes={classes}")


def _is_imagenet(weights):
    return isinstance(weights, str) and weights == "imagenet"


def _exists(path):
    try:
        return os.path.exists(path)
    except (TypeError, ValueError):  # not a path at all (a number, a dict, ...)
        return False


def imagenet_weights_path(model_name, include_top):
    """Path of Keras's ImageNet weights file for ``model_name`` in Keras's cache.

    Raises FileNotFoundError with the path to put the file at and its URL when it is absent.

    >>> imagenet_weights_path("inception_v3", include_top=False)  # doctest: +SKIP
    '/home/me/.keras/models/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5'
    """
    fname, _ = IMAGENET_FILES[model_name][bool(include_top)]
    origin = f"{ORIGIN}{model_name}/{fname}"
    return _cache.find_file(fname, origin, cache_subdir=CACHE_SUBDIR)


def load_model_weights(model, model_name, weights, include_top):
    """Loads ``weights`` into ``model`` as Keras's applications do: by topology.

    ``"imagenet"`` is looked up in Keras's cache; a path is loaded as given; ``None`` does
    nothing. A failed load leaves the model's weights as they were (``load_weights``'s promise).

    >>> load_model_weights(model, "inception_v3", None, include_top=True)  # doctest: +SKIP
    """
    if _is_imagenet(weights):
        model.load_weights(imagenet_weights_path(model_name, include_top))
    elif weights is not None:
        model.load_weights(weights)
