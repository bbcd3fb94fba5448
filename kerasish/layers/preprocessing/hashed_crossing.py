"""HashedCrossing: the hashed cross of categorical features, bit for bit as Keras's
(``tf.sparse.cross_hashed``: a FingerprintCat64 chain over the features' hashes)."""
from __future__ import annotations

from engine import Tensor

from ...symbolic import KerasTensor
from ..layer import Layer
from . import _hash
from ._encode import encode, host_array, to_tensor


class HashedCrossing(Layer):
    """Crosses two or more categorical features (strings or integers) of the same shape,
    ``()``, ``(batch,)`` or ``(batch, 1)``, into ``num_bins`` bins: each row's features are
    combined with TensorFlow's FingerprintCat64 (strings by their FarmHash Fingerprint64,
    integers by their own bits), then taken modulo ``num_bins``.

    Args:
        num_bins: the number of bins.
        output_mode: ``"int"`` (the bin) or ``"one_hot"``.
        sparse: must be False (Keras allows it on TensorFlow only).

    >>> layer = HashedCrossing(num_bins=5)
    >>> layer((np.array([1, 2, 3, 4, 5]), np.array(["A", "B", "A", "B", "A"]))).numpy().tolist()
    [2, 3, 1, 2, 2]
    """

    _accepts_strings = True
    # NOTE: computed on the host from the data: a compiled step cannot replay it (Keras too).
    supports_jit = False

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None,
                 **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype)
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend.")
        if output_mode not in ("int", "one_hot"):
            raise ValueError("Unknown value for `output_mode` argument of layer "
                             "HashedCrossing. Allowed values are: ('int', 'one_hot'). "
                             f"Received: output_mode={output_mode}")
        self.num_bins = num_bins
        self.output_mode = output_mode
        self.sparse = sparse
        self.built = True

    def build(self, input_shape=None):
        self.built = True

    def _to_tensor(self, x):
        # Inputs stay host arrays with their own dtype (a float input is refused, as Keras).
        return x if x is None or isinstance(x, Tensor) else host_array(x)

    def compute_output_shape(self, input_shape):
        if not (len(input_shape) == 2 and isinstance(input_shape[0], tuple)
                and isinstance(input_shape[1], tuple)):
            raise ValueError("Expected as input a list/tuple of 2 tensors. Received "
                             f"input_shape={input_shape}")
        if input_shape[0][-1:] != input_shape[1][-1:]:
            raise ValueError("Expected the two input tensors to have identical shapes. "
                             f"Received input_shape={input_shape}")
        first = tuple(input_shape[0])
        if self.output_mode == "int":
            return first
        if first and first[-1] != 1:
            return first + (self.num_bins,)
        return first[:-1] + (self.num_bins,)

    def compute_output_spec(self, inputs, *args, **kwargs):
        shapes = tuple(tuple(x.shape) for x in inputs)
        if len(shapes) > 2:
            shapes = shapes[:2]
        return KerasTensor(self.compute_output_shape(shapes), dtype=self.dtype)

    def _check_inputs(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError("`HashedCrossing` should be called on a list or tuple of inputs. "
                             f"Received: inputs={inputs}")
        if len(inputs) < 2:
            raise ValueError("`HashedCrossing` should be called on at least two inputs. "
                             f"Received: inputs={inputs}")
        arrays = [host_array(x) for x in inputs]
        first = arrays[0].shape
        if len(first) > 2 or (len(first) == 2 and first[-1] != 1):
            raise ValueError("All `HashedCrossing` inputs should have shape `()`, "
                             f"`(batch_size)` or `(batch_size, 1)`. Received: inputs={inputs}")
        if not all(a.shape == first for a in arrays[1:]):
            raise ValueError("All `HashedCrossing` inputs should have equal shape. Received: "
                             f"inputs={inputs}")
        if not all(a.dtype.kind in "iuO" for a in arrays):
            raise ValueError("All `HashedCrossing` inputs should have an integer or string "
                             f"dtype. Received: inputs={inputs}")
        return arrays

    def call(self, inputs):
        arrays = self._check_inputs(inputs)
        shape = arrays[0].shape
        columns = [a.reshape(-1) for a in arrays]
        hashed = _hash.cross_hash(columns, self.num_bins).reshape(shape)
        if self.output_mode == "int":
            return to_tensor(hashed, self.dtype)
        return encode(hashed, "one_hot", self.num_bins, dtype=self.compute_dtype)

    def get_config(self):
        return {"num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse, "name": self.name, "dtype": self.dtype}
