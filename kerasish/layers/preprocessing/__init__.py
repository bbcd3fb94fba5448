"""Preprocessing layers (Keras's ``keras.layers`` names), one file per idea."""
from .category_encoding import CategoryEncoding
from .discretization import Discretization
from .hashed_crossing import HashedCrossing
from .hashing import Hashing
from .image_augmentation import (RandomBrightness, RandomContrast, RandomFlip, RandomRotation,
                                 RandomTranslation, RandomZoom)
from .image_resizing import CenterCrop, Resizing
from .integer_lookup import IntegerLookup
from .normalization import Normalization
from .rescaling import Rescaling
from .string_lookup import StringLookup
from .text_vectorization import TextVectorization

__all__ = ["CategoryEncoding", "Discretization", "Normalization", "Rescaling",
           "HashedCrossing", "Hashing", "IntegerLookup", "StringLookup", "TextVectorization",
           "CenterCrop", "RandomBrightness", "RandomContrast", "RandomFlip", "RandomRotation",
           "RandomTranslation", "RandomZoom", "Resizing"]
