"""Normalization: ``(x - mean) / max(sqrt(variance), epsilon)``, with the statistics given or
learned by ``adapt()`` (population variance)."""
from __future__ import annotations

import math

import numpy as np

from engine import backend, ops

from ... import config
from ..layer import Layer
from ._adapt import adapt_data


class Normalization(Layer):
    """Shifts and scales inputs to mean 0 and standard deviation 1 with statistics kept per
    index of ``axis`` (and shared over the other axes), given or computed by ``adapt()``.

    Adapted statistics live in the non-trainable weights ``mean``, ``variance`` (float) and
    ``count`` (int64), so they are saved with the model.

    Args:
        axis: int, tuple of ints, or None: the axes with their own mean and variance;
            None normalizes every element by one scalar mean and variance.
        mean, variance: the statistics to use instead of ``adapt()`` (given together,
            broadcast to the kept axes).
        invert: apply the inverse transformation (``mean + x * sqrt(variance)``).

    >>> layer = Normalization(axis=None)
    >>> layer.adapt(np.array([1., 2., 3., 4., 5.], "float32"))
    >>> layer(np.array([1., 2., 3.], "float32")).numpy()
    array([-1.4142135 , -0.70710677,  0.        ], dtype=float32)
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        self.supports_masking = True
        self._build_input_shape = None
        self.mean = None
        if (mean is not None) != (variance is not None):
            raise ValueError("When setting values directly, both `mean` and `variance` must be "
                             f"set. Received: mean={mean} and variance={variance}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError("When setting values directly, `mean` and `variance` must "
                                 f"have the same shape. Received: mean shape {np.shape(mean)} "
                                 f"and variance shape {np.shape(variance)}")
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(f"The rank of `mean` must be less than or equal to the number "
                                 f"of axes ({len(self.axis)}). Received: mean shape "
                                 f"{np.shape(mean)} for axis {self.axis}")

    def build(self, input_shape):
        ndim = len(input_shape)
        self._build_input_shape = tuple(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError("All `axis` values must be in the range [-ndim, ndim). Received "
                             f"inputs with ndim={ndim}, while axis={self.axis}")
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for a in self._keep_axis:
            if input_shape[a] is None:
                raise ValueError(f"All `axis` values to be kept must have a known shape. "
                                 f"Received axis={self.axis}, inputs.shape={tuple(input_shape)}"
                                 f", with unknown axis at index {a}")
        self._reduce_axis = tuple(a for a in range(ndim) if a not in self._keep_axis)
        self._broadcast_shape = tuple(input_shape[a] if a in self._keep_axis else 1
                                      for a in range(ndim))
        self._mean_and_var_shape = tuple(input_shape[a] for a in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=self._mean_and_var_shape,
                                              initializer="zeros", trainable=False)
            self.adapt_variance = self.add_weight(name="variance",
                                                  shape=self._mean_and_var_shape,
                                                  initializer="ones", trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int64",
                                         initializer="zeros", trainable=False)
            self.built = True
            self.finalize_state()
            return
        mean, variance = np.asarray(self.input_mean), np.asarray(self.input_variance)
        if mean.ndim:
            # The given values fill the last kept axes (Keras's right-aligned expansion).
            expanded = [1] * ndim
            for i in range(1, mean.ndim + 1):
                expanded[self._keep_axis[-i]] = mean.shape[-i]
            mean, variance = mean.reshape(expanded), variance.reshape(expanded)
        self.mean = np.broadcast_to(mean, self._broadcast_shape).astype(self.compute_dtype)
        self.variance = np.broadcast_to(variance,
                                        self._broadcast_shape).astype(self.compute_dtype)

    def adapt(self, data):
        """Computes the mean and (population) variance of ``data``, per index of ``axis``.

        Args:
            data: a NumPy array or Tensor, a ``PyDataset``, or an iterable of batches; batches
                are merged one by one (Keras's running update of mean and variance).
        """
        array, batches = adapt_data(data, self.name)
        if array is None:
            first = next(batches)
            shape = first.shape
            batches = _chain(first, batches)
        else:
            shape = array.shape
        if not self.built:
            self._maybe_build(tuple(shape))
        else:
            self._check_shape(shape)
        if array is not None:
            total_mean = np.mean(array, axis=self._reduce_axis)
            total_var = np.var(array, axis=self._reduce_axis)
        else:
            total_mean, total_var = self._merge_batches(batches)
        self.adapt_mean.assign(np.asarray(total_mean, dtype=self.adapt_mean.dtype))
        self.adapt_variance.assign(np.asarray(total_var, dtype=self.adapt_variance.dtype))
        self.finalize_state()

    def _check_shape(self, shape):
        for a in self._keep_axis:
            if shape[a] != self._build_input_shape[a]:
                raise ValueError(f"The layer was built with input_shape="
                                 f"{self._build_input_shape}, but adapt() is being called with "
                                 f"data with an incompatible shape, data.shape={tuple(shape)}")

    def _merge_batches(self, batches):
        dtype = self.compute_dtype
        total_mean = np.zeros(self._mean_and_var_shape, dtype)
        total_var = np.zeros(self._mean_and_var_shape, dtype)
        total_count = 0
        for batch in batches:
            batch = np.asarray(batch, dtype=dtype)
            for a in self._keep_axis:
                if batch.shape[a] != self._build_input_shape[a]:
                    raise ValueError("adapt() yielded a batch with incompatible shape. "
                                     f"Expected {self._build_input_shape}, got "
                                     f"{tuple(batch.shape)}.")
            batch_mean = np.mean(batch, axis=self._reduce_axis)
            batch_var = np.var(batch, axis=self._reduce_axis)
            batch_count = math.prod(batch.shape[a] for a in self._reduce_axis)
            total_count += batch_count
            batch_weight = float(batch_count) / total_count
            existing_weight = 1.0 - batch_weight
            new_mean = total_mean * existing_weight + batch_mean * batch_weight
            total_var = ((total_var + (total_mean - new_mean) ** 2) * existing_weight
                         + (batch_var + (batch_mean - new_mean) ** 2) * batch_weight)
            total_mean = new_mean
        return total_mean, total_var

    def finalize_state(self):
        """Reads the adapted weights into the statistics ``call`` uses (after ``adapt`` and
        after loading weights)."""
        if self.input_mean is not None or not self.built:
            return
        self.mean = self.adapt_mean.numpy().reshape(self._broadcast_shape)
        self.variance = self.adapt_variance.numpy().reshape(self._broadcast_shape)

    def call(self, inputs):
        if self.mean is None:
            raise ValueError("You must call `.build(input_shape)` on the layer before using it.")
        x = ops.cast(inputs, self.compute_dtype)
        xp = backend.get_array_module(x.data)
        if self.input_mean is None:
            # NOTE: read from the weights at every call (on their device), so weights loaded
            # from a file or set with set_weights count as Keras's finalize_state() makes them.
            mean = self.adapt_mean.data.reshape(self._broadcast_shape)
            variance = self.adapt_variance.data.reshape(self._broadcast_shape)
            self.mean, self.variance = mean, variance  # Keras's attributes, kept current
        else:
            mean, variance = xp.asarray(self.mean), xp.asarray(self.variance)
        mean = mean.astype(self.compute_dtype, copy=False)
        variance = variance.astype(self.compute_dtype, copy=False)
        scale = xp.maximum(xp.sqrt(variance), xp.asarray(config.epsilon(), self.compute_dtype))
        if self.invert:
            return ops.add(ops.multiply(x, scale), mean)
        return ops.divide(ops.subtract(x, mean), scale)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config_ = super().get_config()
        config_.update({"axis": self.axis, "invert": self.invert,
                        "mean": np.array(self.input_mean).tolist(),
                        "variance": np.array(self.input_variance).tolist()})
        return config_


def _chain(first, rest):
    yield first
    yield from rest
