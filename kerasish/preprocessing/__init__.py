"""Keras 3's ``keras.preprocessing``: the dataset builders and the ``image``/``sequence`` helpers,
the same functions as in ``keras.utils``."""
from . import image, sequence


def __getattr__(name):
    if name in ("image_dataset_from_directory", "text_dataset_from_directory",
                "timeseries_dataset_from_array"):
        from .. import utils

        return getattr(utils, name)
    raise AttributeError(f"module 'kerasish.preprocessing' has no attribute {name!r}")


__all__ = ["image", "sequence", "image_dataset_from_directory", "text_dataset_from_directory",
           "timeseries_dataset_from_array"]
