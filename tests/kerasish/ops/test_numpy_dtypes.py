"""Result dtypes of ``keras.ops.numpy`` functions against Keras 3.15's, and the promotion lattice.

The tables were written once from real Keras 3.15 (NumPy backend, with its narrowing of 64-bit
results to 32 bits turned off: kerasish keeps float64/int64 as Keras on TensorFlow does).
"!" means Keras refuses the dtype. Python ``int``/``float`` stand for scalars (weak types).
"""
import numpy as np
import pytest

from kerasish import dtypes
from kerasish.ops import numpy as knp

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "float16", "float32", "float64"]
SHORT = {"b": "bool", "u8": "uint8", "i8": "int8", "i16": "int16", "i32": "int32",
         "u32": "uint32", "f16": "float16", "f32": "float32", "f64": "float64", "!": "error"}
# Keras's NumPy backend takes a Python scalar as a strong int32/float32 in these (it converts
# the scalar first); kerasish keeps it weak, as Keras's JAX backend and every other op do.
KNOWN_DIFFERENCES = {("arctan2", "float", "float16"), ("logaddexp", "float", "float16")} | {
    ("bitwise_and", "int", d) for d in ("uint8", "int8", "int16")}

UNARY_DTYPES = {
    "sin": "f32 f32 f32 f32 f32 f16 f32 f64",
    "sqrt": "f32 f32 f32 f32 f32 f16 f32 f64",
    "exp": "f32 f32 f32 f32 f32 f16 f32 f64",
    "abs": "b u8 i8 i16 i32 f16 f32 f64",
    "negative": "! u8 i8 i16 i32 f16 f32 f64",
    "floor": "f32 f32 f32 f32 f32 f16 f32 f64",
    "trunc": "b u8 i8 i16 i32 f16 f32 f64",
    "sign": "! u8 i8 i16 i32 f16 f32 f64",
    "square": "i32 u8 i8 i16 i32 f16 f32 f64",
    "sum": "i32 u32 i32 i32 i32 f16 f32 f64",
    "prod": "i32 u32 i32 i32 i32 f16 f32 f64",
    "mean": "f32 f32 f32 f32 f32 f16 f32 f64",
    "std": "f32 f32 f32 f32 f32 f16 f32 f64",
    "max": "b u8 i8 i16 i32 f16 f32 f64",
    "cumsum": "i32 u8 i8 i16 i32 f16 f32 f64",
    "argmax": "i32 i32 i32 i32 i32 i32 i32 i32",
    "isnan": "b b b b b b b b",
    "all": "b b b b b b b b",
    "count_nonzero": "i32 i32 i32 i32 i32 i32 i32 i32",
    "median": "f32 f32 f32 f32 f32 f16 f32 f64",
}
BINARY_DTYPES = {  # per x1 dtype: the results for x2 in DTYPES order
    "add": {
        "bool": "b u8 i8 i16 i32 f16 f32 f64",
        "uint8": "u8 u8 i16 i16 i32 f16 f32 f64",
        "int8": "i8 i16 i8 i16 i32 f16 f32 f64",
        "int16": "i16 i16 i16 i16 i32 f16 f32 f64",
        "int32": "i32 i32 i32 i32 i32 f16 f32 f64",
        "float16": "f16 f16 f16 f16 f16 f16 f32 f64",
        "float32": "f32 f32 f32 f32 f32 f32 f32 f64",
        "float64": "f64 f64 f64 f64 f64 f64 f64 f64",
        "int": "i32 u8 i8 i16 i32 f16 f32 f64",
        "float": "f32 f32 f32 f32 f32 f16 f32 f64",
    },
    "subtract": {
        "bool": "! u8 i8 i16 i32 f16 f32 f64",
        "uint8": "u8 u8 i16 i16 i32 f16 f32 f64",
        "int8": "i8 i16 i8 i16 i32 f16 f32 f64",
        "int16": "i16 i16 i16 i16 i32 f16 f32 f64",
        "int32": "i32 i32 i32 i32 i32 f16 f32 f64",
        "float16": "f16 f16 f16 f16 f16 f16 f32 f64",
        "float32": "f32 f32 f32 f32 f32 f32 f32 f64",
        "float64": "f64 f64 f64 f64 f64 f64 f64 f64",
        "int": "i32 u8 i8 i16 i32 f16 f32 f64",
        "float": "f32 f32 f32 f32 f32 f16 f32 f64",
    },
    "multiply": {
        "bool": "b u8 i8 i16 i32 f16 f32 f64",
        "uint8": "u8 u8 i16 i16 i32 f16 f32 f64",
        "int8": "i8 i16 i8 i16 i32 f16 f32 f64",
        "int16": "i16 i16 i16 i16 i32 f16 f32 f64",
        "int32": "i32 i32 i32 i32 i32 f16 f32 f64",
        "float16": "f16 f16 f16 f16 f16 f16 f32 f64",
        "float32": "f32 f32 f32 f32 f32 f32 f32 f64",
        "float64": "f64 f64 f64 f64 f64 f64 f64 f64",
        "int": "i32 u8 i8 i16 i32 f16 f32 f64",
        "float": "f32 f32 f32 f32 f32 f16 f32 f64",
    },
    "divide": {
        "bool": "f32 f32 f32 f32 f32 f16 f32 f64",
        "uint8": "f32 f32 f32 f32 f32 f16 f32 f64",
        "int8": "f32 f32 f32 f32 f32 f16 f32 f64",
        "int16": "f32 f32 f32 f32 f32 f16 f32 f64",
        "int32": "f32 f32 f32 f32 f32 f16 f32 f64",
        "float16": "f16 f16 f16 f16 f16 f16 f32 f64",
        "float32": "f32 f32 f32 f32 f32 f32 f32 f64",
        "float64": "f64 f64 f64 f64 f64 f64 f64 f64",
        "int": "f32 f32 f32 f32 f32 f16 f32 f64",
        "float": "f32 f32 f32 f32 f32 f16 f32 f64",
    },
    "power": {
        "bool": "i8 u8 i8 i16 i32 f16 f32 f64",
        "uint8": "u8 u8 i16 i16 i32 f16 f32 f64",
        "int8": "i8 i16 i8 i16 i32 f16 f32 f64",
        "int16": "i16 i16 i16 i16 i32 f16 f32 f64",
        "int32": "i32 i32 i32 i32 i32 f16 f32 f64",
        "float16": "f16 f16 f16 f16 f16 f16 f32 f64",
        "float32": "f32 f32 f32 f32 f32 f32 f32 f64",
        "float64": "f64 f64 f64 f64 f64 f64 f64 f64",
        "int": "i32 u8 i8 i16 i32 f16 f32 f64",
        "float": "f32 f32 f32 f32 f32 f16 f32 f64",
    },
    "maximum": {
        "bool": "b u8 i8 i16 i32 f16 f32 f64",
        "uint8": "u8 u8 i16 i16 i32 f16 f32 f64",
        "int8": "i8 i16 i8 i16 i32 f16 f32 f64",
        "int16": "i16 i16 i16 i16 i32 f16 f32 f64",
        "int32": "i32 i32 i32 i32 i32 f16 f32 f64",
        "float16": "f16 f16 f16 f16 f16 f16 f32 f64",
        "float32": "f32 f32 f32 f32 f32 f32 f32 f64",
        "float64": "f64 f64 f64 f64 f64 f64 f64 f64",
        "int": "i32 u8 i8 i16 i32 f16 f32 f64",
        "float": "f32 f32 f32 f32 f32 f16 f32 f64",
    },
    "floor_divide": {
        "bool": "i8 u8 i8 i16 i32 f16 f32 f64",
        "uint8": "u8 u8 i16 i16 i32 f16 f32 f64",
        "int8": "i8 i16 i8 i16 i32 f16 f32 f64",
        "int16": "i16 i16 i16 i16 i32 f16 f32 f64",
        "int32": "i32 i32 i32 i32 i32 f16 f32 f64",
        "float16": "f16 f16 f16 f16 f16 f16 f32 f64",
        "float32": "f32 f32 f32 f32 f32 f32 f32 f64",
        "float64": "f64 f64 f64 f64 f64 f64 f64 f64",
        "int": "i32 u8 i8 i16 i32 f16 f32 f64",
        "float": "f32 f32 f32 f32 f32 f16 f32 f64",
    },
    "equal": {
        "bool": "b b b b b b b b",
        "uint8": "b b b b b b b b",
        "int8": "b b b b b b b b",
        "int16": "b b b b b b b b",
        "int32": "b b b b b b b b",
        "float16": "b b b b b b b b",
        "float32": "b b b b b b b b",
        "float64": "b b b b b b b b",
        "int": "b b b b b b b b",
        "float": "b b b b b b b b",
    },
    "logical_and": {
        "bool": "b b b b b b b b",
        "uint8": "b b b b b b b b",
        "int8": "b b b b b b b b",
        "int16": "b b b b b b b b",
        "int32": "b b b b b b b b",
        "float16": "b b b b b b b b",
        "float32": "b b b b b b b b",
        "float64": "b b b b b b b b",
        "int": "b b b b b b b b",
        "float": "b b b b b b b b",
    },
    "arctan2": {
        "bool": "f32 f32 f32 f32 f32 f16 f32 f64",
        "uint8": "f32 f32 f32 f32 f32 f16 f32 f64",
        "int8": "f32 f32 f32 f32 f32 f16 f32 f64",
        "int16": "f32 f32 f32 f32 f32 f16 f32 f64",
        "int32": "f32 f32 f32 f32 f32 f16 f32 f64",
        "float16": "f16 f16 f16 f16 f16 f16 f32 f64",
        "float32": "f32 f32 f32 f32 f32 f32 f32 f64",
        "float64": "f64 f64 f64 f64 f64 f64 f64 f64",
        "int": "f32 f32 f32 f32 f32 f16 f32 f64",
        "float": "f32 f32 f32 f32 f32 f32 f32 f64",
    },
    "logaddexp": {
        "bool": "f32 f32 f32 f32 f32 f16 f32 f64",
        "uint8": "f32 f32 f32 f32 f32 f16 f32 f64",
        "int8": "f32 f32 f32 f32 f32 f16 f32 f64",
        "int16": "f32 f32 f32 f32 f32 f16 f32 f64",
        "int32": "f32 f32 f32 f32 f32 f16 f32 f64",
        "float16": "f16 f16 f16 f16 f16 f16 f32 f64",
        "float32": "f32 f32 f32 f32 f32 f32 f32 f64",
        "float64": "f64 f64 f64 f64 f64 f64 f64 f64",
        "int": "f32 f32 f32 f32 f32 f16 f32 f64",
        "float": "f32 f32 f32 f32 f32 f32 f32 f64",
    },
    "bitwise_and": {
        "bool": "b u8 i8 i16 i32 ! ! !",
        "uint8": "u8 u8 i16 i16 i32 ! ! !",
        "int8": "i8 i16 i8 i16 i32 ! ! !",
        "int16": "i16 i16 i16 i16 i32 ! ! !",
        "int32": "i32 i32 i32 i32 i32 ! ! !",
        "float16": "! ! ! ! ! ! ! !",
        "float32": "! ! ! ! ! ! ! !",
        "float64": "! ! ! ! ! ! ! !",
        "int": "i32 i32 i32 i32 i32 ! ! !",
        "float": "! ! ! ! ! ! ! !",
    },
    "matmul": {
        "bool": "b u8 i8 i16 i32 f16 f32 f64",
        "uint8": "u8 u8 i16 i16 i32 f16 f32 f64",
        "int8": "i8 i16 i32 i16 i32 f16 f32 f64",
        "int16": "i16 i16 i16 i16 i32 f16 f32 f64",
        "int32": "i32 i32 i32 i32 i32 f16 f32 f64",
        "float16": "f16 f16 f16 f16 f16 f16 f32 f64",
        "float32": "f32 f32 f32 f32 f32 f32 f32 f64",
        "float64": "f64 f64 f64 f64 f64 f64 f64 f64",
        "int": "! ! ! ! ! ! ! !",
        "float": "! ! ! ! ! ! ! !",
    },
}


