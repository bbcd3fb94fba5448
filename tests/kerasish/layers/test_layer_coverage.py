"""Every exported layer class is named in a test module that runs the layer harness and in one
that gradient-checks it (an alias such as MaxPool2D counts for the class it names)."""
import inspect
import pathlib
import re

import pytest

from kerasish import layers

HERE = pathlib.Path(__file__).parent
NOT_LAYERS_UNDER_TEST = {"Layer", "InputLayer", "InputSpec"}
# Layers with no gradient to check: their outputs are integer indices or encodings built from
# them (piecewise constant in any float input), as in Keras, where they have no gradient either.
GRADIENT_FREE = {"CategoryEncoding", "Discretization"}
# Lookups, hashing and text vectorization take strings or integer ids: their outputs are
# indices or encodings of them, with no float input to differentiate (as in Keras).
GRADIENT_FREE |= {"HashedCrossing", "Hashing", "IntegerLookup", "StringLookup",
                  "TextVectorization"}


def _modules_calling(pattern):
    return [path.read_text() for path in sorted(HERE.glob("test_*.py"))
            if re.search(pattern, path.read_text())]


def _exported_layer_classes():
    classes = {}
    for name, obj in vars(layers).items():
        if inspect.isclass(obj) and issubclass(obj, layers.Layer) \
                and name not in NOT_LAYERS_UNDER_TEST:
            classes.setdefault(obj, set()).add(name)
    return classes.values()


@pytest.mark.parametrize("harness", [r"run_\w*layer_test\(", r"check_layer_grads\("])
def test_every_layer_is_exercised_by_each_harness(harness):
    texts = _modules_calling(harness)
    exempt = GRADIENT_FREE if harness.startswith("check") else set()
    missing = sorted(min(names) for names in _exported_layer_classes()
                     if not names & exempt and
                     not any(re.search(rf"\b{n}\b", t) for n in names for t in texts))
    assert missing == [], f"layers named in no module calling {harness}: {missing}"
