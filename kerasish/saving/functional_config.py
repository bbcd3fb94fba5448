"""A functional model's config (Keras's ``layers`` / ``inbound_nodes`` / ``input_layers`` /
``output_layers``) and the model back from it, in Keras 3's dialect and tf.keras 2's.

Node indices follow Keras: in ``input_layers``/``output_layers`` a nested functional model's
calls count from 1 (Keras reserves 0 for the model's own node); inside ``inbound_nodes`` Keras 3
counts from 0, while tf.keras 2 counts from 1 for nested functional models and for Sequential
models that start with an InputLayer.
"""
from __future__ import annotations

from .. import utils
from ..symbolic import is_keras_tensor
from .serialization import deserialization_scope, deserialize_keras_object
from .serialization import serialize_keras_object

# Ops Keras 3 lists among a functional model's layers. NotEqual only computes the mask of an
# Embedding(mask_zero=True), which kerasish layers pass on by themselves.
_MASK_OPS = ("NotEqual",)


def _is_functional(layer):
    from ..models import Functional

    return isinstance(layer, Functional)


# -- get_config -------------------------------------------------------------------------------

def _recorded_mask(node):
    """The ``mask`` Keras's ``__call__`` puts in a node's kwargs (one None per input tensor)
    when the layer's ``call`` takes ``mask`` and the call has one tensor argument; else False."""
    from ..layers.layer import _call_signature
    from ..layers.merging import Merge

    layer = node.layer
    if "mask" in node.kwargs or isinstance(layer, Merge):  # Keras's Merge.call has no mask
        return False
    tensor_args = [a for a in list(node.args) + list(node.kwargs.values())
                   if any(is_keras_tensor(t) for t in utils.flatten(a))]
    if not _call_signature(type(layer))[1] or len(tensor_args) != 1:
        return False
    return utils.map_structure(lambda _: None, tensor_args[0])


def _serialize_node(node, own_nodes):
    def tensor(x):
        if not is_keras_tensor(x):
            return x
        layer, index, tensor_index = x._keras_history
        foreign = sum(1 for n in layer._inbound_nodes[:index] if n not in own_nodes)
        return {"class_name": "__keras_tensor__", "config": {
            "shape": x.shape, "dtype": x.dtype,
            "keras_history": [layer.name, index - foreign, tensor_index]}}

    args, kwargs = list(node.args), dict(node.kwargs)
    if hasattr(node.layer, "_keras_call_arguments"):  # an op (kerasish.ops): Keras's form
        args, kwargs = node.layer._keras_call_arguments(node)
    args, kwargs = utils.map_structure(tensor, args), utils.map_structure(tensor, kwargs)
    mask = _recorded_mask(node)
    if mask is not False:
        kwargs["mask"] = mask
    return {"args": serialize_keras_object(args), "kwargs": serialize_keras_object(kwargs)}


def functional_get_config(model):
    """``model.get_config()`` of a functional model, as Keras 3 writes it.

    >>> functional_get_config(model)["input_layers"]
    ['input_layer', 0, 0]
    """
    own_nodes = {node for nodes in model._nodes_by_depth.values() for node in nodes}
    kept_index = {}
    for layer in getattr(model, "operations", model.layers):
        kept = 1 if _is_functional(layer) else 0
        for index, node in enumerate(layer._inbound_nodes):
            if node in own_nodes:
                kept_index[(id(layer), index)] = kept
                kept += 1
    layer_configs = []
    for layer in getattr(model, "operations", model.layers):
        entry = (layer._keras_op_config() if hasattr(layer, "_keras_op_config")
                 else serialize_keras_object(layer))
        entry["name"] = layer.name
        entry["inbound_nodes"] = [_serialize_node(node, own_nodes) for node in layer._inbound_nodes
                                  if node in own_nodes and node.input_tensors]
        layer_configs.append(entry)

    def reference(tensor):
        layer, index, tensor_index = tensor._keras_history
        return [layer.name, kept_index[(id(layer), index)], tensor_index]

    return {"name": model.name, "trainable": model.trainable, "layers": layer_configs,
            "input_layers": utils.map_structure(reference, model._inputs_struct),
            "output_layers": utils.map_structure(reference, model._outputs_struct)}


# -- from_config ------------------------------------------------------------------------------

class _NotReady(Exception):
    """A node's inputs do not exist yet (its parent layer has not been called that often)."""


def _is_mask_op(layer_data, mask_ops=frozenset()):
    if layer_data["class_name"] in _MASK_OPS:
        return True
    # Masking's mask, any(not_equal(x, mask_value), axis=-1): an Any fed only by mask ops.
    sources = [t["config"]["keras_history"][0] for node in layer_data.get("inbound_nodes") or []
               if isinstance(node, dict) for t in node.get("args") or []
               if isinstance(t, dict) and t.get("class_name") == "__keras_tensor__"]
    return layer_data["class_name"] == "Any" and bool(sources) and set(sources) <= mask_ops


def _is_reference(value):
    return (isinstance(value, (list, tuple)) and len(value) in (3, 4) and
            isinstance(value[0], str) and isinstance(value[1], int) and
            isinstance(value[2], int))


