"""Optimizer: Keras 3's ``BaseOptimizer`` over engine arrays.

Slot variables are ``kerasish.Variable``s created next to the weight they belong to; every update
is plain xp math on ``.data``, in place and outside autodiff.
"""
from __future__ import annotations

import re
import warnings

import numpy as np

import engine
from engine import Tensor, backend

from .. import config, initializers, utils
from ..distribution import hooks as distributed
from ..variables import Variable
from . import schedules
from ._gradients import as_gradient, cast, clip_gradients, filter_empty_gradients, raw

_SCHEDULE_NOT_SETTABLE = (
    "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
    "constructor argument, hence its learning rate is not settable. If you need the learning "
    "rate to be settable, you should instantiate the optimizer with a float `learning_rate` "
    "argument.")


class Optimizer:
    """Base class of the optimizers (Keras's ``keras.optimizers.Optimizer``).

    A subclass creates its slots in ``build(var_list)`` (``add_optimizer_variables``) and updates
    one weight in ``update_step(gradient, variable, learning_rate)``: ``gradient`` is an xp array
    in the weight's dtype, ``learning_rate`` a Python float, and the step changes
    ``variable.data`` and its slots' ``.data`` in place.

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` or a callable without arguments.
        weight_decay: Float; decoupled decay ``w -= w * weight_decay * lr`` before each update.
        clipnorm: Float; clips each gradient to this L2 norm.
        clipvalue: Float; clips each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: Float; clips all gradients together to this global L2 norm.
        use_ema: Keeps an exponential moving average of the weights.
        ema_momentum: The EMA's momentum.
        ema_overwrite_frequency: Overwrite the weights with their average every N steps.
        loss_scale_factor: Gradients are divided by it (the loss was multiplied by it).
        gradient_accumulation_steps: Int >= 2; update once every N calls with the mean gradient.
        name: The optimizer's name (a prefix of its variables' paths).

    >>> opt = Optimizer(learning_rate=0.1)  # subclasses such as SGD do the updating
    """

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.")
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if name is None:
            name = utils.unique_name(utils.to_snake_case(type(self).__name__))
        self.name = name
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.global_clipnorm = global_clipnorm
        self.clipvalue = clipvalue
        self.use_ema = use_ema
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
            raise ValueError("`gradient_accumulation_steps` must be an integer >= 2. "
                             f"Received: gradient_accumulation_steps={gradient_accumulation_steps}")
        if use_ema:
            if ema_momentum > 1 or ema_momentum < 0:
                raise ValueError("`ema_momentum` must be in the range [0, 1]. "
                                 f"Received: ema_momentum={ema_momentum}")
            if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int)
                                            or ema_overwrite_frequency < 1):
                raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None. "
                                 f"Received: ema_overwrite_frequency={ema_overwrite_frequency}")
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can "
                             f"be set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        self.built = False
        self._variables = []
        self._trainable_variables = []
        self._trainable_variables_indices = {}
        # NOTE: the step counter and the learning rate stay NumPy scalars on the host whatever
        # the device: every step reads them as Python numbers, which on a GPU would mean a sync.
        self._iterations = self._track(np.zeros((), np.int64), "iteration")
        if isinstance(learning_rate, schedules.LearningRateSchedule) or callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            if not isinstance(learning_rate, float):
                raise ValueError(
                    "Argument `learning_rate` should be float, or an instance of "
                    "LearningRateSchedule, or a callable (that takes in the current iteration "
                    "value and returns the corresponding learning rate value). "
                    f"Received instead: learning_rate={learning_rate}")
            self._learning_rate = self._track(
                np.asarray(learning_rate, dtype=config.floatx()), "learning_rate")

    # -- variables ---------------------------------------------------------------------------
    def _track(self, array, name):
        """A non-trainable Variable holding ``array`` as is (so on the array's own device)."""
        variable = Variable(np.zeros((), array.dtype), name=name, trainable=False,
                            dtype=array.dtype, path=f"{self.name}/{name}")
        variable.data = array
        self._variables.append(variable)
        return variable

    @property
    def variables(self):
        """[iteration, learning_rate (absent with a schedule), *slots], in creation order."""
        return self._variables[:]

    @property
    def iterations(self):
        """The step counter Variable (int64); with gradient accumulation, the update count."""
        if self.gradient_accumulation_steps:
            return Tensor(self._iterations.data // self.gradient_accumulation_steps)
        return self._iterations

    def _step(self) -> int:
        """Completed updates as a Python int (what ``iterations`` holds)."""
        return int(self.iterations.data)

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="none",
                     layout=None, name=None):
        """A new optimizer variable on the current device."""
        dtype = np.dtype(dtype or config.floatx())
        array = initializers.get(initializer)(tuple(shape), dtype=dtype.name)
        return self._track(backend.to_device(array, config.device()).astype(dtype, copy=False),
                           name or "variable")

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A variable shaped, typed and placed like ``reference_variable``, named
        ``{reference path with / -> _}_{name}`` (Keras's ``dense_kernel_momentum``)."""
        prefix = getattr(reference_variable, "path", None)
        if prefix is None:
            prefix = str(reference_variable.name).replace(":", "_")
        name = f"{prefix.replace('/', '_')}_{name or 'var'}"
        dtype = reference_variable.dtype
        array = initializers.get(initializer)(reference_variable.shape, dtype=dtype.name)
        array = backend.to_device(array, reference_variable.device).astype(dtype, copy=False)
        return self._track(array, name)

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """One slot per weight for each name, created weight by weight (Keras's interleaved
        order: ``w0_momentum, w0_velocity, w1_momentum, ...``). Returns a list per name."""
        names = [name] if isinstance(name, str) else list(name)
        inits = list(initializer) if isinstance(initializer, (list, tuple)) \
            else [initializer] * len(names)
        if len(names) != len(inits):
            raise ValueError("The number of provided names must match the number of provided "
                             f"initializers.  Received name='{name}', initializer='{initializer}'")
        slots = tuple([] for _ in names)
        for variable in trainable_variables:
            for i, (slot_name, init) in enumerate(zip(names, inits)):
                slots[i].append(self.add_variable_from_reference(variable, slot_name, init))
        return slots[0] if isinstance(name, str) else slots

    def build(self, variables):
        """Creates the optimizer's variables for ``variables`` (subclasses add their slots)."""
        variables = list(variables)
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(
                variables, "average")
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = self.add_optimizer_variables(
                variables, "gradient_accumulator")
        self._trainable_variables_indices = {id(v): i for i, v in enumerate(variables)}
        self._trainable_variables = variables
        self.built = True

    def _get_variable_index(self, variable):
        return self._trainable_variables_indices[id(variable)]

    # -- learning rate -----------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The current learning rate as a Python float (a schedule is read at ``iterations``)."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            return float(lr(int(self._iterations.data)))
        if isinstance(lr, Variable):
            return float(lr.data)
        return float(lr())

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        previous = self._learning_rate if isinstance(self._learning_rate, Variable) else None
        if isinstance(learning_rate, schedules.LearningRateSchedule) or callable(learning_rate):
            self._learning_rate = learning_rate
            if previous is not None:  # Keras untracks the variable a schedule replaces
                self._variables = [v for v in self._variables if v is not previous]
        elif previous is None:
            raise TypeError(_SCHEDULE_NOT_SETTABLE)
        else:
            previous.assign(np.asarray(float(learning_rate), dtype=previous.dtype))

    # -- applying gradients ------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Keras's ``apply_gradients([(grad, variable), ...])``; returns ``iterations``."""
        grads, trainable_variables = zip(*grads_and_vars)
        self.apply(grads, trainable_variables)
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Clips, decays and updates the variables in place, then counts one iteration.

        Args:
            grads: Gradients (engine Tensors or arrays; ``None`` skips a variable), aligned with
                ``trainable_variables``.
            trainable_variables: The variables; needed on the first call, which builds.
        """
        grads = list(grads)
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first. ")
            if len(grads) != len(self._trainable_variables_indices):
                raise ValueError(
                    "When passing `grads` as a list of gradient tensors, the gradients must "
                    "match `optimizer.variables` one-to-on. Received a list of "
                    f"{len(grads)} gradients, but the optimizer is tracking "
                    f"{len(self._trainable_variables)} trainable variables.")
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if not self.built:
                self.build(trainable_variables)
                self.built = True
            self._check_variables_are_known(trainable_variables)
        with engine.no_grad():
            grads, trainable_variables = filter_empty_gradients(grads, trainable_variables)
            grads = [as_gradient(g, v) for g, v in zip(grads, trainable_variables)]
            grads = distributed.average_gradients(grads)  # over ranks, if distributed
            if self.loss_scale_factor is not None:
                grads = [g / self.loss_scale_factor for g in grads]
            self._backend_apply_gradients(grads, trainable_variables)
            for variable in trainable_variables:
                if getattr(variable, "constraint", None) is not None:
                    variable.assign(variable.constraint(variable))
        self._iterations.data += 1

    def _check_variables_are_known(self, variables):
        for v in variables:
            if id(v) not in self._trainable_variables_indices:
                raise ValueError(
                    f"Unknown variable: {v}. This optimizer can only be called for the variables "
                    "it was originally built with. When working with a new set of variables, "
                    "you should recreate a new optimizer instance.")

    def _backend_apply_gradients(self, grads, trainable_variables):
        steps = self.gradient_accumulation_steps
        if steps:
            accumulators = [self._accumulated_gradients[self._get_variable_index(v)]
                            for v in trainable_variables]
            if (int(self._iterations.data) + 1) % steps == 0:
                grads = [(g + a.data) / steps for g, a in zip(grads, accumulators)]
                self._clip_apply_update(grads, trainable_variables)
                for accumulator in self._accumulated_gradients:
                    accumulator.data[...] = 0
            else:
                for g, accumulator in zip(grads, accumulators):
                    accumulator.data += g
        else:
            self._clip_apply_update(grads, trainable_variables)
        if self.use_ema:
            self._update_model_variables_moving_average(self._trainable_variables)
            frequency = self.ema_overwrite_frequency
            if frequency and (self._step() + 1) % frequency == 0:
                self._overwrite_model_variables_with_average_value(self._trainable_variables)

    def _clip_apply_update(self, grads, trainable_variables):
        grads = clip_gradients(grads, self.clipnorm, self.global_clipnorm, self.clipvalue)
        self._apply_weight_decay(trainable_variables)
        self._backend_update_step(grads, trainable_variables, self.learning_rate)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        for grad, variable in zip(grads, trainable_variables):
            self.update_step(grad, variable, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        raise NotImplementedError

    # -- weight decay ------------------------------------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Excludes variables (by object, or by a substring of their name) from weight decay.

        Args:
            var_list: Variables to exclude.
            var_names: Strings; a variable whose name contains one of them is excluded.
        """
        self._exclude_from_weight_decay = {id(v) for v in var_list or ()}
        self._exclude_from_weight_decay_pattern = (
            re.compile("|".join(set(var_names))) if var_names else None)

    def _use_weight_decay(self, variable):
        if id(variable) in getattr(self, "_exclude_from_weight_decay", ()):
            return False
        pattern = getattr(self, "_exclude_from_weight_decay_pattern", None)
        return pattern is None or pattern.search(variable.name or "") is None

    def _apply_weight_decay(self, variables):
        if self.weight_decay is None:
            return
        for variable in variables:
            if self._use_weight_decay(variable):
                lr = cast(self.learning_rate, variable)
                wd = cast(self.weight_decay, variable)
                variable.data -= variable.data * wd * lr

    # -- moving average of the weights -------------------------------------------------------
    def _update_model_variables_moving_average(self, trainable_variables):
        for variable, average in zip(trainable_variables, self._model_variables_moving_average):
            momentum = cast(self.ema_momentum if self._step() != 0 else 0.0, variable)
            average.data[...] = momentum * average.data + (1 - momentum) * variable.data

    def _overwrite_model_variables_with_average_value(self, trainable_variables):
        if len(trainable_variables) != len(self._model_variables_moving_average):
            raise ValueError(
                f"The length of model variables ({len(trainable_variables)}) to override does "
                "not match the length of model variables stored in the optimizer "
                f"({len(self._model_variables_moving_average)}). Please check if the optimizer "
                "was called on your model.")
        for variable, average in zip(trainable_variables, self._model_variables_moving_average):
            variable.data[...] = average.data

    def finalize_variable_values(self, var_list):
        """With ``use_ema``, writes the moving averages into the weights (end of ``fit``)."""
        if self.use_ema:
            self._overwrite_model_variables_with_average_value(var_list)

    # -- helpers for subclasses and savers ---------------------------------------------------
    def assign(self, variable, value):
        variable.data[...] = raw(value)

    def assign_add(self, variable, value):
        variable.data += raw(value)

    def assign_sub(self, variable, value):
        variable.data -= raw(value)

    def scale_loss(self, loss):
        """The loss multiplied by ``loss_scale_factor`` (unchanged without one)."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def set_weights(self, weights):
        """Assigns arrays to ``variables`` in order."""
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. "
                "Please call `optimizer.build(trainable_variables)` to create the optimizer "
                "weights before calling `set_weights()`.")
        for variable, weight in zip(self._variables, weights):
            if tuple(variable.shape) != tuple(np.shape(weight)):
                raise ValueError(
                    f"Optimizer variable {variable.path} has shape {variable.shape} not "
                    f"compatible with provided weight shape {np.shape(weight)}.")
            variable.assign(weight)

    def save_own_variables(self, store):
        for i, variable in enumerate(self.variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store):
        if len(store.keys()) != len(self.variables):
            msg = (f"Skipping variable loading for optimizer '{self.name}', because it has "
                   f"{len(self.variables)} variables whereas the saved optimizer has "
                   f"{len(store.keys())} variables. ")
            if len(self.variables) == 0:
                msg += "This is likely because the optimizer has not been called/built yet."
            warnings.warn(msg, stacklevel=2)
            return
        for i, variable in enumerate(self.variables):
            variable.assign(store[str(i)])

    # -- config ------------------------------------------------------------------------------
    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            learning_rate = schedules.serialize(lr)
        elif isinstance(lr, Variable):
            learning_rate = float(lr.data)
        else:
            learning_rate = lr  # a plain callable is kept as itself
        return {
            "name": self.name, "learning_rate": learning_rate,
            "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
            "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"],
                                                            custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
