"""Lazy access to the optional ``tensorboard`` package (its protobufs and event-file writer)."""
from __future__ import annotations

import importlib

_INSTALL_HINT = ("kerasish.summary and the TensorBoard callback need the `tensorboard` package "
                 "(no TensorFlow needed). Install it with: pip install \"kerasish[tensorboard]\"")


def tb(module: str):
    """``tensorboard.<module>``, or an ImportError that names the extra to install.

    >>> event_pb2 = tb("compat.proto.event_pb2")
    """
    try:
        return importlib.import_module(f"tensorboard.{module}")
    except ImportError as error:
        if "tensorboard" not in str(error):
            raise
        raise ImportError(f"{_INSTALL_HINT}. Received: {error}") from error
