"""Shape ops against NumPy, with gradient checks; getitem, cast and to_device included."""
import numpy as np
import pytest

from engine import Tensor, backend, ops
from engine.ops.shape import to_device
from tests.engine import op_tests
from tests.helpers import OpCase, randn

A = randn(2, 3, 4, seed=1)
M = randn(3, 4, seed=2)
C = randn(3, 1, seed=3)
MASK = randn(3, 4, seed=4) > 0


def _weighted(parts):
    """Joins the pieces of a split with distinct weights, so a misrouted gradient shows."""
    return ops.concatenate([p * float(i + 1) for i, p in enumerate(parts)], axis=1)


def _ref_split(x, spec):
    return np.concatenate([p * (i + 1) for i, p in enumerate(np.split(x, spec, axis=1))], axis=1)


CASES = [
    OpCase("reshape", lambda x: ops.reshape(x, (6, 4)), [A], lambda x: x.reshape(6, 4)),
    OpCase("reshape", lambda x: ops.reshape(x, (-1, 2)), [A], lambda x: x.reshape(-1, 2),
           label="minus-one"),
    OpCase("reshape", lambda x: ops.reshape(x, 24), [A], lambda x: x.reshape(24), label="int"),
    OpCase("reshape", lambda x: x.reshape(4, 6), [A], lambda x: x.reshape(4, 6), label="method"),
    OpCase("transpose", ops.transpose, [A], np.transpose),
    OpCase("transpose", lambda x: ops.transpose(x, (1, -1, 0)), [A],
           lambda x: np.transpose(x, (1, 2, 0)), label="axes"),
    OpCase("transpose", lambda x: x.T, [M], lambda x: x.T, label="T"),
    OpCase("expand_dims", lambda x: ops.expand_dims(x, 1), [M], lambda x: np.expand_dims(x, 1)),
    OpCase("expand_dims", lambda x: ops.expand_dims(x, (0, -1)), [M],
           lambda x: np.expand_dims(x, (0, -1)), label="tuple"),
    OpCase("squeeze", ops.squeeze, [randn(1, 3, 1, 2, seed=5)], np.squeeze),
    OpCase("squeeze", lambda x: ops.squeeze(x, -1), [C], lambda x: np.squeeze(x, -1),
           label="axis"),
    OpCase("squeeze", lambda x: ops.squeeze(x, (0, 2)), [randn(1, 3, 1, 2, seed=6)],
           lambda x: np.squeeze(x, (0, 2)), label="tuple"),
    OpCase("broadcast_to", lambda x: ops.broadcast_to(x, (2, 3, 4)), [C],
           lambda x: np.broadcast_to(x, (2, 3, 4))),
    OpCase("concatenate", lambda a, b: ops.concatenate([a, b], axis=0), [M, randn(2, 4, seed=7)],
           lambda a, b: np.concatenate([a, b], axis=0)),
    OpCase("concatenate", lambda a, b, c: ops.concatenate([a, b, c], axis=-1),
           [M, C, randn(3, 2, seed=8)], lambda a, b, c: np.concatenate([a, b, c], axis=-1),
           label="three-last-axis"),
    OpCase("stack", lambda a, b: ops.stack([a, b]), [M, randn(3, 4, seed=9)],
           lambda a, b: np.stack([a, b])),
    OpCase("stack", lambda a, b: ops.stack([a, b], axis=-1), [M, randn(3, 4, seed=10)],
           lambda a, b: np.stack([a, b], axis=-1), label="last-axis"),
    OpCase("split", lambda x: _weighted(ops.split(x, 2, axis=1)), [M],
           lambda x: _ref_split(x, 2)),
    OpCase("split", lambda x: _weighted(ops.split(x, [1, 3], axis=1)), [M],
           lambda x: _ref_split(x, [1, 3]), label="indices"),
    OpCase("pad", lambda x: ops.pad(x, ((1, 2), (0, 1))), [M],
           lambda x: np.pad(x, ((1, 2), (0, 1)))),
    OpCase("pad", lambda x: ops.pad(x, 1, constant_values=1.5), [M],
           lambda x: np.pad(x, 1, constant_values=1.5), label="int-width-value"),
    OpCase("pad", lambda x: ops.pad(x, ((1, 1),)), [A], lambda x: np.pad(x, ((1, 1),)),
           label="one-pair"),
]
for _mode in ("reflect", "symmetric", "edge", "wrap"):
    CASES.append(OpCase("pad", lambda x, m=_mode: ops.pad(x, ((2, 3), (1, 0)), mode=m), [M],
                        lambda x, m=_mode: np.pad(x, ((2, 3), (1, 0)), mode=m), label=_mode))
