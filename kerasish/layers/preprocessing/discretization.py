"""Discretization: continuous values to bin indices (or their one-hot/multi-hot/count
encodings), with boundaries given or adapted as approximate quantiles (Keras's summary
algorithm, so adapted boundaries are Keras's numbers)."""
from __future__ import annotations

import numpy as np

from engine import Tensor, backend

from ... import config
from ...symbolic import KerasTensor
from ..layer import Layer
from ._adapt import host_array
from .category_encoding import encode_categorical

_MODES = ("int", "one_hot", "multi_hot", "count")


# -- Keras's streaming quantile summary: row 0 the values, row 1 their weights (counts) --------

def _summarize(values, epsilon):
    """About ``1 / epsilon`` evenly spaced order statistics of ``values``, each weighted by
    how many values it stands for."""
    ordered = np.sort(np.reshape(values, [-1]))
    step = max(ordered.size * epsilon, 1)
    picked = ordered[int(step - 1)::int(step)]
    return np.stack([picked, np.ones_like(picked) * step])


def _compress(summary, epsilon):
    """Resamples a summary at the cumulative-weight fractions ``epsilon, 2 epsilon, ...``
    (linear interpolation); a summary already that small is kept."""
    if summary.shape[1] * epsilon < 1:
        return summary
    fractions = epsilon + np.arange(0.0, 1.0, epsilon)
    cumulative = summary[1].cumsum()
    at = cumulative / cumulative[-1]
    values = np.interp(fractions, at, summary[0])
    cumulative = np.interp(fractions, at, cumulative)
    weights = cumulative - np.concatenate((np.array([0]), cumulative[:-1]))
    return np.stack((values, weights)).astype("float32")


def _merge(new, old, epsilon):
    # NOTE: the new summary first and NumPy's default (unstable) argsort, as Keras, so that
    # ties between equal values resolve the same way.
    merged = np.concatenate((new, old), axis=1)
    return _compress(np.take(merged, np.argsort(merged[0]), axis=1), epsilon)


class Discretization(Layer):
    """Buckets continuous features: ``bin_boundaries=[0., 1., 2.]`` maps ``x < 0`` to 0,
    ``0 <= x < 1`` to 1, ``1 <= x < 2`` to 2 and ``x >= 2`` to 3.

    Args:
        bin_boundaries: sorted list of boundaries (bins are closed on the left).
        num_bins: the number of bins that ``adapt()`` makes from approximate quantiles.
        epsilon: the quantile approximation's error tolerance (about ``1 / epsilon`` summary
            points per batch).
        output_mode: ``"int"`` (int32 bin indices), ``"one_hot"``, ``"multi_hot"`` or
            ``"count"`` (float encodings of depth ``len(bin_boundaries) + 1``).
        sparse: with an encoding ``output_mode``, return a ``kerasish.sparse.SparseBatch``.

    >>> Discretization(bin_boundaries=[0., 1., 2.])(np.array([[-1.5, 1.0, 3.4, .5]])).numpy()
    array([[0, 2, 3, 1]], dtype=int32)
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, dtype=None, name=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        if sparse and output_mode == "int":
            raise ValueError("`sparse=True` may only be used if `output_mode` is `'one_hot'`, "
                             f"`'multi_hot'`, or `'count'`. Received: sparse={sparse} and "
                             f"output_mode={output_mode}")
        if output_mode not in _MODES:
            raise ValueError(f"Unknown value for `output_mode`. Allowed values are: {_MODES}. "
                             f"Received: output_mode={output_mode}")
        if num_bins is not None and num_bins < 0:
            raise ValueError("`num_bins` must be greater than or equal to 0. Received: "
                             f"`num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError("Both `num_bins` and `bin_boundaries` should not be set. Received: "
                             f"`num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse
        self.summary = None if bin_boundaries else np.array([[], []], dtype="float32")

    @property
    def input_dtype(self):
        return config.floatx()

    @property
    def output_dtype(self):
        return self.compute_dtype if self.output_mode != "int" else "int32"

    def adapt(self, data, steps=None):
        """Sets ``bin_boundaries`` to ``num_bins`` approximate quantiles of ``data``.

        Args:
            data: a NumPy array or Tensor (summarized at once), or an iterable of batches
                (a list of arrays, a generator, a PyDataset), merged batch by batch.
            steps: at most this many batches of an iterable.
        """
        if self.num_bins is None:
            raise ValueError("Cannot adapt a Discretization layer that has been initialized "
                             "with `bin_boundaries`, use `num_bins` instead.")
        self.reset_state()
        if hasattr(data, "shape") and hasattr(data, "dtype") or \
                not hasattr(data, "__iter__") and not hasattr(data, "__getitem__"):
            self.update_state(data)  # one array (or a number): summarized at once
        else:
            batches = (data[i] for i in range(len(data))) if hasattr(data, "num_batches") \
                else data
            for i, batch in enumerate(batches):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch[0] if isinstance(batch, tuple) else batch)
        self.finalize_state()

    def update_state(self, data):
        data = host_array(data).astype("float32")
        self.summary = _merge(_summarize(data, self.epsilon), self.summary, self.epsilon)

    def finalize_state(self):
        if self.num_bins is None:
            return
        self.bin_boundaries = _compress(self.summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def reset_state(self):
        if self.num_bins is None:
            return
        self.summary = np.array([[], []], dtype="float32")

    def _depth(self):
        return len(self.bin_boundaries) + 1 if self.bin_boundaries is not None \
            else self.num_bins

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return input_shape
        depth = self._depth()
        if self.output_mode == "one_hot":
            if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
                return tuple(input_shape[:-1]) + (depth,)
            return tuple(input_shape) + (depth,)
        if input_shape and len(input_shape) >= 2:
            return (input_shape[0],) + tuple(input_shape[2:]) + (depth,)
        return (depth,)

    def compute_output_spec(self, inputs):
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.output_dtype,
                           sparse=self.sparse)

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError("You need to either pass the `bin_boundaries` argument at "
                             "construction time or call `adapt(dataset)` before you can start "
                             "using the `Discretization` layer.")
        x = inputs.data if isinstance(inputs, Tensor) else inputs
        xp = backend.get_array_module(x)
        x = xp.asarray(x).astype(self.input_dtype, copy=False)
        bins = xp.asarray(self.bin_boundaries, dtype=x.dtype)
        # NOTE: bins closed on the left (np.digitize's right=False): searchsorted side="right".
        indices = xp.searchsorted(bins, x.reshape(-1), side="right").reshape(x.shape)
        if self.output_mode == "int":
            return Tensor(indices.astype(np.int32))
        return encode_categorical(indices, self._depth(), self.output_mode, self.output_dtype,
                                  sparse=self.sparse, layer_name=self.name)

    def get_config(self):
        # NOTE: Keras's keys exactly: no `trainable`, and the dtype as a plain name.
        return {"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                "epsilon": self.epsilon, "output_mode": self.output_mode,
                "sparse": self.sparse, "name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config_, custom_objects=None):
        config_ = dict(config_)
        if config_.get("bin_boundaries") is not None and config_.get("num_bins") is not None:
            # An adapted layer: built from num_bins, then given its adapted boundaries.
            bin_boundaries = config_.pop("bin_boundaries")
            layer = cls(**config_)
            layer.bin_boundaries = bin_boundaries
            return layer
        return cls(**config_)
