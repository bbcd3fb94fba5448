"""Recurrent layers: the generic ``RNN`` wrapper, SimpleRNN, LSTM and GRU, and their cells.

A cell computes one time step; ``RNN`` loops over time in Python. For the built-in cells the
input projection ``x @ kernel + bias`` of every step is ONE matmul before the loop, so the loop
only does the recurrent part. Every step is engine ops, so autodiff runs through time. The
standard LSTM (tanh, sigmoid, no recurrent dropout in training) skips the Python loop: its
whole recurrence is one fused op, ``ops.lstm_sequence``, with its own backward through time.
"""
from __future__ import annotations

import types

import numpy as np

from engine import Tensor, backend, ops

from .. import config, regularizers
from .input_spec import InputSpec, check_input_spec
from .layer import Layer
from ..saving.serialization import deserialize_layer, serialize_layer
from ..variables import Variable
from .rnn_cells import (GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells, _Cell,  # noqa: F401
                        _check_rate, _check_units, flatten_sizes, pack_states)


def _flatten(states):
    """Nested lists of state Tensors (a StackedRNNCells's) as one flat list."""
    if isinstance(states, (list, tuple)):
        return [leaf for s in states for leaf in _flatten(s)]
    return [states]


def _time_slices(x):
    """``[x[:, t] for t in range(T)]``, cut in two levels: blocks of ~sqrt(T) steps, then steps.

    NOTE: the gradient of a slice is a zero array the size of its parent, so T slices of the
    whole sequence cost O(T^2) in backward; through ~sqrt(T) blocks it is O(T^1.5).
    """
    steps = x.shape[1]
    size = max(1, round(steps ** 0.5))
    slices = []
    for start in range(0, steps, size):
        block = ops.getitem(x, (slice(None), slice(start, start + size))) if size > 1 else x
        offset = 0 if size > 1 else start
        slices.extend(ops.getitem(block, (slice(None), offset + j))
                      for j in range(min(size, steps - start)))
    return slices


# -- the RNN layer ----------------------------------------------------------------------------

