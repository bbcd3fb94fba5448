"""What ``compile`` sets up: the per-output losses and metrics, resolved on the first batch
(when shapes are known, as Keras resolves "accuracy" and "crossentropy")."""
from __future__ import annotations

import numpy as np

from engine import backend, ops

from . import losses as losses_module
from . import metrics as metrics_module
from . import utils

_ACCURACY = ("accuracy", "acc")
_CROSSENTROPY = ("crossentropy", "ce")


def _shape(x):
    return tuple(x.shape)


def _resolve_by_shapes(y_true, y_pred, binary, sparse, categorical):
    """Keras's rule, from shapes only: binary if the prediction's last dim is 1, sparse if the
    labels have a lower rank or a last dim of 1, else categorical."""
    pred_shape, true_shape = _shape(y_pred), _shape(y_true)
    if pred_shape[-1] == 1:
        return binary
    if len(true_shape) < len(pred_shape) or true_shape[-1] == 1:
        return sparse
    return categorical


def output_names(model):
    """Names that prefix per-output logs: dict keys, else the output layers' names."""
    struct = getattr(model, "_outputs_struct", None)
    if isinstance(struct, dict):
        return list(struct)
    outputs = getattr(model, "outputs", None) or []
    return [t._keras_history[0].name for t in outputs]


def _per_output(value, names, what):
    """A compile argument spread over the outputs: one value, a list, or a dict by name."""
    n = len(names)
    if isinstance(value, dict):
        unknown = set(value) - set(names)
        if unknown:
            raise ValueError(f"In the dict argument `{what}`, keys {sorted(unknown)} do not "
                             f"match any model output. Received: {what}={value}")
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)) and n > 1:
        if len(value) != n:
            raise ValueError(f"tuple arity mismatch; expected: {n}, got: {len(value)}; "
                             f"`{what}` must have one entry per output. Received: {what}={value}")
        return list(value)
    return [value] * n if n > 1 else [value]


class CompileLoss:
    """The compiled loss: a weighted sum of per-output losses plus the model's penalties."""

    def __init__(self, loss, loss_weights=None):
        self.loss, self.loss_weights = loss, loss_weights
        self.built = False

    def build(self, model, y_true, y_pred):
        names = output_names(model) if utils.is_nested(y_pred) else [None]
        flat_true, flat_pred = utils.flatten(y_true), utils.flatten(y_pred)
        if len(flat_true) != len(flat_pred):
            raise ValueError(f"The model has {len(flat_pred)} outputs but {len(flat_true)} "
                             f"targets were given. Received: y with {len(flat_true)} arrays")
        specs = _per_output(self.loss, names, "loss")
        weights = _per_output(self.loss_weights, names, "loss_weights") \
            if self.loss_weights is not None else [1.0] * len(names)
        self.entries = []
        for i, (spec, weight) in enumerate(zip(specs, weights)):
            if spec is None:
                continue
            if isinstance(spec, str) and spec.lower() in _CROSSENTROPY:
                spec = _resolve_by_shapes(flat_true[i], flat_pred[i], "binary_crossentropy",
                                          "sparse_categorical_crossentropy",
                                          "categorical_crossentropy")
            name = f"{names[i]}_loss" if names[i] is not None else None
            self.entries.append((i, losses_module.get(spec), float(weight or 1.0), name))
        self.trackers = {name: metrics_module.Mean(name=name)
                         for _, _, _, name in self.entries if name is not None}
        self.built = True

    def __call__(self, model, y_true, y_pred, sample_weight=None):
        """The total loss (an engine scalar); per-output values are tracked for the logs (the
        trainer tracks the total as ``loss``)."""
        total, named = self.compute(model, y_true, y_pred, sample_weight)
        self.track(named, len(utils.flatten(y_pred)[0]))
        return total

    def compute(self, model, y_true, y_pred, sample_weight=None):
        """The total loss and the named per-output losses, with ops only (what a compiled
        step records); ``track`` then adds them to the loss trackers."""
        if not self.built:
            self.build(model, y_true, y_pred)
        flat_true, flat_pred = utils.flatten(y_true), utils.flatten(y_pred)
        flat_sw = utils.flatten(sample_weight) if sample_weight is not None else None
        total, named = None, []
        for i, loss_fn, weight, name in self.entries:
            sw = None if flat_sw is None else flat_sw[i if len(flat_sw) > 1 else 0]
            value = loss_fn(flat_true[i], flat_pred[i], sample_weight=sw)
            if name is not None:
                named.append((name, value))
            term = value if weight == 1.0 else ops.multiply(value, weight)
            total = term if total is None else ops.add(total, term)
        for penalty in model.losses:
            penalty = ops.sum(penalty)  # add_loss may add a non-scalar tensor (Keras sums it)
            total = penalty if total is None else ops.add(total, penalty)
        return total, named

    def track(self, named, batch):
        for name, value in named:
            self.trackers[name].update_state(value.numpy(), sample_weight=batch)

    @property
    def metrics(self):
        return list(self.trackers.values()) if self.built else []


