"""Training: the ``Trainer`` mixin of ``Model`` — compile, fit, evaluate, predict and the
``*_on_batch`` calls, with Keras 3's callback order, logs and return values."""
from __future__ import annotations

import inspect
import itertools
import warnings

import numpy as np

import engine
from engine import Tensor, backend
from engine.ops import indexing as index_ops

from . import callbacks as callbacks_module
from . import compiled_step, config
from . import data as data_module
from . import metrics as metrics_module
from . import optimizers, utils
from . import random_state
from .compile_utils import CompileLoss, CompileMetrics, logs_from
from .distribution import hooks as distributed
from .symbolic import KerasTensor


def _to_numpy_structure(x):
    return utils.map_structure(lambda t: backend.to_numpy(t.data if isinstance(t, Tensor) else t),
                               x)


def _capped(value, cap, what):
    """``value`` limited by ``keras.config.set_max_epochs``/``set_max_steps_per_epoch``."""
    if cap and (value is None or cap < value):
        warnings.warn(f"Limiting {what} to {cap}")
        return cap
    return value


def pythonify_logs(logs):
    """A step's logs as Keras passes them on: nested dicts flattened, values as Python floats
    where they convert (tensors, arrays, metric results), keys sorted.

    >>> pythonify_logs({"b": np.float32(1.5), "a": {"mae": 2}})
    {'mae': 2.0, 'b': 1.5}
    """
    out = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            out.update(pythonify_logs(value))
            continue
        try:
            value = float(backend.to_numpy(value.data if isinstance(value, Tensor) else value))
        except (TypeError, ValueError):
            pass
        out[key] = value
    return out


def _step_data(data):
    """A batch on the device, packed as Keras hands it to ``train_step``/``test_step``:
    ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` (so ``x, y = data`` works)."""
    data = data_module.to_device_structure(data)
    if isinstance(data, tuple) and len(data) == 3 and data[2] is None:
        data = data[:2] if data[1] is not None else data[:1]
    return data


def _reads_batch_logs(callback_list, *hooks):
    """Whether a callback overrides one of the batch-end ``hooks`` (and so may read the logs):
    Keras's test for calling them in step. Otherwise no step's logs are read from the device;
    the loop reads its last step's at the end (``_final_logs``)."""
    def overridden(cb, hook):  # a method of a subclass, or a function set on the instance
        fn = getattr(cb, hook)
        return getattr(fn, "__func__", fn) is not getattr(callbacks_module.Callback, hook)

    return any(getattr(cb, "_reads_batch_logs", True) and overridden(cb, hook)
               for cb in callback_list.callbacks for hook in hooks)


def _executions(numbered, size):
    """``(batch, data)`` pairs grouped ``size`` at a time: what one execution runs (Keras's
    ``steps_per_execution``; the last group may be shorter)."""
    group = []
    for item in numbered:
        group.append(item)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group


def _closing(iterator):
    close = getattr(iterator, "close", None)
    if close is not None:
        close()  # NOTE: ends a PyDataset's workers when the loop stops early


def _concat(batches):
    """Per-batch outputs (arrays, lists or dicts of arrays) joined along the batch axis."""
    first = batches[0]
    if isinstance(first, dict):
        return {k: np.concatenate([b[k] for b in batches]) for k in first}
    if isinstance(first, (list, tuple)):
        return [np.concatenate([b[i] for b in batches]) for i in range(len(first))]
    return np.concatenate(batches)


