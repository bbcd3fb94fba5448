"""Functional models with ``keras.ops`` nodes save and load (``.keras`` and Keras 3's JSON).

An op node is written as Keras 3 writes it (module ``keras.src.ops.numpy``, class ``Sin``, the
constants in the node's arguments) and read back by name from ``kerasish.ops`` only.
"""
import json

import numpy as np
import pytest

import kerasish
from kerasish import Input, Model, layers, ops
from kerasish.models.model import model_from_json

# A model of ops written by Keras 3.15 (to_json), and its predictions on DATA there.
KERAS_JSON = (
    '{"module":"keras.src.models.functional","class_name":"Functional","config":{"name":"function'
    'al","trainable":true,"layers":[{"module":"keras.layers","class_name":"InputLayer","config":{'
    '"batch_shape":[null,3],"dtype":"float32","sparse":false,"ragged":false,"name":"x","optional"'
    ':false},"registered_name":null,"name":"x","inbound_nodes":[]},{"module":"keras.src.ops.numpy'
    '","class_name":"Reshape","config":{"name":"reshape","newshape":[-1,3,1]},"registered_name":"'
    'Reshape","name":"reshape","inbound_nodes":[{"args":[{"class_name":"__keras_tensor__","config'
    '":{"shape":[null,3],"dtype":"float32","keras_history":["x",0,0]}}],"kwargs":{}}]},{"module":'
    '"keras.src.ops.numpy","class_name":"Round","config":{"name":"round","decimals":1},"registere'
    'd_name":"Round","name":"round","inbound_nodes":[{"args":[{"class_name":"__keras_tensor__","c'
    'onfig":{"shape":[null,3],"dtype":"float32","keras_history":["x",0,0]}}],"kwargs":{}}]},{"mod'
    'ule":"keras.src.ops.numpy","class_name":"Absolute","config":{"name":"absolute"},"registered_'
    'name":"Absolute","name":"absolute","inbound_nodes":[{"args":[{"class_name":"__keras_tensor__'
    '","config":{"shape":[null,3],"dtype":"float32","keras_history":["x",0,0]}}],"kwargs":{}}]},{'
    '"module":"keras.src.ops.numpy","class_name":"Sum","config":{"name":"sum","axis":1,"keepdims"'
    ':false},"registered_name":"Sum","name":"sum","inbound_nodes":[{"args":[{"class_name":"__kera'
    's_tensor__","config":{"shape":[null,3,1],"dtype":"float32","keras_history":["reshape",0,0]}}'
    '],"kwargs":{}}]},{"module":"keras.src.ops.numpy","class_name":"Multiply","config":{"name":"m'
    'ultiply"},"registered_name":"Multiply","name":"multiply","inbound_nodes":[{"args":[{"class_n'
    'ame":"__keras_tensor__","config":{"shape":[null,3],"dtype":"float32","keras_history":["round'
    '",0,0]}},{"class_name":"__keras_tensor__","config":{"shape":[null,3],"dtype":"float32","kera'
    's_history":["absolute",0,0]}}],"kwargs":{}}]},{"module":"keras.src.ops.numpy","class_name":"'
    'GetItem","config":{"name":"get_item"},"registered_name":"GetItem","name":"get_item","inbound'
    '_nodes":[{"args":[{"class_name":"__keras_tensor__","config":{"shape":[null,3],"dtype":"float'
    '32","keras_history":["x",0,0]}},[{"class_name":"__slice__","config":{"start":null,"stop":nul'
    'l,"step":null}},0]],"kwargs":{}}]},{"module":"keras.src.ops.numpy","class_name":"Mean","conf'
    'ig":{"name":"mean","axis":-1,"keepdims":true},"registered_name":"Mean","name":"mean","inboun'
    'd_nodes":[{"args":[{"class_name":"__keras_tensor__","config":{"shape":[null,3],"dtype":"floa'
    't32","keras_history":["x",0,0]}}],"kwargs":{}}]},{"module":"keras.src.ops.numpy","class_name'
    '":"Add","config":{"name":"add"},"registered_name":"Add","name":"add","inbound_nodes":[{"args'
    '":[{"class_name":"__keras_tensor__","config":{"shape":[null,1],"dtype":"float32","keras_hist'
    'ory":["sum",0,0]}},{"class_name":"__keras_tensor__","config":{"shape":[null,3],"dtype":"floa'
    't32","keras_history":["multiply",0,0]}}],"kwargs":{}}]},{"module":"keras.src.ops.numpy","cla'
    'ss_name":"ExpandDims","config":{"name":"expand_dims","axis":-1},"registered_name":"ExpandDim'
    's","name":"expand_dims","inbound_nodes":[{"args":[{"class_name":"__keras_tensor__","config":'
    '{"shape":[null],"dtype":"float32","keras_history":["get_item",0,0]}}],"kwargs":{}}]},{"modul'
    'e":"keras.src.ops.numpy","class_name":"Power","config":{"name":"power"},"registered_name":"P'
    'ower","name":"power","inbound_nodes":[{"args":[{"class_name":"__keras_tensor__","config":{"s'
    'hape":[null,1],"dtype":"float32","keras_history":["mean",0,0]}},2],"kwargs":{}}]},{"module":'
    '"keras.src.ops.numpy","class_name":"Concatenate","config":{"name":"concatenate","axis":-1},"'
    'registered_name":"Concatenate","name":"concatenate","inbound_nodes":[{"args":[[{"class_name"'
    ':"__keras_tensor__","config":{"shape":[null,3],"dtype":"float32","keras_history":["add",0,0]'
    '}},{"class_name":"__keras_tensor__","config":{"shape":[null,1],"dtype":"float32","keras_hist'
    'ory":["expand_dims",0,0]}},{"class_name":"__keras_tensor__","config":{"shape":[null,1],"dtyp'
    'e":"float32","keras_history":["power",0,0]}}]],"kwargs":{}}]}],"input_layers":["x",0,0],"out'
    'put_layers":["concatenate",0,0]},"registered_name":"Functional","build_config":{"input_shape'
    '":null},"compile_config":{}}'
)
DATA = np.array([[0.5, -1.26, 2.0], [1.0, 0.25, -0.75]], np.float32)
KERAS_PREDICTIONS = [
    [1.4900000095367432, -0.3979998826980591, 5.239999771118164, 0.5, 0.1708444356918335],
    [1.5, 0.550000011920929, -0.10000002384185791, 1.0, 0.0277777798473835],
]


