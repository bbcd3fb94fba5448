"""``keras.utils.model_to_dot`` and ``keras.utils.plot_model``: a model's graph in Graphviz.

``pydot`` (and, to render files, the Graphviz ``dot`` program) are needed, as in Keras; without
them these functions raise an ImportError that says what to install. The node labels are
Keras's HTML tables.
"""
from __future__ import annotations

import os
import sys

from .. import tree


def _pydot():
    try:
        import pydot
    except ImportError:
        return None
    return pydot


def check_pydot() -> bool:
    return _pydot() is not None


def check_graphviz() -> bool:
    """Whether pydot can run Graphviz (renders an empty graph to find out)."""
    pydot = _pydot()
    if pydot is None:
        return False
    try:
        pydot.Dot.create(pydot.Dot())
        return True
    except (OSError, pydot.PydotException):
        return False


def _activation_name(layer):
    activation = layer.activation
    return getattr(activation, "name", None) or getattr(activation, "__name__", None) or str(
        activation)


def _format_shape(shape):
    if shape is None:
        return "?"
    text = ", ".join(f"{k}: {v}" for k, v in shape.items()) if isinstance(shape, dict) \
        else f"{shape}"
    return text.replace("}", "").replace("{", "")


def make_layer_label(layer, show_layer_names, show_layer_activations, show_dtype, show_shapes,
                     show_trainable):
    """The node's HTML label: name and class, then activation, shapes, dtype, trainable."""
    class_name = type(layer).__name__
    colspan = max(1, int(show_dtype) + int(show_trainable) + (2 if show_shapes else 0))
    title = f"<b>{layer.name}</b> ({class_name})" if show_layer_names else f"<b>{class_name}</b>"
    table = ('<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
             f'<tr><td colspan="{colspan}" bgcolor="black"><font point-size="16" color="white">'
             f"{title}</font></td></tr>")
    if show_layer_activations and getattr(layer, "activation", None) is not None:
        table += (f'<tr><td bgcolor="white" colspan="{colspan}"><font point-size="14">'
                  f"Activation: <b>{_activation_name(layer)}</b></font></td></tr>")
    cols = []
    if show_shapes:
        input_shape = output_shape = None
        try:
            input_shape = tree.map_structure(lambda x: x.shape, layer.input)
            output_shape = tree.map_structure(lambda x: x.shape, layer.output)
        except (ValueError, AttributeError):
            pass
        if class_name != "InputLayer":
            cols.append('<td bgcolor="white"><font point-size="14">Input shape: '
                        f"<b>{_format_shape(input_shape)}</b></font></td>")
        cols.append('<td bgcolor="white"><font point-size="14">Output shape: '
                    f"<b>{_format_shape(output_shape)}</b></font></td>")
    if show_dtype:
        dtype = None
        try:
            dtype = tree.map_structure(lambda x: x.dtype, layer.output)
        except (ValueError, AttributeError):
            pass
        cols.append('<td bgcolor="white"><font point-size="14">Output dtype: '
                    f"<b>{dtype or '?'}</b></font></td>")
    if show_trainable and hasattr(layer, "trainable") and layer.weights:
        if layer.trainable:
            cols.append('<td bgcolor="forestgreen"><font point-size="14" color="white">'
                        "<b>Trainable</b></font></td>")
        else:
            cols.append('<td bgcolor="firebrick"><font point-size="14" color="white">'
                        "<b>Non-trainable</b></font></td>")
    if cols:
        table += f"<tr>{''.join(cols)}</tr>"
    return table + "</table>>"


def _add_node(dot, pydot, layer, options):
    node = pydot.Node(str(id(layer)), label=make_layer_label(layer, **options))
    node.set("fontname", "Helvetica")
    node.set("border", "0")
    node.set("margin", "0")
    dot.add_node(node)


def _add_edge(dot, pydot, src, dst):
    src_id, dst_id = str(id(src)), str(id(dst))
    if not dot.get_edge(src_id, dst_id):
        edge = pydot.Edge(src_id, dst_id)
        edge.set("penwidth", "2")
        dot.add_edge(edge)


