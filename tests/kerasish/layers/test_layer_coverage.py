"""Every exported layer class is exercised by a test module that runs the layer harness and a
gradient check (an alias such as MaxPool2D counts for the class it names)."""
import inspect
import pathlib
import re

from kerasish import layers

HERE = pathlib.Path(__file__).parent
NOT_LAYERS_UNDER_TEST = {"Layer", "InputLayer", "InputSpec"}


def _modules_with_both_harnesses():
    texts = []
    for path in sorted(HERE.glob("test_*.py")):
        text = path.read_text()
        if re.search(r"run_\w*layer_test\(", text) and "check_layer_grads(" in text:
            texts.append(text)
    return texts


def test_every_layer_is_exercised_by_the_harnesses():
    texts = _modules_with_both_harnesses()
    classes = {}
    for name, obj in vars(layers).items():
        if inspect.isclass(obj) and issubclass(obj, layers.Layer) \
                and name not in NOT_LAYERS_UNDER_TEST:
            classes.setdefault(obj, set()).add(name)
    missing = sorted(min(names) for names in classes.values()
                     if not any(re.search(rf"\b{n}\b", t) for n in names for t in texts))
    assert missing == [], f"layers named in no harnessed test module: {missing}"
