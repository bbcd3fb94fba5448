"""TensorBoard: event files that the real ``tensorboard`` reads, laid out and tagged as Keras
3 writes them (``train/``, ``validation/``, ``epoch_<metric>``, ``<weight path>/histogram``),
plus what Keras cannot write without TensorFlow: the op graph with layer scopes, activation
histograms, input images and a working embedding projector."""
from __future__ import annotations

import os
import time

import numpy as np
from engine import backend

from .. import distribution
from ..summary import ops as summary_ops
from ..summary._lib import tb
from ..summary.writer import SummaryWriter
from ._tb_graph import model_graph_def
from ._tb_images import input_images, is_image_batch, weight_as_images
from ._tb_projector import check_metadata, layer_outputs, write_projector
from .callback import Callback


def _is_sequential(model):
    from ..models.sequential import Sequential  # here: models import the callbacks

    return isinstance(model, Sequential)


def _is_graph_model(model):
    from ..models.functional import Functional

    return isinstance(model, Functional) or _is_sequential(model)


class _NoWriter:
    """What ranks other than 0 write to under a distribution: nothing."""

    closed = False

    def write_summary(self, *args, **kwargs):
        pass

    write_graph = flush = close = write_summary


_NO_WRITER = _NoWriter()


class TensorBoard(Callback):
    """Writes logs for TensorBoard: ``tensorboard --logdir <log_dir>``.

    Args:
        log_dir: The folder of the logs; ``train/`` and ``validation/`` are made in it.
        histogram_freq: Every how many epochs to write weight histograms (0: never).
        write_graph: Write the model's config (tag ``keras``) and its op graph.
        write_images: With ``histogram_freq``, also draw the weights as images.
        write_steps_per_second: Also log ``epoch_steps_per_second``.
        update_freq: ``"epoch"``, ``"batch"`` or N: log ``batch_<metric>`` every N batches.
        profile_batch: Only 0 (no profiling) is supported.
        embeddings_freq: Every how many epochs to write the embedding projector's files.
        embeddings_metadata: A metadata file name for every embedding, a dict
            ``{layer name: file name}`` (relative to ``log_dir``, as in Keras), or a sequence
            of labels (written to ``metadata.tsv``).
        embeddings_data: Inputs whose layer outputs are embedded instead of the weights of
            ``Embedding`` layers (Keras 2); an image batch also gives the projector a sprite.
        embeddings_layer_names: Layers to embed (default: every ``Embedding`` layer, or with
            ``embeddings_data`` the last layer before the output with a 2-D output).
        activation_data: Inputs whose every layer output is histogrammed at each histogram
            epoch (``<layer>/activations/histogram``); an image batch is also written once as
            ``input_images`` when ``write_images``.

    >>> tensorboard = TensorBoard("logs/run1", histogram_freq=1)
    >>> model.fit(x, y, epochs=2, callbacks=[tensorboard])
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None, *, embeddings_data=None,
                 embeddings_layer_names=None, activation_data=None):
        super().__init__()
        tb("compat.proto.event_pb2")  # fails now, naming the extra, if tensorboard is missing
        if update_freq != "epoch" and update_freq != "batch" and not (
                isinstance(update_freq, int) and update_freq > 0):
            raise ValueError("`update_freq` must be 'epoch', 'batch' or a positive integer. "
                             f"Received: update_freq={update_freq!r}")
        if profile_batch:
            raise ValueError("Profiling needs TensorFlow's profiler, which kerasish does not "
                             f"have: use profile_batch=0. Received: profile_batch={profile_batch}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self.embeddings_data = embeddings_data
        self.embeddings_layer_names = embeddings_layer_names
        self.activation_data = activation_data
        self._writers = {}
        self._graph_written_for = None
        self._global_train_batch = 0
        self._epoch_start = (0, time.time())
        self._in_fit = False

    # -- writers -------------------------------------------------------------------------------
    def _writer(self, name):
        if not distribution.is_chief():
            return _NO_WRITER
        writer = self._writers.get(name)
        if writer is None or writer.closed:
            writer = self._writers[name] = SummaryWriter(os.path.join(self.log_dir, name))
        return writer

    def _scalars(self, writer_name, values, step):
        writer = self._writer(writer_name)
        for tag, value in values.items():
            writer.write_summary(summary_ops.scalar_pb(tag, value), step)
        writer.flush()

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # -- hooks ---------------------------------------------------------------------------------
    def set_model(self, model):
        super().set_model(model)
        if not distribution.is_chief():  # one set of logs per job: rank 0's
            return
        if self.write_graph and model is not None and self._graph_written_for is not model:
            self._graph_written_for = model
            self._write_model_graph(model)
        if self.embeddings_freq and model is not None:
            check_metadata(model, self.embeddings_metadata, self.embeddings_data,
                           self.embeddings_layer_names)

    def on_train_begin(self, logs=None):
        self._in_fit = True
        self._global_train_batch = 0
        if self.write_images and distribution.is_chief() and is_image_batch(self.activation_data):
            writer = self._writer("train")
            writer.write_summary(summary_ops.image_pb(
                "input_images", input_images(self.activation_data)), 0)

    def on_train_end(self, logs=None):
        self._in_fit = False
        self._close_writers()

    def on_predict_end(self, logs=None):
        self._close_writers()  # outside fit nothing more comes: release the files

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = (self._iterations(), time.time())

    def on_train_batch_end(self, batch, logs=None):
        self._global_train_batch += 1
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        self._scalars("train", {f"batch_{k}": v for k, v in (logs or {}).items()},
                      self._global_train_batch)

    def on_test_end(self, logs=None):
        if self.model.optimizer is not None:
            self._scalars("validation", {f"evaluation_{k}_vs_iterations": v
                                         for k, v in (logs or {}).items()}, self._iterations())
        if not self._in_fit:
            self._close_writers()

    def on_epoch_end(self, epoch, logs=None):
        if not distribution.is_chief():
            return
        # NOTE: Keras's quirk, kept: with update_freq=N the epoch's summaries are written only
        # if the epoch ended on a multiple of N batches (its record_if stays in effect).
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq == 0:
            self._log_epoch_metrics(epoch, logs or {})
            if self.histogram_freq and epoch % self.histogram_freq == 0:
                self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            write_projector(self.log_dir, self.model, self.embeddings_metadata,
                            self.embeddings_data, self.embeddings_layer_names)

    # -- what is written -----------------------------------------------------------------------
    def _iterations(self):
        optimizer = self.model.optimizer
        return 0 if optimizer is None else int(backend.to_numpy(optimizer.iterations.data))

    def _log_epoch_metrics(self, epoch, logs):
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        if self.model.optimizer is not None:
            train["learning_rate"] = float(self.model.optimizer.learning_rate)
        if self.write_steps_per_second:
            start_iterations, start_time = self._epoch_start
            train["steps_per_second"] = (self._iterations() - start_iterations) / max(
                time.time() - start_time, 1e-9)
        self._scalars("train", {f"epoch_{k}": v for k, v in train.items()}, epoch)
        val = {f"epoch_{k[4:]}": v for k, v in logs.items() if k.startswith("val_")}
        if val:
            self._scalars("validation", val, epoch)

    def _weight_tag(self, layer, weight):
        path = getattr(weight, "path", None) or f"{layer.name}/{weight.name}"
        # Keras 3 builds a Sequential's layers inside its name scope: the path starts with it.
        if _is_sequential(self.model) and not path.startswith(self.model.name + "/"):
            path = f"{self.model.name}/{path}"
        return path.replace(":", "_")

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                tag = self._weight_tag(layer, weight)
                values = backend.to_numpy(weight.data)
                writer.write_summary(summary_ops.histogram_pb(tag + "/histogram", values), epoch)
                images = weight_as_images(values) if self.write_images else None
                if images is not None:
                    writer.write_summary(summary_ops.image_pb(tag + "/image", images), epoch)
        if self.activation_data is not None:
            prefix = f"{self.model.name}/" if _is_sequential(self.model) else ""
            for name, values in layer_outputs(self.model, self.activation_data).items():
                writer.write_summary(summary_ops.histogram_pb(
                    f"{prefix}{name}/activations/histogram", np.asarray(values)), epoch)
        writer.flush()

    def _write_model_graph(self, model):
        writer = self._writer("train")
        # As Keras: the config (the conceptual graph) only for Sequential and Functional models.
        if _is_graph_model(model):
            config = model.to_json()
            metadata = tb("compat.proto.summary_pb2").SummaryMetadata()
            metadata.plugin_data.plugin_name = "graph_keras_model"
            metadata.plugin_data.content = b"1"
            summary = tb("compat.proto.summary_pb2").Summary()
            summary.value.add(tag="keras", metadata=metadata, tensor=tb(
                "util.tensor_util").make_tensor_proto(np.array(config.encode(), dtype=object)))
            writer.write_summary(summary, 0)
        graph = model_graph_def(model)
        if graph is not None:
            writer.write_graph(graph)
        writer.flush()
