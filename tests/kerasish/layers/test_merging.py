"""Merge layers: Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum, Dot and the
lower-case helpers. Each: a multi-input version of the Keras-style harness, numbers against
plain NumPy written here, a float64 gradient check, masks, and the errors."""
import numpy as np
import pytest

import engine
import kerasish as keras
from engine import Tensor
from kerasish.layers import merging
from kerasish.layers.core import Masking
from kerasish.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,
                                     Subtract)
from tests.helpers import check_layer_grads


def randn(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def run_merge_layer_test(layer_cls, init_kwargs, input_shapes, expected_output_shape):
    """``run_layer_test`` for a list of inputs (the shared harness takes one input): symbolic
    and eager shapes, no weights, config round trip with the same numbers, and the layer
    inside a functional model."""
    data = [randn(*s, seed=i) for i, s in enumerate(input_shapes)]
    inputs = [keras.Input(batch_shape=(None,) + tuple(s[1:])) for s in input_shapes]
    layer = layer_cls(**init_kwargs)
    out = layer(inputs)
    assert out.shape == (None,) + tuple(expected_output_shape[1:])
    eager = layer_cls(**init_kwargs)
    y = eager(data)
    assert y.shape == tuple(expected_output_shape) and y.dtype == np.float32
    assert eager.weights == [] and eager.supports_masking
    config = eager.get_config()
    clone = layer_cls.from_config(config)
    clone_config = clone.get_config()
    config.pop("name"), clone_config.pop("name")
    assert clone_config == config
    np.testing.assert_allclose(clone(data).numpy(), y.numpy(), rtol=1e-6)
    model = keras.Model(inputs, out)
    np.testing.assert_allclose(model(data).numpy(), y.numpy(), rtol=1e-6)
    return y


ELEMENTWISE = [
    (Add, lambda a, b: a + b),
    (Subtract, lambda a, b: a - b),
    (Multiply, lambda a, b: a * b),
    (Average, lambda a, b: (a + b) / 2),
    (Maximum, lambda a, b: np.where(a > b, a, b)),
    (Minimum, lambda a, b: np.where(a < b, a, b)),
]
IDS = [cls.__name__ for cls, _ in ELEMENTWISE]


# -- elementwise merges --------------------------------------------------------------------

@pytest.mark.parametrize("cls, ref", ELEMENTWISE, ids=IDS)
def test_elementwise_harness_and_numbers(cls, ref):
    y = run_merge_layer_test(cls, {}, [(2, 3, 4), (2, 3, 4)], (2, 3, 4))
    a, b = randn(2, 3, 4, seed=0), randn(2, 3, 4, seed=1)
    np.testing.assert_allclose(y.numpy(), ref(a.astype(np.float64), b), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("cls, ref", ELEMENTWISE, ids=IDS)
def test_elementwise_broadcasts_like_keras(cls, ref):
    # Non-batch axes of size 1 broadcast; a lower-rank input gets axes after the batch axis.
    a, b = randn(2, 3, 4), randn(2, 1, 4, seed=1)
    np.testing.assert_allclose(cls()([a, b]).numpy(), ref(a, b), rtol=1e-6)
    c = randn(2, 4, seed=2)
    np.testing.assert_allclose(cls()([a, c]).numpy(), ref(a, c[:, None, :]), rtol=1e-6)
    assert cls()([keras.Input((3, 4)), keras.Input((1, 4))]).shape == (None, 3, 4)
    assert cls()([keras.Input((3, 4)), keras.Input((4,))]).shape == (None, 3, 4)
    assert cls()([keras.Input((None, 4)), keras.Input((3, 4))]).shape == (None, None, 4)


@pytest.mark.parametrize("cls, ref", ELEMENTWISE, ids=IDS)
def test_elementwise_grads(cls, ref):
    a, b = randn(2, 3, dtype=np.float64), randn(2, 3, seed=1, dtype=np.float64)
    check_layer_grads(cls(dtype="float64"), a, b)
    check_layer_grads(cls(dtype="float64"), a, randn(2, 1, seed=2, dtype=np.float64))


def test_add_average_maximum_take_more_than_two_inputs():
    xs = [randn(2, 3, seed=i) for i in range(3)]
    np.testing.assert_allclose(Add()(xs).numpy(), xs[0] + xs[1] + xs[2], rtol=1e-6)
    np.testing.assert_allclose(Average()(xs).numpy(), (xs[0] + xs[1] + xs[2]) / 3, rtol=1e-6)
    np.testing.assert_allclose(Maximum()(xs).numpy(), np.max(np.stack(xs), 0))
    np.testing.assert_allclose(Minimum()(xs).numpy(), np.min(np.stack(xs), 0))
    np.testing.assert_allclose(Multiply()(xs).numpy(), xs[0] * xs[1] * xs[2], rtol=1e-6)


@pytest.mark.parametrize("cls", [Add, Multiply, Maximum])
def test_elementwise_incompatible_shapes_error_names_layer_and_shapes(cls):
    name = cls.__name__.lower()
    with pytest.raises(ValueError, match=(
            rf"layer '{name}[_0-9]*' \({cls.__name__}\) have incompatible shapes: \(3,\) and "
            r"\(4,\).*Received: input_shape=\[\(None, 3\), \(None, 4\)\]$")):
        cls()([keras.Input((3,)), keras.Input((4,))])
    with pytest.raises(ValueError,
                       match=r"incompatible shapes.*input_shape=\[\(2, 3\), \(2, 4\)\]"):
        cls()([randn(2, 3), randn(2, 4)])


def test_merge_errors():
    with pytest.raises(ValueError, match=r"different batch sizes.*\[\(2, 3\), \(3, 3\)\]$"):
        Add()([randn(2, 3), randn(3, 3)])
    with pytest.raises(ValueError, match=r"list of at least 1 input.*input_shape=\(None, 3\)$"):
        Add()(keras.Input((3,)))
    with pytest.raises(ValueError, match=r"exactly 2 inputs.*input_shape="):
        Subtract()([randn(2, 3)] * 3)


# -- masks of elementwise merges (Keras 3: OR of the masks; None unless all have one) --------

def _masked(x):
    return Masking()(x)


def _steps(*rows):
    """(batch=1, time, features=2) with a zero (masked) step wherever a row says None."""
    return np.array([[[0.0, 0.0] if r is None else r for r in rows]], np.float32)


def test_elementwise_masks_are_ored():
    a = _masked(_steps([1.0, 2.0], None, None))
    b = _masked(_steps([3.0, 4.0], [5.0, 6.0], None))
    for cls in (Add, Subtract, Average, Multiply, Maximum, Minimum):
        y = cls()([a, b])
        np.testing.assert_array_equal(y._keras_mask.numpy(), [[True, True, False]])
    assert Add()([a, randn(1, 3, 2)])._keras_mask is None  # one input without a mask


def test_add_subtract_average_ignore_masks_in_values():
    a_np, b_np = _steps([1.0, 2.0], None), _steps([3.0, 4.0], [5.0, 6.0])
    a, b = _masked(a_np), _masked(b_np)
    np.testing.assert_allclose(Add()([a, b]).numpy(), a_np + b_np)
    np.testing.assert_allclose(Average()([a, b]).numpy(), (a_np + b_np) / 2)


def test_multiply_masked_positions_count_as_one_and_all_masked_as_zero():
    a = _masked(_steps([2.0, 3.0], None, None))
    b = _masked(_steps([4.0, 5.0], [6.0, 7.0], None))
    # step 0: 2*4, 3*5; step 1: only b is valid -> b; step 2: masked in both -> 0.
    expected = [[[8.0, 15.0], [6.0, 7.0], [0.0, 0.0]]]
    np.testing.assert_allclose(Multiply()([a, b]).numpy(), expected)
    # With one unmasked input, masked values still count as 1 and nothing is zeroed.
    c = np.full((1, 3, 2), 2.0, np.float32)
    np.testing.assert_allclose(Multiply()([a, c]).numpy(),
                               [[[4.0, 6.0], [2.0, 2.0], [2.0, 2.0]]])


def test_maximum_minimum_masked_values_never_win():
    a = _masked(_steps([-1.0, 9.0], None, [5.0, 5.0]))
    b = _masked(_steps([-2.0, 8.0], [-7.0, -8.0], None))
    np.testing.assert_allclose(Maximum()([a, b]).numpy(),
                               [[[-1.0, 9.0], [-7.0, -8.0], [5.0, 5.0]]])
    np.testing.assert_allclose(Minimum()([a, b]).numpy(),
                               [[[-2.0, 8.0], [-7.0, -8.0], [5.0, 5.0]]])


@pytest.mark.parametrize("cls", [Multiply, Maximum, Minimum])
def test_masked_merge_grads(cls):
    a, b = randn(2, 3, 2, dtype=np.float64), randn(2, 3, 2, seed=1, dtype=np.float64)
    masks = [Tensor(np.array([[True, False, True], [False, False, True]])),
             Tensor(np.array([[True, True, False], [False, True, True]]))]
    check_layer_grads(cls(dtype="float64"), a, b, call_kwargs={"mask": masks})


# -- Concatenate ---------------------------------------------------------------------------

def test_concatenate_harness_and_numbers():
    y = run_merge_layer_test(Concatenate, {}, [(2, 3, 4), (2, 3, 2)], (2, 3, 6))
    a, b = randn(2, 3, 4, seed=0), randn(2, 3, 2, seed=1)
    for i, j in np.ndindex(2, 3):
        np.testing.assert_array_equal(y.numpy()[i, j], list(a[i, j]) + list(b[i, j]))
    y = run_merge_layer_test(Concatenate, {"axis": 1}, [(2, 3, 4), (2, 1, 4)], (2, 4, 4))
    np.testing.assert_array_equal(y.numpy()[:, :3], a)
    np.testing.assert_array_equal(y.numpy()[:, 3:], randn(2, 1, 4, seed=1))


def test_concatenate_shapes():
    layer = Concatenate(axis=1)
    assert layer.compute_output_shape([(None, 2, 3), (None, None, 3)]) == (None, None, 3)
    assert layer.compute_output_shape([(None, 2, None), (None, 5, 3)]) == (None, 7, 3)
    assert Concatenate()([keras.Input((2,)), keras.Input((3,)), keras.Input((1,))]).shape == \
        (None, 6)


def test_concatenate_grads():
    check_layer_grads(Concatenate(dtype="float64"), randn(2, 3, dtype=np.float64),
                      randn(2, 2, seed=1, dtype=np.float64))
    check_layer_grads(Concatenate(axis=1, dtype="float64"), randn(2, 1, 3, dtype=np.float64),
                      randn(2, 2, 3, seed=1, dtype=np.float64))


def test_concatenate_masks():
    a = _masked(_steps([1.0, 2.0], None, None))
    b = _masked(_steps([3.0, 4.0], [5.0, 6.0], None))
    # Feature axis: a step is valid where either input is (Keras: any over the joined axis).
    np.testing.assert_array_equal(Concatenate()([a, b])._keras_mask.numpy(),
                                  [[True, True, False]])
    # An input without a mask counts as all valid.
    np.testing.assert_array_equal(Concatenate()([a, randn(1, 3, 2)])._keras_mask.numpy(),
                                  [[True, True, True]])
    # Time axis: the masks are joined in time.
    np.testing.assert_array_equal(Concatenate(axis=1)([a, b])._keras_mask.numpy(),
                                  [[True, False, False, True, True, False]])
    np.testing.assert_array_equal(
        Concatenate(axis=1)([a, randn(1, 2, 2)])._keras_mask.numpy(),
        [[True, False, False, True, True]])
    assert Concatenate()([randn(1, 3, 2), randn(1, 3, 2)])._keras_mask is None


def test_concatenate_errors():
    with pytest.raises(ValueError, match=(
            r"`Concatenate` layer \('concatenate[_0-9]*'\) requires inputs with matching shapes "
            r"except for the concatenation axis -1\. "
            r"Received: input_shape=\[\(None, 3, 4\), \(None, 2, 4\)\]$")):
        Concatenate()([keras.Input((3, 4)), keras.Input((2, 4))])
    with pytest.raises(ValueError, match=r"matching shapes.*\[\(None, 3, 4\), \(None, 4\)\]$"):
        Concatenate()([keras.Input((3, 4)), keras.Input((4,))])
    with pytest.raises(ValueError, match=r"out of bounds.*input_shape="):
        Concatenate(axis=3)([keras.Input((3, 4)), keras.Input((3, 4))])
    with pytest.raises(ValueError, match=r"Received: axis='x'$"):
        Concatenate(axis="x")


# -- Dot -----------------------------------------------------------------------------------

def _dot_reference(x, y, a0, a1):
    """Per sample: contract x's axis a0 with y's a1; output = x's other axes, then y's."""
    out = []
    for n in range(x.shape[0]):
        xs, ys = np.moveaxis(x[n], a0 - 1, -1), np.moveaxis(y[n], a1 - 1, 0)
        res = np.zeros(xs.shape[:-1] + ys.shape[1:])
        for i in np.ndindex(*xs.shape[:-1]):
            for j in np.ndindex(*ys.shape[1:]):
                res[i + j] = sum(xs[i + (k,)] * ys[(k,) + j] for k in range(xs.shape[-1]))
        out.append(res)
    out = np.array(out)
    return out[:, None] if out.ndim == 1 else out


def test_dot_harness_and_numbers():
    y = run_merge_layer_test(Dot, {"axes": 1}, [(2, 4), (2, 4)], (2, 1))
    a, b = randn(2, 4, seed=0), randn(2, 4, seed=1)
    np.testing.assert_allclose(y.numpy(), _dot_reference(a, b, 1, 1), rtol=1e-5)
    y = run_merge_layer_test(Dot, {"axes": (1, 2)}, [(2, 3, 5), (2, 4, 3)], (2, 5, 4))
    a, b = randn(2, 3, 5, seed=0), randn(2, 4, 3, seed=1)
    np.testing.assert_allclose(y.numpy(), _dot_reference(a, b, 1, 2), rtol=1e-5, atol=1e-6)
    y = run_merge_layer_test(Dot, {"axes": -1}, [(2, 3, 5), (2, 5)], (2, 3))
    np.testing.assert_allclose(y.numpy(), _dot_reference(a, randn(2, 5, seed=1), 2, 1),
                               rtol=1e-5, atol=1e-6)


def test_dot_normalize_gives_cosine_similarity():
    a, b = randn(3, 4), randn(3, 4, seed=1)
    cos = [[np.dot(a[i], b[i]) / np.linalg.norm(a[i]) / np.linalg.norm(b[i])] for i in range(3)]
    np.testing.assert_allclose(Dot(axes=1, normalize=True)([a, b]).numpy(), cos, rtol=1e-5)
    # All-zero vectors divide by epsilon, not by zero.
    zeros = np.zeros((1, 4), np.float32)
    np.testing.assert_array_equal(Dot(axes=1, normalize=True)([zeros, zeros]).numpy(), [[0.0]])


def test_dot_grads():
    a, b = randn(2, 3, 4, dtype=np.float64), randn(2, 5, 3, seed=1, dtype=np.float64)
    check_layer_grads(Dot(axes=(1, 2), dtype="float64"), a, b)
    check_layer_grads(Dot(axes=2, normalize=True, dtype="float64"), a,
                      randn(2, 6, 4, seed=2, dtype=np.float64))


def test_dot_drops_masks():
    a = _masked(_steps([1.0, 2.0], None))
    assert Dot(axes=2)([a, a])._keras_mask is None


def test_dot_errors():
    with pytest.raises(ValueError, match=(
            r"Incompatible input shapes for layer 'dot[_0-9]*': axis values 3 \(at axis 1\) != "
            r"4 \(at axis 1\)\. Received: input_shape=\[\(None, 3\), \(None, 4\)\]$")):
        Dot(axes=1)([keras.Input((3,)), keras.Input((4,))])
    with pytest.raises(ValueError, match=r"list of 2 inputs"):
        Dot(axes=1)([keras.Input((3,))] * 3)
    with pytest.raises(ValueError, match=r"batch axis 0\. Received: axes=0$"):
        Dot(axes=0)([keras.Input((3,)), keras.Input((3,))])
    with pytest.raises(ValueError, match=r"Received: axes=\(1, 2, 3\)$"):
        Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match=r"Received: axes='1'$"):
        Dot(axes="1")


# -- lower-case helpers --------------------------------------------------------------------

def test_functional_helpers():
    a, b = randn(2, 3), randn(2, 3, seed=1)
    np.testing.assert_allclose(merging.add([a, b]).numpy(), a + b, rtol=1e-6)
    np.testing.assert_allclose(merging.subtract([a, b]).numpy(), a - b, rtol=1e-6)
    np.testing.assert_allclose(merging.multiply([a, b]).numpy(), a * b, rtol=1e-6)
    np.testing.assert_allclose(merging.average([a, b]).numpy(), (a + b) / 2, rtol=1e-6)
    np.testing.assert_allclose(merging.maximum([a, b]).numpy(), np.maximum(a, b))
    np.testing.assert_allclose(merging.minimum([a, b]).numpy(), np.minimum(a, b))
    np.testing.assert_array_equal(merging.concatenate([a, b], axis=0).numpy(),
                                  np.concatenate([a, b], 0))
    np.testing.assert_allclose(merging.dot([a, b], axes=1).numpy(),
                               (a * b).sum(1, keepdims=True), rtol=1e-5)
    x, y = keras.Input((3,)), keras.Input((3,))
    out = merging.concatenate([x, y], name="joined")
    assert out.shape == (None, 6) and out._keras_history[0].name == "joined"
    assert merging.dot([x, y], axes=1, normalize=True)._keras_history[0].normalize is True


def test_merge_layer_in_a_trained_model():
    x1, x2 = keras.Input((3,)), keras.Input((3,))
    dense = keras.layers.Dense(2)
    out = Concatenate()([dense(x1), Add()([x1, x2])])
    model = keras.Model([x1, x2], out)
    data = [randn(4, 3), randn(4, 3, seed=1)]
    loss = engine.ops.mean(engine.ops.square(model(data)))
    grads = engine.grad(loss, model.trainable_weights)
    assert [g.shape for g in grads] == [(3, 2), (2,)]
