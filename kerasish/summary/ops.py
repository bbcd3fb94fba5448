"""``kerasish.summary.scalar/histogram/image/text``: TensorBoard v2 tensor summaries, as
``tf.summary`` writes them (plugins ``scalars``, ``histograms``, ``images``, ``text``)."""
from __future__ import annotations

import numpy as np

from ._lib import tb
from .png import encode_png, to_uint8
from .writer import default_writer, resolve_step

DEFAULT_BUCKET_COUNT = 30


def _value(tag, tensor, metadata):
    summary = tb("compat.proto.summary_pb2").Summary()
    summary.value.add(tag=tag, tensor=tensor, metadata=metadata)
    return summary


def _tensor(array, dtype=None):
    return tb("util.tensor_util").make_tensor_proto(array, dtype=dtype)


def _to_numpy(data):
    data = getattr(data, "data", data)  # an engine Tensor or a Variable holds its array
    return np.asarray(data.get() if hasattr(data, "get") else data)  # .get(): a CuPy array


def scalar_pb(tag, data, description=None):
    """A ``Summary`` holding one float32 scalar (plugin ``scalars``)."""
    value = _to_numpy(data)
    if value.size != 1:
        raise ValueError(f"A scalar summary needs one value. Received: data of shape "
                         f"{value.shape} for tag {tag!r}")
    metadata = tb("plugins.scalar.metadata").create_summary_metadata(
        display_name=None, description=description)
    return _value(tag, _tensor(np.float32(value.reshape(()))), metadata)


def histogram_buckets(data, buckets=None):
    """(k, 3) float64 rows [left edge, right edge, count] over ``k`` equal-width buckets from
    min to max, the last bucket closed; a constant input puts every count in the last bucket
    with both edges at the value (TensorBoard's own bucketing)."""
    count = DEFAULT_BUCKET_COUNT if buckets is None else int(buckets)
    data = _to_numpy(data).astype(np.float64).ravel()
    if count <= 0 or data.size == 0:
        return np.zeros((max(count, 0), 3))
    low, high = data.min(), data.max()
    if high == low:
        counts = np.zeros(count)
        counts[-1] = data.size
        return np.stack([np.full(count, low), np.full(count, low), counts], axis=1)
    width = (high - low) / count
    index = np.minimum(np.floor((data - low) / width).astype(np.int64), count - 1)
    edges = np.linspace(low, high, count + 1)
    counts = np.bincount(index, minlength=count).astype(np.float64)
    return np.stack([edges[:-1], edges[1:], counts], axis=1)


def histogram_pb(tag, data, buckets=None, description=None):
    """A ``Summary`` holding a histogram (plugin ``histograms``)."""
    metadata = tb("plugins.histogram.metadata").create_summary_metadata(
        display_name=None, description=description)
    return _value(tag, _tensor(histogram_buckets(data, buckets), dtype=np.float64), metadata)


def image_pb(tag, data, max_outputs=3, description=None):
    """A ``Summary`` of up to ``max_outputs`` PNG images from a (N, H, W, C) batch, C in
    {1, 3, 4}; floats are read in [0, 1]. The tensor is [width, height, png, ...]."""
    images = _to_numpy(data)
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise ValueError("An image summary needs a batch of shape (N, height, width, channels) "
                         f"with 1, 3 or 4 channels. Received: shape={images.shape}")
    images = to_uint8(images[:max_outputs])
    height, width = images.shape[1:3]
    encoded = [str(width).encode(), str(height).encode()] + [encode_png(i) for i in images]
    metadata = tb("plugins.image.metadata").create_summary_metadata(
        display_name=None, description=description)
    return _value(tag, _tensor(np.array(encoded, dtype=object)), metadata)


def text_pb(tag, data, description=None):
    """A ``Summary`` holding a string (or array of strings) as markdown (plugin ``text``)."""
    text = np.asarray(data, dtype=object)
    text = np.vectorize(lambda s: s if isinstance(s, bytes) else str(s).encode("utf-8"),
                        otypes=[object])(text) if text.size else text
    metadata = tb("plugins.text.metadata").create_summary_metadata(
        display_name=None, description=description)
    return _value(tag, _tensor(text), metadata)


def _write(summary_fn, name, data, step, **kwargs):
    writer, _ = default_writer()
    if writer is None:
        return False  # tf.summary's behaviour: nothing to write to
    writer.write_summary(summary_fn(name, data, **kwargs), resolve_step(step))
    return True


def scalar(name, data, step=None, description=None):
    """Writes a scalar to the default writer; returns whether a writer was there.

    >>> with create_file_writer("logs/custom").as_default():
    ...     scalar("loss", 0.25, step=3)
    """
    return _write(scalar_pb, name, data, step, description=description)


def histogram(name, data, step=None, buckets=None, description=None):
    """Writes a histogram of ``data`` (any shape) over ``buckets`` (default 30) buckets."""
    return _write(histogram_pb, name, data, step, buckets=buckets, description=description)


def image(name, data, step=None, max_outputs=3, description=None):
    """Writes up to ``max_outputs`` images of a (N, H, W, C) batch."""
    return _write(image_pb, name, data, step, max_outputs=max_outputs, description=description)


def text(name, data, step=None, description=None):
    """Writes markdown text (a string or an array of strings)."""
    return _write(text_pb, name, data, step, description=description)


def flush(writer=None):
    """Flushes ``writer`` (default: the default writer)."""
    writer = writer if writer is not None else default_writer()[0]
    if writer is not None:
        writer.flush()
