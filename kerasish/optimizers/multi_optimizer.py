"""MultiOptimizer and OptimizerMap (Keras's ``keras.optimizers.MultiOptimizer``,
``OptimizerMap``): different optimizers for different weights."""
from __future__ import annotations

import re
from collections.abc import MutableMapping

from .base_optimizer import Optimizer
from .loss_scale_optimizer import LossScaleOptimizer


class OptimizerMap(MutableMapping):
    """Optimizers by weight path: an exact key, else the one key that ``re.fullmatch``es the
    path, else ``default_optimizer``. Calling the map on a weight looks up its ``path``.

    Args:
        default_optimizer: The optimizer of the weights no key names.
        optimizer_map: ``{path or pattern: optimizer}``.

    >>> optimizers = OptimizerMap(SGD(0.1), {"encoder/.*": Adam()})
    """

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError("default_optimizer must be a Keras Optimizer instance. "
                            f"Received: {default_optimizer}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {optimizer_map}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = optimizer_map or {}

    @property
    def default_optimizer(self):
        return self._default_optimizer

    def __getitem__(self, key):
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(f"Multiple optimizers assigned to variable {key}.")
        if matching:
            return self._optimizer_map[matching[0]]
        return self.default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self._optimizer_map:
            raise ValueError(f"'{key}' already exists in the OptimizerMap with value "
                             f"{self._optimizer_map[key]}. Please make sure to not use "
                             "duplicated keys.")
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer must be a Keras Optimizer instance. Received: "
                             f"{optimizer}")
        if isinstance(optimizer, LossScaleOptimizer):
            raise ValueError("optimizer cannot be LossScaleOptimizer.")
        if isinstance(optimizer, MultiOptimizer):
            raise ValueError("optimizer cannot be MultiOptimizer.")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        return self[variable.path]

    def get_config(self):
        from . import serialize

        return {"default_optimizer": serialize(self._default_optimizer),
                "optimizer_map": {k: serialize(v) for k, v in self._optimizer_map.items()}}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from . import deserialize

        return cls(deserialize(config["default_optimizer"], custom_objects),
                   {k: deserialize(v, custom_objects)
                    for k, v in (config.get("optimizer_map") or {}).items()})