class Trainer:
    """compile / fit / evaluate / predict for ``Model`` (docs/design.md, K4)."""

    compiled = False
    optimizer = None
    stop_training = False
    history = None

    # -- compile -------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Configures the model for training (Keras 3's arguments).

        ``steps_per_execution=N`` runs N steps per call of the training loop: callbacks and the
        progress bar see one batch per execution (its first step at ``on_*_batch_begin``, its
        last at ``on_*_batch_end``) and the logs are read once per execution.
        ``auto_scale_loss`` matters only under a ``mixed_float16`` dtype policy, where the
        optimizer is wrapped in a ``LossScaleOptimizer``; otherwise it has no effect.
        ``jit_compile`` ("auto", True or False) picks the checked compiled step.
        """
        # What the user gave, as given: saved as the file's compile/training config.
        if isinstance(steps_per_execution, bool) or not isinstance(steps_per_execution, int) \
                or steps_per_execution < 1:
            raise ValueError("`steps_per_execution` must be a positive integer. Received: "
                             f"steps_per_execution={steps_per_execution}")
        self.steps_per_execution = steps_per_execution
        self._compile_config = {
            "optimizer": optimizer, "loss": loss, "loss_weights": loss_weights,
            "metrics": metrics, "weighted_metrics": weighted_metrics, "run_eagerly": run_eagerly,
            "steps_per_execution": steps_per_execution, "jit_compile": jit_compile}
        self.optimizer = optimizers.get(optimizer)
        if auto_scale_loss and self.dtype_policy.name == "mixed_float16" and \
                self.optimizer is not None and \
                not isinstance(self.optimizer, optimizers.LossScaleOptimizer):
            # Keras 3: float16 training scales the loss dynamically (so grads don't underflow)
            self.optimizer = optimizers.LossScaleOptimizer(self.optimizer,
                                                           name="loss_scale_optimizer")
        self.loss = loss
        self._compile_loss = CompileLoss(loss, loss_weights) if loss is not None else None
        self._compile_metrics = CompileMetrics(metrics, weighted_metrics)
        self._loss_tracker = metrics_module.Mean(name="loss")
        self.jit_compile = jit_compile
        self.__dict__.pop("_compiled_steps", None)  # plans belong to the old loss and optimizer
        self.__dict__.pop("_compiled_predicts", None)
        self.run_eagerly = run_eagerly
        self.compiled = True
        self.stop_training = False

    def _assert_compiled(self):
        if not self.compiled:
            raise ValueError("You must call `compile()` before using the model.")

    @property
    def metrics(self):
        """The ``loss`` tracker, the per-output loss trackers, the compiled metrics, then the
        metrics assigned to the model as attributes (Keras 3 tracks those too)."""
        out = []
        if getattr(self, "_loss_tracker", None) is not None:
            out.append(self._loss_tracker)
        if getattr(self, "_compile_loss", None) is not None:
            out += self._compile_loss.metrics
        if getattr(self, "_compile_metrics", None) is not None:
            out += self._compile_metrics.metrics
        for value in list(vars(self).values()):
            if isinstance(value, metrics_module.Metric) and all(value is not m for m in out):
                out.append(value)
        return out

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    @property
    def _compiled_metric_directions(self):
        directions = self._compile_metrics.directions() if self.compiled else {}
        return {**directions, **{f"val_{k}": v for k, v in directions.items()}}

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    # -- steps (overridable, as in Keras) ------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss: the compiled loss plus ``self.losses`` (regularizers, ``add_loss``).

        Override it (with or without ``training``) to compute the loss another way; the
        default ``train_step``/``test_step`` track its value as ``loss``.
        """
        if self._compile_loss is None:
            losses = [engine.ops.sum(loss) for loss in self.losses]
            if not losses:
                raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
            total = losses[0]
            for extra in losses[1:]:
                total = engine.ops.add(total, extra)
            return total
        return self._compile_loss(self, y, y_pred, sample_weight)

    def _compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """``compute_loss``, passing ``training`` only to an override that takes it (Keras 3's
        rule: the argument came in Keras 3.3)."""
        if "training" in inspect.signature(self.compute_loss).parameters:
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    def _track_loss(self, loss, x):
        tracker = getattr(self, "_loss_tracker", None)
        if tracker is not None and loss is not None:
            batch = next(t.shape[0] for t in utils.flatten(x) if t is not None)
            # NOTE: the loss stays on the device (a host read per step would stall a GPU)
            tracker.update_state(loss.data if isinstance(loss, Tensor) else loss,
                                 sample_weight=batch)

    def train_step(self, data):
        if compiled_step.applies(self, data):
            return compiled_step.train_step(self, data)
        x, y, sample_weight = data_module.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        loss = self._compute_loss(x, y, y_pred, sample_weight, training=True)
        self._track_loss(loss, x)
        variables = self.trainable_weights
        if variables:
            # NOTE: a loss-scaled float16 backward may overflow; LossScaleOptimizer skips that step
            scaling = isinstance(self.optimizer, optimizers.LossScaleOptimizer)
            with np.errstate(over="ignore", invalid="ignore") if scaling else np.errstate():
                grads = engine.grad(self.optimizer.scale_loss(loss), variables)
            self.optimizer.apply(grads, variables)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        x, y, sample_weight = data_module.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self._compute_loss(x, y, y_pred, sample_weight, training=False)
        self._track_loss(loss, x)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        if compiled_step.predict_applies(self, data):
            return compiled_step.predict_step(self, data)
        x, _, _ = data_module.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if y is not None:
            self._compile_metrics.update_state(self, y, y_pred, sample_weight)
        if self.__dict__.get("_defer_logs"):
            return None  # NOTE: inside an execution only its last step reads the logs
        return self.get_metrics_result()

    def _execute(self, step_fn, group, read=True):
        """Runs ``step_fn`` on each batch of one execution; the logs of its last step only are
        read back (one host read per execution, as Keras's compiled multi-step function).

        With ``read=False`` (no callback reads batch logs) nothing is read: returns ``{}`` and
        keeps the last step's own logs (None for the default steps) for ``_final_logs``.
        """
        self.__dict__["_defer_logs"] = True
        try:
            for _, data in group[:-1]:
                step_fn(_step_data(data))
            if not read:
                self.__dict__["_unread_logs"] = step_fn(_step_data(group[-1][1]))
                return {}
        finally:
            self.__dict__["_defer_logs"] = False
        return pythonify_logs(step_fn(_step_data(group[-1][1])))

    def _final_logs(self, logs):
        """The logs of a loop's last step: read now if ``_execute`` left them on the device."""
        unread = self.__dict__.pop("_unread_logs", None)
        return logs or (pythonify_logs(unread) if unread else self.get_metrics_result())

    def get_metrics_result(self):
        with distributed.global_metric_state(self.metrics):  # sums over ranks, if any
            return logs_from(self.metrics)

    # -- fit -----------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains the model; returns a ``History``."""
        self._assert_compiled()
        verbose = 1 if verbose == "auto" else verbose
        epochs = _capped(epochs, config.max_epochs(), "epochs")
        steps_per_epoch = _capped(steps_per_epoch, config.max_steps_per_epoch(), "steps_per_epoch")
        train = data_module.make_data(x, y, sample_weight, batch_size, class_weight,
                                      steps_per_epoch)
        val = None
        if validation_split and validation_data is None:
            if not isinstance(train, data_module.ArrayData):
                raise ValueError("`validation_split` is only supported for NumPy arrays. "
                                 f"Received: x of type {type(x).__name__}")
            train, val = train.split(validation_split)
        elif validation_data is not None:
            vx, vy, vsw = data_module.unpack_x_y_sample_weight(validation_data)
            val = data_module.make_data(vx, vy, vsw, validation_batch_size or batch_size,
                                        steps=validation_steps)
        train, val = distributed.shard(train, self), distributed.shard(val, self)  # rank's part
        steps = train.num_batches if steps_per_epoch is None else steps_per_epoch
        callback_list = callbacks_module.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self, verbose=verbose,
            epochs=epochs, steps=steps)
        self._callback_list = callback_list
        self._build_compiled(train)
        distributed.on_fit_begin(self)  # rank 0's weights and random state everywhere
        self.stop_training = False
        self._resume = None
        callback_list.on_train_begin()
        epoch_logs, resume = {}, self._resume
        start_epoch = max(initial_epoch, resume["epoch"] if resume else 0)
        for epoch in range(start_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            start_batch, order = 0, None
            if resume and resume["epoch"] == epoch and resume["batch"] > 0:
                start_batch, order = resume["batch"], resume.get("order")
            elif shuffle and isinstance(train, data_module.ArrayData):
                order = random_state.permutation(train.num_samples)
            self._epoch_order = order
            logs = self._run_epoch(train, order, start_batch, steps, callback_list)
            index_ops.raise_index_errors()  # what the device-side guards of the plans met
            epoch_logs = dict(logs)
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_data(val, callback_list, in_fit=True)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                epoch_logs = dict(sorted(epoch_logs.items()))
            callback_list.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        if self.optimizer is not None and getattr(self.optimizer, "built", False) and \
                epochs > start_epoch:
            # With use_ema, the weights become their moving averages (Keras, end of fit).
            self.optimizer.finalize_variable_values(self.trainable_weights)
        callback_list.on_train_end(epoch_logs)
        return self.history

    def _run_epoch(self, train, order, start_batch, steps, callback_list):
        logs, read = {}, _reads_batch_logs(callback_list, "on_train_batch_end", "on_batch_end")
        epoch = train.epoch(order, start_batch)
        numbered = itertools.islice(enumerate(epoch, start=start_batch),
                                    None if steps is None else max(steps - start_batch, 0))
        try:
            for group in _executions(numbered, getattr(self, "steps_per_execution", 1)):
                (begin, first), end = group[0], group[-1][0]
                if begin == start_batch:  # generators and PyDatasets: from their first batch
                    self._build_compiled_from(*data_module.unpack_x_y_sample_weight(first)[:2])
                callback_list.on_train_batch_begin(begin)
                logs = self._execute(self.train_step, group, read)
                callback_list.on_train_batch_end(end, logs)
                if self.stop_training or (steps is not None and end + 1 >= steps):
                    break
        finally:
            _closing(epoch)
        return self._final_logs(logs)

    def _build_compiled(self, data):
        """Builds the compiled losses and metrics from shapes before training (Keras's
        symbolic build), so their state exists before the first batch, e.g. to be restored,
        and ``self.metrics`` lists them in a ``train_step`` of one's own."""
        if isinstance(data, data_module.ArrayData):
            x, y, _ = data.batch(0)
            self._build_compiled_from(x, y)

    def _build_compiled_from(self, x, y):
        loss_ready = self._compile_loss is None or self._compile_loss.built
        compiled = self._compile_metrics
        metrics_ready = compiled is None or compiled.built or \
            not (compiled.metrics_spec or compiled.weighted_spec)
        if (loss_ready and metrics_ready) or y is None or \
                not all(hasattr(a, "shape") for a in utils.flatten(x)):
            return
        specs = utils.map_structure(
            lambda a: KerasTensor((None,) + tuple(a.shape[1:]), a.dtype), x)
        y_pred = self.compute_output_spec(specs)
        if not loss_ready:
            self._compile_loss.build(self, y, y_pred)
        if not metrics_ready:
            self._compile_metrics.build(self, y, y_pred)

    # -- evaluate / predict --------------------------------------------------------------------
    def _evaluate_data(self, data, callback_list, in_fit=False):
        for m in self.metrics:
            m.reset_state()
        callback_list.on_test_begin()
        logs, read = {}, _reads_batch_logs(callback_list, "on_test_batch_end")
        with engine.no_grad():
            for group in _executions(enumerate(data.epoch()),
                                     getattr(self, "steps_per_execution", 1)):
                callback_list.on_test_batch_begin(group[0][0])
                logs = self._execute(self.test_step, group, read)
                callback_list.on_test_batch_end(group[-1][0], logs)
        if not read and "_unread_logs" in self.__dict__:
            logs = self._final_logs(logs)
        index_ops.raise_index_errors()
        callback_list.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Returns the loss (and metrics) on the data, as Keras returns them."""
        self._assert_compiled()
        verbose = 1 if verbose == "auto" else verbose
        data = distributed.shard(
            data_module.make_data(x, y, sample_weight, batch_size, steps=steps), self)
        callback_list = callbacks_module.CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
            steps=data.num_batches)
        logs = self._evaluate_data(data, callback_list)
        return self._format_results(logs, return_dict)

    def _format_results(self, logs, return_dict):
        if return_dict:
            return dict(logs)
        ordered = [k for k in ["loss"] + [m.name for m in self.metrics] if k in logs]
        ordered += [k for k in logs if k not in ordered]
        values = [logs[k] for k in dict.fromkeys(ordered)]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Runs the model in batches; returns NumPy arrays (a list or dict for several)."""
        verbose = 1 if verbose == "auto" else verbose
        data = distributed.shard(data_module.make_data(x, None, None, batch_size, steps=steps))
        callback_list = callbacks_module.CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
            steps=data.num_batches)
        callback_list.on_predict_begin()
        outputs = []
        with engine.no_grad():
            for group in _executions(enumerate(data.epoch()),
                                     getattr(self, "steps_per_execution", 1)):
                callback_list.on_predict_batch_begin(group[0][0])
                outs = [_to_numpy_structure(self.predict_step(_step_data(item)))
                        for _, item in group]
                outputs.extend(outs)
                callback_list.on_predict_batch_end(group[-1][0], {"outputs": _concat(outs)})
        index_ops.raise_index_errors()
        callback_list.on_predict_end()
        return distributed.gather_predictions(data, _concat(outputs))

    # -- one batch -----------------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._assert_compiled()
        self.reset_metrics()
        data = data_module.make_data(x, y, sample_weight, batch_size=len(utils.flatten(x)[0]),
                                     class_weight=class_weight)
        logs = pythonify_logs(self.train_step(_step_data(data.batch(0))))
        return self._format_results(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._assert_compiled()
        self.reset_metrics()
        data = data_module.make_data(x, y, sample_weight, batch_size=len(utils.flatten(x)[0]))
        with engine.no_grad():
            logs = pythonify_logs(self.test_step(_step_data(data.batch(0))))
        return self._format_results(logs, return_dict)

    def predict_on_batch(self, x):
        data = data_module.make_data(x, None, None, batch_size=len(utils.flatten(x)[0]))
        with engine.no_grad():
            return _to_numpy_structure(
                self.predict_step(_step_data(data.batch(0))))
