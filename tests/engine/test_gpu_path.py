"""The GPU path's engine pieces: Philox4x32-10 counter generators (known answers, state as host
integers, replay), scatter-adds (one pass, sorted segment sum under determinism) and the
device-side index guards of replayed plans."""
import numpy as np
import pytest

from engine import Tensor, backend, jit, ops
from engine import random as engine_random
from engine.autograd import _state
from engine.gradcheck import check_grad
from engine.ops import indexing

# Random123's known-answer vectors for philox4x32_10 (counter, key -> output).
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF, 0xFFFFFFFF), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


def _device(xp):
    return "cpu" if xp is np else "gpu"


@pytest.mark.parametrize("counter, key, expected", KAT)
def test_philox_known_answers(xp, counter, key, expected):
    words = engine_random.philox4x32(xp, [xp.asarray([c]) for c in counter], key)
    assert [int(backend.to_numpy(w)[0]) for w in words] == list(expected)


def test_counter_generator_draws_moments_and_restores(xp):
    g = engine_random.CounterGenerator(7, _device(xp))
    state = dict(g.bit_generator.state)
    u = g.random((200_000,), dtype=np.float32)
    assert u.dtype == np.float32 and backend.device_of(u) == _device(xp)
    u = backend.to_numpy(u)
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.003
    assert abs(u.var() - 1 / 12) < 0.002
    z = backend.to_numpy(g.standard_normal((100_001,), dtype=np.float64))
    assert z.dtype == np.float64 and abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    k = backend.to_numpy(g.integers(3, 9, size=(5000,)))
    assert set(np.unique(k)) == set(range(3, 9))
    p = backend.to_numpy(g.permutation(50))
    assert sorted(p) == list(range(50))
    assert g.bit_generator.state["counter"] == state["counter"] + 4  # one count per draw
    g.bit_generator.state = state  # back to the first draw: the same bits
    assert np.array_equal(backend.to_numpy(g.random((200_000,), dtype=np.float32)), u)


def test_counter_generator_is_the_same_function_on_every_device(xp):
    a = engine_random.CounterGenerator(3, "cpu").random((7, 3))
    b = engine_random.CounterGenerator(3, _device(xp)).random((7, 3))
    assert np.array_equal(a, backend.to_numpy(b))
    c = engine_random.CounterGenerator(4, "cpu").random((7, 3))
    assert not np.array_equal(a, c)


def test_device_generators_are_counter_based_and_checkpointed():
    engine_random.seed(5)
    assert isinstance(engine_random.make_generator("cpu", 1), np.random.Generator)
    gpu = engine_random.make_generator("gpu", 1)
    assert isinstance(gpu, engine_random.CounterGenerator) and gpu.device == "gpu"
    engine_random._generators["gpu"] = gpu  # what generator("gpu") holds after its first draw
    gpu.counter = 12
    state = engine_random.get_state()
    assert state["devices"] == {"gpu": {"bit_generator": "Philox4x32", "key": 1, "counter": 12}}
    engine_random.seed(0)
    engine_random.set_state(state)
    assert engine_random._generators["gpu"].counter == 12
    engine_random.seed(0)


def test_take_grad_sums_repeats_in_order_bitwise():
    # A padding id repeated far beyond the passes goes to add.at: the sums keep add.at's order.
    rng = np.random.default_rng(0)
    ids = np.where(rng.random((6, 40)) < 0.7, 0, rng.integers(1, 30, (6, 40)))
    g = rng.standard_normal((6, 40, 5)).astype(np.float32)
    expected = np.zeros((30, 5), np.float32)
    np.add.at(expected, ids.reshape(-1), g.reshape(-1, 5))
    assert np.array_equal(indexing._take_grad(np, g, ids, (30, 5), 0), expected)


def test_scatter_add_on_device_is_the_sorted_segment_sum(xp):
    rng = np.random.default_rng(1)
    flat = rng.integers(0, 9, 300)
    rows = rng.standard_normal((300, 4))
    expected = np.zeros((9, 4))
    np.add.at(expected, flat, rows)
    got = indexing._scatter_add_rows(xp, xp.asarray(flat), xp.asarray(rows), 9)
    assert np.allclose(backend.to_numpy(got), expected, rtol=1e-12, atol=1e-12)
    # a fixed order whatever set_op_determinism says: compiled plans replay it bitwise
    for flag in (False, True):
        indexing.set_op_determinism(flag)
        try:
            assert indexing.op_determinism() is flag
            a = indexing._scatter_add_rows(xp, xp.asarray(flat), xp.asarray(rows), 9)
        finally:
            indexing.set_op_determinism(False)
        b = indexing._segment_sum_sorted(xp, xp.asarray(flat), xp.asarray(rows), 9)
        assert np.array_equal(backend.to_numpy(a), backend.to_numpy(b))


