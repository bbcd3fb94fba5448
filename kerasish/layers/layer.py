"""Layer: the base class of every layer and model (Keras 3's life cycle).

``__init__(**hyperparameters)`` -> ``build(input_shape)`` with ``add_weight`` ->
``call(inputs, training=None, mask=None)`` with ``engine.ops`` -> ``compute_output_shape`` ->
``get_config``. ``__call__`` lives only here.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import threading
import warnings

import numpy as np

import engine
from engine import Tensor, backend

from .. import config, constraints, initializers, regularizers, utils
from ..sparse import SparseBatch
from ..symbolic import KerasTensor, Node, is_keras_tensor, is_string_dtype
from ..variables import Variable
from .input_spec import InputSpec, check_input_spec
from .layer_dtype import LayerDTypeMixin, dtype_name, serialize_dtype_policy  # noqa: F401
from .layer_weights import LayerWeightsMixin

_context = threading.local()


@contextlib.contextmanager
def _training_context(training):
    previous = getattr(_context, "training", None)
    _context.training = training
    try:
        yield
    finally:
        _context.training = previous


@contextlib.contextmanager
def _entry_call(layer):
    """Marks the outermost layer call; it clears the losses of the previous call (Keras 3)."""
    entry = not getattr(_context, "in_call", False)
    if entry:
        layer._clear_losses()
        _context.in_call = True
    try:
        yield
    finally:
        if entry:
            _context.in_call = False


def _call_signature(cls):
    """Which of ``training``/``mask`` a class's ``call`` takes (cached per class)."""
    cached = cls.__dict__.get("_call_sig_cache")
    if cached is None:
        params = inspect.signature(cls.call).parameters
        has_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
        cached = ("training" in params or has_kwargs, "mask" in params)
        setattr(cls, "_call_sig_cache", cached)
    return cached


