"""Sampling images at arbitrary coordinates: ``map_coordinates`` and the warps built on it
(``affine_transform``, ``perspective_transform``, ``elastic_transform``).

Values come from gathers of the input (``engine.ops.take``) weighted by the fractional parts
of the coordinates, so gradients reach both the images and (bilinear) the coordinates.
"""
from __future__ import annotations

import itertools

import numpy as np

from engine import Tensor
from engine import ops as E

from ._base import data_format as _fmt
from ._base import float_tensor, shape_of, spec, tensor, xp_of
from ._symbolic import keras_op

INTERPOLATIONS = {"nearest": 0, "bilinear": 1}
FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _remap(xp, idx, n, mode):
    """Integer indices moved inside [0, n) by the fill mode; and which were inside already."""
    inside = (idx >= 0) & (idx < n)
    if mode in ("constant", "nearest"):
        return xp.clip(idx, 0, n - 1), inside
    if mode == "wrap":
        return xp.mod(idx, n), inside
    if mode == "mirror":  # d c b | a b c d | c b a
        if n == 1:
            return xp.zeros_like(idx), inside
        m = xp.mod(idx, 2 * n - 2)
        return xp.where(m >= n, 2 * n - 2 - m, m), inside
    m = xp.mod(idx, 2 * n)  # reflect: d c b a | a b c d | d c b a
    return xp.where(m >= n, 2 * n - 1 - m, m), inside


def _check(interpolation=None, fill_mode=None):
    if interpolation is not None and interpolation not in INTERPOLATIONS:
        raise ValueError("Invalid value for argument `interpolation`. Expected of one "
                         f"{set(INTERPOLATIONS)}. Received: interpolation={interpolation}")
    if fill_mode is not None and fill_mode not in FILL_MODES:
        raise ValueError("Invalid value for argument `fill_mode`. Expected of one "
                         f"{set(FILL_MODES)}. Received: fill_mode={fill_mode}")


def sample(rows, dims, coords, order, fill_mode, fill_value, base=None):
    """Interpolates `rows` (`(prod(dims) * ..., C)`, row-major over `dims`) at `coords`.

    Args:
        rows: a Tensor whose first axis enumerates the grid points (after `base`).
        dims: the grid's sizes, one per coordinate.
        coords: one float Tensor per dim, all of one shape `S`.
        order: 0 (nearest) or 1 (linear).
        base: integer offsets added to every linear index (e.g. `b * H * W`), shape `S`.

    Returns:
        `S + rows.shape[1:]`.
    """
    xp = xp_of(rows)
    shape = tuple(coords[0].shape)
    strides = [int(np.prod(dims[i + 1:])) for i in range(len(dims))]
    choices = []
    for c in coords:
        if order == 0:
            choices.append([(xp.floor(c.data + 0.5).astype(np.int64), None)])
        else:
            lo = xp.floor(c.data)
            frac = c - Tensor(lo.astype(c.dtype))
            lo = lo.astype(np.int64)
            choices.append([(lo, 1.0 - frac), (lo + 1, frac)])
    trail = (1,) * (rows.ndim - 1)
    out = None
    for corner in itertools.product(*choices):
        lin = xp.zeros(shape, dtype=np.int64) if base is None else xp.asarray(base, np.int64)
        valid, weight = xp.ones(shape, dtype=bool), None
        for (idx, w), n, stride in zip(corner, dims, strides):
            idx, inside = _remap(xp, idx, n, fill_mode)
            lin, valid = lin + idx * stride, valid & inside
            weight = w if weight is None else (weight * w if w is not None else weight)
        vals = E.reshape(E.take(rows, lin.reshape(-1), axis=0), shape + tuple(rows.shape[1:]))
        if fill_mode == "constant":
            fill = Tensor(xp.asarray(fill_value, dtype=rows.dtype))
            vals = E.where(Tensor(valid.reshape(shape + trail)), vals, fill)
        if weight is not None:
            vals = vals * E.reshape(weight, shape + trail)
        out = vals if out is None else out + vals
    return out


