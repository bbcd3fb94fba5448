"""The model as a TensorFlow ``GraphDef`` for TensorBoard's Graphs dashboard: every layer is a
name scope (``conv1/Conv2D``, ``conv1/kernel``, ``conv1/Relu``), so the graph reads like the
model. Keras 3 writes no op graph; TensorBoard draws this one as it drew TF 1's graphs."""
from __future__ import annotations

import numpy as np

from ..summary._lib import tb

# Keras layer class -> the TF op that does its work (others are drawn as one op of their name).
_MAIN_OP = {"Dense": "MatMul", "Conv2D": "Conv2D", "Conv1D": "Conv1D", "MaxPooling2D": "MaxPool",
            "AveragePooling2D": "AvgPool", "Flatten": "Reshape", "Reshape": "Reshape",
            "Concatenate": "ConcatV2", "Add": "AddV2", "Multiply": "Mul",
            "Embedding": "GatherV2", "BatchNormalization": "FusedBatchNormV3",
            "Dropout": "Dropout", "Activation": None}
_ACTIVATION_OP = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax",
                  "elu": "Elu", "selu": "Selu", "softplus": "Softplus", "gelu": "Gelu"}


def _shape_proto(shape):
    proto = tb("compat.proto.tensor_shape_pb2").TensorShapeProto()
    for size in shape:
        proto.dim.add(size=-1 if size is None else int(size))
    return proto


def _add_node(graph, name, op, inputs=(), shapes=None, dtype=None):
    attr_value_pb2 = tb("compat.proto.attr_value_pb2")
    node = graph.node.add(name=name, op=op, input=list(inputs))
    if dtype is not None:
        type_enum = tb("compat.tensorflow_stub.dtypes").as_dtype(
            np.dtype(dtype)).as_datatype_enum
        node.attr["dtype"].CopyFrom(attr_value_pb2.AttrValue(type=type_enum))
    if shapes is not None:
        node.attr["_output_shapes"].CopyFrom(attr_value_pb2.AttrValue(
            list=attr_value_pb2.AttrValue.ListValue(shape=[_shape_proto(s) for s in shapes])))
    return name


def _activation_name(layer):
    activation = getattr(layer, "activation", None)
    name = getattr(activation, "__name__", None)
    return None if name in (None, "linear") else name


def _layer_ops(graph, layer, scope, inputs, output_shapes):
    """Adds the nodes of one call of ``layer`` under ``scope``; returns the output node's name."""
    weights = [_add_node(graph, f"{scope}/{w.name}", "VariableV2", shapes=[w.shape],
                         dtype=w.dtype) for w in layer.weights]
    kind = type(layer).__name__
    activation = _activation_name(layer)
    main = _MAIN_OP.get(kind, kind)
    steps = []  # (op, extra inputs)
    if main is not None:
        if kind in ("Dense", "Conv2D", "Conv1D") and getattr(layer, "use_bias", False):
            steps = [(main, weights[:1]), ("BiasAdd", weights[1:2])]
        else:
            steps = [(main, weights)]
    if activation:
        steps.append((_ACTIVATION_OP.get(activation, activation.capitalize()), []))
    previous = list(inputs)
    for i, (op, extra) in enumerate(steps):
        last = i == len(steps) - 1
        previous = [_add_node(graph, f"{scope}/{op}", op, previous + extra,
                              shapes=output_shapes if last else None)]
    return previous[0] if previous else inputs[0]


def _functional(model):
    return getattr(model, "_functional", None) or model


def model_graph_def(model):
    """A ``GraphDef`` of a functional or Sequential model (None for a subclassed one)."""
    functional = _functional(model)
    nodes_by_depth = getattr(functional, "_nodes_by_depth", None)
    if not nodes_by_depth:
        return None
    graph = tb("compat.proto.graph_pb2").GraphDef()
    names = {}  # id(KerasTensor) -> graph input reference
    calls = {}  # layer -> number of calls drawn so far
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            layer = node.layer
            shapes = [tuple(t.shape) for t in node.outputs]
            if node.is_input:
                dtype = getattr(node.outputs[0], "dtype", "float32")
                output = _add_node(graph, layer.name, "Placeholder", shapes=shapes, dtype=dtype)
            else:
                count = calls.get(layer, 0)
                calls[layer] = count + 1
                scope = layer.name if count == 0 else f"{layer.name}_{count}"
                inputs = [names[id(t)] for t in node.input_tensors if id(t) in names]
                output = _layer_ops(graph, layer, scope, inputs, shapes)
            for index, tensor in enumerate(node.outputs):
                names[id(tensor)] = output if index == 0 else f"{output}:{index}"
    return graph
