"""GPU convolutions: im2col blocks bounded in bytes whatever the batch, and the cuDNN provider.

1. With a tiny block budget, each conv direction equals a naive NumPy correlation, and its
   columns (or col2im matrices) come in the expected number of blocks of the expected size.
2. ``engine/cudnn.py`` against a FAKE ``cupyx.cudnn``, written here from CuPy 13's documented
   signatures and cuDNN's semantics (symmetric padding, NHWC tensors and filters, groups).
   The fake checks only our side of the call: layouts, pads, strides, dilation, groups, which
   buffers are filled and that results come back in our layout. It cannot show that real
   cuDNN agrees; a GPU with CuPy 13 (bench/gpu_check.sh) shows that.
3. Without ``cupyx.cudnn``, or with ``KERASISH_CUDNN=0``, the provider declines and im2col runs.
"""
import sys
import types

import numpy as np
import pytest

from engine import backend, cudnn
from engine.ops import _im2col
from engine.ops.conv import _conv_geometry, conv_forward, conv_grad_input, conv_grad_kernel

# (x shape, kernel shape (*K, C/groups, O), strides, padding, dilation)
CASES = {
    "2d-same": ((3, 7, 6, 6), (3, 3, 6, 4), 1, "same", 1),
    "2d-stride2-same": ((3, 8, 7, 6), (3, 3, 6, 4), 2, "same", 1),  # more zeros after
    "2d-groups-dilated": ((2, 9, 8, 6), (3, 2, 2, 6), (1, 2), "valid", (2, 1)),
    "2d-depthwise-stride": ((2, 7, 7, 4), (3, 3, 1, 8), 2, "same", 1),
    "1d-stride-same": ((3, 11, 6), (4, 6, 5), 3, "same", 1),
    "2d-pointwise": ((2, 5, 5, 6), (1, 1, 6, 3), 1, "valid", 1),
}


def _taps(g):
    """Each kernel tap and the strided slice of the padded input it reads."""
    for tap in np.ndindex(*g.kernel):
        yield tap, (slice(None),) + tuple(
            slice(t * d, t * d + (o - 1) * s + 1, s)
            for t, d, o, s in zip(tap, g.dilation, g.out_shape, g.strides))


def _padded(x, g):
    return np.pad(x, [(0, 0)] + list(zip(g.pad_before, g.pad_after)) + [(0, 0)])


def naive_forward(x, w, g, groups):
    """y[n, o] = sum over taps t and the group's channels of xpad[n, o*s + t*d] w[t]."""
    xpad, (cg, cout) = _padded(x, g), w.shape[-2:]
    og = cout // groups
    y = np.zeros((x.shape[0],) + g.out_shape + (cout,))
    for tap, index in _taps(g):
        for k in range(groups):
            y[..., k * og:(k + 1) * og] += (xpad[index][..., k * cg:(k + 1) * cg]
                                            @ w[tap][:, k * og:(k + 1) * og])
    return y


def naive_grad_input(gy, w, g, groups, shape):
    (cg, cout), gx = w.shape[-2:], np.zeros(_padded(np.zeros(shape), g).shape)
    og = cout // groups
    for tap, index in _taps(g):
        for k in range(groups):
            gx[index][..., k * cg:(k + 1) * cg] += (gy[..., k * og:(k + 1) * og]
                                                    @ w[tap][:, k * og:(k + 1) * og].T)
    return gx[g.interior]


def naive_grad_kernel(x, gy, g, groups, kshape):
    xpad, (cg, cout), gw = _padded(x, g), kshape[-2:], np.zeros(kshape)
    og = cout // groups
    for tap, index in _taps(g):
        for k in range(groups):
            patch = xpad[index][..., k * cg:(k + 1) * cg].reshape(-1, cg)
            gw[tap][:, k * og:(k + 1) * og] = patch.T @ gy[..., k * og:(k + 1) * og].reshape(-1, og)
    return gw


def _case(name, dtype=np.float64):
    x_shape, kshape, strides, padding, dilation = CASES[name]
    rng = np.random.default_rng(len(name))
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(kshape).astype(dtype)
    g = _conv_geometry("conv", x, w, kshape[:-2], strides, padding, dilation)
    groups = x_shape[-1] // kshape[-2]
    gy = rng.standard_normal((x_shape[0],) + g.out_shape + kshape[-1:]).astype(dtype)
    return x, w, gy, g, groups