def _result(fn, *args):
    try:
        return np.dtype(fn(*args).dtype).name
    except (TypeError, ValueError):
        return "error"


def _value(d):
    if d == "int":
        return 3
    if d == "float":
        return 2.0
    return np.ones((2, 2), dtype=d)


@pytest.mark.parametrize("name", sorted(UNARY_DTYPES))
def test_unary_result_dtypes(name):
    expected = [SHORT[s] for s in UNARY_DTYPES[name].split()]
    got = [_result(getattr(knp, name), _value(d)) for d in DTYPES]
    assert got == expected


@pytest.mark.parametrize("name", sorted(BINARY_DTYPES))
def test_binary_result_dtypes(name):
    for first, row in BINARY_DTYPES[name].items():
        for second, short in zip(DTYPES, row.split()):
            if (name, first, second) in KNOWN_DIFFERENCES:
                continue
            got = _result(getattr(knp, name), _value(first), _value(second))
            assert got == SHORT[short], f"{name}({first}, {second})"


@pytest.mark.parametrize("args, expected", [
    (("int8", "uint8"), "int16"), (("int32", "float32"), "float32"),
    (("int16", "float16"), "float16"), (("uint8", "int32"), "int32"),
    (("uint32", "int32"), "int64"), (("bool", "int8"), "int8"), (("float16", int), "float16"),
    (("int8", float), "float32"), (("bfloat16", "float16"), "float32"), ((int, float), "float32"),
    ((int, int), "int32"), (("uint8", int), "uint8"), (("float64", "int64"), "float64"),
    (("uint64", "int8"), "float32"), (("complex64", "float64"), "complex128"),
    ((None,), "float32"), ((), "float32"), ((bool,), "bool"), (("float32",), "float32"),
])
def test_result_type_follows_the_keras_lattice(args, expected):
    assert dtypes.result_type(*args) == expected


def test_standardize_dtype():
    assert dtypes.standardize_dtype(np.float64) == "float64"
    assert dtypes.standardize_dtype(int) == "int32"
    assert dtypes.standardize_dtype(np.dtype("uint8")) == "uint8"
    assert dtypes.standardize_dtype(None) == "float32"
    with pytest.raises(ValueError, match="Invalid dtype"):
        dtypes.standardize_dtype("float7")
    assert dtypes.is_float_dtype("bfloat16") and not dtypes.is_float_dtype("int8")
    assert dtypes.is_int_dtype("uint16") and not dtypes.is_int_dtype("bool")
    with pytest.raises(ValueError, match="no implicit"):
        dtypes.result_type("float8_e4m3fn", "float32")


def test_python_scalars_are_weak_in_ops():
    assert knp.add(np.ones(2, np.float16), 2.5).dtype == np.float16
    assert knp.multiply(np.ones(2, np.int8), 3).dtype == np.int8
    assert knp.add(np.ones(2, np.int8), 2.5).dtype == np.float32
    assert knp.array([1, 2]).dtype == np.int32 and knp.array([1.0]).dtype == np.float32
    assert knp.arange(3).dtype == np.int32 and knp.arange(0.0, 3).dtype == np.float32
