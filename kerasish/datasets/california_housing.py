"""California housing prices, read from the ``california_housing.npz`` Keras downloads
(never downloaded here)."""
from __future__ import annotations

from ._cache import ORIGIN_FOLDER, check_test_split, find_file, load_npz, shuffle_split


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """Loads California housing from the Keras cache (``$KERAS_HOME/datasets``, default
    ``~/.keras``): 20,640 districts of 8 features (MedInc, HouseAge, AveRooms, AveBedrms,
    Population, AveOccup, Latitude, Longitude); targets are median house values in dollars.

    Args:
        version: ``"large"`` (all samples) or ``"small"`` (the first 600).
        path: the file's name in the cache folder.
        test_split: fraction of the (shuffled) samples kept for test, in [0, 1).
        seed: seed of the shuffle (``np.random.RandomState``).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x of shape (n, 8), y of shape (n,).

    Raises:
        FileNotFoundError: the file is not in the cache; the message says where to put it.

    >>> (x_train, y_train), (x_test, y_test) = load_data(version="small")  # doctest: +SKIP
    """
    check_test_split(test_split)
    if version not in ("small", "large"):
        raise ValueError("Argument `version` must be one of 'small', 'large'. "
                         f"Received: version={version}")
    arrays = load_npz(find_file(path, origin=f"{ORIGIN_FOLDER}california_housing.npz"))
    x, y = arrays["x"], arrays["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    return shuffle_split(x, y, test_split, seed)
