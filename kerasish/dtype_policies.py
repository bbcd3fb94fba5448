"""Dtype policies (Keras's ``keras.dtype_policies``): the dtype a layer computes in and the
dtype its variables are stored in, plus the global policy new layers take.

``"mixed_float16"`` computes in float16 and keeps float32 variables (mixed precision); a plain
dtype name (``"float32"``) uses that dtype for both.

>>> set_dtype_policy("mixed_float16")
>>> kerasish.layers.Dense(4).compute_dtype
'float16'
"""
from __future__ import annotations

import re
from collections.abc import MutableMapping

import numpy as np

from . import config

_GLOBAL_POLICY = None


def _standardize(name):
    if name in ("bfloat16", "mixed_bfloat16"):
        # NOTE: NumPy and CuPy have no bfloat16 arrays; "mixed_float16" is the mixed policy here.
        raise ValueError(f"kerasish computes on NumPy/CuPy arrays, which have no bfloat16: use "
                         f"'mixed_float16' or 'float16' instead. Received: name='{name}'")
    try:
        return np.dtype(name).name
    except TypeError:
        raise ValueError(f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid "
                         "policies include 'mixed_float16', 'mixed_bfloat16', and the name of "
                         "any float dtype such as 'float32'.") from None


class DTypePolicy:
    """A layer's dtypes: ``compute_dtype`` (inputs, outputs, math) and ``variable_dtype``
    (weights; cast to the compute dtype when the layer runs).

    Args:
        name: ``"mixed_float16"``, or a dtype name such as ``"float32"``; None takes the
            global policy's name.

    >>> DTypePolicy("mixed_float16").variable_dtype
    'float32'
    """

    def __init__(self, name=None):
        if name is None:
            name = dtype_policy().name
        if not isinstance(name, str):
            raise TypeError("'name' must be a string, such as 'mixed_float16'. "
                            f"Received: name={name} (of type {type(name)})")
        self._name = name
        self._compute_dtype, self._variable_dtype = self._parse_name(name)
        self._quantization_mode = None

    def _parse_name(self, name):
        if name == "mixed_float16":
            return "float16", "float32"
        dtype = _standardize(name)
        return dtype, dtype

    @property
    def name(self):
        return self._name

    @property
    def compute_dtype(self):
        """The dtype of a layer's inputs, outputs and computations."""
        return self._compute_dtype

    @property
    def variable_dtype(self):
        """The dtype a layer creates its weights in."""
        return self._variable_dtype

    @property
    def quantization_mode(self):
        """None: kerasish has no quantized policies."""
        return self._quantization_mode

    def convert_input(self, x, autocast, dtype):
        """``x`` cast to ``dtype`` when ``autocast`` and ``x`` is a float of another dtype."""
        from engine import ops

        dtype = np.dtype(dtype).name
        x_dtype = np.dtype(x.dtype)
        if autocast and x_dtype.kind == "f" and x_dtype.name != dtype:
            return ops.cast(x, dtype)
        return x

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'

    def __eq__(self, other):
        if type(self) in (DTypePolicy, FloatDTypePolicy):
            if type(other) not in (DTypePolicy, FloatDTypePolicy):
                return False
        elif type(other) is not type(self):
            return False
        return self._name == other._name

    def __hash__(self):
        return hash(self._name)


class FloatDTypePolicy(DTypePolicy):
    """Keras 3's older name of ``DTypePolicy`` (kept for configs that use it)."""


