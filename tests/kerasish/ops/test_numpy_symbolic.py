"""On KerasTensors the ops compute nothing: a graph node whose output spec comes by arithmetic.

Each spec is checked against the eager result (shape and dtype), with full shapes and with the
first axis unknown (None), for the unary, binary and reduction tables of the forward tests.
"""
import numpy as np
import pytest

from kerasish import Input, Model
from kerasish import ops
from kerasish.ops import numpy as knp
from kerasish.symbolic import KerasTensor
from tests.kerasish.ops.test_numpy_forward import AXES, BINARY, REDUCTIONS, UNARY, A, NAN

# Results whose length depends on the values, not the shapes.
VALUE_DEPENDENT = {"nonzero", "unique"}
SCALAR_RESULTS = {"ndim", "size"}


def _symbolic(value, unknown_first):
    a = np.asarray(value)
    if a.dtype == np.float64:
        a = a.astype(np.float32)
    if a.ndim == 0:
        return value
    shape = (None,) + a.shape[1:] if unknown_first else a.shape
    return KerasTensor(shape, dtype=a.dtype)


def _f32(value):
    a = np.asarray(value)
    return a.astype(np.float32) if a.dtype == np.float64 else value


def _check(spec, eager, unknown_first):
    if isinstance(eager, (tuple, list)):
        assert len(spec) == len(eager)
        for s, e in zip(spec, eager):
            _check(s, e, unknown_first)
        return
    assert isinstance(spec, KerasTensor), spec
    shape = tuple(eager.shape)
    assert len(spec.shape) == len(shape), (spec.shape, shape)
    for s, e in zip(spec.shape, shape):
        assert s == e or (unknown_first and s is None), (spec.shape, shape)
    if not unknown_first:
        assert spec.shape == shape
    assert spec.dtype == np.dtype(eager.dtype).name, (spec.dtype, eager.dtype)


@pytest.mark.parametrize("unknown_first", [False, True], ids=["static", "none"])
@pytest.mark.parametrize("name", sorted(set(UNARY) - SCALAR_RESULTS))
def test_unary_specs(name, unknown_first):
    x, _ = UNARY[name]
    fn = getattr(knp, name)
    _check(fn(_symbolic(x, unknown_first)), fn(_f32(x)), unknown_first)


@pytest.mark.parametrize("unknown_first", [False, True], ids=["static", "none"])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_specs(name, unknown_first):
    x1, x2, _ = BINARY[name]
    if unknown_first and name in ("searchsorted", "correlate", "cross", "kron", "tensordot"):
        unknown_first = False  # their first axis is a contracted or searched one
    fn = getattr(knp, name)
    _check(fn(_symbolic(x1, unknown_first), _symbolic(x2, False)), fn(_f32(x1), _f32(x2)),
           unknown_first)


@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_specs(name, axis):
    x = NAN if name.startswith("nan") else A
    if name.endswith(("argmax", "argmin")) and isinstance(axis, tuple):
        return
    fn = getattr(knp, name)
    for keepdims in (False, True):
        _check(fn(_symbolic(x, True), axis=axis, keepdims=keepdims),
               fn(_f32(x), axis=axis, keepdims=keepdims), True)


SHAPE_CASES = [  # (function of one KerasTensor of shape (None, 3, 4), expected shape)
    (lambda x: knp.reshape(x, (-1, 2, 6)), (None, 2, 6)),
    (lambda x: knp.transpose(x), (4, 3, None)),
    (lambda x: knp.expand_dims(x, -1), (None, 3, 4, 1)),
    (lambda x: knp.concatenate([x, x], axis=0), (None, 3, 4)),
    (lambda x: knp.concatenate([x, x], axis=-1), (None, 3, 8)),
    (lambda x: knp.stack([x, x], axis=1), (None, 2, 3, 4)),
    (lambda x: knp.split(x, 2, axis=-1)[0], (None, 3, 2)),
    (lambda x: knp.pad(x, ((0, 0), (1, 1), (2, 0))), (None, 5, 6)),
    (lambda x: knp.tile(x, (1, 2, 1)), (None, 6, 4)),
    (lambda x: knp.repeat(x, 3, axis=2), (None, 3, 12)),
    (lambda x: knp.moveaxis(x, 0, -1), (3, 4, None)),
    (lambda x: knp.swapaxes(x, 1, 2), (None, 4, 3)),
    (lambda x: knp.matmul(x, knp.ones((4, 5))), (None, 3, 5)),
    (lambda x: knp.einsum("bij,bkj->bik", x, x), (None, 3, 3)),
    (lambda x: knp.tensordot(x, knp.ones((4, 2)), 1), (None, 3, 2)),
    (lambda x: x[:, 1:, None, 0], (None, 2, 1)),
    (lambda x: x[..., ::2], (None, 3, 2)),
    (lambda x: knp.take(x, np.array([0, 2]), axis=1), (None, 2, 4)),
    (lambda x: knp.diagonal(x, 0, 1, 2), (None, 3)),
    (lambda x: knp.quantile(x, [0.1, 0.9], axis=-1), (2, None, 3)),
    (lambda x: knp.cumsum(x, axis=1), (None, 3, 4)),
    (lambda x: knp.cumsum(x), (None,)),
    (lambda x: knp.linspace(x, x + 1, 5, axis=-1), (None, 3, 4, 5)),
    (lambda x: knp.where(x > 0, x, 0.0), (None, 3, 4)),
    (lambda x: knp.meshgrid(x[0, :, 0], x[0, 0])[0], (4, 3)),
]


