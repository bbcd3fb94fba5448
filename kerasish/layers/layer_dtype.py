"""A layer's dtype policy: the dtype its variables are kept in, the dtype it computes in, and
mixed precision's autocast of inputs and weights between the two."""
from __future__ import annotations

import contextlib

import numpy as np

import engine

from .. import dtype_policies


def dtype_name(dtype):
    """A layer's dtype-policy name from a name, a NumPy dtype, a policy or a dtype-policy
    config (Keras 3's ``DTypePolicy`` dict, tf.keras 2's ``Policy`` dict); None gives the
    global policy's (``floatx()`` unless set). Mixed policies keep their name."""
    if isinstance(dtype, dtype_policies.DTypePolicy):
        return dtype.name
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name")
    if dtype is None:
        return dtype_policies.dtype_policy().name
    if isinstance(dtype, str) and dtype.startswith("mixed_"):
        return dtype
    return np.dtype(dtype).name


def serialize_dtype_policy(dtype):
    """The ``"dtype"`` entry of a Keras 3 layer config.

    >>> serialize_dtype_policy("float32")["class_name"]
    'DTypePolicy'
    """
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype},
            "registered_name": None}


class LayerDTypeMixin:
    """``Layer``'s dtype-policy properties and autocast (Keras 3's)."""

    @property
    def dtype_policy(self):
        """The layer's ``DTypePolicy`` (compute and variable dtypes)."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        if not isinstance(value, dtype_policies.DTypePolicy):
            value = dtype_policies.get(dtype_name(value))
        object.__setattr__(self, "_dtype_policy", value)

    @property
    def dtype(self):
        """The variable dtype (Keras's ``layer.dtype``)."""
        return self._dtype_policy.variable_dtype

    @dtype.setter
    def dtype(self, value):
        self.dtype_policy = value

    @property
    def compute_dtype(self):
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        return self._dtype_policy.variable_dtype

    @property
    def input_dtype(self):
        """The dtype float inputs are converted to (the compute dtype)."""
        return self._dtype_policy.compute_dtype

    def _mixed(self):
        """Whether calls autocast: a mixed policy, unless built with ``autocast=False``."""
        return getattr(self, "autocast", True) and \
            self._dtype_policy.compute_dtype != self._dtype_policy.variable_dtype

    def _casts_input(self, x):
        """Keras's autocast of a float input Tensor, kept to mixed precision's boundaries (a
        float64 Tensor still passes through a float32 layer unchanged)."""
        if not getattr(self, "autocast", True) or x.dtype.kind != "f" or \
                x.dtype == self.compute_dtype:
            return False
        return self._mixed() or "float16" in (x.dtype, self.compute_dtype)

    @contextlib.contextmanager
    def _autocast_variables(self):
        """Under a mixed policy, the float weights this layer holds as attributes are seen in
        the compute dtype during ``call`` (a differentiable cast of each, restored after)."""
        if not self._mixed():
            yield
            return
        skip = self.__dict__.get("_no_autocast", ())
        own = {id(v): v for v in self._trainable_variables + self._non_trainable_variables
               if v.trainable and v.dtype.kind == "f" and id(v) not in skip}
        swapped = {name: value for name, value in self.__dict__.items() if id(value) in own}
        # NOTE: only trainable weights: a non-trainable one (moving statistics) is assigned to.
        casts = {}
        for name, variable in swapped.items():
            if id(variable) not in casts:
                casts[id(variable)] = engine.ops.cast(variable, self.compute_dtype)
            object.__setattr__(self, name, casts[id(variable)])
        try:
            yield
        finally:
            for name, variable in swapped.items():
                object.__setattr__(self, name, variable)