class DTypePolicyMap(DTypePolicy, MutableMapping):
    """Policies by layer path (exact, else a ``re.fullmatch`` pattern), with a default.

    Args:
        default_policy: The policy of paths the map does not name (None: the global one).
        policy_map: ``{path or pattern: policy}``.

    >>> policies = DTypePolicyMap("float32", {"encoder/.*": "float16"})
    >>> policies["encoder/dense"].name
    'float16'
    """

    def __init__(self, default_policy=None, policy_map=None):
        if isinstance(default_policy, DTypePolicyMap):
            raise ValueError("`default_policy` cannot be a `DTypePolicyMap`.")
        if policy_map is not None and not isinstance(policy_map, dict):
            raise TypeError("If specified, `policy_map` must be a dict. "
                            f"Received: policy_map={policy_map} of type {type(policy_map)}")
        self._default_policy_arg = default_policy
        self._default_policy = get(default_policy)
        self._policy_map = {}
        for key, policy in (policy_map or {}).items():
            self[key] = policy
        self._quantization_mode = None

    @property
    def name(self):
        return f"map_{self.default_policy._name}"

    @property
    def default_policy(self):
        return get(self._default_policy)

    @property
    def variable_dtype(self):
        return self.default_policy.variable_dtype

    @property
    def compute_dtype(self):
        return self.default_policy.compute_dtype

    def __getitem__(self, key):
        if key in self._policy_map:
            return self._policy_map[key]
        matching = [pattern for pattern in self._policy_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(f"Path '{key}' matches multiple dtype policy specification keys: "
                             f"{matching}. Please make sure each path only matches at most one "
                             "dtype policy specification key in the DTypePolicyMap.")
        if matching:
            return self._policy_map[matching[0]]
        return self.default_policy

    def __setitem__(self, key, policy):
        if key in self._policy_map:
            raise ValueError(f"{key} already exist in the DTypePolicyMap with value "
                             f"{self._policy_map[key]}. Please make sure to not use duplicated "
                             "keys.")
        try:
            policy = get(policy)
        except Exception:
            raise ValueError("Cannot interpret the assigned value by "
                             f"`keras.dtype_policies.get`. Received: {policy} of type "
                             f"{type(policy)}") from None
        self._policy_map[key] = policy

    def __delitem__(self, key):
        return self._policy_map.pop(key)

    def __contains__(self, key):
        return key in self._policy_map

    def __len__(self):
        return len(self._policy_map)

    def __iter__(self):
        return iter(self._policy_map)

    def get_config(self):
        return {"default_policy": self._default_policy_arg,
                "policy_map": {k: serialize(v) for k, v in self._policy_map.items()}}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["policy_map"] = {k: deserialize(v, custom_objects)
                                for k, v in (config.get("policy_map") or {}).items()}
        return cls(**config)

    def __repr__(self):
        mapping = [(k, v.name) for k, v in self._policy_map.items()]
        return (f"<DTypePolicyMap at {hex(id(self))} default_policy="
                f"{self._default_policy.name}, mapping={mapping}>")

    __eq__ = object.__eq__
    __hash__ = object.__hash__


ALL_OBJECTS = (DTypePolicy, FloatDTypePolicy, DTypePolicyMap)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}


def serialize(dtype_policy):
    """A policy as Keras's ``{"module", "class_name", "config", "registered_name"}`` dict."""
    return {"module": "keras", "class_name": type(dtype_policy).__name__,
            "config": dtype_policy.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """A policy from its ``serialize`` dict (tf.keras 2's ``Policy`` dicts too)."""
    class_name = config.get("class_name")
    if class_name == "Policy":  # tf.keras 2's mixed_precision.Policy
        class_name = "DTypePolicy"
    cls = (custom_objects or {}).get(class_name) or ALL_OBJECTS_DICT.get(class_name)
    if cls is None:
        raise ValueError(f"Could not interpret dtype policy identifier: {config}")
    if cls is DTypePolicyMap:
        return cls.from_config(dict(config.get("config") or {}), custom_objects)
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier):
    """A policy from None (the global one), a name, a NumPy dtype, a config dict or a policy.

    >>> get("mixed_float16").compute_dtype
    'float16'
    """
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    try:
        return DTypePolicy(np.dtype(identifier).name)
    except TypeError:
        raise ValueError("Cannot interpret `dtype` argument. Expected a string or an instance "
                         f"of DTypePolicy. Received: dtype={identifier}") from None


def set_dtype_policy(policy):
    """Sets the policy that layers created from now on take (Keras's
    ``keras.config.set_dtype_policy``; ``mixed_precision.set_global_policy``)."""
    global _GLOBAL_POLICY
    if not isinstance(policy, DTypePolicy):
        if not isinstance(policy, str):
            raise ValueError("Invalid `policy` argument. Expected the string name of a policy "
                             "(such as 'mixed_float16') or a `DTypePolicy` instance. Received: "
                             f"policy={policy} (of type {type(policy)})")
        policy = DTypePolicy(policy)
    _GLOBAL_POLICY = policy


def dtype_policy():
    """The global policy: the one set, else ``DTypePolicy(floatx())``."""
    if _GLOBAL_POLICY is None:
        return DTypePolicy(config.floatx())
    return _GLOBAL_POLICY
