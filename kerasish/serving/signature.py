"""A loaded model seen as a serving signature: named, typed inputs and outputs, a thread-safe
``predict`` on NumPy arrays, the warm-up batch and the metadata TF Serving and KServe print.

Input names are the model's Input layer names and output names its output layer names, as
TF Serving shows a Keras model's ``serving_default`` signature.
"""
import numpy as np

import engine
from engine import backend

from .. import utils
from ..data import to_device_structure
from .errors import invalid_argument

SIGNATURE_NAME = "serving_default"
PREDICT_METHOD = "tensorflow/serving/predict"
_TF_DTYPES = {"float32": "DT_FLOAT", "float64": "DT_DOUBLE", "float16": "DT_HALF",
              "int32": "DT_INT32", "int64": "DT_INT64", "int16": "DT_INT16", "int8": "DT_INT8",
              "uint8": "DT_UINT8", "bool": "DT_BOOL", "string": "DT_STRING"}
V2_DTYPES = {"float32": "FP32", "float64": "FP64", "float16": "FP16", "int32": "INT32",
             "int64": "INT64", "int16": "INT16", "int8": "INT8", "uint8": "UINT8",
             "bool": "BOOL", "string": "BYTES"}


class TensorSpec:
    """One named tensor of the signature: ``shape`` has ``None`` where any size goes."""

    def __init__(self, name, dtype, shape):
        self.name, self.dtype, self.shape = name, np.dtype(dtype).name, tuple(shape)

    def shape_str(self):
        return "[" + ",".join("-1" if d is None else str(d) for d in self.shape) + "]"

    def check(self, array):
        """Raises INVALID_ARGUMENT unless ``array``'s shape fits (batch axis included)."""
        ok = array.ndim == len(self.shape) and all(
            d is None or d == s for d, s in zip(self.shape, array.shape))
        if not ok:
            got = "[" + ",".join(str(s) for s in array.shape) + "]"
            raise invalid_argument(
                f"Input '{self.name}' expects shape {self.shape_str()} (dtype {self.dtype}; -1: "
                f"any size, the first axis is the batch). Received: shape {got}")

    def tf_info(self, tensor_name):
        dims = [{"size": str(-1 if d is None else d), "name": ""} for d in self.shape]
        return {"dtype": _TF_DTYPES.get(self.dtype, "DT_INVALID"),
                "tensor_shape": {"dim": dims, "unknown_rank": False}, "name": tensor_name}

    def v2_info(self):
        return {"name": self.name, "datatype": V2_DTYPES.get(self.dtype, self.dtype),
                "shape": [-1 if d is None else d for d in self.shape]}


def _unique(names):
    seen, out = {}, []
    for n in names:
        seen[n] = seen.get(n, -1) + 1
        out.append(n if seen[n] == 0 else f"{n}_{seen[n]}")
    return out


class Signature:
    """``serving_default`` of a functional kerasish model."""

    def __init__(self, model):
        inputs = getattr(model, "inputs", None)
        if not inputs:
            raise ValueError("Only models with known inputs (functional models, or Sequential "
                             "models that start with `keras.Input`) can be served. Received: "
                             f"{type(model).__name__} {getattr(model, 'name', '')!r} without "
                             "inputs")
        self.model = model
        names = _unique([t._keras_history[0].name for t in inputs])
        self.inputs = [TensorSpec(n, t.dtype, t.shape) for n, t in zip(names, inputs)]
        struct = getattr(model, "_outputs_struct", None)
        self._dict_outputs = isinstance(struct, dict)
        outputs = model.outputs
        if self._dict_outputs:
            names = list(struct)
            outputs = [struct[n] for n in names]
        else:
            names = _unique([t._keras_history[0].name for t in outputs])
        self.outputs = [TensorSpec(n, t.dtype, t.shape) for n, t in zip(names, outputs)]
        self.input_names = [s.name for s in self.inputs]
        self.output_names = [s.name for s in self.outputs]

    def coerce(self, arrays):
        """Checks names and shapes and casts to each input's dtype; returns a dict by name."""
        missing = [n for n in self.input_names if n not in arrays]
        extra = [n for n in arrays if n not in self.input_names]
        if missing or extra:
            raise invalid_argument(f"Expected the inputs {self.input_names}. Received: "
                                   f"{list(arrays)} (missing {missing}, unknown {extra})")
        out = {}
        batch = None
        for spec in self.inputs:
            a = np.asarray(arrays[spec.name])
            spec.check(a)
            if batch is not None and a.shape[0] != batch:
                raise invalid_argument(
                    f"All inputs must have the same batch size (first axis). Received: "
                    f"{batch} and {a.shape[0]} for input '{spec.name}'")
            batch = a.shape[0]
            out[spec.name] = a.astype(spec.dtype, copy=False)
        return out

    def predict(self, arrays):
        """Runs the model on a dict of arrays (already coerced); returns a dict of arrays.

        Thread-safe: ``engine.no_grad`` and the layers' training flag are thread-local.
        """
        xs = [arrays[n] for n in self.input_names]
        xs = to_device_structure(xs)
        # NOTE: NaN/Infinity inputs are legal (TF Serving computes with them): no warnings.
        with engine.no_grad(), np.errstate(all="ignore"):
            y = self.model(xs[0] if len(xs) == 1 else xs, training=False)
        if self._dict_outputs:
            flat = [y[n] for n in self.output_names]
        else:
            flat = utils.flatten(y)
        return {n: backend.to_numpy(t.data if hasattr(t, "data") else t)
                for n, t in zip(self.output_names, flat)}

    def warmup_inputs(self, batch=1):
        """Zeros of every input's shape (unknown sizes 1): the warm-up batch."""
        return {s.name: np.zeros((batch,) + tuple(1 if d is None else d for d in s.shape[1:]),
                                 s.dtype) for s in self.inputs}

    def tf_signature_def(self):
        """The ``signature_def`` map of TF Serving's metadata answer."""
        return {"signature_def": {SIGNATURE_NAME: {
            "inputs": {s.name: s.tf_info(f"{SIGNATURE_NAME}_{s.name}:0") for s in self.inputs},
            "outputs": {s.name: s.tf_info(f"StatefulPartitionedCall:{i}")
                        for i, s in enumerate(self.outputs)},
            "method_name": PREDICT_METHOD, "defaults": {}}}}
