"""The model zoo (``keras.applications``), written with the public kerasish API only.

Each family is a module named as Keras's (``applications.resnet``, ``applications.vgg16``, ...)
with its model functions, ``preprocess_input`` and ``decode_predictions``; the model functions
are exported here too (``applications.ResNet50``), as in Keras.

>>> from applications import InceptionV3
>>> model = InceptionV3(weights=None)
"""
# NOTE: one block per family, two lines each: the module (Keras's module names, so that
# `kerasish.applications.<module>.<name>` resolves) and its model functions. Add a family by
# adding its block; `__all__` below collects every public name bound here.
from . import imagenet_utils, weights

from . import inception_v3
from .inception_v3 import InceptionV3

from . import resnet, resnet50
from .resnet import ResNet50, ResNet101, ResNet152

from . import resnet_v2
from .resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2

from . import vgg16
from .vgg16 import VGG16

from . import vgg19
from .vgg19 import VGG19

from . import xception
from .xception import Xception

from . import inception_resnet_v2
from .inception_resnet_v2 import InceptionResNetV2

from . import densenet
from .densenet import DenseNet121, DenseNet169, DenseNet201

from . import nasnet
from .nasnet import NASNetLarge, NASNetMobile

from . import mobilenet
from .mobilenet import MobileNet

from . import mobilenet_v2
from .mobilenet_v2 import MobileNetV2

from . import mobilenet_v3
from .mobilenet_v3 import MobileNetV3Large, MobileNetV3Small

from . import efficientnet
from .efficientnet import (EfficientNetB0, EfficientNetB1, EfficientNetB2, EfficientNetB3,
                           EfficientNetB4, EfficientNetB5, EfficientNetB6, EfficientNetB7)

from . import efficientnet_v2
from .efficientnet_v2 import (EfficientNetV2B0, EfficientNetV2B1, EfficientNetV2B2,
                              EfficientNetV2B3, EfficientNetV2L, EfficientNetV2M,
                              EfficientNetV2S)

from . import convnext
from .convnext import ConvNeXtBase, ConvNeXtLarge, ConvNeXtSmall, ConvNeXtTiny, ConvNeXtXLarge

# NOTE: the top-level preprocess_input / decode_predictions are InceptionV3's (mode "tf"), kept
# for code written when InceptionV3 was the one zoo model; Keras has no top-level ones.
from .inception_v3 import decode_predictions, preprocess_input

__all__ = sorted(name for name in dir() if not name.startswith("_"))