def _map_spec(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    return spec(shape_of(coordinates)[1:], inputs.dtype)


@keras_op(spec=_map_spec)
def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """Samples `inputs` at `coordinates` (`(inputs.ndim, ...)`) by nearest (`order=0`) or
    linear (`order=1`) interpolation; outside points follow `fill_mode`."""
    x = tensor(inputs)
    coords = float_tensor(coordinates)
    if coords.ndim < 2 or coords.shape[0] != x.ndim:
        raise ValueError("First dim of `coordinates` must be the same as the rank of `inputs`. "
                         f"Received inputs with shape: {tuple(x.shape)} and coordinate "
                         f"leading dim of {coords.shape[0]}")
    _check(fill_mode=fill_mode)
    if order not in (0, 1):
        raise ValueError(f"Invalid value for argument `order`. Expected one of [0, 1]. "
                         f"Received: order={order}")
    xf = x if x.dtype.kind == "f" else E.cast(x, "float32")
    rows = E.reshape(xf, (-1, 1))
    y = sample(rows, tuple(x.shape), [coords[i] for i in range(x.ndim)], order, fill_mode,
               fill_value)
    y = E.reshape(y, tuple(coords.shape[1:]))
    return y if y.dtype == x.dtype else E.cast(y, x.dtype)


def _batched(images, fmt):
    x = float_tensor(images)
    if x.ndim not in (3, 4):
        raise ValueError("Invalid images rank: expected rank 3 (single image) or rank 4 (batch "
                         f"of images). Received input with shape: images.shape={tuple(x.shape)}")
    unbatched = x.ndim == 3
    if unbatched:
        x = E.expand_dims(x, 0)
    if fmt == "channels_first":
        x = E.transpose(x, (0, 2, 3, 1))
    return x, unbatched


def _unbatch(y, fmt, unbatched):
    if fmt == "channels_first":
        y = E.transpose(y, (0, 3, 1, 2))
    return E.squeeze(y, 0) if unbatched else y


def warp(x, ys, xs, order, fill_mode, fill_value):
    """Samples channels-last `x` `(B, H, W, C)` at per-batch grids `ys`, `xs` `(B, H', W')`."""
    b, h, w, c = x.shape
    xp = xp_of(x)
    base = xp.arange(b, dtype=np.int64).reshape(b, 1, 1) * (h * w)
    base = xp.broadcast_to(base, tuple(ys.shape))
    return sample(E.reshape(x, (b * h * w, c)), (h, w), [ys, xs], order, fill_mode, fill_value,
                  base=base)


def _image_spec(images, *args, **kwargs):
    return spec(shape_of(images), images.dtype)


@keras_op(spec=_image_spec)
def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0, data_format=None):
    """Warps images by projective transforms `[a0, a1, a2, b0, b1, b2, c0, c1]`: output pixel
    `(x, y)` reads input `((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`,
    `k = c0 x + c1 y + 1`."""
    _check(interpolation, fill_mode)
    fmt = _fmt(data_format)
    x, unbatched = _batched(images, fmt)
    t = float_tensor(transform)
    if t.ndim not in (1, 2) or t.shape[-1] != 8:
        raise ValueError("Invalid transform: expected shape (8,) or (batch, 8). Received input "
                         f"with shape: transform.shape={tuple(t.shape)}")
    t = E.expand_dims(t, 0) if t.ndim == 1 else t
    b, h, w, _ = x.shape
    if t.shape[0] == 1 and b > 1:
        t = E.broadcast_to(t, (b, 8))
    xp = xp_of(x)
    gy, gx = xp.meshgrid(xp.arange(h, dtype=x.dtype), xp.arange(w, dtype=x.dtype),
                         indexing="ij")
    gx, gy = Tensor(gx[None]), Tensor(gy[None])

    def col(i):
        return E.reshape(t[:, i], (-1, 1, 1))

    k = col(6) * gx + col(7) * gy + 1.0
    src_x = (col(0) * gx + col(1) * gy + col(2)) / k
    src_y = (col(3) * gx + col(4) * gy + col(5)) / k
    y = warp(x, src_y, src_x, INTERPOLATIONS[interpolation], fill_mode, fill_value)
    return _unbatch(y, fmt, unbatched)


def _homography(start_points, end_points):
    """The 8 transform coefficients mapping end points onto start points (a 8x8 solve)."""
    s, e = float_tensor(start_points), float_tensor(end_points)
    xp = xp_of(s)
    rows = []
    for i in range(4):
        sx, sy, ex, ey = s[:, i, 0], s[:, i, 1], e[:, i, 0], e[:, i, 1]
        one, zero = E.reshape(Tensor(xp.ones(ex.shape, ex.dtype)), (-1,)), ex * 0.0
        rows.append(E.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], axis=-1))
        rows.append(E.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], axis=-1))
    a = E.stack(rows, axis=1)
    target = E.stack([s[:, i, j] for i in range(4) for j in range(2)], axis=-1)
    return E.solve(a, target)


@keras_op(spec=_image_spec)
def perspective_transform(images, start_points, end_points, interpolation="bilinear",
                          fill_value=0, data_format=None):
    """Warps images so that the four `start_points` move to `end_points` (`(4, 2)` or
    `(batch, 4, 2)` as (x, y))."""
    _check(interpolation)
    fmt = _fmt(data_format)
    s, e = float_tensor(start_points), float_tensor(end_points)
    for name, p in (("start_points", s), ("end_points", e)):
        if p.ndim not in (2, 3) or tuple(p.shape[-2:]) != (4, 2):
            raise ValueError(f"Invalid {name} shape: expected (4,2) for a single image or "
                             f"(N,4,2) for a batch. Received shape: {tuple(p.shape)}")
    s = E.expand_dims(s, 0) if s.ndim == 2 else s
    e = E.expand_dims(e, 0) if e.ndim == 2 else e
    return affine_transform(images, _homography(s, e), interpolation=interpolation,
                            fill_mode="constant", fill_value=fill_value, data_format=fmt)


@keras_op(spec=_image_spec)
def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear",
                      fill_mode="reflect", fill_value=0.0, seed=None, data_format=None):
    """Displaces each pixel by smoothed random noise: Gaussian noise blurred with `sigma`,
    scaled by `alpha` (Simard et al., 2003)."""
    from .. import random
    from .image import gaussian_blur

    _check(interpolation, fill_mode)
    fmt = _fmt(data_format)
    x, unbatched = _batched(images, fmt)
    b, h, w, _ = x.shape
    size = int(6 * sigma) | 1
    noise = random.normal((b, h, w, 2), dtype=x.dtype.name, seed=seed) * float(sigma)
    noise = gaussian_blur(tensor(noise), kernel_size=(size, size), sigma=(sigma, sigma))
    xp = xp_of(x)
    gy, gx = xp.meshgrid(xp.arange(h, dtype=x.dtype), xp.arange(w, dtype=x.dtype),
                         indexing="ij")
    src_x = Tensor(gx[None]) + alpha * noise[..., 0]
    src_y = Tensor(gy[None]) + alpha * noise[..., 1]
    y = warp(x, src_y, src_x, INTERPOLATIONS[interpolation], fill_mode, fill_value)
    return _unbatch(y, fmt, unbatched)
