"""The model zoo (InceptionV3 and friends), written with the public kerasish API only.

>>> from applications import InceptionV3
>>> model = InceptionV3(weights=None)
"""
from . import imagenet_utils, inception_v3
# NOTE: the top-level preprocess_input is InceptionV3's (mode "tf"), the one zoo model we ship.
from .inception_v3 import InceptionV3, decode_predictions, preprocess_input

__all__ = ["InceptionV3", "inception_v3", "imagenet_utils", "preprocess_input",
           "decode_predictions"]
