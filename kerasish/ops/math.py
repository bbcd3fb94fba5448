"""Keras 3's math ops: segment reductions, top-k, special functions and the FFT family.

Complex values travel as `(real, imag)` tuples of real tensors, as in Keras.
"""
from __future__ import annotations

import math as _pymath

import numpy as np

from engine import Tensor
from engine import ops as E

from ._base import array, const, float_tensor, shape_of, spec, tensor, xp_of
from ._symbolic import broadcast_shapes, keras_op, reduce_spec, unary_spec

__all__ = [
    "cdist", "erf", "erfc", "erfinv", "extract_sequences", "fft", "fft2", "ifft2", "in_top_k",
    "irfft", "istft", "logdet", "logsumexp", "rfft", "rsqrt", "segment_max", "segment_min",
    "segment_prod", "segment_sum", "stft", "top_k", "view_as_complex", "view_as_real",
]


# -- segments -------------------------------------------------------------------------------

def _segment_spec(data, segment_ids, num_segments=None, sorted=False):
    return spec((num_segments,) + shape_of(data)[1:], data.dtype)


def _segments(data, segment_ids, num_segments):
    """(data, ids, n) with the rows of negative ids dropped (Keras ignores them)."""
    data = tensor(data)
    ids = np.asarray(array(segment_ids).tolist() if hasattr(segment_ids, "dtype")
                     else segment_ids).astype(np.int64).reshape(-1)
    if num_segments is None:
        num_segments = int(ids.max()) + 1 if ids.size else 0
    keep = (ids >= 0) & (ids < num_segments)
    if not keep.all():
        data = E.take(data, xp_of(data).asarray(np.nonzero(keep)[0]), axis=0)
        ids = ids[keep]
    return data, xp_of(data).asarray(ids), int(num_segments)


@keras_op(spec=_segment_spec)
def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """`out[s]` = the sum of the rows of `data` whose segment id is `s`.

    >>> segment_sum(np.array([1.0, 2.0, 3.0]), np.array([0, 0, 1])).numpy()
    array([3., 3.])
    """
    data, ids, n = _segments(data, segment_ids, num_segments)
    return E.segment_sum(data, ids, n)


def _dense_segments(data, segment_ids, num_segments, fill, reduce):
    """Reduces through a dense `(segments, rows, ...)` mask: differentiable by composition.

    NOTE: memory grows as segments x rows; only segment_prod (rare) goes this way.
    """
    data, ids, n = _segments(data, segment_ids, num_segments)
    xp = xp_of(data)
    mask = ids[None, :] == xp.arange(n)[:, None]
    mask = mask.reshape(mask.shape + (1,) * (data.ndim - 1))
    return reduce(E.where(Tensor(mask), E.expand_dims(data, 0), const(fill, data)), axis=1)


@keras_op(spec=_segment_spec)
def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """`out[s]` = the max of the rows in segment `s` (-inf for an empty segment)."""
    data, ids, n = _segments(data, segment_ids, num_segments)
    return E.segment_max(data, ids, n)


@keras_op(spec=_segment_spec)
def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """`out[s]` = the min of the rows in segment `s` (+inf for an empty segment)."""
    data, ids, n = _segments(data, segment_ids, num_segments)
    return -E.segment_max(-data, ids, n)


@keras_op(spec=_segment_spec)
def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """`out[s]` = the product of the rows in segment `s` (1 for an empty segment)."""
    return _dense_segments(data, segment_ids, num_segments, 1, E.prod)


# -- top-k ----------------------------------------------------------------------------------

def _top_k_spec(x, k, sorted=True):
    shape = shape_of(x)[:-1] + (k,)
    return spec(shape, x.dtype), spec(shape, "int32")


@keras_op(spec=_top_k_spec)
def top_k(x, k, sorted=True):
    """The `k` largest values along the last axis and their indices (ties: lower index first).

    >>> top_k(np.array([1.0, 3.0, 2.0]), 2)[1].numpy()
    array([1, 2], dtype=int32)
    """
    x = tensor(x)
    if not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: `k` must lie in [0, {x.shape[-1]}] (the last axis). Received: "
                         f"k={k}, x.shape={tuple(x.shape)}")
    xp = xp_of(x)
    order = xp.argsort(-x.data, axis=-1, kind="stable")[..., :k].astype(np.int32)
    return E.take_along_axis(x, Tensor(order), axis=-1), Tensor(order)