def _close(a, ref, tol=1e-10):
    a = backend.to_numpy(a)
    assert a.shape == ref.shape
    np.testing.assert_allclose(a, ref, rtol=tol, atol=tol)


@pytest.fixture
def gpu_xp():
    if not backend.cupy_available():
        pytest.skip("CuPy with a CUDA device (or the stand-in) is not available")
    return backend.xp_for("gpu")


# -- 1. blocks bounded in bytes --------------------------------------------------------------

def _budget(xp, monkeypatch, nbytes):
    """Sets the block budget the path for ``xp`` uses (NumPy's also has a minimum in pixels)."""
    if xp is np:
        monkeypatch.setattr(_im2col, "BLOCK_BYTES", nbytes)
        monkeypatch.setattr(_im2col, "BLOCK_PIXELS", 1)
    else:
        monkeypatch.setattr(_im2col, "GPU_BLOCK_BYTES", nbytes)


def _record(xp, monkeypatch):
    """Wraps the allocators the im2col path uses and its col2im GEMM; returns the record:
    'columns' (im2col buffers), 'gcols' (col2im matrices), 'alloc' (every allocation)."""
    seen = {"columns": [], "gcols": [], "alloc": []}

    def wrap(name, fn):
        def recorded(shape, *args, **kwargs):
            a = fn(shape, *args, **kwargs)
            seen["alloc"].append(a.nbytes)
            if name == "empty" and np.ndim(shape) == 0:  # col_blocks's flat buffer
                seen["columns"].append(a.nbytes)
            return a
        monkeypatch.setattr(xp, name, recorded)

    wrap("empty", xp.empty)
    wrap("zeros", xp.zeros)
    gemm = _im2col.gemm_grad_cols

    def grad_cols(*args):
        out = gemm(*args)
        seen["gcols"].append(out.nbytes)
        return out
    monkeypatch.setattr(_im2col, "gemm_grad_cols", grad_cols)
    return seen