def _metric_from_spec(spec, y_true, y_pred):
    if isinstance(spec, str) and spec.lower() in _ACCURACY:
        cls = _resolve_by_shapes(y_true, y_pred, metrics_module.BinaryAccuracy,
                                 metrics_module.SparseCategoricalAccuracy,
                                 metrics_module.CategoricalAccuracy)
        return cls(name=spec)
    metric = metrics_module.get(spec)
    if isinstance(spec, str):
        metric.name = spec  # a string keeps its spelling ("mae" stays "mae")
    return metric


class CompileMetrics:
    """The compiled metrics of every output, named as Keras names them in the logs."""

    def __init__(self, metrics=None, weighted_metrics=None):
        self.metrics_spec, self.weighted_spec = metrics, weighted_metrics
        self.built = False
        self.entries = []

    def build(self, model, y_true, y_pred):
        names = output_names(model) if utils.is_nested(y_pred) else [None]
        flat_true, flat_pred = utils.flatten(y_true), utils.flatten(y_pred)
        taken = set()
        for spec_all, weighted in ((self.metrics_spec, False), (self.weighted_spec, True)):
            if not spec_all:
                continue
            per_output = self._spread(spec_all, names)
            for i, specs in enumerate(per_output):
                for spec in specs or []:
                    metric = _metric_from_spec(spec, flat_true[i], flat_pred[i])
                    name = ("weighted_" if weighted else "") + metric.name
                    if names[i] is not None:
                        name = f"{names[i]}_{name}"
                    base, k = name, 0
                    while name in taken:
                        k += 1
                        name = f"{base}_{k}"
                    taken.add(name)
                    metric.name = name
                    self.entries.append((i, metric, weighted))
        self.built = True

    @staticmethod
    def _spread(spec, names):
        if len(names) == 1:
            return [spec if isinstance(spec, (list, tuple)) else [spec]]
        if isinstance(spec, dict):
            per = _per_output(spec, names, "metrics")
            return [p if isinstance(p, (list, tuple)) or p is None else [p] for p in per]
        if isinstance(spec, (list, tuple)) and all(isinstance(s, (list, tuple)) for s in spec):
            return [list(s) for s in _per_output(list(spec), names, "metrics")]
        return [[s] for s in _per_output(list(spec), names, "metrics")]

    def update_state(self, model, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(model, y_true, y_pred)
        flat_true, flat_pred = utils.flatten(y_true), utils.flatten(y_pred)
        flat_sw = utils.flatten(sample_weight) if sample_weight is not None else None
        for i, metric, weighted in self.entries:
            sw = None
            if weighted and flat_sw is not None:
                sw = flat_sw[i if len(flat_sw) > 1 else 0]
            metric.update_state(flat_true[i], flat_pred[i], sample_weight=sw)

    @property
    def metrics(self):
        return [metric for _, metric, _ in self.entries]

    def directions(self):
        return {m.name: getattr(m, "_direction", None) for m in self.metrics}


def _log_value(result):
    """A float for a scalar result; an array result (F1Score per class) stays an array (Keras)."""
    value = np.asarray(result)
    return float(value) if value.ndim == 0 else value


def _read_together(values):
    """Python floats of scalar device arrays, in one host copy per device (not one per metric:
    on a GPU each copy waits for the device)."""
    by_device = {}
    for i, v in enumerate(values):
        by_device.setdefault(backend.device_of(v), []).append(i)
    out = [None] * len(values)
    for indices in by_device.values():
        xp = backend.get_array_module(values[indices[0]])
        # NOTE: float64 holds every float32/float16 value exactly: the floats are result()'s.
        host = backend.to_numpy(xp.stack([values[i].astype(np.float64) for i in indices]))
        for i, value in zip(indices, host.tolist()):
            out[i] = value
    return out


def logs_from(metrics):
    """Sorted logs {name: float} from a list of metrics (Keras sorts the keys); a metric whose
    result is a dict contributes its entries, as in Keras. Scalar results of the base classes
    are read in one host copy."""
    logs, names, values = {}, [], []
    for m in metrics:
        value = m._device_result() if hasattr(m, "_device_result") else None
        if value is not None and getattr(value, "ndim", None) == 0 and value.dtype.kind == "f":
            logs[m.name] = None  # keeps the metric's place; read below
            names.append(m.name)
            values.append(value)
            continue
        result = m.result()
        if isinstance(result, dict):
            logs.update({key: _log_value(value) for key, value in result.items()})
        else:
            logs[m.name] = _log_value(result)
    if values:
        logs.update(zip(names, _read_together(values)))
    return dict(sorted(logs.items()))