@keras_op(spec=lambda targets, predictions, k: spec(shape_of(targets), "bool"))
def in_top_k(targets, predictions, k):
    """Whether each target's prediction is among the `k` largest of its row (ties count)."""
    p = array(tensor(predictions))
    xp = xp_of(p)
    t = xp.asarray(array(targets)).astype(np.int64)
    target_values = xp.take_along_axis(p, t[:, None], axis=-1)
    kth = -xp.sort(-p, axis=-1)[:, k - 1:k]
    return Tensor(xp.any(target_values >= kth, axis=-1))


# -- elementwise ----------------------------------------------------------------------------

@keras_op(spec=reduce_spec)
def logsumexp(x, axis=None, keepdims=False):
    """`log(sum(exp(x)))` along `axis`, computed stably."""
    return E.logsumexp(float_tensor(x), axis=axis, keepdims=keepdims)


@keras_op(spec=unary_spec)
def rsqrt(x):
    """`1 / sqrt(x)`."""
    return 1.0 / E.sqrt(float_tensor(x))


@keras_op(spec=unary_spec)
def erf(x):
    """The Gauss error function."""
    return E.erf(float_tensor(x))


@keras_op(spec=unary_spec)
def erfc(x):
    """`1 - erf(x)`."""
    return 1.0 - E.erf(float_tensor(x))


@keras_op(spec=unary_spec)
def erfinv(x):
    """The inverse error function."""
    return E.erfinv(float_tensor(x))


@keras_op(spec=lambda x: spec(shape_of(x)[:-2], x.dtype))
def logdet(x):
    """`log|det(x)|` of (batches of) matrices (meant for Hermitian positive-definite ones)."""
    return E.slogdet(float_tensor(x))[1]


def _cdist_spec(x, y):
    batch = broadcast_shapes(shape_of(x)[:-2], shape_of(y)[:-2])
    return spec(batch + (shape_of(x)[-2], shape_of(y)[-2]), x.dtype)


@keras_op(spec=_cdist_spec)
def cdist(x, y):
    """Euclidean distances between the rows of `x` `(..., n, d)` and of `y` `(..., m, d)`."""
    x, y = float_tensor(x), float_tensor(y)
    if x.ndim < 2 or y.ndim < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError("`cdist` inputs must have rank >= 2 and one last dimension. Received: "
                         f"x.shape={tuple(x.shape)}, y.shape={tuple(y.shape)}")
    diff = E.expand_dims(x, -2) - E.expand_dims(y, -3)
    return E.sqrt(E.sum(diff * diff, axis=-1))


# -- complex views --------------------------------------------------------------------------

@keras_op(spec=lambda x: spec(shape_of(x)[:-1], "complex64"))
def view_as_complex(x):
    """`(..., 2)` real pairs -> complex values `x[..., 0] + 1j * x[..., 1]`."""
    a = array(tensor(x))
    if a.shape[-1] != 2:
        raise ValueError(f"view_as_complex expects a last axis of size 2. Received: "
                         f"x.shape={a.shape}")
    return Tensor(a[..., 0] + 1j * a[..., 1])


@keras_op(spec=lambda x: spec(shape_of(x) + (2,), "float32"))
def view_as_real(x):
    """Complex values -> `(..., 2)` (real, imaginary) pairs."""
    a = array(tensor(x))
    xp = xp_of(a)
    return Tensor(xp.stack([a.real, a.imag], axis=-1))


# -- FFT family -----------------------------------------------------------------------------

def _pair_spec(x, *args, **kwargs):
    real = x[0]
    return spec(shape_of(real), real.dtype), spec(shape_of(real), real.dtype)


def _pair(x, name):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{name} takes a tuple of two tensors (real, imag). Received: "
                         f"x={type(x).__name__}")
    real, imag = float_tensor(x[0]), float_tensor(x[1])
    return real, E.cast(imag, real.dtype) if imag.dtype != real.dtype else imag


@keras_op(spec=_pair_spec)
def fft(x):
    """The FFT along the last axis of `x = (real, imag)`; returns `(real, imag)`."""
    return E.fft(_pair(x, "fft"))