@pytest.mark.parametrize("groups", [1, 2])
def test_forward_and_kernel_gradient_take_blocks_of_the_budget(xp, monkeypatch, groups):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 7, 7, 6))  # 6 channels: NumPy's few-channel path stays out
    w = rng.standard_normal((3, 3, 6 // groups, 4))
    g = _conv_geometry("conv", x, w, (3, 3), 1, "same", 1)
    gy = rng.standard_normal((6, 7, 7, 4))
    row = 7 * 9 * 6 * 8  # one output row's columns, in bytes
    device = "cpu" if xp is np else "gpu"
    xd, wd, gyd = (backend.to_device(a, device) for a in (x, w, gy))
    for budget, blocks, largest in [(3 * row, 6 * 3, 3 * row), (16 * row, 3, 14 * row),
                                    (row // 2, 6 * 7, row)]:  # at least one row per block
        _budget(xp, monkeypatch, budget)
        seen = _record(xp, monkeypatch)
        y = _im2col.conv_forward(xp, xd, wd, g, groups)
        assert seen["columns"] == [largest]
        gw = _im2col.conv_grad_kernel(xp, xd, gyd, g, w.shape, groups)
        monkeypatch.undo()
        _close(y, naive_forward(x, w, g, groups))
        _close(gw, naive_grad_kernel(x, gy, g, groups, w.shape))
        count = []
        _budget(xp, monkeypatch, budget)
        for _ in _im2col.col_blocks(xp, xd, g):
            count.append(1)
        monkeypatch.undo()
        assert len(count) == blocks


@pytest.mark.parametrize("groups", [1, 3])
def test_input_gradient_col2im_takes_blocks_of_the_budget(xp, monkeypatch, groups):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 8, 8, 6))
    w = rng.standard_normal((3, 3, 6 // groups, 6))
    g = _conv_geometry("conv", x, w, (3, 3), 2, "same", 1)  # strided: GEMM + col2im
    gy = rng.standard_normal((5,) + g.out_shape + (6,))
    image = 16 * 9 * 6 * 8  # one image's col2im matrix, in bytes
    device = "cpu" if xp is np else "gpu"
    for budget, calls in [(2 * image, 3), (image // 3, 5), (5 * image, 1)]:
        _budget(xp, monkeypatch, budget)
        seen = _record(xp, monkeypatch)
        gx = _im2col.conv_grad_input(xp, backend.to_device(gy, device),
                                     backend.to_device(w, device), g, groups)
        monkeypatch.undo()
        assert len(seen["gcols"]) == calls
        assert max(seen["gcols"]) == min(5, max(1, budget // image)) * image
        # NOTE: besides gx itself, nothing holds more than one block's worth
        assert max(seen["alloc"][1:]) <= max(budget, image)
        _close(gx, naive_grad_input(gy, w, g, groups, x.shape))


@pytest.mark.gpu
def test_gpu_budget_bounds_a_big_batch(gpu_xp, monkeypatch):
    """The whole batch's im2col is never held: 64 images, a budget of 2 images' columns."""
    xp = gpu_xp
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 6, 6, 8)).astype(np.float32)
    w = rng.standard_normal((3, 3, 8, 8)).astype(np.float32)
    g = _conv_geometry("conv", x, w, (3, 3), 1, "same", 1)
    per_image = 36 * 72 * 4
    _budget(xp, monkeypatch, 2 * per_image)
    seen = _record(xp, monkeypatch)
    y = _im2col.conv_forward(xp, xp.asarray(x), xp.asarray(w), g)
    monkeypatch.undo()
    assert seen["columns"] == [2 * per_image]
    assert max(seen["alloc"][1:]) <= 2 * per_image < 64 * per_image
    _close(y, naive_forward(x.astype(np.float64), w.astype(np.float64), g, 1), 1e-4)


# -- 2. the cuDNN provider against a fake cupyx.cudnn -------------------------------------------

NCHW, NHWC = 0, 1  # cudnnTensorFormat_t


class FakeCudnn(types.ModuleType):
    """cupyx.cudnn's three conv functions as CuPy 13 declares them, computed on the host.

    Each checks what cuDNN would refuse (rank-4 C-contiguous arrays of one dtype, NHWC layouts,
    output dims equal to cuDNN's own formula for a pad on both sides), writes its result into
    the buffer it is given and returns None, as CuPy's do.
    """

    def __init__(self, xp):
        super().__init__("cupyx.cudnn")
        self.xp, self.calls, self.workspace = xp, [], 8 << 20

    def get_max_workspace_size(self):
        return self.workspace

    def set_max_workspace_size(self, size):
        self.workspace = size

    def _geometry(self, x, filters, y, pad, stride, dilation, groups, d_layout, w_layout):
        assert d_layout == NHWC and w_layout == NHWC
        for a in (x, filters, y):
            assert a.ndim == 4 and a.flags.c_contiguous and a.dtype == x.dtype
        assert x.shape[-1] == filters.shape[-1] * groups and y.shape[-1] == filters.shape[0]
        out = tuple((n + 2 * p - (k - 1) * d - 1) // s + 1 for n, k, p, s, d in
                    zip(x.shape[1:3], filters.shape[1:3], pad, stride, dilation))
        assert out == y.shape[1:3], "cuDNN: CUDNN_STATUS_BAD_PARAM (output dims)"
        return _im2col.make_geometry(x.shape[1:3], out, filters.shape[1:3], stride, dilation, pad)

    def _host(self, a):
        return backend.to_numpy(a).astype(np.float64)

    def _store(self, buffer, value):
        buffer[...] = self.xp.asarray(value.astype(buffer.dtype))

    def convolution_forward(self, x, W, b, y, pad, stride, dilation, groups, *, auto_tune,
                            tensor_core, d_layout=NCHW, w_layout=NCHW):
        self.calls.append(("forward", pad, stride, dilation, groups))
        assert b is None
        g = self._geometry(x, W, y, pad, stride, dilation, groups, d_layout, w_layout)
        w = self._host(W).transpose(1, 2, 3, 0)
        self._store(y, naive_forward(self._host(x), w, g, groups))

    def convolution_backward_data(self, W, x, b, y, pad, stride, dilation, groups, *,
                                  deterministic, auto_tune, tensor_core, d_layout=NCHW,
                                  w_layout=NCHW):
        self.calls.append(("data", pad, stride, dilation, groups, deterministic))
        g = self._geometry(y, W, x, pad, stride, dilation, groups, d_layout, w_layout)
        w = self._host(W).transpose(1, 2, 3, 0)
        self._store(y, naive_grad_input(self._host(x), w, g, groups, y.shape))

    def convolution_backward_filter(self, x, gy, gW, pad, stride, dilation, groups, *,
                                    deterministic, auto_tune, tensor_core, d_layout=NCHW,
                                    w_layout=NCHW):
        self.calls.append(("filter", pad, stride, dilation, groups, deterministic))
        g = self._geometry(x, gW, gy, pad, stride, dilation, groups, d_layout, w_layout)
        kshape = gW.shape[1:] + gW.shape[:1]
        gw = naive_grad_kernel(self._host(x), self._host(gy), g, groups, kshape)
        self._store(gW, gw.transpose(3, 0, 1, 2))


@pytest.fixture
def fake(gpu_xp, monkeypatch):
    lib = FakeCudnn(gpu_xp)
    package = types.ModuleType("cupyx")
    package.cudnn = lib
    monkeypatch.setitem(sys.modules, "cupyx", package)
    monkeypatch.setitem(sys.modules, "cupyx.cudnn", lib)
    monkeypatch.setattr(gpu_xp.cuda, "cudnn",
                        types.SimpleNamespace(CUDNN_TENSOR_NHWC=NHWC, getVersion=lambda: 90100),
                        raising=False)
    monkeypatch.delenv(cudnn.ENV_VAR, raising=False)
    cudnn.reset()
    yield lib
    cudnn.reset()


@pytest.mark.gpu
@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cudnn_plumbing_against_im2col_with_a_fake_cupyx_cudnn(fake, gpu_xp, name, dtype):
    x, w, gy, g, groups = _case(name, dtype)
    xd, wd, gyd = (gpu_xp.asarray(a) for a in (x, w, gy))
    y = cudnn.conv_forward(gpu_xp, xd, wd, g, groups)
    gx = cudnn.conv_grad_input(gpu_xp, gyd, wd, g, groups)
    gw = cudnn.conv_grad_kernel(gpu_xp, xd, gyd, g, w.shape, groups)
    assert [c[0] for c in fake.calls] == ["forward", "data", "filter"]
    assert all(c[4] == groups for c in fake.calls)
    assert fake.workspace == cudnn.WORKSPACE_BYTES
    tol = 1e-10 if dtype == np.float64 else 1e-4
    for got, ref in [(y, _im2col.conv_forward(np, x, w, g, groups)),
                     (gx, _im2col.conv_grad_input(np, gy, w, g, groups)),
                     (gw, _im2col.conv_grad_kernel(np, x, gy, g, w.shape, groups))]:
        assert backend.device_of(got) == "gpu" and got.dtype == dtype
        assert got.flags.c_contiguous
        _close(got, ref.astype(np.float64), tol)


@pytest.mark.gpu
def test_cudnn_runs_through_the_conv_ops_and_pads_the_odd_zero_itself(fake, gpu_xp):
    """The ops' providers reach the fake; "same" with stride 2 on an even input needs one zero
    more after than before: added to the input, and its gradient dropped."""
    x, w, gy, g, groups = _case("2d-stride2-same")
    assert g.pad_before != g.pad_after
    xd, wd, gyd = (gpu_xp.asarray(a) for a in (x, w, gy))
    _close(conv_forward(gpu_xp, xd, wd, g, groups), naive_forward(x, w, g, groups))
    _close(conv_grad_input(gpu_xp, gyd, wd, g, groups),
           naive_grad_input(gy, w, g, groups, x.shape))
    _close(conv_grad_kernel(gpu_xp, xd, gyd, g, w.shape, groups),
           naive_grad_kernel(x, gy, g, groups, w.shape))
    assert [c[1] for c in fake.calls] == [g.pad_before] * 3


@pytest.mark.gpu
def test_cudnn_backward_is_always_deterministic(fake, gpu_xp):
    # a compiled plan needs its replay to equal the eager step bit for bit
    from engine.ops import indexing

    x, w, gy, g, groups = _case("2d-same")
    xd, wd, gyd = (gpu_xp.asarray(a) for a in (x, w, gy))
    for flag in (False, True):
        indexing.set_op_determinism(flag)
        try:
            cudnn.conv_grad_input(gpu_xp, gyd, wd, g, groups)
            cudnn.conv_grad_kernel(gpu_xp, xd, gyd, g, w.shape, groups)
        finally:
            indexing.set_op_determinism(False)
    assert [c[-1] for c in fake.calls] == [True, True, True, True]


@pytest.mark.gpu
def test_cudnn_declines_what_it_cannot_take(fake, gpu_xp):
    x, w, gy, g, groups = _case("2d-same")
    assert cudnn.conv_forward(np, x, w, g, groups) is None  # NumPy arrays: never cupyx
    xd = gpu_xp.asarray(x)
    assert cudnn.conv_forward(gpu_xp, xd, gpu_xp.asarray(w, dtype=np.float32), g, groups) is None
    x3 = gpu_xp.asarray(np.ones((1, 4, 4, 4, 2)))
    w3 = gpu_xp.asarray(np.ones((2, 2, 2, 2, 3)))
    g3 = _conv_geometry("conv", x3, w3, (2, 2, 2), 1, "valid", 1)
    assert cudnn.conv_forward(gpu_xp, x3, w3, g3) is None  # 3-D: no NHWC descriptor in cupyx
    assert fake.calls == []


@pytest.mark.gpu
def test_a_case_cudnn_refuses_goes_to_im2col_and_is_not_asked_again(fake, gpu_xp, monkeypatch):
    def refuse(*args, **kwargs):
        fake.calls.append("refused")
        raise RuntimeError("cuDNN Error: CUDNN_STATUS_NOT_SUPPORTED")

    monkeypatch.setattr(fake, "convolution_forward", refuse)
    x, w, gy, g, groups = _case("2d-groups-dilated")
    xd, wd = gpu_xp.asarray(x), gpu_xp.asarray(w)
    for _ in range(2):
        _close(conv_forward(gpu_xp, xd, wd, g, groups), naive_forward(x, w, g, groups))
    assert fake.calls == ["refused"]
    assert cudnn.conv_forward(gpu_xp, xd[:1], wd, g, groups) is None  # another shape: asked
    assert fake.calls == ["refused"] * 2


@pytest.mark.gpu
@pytest.mark.parametrize("why", ["no-cupyx-cudnn", "env-0"])
def test_without_cudnn_the_provider_declines_and_im2col_runs(gpu_xp, monkeypatch, why):
    if why == "env-0":
        lib = FakeCudnn(gpu_xp)
        monkeypatch.setitem(sys.modules, "cupyx", types.SimpleNamespace(cudnn=lib))
        monkeypatch.setitem(sys.modules, "cupyx.cudnn", lib)
        monkeypatch.setenv(cudnn.ENV_VAR, "0")
    else:
        monkeypatch.setitem(sys.modules, "cupyx.cudnn", None)  # import raises ImportError
    cudnn.reset()
    try:
        x, w, gy, g, groups = _case("2d-groups-dilated")
        xd, wd, gyd = (gpu_xp.asarray(a) for a in (x, w, gy))
        assert cudnn.conv_forward(gpu_xp, xd, wd, g, groups) is None
        assert cudnn.conv_grad_input(gpu_xp, gyd, wd, g, groups) is None
        assert cudnn.conv_grad_kernel(gpu_xp, xd, gyd, g, w.shape, groups) is None
        assert "im2col" in cudnn.describe()
        _close(conv_forward(gpu_xp, xd, wd, g, groups), naive_forward(x, w, g, groups))
        _close(conv_grad_kernel(gpu_xp, xd, gyd, g, w.shape, groups),
               naive_grad_kernel(x, gy, g, groups, w.shape))
        if why == "env-0":
            assert lib.calls == []
    finally:
        cudnn.reset()


def test_cpu_runs_never_import_cupyx():
    """The provider is asked on every CPU conv too; it must decline before importing cupyx."""
    x, w, gy, g, groups = _case("2d-same")
    cudnn.reset()
    before = "cupyx" in sys.modules
    assert cudnn.conv_forward(np, x, w, g, groups) is None
    assert cudnn.conv_grad_kernel(np, x, gy, g, w.shape, groups) is None
    assert ("cupyx" in sys.modules) == before and not cudnn._tried
