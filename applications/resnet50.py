"""``keras.applications.resnet50``: ResNet50 and its preprocessing, the module Keras kept from
before ``resnet`` held the three depths.

>>> from applications.resnet50 import ResNet50, preprocess_input
"""
from .resnet import ResNet50, decode_predictions, preprocess_input

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
