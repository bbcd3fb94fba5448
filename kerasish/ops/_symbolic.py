"""``keras.ops`` functions called on KerasTensors: a graph node whose shapes come by arithmetic.

A public op is written once, for real tensors, and decorated with the function that gives its
output spec (Keras 3's ``compute_output_spec``):

    @keras_op(spec=unary_spec)
    def sin(x):
        return engine_ops_sin(x)

Called on arrays or engine Tensors it computes. Called with a KerasTensor anywhere among its
arguments it computes nothing: an ``OpLayer`` records a node of the functional graph, and
``spec`` receives the same arguments (KerasTensors in place) and returns the output
KerasTensor(s). The graph walk later calls the op again on the real tensors.
"""
from __future__ import annotations

import functools
import re

import numpy as np

from .. import utils
from ..layers.layer import Layer
from ..symbolic import KerasTensor, is_keras_tensor


class _Slot:
    """Where the i-th KerasTensor argument goes back in an op call."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def _template(args, kwargs):
    """``(args, kwargs)`` with each KerasTensor swapped for a ``_Slot``, and the tensors."""
    tensors = []

    def swap(x):
        if is_keras_tensor(x):
            tensors.append(x)
            return _Slot(len(tensors) - 1)
        return x

    return utils.map_structure(swap, (tuple(args), dict(kwargs))), tensors


def _fill(template, values):
    return utils.map_structure(lambda x: values[x.index] if isinstance(x, _Slot) else x,
                               template)


class OpLayer(Layer):
    """One ``keras.ops`` call in a functional graph (Keras 3's ``Operation`` node).

    Its inputs are the KerasTensors of the call, in argument order; the other arguments are
    kept as they were given.
    """

    _is_op = True  # NOTE: listed in a model's ``operations``, not in its ``layers`` (Keras 3)

    def __init__(self, fn, spec, template, **kwargs):
        floats = [t.dtype for t in kwargs.pop("_tensors", ()) if np.dtype(t.dtype).kind == "f"]
        kwargs.setdefault("dtype", floats[0] if floats else None)
        kwargs.setdefault("name", utils.unique_name(fn.__name__))
        super().__init__(**kwargs)
        self.fn, self.spec, self.template = fn, spec, template
        self.params = {}
        self.autocast = False  # NOTE: an op promotes its inputs' dtypes itself, as Keras's ops
        self.built = True

    def call(self, inputs):
        args, kwargs = _fill(self.template, list(inputs))
        return self.fn(*args, **kwargs)

    def compute_output_spec(self, inputs, *unused_args, **unused_kwargs):
        args, kwargs = _fill(self.template, list(inputs))
        return self.spec(*args, **kwargs)

    def compute_mask(self, inputs, mask=None):
        return None  # NOTE: as Keras 3's ops, a mask stops at an op

    def get_config(self):
        return {**super().get_config(), "function": self.fn.__name__}

    # -- saving, as Keras 3 writes an op of a functional model --------------------------------
    def _keras_op_config(self):
        """This layer's entry among a functional config's layers: Keras's op class
        (``keras.src.ops.numpy``, ``Sin``) with only the name in its config."""
        family = self.fn.__module__.rsplit(".", 1)[-1].lstrip("_").split("_")[0]
        class_name = _class_name(self.fn.__name__)
        return {"module": f"keras.src.ops.{family}", "class_name": class_name,
                "config": {"name": self.name}, "registered_name": class_name}

    def _keras_call_arguments(self, node):
        """A node's arguments as the op took them: constants in place, as Keras records."""
        args, kwargs = _fill(self.template, list(node.input_tensors))
        return list(args), kwargs

    def replay_call(self, *args, **kwargs):
        """Records the op's node again from a saved config's arguments (Keras's op parameters,
        such as ``axis``, come from the config)."""
        self.template, tensors = _template(args, {**self.params, **kwargs})
        return self(tensors)


def _class_name(op_name):
    return "".join(part[:1].upper() + part[1:] for part in op_name.split("_"))


# Keras's op classes whose names are not their function's, letters aside.
_KERAS_CLASS_ALIASES = {"RMSNorm": "rms_normalization", "LayerNorm": "layer_normalization",
                        "BatchNorm": "batch_normalization"}


def _snake_case(class_name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


def op_layer_from_config(data):
    """The ``OpLayer`` of a functional config's op entry (module ``keras.src.ops.*``).

    The op is looked up by name in ``kerasish.ops`` only, never imported from the file.
    """
    from .. import ops

    config = dict(data.get("config") or {})
    name = _KERAS_CLASS_ALIASES.get(data["class_name"], _snake_case(data["class_name"]))
    namespaces = (ops, ops.image, ops.linalg)  # keras.ops.image's ops are not at top level
    op = next((getattr(m, name) for m in namespaces if hasattr(m, name)), None)
    if not callable(getattr(op, "spec", None)):  # "IsIn", "SearchSorted", "CTCLoss", ...
        squashed = {n.replace("_", ""): getattr(m, n) for m in namespaces for n in dir(m)
                    if not n.startswith("_")}
        op = squashed.get(data["class_name"].lower())
    if not callable(getattr(op, "spec", None)):
        raise ValueError(f"Unknown Keras op '{data['class_name']}' in a model config: "
                         f"kerasish.ops has no `{name}`. Received: class_name="
                         f"{data['class_name']!r}")
    layer_class = getattr(op, "layer_class", OpLayer)
    layer = layer_class(getattr(op, "__wrapped__", op), op.spec, None,
                        name=config.pop("name", None) or data.get("name"))
    for key in ("trainable", "dtype", "function"):
        config.pop(key, None)
    layer.params = config
    return layer


def keras_op(spec):
    """Makes ``fn`` record a graph node (shapes from ``spec``) when called on KerasTensors."""

    def decorate(fn):
        # NOTE: one OpLayer subclass per op, named as Keras's op class ("Sin", "GetItem"), so
        # summaries and configs show the op as Keras does.
        layer_class = type(_class_name(fn.__name__), (OpLayer,), {"__module__": __name__})

        @functools.wraps(fn)
        def op(*args, **kwargs):
            template, tensors = _template(args, kwargs)
            if not tensors:
                return fn(*args, **kwargs)
            return layer_class(fn, spec, template, _tensors=tensors)(tensors)

        op.spec, op.layer_class = spec, layer_class
        return op

    return decorate


# -- specs shared by many ops ---------------------------------------------------------------

def _dtype(x):
    if is_keras_tensor(x) or hasattr(x, "dtype"):
        return np.dtype(x.dtype).name
    return None


def _shape(x):
    if is_keras_tensor(x) or hasattr(x, "shape"):
        return tuple(x.shape)
    return np.shape(x)


def broadcast_shapes(*shapes):
    """NumPy broadcasting with None (unknown) dimensions; raises on a sure mismatch."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for dims in zip(*[(1,) * (ndim - len(s)) + tuple(s) for s in shapes]):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError("Cannot broadcast shapes " + ", ".join(map(str, shapes)) + ". "
                             f"Received: shapes={shapes}")
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def unary_spec(x, *args, **kwargs):
    """Same shape and dtype as ``x``."""
    return KerasTensor(_shape(x), dtype=_dtype(x) or "float32")


def elementwise_spec(*args, **kwargs):
    """The broadcast shape of the tensor arguments; the first tensor's dtype."""
    tensors = [a for a in args if is_keras_tensor(a) or hasattr(a, "shape")]
    dtype = next((_dtype(t) for t in tensors), "float32")
    return KerasTensor(broadcast_shapes(*(_shape(t) for t in tensors)), dtype=dtype)


def reduce_spec(x, axis=None, keepdims=False, **kwargs):
    """``x``'s shape with ``axis`` removed (or kept as 1)."""
    shape = _shape(x)
    if axis is None:
        axes = set(range(len(shape)))
    else:
        axes = {a % len(shape) for a in (axis if isinstance(axis, (list, tuple)) else [axis])}
    out = tuple(1 if i in axes else d for i, d in enumerate(shape) if keepdims or i not in axes)
    return KerasTensor(out, dtype=_dtype(x) or "float32")


def rule_spec(rule, n=None):
    """Broadcast shape of the first ``n`` arguments (all if None); dtype ``rule(*their dtypes)``.

    ``rule`` takes dtype names, or Python types for scalars (weak types), as
    ``kerasish.dtypes.result_type`` does.
    """
    from ._convert import dtype_of

    def spec(*args, **kwargs):
        args = [a for a in args[:n] if a is not None]
        shape = broadcast_shapes(*(_shape(a) for a in args))
        return KerasTensor(shape, dtype=rule(*(dtype_of(a) for a in args)))

    return spec
