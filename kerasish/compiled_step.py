"""The compiled training step of ``compile(jit_compile=...)``.

Forward, loss and backward run as one ``engine.jit`` plan (traced on the first batch of each
shape, checked against the eager step on the second, replayed after); the optimizer update,
the loss trackers and the metrics run as in the eager step, so results equal the eager ones.
"""
from __future__ import annotations

from engine import Tensor, jit

from . import data as data_module
from . import utils


def _jit_on(model):
    return not getattr(model, "run_eagerly", False) and \
        getattr(model, "jit_compile", "auto") not in (False, None)


def _tensors_only(data):
    """String batches (NumPy object arrays) are no plan inputs: such steps run eagerly."""
    return all(x is None or isinstance(x, Tensor) for x in utils.flatten(data))


def applies(model, data=None) -> bool:
    """Compiled unless asked not to, or the model changes what the default step computes."""
    from .trainer import Trainer

    # NOTE: an unbuilt model (subclassed, built by its first call) steps eagerly once: the
    # plan's variables are listed before the call would create them.
    return _jit_on(model) and type(model).compute_loss is Trainer.compute_loss and \
        model._compile_loss is not None and not _scales_loss(model.optimizer) and \
        _tensors_only(data) and getattr(model, "built", True) and _layers_support_jit(model)


def _layers_support_jit(model):
    """Layers that compute on the host from the data (lookups, hashing: Keras's
    ``supports_jit = False``) give a plan constants of one batch: such models step eagerly."""
    stack = [model]
    while stack:
        layer = stack.pop()
        if getattr(layer, "supports_jit", True) is False:
            return False
        stack.extend(getattr(layer, "_layers", ()))
    return True


def _scales_loss(optimizer):
    """A loss-scaling optimizer steps eagerly: its scale changes from step to step."""
    from .optimizers import LossScaleOptimizer

    return isinstance(optimizer, LossScaleOptimizer) or \
        getattr(optimizer, "loss_scale_factor", None) is not None


def predict_applies(model, data=None) -> bool:
    from .trainer import Trainer

    return _jit_on(model) and type(model).predict_step is Trainer.predict_step and \
        _tensors_only(data) and _layers_support_jit(model)


def _shape_of(structure):
    """The nesting of ``structure`` without its leaves (a plan must not keep a batch alive)."""
    return utils.map_structure(lambda _: None, structure)


class _Step:
    """One compiled step for a fixed data structure and list of trainable weights."""

    def __init__(self, model, structure, variables):
        self.model, self.structure, self.pred_structure = model, _shape_of(structure), None
        self.compiled = jit.value_and_grad(self._forward, variables)

    def _forward(self, flat):
        model = self.model
        x, y, sample_weight = utils.pack_like(self.structure, flat)
        y_pred = model(x, training=True)
        total, named = model._compile_loss.compute(model, y, y_pred, sample_weight)
        flat_pred = utils.flatten(y_pred)
        self.pred_structure, self.names = _shape_of(y_pred), [n for n, _ in named]
        masks = [getattr(p, "_keras_mask", None) for p in flat_pred]
        logits = [getattr(p, "_keras_logits", None) for p in flat_pred]  # for the metrics
        return [total] + [v for _, v in named] + flat_pred + masks + logits

    def __call__(self, flat):
        outputs, grads = self.compiled(flat)
        n = len(self.names)
        total, values = outputs[0], outputs[1:1 + n]
        flat_pred = outputs[1 + n:]
        third = len(flat_pred) // 3
        for pred, mask, logits in zip(flat_pred[:third], flat_pred[third:2 * third],
                                      flat_pred[2 * third:]):
            if pred is not None:
                pred._keras_mask, pred._keras_logits = mask, logits
        y_pred = utils.pack_like(self.pred_structure, flat_pred[:third])
        return total, list(zip(self.names, values)), y_pred, grads


def train_step(model, data):
    """The default ``train_step`` through a compiled plan."""
    x, y, sample_weight = data_module.unpack_x_y_sample_weight(data)
    structure = (x, y, sample_weight)
    flat = utils.flatten(structure)
    variables = model.trainable_weights
    key = (repr(_shape_of(structure)), tuple(id(v) for v in variables))
    steps = model.__dict__.setdefault("_compiled_steps", {})
    step = steps.get(key)
    if step is None:
        step = steps[key] = _Step(model, structure, variables)
    total, named, y_pred, grads = step(flat)
    model._compile_loss.track(named, len(utils.flatten(y_pred)[0]))
    model._track_loss(total, x)
    if variables:
        model.optimizer.apply(grads, variables)
    return model.compute_metrics(x, y, y_pred, sample_weight)


class _Predict:
    """The forward pass of ``predict`` as a plan, for one input structure."""

    def __init__(self, model, structure):
        self.model, self.structure, self.out_structure = model, _shape_of(structure), None
        self.compiled = jit.function(self._forward)

    def _forward(self, flat):
        y = self.model(utils.pack_like(self.structure, flat), training=False)
        self.out_structure = _shape_of(y)
        return utils.flatten(y)

    def __call__(self, flat):
        outputs, _ = self.compiled(flat)
        return utils.pack_like(self.out_structure, outputs)


def predict_step(model, data):
    """The default ``predict_step`` through a compiled plan (under ``no_grad``)."""
    x, _, _ = data_module.unpack_x_y_sample_weight(data)
    key = repr(_shape_of(x))
    steps = model.__dict__.setdefault("_compiled_predicts", {})
    step = steps.get(key)
    if step is None:
        step = steps[key] = _Predict(model, x)
    return step(utils.flatten(x))
