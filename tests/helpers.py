"""Test harnesses shared by the test modules.

``OpCase`` drives the op tests: a table of cases per family, each run forward against a
plain-NumPy (or closed-form) reference in float32 and gradient-checked in float64. The tables
are also what ``test_ops_coverage`` reads to prove that every public op has a gradient test.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Optional, Sequence

import numpy as np

from engine import Tensor, backend
from engine.gradcheck import check_grad


@dataclasses.dataclass
class OpCase:
    """One op under one set of inputs.

    Attributes:
        name: the public name in ``engine.ops`` this case covers.
        fn: takes one Tensor per input and returns a Tensor (may close over parameters).
        inputs: NumPy arrays; floating ones are differentiated, integer/bool ones are not.
        expected: the reference, a function of the float64 NumPy inputs.
        grad: False for ops without a gradient (comparisons, argmax, one_hot).
        label: distinguishes several cases of one op (e.g. "broadcast", "keepdims").
        atol, rtol: forward tolerances in float32.
        grad_atol, grad_rtol: gradient-check tolerances in float64.
        grad_inputs: indices of the inputs to check (default: all floating ones).
    """

    name: str
    fn: Callable
    inputs: Sequence[np.ndarray]
    expected: Optional[Callable] = None
    grad: bool = True
    label: str = ""
    atol: float = 1e-5
    rtol: float = 1e-5
    grad_atol: float = 1e-6
    grad_rtol: float = 1e-4
    eps: float = 1e-6

    @property
    def id(self):
        return f"{self.name}-{self.label}" if self.label else self.name


def case_ids(cases):
    return [c.id for c in cases]


def _to_xp(xp, a, float_dtype):
    a = np.asarray(a)
    if a.dtype.kind == "f":
        a = a.astype(float_dtype)
    return xp.asarray(a)


def run_forward(case: OpCase, xp):
    """Runs ``case.fn`` on float32 inputs and compares with ``case.expected`` (float64 NumPy)."""
    inputs = [Tensor(_to_xp(xp, a, np.float32)) for a in case.inputs]
    y = case.fn(*inputs)
    assert isinstance(y, Tensor), f"{case.id}: returned {type(y).__name__}, not a Tensor"
    assert backend.get_array_module(y.data) is xp, f"{case.id}: output left the device"
    has_float = any(np.asarray(a).dtype.kind == "f" for a in case.inputs)
    if has_float and y.dtype.kind == "f":
        assert y.dtype == np.float32, f"{case.id}: float32 inputs gave a {y.dtype} output"
    if case.expected is not None:
        ref_inputs = [np.asarray(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f"
                      else np.asarray(a) for a in case.inputs]
        expected = np.asarray(case.expected(*ref_inputs))
        got = y.numpy()
        assert got.shape == expected.shape, f"{case.id}: shape {got.shape} != {expected.shape}"
        np.testing.assert_allclose(got, expected, atol=case.atol, rtol=case.rtol,
                                   err_msg=case.id)
    return y


def run_grad(case: OpCase, xp):
    """Gradient-checks ``case.fn`` in float64 along random directions."""
    inputs = [_to_xp(xp, a, np.float64) for a in case.inputs]
    check_grad(case.fn, *inputs, eps=case.eps, atol=case.grad_atol, rtol=case.grad_rtol)


def run_grad_dtype(case: OpCase, xp):
    """In float32 the gradients come back float32 with the inputs' shapes."""
    import engine

    inputs = [Tensor(_to_xp(xp, a, np.float32), requires_grad=np.asarray(a).dtype.kind == "f")
              for a in case.inputs]
    y = case.fn(*inputs)
    diff = [t for t in inputs if t.requires_grad]
    grads = engine.grad(y, diff, grad_outputs=xp.ones(y.shape, dtype=y.dtype))
    for t, g in zip(diff, grads):
        assert g.dtype == np.float32 and g.shape == t.shape, case.id


