"""kerasish offers Keras 3.15's public names, namespace by namespace.

``keras_public_names.json`` was written once from a run of Keras 3.15 (``dir()`` of every public
``keras.*`` module, names without a leading underscore, sub-modules left out). A name missing
here fails the test unless it is listed below as not applicable (with the reason) or as pending
(with the issue that brings it). ``python -m pytest tests/test_public_api.py -s`` prints the
coverage per namespace.
"""
import importlib
import json
import pathlib

import pytest

HERE = pathlib.Path(__file__).parent
KERAS_NAMES = json.loads((HERE / "keras_public_names.json").read_text())

# Names whose meaning belongs to another backend or to a feature kerasish does not have.
NOT_APPLICABLE = {
    "keras.quantizers": ("*", "int4/int8/float8 quantization: out of scope"),
    "keras.layers": ({"JaxLayer", "FlaxLayer", "TorchModuleWrapper", "TFSMLayer"},
                     "wrap another backend's modules"),
    "keras.config": ({"is_nnx_enabled"}, "JAX's Flax NNX"),
    "keras.callbacks": ({"OrbaxCheckpoint"}, "checkpoints through JAX's Orbax library"),
    "keras.export": ("*", "TensorFlow SavedModel export"),
    "keras": ({"Quantizer", "RematScope", "remat"},
              "quantization; JAX rematerialization"),
    "keras.dtype_policies": ({"QuantizedDTypePolicy", "QuantizedFloat8DTypePolicy",
                              "GPTQDTypePolicy", "AWQDTypePolicy", "Int4DTypePolicy"},
                             "quantization"),
}

# Names not built yet, with what they are (counted as missing in the coverage line).
PENDING = {
    "keras.layers": (
        {"AugMix", "AutoContrast", "CutMix", "Equalization",
         "MixUp", "RandAugment", "RandomColorDegeneration", "RandomColorJitter", "RandomCrop",
         "RandomElasticTransform", "RandomErasing", "RandomGaussianBlur", "RandomGrayscale",
         "RandomHue", "RandomInvert", "RandomPerspective", "RandomPosterization",
         "RandomSaturation", "RandomSharpness", "RandomShear", "Solarization",
         "ContrastLimitedAdaptiveHistogramEqualization", "MaxNumBoundingBoxes", "Pipeline",
         "MelSpectrogram", "STFTSpectrogram"},
        "Keras 3's newer augmentation layers (beyond tf.keras 2's), spectrograms, Pipeline"),
    "keras.utils": ({"FeatureSpace"}, "FeatureSpace: a table-to-features layer of layers"),
    "keras.utils.bounding_boxes": ("*", "bounding boxes of the augmentation layers"),
    "keras.visualization": ("*", "bounding-box and image plots"),
}


def _namespace(name):
    """The kerasish module or object standing for Keras's namespace ``name``."""
    target = "kerasish" + name[len("keras"):]
    try:
        return importlib.import_module(target)
    except ImportError:
        parent, _, leaf = target.rpartition(".")
        try:
            return getattr(_namespace("keras" + parent[len("kerasish"):]), leaf)
        except (ImportError, AttributeError):
            return None


def _listed(table, namespace, name):
    if namespace.startswith("keras.applications."):
        namespace = "keras.applications"
    names, _ = table.get(namespace, ((), ""))
    return names == "*" or name in names


def _missing():
    missing, counts = {}, {}
    for namespace, names in sorted(KERAS_NAMES.items()):
        module = _namespace(namespace)
        applicable = [n for n in names if not _listed(NOT_APPLICABLE, namespace, n)]
        absent = [n for n in applicable if module is None or not hasattr(module, n)]
        counts[namespace] = (len(applicable) - len(absent), len(applicable))
        unexplained = [n for n in absent if not _listed(PENDING, namespace, n)]
        if unexplained:
            missing[namespace] = unexplained
    return missing, counts


def test_every_applicable_keras_name_exists():
    missing, counts = _missing()
    have = sum(h for h, _ in counts.values())
    total = sum(t for _, t in counts.values())
    for namespace, (h, t) in counts.items():
        print(f"{namespace:42s} {h:4d}/{t:<4d}")
    print(f"coverage: {have}/{total} applicable names = {have / total:.1%}")
    assert missing == {}, f"Keras 3.15 names missing from kerasish: {missing}"


@pytest.mark.parametrize("table", [NOT_APPLICABLE, PENDING])
def test_exception_lists_name_real_keras_names(table):
    for namespace, (names, reason) in table.items():
        assert namespace in KERAS_NAMES and reason
        if names != "*":
            assert set(names) <= set(KERAS_NAMES[namespace]), namespace
