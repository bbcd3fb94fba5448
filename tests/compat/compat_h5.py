"""Legacy ``.h5`` whole models between kerasish and the real tf.keras 2 and Keras 3, both ways.

    KERASISH_TF_KERAS_PYTHON=/path/to/tfvenv/bin/python \\
    KERASISH_KERAS3_PYTHON=/path/to/kvenv/bin/python python -m tests.compat.compat_h5

For each real Keras whose interpreter is given (tf-keras 2 with ``tf_keras`` importable, Keras 3
with ``keras``; never dependencies of kerasish): kerasish saves the four models of
``h5_models.py`` and that Keras loads them with ``load_model``, then that Keras saves them and
kerasish loads them. Each load compares the predictions, the evaluate loss and, for a compiled
model, the predictions after one more training step (which shows whether the optimizer state
came across). Prints one row per model and direction.
"""
import json
import os
import subprocess
import sys
import tempfile

import kerasish

from . import h5_roundtrip

HERE = os.path.dirname(os.path.abspath(__file__))
DIALECTS = {"tf_keras": "KERASISH_TF_KERAS_PYTHON", "keras3": "KERASISH_KERAS3_PYTHON"}


def interpreters():
    """``{dialect: python}`` for the real Keras interpreters named in the environment."""
    return {d: os.environ[var] for d, var in DIALECTS.items() if os.environ.get(var)}


def _real(python, dialect, mode, folder):
    env = dict(os.environ, KERAS_BACKEND=os.environ.get("KERAS_BACKEND", "jax"),
               TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu",
               PYTHONWARNINGS="ignore")
    done = subprocess.run([python, os.path.join(HERE, "h5_roundtrip.py"), dialect, mode, folder],
                          env=env, capture_output=True, text=True, timeout=900)
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        raise RuntimeError(f"{dialect} {mode} failed (exit {done.returncode}):\n"
                           f"{done.stdout[-3000:]}\n{done.stderr[-6000:]}")
    return json.loads(lines[-1])


def run(dialect, python):
    """Rows ``{"direction", "model", ...}`` for one real Keras, both directions."""
    rows = []
    with tempfile.TemporaryDirectory() as ours, tempfile.TemporaryDirectory() as theirs:
        h5_roundtrip.save(kerasish, ours)
        loaded = _real(python, dialect, "load", ours)
        version = loaded["version"]
        rows += [{"direction": f"kerasish -> {dialect} {version}", **r} for r in loaded["results"]]
        _real(python, dialect, "save", theirs)
        rows += [{"direction": f"{dialect} {version} -> kerasish", **r}
                 for r in h5_roundtrip.load(kerasish, theirs)]
    return rows


def _number(value):
    return "n/a" if value is None else f"{value:.1e}"


def format_rows(rows):
    """A table: relative differences of the predictions, the evaluate loss and the predictions
    after one more training step; the loaded optimizer's class and iteration count. "n/a" in
    "1 step" is a reader that cannot train the model it loaded (see ``after_step_error``)."""
    lines = [f"{'direction':34} {'model':10} {'loaded':6} {'predict':>8} {'loss':>8} "
             f"{'1 step':>8} {'iter':>4} optimizer"]
    for r in rows:
        if not r.get("loaded"):
            lines.append(f"{r['direction']:34} {r['model']:10} {'NO':6} {r.get('error', '')}")
            continue
        lines.append(f"{r['direction']:34} {r['model']:10} {'yes':6} {_number(r['predict']):>8} "
                     f"{_number(r.get('loss')):>8} {_number(r.get('after_step')):>8} "
                     f"{str(r.get('iterations')):>4} {r.get('optimizer')}")
    return "\n".join(lines)


def main():
    found = interpreters()
    if not found:
        sys.exit(f"Set {' or '.join(DIALECTS.values())} to a real Keras's python.")
    for dialect, python in found.items():
        rows = run(dialect, python)
        print(format_rows(rows), flush=True)
        for error in sorted({r["after_step_error"] for r in rows if "after_step_error" in r}):
            print(f"  n/a: {error}")


if __name__ == "__main__":
    main()
