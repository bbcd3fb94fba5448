"""Reading event files back with TensorBoard's own reader (EventAccumulator)."""
import io

import numpy as np
import pytest

ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
tensor_util = pytest.importorskip("tensorboard.util.tensor_util")


def load(folder):
    """An EventAccumulator of ``folder`` keeping every event (no sampling)."""
    acc = ea.EventAccumulator(str(folder), size_guidance={ea.TENSORS: 0, ea.GRAPH: 0})
    acc.Reload()
    return acc


def series(acc, tag):
    """[(step, value as NumPy)] of a tensor tag, in the order written."""
    return [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]


def plugin(acc, tag):
    return acc.SummaryMetadata(tag).plugin_data.plugin_name


def decode_images(value):
    """(width, height, [PIL images]) of an image summary's string tensor."""
    image_module = pytest.importorskip("PIL.Image")
    width, height = int(value[0]), int(value[1])
    return width, height, [image_module.open(io.BytesIO(png)) for png in value[2:]]


def as_array(image):
    return np.asarray(image)
