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
# EfficientNet, EfficientNetV2 and ConvNeXt (helper Z4's families): Keras names the file after
# the model (`<name>.h5`, `<name>_notop.h5`); ConvNeXt's hashes are sha256.
for _name, _md5s in {
        "efficientnetb0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
        "efficientnetb1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
        "efficientnetb2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
        "efficientnetb3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
        "efficientnetb4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
        "efficientnetb5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
        "efficientnetb6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
        "efficientnetb7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}.items():
    IMAGENET_FILES[_name] = imagenet_entry(None, f"{_name}.h5", f"{_name}_notop.h5", *_md5s,
                                           base=STORAGE + "keras-applications/")
for _name, _md5s in {
        "efficientnetv2-b0": ("21ecbf6da12460d5c40bb2f29ceb2188",
                              "893217f2bb855e2983157299931e43ff"),
        "efficientnetv2-b1": ("069f0534ff22adf035c89e2d9547a9dc",
                              "0e80663031ca32d657f9caa404b6ec37"),
        "efficientnetv2-b2": ("424e49f28180edbde1e94797771950a7",
                              "1dfe2e7a5d45b6632553a8961ea609eb"),
        "efficientnetv2-b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0",
                              "f6abf7b5849ac99a89b50dd3fd532856"),
        "efficientnetv2-s": ("e1d88a8495beba45748fedd0cecbe016",
                             "af0682fb74e8c54910f2d4393339c070"),
        "efficientnetv2-m": ("a3bf6aa3276309f4fc6a34aa114c95cd",
                             "1b8dc055df72dde80d614482840fe342"),
        "efficientnetv2-l": ("27e6d408b53c7ebc868fefa357689935",
                             "b0b66b5c863aef5b46e8608fe1711615"),
}.items():
    IMAGENET_FILES[_name] = imagenet_entry("efficientnet_v2", f"{_name}.h5",
                                           f"{_name}_notop.h5", *_md5s)
for _name, _md5s in {
        "convnext_tiny": (
            "8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
            "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
        "convnext_small": (
            "ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
            "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab"),
        "convnext_base": (
            "52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
            "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45"),
        "convnext_large": (
            "070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
            "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd"),
        "convnext_xlarge": (
            "c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
            "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05"),
}.items():
    IMAGENET_FILES[_name] = imagenet_entry("convnext", f"{_name}.h5", f"{_name}_notop.h5",
                                           *_md5s)
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
