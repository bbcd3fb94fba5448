"""Every ``keras.ops.numpy`` function against plain NumPy, in float32 (the reference in float64)."""
import numpy as np
import pytest

from kerasish import ops
from kerasish.ops import numpy as knp

R = np.random.default_rng(0)
A = R.standard_normal((3, 4))
B = R.standard_normal((3, 4))
ROW = R.standard_normal(4)
P = R.uniform(0.5, 2.0, (3, 4))
UNIT = R.uniform(-0.9, 0.9, (3, 4))
BIG = R.uniform(1.2, 3.0, (3, 4))
INTS = R.integers(-5, 6, (3, 4)).astype(np.int32)
J = R.integers(1, 6, (3, 4)).astype(np.int32)
NAN = np.where(A > 0.8, np.nan, A)
V3, W3 = R.standard_normal((5, 3)), R.standard_normal((5, 3))
SQ = R.standard_normal((2, 3, 3))

UNARY = {  # name: (input, reference)
    "abs": (A, np.abs), "absolute": (A, np.abs), "angle": (A, np.angle),
    "arccos": (UNIT, np.arccos), "arccosh": (BIG, np.arccosh), "arcsin": (UNIT, np.arcsin),
    "arcsinh": (A, np.arcsinh), "arctan": (A, np.arctan), "arctanh": (UNIT, np.arctanh),
    "cbrt": (A, np.cbrt), "ceil": (A, np.ceil), "conj": (A, np.conj),
    "conjugate": (A, np.conjugate), "copy": (A, np.copy), "cos": (A, np.cos),
    "cosh": (A, np.cosh), "deg2rad": (A, np.deg2rad), "exp": (A, np.exp), "exp2": (A, np.exp2),
    "expm1": (A, np.expm1), "fabs": (A, np.fabs), "floor": (A, np.floor), "i0": (A, np.i0),
    "imag": (A, np.imag), "log": (P, np.log), "log10": (P, np.log10), "log1p": (P, np.log1p),
    "log2": (P, np.log2), "negative": (A, np.negative), "rad2deg": (A, np.rad2deg),
    "real": (A, np.real), "reciprocal": (P, np.reciprocal), "round": (A * 3, np.round),
    "sign": (A, np.sign), "sin": (A, np.sin), "sinc": (np.append(A, 0.0), np.sinc),
    "sinh": (A, np.sinh), "sqrt": (P, np.sqrt), "square": (A, np.square), "tan": (UNIT, np.tan),
    "tanh": (A, np.tanh), "trunc": (A * 3, np.trunc),
    "isfinite": (NAN, np.isfinite), "isinf": (np.append(A, [np.inf, -np.inf]), np.isinf),
    "isnan": (NAN, np.isnan), "isneginf": (np.append(A, [np.inf, -np.inf]), np.isneginf),
    "isposinf": (np.append(A, [np.inf, -np.inf]), np.isposinf), "isreal": (A, np.isreal),
    "signbit": (A, np.signbit), "logical_not": (A > 0, np.logical_not),
    "bitwise_invert": (INTS, np.invert), "bitwise_not": (INTS, np.invert),
    "nan_to_num": (np.append(NAN, [np.inf, -np.inf]).astype(np.float32), np.nan_to_num),
    "ravel": (A, np.ravel), "fliplr": (A, np.fliplr), "flipud": (A, np.flipud),
    "corrcoef": (A, np.corrcoef), "diagflat": (ROW, np.diagflat), "vdot": None,
    "ndim": (A, np.ndim), "size": (A, np.size), "argsort": (A, np.argsort),
    "sort": (A, np.sort), "median": (A, np.median), "nanmedian": (NAN, np.nanmedian),
}
UNARY = {k: v for k, v in UNARY.items() if v is not None}

