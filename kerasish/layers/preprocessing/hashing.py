"""Hashing: values to bins by FarmHash Fingerprint64 (SipHash-2-4 when salted), bit for bit as
Keras's ``Hashing`` (TF's ``to_hash_bucket_fast`` / ``to_hash_bucket_strong``)."""
from __future__ import annotations

import numpy as np

from ... import config
from ...symbolic import KerasTensor
from ..layer import Layer
from . import _hash
from ._encode import encode, host_array, prepare_call_inputs, to_tensor

_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


class Hashing(Layer):
    """Hashes strings or integers into ``num_bins`` bins: ``Fingerprint64(value) % num_bins``
    (FarmHash; integers are hashed as their decimal text), or SipHash-2-4 keyed by ``salt``.
    With ``mask_value``, that value goes to bin 0 and the others to ``1 + hash % (num_bins -
    1)``. Equal to Keras's outputs bit for bit (needs the ``pyfarmhash`` package).

    Args:
        num_bins: the number of bins, mask bin included.
        mask_value: the value that goes to bin 0, or None.
        salt: an int or a pair of ints: the SipHash key (None: FarmHash, unkeyed).
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"`` or ``"count"``.
        sparse: return a ``SparseBatch`` for the encoded modes.

    >>> layer = Hashing(num_bins=3)
    >>> layer(np.array([["A"], ["B"], ["C"], ["D"], ["E"]])).numpy().tolist()
    [[1], [0], [1], [1], [2]]
    """

    _accepts_strings = True
    # NOTE: computed on the host from the data: a compiled step cannot replay it (Keras too).
    supports_jit = False

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else config.floatx()
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError("The `num_bins` for `Hashing` cannot be `None` or non-positive "
                             f"values. Received: num_bins={num_bins}.")
        if output_mode == "int" and self.dtype_policy.name not in ("int32", "int64"):
            raise ValueError("When `output_mode=\"int\"`, `dtype` should be an integer type, "
                             f"'int32' or 'in64'. Received: dtype={kwargs['dtype']}")
        if output_mode not in _OUTPUT_MODES:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{_OUTPUT_MODES}. Received: output_mode={output_mode}")
        if sparse and output_mode == "int":
            raise ValueError("`sparse` may only be true if `output_mode` is `\"one_hot\"`, "
                             f"`\"multi_hot\"`, or `\"count\"`. Received: sparse={sparse} and "
                             f"output_mode={output_mode}")
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.strong_hash = salt is not None
        self.output_mode = output_mode
        self.sparse = sparse
        self.salt = None
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                self.salt = list(salt)
            elif isinstance(salt, int):
                self.salt = [salt, salt]
            else:
                raise ValueError("The `salt` argument for `Hashing` can only be a tuple of size "
                                 f"2 integers, or a single integer. Received: salt={salt}.")
        self.built = True

    def __call__(self, *args, **kwargs):
        if args:
            args = (prepare_call_inputs(args[0]),) + args[1:]
        return super().__call__(*args, **kwargs)

    def build(self, input_shape=None):
        self.built = True

    def _hash_values_to_bins(self, values):
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = values == self.mask_value
        if values.dtype.kind == "f":
            values = values.astype(np.int64)  # Keras casts floats to int64 before hashing
        hashed = _hash.hash_buckets(values, bins, salt=self.salt)
        if mask is not None:
            hashed = np.where(mask, 0, hashed + 1)
        return hashed

    def call(self, inputs):
        values = host_array(inputs)
        if self.output_mode == "one_hot" and values.ndim and values.shape[-1] == 1:
            values = values[..., 0]
        indices = self._hash_values_to_bins(values)
        if self.output_mode == "int":
            return to_tensor(indices, self.dtype)
        return encode(indices, self.output_mode, self.num_bins, sparse=self.sparse,
                      dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_bins,)
        return tuple(input_shape[:-1]) + (self.num_bins,)

    def compute_output_spec(self, inputs, *args, **kwargs):
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.dtype,
                           sparse=self.sparse)

    def get_config(self):
        config_ = super().get_config()
        config_.update({"num_bins": self.num_bins, "salt": self.salt,
                        "mask_value": self.mask_value, "output_mode": self.output_mode,
                        "sparse": self.sparse})
        return config_
