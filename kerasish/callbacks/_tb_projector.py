"""The embedding projector's files for the TensorBoard callback: ``projector_config.pbtxt`` at
the top of the log folder, each embedding as a TSV tensor file beside it, the labels as
``metadata.tsv`` and, for image inputs, a sprite sheet. TensorBoard reads ``tensor_path``
files directly, so no TensorFlow checkpoint is needed."""
from __future__ import annotations

import os

import numpy as np

import engine
from engine import backend

from .. import data as data_module
from .. import utils
from ..saving.atomic import atomic_write
from ..summary._lib import tb
from ..summary.png import encode_png
from ._tb_graph import _functional
from ._tb_images import is_image_batch, sprite

METADATA_FILE = "metadata.tsv"
SPRITE_FILE = "sprite.png"


def layer_outputs(model, inputs, names=None):
    """``{layer name: output array}`` of the layers of a functional or Sequential model on
    ``inputs`` (inference mode); ``names`` limits which layers are kept."""
    functional = _functional(model)
    outputs = {}

    def record(layer):
        def call(*args, **kwargs):
            result = layer(*args, **{**kwargs, "training": False})
            if (names is None or layer.name in names) and layer.name not in outputs:
                first = utils.flatten(result)[0]
                outputs[layer.name] = backend.to_numpy(getattr(first, "data", first))
            return result
        return call

    with engine.no_grad():
        functional._run_through_graph(data_module.to_device_structure(inputs),
                                      layer_fn=record)
    return outputs


def default_layer(model):
    """The layer whose output is the embedding when ``embeddings_data`` is given and no layer
    is named: the last layer before the output with a 2-D (batch, features) output."""
    layers = [layer for layer in _functional(model).layers[:-1]
              if type(layer).__name__ != "InputLayer"]
    for layer in reversed(layers):
        if len(getattr(layer.output, "shape", ())) == 2:
            return layer.name
    raise ValueError("No layer with a (batch, features) output to embed: pass "
                     "`embeddings_layer_names`.")


def embedded_layers(model, data=None, layer_names=None):
    """Names of the layers whose embeddings are written."""
    if data is not None:
        return list(layer_names) if layer_names else [default_layer(model)]
    return [layer.name for layer in model.layers if type(layer).__name__ == "Embedding"
            and (layer_names is None or layer.name in layer_names)]


def check_metadata(model, metadata, data=None, layer_names=None):
    """Keras's check: every layer named in a metadata dict must be embedded."""
    if isinstance(metadata, dict):
        unknown = sorted(set(metadata) - set(embedded_layers(model, data, layer_names)))
        if unknown:
            raise ValueError("Unrecognized `Embedding` layer names passed to "
                             "`keras.callbacks.TensorBoard` `embeddings_metadata` argument: "
                             f"{unknown}")


def _write_bytes(path, content):
    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(content)
    atomic_write(path, write)


def _write_text(path, text):
    _write_bytes(path, text.encode("utf-8"))


def _write_tsv(path, matrix):
    _write_text(path, "".join("\t".join(f"{v:.6g}" for v in row) + "\n" for row in matrix))


def _metadata_for(metadata, layer_name, rows, labels_file):
    if metadata is None:
        return None
    if isinstance(metadata, str):
        return metadata
    if isinstance(metadata, dict):
        return metadata.get(layer_name)
    return labels_file if labels_file and rows == len(metadata) else None


def write_projector(log_dir, model, metadata=None, data=None, layer_names=None):
    """Writes the projector's files for ``model`` now; returns the config's path.

    Args:
        metadata: Keras's ``embeddings_metadata`` (a file name for every embedding, or
            ``{layer name: file name}``, relative to ``log_dir``), or a sequence of labels,
            written to ``metadata.tsv`` and used for each embedding with as many rows.
        data: Inputs whose layer outputs are embedded (Keras 2's ``embeddings_data``).
        layer_names: Layers to embed: their outputs on ``data``, else their ``embeddings``.
    """
    os.makedirs(log_dir, exist_ok=True)
    labels_file = None
    if metadata is not None and not isinstance(metadata, (str, dict)):
        labels = [str(v).replace("\t", " ").replace("\n", " ") for v in np.ravel(metadata)]
        _write_text(os.path.join(log_dir, METADATA_FILE), "".join(f"{v}\n" for v in labels))
        labels_file, metadata = METADATA_FILE, labels
    config = tb("plugins.projector.projector_config_pb2").ProjectorConfig()
    weighted = [layer for layer in model.layers if layer.weights]
    names = embedded_layers(model, data, layer_names)
    for index, layer in enumerate(weighted):
        if data is not None or layer.name not in names:
            continue
        matrix = backend.to_numpy(layer.embeddings.data)
        _add(config, log_dir, f"layer_with_weights-{index}/embeddings/.ATTRIBUTES/"
             "VARIABLE_VALUE", f"{layer.name}_embeddings.tsv", matrix,
             _metadata_for(metadata, layer.name, len(matrix), labels_file))
    if data is not None:
        outputs = layer_outputs(model, data, set(names))
        sheet = sprite(np.asarray(data)) if is_image_batch(data) else None
        if sheet is not None:
            _write_bytes(os.path.join(log_dir, SPRITE_FILE), encode_png(sheet[0]))
        for name in names:
            matrix = outputs[name].reshape(len(outputs[name]), -1)
            entry = _add(config, log_dir, f"{name}/output", f"{name}_output.tsv", matrix,
                         _metadata_for(metadata, name, len(matrix), labels_file))
            if sheet is not None:
                entry.sprite.image_path = SPRITE_FILE
                entry.sprite.single_image_dim.extend(sheet[1])
    from google.protobuf import text_format  # installed with tensorboard

    path = os.path.join(log_dir, "projector_config.pbtxt")
    _write_text(path, text_format.MessageToString(config))
    return path


def _add(config, log_dir, tensor_name, file_name, matrix, metadata_path):
    _write_tsv(os.path.join(log_dir, file_name), matrix)
    entry = config.embeddings.add(tensor_name=tensor_name, tensor_path=file_name)
    entry.tensor_shape.extend(matrix.shape)
    if metadata_path:
        entry.metadata_path = metadata_path
    return entry
