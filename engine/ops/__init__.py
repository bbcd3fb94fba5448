"""Every public op of the engine, named and called like Keras 3's ``keras.ops``."""
from . import (activation, conv, dropout, elementwise, indexing, linalg, loss, normalization,
               pooling, reduction, shape)
from .activation import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .reduction import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403

_MODULES = (activation, conv, dropout, elementwise, indexing, linalg, loss, normalization,
            pooling, reduction, shape)
__all__ = sorted({name for m in _MODULES for name in m.__all__})
