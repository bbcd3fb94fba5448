"""Every public op of the engine, named and called like Keras 3's ``keras.ops``."""
from . import (activation, conv, dropout, elementwise, indexing, linalg, loss, normalization,
               pooling, recurrent, reduction, shape)

# NOTE: listed before the star imports, which rebind names such as `conv` and `dropout`.
_MODULES = (activation, conv, dropout, elementwise, indexing, linalg, loss, normalization,
            pooling, recurrent, reduction, shape)
from . import ctc as _ctc  # noqa: E402
_MODULES += (_ctc,)
__all__ = sorted({name for m in _MODULES for name in m.__all__})

from .activation import *  # noqa: E402,F401,F403
from .conv import *  # noqa: E402,F401,F403
from .ctc import *  # noqa: E402,F401,F403
from .dropout import *  # noqa: E402,F401,F403
from .elementwise import *  # noqa: E402,F401,F403
from .indexing import *  # noqa: E402,F401,F403
from .linalg import *  # noqa: E402,F401,F403
from .loss import *  # noqa: E402,F401,F403
from .normalization import *  # noqa: E402,F401,F403
from .pooling import *  # noqa: E402,F401,F403
from .recurrent import *  # noqa: E402,F401,F403
from .reduction import *  # noqa: E402,F401,F403
from .shape import *  # noqa: E402,F401,F403
from . import cumulative, rounding, trig  # noqa: E402
from .cumulative import *  # noqa: E402,F401,F403
from .rounding import *  # noqa: E402,F401,F403
from .trig import *  # noqa: E402,F401,F403
__all__ = sorted(set(__all__) | {n for m in (cumulative, rounding, trig) for n in m.__all__})
from . import segment, special, spectral  # noqa: E402
from .segment import *  # noqa: E402,F401,F403
from .special import *  # noqa: E402,F401,F403
from .spectral import *  # noqa: E402,F401,F403
__all__ = sorted(set(__all__) | {n for m in (segment, special, spectral) for n in m.__all__})
from . import decomposition  # noqa: E402
from .decomposition import *  # noqa: E402,F401,F403
__all__ = sorted(set(__all__) | set(decomposition.__all__))
from . import sparse  # noqa: E402
from .sparse import *  # noqa: E402,F401,F403
__all__ = sorted(set(__all__) | set(sparse.__all__))