@keras_op(spec=_pair_spec)
def fft2(x):
    """The 2-D FFT along the last two axes of `x = (real, imag)`."""
    return E.fft2(_pair(x, "fft2"))


@keras_op(spec=_pair_spec)
def ifft2(x):
    """The inverse 2-D FFT along the last two axes of `x = (real, imag)`."""
    return E.ifft2(_pair(x, "ifft2"))


def _fit_last(x, n):
    """`x` truncated or zero-padded to length `n` on its last axis."""
    m = x.shape[-1]
    if m >= n:
        return x[..., :n]
    return E.pad(x, ((0, 0),) * (x.ndim - 1) + ((0, n - m),))


def _rfft_spec(x, fft_length=None):
    n = shape_of(x)[-1] if fft_length is None else fft_length
    shape = shape_of(x)[:-1] + (None if n is None else n // 2 + 1,)
    return spec(shape, x.dtype), spec(shape, x.dtype)


@keras_op(spec=_rfft_spec)
def rfft(x, fft_length=None):
    """The FFT of real `x` along its last axis: the `fft_length // 2 + 1` non-negative
    frequencies, as `(real, imag)`."""
    x = float_tensor(x)
    n = x.shape[-1] if fft_length is None else int(fft_length)
    x = _fit_last(x, n)
    real, imag = E.fft((x, Tensor(xp_of(x).zeros_like(x.data))))
    return real[..., :n // 2 + 1], imag[..., :n // 2 + 1]


def _irfft_spec(x, fft_length=None):
    real = x[0]
    m = shape_of(real)[-1]
    n = fft_length if fft_length is not None else (None if m is None else 2 * (m - 1))
    return spec(shape_of(real)[:-1] + (n,), real.dtype)


@keras_op(spec=_irfft_spec)
def irfft(x, fft_length=None):
    """The inverse of `rfft`: a real signal of length `fft_length` (default `2 * (m - 1)`)."""
    real, imag = _pair(x, "irfft")
    n = 2 * (real.shape[-1] - 1) if fft_length is None else int(fft_length)
    half = n // 2 + 1
    real, imag = _fit_last(real, half), _fit_last(imag, half)
    # NOTE: the negative frequencies are the conjugates of the positive ones; the imaginary
    # parts of the DC and Nyquist terms only add imaginary output, which is dropped.
    mirror = slice(1, n - n // 2)
    full_r = E.concatenate([real, E.flip(real[..., mirror], axis=-1)], axis=-1)
    full_i = E.concatenate([imag, -E.flip(imag[..., mirror], axis=-1)], axis=-1)
    return E.ifft((full_r, full_i))[0]


def _extract_spec(x, sequence_length, sequence_stride):
    n = shape_of(x)[-1]
    frames = None if n is None else 1 + (n - sequence_length) // sequence_stride
    return spec(shape_of(x)[:-1] + (frames, sequence_length), x.dtype)


@keras_op(spec=_extract_spec)
def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of length `sequence_length` every `sequence_stride` along the last axis:
    `(..., num_frames, sequence_length)`."""
    x = tensor(x)
    n, size, step = x.shape[-1], int(sequence_length), int(sequence_stride)
    frames = 1 + (n - size) // step
    if frames < 1:
        raise ValueError("extract_sequences: the input is shorter than one sequence. Received: "
                         f"x.shape={tuple(x.shape)}, sequence_length={sequence_length}")
    # Chunks of g = gcd(size, step) samples: frame f is chunks f*q .. f*q + size/g - 1.
    g = _pymath.gcd(size, step)
    q, per = step // g, size // g
    total = (frames - 1) * q + per
    chunks = E.reshape(x[..., :total * g], tuple(x.shape[:-1]) + (total, g))
    cols = [chunks[..., c:c + (frames - 1) * q + 1:q, :] for c in range(per)]
    return E.reshape(E.stack(cols, axis=-2), tuple(x.shape[:-1]) + (frames, size))


def _overlap_add(frames, step):
    """Sums `(..., F, n)` frames placed every `step` samples: `(..., n + (F - 1) step)`."""
    lead, (count, n) = tuple(frames.shape[:-2]), frames.shape[-2:]
    g = _pymath.gcd(n, step)
    q, per = step // g, n // g
    total = (count - 1) * q + per
    out = None
    for c in range(per):
        block = E.expand_dims(frames[..., c * g:(c + 1) * g], -2)  # (..., F, 1, g)
        block = E.pad(block, ((0, 0),) * len(lead) + ((0, 0), (0, q - 1), (0, 0)))
        block = E.reshape(block, lead + (count * q, g))[..., :(count - 1) * q + 1, :]
        block = E.pad(block, ((0, 0),) * len(lead) + ((c, total - c - block.shape[-2]), (0, 0)))
        out = block if out is None else out + block
    return E.reshape(out, lead + (total * g,))


def _window(window, sequence_length, fft_length, dtype):
    """The window padded (centered) to `fft_length`, as a NumPy array."""
    if window is None:  # NOTE: as Keras, no window means ones over all of fft_length
        return np.ones(fft_length, dtype=dtype)
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError('If a string is passed to `window`, it must be one of "hann", '
                             f'"hamming". Received: window={window}')
        a = 0.5 if window == "hann" else 0.54  # periodic windows, as scipy's get_window
        win = a - (1 - a) * np.cos(2 * np.pi * np.arange(sequence_length) / sequence_length)
    else:
        win = np.asarray(array(window), dtype=np.float64)
        if win.shape != (sequence_length,):
            raise ValueError("The shape of `window` must be equal to [sequence_length]. "
                             f"Received: window shape={win.shape}")
    left = (fft_length - sequence_length) // 2
    return np.pad(win, (left, fft_length - sequence_length - left)).astype(dtype)


def _stft_spec(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    n = shape_of(x)[-1]
    if n is not None:
        n = n + (fft_length // 2) * 2 if center else n
        n = 1 + (n - fft_length) // sequence_stride
    shape = shape_of(x)[:-1] + (n, fft_length // 2 + 1)
    return spec(shape, x.dtype), spec(shape, x.dtype)


@keras_op(spec=_stft_spec)
def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform along the last axis: `(real, imag)` of shape
    `(..., num_frames, fft_length // 2 + 1)`."""
    x = float_tensor(x)
    if fft_length < sequence_length:
        raise ValueError("`fft_length` must equal or larger than `sequence_length`. "
                         f"Received: sequence_length={sequence_length}, "
                         f"fft_length={fft_length}")
    if center:
        x = E.pad(x, ((0, 0),) * (x.ndim - 1) + ((fft_length // 2,) * 2,), mode="reflect")
    frames = extract_sequences(x, fft_length, sequence_stride)
    win = xp_of(x).asarray(_window(window, sequence_length, fft_length, x.dtype))
    return rfft(frames * Tensor(win), fft_length)


def _istft_spec(x, sequence_length, sequence_stride, fft_length, length=None, window="hann",
                center=True):
    real = x[0]
    frames = shape_of(real)[-2]
    if length is not None:
        n = length
    elif frames is None:
        n = None
    else:
        trim = 2 * (fft_length // 2) if center else 0
        n = fft_length + sequence_stride * (frames - 1) - trim
    return spec(shape_of(real)[:-2] + (n,), real.dtype)


@keras_op(spec=_istft_spec)
def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann",
          center=True):
    """Inverse of `stft`: overlap-adds the windowed inverse FFTs and divides by the summed
    squared window."""
    real, _ = _pair(x, "istft")
    frames = irfft(x, fft_length)
    win_np = _window(window, sequence_length, fft_length, np.float64)
    xp = xp_of(real)
    win = Tensor(xp.asarray(win_np.astype(real.dtype)))
    y = _overlap_add(frames * win, sequence_stride)
    count = frames.shape[-2]
    norm = np.zeros(fft_length + sequence_stride * (count - 1))
    for f in range(count):
        norm[f * sequence_stride:f * sequence_stride + fft_length] += win_np ** 2
    scale = win_np.sum() / (sequence_stride if window is None else win_np.sum())
    norm = np.where(norm > 1e-10, norm, 1.0) / scale
    y = y / Tensor(xp.asarray(norm.astype(real.dtype)))
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = y.shape[-1] - fft_length // 2
    else:
        end = y.shape[-1]
    return y[..., start:end]