def _check_built(model):
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling "
                         "`build()` or by calling the model on a batch of data.")


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True,
                 rankdir="TB", expand_nested=False, dpi=200, subgraph=False,
                 show_layer_activations=False, show_trainable=False, splines="ortho",
                 **kwargs):
    """The model's graph as a ``pydot.Dot`` (a ``pydot.Cluster`` with ``subgraph=True``): one
    node per layer, one edge per connection.

    Args:
        model: A built Sequential or functional model (any other layer: one node).
        show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable:
            What each node's label shows.
        rankdir: Graphviz direction: ``"TB"`` (vertical) or ``"LR"`` (horizontal).
        expand_nested: Draw nested models as clusters of their layers.
        dpi: Dots per inch.
        subgraph: Return a cluster to nest in another graph.
        splines: Graphviz's edge style.

    >>> dot = model_to_dot(model, show_shapes=True)   # doctest: +SKIP
    """
    from ..models import Functional, Sequential

    _check_built(model)
    pydot = _pydot()
    if pydot is None:
        raise ImportError("You must install pydot (`pip install pydot`) for model_to_dot to "
                          "work.")
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set("splines", splines)
        dot.set_node_defaults(shape="record")
    options = {"show_layer_names": show_layer_names,
               "show_layer_activations": show_layer_activations, "show_dtype": show_dtype,
               "show_shapes": show_shapes, "show_trainable": show_trainable}
    nested = (Functional, Sequential)
    if not isinstance(model, nested):
        _add_node(dot, pydot, model, options)
        return dot
    layers = list(model.layers)
    for layer in layers:
        if expand_nested and isinstance(layer, nested):
            dot.add_subgraph(model_to_dot(
                layer, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested,
                subgraph=True, show_layer_activations=show_layer_activations,
                show_trainable=show_trainable))
        else:
            _add_node(dot, pydot, layer, options)
    if isinstance(model, Sequential):
        for a, b in zip(layers, layers[1:]):
            while expand_nested and isinstance(a, nested):
                a = a.layers[-1]
            while expand_nested and isinstance(b, nested):
                b = b.layers[0]
            _add_edge(dot, pydot, a, b)
        return dot
    own_nodes = {id(n) for nodes in model._nodes_by_depth.values() for n in nodes}
    for layer in layers:
        for node in layer._inbound_nodes:
            if id(node) not in own_nodes:
                continue  # a call of the layer in another model
            for input_index, tensor in enumerate(node.input_tensors):
                source, _, output_index = tensor._keras_history
                destination = layer
                if expand_nested:
                    while isinstance(source, nested):
                        source, _, output_index = source.outputs[output_index]._keras_history
                    while isinstance(destination, nested):
                        destination = destination.inputs[input_index]._keras_history[0]
                _add_edge(dot, pydot, source, destination)
    return dot


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=False, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, splines="ortho", **kwargs):
    """Draws the model's graph into ``to_file`` (its extension picks the format: png, svg,
    pdf, dot, ...). Needs pydot and Graphviz; in IPython a missing one is reported as a message,
    elsewhere as an ImportError. Returns an ``IPython.display.Image`` when IPython is there.

    >>> plot_model(model, "model.png", show_shapes=True)   # doctest: +SKIP
    """
    _check_built(model)
    for available, message in (
            (check_pydot, "You must install pydot (`pip install pydot`) for `plot_model` to "
                          "work."),
            (check_graphviz, "You must install graphviz (see instructions at "
                             "https://graphviz.gitlab.io/download/) for `plot_model` to work.")):
        if not available():
            if "IPython.core.magics.namespace" in sys.modules:
                from ..progbar import print_msg

                print_msg(message)
                return None
            raise ImportError(message)
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable, splines=splines)
    to_file = str(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    dot.write(to_file, format=extension)
    if extension != "pdf":
        try:
            from IPython import display

            return display.Image(filename=to_file)
        except ImportError:
            pass
    return None