BINARY = {  # name: (x1, x2, reference)
    "add": (A, ROW, np.add), "subtract": (A, B, np.subtract), "multiply": (A, B, np.multiply),
    "divide": (A, P, np.divide), "true_divide": (A, P, np.true_divide),
    "floor_divide": (A, P, np.floor_divide), "mod": (A, P, np.mod), "fmod": (A, P, np.fmod),
    "power": (P, A, np.power), "maximum": (A, B, np.maximum), "minimum": (A, B, np.minimum),
    "fmax": (NAN, B, np.fmax), "fmin": (NAN, B, np.fmin), "arctan2": (A, B, np.arctan2),
    "hypot": (A, B, np.hypot), "logaddexp": (A, B, np.logaddexp),
    "logaddexp2": (A, B, np.logaddexp2), "heaviside": (np.append(A, 0), 0.5, np.heaviside),
    "nextafter": (A, B, np.nextafter), "equal": (A, np.where(A > 0, A, B), np.equal),
    "not_equal": (A, B, np.not_equal), "less": (A, B, np.less),
    "less_equal": (A, B, np.less_equal), "greater": (A, B, np.greater),
    "greater_equal": (A, B, np.greater_equal), "logical_and": (A > 0, B > 0, np.logical_and),
    "logical_or": (A > 0, B > 0, np.logical_or), "logical_xor": (A > 0, B > 0, np.logical_xor),
    "bitwise_and": (INTS, J, np.bitwise_and), "bitwise_or": (INTS, J, np.bitwise_or),
    "bitwise_xor": (INTS, J, np.bitwise_xor), "bitwise_left_shift": (INTS, J, np.left_shift),
    "bitwise_right_shift": (INTS, J, np.right_shift), "left_shift": (INTS, J, np.left_shift),
    "right_shift": (INTS, J, np.right_shift), "gcd": (INTS, J, np.gcd), "lcm": (INTS, J, np.lcm),
    "isclose": (A, A + 1e-7, np.isclose), "matmul": (A, B.T, np.matmul),
    "dot": (A, B.T, np.dot), "inner": (A, B, np.inner), "outer": (A, ROW, np.outer),
    "kron": (A[:2, :2], B[:2, :3], np.kron), "vdot": (A, B, np.vdot),
    "cross": (V3, W3, np.cross), "correlate": (ROW, ROW[:2], np.correlate),
    "tensordot": (SQ, SQ[0], np.tensordot), "append": (A, B, np.append),
    "isin": (INTS, J, np.isin), "searchsorted": (np.sort(ROW), A, np.searchsorted),
    "digitize": (A, np.sort(ROW), np.digitize),
}

REDUCTIONS = ["sum", "mean", "max", "min", "amax", "amin", "prod", "std", "var", "argmax",
              "argmin", "all", "any", "ptp", "nansum", "nanmean", "nanmax", "nanmin", "nanprod",
              "nanstd", "nanvar", "nanargmax", "nanargmin", "median", "nanmedian"]
AXES = [None, 0, -1, (0, 1)]