class _Graph:
    """The layers rebuilt so far, and how to find the tensors a config refers to."""

    def __init__(self, legacy):
        self.legacy = legacy
        self.layers = {}
        self.skip_first = set()  # tf.keras 2: models whose node 0 is their own
        self.mask_ops = set()

    def tensor(self, name, node_index, tensor_index, in_node=True):
        if name in self.mask_ops:
            return _MASK_OP
        if name not in self.layers:
            raise ValueError(f"Unknown layer: {name}")
        layer = self.layers[name]
        if self.legacy and name in self.skip_first:
            node_index -= 1
        elif not self.legacy and not in_node and _is_functional(layer):
            node_index -= 1
        if node_index >= len(layer._inbound_nodes):
            raise _NotReady(name)
        return layer._inbound_nodes[node_index].outputs[tensor_index]

    def revive(self, value):
        """Node data (args/kwargs) with ``__keras_tensor__`` entries replaced by tensors."""
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            return self.tensor(*value["config"]["keras_history"])
        if isinstance(value, dict) and not ("class_name" in value and "config" in value):
            return {k: self.revive(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.revive(v) for v in value]
        return deserialize_keras_object(value)

    def call_arguments(self, layer, node_data):
        if isinstance(node_data, dict):
            args = self.revive(node_data.get("args", []))
            kwargs = self.revive(node_data.get("kwargs", {}))
        else:  # tf.keras 2: [[name, node, tensor, kwargs], ...] for the one input (list)
            tensors = [self.tensor(*item[:3]) for item in node_data]
            kwargs = dict(node_data[-1][3]) if node_data and len(node_data[-1]) > 3 else {}
            kwargs = {k: self.tensor(*v[:3]) if _is_reference(v) and v[0] in self.layers else v
                      for k, v in kwargs.items()}
            args = [tensors[0] if len(tensors) == 1 else tensors]
        if any(x is _MASK_OP for x in utils.flatten(args)):
            raise NotImplementedError(f"Layer '{layer.name}' takes the output of a Keras op as "
                                      "an input; kerasish rebuilds only layers.")
        from ..layers.layer import _call_signature

        takes_mask = _call_signature(type(layer))[1]
        if kwargs.get("mask") is _MASK_OP or ("mask" in kwargs and not takes_mask):
            del kwargs["mask"]  # kerasish layers pass masks on by themselves
        return args, kwargs


_MASK_OP = object()


def _replay(graph, layer_datas, pending):
    """Calls every layer on its inputs, node by node, in config order; a node whose inputs do
    not exist yet waits for a later round (layers shared at different depths)."""
    while any(pending.values()):
        progressed = False
        for data in layer_datas:
            queue = pending.get(data["name"])
            while queue:
                layer = graph.layers[data["name"]]
                try:
                    args, kwargs = graph.call_arguments(layer, queue[0])
                except _NotReady:
                    break
                getattr(layer, "replay_call", layer)(*args, **kwargs)
                queue.pop(0)
                progressed = True
        if not progressed:
            stuck = sorted(name for name, queue in pending.items() if queue)
            raise ValueError(f"The model config cannot be rebuilt: the inputs of the layers "
                             f"{stuck} never become available.")


def _map_references(graph, value):
    if _is_reference(value):
        return graph.tensor(*value[:3], in_node=False)
    if isinstance(value, dict):
        return {k: _map_references(graph, v) for k, v in value.items()}
    return [_map_references(graph, v) for v in value]


def functional_from_config(cls, config, custom_objects=None):
    """A functional model of class ``cls`` from its config, by calling its layers again.

    >>> model = functional_from_config(Functional, config)
    """
    layer_datas = config["layers"]
    legacy = any(isinstance(node, list) for data in layer_datas
                 for node in data.get("inbound_nodes", []))
    graph = _Graph(legacy)
    pending = {}
    with deserialization_scope(custom_objects, True):
        for data in layer_datas:
            name = data["name"]
            if _is_mask_op(data, graph.mask_ops):
                graph.mask_ops.add(name)
                continue
            if str(data.get("module") or "").startswith("keras.src.ops"):
                from ..ops._symbolic import op_layer_from_config

                layer = op_layer_from_config(data)  # NOTE: resolved in kerasish.ops only
            else:
                layer = deserialize_keras_object(data)
            graph.layers[name] = layer
            pending[name] = list(data.get("inbound_nodes") or [])
            inner_layers = (data.get("config") or {}).get("layers") or [{}]
            if _is_functional(layer) or (data["class_name"] == "Sequential" and
                                         inner_layers[0].get("class_name") == "InputLayer"):
                graph.skip_first.add(name)
        _replay(graph, layer_datas, pending)
    inputs = _map_references(graph, config["input_layers"])
    outputs = _map_references(graph, config["output_layers"])
    if legacy:  # tf.keras 2 nests even a single input or output
        inputs = inputs[0] if isinstance(inputs, list) and len(inputs) == 1 else inputs
        outputs = outputs[0] if isinstance(outputs, list) and len(outputs) == 1 else outputs
    trainable = config.get("trainable")
    return cls(inputs=inputs, outputs=outputs, name=config.get("name"),
               trainable=True if trainable is None else trainable)
