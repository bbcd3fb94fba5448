"""Keras's legacy HDF5 weights layout (being written)."""


def load_weights(model, filepath, skip_mismatch=False, by_name=False):
    raise NotImplementedError


def save_weights(model, filepath, overwrite=True):
    raise NotImplementedError
