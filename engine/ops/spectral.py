"""The discrete Fourier transform on (real, imaginary) pairs, as Keras's ``keras.ops.fft``.

A complex tensor travels as two real Tensors. One op stacks both parts of its output on a
leading axis of size 2; the public functions split it again.
"""
from __future__ import annotations

from ..autograd import Function

__all__ = ["fft", "ifft", "fft2", "ifft2"]


class FFT(Function):
    def forward(self, xp, real, imag, axes, inverse):
        self.axes, self.inverse = axes, inverse
        size = 1
        for a in axes:
            size *= real.shape[a]
        self.size = size
        z = (xp.fft.ifftn if inverse else xp.fft.fftn)(real + 1j * imag, axes=axes)
        dtype = xp.result_type(real.dtype, imag.dtype)
        return xp.stack([z.real, z.imag]).astype(dtype, copy=False)

    def backward(self, xp, gy):
        # NOTE: the DFT matrix F is symmetric, so fft's adjoint is conj(F) = size * ifft and
        # ifft's adjoint is F / size; the real gradient of each part is Re/Im of it.
        g = gy[0] + 1j * gy[1]
        if self.inverse:
            gz = xp.fft.fftn(g, axes=self.axes) / self.size
        else:
            gz = xp.fft.ifftn(g, axes=self.axes) * self.size
        return gz.real.astype(gy.dtype), gz.imag.astype(gy.dtype)


def _apply(x, axes, inverse, name):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{name} takes a tuple of two tensors (real, imag). "
                         f"Received: x={type(x).__name__}")
    real, imag = x
    if tuple(real.shape) != tuple(imag.shape):
        raise ValueError(f"{name}: the real and imaginary parts must have one shape. Received: "
                         f"real.shape={tuple(real.shape)}, imag.shape={tuple(imag.shape)}")
    y = FFT.apply(real, imag, axes=axes, inverse=inverse)
    return y[0], y[1]


def fft(x) -> tuple:
    """The FFT along the last axis of ``x = (real, imag)``; returns ``(real, imag)``."""
    return _apply(x, (-1,), False, "fft")


def ifft(x) -> tuple:
    """The inverse FFT along the last axis (``1/n`` normalization)."""
    return _apply(x, (-1,), True, "ifft")


def fft2(x) -> tuple:
    """The 2-D FFT along the last two axes of ``x = (real, imag)``."""
    return _apply(x, (-2, -1), False, "fft2")


def ifft2(x) -> tuple:
    """The inverse 2-D FFT along the last two axes."""
    return _apply(x, (-2, -1), True, "ifft2")