CASES += [
    OpCase("pad", lambda x: ops.pad(x, ((0, 0), (5, 6)), mode="reflect"), [M],
           lambda x: np.pad(x, ((0, 0), (5, 6)), mode="reflect"), label="reflect-wide"),
    OpCase("tile", lambda x: ops.tile(x, (2, 3)), [M], lambda x: np.tile(x, (2, 3))),
    OpCase("tile", lambda x: ops.tile(x, (2, 1, 3)), [M], lambda x: np.tile(x, (2, 1, 3)),
           label="more-reps"),
    OpCase("tile", lambda x: ops.tile(x, 2), [A], lambda x: np.tile(x, 2), label="int"),
    OpCase("repeat", lambda x: ops.repeat(x, 2), [M], lambda x: np.repeat(x, 2)),
    OpCase("repeat", lambda x: ops.repeat(x, 3, axis=1), [A], lambda x: np.repeat(x, 3, axis=1),
           label="axis"),
    OpCase("repeat", lambda x: ops.repeat(x, [2, 0, 1], axis=-2), [A],
           lambda x: np.repeat(x, [2, 0, 1], axis=-2), label="per-element"),
    OpCase("flip", ops.flip, [A], np.flip),
    OpCase("flip", lambda x: ops.flip(x, 1), [A], lambda x: np.flip(x, 1), label="axis"),
    OpCase("flip", lambda x: ops.flip(x, (0, 2)), [A], lambda x: np.flip(x, (0, 2)),
           label="tuple"),
    OpCase("cast", lambda x: ops.cast(ops.cast(x, "float64"), x.dtype), [M], lambda x: x),
    # Through float32 and back: finite differences need a step well above float32 rounding.
    OpCase("cast", lambda x: ops.cast(x.astype(np.float32), x.dtype), [M], lambda x: x,
           label="via-float32", eps=1e-2, grad_atol=1e-4),
    OpCase("getitem", lambda x: x[1, 1:, ::2], [A], lambda x: x[1, 1:, ::2]),
    OpCase("getitem", lambda x: x[::-1, None, ..., -1], [A], lambda x: x[::-1, None, ..., -1],
           label="negative-step-none-ellipsis"),
    OpCase("getitem", lambda x: x[[2, 0, 2, 2]], [M], lambda x: x[[2, 0, 2, 2]],
           label="int-array-repeats"),
    OpCase("getitem", lambda x: x[:, np.array([1, 1, -1])], [A],
           lambda x: x[:, np.array([1, 1, -1])], label="slice-and-array"),
    OpCase("getitem", lambda x: x[np.array([0, 1, 1]), :, np.array([3, 3, 0])], [A],
           lambda x: x[np.array([0, 1, 1]), :, np.array([3, 3, 0])], label="two-arrays"),
    OpCase("getitem", lambda x, m: x[m], [M, MASK], lambda x, m: x[m], label="bool-mask"),
    OpCase("getitem", lambda x, i: ops.getitem(x, (Ellipsis, i)), [A, np.array([[3, 0], [3, 3]])],
           lambda x, i: x[..., i], label="tensor-key"),
]

test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


@pytest.mark.parametrize("fn, match", [
    (lambda: ops.reshape(A, (5, 5)), r"reshape: cannot reshape .*\(2, 3, 4\).*newshape"),
    (lambda: ops.reshape(A, (-1, -1)), "reshape: "),
    (lambda: ops.concatenate([M, A], axis=0), "concatenate: .*same rank"),
    (lambda: ops.concatenate([M, C], axis=0), r"concatenate: .*shapes=\[\(3, 4\), \(3, 1\)\]"),
    (lambda: ops.concatenate([]), "concatenate: needs at least one"),
    (lambda: ops.stack([M, C]), "stack: .*same shape"),
    (lambda: ops.squeeze(M, 0), r"squeeze: .*x.shape=\(3, 4\)"),
    (lambda: ops.expand_dims(M, 3), "expand_dims: axis 3 is out of range"),
    (lambda: ops.broadcast_to(M, (4, 4)), r"broadcast_to: .*\(3, 4\) to \(4, 4\)"),
    (lambda: ops.transpose(A, (0, 1)), "transpose: .*permutation"),
    (lambda: ops.transpose(A, (0, 1, 3)), "transpose: .*permutation"),
    (lambda: ops.split(M, 3, axis=1), "split: .*equal sections"),
    (lambda: ops.pad(M, ((1, 1), (1, 1), (1, 1))), "pad: pad_width"),
    (lambda: ops.pad(M, -1), "pad: pad_width"),
    (lambda: ops.pad(M, 1, mode="mean"), "pad: mode"),
    (lambda: ops.pad(M, 1, mode="reflect", constant_values=2), "constant_values"),
    (lambda: ops.repeat(M, [1, 2], axis=0), "repeat: "),
])
def test_bad_shapes_raise_value_error(fn, match):
    with pytest.raises(ValueError, match=match):
        fn()


def test_getitem_and_cast_errors():
    with pytest.raises(IndexError, match=r"getitem: .*x.shape=\(3, 4\)"):
        ops.getitem(M, (5,))
    with pytest.raises(TypeError, match="cast: unknown dtype"):
        ops.cast(M, "float-ish")


def test_iterating_a_tensor_stops_at_index_error():
    rows = list(Tensor(M))
    assert len(rows) == 3 and rows[2].shape == (4,)


def test_cast_dtypes_and_gradients():
    x = Tensor(M.astype(np.float32), requires_grad=True)
    y = ops.cast(x, "float64")
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    i = ops.cast(x, "int32")
    assert i.dtype == np.int32 and not i.requires_grad
    assert ops.cast(x, float).dtype == np.float32  # Keras maps Python float to float32


def test_getitem_basic_index_is_a_view_and_grads_accumulate():
    x = Tensor(M, requires_grad=True)
    (x[0] + x[0] + x[[0, 0]].sum(axis=0)).sum().backward()
    expected = np.zeros_like(M)
    expected[0] = 4.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_to_device(xp):
    device = "gpu" if xp is not np else "cpu"
    x = Tensor(M, requires_grad=True)
    y = to_device(x, device)
    assert y.device == device and y.requires_grad
    (y * 2.0).sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), np.full_like(M, 2.0))
    np.testing.assert_array_equal(x.to(device).numpy(), M)


def test_to_device_errors():
    with pytest.raises(ValueError, match="Unknown device"):
        to_device(Tensor(M), "tpu")
    if not backend.cupy_available():
        with pytest.raises(RuntimeError, match="gpu"):
            to_device(Tensor(M), "gpu")
