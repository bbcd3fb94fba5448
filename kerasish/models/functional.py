"""Functional models: a graph of layer calls, ordered the way Keras's ``map_graph`` orders it."""
from __future__ import annotations

import collections

import numpy as np

from engine import Tensor, ops

from .. import utils
from ..layers.input_spec import InputSpec
from ..symbolic import KerasTensor, is_keras_tensor
from .model import Model


def _build_map(inputs, outputs):
    """Nodes from inputs to outputs by a depth-first walk from the outputs (Keras's order).

    Iterative (no recursion limit on long chains), visiting parents in the same order as
    Keras's recursive ``_build_map_helper``. Returns (nodes in decreasing depth, layer order).
    """
    input_ids = {id(t) for t in inputs}
    finished, in_progress = set(), set()
    ordered, layer_indices = [], {}
    for output in outputs:
        stack = [(output, None)]  # (tensor, iterator over its node's inputs once expanded)
        while stack:
            tensor, parents = stack[-1]
            layer, node_index, _ = tensor._keras_history
            node = layer._inbound_nodes[node_index]
            if parents is None:
                if node in finished:
                    stack.pop()
                    continue
                if node in in_progress:
                    raise ValueError(
                        f"Tensor {tensor} from layer '{layer.name}' is part of a cycle.")
                layer_indices.setdefault(layer, len(layer_indices))
                in_progress.add(node)
                expand = not node.is_input and id(tensor) not in input_ids
                parents = iter(node.input_tensors if expand else ())
                stack[-1] = (tensor, parents)
            parent = next(parents, None)
            if parent is not None:
                stack.append((parent, None))
                continue
            stack.pop()
            finished.add(node)
            in_progress.discard(node)
            ordered.append(node)
    return ordered, layer_indices


def map_graph(inputs, outputs):
    """(nodes_by_depth, layers in Keras order) of the graph from ``inputs`` to ``outputs``."""
    ordered, layer_indices = _build_map(inputs, outputs)
    node_depths, layer_depths = {}, {}
    for node in reversed(ordered):
        depth = max(node_depths.setdefault(node, 0), layer_depths.get(node.layer, 0))
        layer_depths[node.layer] = depth
        node_depths[node] = depth
        for parent in node.parent_nodes:
            node_depths[parent] = max(depth + 1, node_depths.get(parent, 0))
    for t in inputs:  # inputs not connected to any output still belong to the model
        layer = t._keras_history[0]
        if layer not in layer_depths:
            layer_depths[layer] = 0
            layer_indices[layer] = -1
            node_depths[layer._inbound_nodes[0]] = 0
    nodes_by_depth = collections.defaultdict(list)
    for node, depth in node_depths.items():
        nodes_by_depth[depth].append(node)
    layers_by_depth = collections.defaultdict(list)
    for layer, depth in layer_depths.items():
        layers_by_depth[depth].append(layer)
    layers = []
    for depth in sorted(layers_by_depth, reverse=True):
        layers.extend(sorted(layers_by_depth[depth], key=lambda x: layer_indices[x]))
    _check_computable(inputs, nodes_by_depth)
    names = [layer.name for layer in layers]
    for name in names:
        if names.count(name) != 1:
            raise ValueError(f'The name "{name}" is used {names.count(name)} times in the model. '
                             "All operation names should be unique.")
    return dict(nodes_by_depth), layers


def _check_computable(inputs, nodes_by_depth):
    computable = {id(t) for t in inputs}
    done = []
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            for t in node.input_tensors:
                if id(t) not in computable:
                    raise ValueError(
                        f"Graph disconnected: cannot find parent for tensor {t} at layer "
                        f"'{node.layer.name}'. The following previous layers were accessed "
                        f"without issue: {done}")
            done.append(node.layer.name)
            if not node.is_input:  # an Input that is not a model input feeds nothing
                computable.update(id(t) for t in node.outputs)