class MultiOptimizer(Optimizer):
    """Hands each weight to the optimizer an ``OptimizerMap`` (or a function of the weight)
    gives it; each sub-optimizer updates its own weights with its own state.

    There is no single learning rate: read and set it on ``optimizers``.

    Args:
        optimizer_map: An ``OptimizerMap``, or a callable from a weight to an optimizer.
        loss_scale_factor: Overrides the sub-optimizers' ``loss_scale_factor``.
        name: The optimizer's name.

    >>> opt = MultiOptimizer(OptimizerMap(SGD(0.1), {"dense_1/.*": Adam()}))
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        self._inner_optimizers = []
        if hasattr(optimizer_map, "values"):
            for opt in optimizer_map.values():
                if all(opt is not o for o in self._inner_optimizers):
                    opt.loss_scale_factor = loss_scale_factor
                    self._inner_optimizers.append(opt)
        default = getattr(optimizer_map, "default_optimizer", None)
        if default is not None and all(default is not o for o in self._inner_optimizers):
            default.loss_scale_factor = loss_scale_factor
            self._inner_optimizers.append(default)

    def build(self, var_list):
        if self.built:
            return
        var_list = list(var_list)
        self._var_to_optimizer_idx = {}
        per_optimizer = [[] for _ in self._inner_optimizers]
        for var in var_list:
            opt = self._optimizer_map(var)
            if not isinstance(opt, Optimizer):
                raise ValueError(f"Optimizer for variable {var} is not an Optimizer instance.")
            if isinstance(opt, LossScaleOptimizer):
                raise ValueError("LossScaleOptimizer cannot be used inside an MultiOptimizer.")
            if isinstance(opt, MultiOptimizer):
                raise ValueError("MultiOptimizer cannot be used inside an MultiOptimizer.")
            index = next((i for i, o in enumerate(self._inner_optimizers) if o is opt), None)
            if index is None:
                opt.loss_scale_factor = self.loss_scale_factor
                self._inner_optimizers.append(opt)
                per_optimizer.append([])
                index = len(self._inner_optimizers) - 1
            self._var_to_optimizer_idx[id(var)] = index
            per_optimizer[index].append(var)
        for opt, variables in zip(self._inner_optimizers, per_optimizer):
            if variables:
                opt.build(variables)
        super().build(var_list)

    @property
    def optimizers(self):
        return self._inner_optimizers

    @property
    def variables(self):
        """[iteration, learning_rate (unused)], then each sub-optimizer's variables."""
        out = self._variables[:]
        for opt in self._inner_optimizers:
            out.extend(opt.variables)
        return out

    @property
    def learning_rate(self):
        raise AttributeError("Learning rate cannot be accessed on a MultiOptimizer. Access the "
                             "learning rate on the individual sub-optimizers instead.")

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError("Learning rate cannot be set on a MultiOptimizer. Set the learning "
                             "rate on the individual sub-optimizers instead.")

    @property
    def loss_scale_factor(self):
        return getattr(self, "_loss_scale_factor", None)

    @loss_scale_factor.setter
    def loss_scale_factor(self, value):
        self._loss_scale_factor = value
        for opt in getattr(self, "_inner_optimizers", ()):
            opt.loss_scale_factor = value

    @property
    def iterations(self):
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError("When passing `grads` without `variables`, the optimizer must "
                                 "already be built on a list of variables. Call "
                                 "`optimizer.build(trainable_variables)` first.")
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        if len(grads) != len(self._trainable_variables_indices):
            raise ValueError("Gradients must match trainable variables one-to-one. Received "
                             f"{len(grads)} gradients and "
                             f"{len(self._trainable_variables_indices)} variables.")
        groups = [([], []) for _ in self._inner_optimizers]
        for grad, var in zip(grads, trainable_variables):
            sub_grads, sub_vars = groups[self._var_to_optimizer_idx[id(var)]]
            sub_grads.append(grad)
            sub_vars.append(var)
        for opt, (sub_grads, sub_vars) in zip(self._inner_optimizers, groups):
            if sub_vars:
                opt.apply(sub_grads, sub_vars)
        self._iterations.data += 1

    def scale_loss(self, loss):
        factor = self.loss_scale_factor
        return loss if factor is None else loss * factor

    def finalize_variable_values(self, var_list):
        groups = [[] for _ in self._inner_optimizers]
        for var in var_list:
            groups[self._var_to_optimizer_idx[id(var)]].append(var)
        for opt, variables in zip(self._inner_optimizers, groups):
            if variables:
                opt.finalize_variable_values(variables)

    def set_weights(self, weights):
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. "
                "Please call `optimizer.build(trainable_variables)` to create the optimizer "
                "weights before calling `set_weights()`.")
        weights = list(weights)
        own = len(self._variables)
        for variable, weight in zip(self._variables, weights[:own]):
            variable.assign(weight)
        start = own
        for opt in self._inner_optimizers:
            count = len(opt.variables)
            if count:
                opt.set_weights(weights[start:start + count])
                start += count

    def load_own_variables(self, store):
        variables = self.variables
        if len(store.keys()) != len(variables):
            return super().load_own_variables(store)  # warns and skips
        for i, variable in enumerate(variables):
            variable.assign(store[str(i)])

    def get_config(self):
        if not isinstance(self._optimizer_map, OptimizerMap):
            optimizer_map = self._optimizer_map  # a function: saved by the saving code
        else:
            optimizer_map = {"module": "keras.optimizers", "class_name": "OptimizerMap",
                             "config": self._optimizer_map.get_config(),
                             "registered_name": None}
        return {"optimizer_map": optimizer_map, "loss_scale_factor": self.loss_scale_factor,
                "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        optimizer_map = config["optimizer_map"]
        if isinstance(optimizer_map, dict) and optimizer_map.get("class_name") == "OptimizerMap":
            config["optimizer_map"] = OptimizerMap.from_config(optimizer_map["config"],
                                                               custom_objects)
        return cls(**config)
