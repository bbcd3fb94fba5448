"""Convolutional LSTMs: ConvLSTM1D, ConvLSTM2D, ConvLSTM3D (Shi et al. 2015), channels-last.

An LSTM whose input and recurrent transformations are convolutions: inputs are (batch, time,
*spatial, channels) and the states (batch, *out_spatial, filters). As for the dense cells, the
input convolution of every step is ONE conv over the time steps folded into the batch, before
the loop (``RNN`` calls the cell's ``_project`` then ``_step``); the recurrent conv is "same"
with stride 1. Weights as Keras: ``conv_lstm_cell`` holds ``kernel`` (*k, channels, 4 filters),
``recurrent_kernel`` (*k, filters, 4 filters) and ``bias`` (4 filters), gate blocks i, f, c, o.
"""
from __future__ import annotations

import numpy as np

from engine import Tensor, backend, ops

from .. import activations, config, initializers, regularizers
from .convolutional import (_positive_int, _spatial_output_shape, standardize_data_format,
                            standardize_padding, standardize_tuple)
from .input_spec import InputSpec
from .layer import Layer
from .rnn import RNN
from .rnn_cells import _check_rate, _weight_config


class ConvLSTMCell(Layer):
    """One ConvLSTM step over (batch, *spatial, channels) with states [h, c].

    >>> cell = ConvLSTMCell(2, 4, 3, padding="same")
    >>> h, [h, c] = cell(np.ones((1, 5, 5, 2)), [np.zeros((1, 5, 5, 4))] * 2)
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if rank not in (1, 2, 3):
            raise ValueError(f"Rank {rank} convolutions are not currently implemented. "
                             f"Received: rank={rank}")
        self.rank = rank
        self.filters = _positive_int(filters, "filters")
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = standardize_tuple(strides, rank, "strides")
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("Specifying `strides > 1` is not compatible with `dilation_rate > "
                             f"1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = unit_forget_bias
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = kernel_constraint
        self.recurrent_constraint = recurrent_constraint
        self.bias_constraint = bias_constraint
        self.dropout = _check_rate("dropout", dropout)
        self.recurrent_dropout = _check_rate("recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self._rngs = {}
        self.state_size = [self.filters, self.filters]
        self.output_size = self.filters
        self.input_spec = InputSpec(ndim=rank + 2)

    # weights ----------------------------------------------------------------------------------
    def build(self, input_shape):
        self.spatial_dims = tuple(input_shape[1:-1])
        if None in self.spatial_dims:
            raise ValueError("ConvLSTM layers only support static input shapes for the spatial "
                             f"dimension. Received invalid input shape: input_shape={input_shape}")
        if input_shape[-1] is None:
            raise ValueError("The channel dimension of the inputs (last axis) should be "
                             f"defined. Found None. Full input shape received: "
                             f"input_shape={input_shape}")
        self.input_dim = input_shape[-1]
        self.compute_output_shape(input_shape)  # raises when the kernel does not fit
        gates = 4 * self.filters
        self.kernel = self.add_weight(
            shape=self.kernel_size + (self.input_dim, gates), name="kernel",
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=self.kernel_size + (self.filters, gates), name="recurrent_kernel",
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        self.bias = self.add_weight(
            shape=(gates,), name="bias", initializer=self._bias_init(),
            regularizer=self.bias_regularizer,
            constraint=self.bias_constraint) if self.use_bias else None

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, f = self.bias_initializer, self.filters

        def bias_initializer(shape, dtype="float32"):
            # NOTE: the forget block (the second) starts at 1 (Jozefowicz et al.).
            return np.concatenate([init((f,), dtype=dtype), np.ones((f,), dtype=dtype),
                                   init((2 * f,), dtype=dtype)]).astype(dtype)

        return bias_initializer

    # dropout ----------------------------------------------------------------------------------
    def _draw(self, like, rate):
        xp = backend.get_array_module(like.data)
        seed = None
        if self.seed is not None:  # a seeded cell draws from its own stream
            device = backend.device_of(like.data)
            if device not in self._rngs:
                self._rngs[device] = backend.make_rng(device, self.seed)
            seed = self._rngs[device]
        ones = Tensor(xp.ones(like.shape, dtype=like.dtype))
        return [ops.dropout(ones, rate, seed=seed) for _ in range(4)]  # one per gate

    def _dropout_masks(self, step_input, h, training):
        """(input masks, recurrent masks), 4 each, drawn once per call; None in inference."""
        if not training:
            return None, None
        dp = self._draw(step_input, self.dropout) if self.dropout else None
        rec = self._draw(h, self.recurrent_dropout) if self.recurrent_dropout else None
        return dp, rec

    # computation ------------------------------------------------------------------------------
    def _sequence(self, x, dp_masks, states, mask, go_backwards, return_sequences):
        return None  # no fused loop: RNN runs _project once, then _step per time step

    def _input_conv(self, x, kernel):
        return ops.conv(x, kernel, strides=self.strides, padding=self.padding,
                        dilation_rate=self.dilation_rate)

    def _project(self, x, dp_masks):
        """The input conv (+ bias) of a step (B, *spatial, C) or of every step of a sequence
        (B, T, *spatial, C) as one conv with the time axis folded into the batch."""
        lead = tuple(x.shape[:x.ndim - self.rank - 1])
        folded = ops.reshape(x, (-1,) + tuple(x.shape[len(lead):]))
        if dp_masks is None:
            y = self._input_conv(folded, self.kernel)
        else:
            reps = int(np.prod(lead[1:])) if len(lead) > 1 else 1
            masks = [ops.repeat(m, reps, axis=0) if reps > 1 else m for m in dp_masks]
            kernels = ops.split(self.kernel, 4, axis=-1)
            # NOTE: batch-major folding: row b * T + t is step t of sequence b.
            y = ops.concatenate([self._input_conv(ops.multiply(folded, m), k)
                                 for m, k in zip(masks, kernels)], axis=-1)
        if self.bias is not None:
            y = ops.add(y, self.bias)
        return ops.reshape(y, lead + tuple(y.shape[1:]))

    def _recurrent(self, h, rec_masks):
        if rec_masks is None:
            return ops.conv(h, self.recurrent_kernel, padding="same")
        kernels = ops.split(self.recurrent_kernel, 4, axis=-1)
        return ops.concatenate([ops.conv(ops.multiply(h, m), k, padding="same")
                                for m, k in zip(rec_masks, kernels)], axis=-1)

    def _step(self, xw, states, rec_masks):
        h_prev, c_prev = states
        z = ops.add(xw, self._recurrent(h_prev, rec_masks))
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        act, rec_act = self.activation, self.recurrent_activation
        c = ops.add(ops.multiply(rec_act(z_f), c_prev), ops.multiply(rec_act(z_i), act(z_c)))
        h = ops.multiply(rec_act(z_o), act(c))
        return h, [h, c]

    def call(self, inputs, states, training=False):
        states = [self._to_tensor(s) for s in states]
        dp, rec = self._dropout_masks(inputs, states[0], training)
        return self._step(self._project(inputs, dp), states, rec)

    def get_initial_state(self, batch_size=None):
        xp = backend.xp_for(config.device())
        shape = self.compute_output_shape((batch_size,) + self.spatial_dims +
                                          (self.input_dim,))[0]
        return [Tensor(xp.zeros(shape, dtype=self.dtype)) for _ in range(2)]

    def compute_output_shape(self, input_shape, states_shape=None):
        spatial = _spatial_output_shape(input_shape, self.kernel_size, self.strides,
                                        self.padding, self.dilation_rate)
        out = (input_shape[0],) + spatial + (self.filters,)
        return out, [out, out]

    def get_config(self):
        cfg = {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
               "strides": self.strides, "padding": self.padding,
               "data_format": self.data_format, "dilation_rate": self.dilation_rate,
               "activation": activations.serialize(self.activation),
               "recurrent_activation": activations.serialize(self.recurrent_activation),
               "use_bias": self.use_bias}
        weights = _weight_config(self)
        for key in ("kernel_initializer", "recurrent_initializer", "bias_initializer"):
            cfg[key] = weights.pop(key)
        cfg["unit_forget_bias"] = self.unit_forget_bias
        cfg.update(weights)
        cfg.update({"dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                    "seed": self.seed})
        return cfg


ConvLSTMCell._stepwise_call = ConvLSTMCell.call

# Keras's key order of the ConvLSTM configs (after the RNN keys); each lives on the cell.
_CELL_KEYS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
              "activation", "recurrent_activation", "use_bias", "kernel_initializer",
              "recurrent_initializer", "bias_initializer", "unit_forget_bias",
              "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
              "activity_regularizer", "kernel_constraint", "recurrent_constraint",
              "bias_constraint", "dropout", "recurrent_dropout", "seed")


class ConvLSTM(RNN):
    """An RNN over a ``ConvLSTMCell`` with a flat config (no ``cell``), as Keras's."""

    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        cell = ConvLSTMCell(
            self.rank, filters, kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
            recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
            name="conv_lstm_cell", dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.input_spec = InputSpec(ndim=self.rank + 3)

    def __getattr__(self, name):
        # filters, kernel_size, ... live on the cell (Keras exposes them as properties).
        if name in _CELL_KEYS and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _state_shapes(self, batch):
        step = (batch,) + self.cell.spatial_dims + (self.cell.input_dim,)
        return [tuple(s) for s in self.cell.compute_output_shape(step)[1]]

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, steps = sequences_shape[0], sequences_shape[1]
        state = self.cell.compute_output_shape((batch,) + tuple(sequences_shape[2:]))[0]
        out = (batch, steps) + state[1:] if self.return_sequences else state
        return [out, state, state] if self.return_state else out

    def get_config(self):
        cell_cfg = self.cell.get_config()
        cell_cfg["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        base = super().get_config()
        base.pop("activity_regularizer", None)  # Keras writes it among the cell's keys
        return {**base, **{k: cell_cfg[k] for k in _CELL_KEYS}}


class ConvLSTM1D(ConvLSTM):
    """1-D convolutional LSTM over (batch, time, steps, channels).

    >>> ConvLSTM1D(4, 3, padding="same")(Input((5, 10, 2))).shape
    (None, 10, 4)
    """

    rank = 1


class ConvLSTM2D(ConvLSTM):
    """2-D convolutional LSTM over (batch, time, height, width, channels).

    >>> ConvLSTM2D(4, 3, padding="same", return_sequences=True)(Input((5, 8, 8, 2))).shape
    (None, 5, 8, 8, 4)
    """

    rank = 2


class ConvLSTM3D(ConvLSTM):
    """3-D convolutional LSTM over (batch, time, depth, height, width, channels).

    >>> ConvLSTM3D(2, 2, strides=2)(Input((3, 4, 4, 4, 1))).shape
    (None, 2, 2, 2, 2)
    """

    rank = 3


__all__ = ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]