class Functional(Model):
    """A model defined by its input and output KerasTensors: ``Model(inputs, outputs)``."""

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        for t in utils.flatten(inputs) + utils.flatten(outputs):
            if not is_keras_tensor(t) or t._keras_history is None:
                raise ValueError(
                    "All `inputs` and `outputs` values must be KerasTensors returned by "
                    f"`keras.Input` or by layers called on them. Received: {t!r}")
        for t in utils.flatten(inputs):
            if not t._keras_history[0]._inbound_nodes[0].is_input:
                raise ValueError(f"Model inputs must come from `keras.Input`. Received: {t!r}")
        self.__dict__.pop("_manual_input_spec", None)  # Layer.__init__'s None: use the inputs'
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self.inputs = utils.flatten(inputs)
        self.outputs = utils.flatten(outputs)
        self._nodes_by_depth, layers = map_graph(self.inputs, self.outputs)
        self._layers.clear()
        self._layers.extend(layers)
        self.built = True

    @property
    def layers(self):
        """The graph's layers in Keras's order; ops called on KerasTensors are not layers
        (Keras 3): they are in ``operations``."""
        return [layer for layer in self._layers if not getattr(layer, "_is_op", False)]

    @property
    def operations(self):
        """Every layer and op of the graph, in Keras's order (what summaries and configs list)."""
        return list(self._layers)

    @property
    def input(self):
        return self.inputs[0] if len(self.inputs) == 1 else list(self.inputs)

    @property
    def output(self):
        return self.outputs[0] if len(self.outputs) == 1 else list(self.outputs)

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input_spec(self):
        """One InputSpec per input (Keras's): its shape without the batch size and its name (the
        dict key, or the Input's name); a trailing axis of 1 may be added or left out."""
        if "_manual_input_spec" in self.__dict__:
            return self.__dict__["_manual_input_spec"]
        if isinstance(self._inputs_struct, dict):
            if not all(is_keras_tensor(t) for t in self._inputs_struct.values()):
                return None  # a nested dict: no checks (Keras)
            named = [(k, self._inputs_struct[k]) for k in sorted(self._inputs_struct)]
        else:
            named = [(t._keras_history[0].name, t) for t in self.inputs]
        return [InputSpec(shape=(None,) + tuple(t.shape)[1:], allow_last_axis_squeeze=True,
                          name=name, optional=getattr(t._keras_history[0], "optional", False))
                for name, t in named]

    @input_spec.setter
    def input_spec(self, value):
        self.__dict__["_manual_input_spec"] = value

    def build(self, input_shape):
        pass

    def _flat_inputs(self, inputs):
        if isinstance(inputs, dict):
            if isinstance(self._inputs_struct, dict):
                keys = list(self._inputs_struct)
                lookup = dict(self._inputs_struct)
            else:
                keys = [t._keras_history[0].name for t in self.inputs]
                lookup = dict(zip(keys, self.inputs))
            for key in keys:
                if key not in inputs:
                    raise ValueError(
                        f'Missing data for input "{key}". You passed a data dictionary with '
                        f"keys {list(inputs.keys())}. Expected the following keys: {keys}")
            if isinstance(self._inputs_struct, dict):
                return utils.flatten({k: inputs[k] for k in lookup})
            return [inputs[k] for k in keys]
        flat = utils.flatten(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != len(self.inputs):
            names = [t.name for t in self.inputs]
            raise ValueError(
                f'Layer "{self.name}" expects {len(self.inputs)} input(s), but it received '
                f"{len(flat)} input tensors. Inputs received: {names}" if len(names) == 1 else
                f'Layer "{self.name}" expects {len(self.inputs)} named input(s) with keys '
                f"{names}, but it received {len(flat)} input tensors. Pass inputs as a dict, "
                f"e.g. `layer({{{', '.join(repr(n) + ': ...' for n in names)}}})`.")
        return flat

    def call(self, inputs, training=None, mask=None):
        return self._run_through_graph(inputs, mask=mask, adjust_rank=True)

    def _convert_input_dtypes(self, flat):
        """Each numeric input in its Input's dtype, as Keras converts them (an int64 table
        column fed to a float32 Input computes in float32, not float64)."""
        out = []
        for x, ref in zip(flat, self.inputs):
            dtype = getattr(ref, "dtype", None)
            if isinstance(x, Tensor) and isinstance(dtype, (str, np.dtype)) and \
                    str(dtype) != "string" and x.dtype != np.dtype(dtype):
                mask = getattr(x, "_keras_mask", None)
                x = ops.cast(x, dtype)
                x._keras_mask = mask
            out.append(x)
        return out

    def _adjust_input_rank(self, flat):
        """Each input at its Input's rank: a trailing axis of 1 is squeezed or added (Keras)."""
        adjusted = []
        for i, (x, ref) in enumerate(zip(flat, self.inputs)):
            if x is None or not hasattr(x, "shape") or len(x.shape) == len(ref.shape):
                adjusted.append(x)
                continue
            rank, ref_shape = len(x.shape), tuple(ref.shape)
            if rank == len(ref_shape) + 1 and x.shape[-1] == 1:
                y = ops.squeeze(x, -1) if isinstance(x, Tensor) else x[..., 0]
            elif rank == len(ref_shape) - 1 and ref_shape[-1] == 1:
                y = ops.expand_dims(x, -1) if isinstance(x, Tensor) else x[..., None]
            else:
                raise ValueError(
                    f"Invalid input shape for input {x} with name '{ref._keras_history[0].name}'"
                    f" and path '{self._input_path(i)}'. Expected shape {ref_shape}, but input "
                    f"has incompatible shape {tuple(x.shape)}")
            if isinstance(y, Tensor):
                y._keras_mask = getattr(x, "_keras_mask", None)
            adjusted.append(y)
        return adjusted

    def _input_path(self, index):
        """Where flat input ``index`` sits in the inputs' structure: '', '0', 'key' (Keras)."""
        struct = self._inputs_struct
        if is_keras_tensor(struct):
            return ""
        if isinstance(struct, dict) and all(is_keras_tensor(t) for t in struct.values()):
            return str(sorted(struct)[index])  # flatten's order: sorted keys
        return str(index)

    def _run_through_graph(self, inputs, mask=None, layer_fn=None, adjust_rank=False):
        flat = self._flat_inputs(inputs)
        if adjust_rank:
            flat = self._adjust_input_rank(self._convert_input_dtypes(flat))
        values = {id(x): y for x, y in zip(self.inputs, flat)}
        if mask is not None:
            for y, m in zip(flat, utils.flatten(mask) if utils.is_nested(mask) else [mask]):
                if m is not None and hasattr(y, "_keras_mask"):
                    y._keras_mask = m
        uses = dict(self._tensor_uses())
        for depth in sorted(self._nodes_by_depth, reverse=True):
            for node in self._nodes_by_depth[depth]:
                if node.is_input or any(id(x) not in values for x in node.input_tensors):
                    continue
                args, kwargs = node.fill_in(values)
                layer = node.layer if layer_fn is None else layer_fn(node.layer)
                outputs = layer(*args, **kwargs)
                for x, y in zip(node.outputs, utils.flatten(outputs)):
                    values[id(x)] = y
                for x in node.input_tensors:  # NOTE: as Keras, drop what no node needs now
                    uses[id(x)] -= 1
                    if uses[id(x)] == 0:
                        del values[id(x)]
        return utils.pack_like(self._outputs_struct, [values[id(x)] for x in self.outputs])

    def _tensor_uses(self):
        """How many node inputs read each graph tensor (the model's outputs once more)."""
        uses = self.__dict__.get("_uses")
        if uses is None:
            uses = {id(x): 1 for x in self.outputs}
            for nodes in self._nodes_by_depth.values():
                for node in nodes:
                    if not node.is_input:
                        for x in node.input_tensors:
                            uses[id(x)] = uses.get(id(x), 0) + 1
            self.__dict__["_uses"] = uses
        return uses

    def compute_output_spec(self, inputs, *args, **kwargs):
        flat = self._flat_inputs(inputs)
        if all(tuple(x.shape) == ref.shape for x, ref in zip(flat, self.inputs)):
            return utils.map_structure(lambda t: KerasTensor(t.shape, t.dtype),
                                       self._outputs_struct)
        return self._run_through_graph(
            inputs, layer_fn=lambda layer: (lambda *a, **k: layer.compute_output_spec(*a, **k)))

    def compute_output_shape(self, input_shape):
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        specs = self.compute_output_spec([KerasTensor(s, t.dtype)
                                          for s, t in zip(shapes, self.inputs)])
        return utils.map_structure(lambda t: t.shape, specs)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        """Keras's functional config: ``name``, ``trainable``, ``layers`` (each with its
        ``inbound_nodes``), ``input_layers``, ``output_layers`` (docs/file-formats.md)."""
        from ..saving.functional_config import functional_get_config

        return functional_get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The model rebuilt from ``get_config()`` (Keras 3's or tf.keras 2's dialect)."""
        from ..saving.functional_config import functional_from_config

        return functional_from_config(cls, config, custom_objects=custom_objects)