@pytest.mark.parametrize("case", range(len(SHAPE_CASES)))
def test_shape_arithmetic_with_unknown_batch(case):
    fn, expected = SHAPE_CASES[case]
    x = Input((3, 4))
    y = fn(x)
    assert isinstance(y, KerasTensor) and y.shape == expected


def test_value_dependent_results_have_unknown_length():
    x = Input((3,), dtype="int32")
    rows, cols = knp.nonzero(x)
    assert rows.shape == (None,) and cols.dtype == "int32"
    rows, cols = knp.where(x)
    assert rows.shape == (None,) and cols.dtype == "int32"


def test_ops_on_keras_tensors_build_a_model_that_runs_them():
    x = Input((3, 4))
    y = ops.sum(ops.sin(x) * 2 + x[:, :1], axis=-1)
    model = Model(x, y)
    data = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    expected = np.sum(np.sin(data) * 2 + data[:, :1], axis=-1)
    np.testing.assert_allclose(model.predict(data, verbose=0), expected, rtol=1e-5, atol=1e-6)


OPERATORS = [  # (expression of x: (None, 3) and b: (3, 2), the op it records, result dtype)
    (lambda x, b: x + 1, "add", "float32"),
    (lambda x, b: 1 + x, "add", "float32"),
    (lambda x, b: x - 1.5, "subtract", "float32"),
    (lambda x, b: 2 - x, "subtract", "float32"),
    (lambda x, b: x * x, "multiply", "float32"),
    (lambda x, b: 3 * x, "multiply", "float32"),
    (lambda x, b: x / 2, "true_divide", "float32"),
    (lambda x, b: 1 / x, "true_divide", "float32"),
    (lambda x, b: x // 2, "floor_divide", "float32"),
    (lambda x, b: 7 // x, "floor_divide", "float32"),
    (lambda x, b: x % 2, "mod", "float32"),
    (lambda x, b: 5 % x, "mod", "float32"),
    (lambda x, b: x ** 2, "power", "float32"),
    (lambda x, b: 2 ** x, "power", "float32"),
    (lambda x, b: x @ np.ones((3, 3), np.float32), "matmul", "float32"),
    (lambda x, b: np.ones((3, 3), np.float32) @ b, "matmul", "float32"),
    (lambda x, b: np.ones(3, np.float32) + x, "add", "float32"),
    (lambda x, b: -x, "negative", "float32"),
    (lambda x, b: abs(x), "absolute", "float32"),
    (lambda x, b: x < 1, "less", "bool"),
    (lambda x, b: x <= 1, "less_equal", "bool"),
    (lambda x, b: x > 1, "greater", "bool"),
    (lambda x, b: x >= 1, "greater_equal", "bool"),
    (lambda x, b: x != 1, "not_equal", "bool"),
    (lambda x, b: (x > 0) & (x < 1), "logical_and", "bool"),
    (lambda x, b: (x > 0) | True, "logical_or", "bool"),
    (lambda x, b: (x > 0) ^ (x < 1), "logical_xor", "bool"),
    (lambda x, b: ~(x > 0), "logical_not", "bool"),
    (lambda x, b: round(x), "round", "float32"),
    (lambda x, b: x[:, 0], "get_item", "float32"),
    (lambda x, b: x.reshape((-1, 1)), "reshape", "float32"),
    (lambda x, b: x[:, :1].squeeze(), "squeeze", "float32"),
]


@pytest.mark.parametrize("case", range(len(OPERATORS)))
def test_keras_tensor_operators_record_ops(case):
    expression, op_name, dtype = OPERATORS[case]
    x, b = Input((3,)), KerasTensor((3, 2))
    y = expression(x, b)
    assert isinstance(y, KerasTensor) and y.dtype == dtype
    layer = y._keras_history[0]
    assert layer.fn.__name__ == op_name


def test_keras_tensors_compare_by_identity_and_hash():
    x, y = Input((3,)), Input((3,))
    assert (x == x) is True and (x == y) is False
    assert x in [y, x] and {x: 1}[x] == 1
    with pytest.raises(ValueError, match="symbolic"):
        np.asarray(x)
    with pytest.raises(NotImplementedError, match="Iterating"):
        iter(x)


@pytest.mark.parametrize("dtypes", [("float16", "float32"), ("int8", "uint8"), ("int32", "float32"),
                                    ("bool", "int8"), ("uint8", "int16")])
def test_a_model_of_ops_gives_the_dtype_its_spec_promised(dtypes):
    a, b = Input((3,), dtype=dtypes[0]), Input((3,), dtype=dtypes[1])
    y = ops.add(a, b)
    model = Model([a, b], [y, ops.maximum(b, a)])
    out = model.predict([np.ones((2, 3), dtypes[0]), np.ones((2, 3), dtypes[1])], verbose=0)
    assert [np.dtype(o.dtype).name for o in out] == [y.dtype, y.dtype]