OTHER = [  # (label, function of ops, reference)
    ("reshape", lambda o: o.reshape(A, (4, -1)), lambda: np.reshape(A, (4, -1))),
    ("transpose", lambda o: o.transpose(SQ, (2, 0, 1)), lambda: np.transpose(SQ, (2, 0, 1))),
    ("expand_dims", lambda o: o.expand_dims(A, (0, 3)), lambda: np.expand_dims(A, (0, 3))),
    ("squeeze", lambda o: o.squeeze(A[:, :1]), lambda: np.squeeze(A[:, :1])),
    ("broadcast_to", lambda o: o.broadcast_to(ROW, (2, 4)), lambda: np.broadcast_to(ROW, (2, 4))),
    ("moveaxis", lambda o: o.moveaxis(SQ, 0, -1), lambda: np.moveaxis(SQ, 0, -1)),
    ("moveaxis-2", lambda o: o.moveaxis(SQ, (0, 1), (2, 0)),
     lambda: np.moveaxis(SQ, (0, 1), (2, 0))),
    ("swapaxes", lambda o: o.swapaxes(SQ, 0, 2), lambda: np.swapaxes(SQ, 0, 2)),
    ("concatenate", lambda o: o.concatenate([A, B], axis=1), lambda: np.concatenate([A, B], 1)),
    ("stack", lambda o: o.stack([A, B], axis=1), lambda: np.stack([A, B], 1)),
    ("hstack", lambda o: o.hstack([A, B]), lambda: np.hstack([A, B])),
    ("hstack-1d", lambda o: o.hstack([ROW, ROW]), lambda: np.hstack([ROW, ROW])),
    ("vstack", lambda o: o.vstack([A, ROW]), lambda: np.vstack([A, ROW])),
    ("dstack", lambda o: o.dstack([A, B]), lambda: np.dstack([A, B])),
    ("dstack-1d", lambda o: o.dstack([ROW, ROW]), lambda: np.dstack([ROW, ROW])),
    ("append-axis", lambda o: o.append(A, B, axis=0), lambda: np.append(A, B, 0)),
    ("split", lambda o: o.split(A, 2, axis=1), lambda: np.split(A, 2, 1)),
    ("split-indices", lambda o: o.split(A, [1, 3], axis=1), lambda: np.split(A, [1, 3], 1)),
    ("array_split", lambda o: o.array_split(A, 3, axis=1), lambda: np.array_split(A, 3, 1)),
    ("hsplit", lambda o: o.hsplit(A, 2), lambda: np.hsplit(A, 2)),
    ("vsplit", lambda o: o.vsplit(SQ, 2), lambda: np.vsplit(SQ[:2], 2) if False else
     np.vsplit(SQ, [1])),
    ("dsplit", lambda o: o.dsplit(SQ, 3), lambda: np.dsplit(SQ, 3)),
    ("pad", lambda o: o.pad(A, ((1, 0), (0, 2))), lambda: np.pad(A, ((1, 0), (0, 2)))),
    ("pad-reflect", lambda o: o.pad(A, 1, mode="reflect"), lambda: np.pad(A, 1, mode="reflect")),
    ("tile", lambda o: o.tile(ROW, (2, 2)), lambda: np.tile(ROW, (2, 2))),
    ("repeat", lambda o: o.repeat(A, 2, axis=0), lambda: np.repeat(A, 2, 0)),
    ("flip", lambda o: o.flip(A, 1), lambda: np.flip(A, 1)),
    ("roll", lambda o: o.roll(A, 3, axis=1), lambda: np.roll(A, 3, 1)),
    ("roll-flat", lambda o: o.roll(A, -2), lambda: np.roll(A, -2)),
    ("rot90", lambda o: o.rot90(A), lambda: np.rot90(A)),
    ("rot90-3", lambda o: o.rot90(SQ, 3, (1, 2)), lambda: np.rot90(SQ, 3, (1, 2))),
    ("rot90-2", lambda o: o.rot90(A, 2), lambda: np.rot90(A, 2)),
    ("get_item", lambda o: o.get_item(SQ, (slice(None), None, 1, ...)),
     lambda: SQ[:, None, 1, ...]),
    ("take", lambda o: o.take(A, np.array([2, 0]), axis=1), lambda: np.take(A, [2, 0], 1)),
    ("take-flat", lambda o: o.take(A, np.array([[5, 1]])), lambda: np.take(A, [[5, 1]])),
    ("take_along_axis", lambda o: o.take_along_axis(A, np.argsort(A, 1), 1),
     lambda: np.take_along_axis(A, np.argsort(A, 1), 1)),
    ("diagonal", lambda o: o.diagonal(SQ, 1, 1, 2), lambda: np.diagonal(SQ, 1, 1, 2)),
    ("diagonal-neg", lambda o: o.diagonal(A, -1), lambda: np.diagonal(A, -1)),
    ("trace", lambda o: o.trace(SQ, 0, 1, 2), lambda: np.trace(SQ, 0, 1, 2)),
    ("diag-1d", lambda o: o.diag(ROW, -1), lambda: np.diag(ROW, -1)),
    ("diag-2d", lambda o: o.diag(A, 1), lambda: np.diag(A, 1)),
    ("diagflat", lambda o: o.diagflat(A[:2, :2], 1), lambda: np.diagflat(A[:2, :2], 1)),
    ("tril", lambda o: o.tril(SQ, -1), lambda: np.tril(SQ, -1)),
    ("triu", lambda o: o.triu(A, 1), lambda: np.triu(A, 1)),
    ("triu-int", lambda o: o.triu(INTS), lambda: np.triu(INTS)),
    ("diff", lambda o: o.diff(A, 2, axis=1), lambda: np.diff(A, 2, axis=1)),
    ("select", lambda o: o.select([A > 0.5, A < -0.5], [A, B], 7.0),
     lambda: np.select([A > 0.5, A < -0.5], [A, B], 7.0)),
    ("meshgrid", lambda o: o.meshgrid(ROW, ROW[:3]), lambda: np.meshgrid(ROW, ROW[:3])),
    ("meshgrid-ij", lambda o: o.meshgrid(ROW, ROW[:3], ROW[:2], indexing="ij"),
     lambda: np.meshgrid(ROW, ROW[:3], ROW[:2], indexing="ij")),
    ("argpartition", lambda o: o.take_along_axis(A, o.argpartition(A, 1), -1)[:, 1],
     lambda: np.partition(A, 1)[:, 1]),
    ("nonzero", lambda o: o.nonzero(INTS), lambda: np.nonzero(INTS)),
    ("where-1", lambda o: o.where(INTS), lambda: np.nonzero(INTS)),
    ("where", lambda o: o.where(A > 0, A, 0.0), lambda: np.where(A > 0, A, 0.0)),
    ("unique", lambda o: o.unique(INTS, return_inverse=True, return_counts=True, return_index=True),
     lambda: np.unique(INTS, return_inverse=True, return_counts=True, return_index=True)),
    ("unique-size", lambda o: o.unique(np.array([3, 1, 1]), size=4),
     lambda: np.array([1, 3, 0, 0])),
    ("unravel_index", lambda o: o.unravel_index(np.array([1, 7]), (3, 4)),
     lambda: np.unravel_index([1, 7], (3, 4))),
    ("view", lambda o: o.view(np.float32(A), "int32"), lambda: np.float32(A).view(np.int32)),
    ("clip", lambda o: o.clip(A, -0.5, 0.3), lambda: np.clip(A, -0.5, 0.3)),
    ("round-decimals", lambda o: o.round(A, 2), lambda: np.round(A, 2)),
    ("ldexp", lambda o: o.ldexp(A, J), lambda: np.ldexp(A, J)),
    ("allclose", lambda o: o.allclose(A, A + 1e-7), lambda: np.allclose(A, A + 1e-7)),
    ("divide_no_nan", lambda o: o.divide_no_nan(A, np.where(A > 0, B, 0)),
     lambda: np.where(A > 0, A / np.where(A > 0, B, 1), 0)),
    ("max-initial", lambda o: o.max(A, axis=0, initial=1.0),
     lambda: np.max(A, axis=0, initial=1.0)),
    ("min-initial", lambda o: o.min(A, axis=1, keepdims=True, initial=-1.0),
     lambda: np.min(A, axis=1, keepdims=True, initial=-1.0)),
    ("count_nonzero", lambda o: o.count_nonzero(INTS, axis=0), lambda: np.count_nonzero(INTS, 0)),
    ("average", lambda o: o.average(A, axis=1, weights=ROW * ROW),
     lambda: np.average(A, axis=1, weights=ROW * ROW)),
    ("average-plain", lambda o: o.average(A), lambda: np.average(A)),
    ("quantile", lambda o: o.quantile(A, [0.1, 0.5, 1.0], axis=1),
     lambda: np.quantile(A, [0.1, 0.5, 1.0], axis=1)),
    ("quantile-keepdims", lambda o: o.quantile(SQ, 0.3, axis=(0, 2), keepdims=True),
     lambda: np.quantile(SQ, 0.3, axis=(0, 2), keepdims=True)),
    ("percentile", lambda o: o.percentile(A, 40, method="lower"),
     lambda: np.percentile(A, 40, method="lower")),
    ("percentile-nearest", lambda o: o.percentile(A, [12, 88], axis=0, method="nearest"),
     lambda: np.percentile(A, [12, 88], axis=0, method="nearest")),
    ("quantile-midpoint", lambda o: o.quantile(A, 0.35, axis=0, method="midpoint"),
     lambda: np.quantile(A, 0.35, axis=0, method="midpoint")),
    ("quantile-higher", lambda o: o.quantile(A, 0.35, method="higher"),
     lambda: np.quantile(A, 0.35, method="higher")),
    ("nanquantile", lambda o: o.nanquantile(NAN, 0.7, axis=1),
     lambda: np.nanquantile(NAN, 0.7, axis=1)),
    ("nanpercentile", lambda o: o.nanpercentile(NAN, [30, 60]),
     lambda: np.nanpercentile(NAN, [30, 60])),
    ("cumsum", lambda o: o.cumsum(A, axis=1), lambda: np.cumsum(A, 1)),
    ("cumprod", lambda o: o.cumprod(A), lambda: np.cumprod(A)),
    ("nancumsum", lambda o: o.nancumsum(NAN, axis=0), lambda: np.nancumsum(NAN, 0)),
    ("nancumprod", lambda o: o.nancumprod(NAN, axis=1), lambda: np.nancumprod(NAN, 1)),
    ("histogram", lambda o: o.histogram(A.ravel(), bins=5), lambda: np.histogram(A, bins=5)),
    ("bincount", lambda o: o.bincount(J.ravel(), minlength=8),
     lambda: np.bincount(J.ravel(), minlength=8)),
    ("bincount-weights", lambda o: o.bincount(J.ravel(), weights=A.ravel()),
     lambda: np.bincount(J.ravel(), weights=A.ravel())),
    ("bincount-2d", lambda o: o.bincount(J), lambda: np.stack([np.bincount(r, minlength=6)
                                                               for r in J])),
    ("trapezoid", lambda o: o.trapezoid(A), lambda: np.trapezoid(A)),
    ("trapezoid-x", lambda o: o.trapezoid(A, np.cumsum(P[0]), axis=1),
     lambda: np.trapezoid(A, np.cumsum(P[0]), axis=1)),
    ("einsum", lambda o: o.einsum("bij,bjk->bik", SQ, SQ), lambda: np.einsum("bij,bjk->bik",
                                                                             SQ, SQ)),
    ("einsum-ellipsis", lambda o: o.einsum("...ij->...ji", SQ), lambda: np.einsum("...ij->...ji",
                                                                                  SQ)),
    ("einsum-implicit", lambda o: o.einsum("...ij,jk", SQ, A[:3]),
     lambda: np.einsum("...ij,jk", SQ, A[:3])),
    ("einsum-trace", lambda o: o.einsum("bii->b", SQ), lambda: np.einsum("bii->b", SQ)),
    ("tensordot-axes", lambda o: o.tensordot(A, B, ([1], [1])),
     lambda: np.tensordot(A, B, ([1], [1]))),
    ("cross-2d", lambda o: o.cross(V3[:, :2], W3[:, :2]),
     lambda: V3[:, 0] * W3[:, 1] - V3[:, 1] * W3[:, 0]),
    ("cross-axis", lambda o: o.cross(V3.T, W3.T, axis=0), lambda: np.cross(V3.T, W3.T, axis=0)),
    ("correlate-full", lambda o: o.correlate(ROW, ROW[:3], "full"),
     lambda: np.correlate(ROW, ROW[:3], "full")),
    ("correlate-same", lambda o: o.correlate(ROW[:2], ROW, "same"),
     lambda: np.correlate(ROW[:2], ROW, "same")),
    ("slogdet", lambda o: o.slogdet(SQ), lambda: np.linalg.slogdet(SQ)),
    ("zeros", lambda o: o.zeros((2, 3)), lambda: np.zeros((2, 3))),
    ("ones", lambda o: o.ones(3), lambda: np.ones(3)),
    ("empty", lambda o: o.empty((2, 0)), lambda: np.empty((2, 0))),
    ("full", lambda o: o.full((2, 2), 1.5), lambda: np.full((2, 2), 1.5)),
    ("zeros_like", lambda o: o.zeros_like(A), lambda: np.zeros_like(A)),
    ("ones_like", lambda o: o.ones_like(INTS), lambda: np.ones_like(INTS)),
    ("empty_like", lambda o: o.empty_like(A).shape, lambda: (3, 4)),
    ("full_like", lambda o: o.full_like(A, 2.0), lambda: np.full_like(A, 2.0)),
    ("array", lambda o: o.array([[1.0, 2.0]]), lambda: np.array([[1.0, 2.0]])),
    ("arange", lambda o: o.arange(1, 7, 2), lambda: np.arange(1, 7, 2)),
    ("arange-float", lambda o: o.arange(0.5, 2.0, 0.25), lambda: np.arange(0.5, 2.0, 0.25)),
    ("eye", lambda o: o.eye(3, 4, k=1), lambda: np.eye(3, 4, k=1)),
    ("identity", lambda o: o.identity(3), lambda: np.identity(3)),
    ("tri", lambda o: o.tri(3, 4, -1), lambda: np.tri(3, 4, -1)),
    ("linspace", lambda o: o.linspace(-1.0, 2.0, 7), lambda: np.linspace(-1.0, 2.0, 7)),
    ("linspace-arrays", lambda o: o.linspace(ROW, 2 * ROW, 5, endpoint=False, axis=1),
     lambda: np.linspace(ROW, 2 * ROW, 5, endpoint=False, axis=1)),
    ("linspace-retstep", lambda o: o.linspace(0.0, 1.0, 5, retstep=True)[1],
     lambda: np.linspace(0.0, 1.0, 5, retstep=True)[1]),
    ("logspace", lambda o: o.logspace(0.0, 2.0, 5, base=3), lambda: np.logspace(0, 2, 5, base=3)),
    ("geomspace", lambda o: o.geomspace(1.0, 1000.0, 4), lambda: np.geomspace(1, 1000, 4)),
    ("geomspace-negative", lambda o: o.geomspace(-2.0, -8.0, 3), lambda: np.geomspace(-2, -8, 3)),
    ("vander", lambda o: o.vander(ROW, 3), lambda: np.vander(ROW, 3)),
    ("vander-increasing", lambda o: o.vander(ROW, increasing=True),
     lambda: np.vander(ROW, increasing=True)),
    ("bartlett", lambda o: o.bartlett(6), lambda: np.bartlett(6)),
    ("blackman", lambda o: o.blackman(6), lambda: np.blackman(6)),
    ("hamming", lambda o: o.hamming(6), lambda: np.hamming(6)),
    ("hanning", lambda o: o.hanning(6), lambda: np.hanning(6)),
    ("kaiser", lambda o: o.kaiser(6, 2.5), lambda: np.kaiser(6, 2.5)),
    ("vectorize", lambda o: o.vectorize(lambda a, b: a * 2 + b)(INTS, 1), lambda: INTS * 2 + 1),
]


