"""The autodiff machinery: accumulation, deep graphs, freeing, no_grad and its errors."""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import engine
from engine import Tensor, no_grad, ops


def test_tensor_used_twice_gets_the_sum_of_both_gradients():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = ops.add(ops.multiply(x, 3.0), ops.multiply(x, x))  # dy/dx = 3 + 2x
    y.backward(np.ones(3, np.float32))
    np.testing.assert_allclose(x.grad.numpy(), [5.0, -1.0, 9.0])


def test_backward_accumulates_into_grad_across_calls():
    x = Tensor([2.0], requires_grad=True)
    ops.multiply(x, 4.0).backward()
    ops.multiply(x, 4.0).backward()
    np.testing.assert_allclose(x.grad.numpy(), [8.0])


def test_chain_of_20000_ops_backpropagates_without_recursion_limit():
    x = Tensor(np.array([1.0], np.float32), requires_grad=True)
    y = x
    for _ in range(20000):
        y = ops.add(y, 1e-4)
    y.backward()
    assert y.item() == pytest.approx(3.0, rel=1e-3)
    np.testing.assert_allclose(x.grad.numpy(), [1.0])


def test_diamond_graph_gets_each_path_once():
    x = Tensor([3.0], requires_grad=True)
    a = ops.multiply(x, 2.0)
    b = ops.add(a, a)  # 4x
    c = ops.multiply(b, a)  # 8x^2 -> 16x
    c.backward()
    np.testing.assert_allclose(x.grad.numpy(), [48.0])


def test_grad_returns_gradients_without_touching_dot_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0], requires_grad=True)
    y = ops.multiply(x, w)
    gx, gw = engine.grad(y, [x, w], grad_outputs=np.ones(2, np.float32))
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None


def test_grad_of_an_unused_input_is_zero():
    x, z = Tensor([1.0], requires_grad=True), Tensor([5.0], requires_grad=True)
    gx, gz = engine.grad(ops.multiply(x, 2.0), [x, z])
    assert gx.item() == 2.0 and gz.item() == 0.0


def test_grad_of_an_intermediate_tensor():
    x = Tensor([2.0], requires_grad=True)
    h = ops.multiply(x, x)
    y = ops.multiply(h, 3.0)
    (gh,) = engine.grad(y, [h])
    assert gh.item() == 3.0


def test_no_grad_records_nothing():
    x = Tensor([1.0], requires_grad=True)
    with no_grad():
        y = ops.multiply(x, 2.0)
    assert not y.requires_grad and y._node is None
    assert engine.is_grad_enabled()


def test_constants_do_not_require_grad():
    y = ops.multiply(Tensor([1.0]), 2.0)
    assert not y.requires_grad and y._node is None


def test_the_graph_is_freed_after_backward():
    x = Tensor(np.ones(4, np.float32), requires_grad=True)
    h = ops.exp(x)
    y = ops.multiply(h, 2.0)
    node = weakref.ref(h._node)
    y.backward(np.ones(4, np.float32))
    del h
    assert node() is None
    assert y._node is None


def test_memory_stays_flat_over_200_steps():
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((64, 64)).astype(np.float32) * 0.1, requires_grad=True)
    x = rng.standard_normal((32, 64)).astype(np.float32)

    def step():
        h = ops.tanh(ops.matmul(x, w))
        loss = ops.mean(ops.square(h))
        (g,) = engine.grad(loss, [w])
        w.data -= 0.01 * g.data

    for _ in range(10):
        step()
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(20):
            step()
        base, _ = tracemalloc.get_traced_memory()
        for _ in range(180):
            step()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # One leaked 32x64 activation per step would be 1.4 MB; Python's free lists warm up by a
    # few kB of small tuples, which is not a leak.
    assert end - base < 256 * 1024, f"memory grew by {end - base} bytes over 180 steps"


def test_backward_on_non_scalar_needs_grad():
    y = ops.multiply(Tensor([1.0, 2.0], requires_grad=True), 2.0)
    with pytest.raises(RuntimeError, match=r"non-scalar.*Received: shape=\(2,\)"):
        y.backward()


def test_backward_grad_of_wrong_shape_is_an_error():
    y = ops.multiply(Tensor([1.0, 2.0], requires_grad=True), 2.0)
    with pytest.raises(ValueError, match="shape"):
        y.backward(np.ones(3, np.float32))


def test_int_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point.*Received: dtype=int64"):
        Tensor(np.arange(3), requires_grad=True)


def test_backward_without_any_grad_path_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ops.multiply(Tensor([1.0]), 2.0).backward()


def test_a_backward_returning_a_wrong_shape_is_caught():
    class Bad(engine.Function):
        def forward(self, xp, x):
            return x * 2

        def backward(self, xp, gy):
            return (gy[:1],)

    y = Bad.apply(Tensor([1.0, 2.0], requires_grad=True))
    with pytest.raises(RuntimeError, match=r"Bad.backward returned a gradient of shape \(1,\)"):
        y.backward(np.ones(2, np.float32))


def test_tensor_basics():
    t = Tensor([[1, 2], [3, 4]])
    assert t.dtype == np.float32 and t.shape == (2, 2) and t.ndim == 2 and len(t) == 2
    assert Tensor(np.arange(3)).dtype == np.arange(3).dtype
    assert Tensor(2.5).item() == 2.5
    assert Tensor([1.0], dtype="float64").dtype == np.float64
    assert t.detach()._node is None
    np.testing.assert_array_equal(np.asarray(t), [[1, 2], [3, 4]])
    assert "Tensor(" in repr(t)


def test_an_intermediate_nothing_saved_is_freed_when_dropped():
    # the graph holds nodes, not intermediate Tensors: Add keeps no input, so once the code
    # drops h its array goes, and the backward still reaches x through h's node
    x = Tensor(np.array([0.5, 1.0], np.float32), requires_grad=True)
    h = ops.multiply(x, 3.0)  # keeps x and 3, not its output
    y = ops.add(h, 1.0)
    array = weakref.ref(h.data)
    del h
    assert array() is None
    y.backward(np.ones(2, np.float32))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_a_second_backward_through_a_freed_part_of_the_graph_says_so():
    x = Tensor(np.ones(2, np.float32), requires_grad=True)
    h = ops.exp(x)
    a, b = ops.sum(ops.multiply(h, 2.0)), ops.sum(ops.multiply(h, 3.0))
    a.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        b.backward()