def test_embedding_grad_on_device_is_one_scatter(xp):
    table = np.random.default_rng(2).standard_normal((6, 3))
    ids = np.array([[0, 0, 5, 0], [2, 0, 0, 5]])
    check_grad(lambda t: ops.take(t, xp.asarray(ids), axis=0), xp.asarray(table))
    check_grad(lambda t: ops.take(t, xp.asarray(ids[0]), axis=1), xp.asarray(table.T))


def _replaying():
    class Replay:
        def __enter__(self):
            self.previous = getattr(_state, "replaying", False)
            _state.replaying = True

        def __exit__(self, *exc):
            _state.replaying = self.previous

    return Replay()


def test_out_of_range_ids_never_wrap(xp):
    table = Tensor(xp.asarray(np.arange(12.0, dtype=np.float32).reshape(4, 3)))
    bad = xp.asarray(np.array([1, 4]))
    with pytest.raises(ValueError, match=r"take: indices must be in the range \[-4, 4\)"):
        ops.take(table, bad, axis=0)  # eager: a host check on every device
    with _replaying():
        if xp is np:  # the CPU checks on the host in a plan too
            with pytest.raises(ValueError, match="indices must be in the range"):
                ops.take(table, bad, axis=0)
            return
        y = backend.to_numpy(ops.take(table, bad, axis=0).data)
        loss = backend.to_numpy(ops.sparse_categorical_crossentropy(
            xp.asarray(np.array([0, 3])), Tensor(xp.ones((2, 3), np.float32))).data)
    assert np.array_equal(y[0], [3, 4, 5]) and np.isnan(y[1]).all()  # NaN, no wrap to row 0
    assert np.isfinite(loss[0]) and np.isnan(loss[1])
    with pytest.raises(ValueError, match="step on the device met an index out of range"):
        indexing.raise_index_errors()
    indexing.raise_index_errors()  # read and cleared


def test_compiled_step_replays_dropout_and_equals_eager(xp):
    device = _device(xp)
    w = Tensor(xp.asarray(np.random.default_rng(3).standard_normal((5, 4)).astype(np.float32)),
               requires_grad=True)

    def fn(inputs):
        h = ops.dropout(ops.matmul(inputs[0], w), 0.5)
        return [ops.sum(ops.take(h, inputs[1], axis=0))]

    x = Tensor(xp.asarray(np.ones((3, 5), np.float32)))
    ids = Tensor(xp.asarray(np.array([0, 2, 2, 1])))
    engine_random.seed(9)
    step = jit.value_and_grad(fn, [w])
    compiled = [step([x, ids]) for _ in range(5)]
    assert step.replays == 3  # traced, checked, then replayed: the draws are replayable
    engine_random.seed(9)
    for (outputs, grads), _ in zip(compiled, range(5)):
        loss = fn([x, ids])[0]
        from engine import grad

        (g,) = grad(loss, [w])
        assert np.array_equal(backend.to_numpy(outputs[0].data), backend.to_numpy(loss.data))
        assert np.array_equal(backend.to_numpy(grads[0]), backend.to_numpy(g.data))
    assert backend.device_of(compiled[-1][1][0]) == device


GATHER_GRADS = [  # gradients that add repeated positions: reflect pad, uneven repeat, getitem
    ("pad", lambda x: ops.pad(x, ((0, 0), (3, 2)), mode="reflect"), (2, 5)),
    ("repeat", lambda x: ops.repeat(x, [1, 3, 0, 2], axis=1), (3, 4)),
    ("getitem", lambda x: ops.getitem(x, (np.array([0, 2, 0, 0]), np.array([1, 1, 3, 1]))),
     (3, 4)),
]


@pytest.mark.parametrize("name, fn, shape", GATHER_GRADS, ids=[g[0] for g in GATHER_GRADS])
def test_gradients_that_add_repeats_equal_add_at(xp, name, fn, shape):
    # on a GPU in a fixed order (the sorted segment sum), not with atomics
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    weights = rng.standard_normal(fn(Tensor(x)).shape)
    expected = np.asarray(engine_grad(fn, x, weights, np))
    atomics = _atomics(xp)
    got = engine_grad(fn, xp.asarray(x), xp.asarray(weights), xp)
    np.testing.assert_allclose(backend.to_numpy(got), expected, rtol=1e-12, atol=1e-12)
    assert _atomics(xp) == atomics  # the CuPy stand-in counts every atomic scatter


def _atomics(xp):
    events = getattr(xp, "EVENTS", None) or {}
    return sum(n for (kind, _), n in events.items() if kind.startswith("ATOMIC"))


def engine_grad(fn, x, weights, xp):
    import engine

    t = Tensor(x, requires_grad=True)
    (g,) = engine.grad(fn(t), [t], grad_outputs=weights)
    return g.data
