"""Keras 3's ``keras.ops``: the public ops, on arrays, engine Tensors and KerasTensors.

``engine.ops`` is the differentiable core (primitives and fat ops with hand-written backward);
each function here composes engine ops and, on KerasTensors, records a graph node whose output
shape comes by arithmetic (``_symbolic.keras_op``).
"""
from . import numpy  # noqa: E402,F401
from .numpy import *  # noqa: E402,F401,F403
from . import nn  # noqa: E402,F401
from .nn import *  # noqa: E402,F401,F403
from . import core, linalg, math  # noqa: E402,F401
from .core import *  # noqa: E402,F401,F403
from .math import *  # noqa: E402,F401,F403
from .linalg import *  # noqa: E402,F401,F403
from . import image  # noqa: E402,F401
