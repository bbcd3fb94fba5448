"""A training job for the kill-and-resume test (run as a subprocess by test_backup_restore.py).

    python resume_job.py BACKUP_DIR OUT.npz [--kill-at-batch N] [--kill-during-save N]

Trains a small model with dropout and shuffling under BackupAndRestore. ``--kill-at-batch N``
SIGKILLs the process at the N-th training batch overall; ``--kill-during-save N`` SIGKILLs it in
the middle of writing the N-th checkpoint. The final weights go to OUT.npz.
"""
import argparse
import os
import signal

import numpy as np

import kerasish as keras
from kerasish import layers
from kerasish.saving import atomic


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("backup_dir")
    parser.add_argument("out")
    parser.add_argument("--kill-at-batch", type=int, default=-1)
    parser.add_argument("--kill-during-save", type=int, default=-1)
    parser.add_argument("--save-freq", default="3")
    args = parser.parse_args()

    if args.kill_during_save > 0:
        writes = {"n": 0}
        original = atomic.atomic_write

        def dying_write(path, writer):
            writes["n"] += 1
            if writes["n"] == args.kill_during_save:
                def half(tmp):
                    writer(tmp)
                    os.kill(os.getpid(), signal.SIGKILL)  # the temporary file is complete
                return original(path, half)
            return original(path, writer)

        atomic.atomic_write = dying_write

    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = (x[:, :1] - x[:, 1:2] > 0).astype("float32")
    model = keras.Sequential([keras.Input((4,)), layers.Dense(16, activation="relu"),
                              layers.Dropout(0.25), layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])

    class Killer(keras.callbacks.Callback):
        seen = 0

        def on_train_batch_end(self, batch, logs=None):
            Killer.seen += 1
            if Killer.seen == args.kill_at_batch:
                os.kill(os.getpid(), signal.SIGKILL)

    save_freq = "epoch" if args.save_freq == "epoch" else int(args.save_freq)
    history = model.fit(x, y, batch_size=16, epochs=4, verbose=0, callbacks=[
        keras.callbacks.BackupAndRestore(args.backup_dir, save_freq=save_freq), Killer()])
    np.savez(args.out, *model.get_weights(), history_loss=np.array(history.history["loss"]))


if __name__ == "__main__":
    main()
