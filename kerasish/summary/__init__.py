"""Summaries for TensorBoard in custom loops (in the spirit of ``tf.summary``).

Needs the optional ``tensorboard`` package (``pip install "kerasish[tensorboard]"``), which
is imported only when a writer is made.

>>> import kerasish as keras
>>> writer = keras.summary.create_file_writer("logs/custom")
>>> with writer.as_default():
...     keras.summary.scalar("loss", 0.25, step=1)
"""
from .ops import flush, histogram, image, scalar, text
from .writer import SummaryWriter, create_file_writer

__all__ = ["SummaryWriter", "create_file_writer", "flush", "histogram", "hparams", "image",
           "scalar", "text"]


def __getattr__(name):
    # `hparams` imports tensorboard's hparams protobufs: only when it is asked for.
    if name == "hparams":
        import importlib

        return importlib.import_module(".hparams", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