class Layer(LayerWeightsMixin, LayerDTypeMixin):
    """Base class of layers.

    >>> class Scale(Layer):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
    ...     def call(self, inputs):
    ...         return engine.ops.multiply(inputs, self.w)
    """

    def __init_subclass__(cls, **kwargs):
        # A direct `layer.build(shape)` marks the layer built too, as in Keras.
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_marks_built", False):
            @functools.wraps(build)
            def build_and_mark(self, *args, **kw):
                build(self, *args, **kw)
                if args and self._build_shapes is None:
                    self._build_shapes = args[0]
                self.built = True

            build_and_mark._marks_built = True
            cls.build = build_and_mark

    def __init__(self, trainable=True, name=None, dtype=None, input_shape=None,
                 activity_regularizer=None, **kwargs):
        autocast = kwargs.pop("autocast", True)
        for key in ("input_dim", "batch_size", "batch_input_shape"):
            kwargs.pop(key, None)
        if kwargs:
            raise ValueError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        object.__setattr__(self, "_layers", [])
        self.name = name or utils.unique_name(utils.to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.dtype_policy = dtype
        self.autocast = autocast
        self.built = False
        self._trainable_variables = []
        self._non_trainable_variables = []
        self._inbound_nodes = []
        self._build_shapes = None
        self._input_shape_arg = None if input_shape is None else tuple(input_shape)
        self.input_spec = None
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._activity_losses = []
        if not hasattr(self, "supports_masking"):
            self.supports_masking = type(self).compute_mask is not Layer.compute_mask

    # -- attribute tracking: sub-layers assigned as attributes own their weights ----------
    def __setattr__(self, name, value):
        if name != "_layers" and hasattr(self, "_layers"):
            items = value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                if isinstance(item, Layer) and item is not self and \
                        all(item is not x for x in self._layers):
                    self._layers.append(item)
        object.__setattr__(self, name, value)

    # -- the life cycle ----------------------------------------------------------------------
    def build(self, input_shape):
        """Creates the weights; the default creates none."""

    def call(self, inputs, *args, **kwargs):
        raise NotImplementedError(f"Layer {type(self).__name__} does not implement call().")

    def compute_output_shape(self, input_shape):
        raise NotImplementedError

    def compute_mask(self, inputs, mask=None):
        return mask

    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True,
                   regularizer=None, constraint=None, name=None, autocast=True):
        """Creates a weight on the current device, in Keras's order (in the policy's
        variable dtype; with ``autocast``, a mixed policy's call sees it in the compute
        dtype)."""
        shape = () if shape is None else tuple(int(d) for d in shape)
        dtype = np.dtype(dtype or self.variable_dtype).name
        if initializer is None:
            initializer = "glorot_uniform" if np.dtype(dtype).kind == "f" else "zeros"
        init = initializers.get(initializer)
        value = init(shape, dtype=dtype)
        variable = Variable(value, name=name, trainable=trainable, dtype=dtype,
                            path=f"{self.name}/{name}")
        variable.regularizer = regularizers.get(regularizer)
        variable.constraint = constraints.get(constraint)
        if not autocast:
            self.__dict__.setdefault("_no_autocast", set()).add(id(variable))
        (self._trainable_variables if trainable else self._non_trainable_variables).append(variable)
        if not self._trainable and trainable:
            variable.trainable = False
        return variable

    # -- __call__ ----------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        # 1. The first argument is the input structure; the rest are passed through.
        if args:
            inputs, args = args[0], args[1:]
        elif "inputs" in kwargs:
            inputs = kwargs.pop("inputs")
        else:
            raise ValueError(f"Layer '{self.name}' was called without inputs.")
        # 2. Symbolic inputs build a graph node and return KerasTensors; nothing is computed.
        if any(is_keras_tensor(x) for x in utils.flatten(inputs)):
            return self._symbolic_call(inputs, args, kwargs)
        # 3. Arrays become engine Tensors on the current device, floats in the layer's dtype;
        #    string arrays and sparse batches pass as they are (docs/sparse.md).
        inputs = utils.map_structure(self._to_tensor, inputs)
        _check_input_kinds(self, inputs)
        # 4. Check the inputs against input_spec, build on first call, check again (build may
        #    pin axes such as Dense's last one).
        check_input_spec(self, inputs)
        if not self.built:
            self._maybe_build(utils.map_structure(lambda t: tuple(t.shape), inputs))
            check_input_spec(self, inputs)
        # 5. Resolve `training` (explicit, else the enclosing call's) and `mask`.
        has_training, has_mask = _call_signature(type(self))
        training = kwargs.pop("training", None)
        if training is None:
            training = getattr(_context, "training", None)
        if has_training:
            kwargs["training"] = training
        previous_mask = kwargs.get("mask")
        if previous_mask is None:
            previous_mask = utils.map_structure(lambda t: getattr(t, "_keras_mask", None), inputs)
            if all(m is None for m in utils.flatten(previous_mask)):
                previous_mask = None
            if has_mask and previous_mask is not None:
                kwargs["mask"] = previous_mask
        # 6. Call, with `training` visible to nested layers; the outermost call drops the
        #    losses that `add_loss` recorded in the previous one.
        with _training_context(training), _entry_call(self), self._autocast_variables():
            outputs = self.call(inputs, *args, **kwargs)
        # 7. Attach the output masks; record the activity penalty, if any.
        self._set_output_masks(inputs, outputs, previous_mask)
        if self.activity_regularizer is not None:
            self._activity_losses = [self.activity_regularizer(t) for t in utils.flatten(outputs)]
        return outputs

    def _to_tensor(self, x):
        if isinstance(x, Tensor):
            return engine.ops.cast(x, self.compute_dtype) if self._casts_input(x) else x
        if x is None or isinstance(x, (str, bool, SparseBatch)):
            return x
        if isinstance(x, np.ndarray) and x.dtype.kind in "USO":
            return x.astype(object)
        array = backend.to_device(x, config.device())
        if array.dtype.kind == "f" and array.dtype != self.compute_dtype:
            array = array.astype(self.compute_dtype)
        return Tensor(array)

    def _maybe_build(self, shapes):
        if self.built:
            return
        self._build_shapes = shapes
        self.build(shapes)
        self.built = True

    def _set_output_masks(self, inputs, outputs, previous_mask):
        if not self.supports_masking:
            if previous_mask is not None and not isinstance(self, _MASK_DROPPING_OK):
                warnings.warn(
                    f"Layer '{self.name}' (of type {type(self).__name__}) was passed an input "
                    "with a mask attached to it. However, this layer does not support masking "
                    "and will therefore destroy the mask information. Downstream layers will "
                    "not see the mask.", stacklevel=3)
            return
        masks = self.compute_mask(inputs, previous_mask)
        if masks is None:
            masks = utils.map_structure(lambda _: None, outputs)
        flat_out = utils.flatten(outputs)
        flat_masks = utils.flatten(masks) if utils.is_nested(masks) else [masks] * len(flat_out)
        for t, m in zip(flat_out, flat_masks):
            if isinstance(t, Tensor):
                t._keras_mask = m

    # -- symbolic calls ----------------------------------------------------------------------
    def _symbolic_call(self, inputs, args, kwargs):
        _check_input_kinds(self, inputs)
        check_input_spec(self, inputs)
        if not self.built:
            self._maybe_build(utils.map_structure(lambda t: t.shape, inputs))
            check_input_spec(self, inputs)
        outputs = self.compute_output_spec(inputs, *args, **kwargs)
        call_kwargs = {k: v for k, v in kwargs.items() if k not in ("training",)}
        Node(self, (inputs,) + tuple(args), call_kwargs, outputs)
        return outputs

    def compute_output_spec(self, inputs, *args, **kwargs):
        """KerasTensors for the outputs, from ``compute_output_shape`` (pure arithmetic)."""
        shapes = utils.map_structure(lambda t: t.shape, inputs)
        try:
            out_shapes = self.compute_output_shape(shapes)
        except NotImplementedError:
            return self._output_spec_by_running(inputs, *args, **kwargs)
        dtype = self._output_dtype(inputs)
        return utils.map_shapes(lambda s: KerasTensor(s, dtype=dtype), out_shapes)

    def _output_dtype(self, inputs):
        return self.compute_dtype

    def _output_spec_by_running(self, inputs, *args, **kwargs):
        """Fallback for layers without shape arithmetic (Lambda, subclassed models).

        Runs ``call`` twice on zeros, with each unknown dimension set to 1 and then 2: output
        dimensions that change are reported as unknown.
        """
        xp = backend.xp_for(config.device())

        def run(fill):
            def zeros(t):
                if not is_keras_tensor(t):
                    return t
                shape = tuple(fill if d is None else d for d in t.shape)
                if t.dtype == "string":  # a string batch is a host object array
                    return np.full(shape, "", dtype=object)
                return Tensor(xp.zeros(shape, dtype=t.dtype))

            with engine.no_grad():
                return self(utils.map_structure(zeros, inputs), *args, **kwargs)

        first, second = run(1), run(2)
        specs = [KerasTensor(tuple(a if a == b else None for a, b in zip(t1.shape, t2.shape)),
                             dtype=t1.dtype)
                 for t1, t2 in zip(utils.flatten(first), utils.flatten(second))]
        return utils.pack_like(first, specs)

    # -- graph facts -------------------------------------------------------------------------
    def _node_outputs(self, attr):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer '{self.name}' has never been called and thus has no "
                                 f"defined {attr}.")
        node = self._inbound_nodes[0]
        return node.outputs if attr == "output" else node.input_tensors

    @property
    def output(self):
        outs = self._node_outputs("output")
        return outs[0] if len(outs) == 1 else outs

    @property
    def input(self):
        ins = self._node_outputs("input")
        return ins[0] if len(ins) == 1 else ins

    # -- config ------------------------------------------------------------------------------
    def get_config(self):
        cfg = {"name": self.name, "trainable": self.trainable,
               "dtype": serialize_dtype_policy(self.dtype_policy.name)}
        if self.activity_regularizer is not None:
            cfg["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        if self._input_shape_arg is not None:
            cfg["input_shape"] = self._input_shape_arg
        return cfg

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _check_input_kinds(layer, inputs):
    """Strings carry no gradient and no numbers: only layers that set ``_accepts_strings``
    (lookups, hashing, text) and containers of layers take them; likewise sparse batches go
    only to layers that set ``_accepts_sparse`` (Dense) (docs/sparse.md)."""
    if layer._layers:
        return
    for x in utils.flatten(inputs):
        if (isinstance(x, SparseBatch) or getattr(x, "sparse", False) is True) and \
                not getattr(layer, "_accepts_sparse", False):
            raise TypeError(
                f"Layer '{layer.name}' (of type {type(layer).__name__}) does not take sparse "
                "batches; only Dense (and LinearModel) consume them. Set `sparse=False` on the "
                f"layer that makes them. Received: a sparse input of shape {tuple(x.shape)}")
        if getattr(layer, "_accepts_strings", False):
            continue
        dtype = getattr(x, "dtype", None)
        if isinstance(dtype, (str, np.dtype)) and is_string_dtype(dtype):
            raise TypeError(
                f"Layer '{layer.name}' (of type {type(layer).__name__}) computes on numbers but "
                "received strings. Strings carry no gradient: turn them into numbers first with "
                "a StringLookup, Hashing or TextVectorization layer. Received: "
                f"inputs with dtype={dtype} and shape="
                f"{tuple(x.shape)}")


# Layers that legitimately drop a mask without a warning (none yet; merge-free reductions).
_MASK_DROPPING_OK = ()

__all__ = ["Layer", "InputSpec"]