def rng(seed=0):
    return np.random.default_rng(seed)


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def positive(*shape, seed=0, low=0.5, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


# -- layers ---------------------------------------------------------------------------------

def check_layer_grads(layer, *inputs, eps=1e-6, atol=1e-6, rtol=1e-4, seed=0, call_kwargs=None):
    """Finite-difference check (float64) of a layer's gradients w.r.t. its float inputs and
    trainable weights. Build the layer with ``dtype="float64"``."""
    import engine

    call_kwargs = call_kwargs or {}
    rng_ = np.random.default_rng(seed)
    tensors = [Tensor(np.asarray(a), requires_grad=np.asarray(a).dtype.kind == "f")
               for a in inputs]
    arg = tensors[0] if len(tensors) == 1 else tensors
    y = layer(arg, **call_kwargs)
    targets = [t for t in tensors if t.requires_grad] + list(layer.trainable_weights)
    assert all(t.dtype == np.float64 for t in targets), "build the layer with dtype='float64'"
    w = rng_.standard_normal(y.shape)
    grads = engine.grad(y, targets, grad_outputs=w)

    def weighted():
        with engine.no_grad():
            return float((layer(arg, **call_kwargs).numpy() * w).sum())

    for index, (t, g) in enumerate(zip(targets, grads)):
        d = rng_.standard_normal(t.shape)
        original = t.data.copy()
        t.data[...] = original + eps * d
        plus = weighted()
        t.data[...] = original - eps * d
        minus = weighted()
        t.data[...] = original
        numeric, analytic = (plus - minus) / (2 * eps), float((g.numpy() * d).sum())
        name = getattr(t, "path", None) or f"input {index}"
        assert abs(numeric - analytic) <= atol + rtol * abs(numeric), (
            f"{layer.name}: gradient of {name} disagrees: analytic {analytic}, numeric {numeric}")


def run_layer_test(layer_cls, init_kwargs, input_shape, expected_output_shape,
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0,
                   input_dtype="float32", input_data=None, expected_weight_names=None,
                   run_training_check=True, call_kwargs=None):
    """Keras-style layer harness: symbolic call, eager call, config round trip, weight order,
    and one SGD step that changes the trainable weights."""
    import kerasish as keras
    import engine

    call_kwargs = call_kwargs or {}
    rng_ = np.random.default_rng(0)
    if input_data is None:
        if np.dtype(input_dtype).kind == "i":
            input_data = rng_.integers(0, 5, input_shape).astype(input_dtype)
        else:
            input_data = rng_.standard_normal(input_shape).astype(input_dtype)
    # Symbolic: shape arithmetic only.
    layer = layer_cls(**init_kwargs)
    symbolic_in = keras.Input(batch_shape=(None,) + tuple(input_shape[1:]), dtype=input_dtype)
    symbolic_out = layer(symbolic_in, **call_kwargs)
    assert symbolic_out.shape == (None,) + tuple(expected_output_shape[1:]), symbolic_out.shape
    # Eager.
    layer = layer_cls(**init_kwargs)
    y = layer(input_data, **call_kwargs)
    assert y.shape == tuple(expected_output_shape), (y.shape, expected_output_shape)
    assert len(layer.trainable_weights) == expected_num_trainable_weights
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights
    if expected_weight_names is not None:
        assert [w.name for w in layer.weights] == list(expected_weight_names)
    # Config round trip, and the same numbers with the same weights.
    config = layer.get_config()
    clone = layer_cls.from_config(config)
    clone_config = clone.get_config()
    config.pop("name"), clone_config.pop("name")
    assert clone_config == config
    clone(input_data, **call_kwargs)
    clone.set_weights(layer.get_weights())
    with engine.no_grad():
        np.testing.assert_allclose(clone(input_data, **call_kwargs).numpy(),
                                   layer(input_data, **call_kwargs).numpy(), rtol=1e-6, atol=1e-6)
    # One SGD step changes every trainable weight.
    if run_training_check and layer.trainable_weights:
        before = [w.numpy().copy() for w in layer.trainable_weights]
        out = layer(input_data, training=True, **call_kwargs) if _takes_training(layer) \
            else layer(input_data, **call_kwargs)
        loss = engine.ops.mean(engine.ops.square(out))
        grads = engine.grad(loss, layer.trainable_weights)
        for w, g in zip(layer.trainable_weights, grads):
            w.assign(w.numpy() - 0.1 * g.numpy())
        for w, b in zip(layer.trainable_weights, before):
            assert not np.allclose(w.numpy(), b), f"{w.path} did not change"
    return layer, y


def _takes_training(layer):
    import inspect

    return "training" in inspect.signature(type(layer).call).parameters
