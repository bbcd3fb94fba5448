"""Both sides of the legacy ``.h5`` check: save and load with any Keras module.

    python h5_roundtrip.py tf_keras|keras3 save|load DIR

``save`` builds the models of ``h5_models.py``, trains one step, and writes ``DIR/<name>.h5``
and ``DIR/<name>.npz`` (inputs, targets, predictions, evaluate loss, and the predictions after
one more training step). ``load`` loads every ``DIR/<name>.h5`` with ``load_model`` and compares
with the ``.npz`` beside it. The last line printed is JSON: the Keras version and per-model
results. A real Keras's interpreter runs this file as a script (it imports only NumPy and
``h5_models``); ``compat_h5.py`` calls ``save``/``load`` with kerasish in-process.
"""
import json
import os
import sys
import traceback

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import h5_models  # noqa: E402


def _keras(dialect):
    if dialect == "tf_keras":
        import tf_keras

        return tf_keras
    import keras

    return keras


def _version(keras):
    return getattr(keras, "__version__", "?")


def _iterations(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    value = optimizer.iterations
    return int(np.asarray(value.numpy() if hasattr(value, "numpy") else value))


def _loss(model, x, y):
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    return float(logs["loss"])


def save(keras, folder):
    results = []
    for name in h5_models.MODELS:
        x, y = h5_models.data(name)
        x = x[0] if len(x) == 1 else x
        model = h5_models.build(keras, name)
        model.train_on_batch(x, y)
        model.save(os.path.join(folder, f"{name}.h5"))
        pred = h5_models.flat(model.predict(x, verbose=0))
        loss = _loss(model, x, y)
        model.train_on_batch(x, y)
        pred_after_step = h5_models.flat(model.predict(x, verbose=0))
        arrays = {f"x{i}": v for i, v in enumerate(x if isinstance(x, list) else [x])}
        arrays.update({f"y{i}": v for i, v in enumerate(y if isinstance(y, list) else [y])})
        np.savez(os.path.join(folder, f"{name}.npz"), pred=pred, loss=loss,
                 pred_after_step=pred_after_step, **arrays)
        results.append({"model": name, "saved": True})
    return results


def _arrays(saved, prefix):
    """``x0, x1, ...`` (or ``y0, ...``) of a saved ``.npz``: one array, or a list of several."""
    arrays = [saved[f"{prefix}{i}"] for i in range(sum(k.startswith(prefix) for k in saved.files))]
    return arrays[0] if len(arrays) == 1 else arrays


def load_one(keras, folder, name):
    saved = np.load(os.path.join(folder, f"{name}.npz"))
    x, y = _arrays(saved, "x"), _arrays(saved, "y")
    model = keras.models.load_model(os.path.join(folder, f"{name}.h5"))
    result = {"model": name, "loaded": True,
              "predict": h5_models.relative_difference(model.predict(x, verbose=0),
                                                       saved["pred"])}
    optimizer = getattr(model, "optimizer", None)
    result["optimizer"] = type(optimizer).__name__ if optimizer is not None else None
    result["iterations"] = _iterations(model)
    if optimizer is not None:
        result["loss"] = abs(_loss(model, x, y) - float(saved["loss"])) / \
            max(abs(float(saved["loss"])), 1e-30)
        try:  # Keras 3 cannot train a model loaded from a legacy .h5, even its own (jax)
            model.train_on_batch(x, y)
            result["after_step"] = h5_models.relative_difference(
                model.predict(x, verbose=0), saved["pred_after_step"])
        except Exception as e:  # noqa: BLE001 - reported: a limit of the reader, not the file
            result["after_step_error"] = f"{type(e).__name__}: {str(e)[:120]}"
    return result


def load(keras, folder):
    results = []
    for name in h5_models.MODELS:
        if not os.path.exists(os.path.join(folder, f"{name}.h5")):
            continue
        try:
            results.append(load_one(keras, folder, name))
        except Exception as e:  # noqa: BLE001 - reported, not raised: the other models still run
            traceback.print_exc()
            results.append({"model": name, "loaded": False,
                            "error": f"{type(e).__name__}: {str(e)[:300]}"})
    return results


def main(argv):
    dialect, mode, folder = argv
    keras = _keras(dialect)
    results = save(keras, folder) if mode == "save" else load(keras, folder)
    print(json.dumps({"version": _version(keras), "results": results}))


if __name__ == "__main__":
    main(sys.argv[1:])