class RNN(Layer):
    """Runs a cell over the time axis of ``(batch, time, features)`` inputs.

    Masked steps (``mask`` False) keep the previous states; their output repeats the previous
    output (zeros before the first valid step), or is zero with ``zero_output_for_mask``.
    ``unroll`` is kept in the config for Keras's files but changes nothing: the time loop is
    always a Python loop over the steps (in effect unrolled), or a fused LSTM/GRU op.

    >>> RNN(LSTMCell(8), return_sequences=True)(np.ones((2, 5, 3))).shape
    (2, 5, 8)
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
            raise ValueError("Argument `cell` should have a `call` method and a `state_size` "
                             f"attribute. Received: cell={cell}")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # NOTE: the loop is always a Python loop (unrolled)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.states = None  # stateful: one non-trainable Variable per state, made in build
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)
        self.state_size = flatten_sizes(cell.state_size)

    def build(self, sequences_shape, initial_state_shape=None):
        shape = tuple(sequences_shape)
        # NOTE: a direct build() skips __call__'s input_spec check: a bad shape must not build.
        check_input_spec(self, types.SimpleNamespace(shape=shape))
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell._maybe_build((shape[0],) + shape[2:])
            for w in self.cell.weights:  # Keras's variable path: lstm/lstm_cell/kernel
                w.path = f"{self.name}/{w.path}"
        spec = self.input_spec
        self.input_spec = InputSpec(ndim=spec.ndim, min_ndim=spec.min_ndim,
                                    axes={-1: shape[-1]})
        if self.stateful:
            self._build_states(shape)

    # stateful ---------------------------------------------------------------------------------
    def _build_states(self, shape):
        """Keras's ``_create_state_variables``: the states live across calls in Variables that
        are not weights (saving skips them), so the batch size must be fixed."""
        if self.states is not None:
            self.reset_state()
            return
        if shape[0] is None:
            raise ValueError("When using `stateful=True` in a RNN, the batch size must be "
                             f"static. Found dynamic batch size: sequence.shape={shape}. Pass "
                             "`batch_size=` (or `batch_shape=`) to the Input layer.")
        self.states = [Variable(s.data, trainable=False, name="rnn_state",
                                path=f"{self.name}/rnn_state")
                       for s in self.get_initial_state(shape[0])]

    def reset_state(self):
        """Sets the states of a stateful RNN back to zeros."""
        for v in self.states or []:
            v.assign(backend.get_array_module(v.data).zeros_like(v.data))

    def reset_states(self):
        """Compatibility alias of ``reset_state``."""
        self.reset_state()

    def _stored_states(self, batch):
        if batch != self.states[0].shape[0]:
            raise ValueError(
                f"Layer '{self.name}': if an RNN is stateful, the batch size of the input "
                "sequences must be the same as the batch size of the initial state. Expected "
                f"batch size: {self.states[0].shape[0]}. Received batch size: {batch}")
        # NOTE: a copy through an op: the ops of this call may keep their inputs for
        # backward, and the Variables are overwritten in place at the end of the call.
        return [ops.add(v, backend.get_array_module(v.data).zeros((), v.dtype))
                for v in self.states]

    def _keep_states(self, states):
        if self.stateful:
            for v, s in zip(self.states, states):
                v.assign(s)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, steps = sequences_shape[0], sequences_shape[1]
        size = getattr(self.cell, "output_size", None) or self.state_size[0]
        out = (batch, steps, size) if self.return_sequences else (batch, size)
        if self.return_state:
            return [out] + [(batch, d) for d in self.state_size]
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        return [out] + [None] * len(self.state_size) if self.return_state else out

    def _state_shapes(self, batch):
        return [(batch, d) for d in self.state_size]

    def get_initial_state(self, batch_size):
        fn = getattr(self.cell, "get_initial_state", None)
        if fn is not None:
            states = fn(batch_size=batch_size)
            return _flatten(states)
        xp = backend.xp_for(config.device())
        return [Tensor(xp.zeros((batch_size, d), dtype=self.dtype)) for d in self.state_size]

    # call -------------------------------------------------------------------------------------
    def _initial_states(self, batch, initial_state):
        if initial_state is None:
            return self._stored_states(batch) if self.stateful else \
                self.get_initial_state(batch)
        states = [self._to_tensor(s) for s in _flatten(initial_state)]
        want = self._state_shapes(batch)
        got = [tuple(s.shape) for s in states]
        if got != want:
            raise ValueError(f"Layer '{self.name}' expects {len(want)} initial state(s) of shapes "
                             f"{want}. Received: initial_state shapes={got}")
        return states

    def _standardize_mask(self, mask, batch, steps):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is None:
            return None
        mask = self._to_tensor(mask)
        if tuple(mask.shape) != (batch, steps):
            raise ValueError(f"Layer '{self.name}' expects a mask of shape (batch, timesteps) = "
                             f"{(batch, steps)}. Received: mask.shape={tuple(mask.shape)}")
        return mask if mask.dtype == np.bool_ else ops.not_equal(mask, 0)

    def _stepper(self, sequences, states, mask, training):
        """(projected inputs or the sequence itself, step function, None), or (None, None,
        (output, states)) when the cell ran the whole loop as one fused op."""
        cell = self.cell
        # NOTE: a built-in cell (not a subclass with its own call) splits its step in two.
        if type(cell).call is getattr(type(cell), "_stepwise_call", None):
            step_input = ops.getitem(sequences, (slice(None), 0))
            dp, rec = cell._dropout_masks(step_input, states[0], training)
            fused = None if rec is not None else cell._sequence(
                sequences, dp, states, mask, self.go_backwards, self.return_sequences)
            if fused is not None:
                return None, None, fused
            # NOTE: one matmul for every step's input projection, before the loop.
            return cell._project(sequences, dp), lambda x, s: cell._step(x, s, rec), None

        def step(x, s):
            out, new = cell(x, pack_states(s, cell.state_size), training=training)
            return out, _flatten(new)

        return sequences, step, None

    def _masked_output(self, output, mask):
        """The fused loop's h as the generic loop outputs it: zeros before a row's first valid
        step (at every masked step with ``zero_output_for_mask``), else h."""
        if mask is None:
            return output
        # NOTE: ops only, no arithmetic on mask.data: a compiled step replays ops alone.
        xp = backend.get_array_module(mask.data)
        m = ops.cast(ops.flip(mask, axis=1) if self.go_backwards else mask, output.dtype)
        if not self.zero_output_for_mask:  # valid from a row's first valid step on
            if self.return_sequences:
                steps = m.shape[1]  # cumulative sum over time as a product with a triangle
                m = ops.matmul(m, Tensor(xp.triu(xp.ones((steps, steps), dtype=m.dtype))))
            else:
                m = ops.max(m, axis=1, keepdims=True)
        valid = ops.greater(m, 0)
        valid = ops.expand_dims(valid, -1) if self.return_sequences else \
            ops.getitem(valid, (slice(None), slice(-1, None)))
        return ops.where(valid, output, xp.zeros((), dtype=output.dtype))

    def call(self, sequences, initial_state=None, mask=None, training=None):
        batch, steps = sequences.shape[0], sequences.shape[1]
        if steps == 0:
            raise ValueError(f"Layer '{self.name}' needs at least one time step. Received: "
                             f"sequences.shape={tuple(sequences.shape)}")
        states = self._initial_states(batch, initial_state)
        mask = self._standardize_mask(mask, batch, steps)
        xs, step, fused = self._stepper(sequences, states, mask, training)
        if fused is not None:  # the whole loop ran as one op (the standard LSTM)
            output, states = fused
            output = self._masked_output(output, mask)
            self._keep_states(states)
            return [output] + list(states) if self.return_state else output
        step_inputs = _time_slices(xs)
        outputs, prev, zeros = [], None, None
        for t in (reversed(range(steps)) if self.go_backwards else range(steps)):
            out, new_states = step(step_inputs[t], states)
            if mask is None:
                states = new_states
            else:
                keep = ops.getitem(mask, (slice(None), slice(t, t + 1)))
                if out.ndim > 2:  # ConvLSTM: (batch, *spatial, filters)
                    keep = ops.reshape(keep, keep.shape + (1,) * (out.ndim - 2))
                states = [ops.where(keep, n, s) for n, s in zip(new_states, states)]
                if prev is None or self.zero_output_for_mask:
                    if zeros is None:
                        xp = backend.get_array_module(out.data)
                        zeros = Tensor(xp.zeros(out.shape, dtype=out.dtype))
                    fallback = zeros
                else:
                    fallback = prev
                out = ops.where(keep, out, fallback)
            prev = out
            if self.return_sequences:
                outputs.append(out)
        output = ops.stack(outputs, axis=1) if self.return_sequences else prev
        self._keep_states(states)
        return [output] + list(states) if self.return_state else output

    def get_config(self):
        cfg = {**super().get_config(), "return_sequences": self.return_sequences,
               "return_state": self.return_state, "go_backwards": self.go_backwards,
               "stateful": self.stateful, "unroll": self.unroll,
               "zero_output_for_mask": self.zero_output_for_mask}
        if type(self) is RNN:
            cfg["cell"] = serialize_layer(self.cell)
        return cfg

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "cell" in config:
            config["cell"] = deserialize_layer(config["cell"])
        return cls(**config)


def _pop_legacy(kwargs):
    kwargs.pop("implementation", None)
    if kwargs.pop("time_major", False):  # tf-keras configs carry time_major=False
        raise ValueError("time_major=True is not supported. Received: time_major=True")


def _check_cudnn(use_cudnn):
    if use_cudnn not in ("auto", True, False):
        raise ValueError("Invalid value received for argument `use_cudnn`. Expected one of "
                         f"{{'auto', True, False}}. Received: use_cudnn={use_cudnn}")


class _CellRNN(RNN):
    """SimpleRNN / LSTM / GRU: an RNN over a built-in cell, with a flat config (no ``cell``)."""

    _cell_class = None
    _cell_name = None

    def __init__(self, cell_kwargs, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, use_cudnn="auto", **kwargs):
        _pop_legacy(kwargs)
        _check_cudnn(use_cudnn)
        cell = self._cell_class(**cell_kwargs, dtype=kwargs.get("dtype"),
                                trainable=kwargs.get("trainable", True), name=self._cell_name)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
        self.use_cudnn = use_cudnn
        self.input_spec = InputSpec(ndim=3)

    def __getattr__(self, name):
        # units, activation, dropout, ... live on the cell (Keras exposes them as properties).
        if name in _LAYER_KEYS and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def call(self, sequences, initial_state=None, mask=None, training=None):
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def get_config(self):
        cell_cfg = self.cell.get_config()
        cell_cfg["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        base = super().get_config()
        base.pop("activity_regularizer", None)  # Keras writes it among the cell's keys
        return {**base, **{k: cell_cfg[k] for k in _LAYER_KEYS if k in cell_cfg}}


# Keras's key order of the flat SimpleRNN / LSTM / GRU configs (after the RNN keys).
_LAYER_KEYS = ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
               "recurrent_initializer", "bias_initializer", "unit_forget_bias",
               "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
               "activity_regularizer", "kernel_constraint", "recurrent_constraint",
               "bias_constraint", "dropout", "recurrent_dropout", "reset_after", "seed")


def _cell_kwargs(local_vars, names):
    return {name: local_vars[name] for name in names}


_COMMON = ("units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
           "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
           "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
           "recurrent_dropout", "seed")


class SimpleRNN(_CellRNN):
    """Fully-connected RNN whose output is fed back as the next step's state.

    >>> SimpleRNN(4)(np.ones((2, 5, 3))).shape
    (2, 4)
    """

    _cell_class, _cell_name = SimpleRNNCell, "simple_rnn_cell"

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, seed=None, **kwargs):
        super().__init__(_cell_kwargs(locals(), _COMMON), return_sequences, return_state,
                         go_backwards, stateful, unroll,
                         activity_regularizer=activity_regularizer, **kwargs)


class LSTM(_CellRNN):
    """Long Short-Term Memory (Hochreiter 1997); weights on ``self.cell`` (gates i, f, c, o).

    >>> LSTM(4, return_sequences=True)(np.ones((2, 5, 3))).shape
    (2, 5, 4)
    """

    _cell_class, _cell_name = LSTMCell, "lstm_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 use_cudnn="auto", **kwargs):
        names = _COMMON + ("recurrent_activation", "unit_forget_bias")
        super().__init__(_cell_kwargs(locals(), names), return_sequences, return_state,
                         go_backwards, stateful, unroll, use_cudnn,
                         activity_regularizer=activity_regularizer, **kwargs)


class GRU(_CellRNN):
    """Gated Recurrent Unit (Cho et al. 2014); weights on ``self.cell`` (blocks z, r, h).

    >>> GRU(4)(np.ones((2, 5, 3))).shape
    (2, 4)
    """

    _cell_class, _cell_name = GRUCell, "gru_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, reset_after=True,
                 use_cudnn="auto", **kwargs):
        names = _COMMON + ("recurrent_activation", "reset_after")
        super().__init__(_cell_kwargs(locals(), names), return_sequences, return_state,
                         go_backwards, stateful, unroll, use_cudnn,
                         activity_regularizer=activity_regularizer, **kwargs)


__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "SimpleRNN", "SimpleRNNCell",
           "StackedRNNCells"]
