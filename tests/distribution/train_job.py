"""A small training job the distribution tests launch, alone or under
``mpiexec -n 2 python -m mpi4py train_job.py``.

Writes to ``--out``: ``init_rank{r}.npz`` and ``rank{r}.npz`` (weights before and after
``fit``), ``rank{r}.json`` (History, evaluate, batches
trained in this process) and, for the MLP, ``predict_rank{r}.npz``.
Env:  KILL_AT / RAISE_AT = n makes rank 1 SIGKILL itself / raise before its n-th train batch.
"""
import argparse
import json
import os
import signal

import numpy as np

import kerasish as keras
from kerasish import layers


def data(model):
    rng = np.random.default_rng(0)
    if model in ("mlp", "bn"):  # 204 samples: 163 train (last batch 3: 1 + 2), 41 validation
        x = rng.standard_normal((204, 12)).astype("float32")
        return x, (x[:, :3].sum(axis=1) > 0).astype("int32") + (x[:, 3] > 1)
    x = rng.random((120, 8, 8, 1)).astype("float32")  # CNN: last batch of 120 % 16 = 8
    return x, (x[:, :4].mean(axis=(1, 2, 3)) > 0.5).astype("int32")


def build(model):
    if model == "mlp":
        net = keras.Sequential([keras.Input((12,)), layers.Dense(16, activation="relu"),
                                layers.Dense(3)])
        optimizer = keras.optimizers.SGD(0.05, momentum=0.9)
    elif model == "bn":
        net = keras.Sequential([keras.Input((12,)), layers.Dense(16), layers.BatchNormalization(),
                                layers.Activation("relu"), layers.Dense(3)])
        optimizer = keras.optimizers.SGD(0.05, momentum=0.9)
    else:
        net = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu",
                                                                      padding="same"),
                                layers.MaxPooling2D(), layers.Flatten(), layers.Dense(3)])
        optimizer = keras.optimizers.Adam(0.01)
    net.compile(optimizer=optimizer, metrics=["accuracy"],
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return net


class Faults(keras.callbacks.Callback):
    """Counts the batches this process trains; rank 1 dies on request."""

    def __init__(self, rank):
        super().__init__()
        self.rank = rank
        self.count = [0]  # a list: BackupAndRestore restores plain numbers, not this

    @property
    def trained(self):
        return self.count[0]

    def on_train_batch_begin(self, batch, logs=None):
        if self.rank == 1 and self.trained + 1 == int(os.environ.get("KILL_AT", 0)):
            os.kill(os.getpid(), signal.SIGKILL)
        if self.rank == 1 and self.trained + 1 == int(os.environ.get("RAISE_AT", 0)):
            raise RuntimeError("rank 1 fails on purpose")

    def on_train_batch_end(self, batch, logs=None):
        self.count[0] += 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--out", required=True)
    parser.add_argument("--single", action="store_true", help="no distribution")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--backup", default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batches", type=int, nargs=3, default=[32, 30, 27],
                        help="MLP batch sizes of fit, evaluate and predict")
    args = parser.parse_args()
    keras.config.set_device(args.device)
    rank = 0
    if not args.single:
        keras.distribution.initialize()
        keras.distribution.set_distribution(keras.distribution.DataParallel())
        rank = keras.distribution.distribution().rank
    keras.utils.set_random_seed(1 + 100 * rank)  # rank 1's own seed: rank 0's must win
    x, y = data(args.model)
    model = build(args.model)
    np.savez(os.path.join(args.out, f"init_rank{rank}.npz"), *[w.numpy() for w in model.weights])
    faults = Faults(rank)
    callbacks = [faults]
    if args.backup:
        callbacks.append(keras.callbacks.BackupAndRestore(args.backup, save_freq=2))
    else:  # files named by rank: only rank 0's may appear
        callbacks += [keras.callbacks.CSVLogger(os.path.join(args.out, f"log{rank}.csv")),
                      keras.callbacks.ModelCheckpoint(
                          os.path.join(args.out, f"ck{rank}.weights.h5"), verbose=1,
                          save_weights_only=True),
                      keras.callbacks.TensorBoard(os.path.join(args.out, f"tb{rank}"))]
    if args.model != "cnn":
        history = model.fit(x, y, batch_size=args.batches[0], epochs=args.epochs,
                            validation_split=0.2,
                            callbacks=callbacks, verbose=2)
    else:
        history = model.fit(x[:90], y[:90], batch_size=16, epochs=args.epochs, verbose=0,
                            validation_data=(x[90:], y[90:]), callbacks=callbacks)
    import engine

    out = {"history": history.history, "trained": faults.trained,
           "draw": float(engine.random.generator("cpu").random()),
           "evaluate": model.evaluate(x, y, batch_size=args.batches[1], verbose=0,
                                      return_dict=True)}
    if not args.single:
        comm = keras.distribution.distribution().comm
        out["allreduce"], out["nccl"] = comm.stats, comm._nccl is not None
    if args.model == "mlp":
        np.savez(os.path.join(args.out, f"predict_rank{rank}.npz"),
                 predict=model.predict(x, batch_size=args.batches[2], verbose=0),
                 direct=model(x).numpy())
        keras.distribution.set_distribution(None)  # the same call on one process's whole data
        out["evaluate_local"] = model.evaluate(x, y, batch_size=args.batches[1], verbose=0,
                                               return_dict=True)
    np.savez(os.path.join(args.out, f"rank{rank}.npz"), *[w.numpy() for w in model.weights])
    with open(os.path.join(args.out, f"rank{rank}.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
