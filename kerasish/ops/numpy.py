"""Keras 3's ``keras.ops.numpy``: NumPy's API on arrays, engine Tensors and KerasTensors.

The functions live in topic files (math, reductions, shapes, indexing, constructors, products);
this module gathers them under Keras's namespace, ``from kerasish.ops import numpy as knp``.
"""
from . import (numpy_create, numpy_index, numpy_math, numpy_products, numpy_reduce, numpy_shape,
               numpy_sort)
from .numpy_create import *  # noqa: F401,F403
from .numpy_index import *  # noqa: F401,F403
from .numpy_math import *  # noqa: F401,F403
from .numpy_products import *  # noqa: F401,F403
from .numpy_reduce import *  # noqa: F401,F403
from .numpy_shape import *  # noqa: F401,F403
from .numpy_sort import *  # noqa: F401,F403

__all__ = sorted({name for m in (numpy_create, numpy_index, numpy_math, numpy_products,
                                 numpy_reduce, numpy_shape, numpy_sort) for name in m.__all__})
