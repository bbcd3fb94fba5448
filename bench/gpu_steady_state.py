"""The compiled training step on a GPU: host reads per step, plan replays with Dropout,
``jit_compile`` on/off agreement and an exact resume with BackupAndRestore.

Runs on a real GPU (CuPy), or without one on the strict CuPy stand-in (which also counts every
host sync and copy by call site):

    PYTHONPATH=.:<folder holding the cupy_standin package> python bench/gpu_steady_state.py \
        --standin

Prints one block per model (MLP with a metric, CNN with Dropout, Embedding(mask_zero) + LSTM)
and exits non-zero if a check fails.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np

import engine  # noqa: F401


def _setup(standin):
    events = None
    if standin:
        import cupy_standin

        cupy_standin.install()
        events = cupy_standin
    import kerasish

    return kerasish, events


def _models(keras):
    layers = keras.layers

    def mlp():
        i = keras.Input((20,))
        return keras.Model(i, layers.Dense(3)(layers.Dense(32, activation="relu")(i)))

    def cnn():
        i = keras.Input((8, 8, 2))
        h = layers.Conv2D(4, 3, activation="relu")(i)
        h = layers.Dropout(0.3)(layers.Flatten()(h))
        return keras.Model(i, layers.Dense(3)(layers.Dropout(0.2, seed=5)(h)))

    def emb():
        i = keras.Input((12,), dtype="int32")
        h = layers.LSTM(8)(layers.Embedding(50, 8, mask_zero=True)(i))
        return keras.Model(i, layers.Dense(3)(layers.Dropout(0.25)(h)))

    rng = np.random.default_rng(0)
    n = 112  # 14 steps of 8
    y = rng.integers(0, 3, n)
    ids = rng.integers(1, 50, (n, 12)).astype("int32")
    ids[:, 8:] = 0
    return [("MLP, metrics=['accuracy']", mlp, rng.standard_normal((n, 20)).astype("float32"), y),
            ("CNN with Dropout", cnn, rng.standard_normal((n, 8, 8, 2)).astype("float32"), y),
            ("Embedding(mask_zero)+LSTM+Dropout, padded ids", emb, ids, y)]


def _fit(keras, build, x, y, jit, callbacks=(), epochs=1, events=None, batch_logs=True):
    keras.utils.set_random_seed(0)
    model = build()
    model.compile(keras.optimizers.Adam(1e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=jit)
    window = _window(keras, events)
    callbacks = [window, *callbacks]
    if batch_logs:  # a callback that takes every batch's logs (as a progress bar does)
        callbacks.append(keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: None))
    model.fit(x, y, batch_size=8, epochs=epochs, verbose=0, callbacks=callbacks)
    replays = sum(s.compiled.replays for s in model.__dict__.get("_compiled_steps", {}).values())
    return model, replays, getattr(window, "events", {})


def _window(keras, events):
    class Window(keras.callbacks.Callback):
        """Counts the stand-in's events over steps 2..11 (the plan replays from step 2); batch
        begin hooks only, which ask for no logs."""

        def on_train_batch_begin(self, batch, logs=None):
            if events is None or hasattr(self, "events"):
                return
            if batch == 2:
                events.reset_events()
            elif batch == 12:
                self.events = dict(events.EVENTS)

    return Window()


def _weights(model):
    return [np.array(w) for w in model.get_weights()]


def _resume_is_exact(keras, build, x, y):
    """Two epochs straight vs. one epoch, a fresh process-like restart, then the second."""
    straight, _, _ = _fit(keras, build, x, y, "auto", epochs=2)
    with tempfile.TemporaryDirectory() as folder:
        backup = keras.callbacks.BackupAndRestore(folder, save_freq="epoch",
                                                  delete_checkpoint=False)
        _fit(keras, build, x, y, "auto", [backup], epochs=1)
        keras.utils.set_random_seed(123)  # the restore must bring back every stream
        resumed, _, _ = _fit(keras, build, x, y, "auto", [backup], epochs=2)
    return all(np.array_equal(a, b) for a, b in zip(_weights(straight), _weights(resumed)))


def _reads(counted):
    """Blocking device->host reads per step over the 10 counted steps."""
    return sum(n for (kind, _), n in counted.items() if kind.startswith(("SYNC", "D2H"))) / 10


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--standin", action="store_true", help="use cupy_standin as the GPU")
    args = parser.parse_args(argv)
    keras, events = _setup(args.standin)
    keras.config.set_device("gpu")
    failures = []
    for label, build, x, y in _models(keras):
        model, replays, counted = _fit(keras, build, x, y, "auto", events=events)
        _, _, quiet = _fit(keras, build, x, y, "auto", events=events, batch_logs=False)
        eager, _, _ = _fit(keras, build, x, y, False)
        same = all(np.array_equal(a, b) for a, b in zip(_weights(model), _weights(eager)))
        exact = _resume_is_exact(keras, build, x, y)
        reads, reads_quiet = _reads(counted), _reads(quiet)
        print(f"== {label}: plan replays={replays}/12 after warm-up, jit on/off bitwise "
              f"equal={same}, resume exact={exact}")
        if events is not None:
            print(f"   host reads per step: {reads:.1f} with a batch-logs callback, "
                  f"{reads_quiet:.1f} without")
            for (kind, site), n in sorted(counted.items(), key=lambda kv: -kv[1]):
                if kind.startswith(("SYNC", "D2H", "H2D", "ATOMIC")):
                    print(f"   {n / 10:5.1f}  {kind}  @ {site}")
        if replays < 12 or not same or not exact or reads > 1 or reads_quiet > 0:
            failures.append(label)
    keras.config.set_device("cpu")
    print("FAILED: " + ", ".join(failures) if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
