"""The recurrent cells: one time step of SimpleRNN, LSTM and GRU, with Keras's weight layout.

``RNN`` (rnn.py) loops over time; a built-in cell's input projection for every step is done
there as one matmul before the loop.
"""
from __future__ import annotations

import numbers

import numpy as np

from engine import Tensor, backend, ops

from .. import activations, config, initializers, regularizers
from .layer import Layer
from ..saving.serialization import deserialize_layer, serialize_layer


def _check_units(units):
    if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
        raise ValueError("Received an invalid value for argument `units`, expected a positive "
                         f"integer. Received: units={units}")
    return int(units)


def _check_rate(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"`{name}` must be a float in [0, 1). Received: {name}={value}")
    return float(value)


def _split(x, n):
    return ops.split(x, n, axis=-1)


def _matmul(x, kernel):
    """``x @ kernel``; a (batch, time, in) ``x`` goes as one 2-D GEMM, so that its backward
    is one GEMM too rather than one per batch row."""
    if x.ndim != 3:
        return ops.matmul(x, kernel)
    batch, steps, n = x.shape
    y = ops.matmul(ops.reshape(x, (batch * steps, n)), kernel)
    return ops.reshape(y, (batch, steps, kernel.shape[-1]))


class _Cell(Layer):
    """What the built-in cells share: arguments, weights, dropout masks and config.

    Subclasses set ``_blocks`` (gate blocks in the kernels) and implement
    ``_step(xw, states, rec_masks)`` given ``xw``, the projected input of one step.
    """

    _blocks = 1

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        units = _check_units(units)
        dropout = _check_rate("dropout", dropout)
        recurrent_dropout = _check_rate("recurrent_dropout", recurrent_dropout)
        kwargs.pop("implementation", None)  # Keras's kernel-fusion switch; one path here
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = kernel_constraint
        self.recurrent_constraint = recurrent_constraint
        self.bias_constraint = bias_constraint
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.seed = seed
        self._rngs = {}
        self.state_size = units
        self.output_size = units

    # weights ----------------------------------------------------------------------------------
    def _bias_shape(self):
        return (self._blocks * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def build(self, input_shape):
        blocks = self._blocks * self.units
        self.kernel = self.add_weight(
            shape=(input_shape[-1], blocks), name="kernel", initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, blocks), name="recurrent_kernel",
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        self.bias = self.add_weight(
            shape=self._bias_shape(), name="bias", initializer=self._bias_init(),
            regularizer=self.bias_regularizer,
            constraint=self.bias_constraint) if self.use_bias else None

    def _input_bias(self):
        return self.bias

    # dropout ----------------------------------------------------------------------------------
    def _mask_count(self):
        # NOTE: as Keras's implementation=1, recurrent dropout gives one mask per gate block.
        return self._blocks if self.recurrent_dropout > 0 else 1

    def _draw(self, like, width, rate):
        xp = backend.get_array_module(like.data)
        seed = None
        if self.seed is not None:  # a seeded cell draws from its own stream
            device = backend.device_of(like.data)
            if device not in self._rngs:
                self._rngs[device] = backend.make_rng(device, self.seed)
            seed = self._rngs[device]
        ones = Tensor(xp.ones((like.shape[0], width), dtype=like.dtype))
        return [ops.dropout(ones, rate, seed=seed) for _ in range(self._mask_count())]

    def _dropout_masks(self, step_input, h, training):
        """(input masks, recurrent masks), drawn once per call; (None, None) in inference."""
        if not training:
            return None, None
        dp = self._draw(step_input, step_input.shape[-1], self.dropout) if self.dropout else None
        rec = self._draw(h, self.units, self.recurrent_dropout) if self.recurrent_dropout else None
        return dp, rec

    # computation ------------------------------------------------------------------------------
    def _sequence(self, x, dp_masks, states, mask, go_backwards, return_sequences):
        """The whole time loop as one fused op: (output, final states), or None (the default:
        the RNN layer loops over ``_step``)."""
        return None

    def _project(self, x, dp_masks, with_bias=True):
        """``x @ kernel + input bias`` for a step (B, in) or a whole sequence (B, T, in)."""
        if dp_masks is None:
            y = _matmul(x, self.kernel)
        else:
            masks = [ops.expand_dims(m, 1) if x.ndim == 3 else m for m in dp_masks]
            if len(masks) == 1:
                y = _matmul(ops.multiply(x, masks[0]), self.kernel)
            else:
                kernels = _split(self.kernel, len(masks))
                y = ops.concatenate([_matmul(ops.multiply(x, m), k)
                                     for m, k in zip(masks, kernels)], axis=-1)
        bias = self._input_bias() if with_bias else None
        return y if bias is None else ops.add(y, bias)

    def _recurrent(self, h, rec_masks, kernel=None):
        """``h @ recurrent_kernel`` (per block with one recurrent-dropout mask per block)."""
        kernel = self.recurrent_kernel if kernel is None else kernel
        if rec_masks is None:
            return ops.matmul(h, kernel)
        if len(rec_masks) == 1:
            return ops.matmul(ops.multiply(h, rec_masks[0]), kernel)
        blocks = _split(kernel, len(rec_masks))
        return ops.concatenate([ops.matmul(ops.multiply(h, m), k)
                                for m, k in zip(rec_masks, blocks)], axis=-1)

    def call(self, inputs, states, training=False):
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        states = [self._to_tensor(s) for s in states]
        dp, rec = self._dropout_masks(inputs, states[0], training)
        return self._step(self._project(inputs, dp), states, rec)

    def get_initial_state(self, batch_size=None):
        xp = backend.xp_for(config.device())
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [Tensor(xp.zeros((batch_size, d), dtype=self.dtype)) for d in sizes]

    def compute_output_shape(self, input_shape):
        batch = input_shape[0]
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return (batch, self.units), [(batch, d) for d in sizes]

    def get_config(self):
        cfg = {**super().get_config(), "units": self.units,
               "activation": activations.serialize(self.activation)}
        if hasattr(self, "recurrent_activation"):
            cfg["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        cfg["use_bias"] = self.use_bias
        if hasattr(self, "unit_forget_bias"):
            cfg["unit_forget_bias"] = self.unit_forget_bias
        cfg.update(_weight_config(self))
        cfg.update({"dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout})
        if hasattr(self, "reset_after"):
            cfg["reset_after"] = self.reset_after
        cfg["seed"] = self.seed
        return cfg


_Cell._stepwise_call = _Cell.call


def _weight_config(cell):
    cfg = {name: initializers.serialize(getattr(cell, name)) for name in
           ("kernel_initializer", "recurrent_initializer", "bias_initializer")}
    cfg.update({name: regularizers.serialize(getattr(cell, name)) for name in
                ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer")})
    cfg.update({name: getattr(cell, name) for name in
                ("kernel_constraint", "recurrent_constraint", "bias_constraint")})
    return cfg


class SimpleRNNCell(_Cell):
    """One step of a fully-connected RNN: ``h = activation(x @ W + b + h_prev @ U)``.

    >>> cell = SimpleRNNCell(4)
    >>> h, [state] = cell(np.ones((2, 3)), [np.zeros((2, 4))])
    """

    def _step(self, xw, states, rec_masks):
        h = self.activation(ops.add(xw, self._recurrent(states[0], rec_masks)))
        return h, [h]


class LSTMCell(_Cell):
    """One LSTM step; kernels hold the gate blocks i, f, c, o (Keras's layout).

    >>> cell = LSTMCell(4)
    >>> h, [h, c] = cell(np.ones((2, 3)), [np.zeros((2, 4)), np.zeros((2, 4))])
    """

    _blocks = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                         bias_initializer, kernel_regularizer, recurrent_regularizer,
                         bias_regularizer, kernel_constraint, recurrent_constraint,
                         bias_constraint, dropout, recurrent_dropout, seed, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [self.units, self.units]

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, units = self.bias_initializer, self.units

        def bias_initializer(shape, dtype="float32"):
            # NOTE: the forget block (the second) starts at 1 (Jozefowicz et al.).
            return np.concatenate([init((units,), dtype=dtype), np.ones((units,), dtype=dtype),
                                   init((2 * units,), dtype=dtype)]).astype(dtype)

        return bias_initializer

    def _sequence(self, x, dp_masks, states, mask, go_backwards, return_sequences):
        """The standard tanh / sigmoid LSTM (Keras's cuDNN case) runs as ONE fused op:
        ops.lstm (input projection included; oneDNN's LSTM on the CPU) without input dropout,
        else ops.lstm_sequence over the projection; other LSTMs loop over ``_step``."""
        if type(self)._step is not LSTMCell._step or self.activation is not activations.tanh \
                or self.recurrent_activation is not activations.sigmoid:
            return None
        if dp_masks is None:
            y = ops.lstm(x, self.kernel, self.recurrent_kernel, states[0], states[1],
                         bias=self.bias, mask=mask, go_backwards=go_backwards,
                         return_sequences=return_sequences)
        else:
            y = ops.lstm_sequence(self._project(x, dp_masks, with_bias=False),
                                  self.recurrent_kernel, states[0], states[1], bias=self.bias,
                                  mask=mask, go_backwards=go_backwards,
                                  return_sequences=return_sequences)
        u, every = self.units, slice(None)
        last = ops.getitem(y, (every, -1)) if return_sequences else y
        h, c = ops.getitem(last, (every, slice(0, u))), ops.getitem(last, (every, slice(u, None)))
        return (ops.getitem(y, (every, every, slice(0, u))) if return_sequences else h), [h, c]

    def _step(self, xw, states, rec_masks):
        h_prev, c_prev = states
        z = ops.add(xw, self._recurrent(h_prev, rec_masks))
        z_i, z_f, z_c, z_o = _split(z, 4)
        act, rec_act = self.activation, self.recurrent_activation
        c = ops.add(ops.multiply(rec_act(z_f), c_prev), ops.multiply(rec_act(z_i), act(z_c)))
        h = ops.multiply(rec_act(z_o), act(c))
        return h, [h, c]


class GRUCell(_Cell):
    """One GRU step; blocks z, r, h. ``reset_after=True``: bias (2, 3u) = [input, recurrent].

    >>> cell = GRUCell(4)
    >>> h, [state] = cell(np.ones((2, 3)), [np.zeros((2, 4))])
    """

    _blocks = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, reset_after=True,
                 seed=None, **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                         bias_initializer, kernel_regularizer, recurrent_regularizer,
                         bias_regularizer, kernel_constraint, recurrent_constraint,
                         bias_constraint, dropout, recurrent_dropout, seed, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = reset_after

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self):
        if self.bias is None or not self.reset_after:
            return self.bias
        return ops.getitem(self.bias, 0)

    def _step(self, xw, states, rec_masks):
        h_prev = states[0]
        u, act, rec_act = self.units, self.activation, self.recurrent_activation
        x_z, x_r, x_h = _split(xw, 3)
        rec = rec_masks or [None] * 3
        if self.reset_after:
            inner = self._recurrent(h_prev, rec_masks)
            if self.bias is not None:
                inner = ops.add(inner, ops.getitem(self.bias, 1))
            r_z, r_r, r_h = _split(inner, 3)
            z, r = rec_act(ops.add(x_z, r_z)), rec_act(ops.add(x_r, r_r))
            candidate = act(ops.add(x_h, ops.multiply(r, r_h)))
        else:
            kernel = self.recurrent_kernel
            inner = self._recurrent(h_prev, None if rec_masks is None else rec_masks[:2],
                                    ops.getitem(kernel, (slice(None), slice(0, 2 * u))))
            r_z, r_r = _split(inner, 2)
            z, r = rec_act(ops.add(x_z, r_z)), rec_act(ops.add(x_r, r_r))
            h_h = h_prev if rec[2] is None else ops.multiply(h_prev, rec[2])
            candidate = act(ops.add(x_h, ops.matmul(
                ops.multiply(r, h_h), ops.getitem(kernel, (slice(None), slice(2 * u, None))))))
        h = ops.add(ops.multiply(z, h_prev), ops.multiply(ops.subtract(1.0, z), candidate))
        return h, [h]


def flatten_sizes(size):
    """A (nested) ``state_size`` as a flat list of its ints."""
    if isinstance(size, (list, tuple)):
        return [leaf for item in size for leaf in flatten_sizes(item)]
    return [size]


def pack_states(flat, size):
    """The flat list ``flat`` nested as ``state_size`` is: ``[h1, [h2, c2]]`` for a stack of a
    SimpleRNNCell and an LSTMCell; a plain cell gets its list of states."""
    flat = iter(flat)

    def pack(structure):
        return [pack(s) if isinstance(s, (list, tuple)) else next(flat) for s in structure]

    return pack(size if isinstance(size, (list, tuple)) else [size])


class StackedRNNCells(Layer):
    """Cells run one after another within each time step, as one cell for ``RNN``.

    The states are nested per cell (``state_size`` is the list of the cells' state sizes);
    the output of a cell is the input of the next.

    >>> cells = [LSTMCell(8), LSTMCell(4)]
    >>> RNN(StackedRNNCells(cells))(np.ones((2, 5, 3))).shape
    (2, 4)
    """

    def __init__(self, cells, **kwargs):
        for cell in cells:
            if not hasattr(cell, "call"):
                raise ValueError("All cells must have a `call` method. Received cell without a "
                                 f"`call` method: {cell}")
            if not hasattr(cell, "state_size"):
                raise ValueError("All cells must have a `state_size` attribute. Received cell "
                                 f"without a `state_size`: {cell}")
        super().__init__(**kwargs)
        self.cells = list(cells)

    @property
    def state_size(self):
        return [cell.state_size for cell in self.cells]

    @staticmethod
    def _output_size(cell):
        size = getattr(cell, "output_size", None)
        if size is not None:
            return size
        return cell.state_size[0] if isinstance(cell.state_size, (list, tuple)) \
            else cell.state_size

    @property
    def output_size(self):
        return self._output_size(self.cells[-1])

    def get_initial_state(self, batch_size=None):
        states = []
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn is not None:
                states.append(fn(batch_size=batch_size))
                continue
            xp = backend.xp_for(config.device())
            sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) \
                else [cell.state_size]
            zeros = [Tensor(xp.zeros((batch_size, d), dtype=self.dtype)) for d in sizes]
            states.append(zeros if isinstance(cell.state_size, (list, tuple)) else zeros[0])
        return states

    def build(self, input_shape):
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell._maybe_build(tuple(input_shape))
                for w in cell.weights:  # Keras's path: rnn/stacked_rnn_cells/lstm_cell/kernel
                    w.path = f"{self.name}/{w.path}"
            input_shape = (input_shape[0], self._output_size(cell))

    def call(self, inputs, states, training=False):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            nested = isinstance(cell_states, (list, tuple))
            inputs, cell_states = cell(inputs, list(cell_states) if nested else [cell_states],
                                       training=training)
            cell_states = list(cell_states) if isinstance(cell_states, (list, tuple)) \
                else [cell_states]
            new_states.append(cell_states if nested or len(cell_states) > 1 else cell_states[0])
        return inputs, new_states

    def get_config(self):
        return {**super().get_config(), "cells": [serialize_layer(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        cells = [deserialize_layer(c) for c in config.pop("cells")]
        return cls(cells, **config)


__all__ = ["SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells"]
