"""Resolving an application's ``weights`` argument: ``None``, ``"imagenet"`` or a file path.

kerasish never downloads. ``"imagenet"`` means the very file ``keras.utils.get_file`` would have
left in Keras's cache, ``$KERAS_HOME/models/<Keras's file name>`` (default
``~/.keras/models``), so weights Keras already downloaded are used as they are. When the file is
missing, the error gives the path to put it at and the URL where Keras publishes it.

A family with fixed file names adds one entry to ``IMAGENET_FILES`` (with :func:`imagenet_entry`)
and calls :func:`load_model_weights`; a family whose file name depends on its arguments
(MobileNet's alpha and size) finds it with :func:`cached_file` and loads it itself.
"""
from __future__ import annotations

import os

from kerasish.datasets import _cache

CACHE_SUBDIR = "models"
STORAGE = "https://storage.googleapis.com/"
ORIGIN = STORAGE + "tensorflow/keras-applications/"


def imagenet_entry(folder, top, notop, top_md5=None, notop_md5=None, base=ORIGIN):
    """One ``IMAGENET_FILES`` entry: ``{include_top: (file name, origin URL, md5)}``.

    ``folder`` is the family's folder under ``base`` (Keras's base weights URL).

    >>> imagenet_entry("vgg16", "a.h5", "a_notop.h5")[False][1]
    'https://storage.googleapis.com/tensorflow/keras-applications/vgg16/a_notop.h5'
    """
    url = f"{base}{folder}/" if folder else base
    return {True: (top, url + top, top_md5), False: (notop, url + notop, notop_md5)}


# model -> {include_top: (Keras's cache file name, its origin URL, the md5 Keras checks)}.
# NOTE: the md5s are kept for reference only: a file put in the cache by hand is trusted as is
# (it may be a re-export), and a mismatch would make Keras download again, which we never do.
IMAGENET_FILES = {
    "inception_v3": imagenet_entry(
        "inception_v3", "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
        "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63"),
    "vgg16": imagenet_entry(
        "vgg16", "vgg16_weights_tf_dim_ordering_tf_kernels.h5",
        "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc"),
    "vgg19": imagenet_entry(
        "vgg19", "vgg19_weights_tf_dim_ordering_tf_kernels.h5",
        "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6"),
    "xception": imagenet_entry(
        "xception", "xception_weights_tf_dim_ordering_tf_kernels.h5",
        "xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97"),
}
# ResNet and ResNetV2 share one folder and one naming rule (Keras's resnet.WEIGHTS_HASHES).
for _name, _md5s in {
        "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
        "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
        "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
        "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
        "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
        "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}.items():
    IMAGENET_FILES[_name] = imagenet_entry(
        "resnet", f"{_name}_weights_tf_dim_ordering_tf_kernels.h5",
        f"{_name}_weights_tf_dim_ordering_tf_kernels_notop.h5", *_md5s)
del _name, _md5s
# InceptionResNetV2, DenseNet and NASNet (helper Z2's families); NASNet's cache names differ
# from its URL names (nasnet_mobile.h5 <- NASNet-mobile.h5).
IMAGENET_FILES["inception_resnet_v2"] = imagenet_entry(
    "inception_resnet_v2", "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
    "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "e693bd0210a403b3192acc6073ad2e96", "d19885ff4a710c122648d3b5c3b684e4")
for _name, _md5s in {
        "densenet121": ("9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738"),
        "densenet169": ("d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b"),
        "densenet201": ("1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1"),
}.items():
    IMAGENET_FILES[_name] = imagenet_entry(
        "densenet", f"{_name}_weights_tf_dim_ordering_tf_kernels.h5",
        f"{_name}_weights_tf_dim_ordering_tf_kernels_notop.h5", *_md5s)
for _name, _md5s in {
        "mobile": ("020fb642bf7360b370c678b08e0adf61", "1ed92395b5b598bdda52abe5c0dbfd63"),
        "large": ("11577c9a518f0070763c2b964a382f17", "d81d89dc07e6e56530c4e77faddd61b5"),
}.items():
    IMAGENET_FILES[f"nasnet_{_name}"] = {
        True: (f"nasnet_{_name}.h5", f"{ORIGIN}nasnet/NASNet-{_name}.h5", _md5s[0]),
        False: (f"nasnet_{_name}_no_top.h5", f"{ORIGIN}nasnet/NASNet-{_name}-no-top.h5",
                _md5s[1])}
del _name, _md5s


def valid_weights_argument(weights):
    """Whether ``weights`` is ``None``, ``"imagenet"`` or an existing path (Keras's test).

    >>> valid_weights_argument("imagenet")
    True
    """
    return weights is None or is_imagenet(weights) or _exists(weights)


def check_weights_argument(weights, include_top, classes):
    """Keras's checks of ``weights`` and ``classes``, made before the model is built (with the
    texts of InceptionV3; families whose texts differ check with :func:`valid_weights_argument`).

    >>> check_weights_argument(None, include_top=True, classes=10)
    """
    if not valid_weights_argument(weights):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), `imagenet` (pre-training on ImageNet), or the path "
                         f"to the weights file to be loaded; Received: weights={weights}")
    if is_imagenet(weights) and include_top and classes != 1000:
        raise ValueError('If using `weights="imagenet"` with `include_top=True`, `classes` '
                         f"should be 1000. Received classes={classes}")


def is_imagenet(weights):
    """``weights == "imagenet"``, without comparing arrays or paths element-wise."""
    return isinstance(weights, str) and weights == "imagenet"


def _exists(path):
    try:
        return os.path.exists(path)
    except (TypeError, ValueError):  # not a path at all (a number, a dict, ...)
        return False


def cached_file(fname, origin):
    """Path of Keras's file ``fname`` in ``$KERAS_HOME/models``; never downloads.

    Raises FileNotFoundError naming the path to put the file at, its name and ``origin`` (the
    URL Keras downloads it from) when it is absent.

    >>> cached_file("vgg16_weights_tf_dim_ordering_tf_kernels.h5", ORIGIN)  # doctest: +SKIP
    '/home/me/.keras/models/vgg16_weights_tf_dim_ordering_tf_kernels.h5'
    """
    return _cache.find_file(fname, origin, cache_subdir=CACHE_SUBDIR)


def imagenet_weights_path(model_name, include_top):
    """Path of Keras's ImageNet weights file for ``model_name`` (a key of ``IMAGENET_FILES``).

    >>> imagenet_weights_path("inception_v3", include_top=False)  # doctest: +SKIP
    '/home/me/.keras/models/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5'
    """
    fname, origin, _ = IMAGENET_FILES[model_name][bool(include_top)]
    return cached_file(fname, origin)


def load_model_weights(model, model_name, weights, include_top):
    """Loads ``weights`` into ``model`` as Keras's applications do: by topology.

    ``"imagenet"`` is looked up in Keras's cache; a path is loaded as given; ``None`` does
    nothing. A failed load leaves the model's weights as they were (``load_weights``'s promise).

    >>> load_model_weights(model, "inception_v3", None, include_top=True)  # doctest: +SKIP
    """
    if is_imagenet(weights):
        model.load_weights(imagenet_weights_path(model_name, include_top))
    elif weights is not None:
        model.load_weights(weights)