def _f32(a):
    a = np.asarray(a)
    return a.astype(np.float32) if a.dtype == np.float64 else a


def _close(got, expected, label):
    if isinstance(expected, (tuple, list)):
        assert len(got) == len(expected), label
        for g, e in zip(got, expected):
            _close(g, e, label)
        return
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, f"{label}: {got.shape} != {expected.shape}"
    np.testing.assert_allclose(got.astype(np.float64) if got.dtype.kind != "b" else got,
                               expected, rtol=2e-5, atol=2e-5, err_msg=label)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name):
    x, ref = UNARY[name]
    _close(getattr(knp, name)(_f32(x)), ref(np.asarray(x)), name)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(name):
    x1, x2, ref = BINARY[name]
    _close(getattr(knp, name)(_f32(x1), _f32(x2)), ref(x1, x2), name)


@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions(name, axis):
    x = NAN if name.startswith("nan") else A
    if name in ("argmax", "argmin", "nanargmax", "nanargmin") and isinstance(axis, tuple):
        return
    for keepdims in (False, True):
        if name.endswith(("argmax", "argmin")) and axis is None and keepdims:
            continue
        got = getattr(knp, name)(_f32(x), axis=axis, keepdims=keepdims)
        ref = getattr(np, name)(x, axis=axis, keepdims=keepdims)
        _close(got, ref, f"{name}(axis={axis}, keepdims={keepdims})")


@pytest.mark.parametrize("case", OTHER, ids=[c[0] for c in OTHER])
def test_other(case):
    label, fn, ref = case
    got = fn(knp)
    if isinstance(got, list) or isinstance(got, tuple):
        got = [np.asarray(g) for g in got]
    _close(got, ref(), label)


def test_top_level_names_are_the_numpy_ones():
    for name in knp.__all__:
        assert getattr(ops, name) is getattr(knp, name), name


def test_signatures_are_keras_ones():
    """Argument names, order and defaults as Keras 3.15's (written once from ``inspect``)."""
    import inspect
    import json
    import pathlib

    path = pathlib.Path(__file__).with_name("keras_numpy_signatures.json")
    for name, signature in json.loads(path.read_text()).items():
        assert str(inspect.signature(getattr(knp, name))) == signature, name
