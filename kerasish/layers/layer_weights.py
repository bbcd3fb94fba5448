"""A layer's weights and losses: the trainable flag, weight lists in Keras's order, get/set,
parameter counts, and the losses gathered from weights, activities and ``add_loss``."""
from __future__ import annotations

import numpy as np

from engine import Tensor

from .. import utils


class LayerWeightsMixin:
    """``Layer``'s weight and loss bookkeeping."""

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        self._trainable = value
        for v in self._trainable_variables:
            v.trainable = value
        for layer in self._layers:
            layer.trainable = value

    def _own_and_nested(self, own):
        seen, out = set(), []
        for w in own + [w for layer in self._layers for w in layer.weights]:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        return out

    @property
    def weights(self):
        """Every weight: own trainable, own non-trainable, then the sub-layers' (Keras order)."""
        return self._own_and_nested(self._trainable_variables + self._non_trainable_variables)

    @property
    def variables(self):
        return self.weights

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [w for w in self.weights if not w.trainable]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def losses(self):
        """Weight penalties of the trainable weights, then the last call's activity penalties
        and ``add_loss`` losses (this layer's, then its sub-layers')."""
        weight_losses = [w.regularizer(w) for w in self.trainable_weights
                         if w.regularizer is not None]
        activity = [loss for layer in [self] + self._layers for loss in layer._activity_losses]
        added = [loss for layer in self._flatten_layers() for loss in layer.__dict__.get(
            "_losses", [])]
        return weight_losses + activity + added

    def add_loss(self, loss):
        """Adds a loss (a tensor, or a list of them) from inside ``call()``; the trainer adds
        its sum to the total loss. The next top-level call clears it (Keras 3).

        >>> class ActivityPenalty(Layer):
        ...     def call(self, x):
        ...         self.add_loss(ops.multiply(ops.sum(ops.square(x)), 0.01))
        ...         return x
        """
        losses = utils.flatten(loss)
        for x in losses:
            if not isinstance(x, Tensor):
                raise ValueError("`add_loss()` can only be called from inside `build()` or "
                                 f"`call()`, on a tensor input. Received invalid value: {x}")
        self.__dict__.setdefault("_losses", []).extend(losses)

    def _flatten_layers(self):
        """This layer and every layer nested in it, each once."""
        seen, out, stack = set(), [], [self]
        while stack:
            layer = stack.pop(0)
            if id(layer) not in seen:
                seen.add(id(layer))
                out.append(layer)
                stack.extend(layer._layers)
        return out

    def _clear_losses(self):
        for layer in self._flatten_layers():
            layer.__dict__.get("_losses", []).clear()

    def get_weights(self):
        """Copies of the weights' values (they do not change when training goes on)."""
        return [np.array(w.numpy(), copy=True) for w in self.weights]

    def set_weights(self, weights):
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(
                f"Layer {self.name} weight shape mismatch: expected {len(own)} weights, "
                f"received {len(weights)}. Received: len(weights)={len(weights)}"
            )
        for variable, value in zip(own, weights):
            if tuple(np.shape(value)) != variable.shape:
                raise ValueError(
                    f"Layer {self.name} weight shape {variable.shape} is not compatible with "
                    f"provided weight shape {tuple(np.shape(value))}."
                )
            variable.assign(value)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't "
                "built. You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(np.prod(w.shape, dtype=np.int64) for w in self.weights))
