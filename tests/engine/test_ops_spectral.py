"""fft, ifft, fft2, ifft2 on (real, imag) pairs against numpy.fft, with gradient checks."""
import numpy as np

from engine import ops
from tests.engine import op_tests
from tests.helpers import OpCase, randn

R, IM = randn(2, 6, seed=1), randn(2, 6, seed=2)
R2, I2 = randn(2, 3, 4, seed=3), randn(2, 3, 4, seed=4)


def _case(name, np_fn, r, i, part):
    op = getattr(ops, name)
    return OpCase(name, lambda a, b: op((a, b))[part], [r, i],
                  lambda a, b: getattr(np_fn(a + 1j * b), "imag" if part else "real"),
                  label="imag" if part else "real")


CASES = [_case("fft", np.fft.fft, R, IM, p) for p in (0, 1)]
CASES += [_case("ifft", np.fft.ifft, R, IM, p) for p in (0, 1)]
CASES += [_case("fft2", np.fft.fft2, R2, I2, p) for p in (0, 1)]
CASES += [_case("ifft2", np.fft.ifft2, R2, I2, p) for p in (0, 1)]
test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


def test_fft_needs_a_pair():
    import pytest
    with pytest.raises(ValueError, match="tuple of two"):
        ops.fft(np.ones(4))