def test_a_model_of_ops_written_by_keras_loads_and_predicts_as_keras():
    model = model_from_json(KERAS_JSON)
    np.testing.assert_allclose(model.predict(DATA, verbose=0), KERAS_PREDICTIONS, rtol=1e-6)
    names = [entry["name"] for entry in json.loads(KERAS_JSON)["config"]["layers"]]
    assert [layer.name for layer in model.operations] == names  # ops are not model.layers


def test_a_model_of_ops_round_trips_through_a_keras_file(tmp_path):
    x = Input((3,))
    h = layers.Dense(4, name="dense")(x)
    y = ops.sin(h) * 2 + h[:, :1] - ops.mean(x, axis=-1, keepdims=True)
    y = ops.concatenate([ops.sum(ops.reshape(y, (-1, 2, 2)), axis=1), ops.round(x, 1)], axis=-1)
    model = Model(x, y)
    path = tmp_path / "ops.keras"
    model.save(path)
    loaded = kerasish.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(DATA, verbose=0), model.predict(DATA, verbose=0))
    entry = model.get_config()["layers"][2]
    assert (entry["module"], entry["class_name"]) == ("keras.src.ops.numpy", "Sin")
    get_item = next(e for e in model.get_config()["layers"] if e["class_name"] == "GetItem")
    assert get_item["inbound_nodes"][0]["args"][1][1]["class_name"] == "__slice__"


def test_an_op_unknown_to_kerasish_ops_is_refused_by_name():
    config = json.loads(KERAS_JSON)
    config["config"]["layers"][1]["class_name"] = "System"
    with pytest.raises(ValueError, match="Unknown Keras op 'System'"):
        model_from_json(json.dumps(config))


def test_clone_model_reuses_the_op_nodes_and_clones_the_layers():
    x = Input((3,))
    y = ops.sin(layers.Dense(3, name="dense")(x)) * 2 + x[:, :1]
    model = Model(x, y)
    clone = kerasish.models.clone_model(model)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(DATA, verbose=0), model.predict(DATA, verbose=0))
    assert clone.get_layer("dense") is not model.get_layer("dense")


@pytest.mark.parametrize("class_name, op", [
    ("Sin", "sin"), ("GetItem", "get_item"), ("Log1p", "log1p"), ("Arctan2", "arctan2"),
    ("Absolute", "absolute"), ("IsIn", "isin"), ("SearchSorted", "searchsorted"),
    ("AllClose", "allclose"), ("NanToNum", "nan_to_num"), ("TrueDivide", "true_divide")])
def test_keras_op_classes_resolve_to_kerasish_ops(class_name, op):
    from kerasish.ops._symbolic import op_layer_from_config

    layer = op_layer_from_config({"class_name": class_name, "config": {"name": "n", "axis": 1}})
    assert layer.fn.__name__ == op and layer.name == "n" and layer.params == {"axis": 1}
