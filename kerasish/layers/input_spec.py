"""InputSpec: what a layer accepts (rank, axes, dtype), checked at graph-build and call time."""
from __future__ import annotations

from .. import utils

_AXES_HINT = {3: "(batch, steps, features)", 4: "(batch, h, w, c)", 5: "(batch, time, h, w, c)"}


class InputSpec:
    """Keras's InputSpec: ``ndim``, ``min_ndim``, ``max_ndim``, ``axes`` {axis: size}, ``dtype``."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = dtype
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name = name
        self.optional = optional


def _hint(expected, got):
    """A hint when only one axis too many or too few is off (usually the batch or time axis)."""
    if abs(expected - got) != 1:
        return ""
    layout = _AXES_HINT.get(expected)
    extra = f" {layout}" if layout else ""
    return (f" (expected ndim={expected}{extra}, got ndim={got}: check the batch axis, "
            "or wrap the layer in TimeDistributed for one more axis)")


def check_input_spec(layer, inputs):
    """Raises a ValueError naming the layer, the expectation and the received shape."""
    specs = layer.input_spec
    if specs is None:
        return
    specs = specs if isinstance(specs, (list, tuple)) else [specs]
    names = [getattr(spec, "name", None) for spec in specs]
    if isinstance(inputs, dict) and all(names):  # a dict is read by the specs' names
        for name in names:
            if name not in inputs:
                raise ValueError(
                    f'Missing data for input "{name}". You passed a data dictionary with keys '
                    f"{list(inputs.keys())}. Expected the following keys: {names}")
        inputs = [inputs[name] for name in names]
    flat = utils.flatten(inputs)
    for index, (x, spec) in enumerate(zip(flat, specs)):
        if spec is None or not hasattr(x, "shape"):
            continue
        shape = tuple(x.shape)
        head = (f"Input {index} with name '{spec.name}' of layer '{layer.name}' is incompatible "
                "with the layer: ")
        ndim = len(shape)
        squeeze = getattr(spec, "allow_last_axis_squeeze", False)
        if spec.ndim is not None and not squeeze and ndim != spec.ndim:
            raise ValueError(head + f"expected ndim={spec.ndim}, found ndim={ndim}. "
                             f"Full shape received: {shape}" + _hint(spec.ndim, ndim))
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(head + f"expected min_ndim={spec.min_ndim}, found ndim={ndim}. "
                             f"Full shape received: {shape}" + _hint(spec.min_ndim, ndim))
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(head + f"expected max_ndim={spec.max_ndim}, found ndim={ndim}. "
                             f"Full shape received: {shape}")
        if spec.dtype is not None and str(x.dtype) != str(spec.dtype):
            raise ValueError(head + f"expected dtype={spec.dtype}, found dtype={x.dtype}. "
                             f"Full shape received: {shape}")
        for axis, value in spec.axes.items():
            if value is None or not -ndim <= axis < ndim:
                continue
            if shape[axis] is not None and shape[axis] != value:
                raise ValueError(head + f"expected axis {axis} of input shape to have value "
                                 f"{value}, but received input with shape {shape}")
        if spec.shape is not None:
            want_shape = spec.shape
            if squeeze:  # a trailing axis of 1 on either side is not compared (Keras)
                shape = shape[:-1] if shape and shape[-1] == 1 else shape
                want_shape = want_shape[:-1] if want_shape and want_shape[-1] == 1 else want_shape
            for want, got in zip(want_shape, shape):
                if want is not None and got is not None and want != got:
                    raise ValueError(head + f"expected shape={spec.shape}, found shape={shape}")
