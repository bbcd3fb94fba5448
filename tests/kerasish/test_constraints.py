"""keras.constraints: the projections against NumPy, their registry, and the optimizer applying
a layer's constraints after each update."""
import json

import numpy as np
import pytest

import kerasish
from engine import Tensor
from kerasish import constraints, layers
from kerasish.saving.serialization import deserialize_keras_object, serialize_keras_object

W = np.array([[3.0, 0.1, -1.0], [4.0, 0.2, 2.0]])
EPS = 1e-7


def _apply(constraint, w=W):
    out = constraint(Tensor(w.astype("float32")))
    assert out.dtype == np.float32
    return out.numpy()


def test_max_norm():
    norms = np.linalg.norm(W, axis=0, keepdims=True)
    expected = W * np.clip(norms, 0, 2.0) / (norms + EPS)
    np.testing.assert_allclose(_apply(constraints.MaxNorm(2.0)), expected, rtol=1e-6)
    rows = np.linalg.norm(W, axis=1, keepdims=True)
    np.testing.assert_allclose(_apply(constraints.max_norm(1.0, axis=1)),
                               W * np.clip(rows, 0, 1) / (rows + EPS), rtol=1e-6)


def test_non_neg_unit_norm_min_max_norm():
    np.testing.assert_allclose(_apply(constraints.NonNeg()), np.maximum(W, 0), rtol=1e-7)
    norms = np.linalg.norm(W, axis=0, keepdims=True)
    np.testing.assert_allclose(_apply(constraints.UnitNorm()), W / (norms + EPS), rtol=1e-6)
    desired = 0.5 * np.clip(norms, 0.5, 1.0) + 0.5 * norms
    np.testing.assert_allclose(_apply(constraints.MinMaxNorm(0.5, 1.0, rate=0.5)),
                               W * desired / (norms + EPS), rtol=1e-6)
    w4 = np.random.default_rng(0).normal(size=(2, 2, 3, 4))
    norms4 = np.sqrt((w4 ** 2).sum(axis=(0, 1, 2), keepdims=True))
    np.testing.assert_allclose(_apply(constraints.UnitNorm(axis=[0, 1, 2]), w4),
                               w4 / (norms4 + EPS), rtol=1e-5)
    assert _apply(constraints.Constraint()) is not None


@pytest.mark.parametrize("name,cls", [("max_norm", constraints.MaxNorm),
                                      ("MinMaxNorm", constraints.MinMaxNorm),
                                      ("non_neg", constraints.NonNeg),
                                      ("unit_norm", constraints.UnitNorm)])
def test_get_serialize_deserialize(name, cls):
    assert isinstance(constraints.get(name), cls)
    assert isinstance(constraints.get(cls), cls)
    instance = constraints.get(name)
    config = constraints.serialize(instance)
    assert config["module"] == "keras.constraints" and config["class_name"] == cls.__name__
    again = constraints.deserialize(config)
    assert type(again) is cls and again.get_config() == instance.get_config()
    assert type(constraints.get(config)) is cls
    assert constraints.get(None) is None
    with pytest.raises(ValueError, match="Could not interpret constraint"):
        constraints.get("nope")


def test_max_norm_config():
    assert constraints.MaxNorm(3, axis=[0, 1]).get_config() == {"max_value": 3, "axis": [0, 1]}
    assert constraints.MinMaxNorm().get_config() == {"min_value": 0.0, "max_value": 1.0,
                                                     "rate": 1.0, "axis": 0}


def test_fit_applies_the_constraints_after_each_update():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32") * 10
    model = kerasish.Sequential([
        kerasish.Input((3,)),
        layers.Dense(4, kernel_constraint="max_norm", bias_constraint=constraints.NonNeg())])
    model.compile(kerasish.optimizers.SGD(0.5), "mse")
    model.fit(x, -x.sum(axis=1, keepdims=True).repeat(4, axis=1), epochs=2, verbose=0)
    kernel, bias = model.get_weights()
    assert np.all(np.linalg.norm(kernel, axis=0) <= 2.0 + 1e-5)
    assert np.all(bias >= 0)


def test_layer_config_serializes_the_constraints():
    dense = layers.Dense(2, kernel_constraint=constraints.MaxNorm(1.5, axis=1))
    config = dense.get_config()
    assert config["kernel_constraint"] == {"module": "keras.constraints", "class_name": "MaxNorm",
                                           "config": {"max_value": 1.5, "axis": 1},
                                           "registered_name": None}
    assert config["bias_constraint"] is None
    again = deserialize_keras_object(json.loads(json.dumps(serialize_keras_object(dense))))
    assert isinstance(again.kernel_constraint, constraints.MaxNorm)
    assert again.kernel_constraint.max_value == 1.5


@pytest.mark.parametrize("cls,kwargs,key", [
    (layers.Conv2D, {"filters": 2, "kernel_size": 3, "kernel_constraint": "unit_norm"},
     "kernel_constraint"),
    (layers.BatchNormalization, {"gamma_constraint": "non_neg"}, "gamma_constraint"),
    (layers.LayerNormalization, {"beta_constraint": "max_norm"}, "beta_constraint"),
    (layers.PReLU, {"alpha_constraint": "non_neg"}, "alpha_constraint"),
])
def test_other_layers_serialize_their_constraints(cls, kwargs, key):
    layer = cls(**kwargs)
    config = layer.get_config()
    assert config[key]["module"] == "keras.constraints"
    again = cls.from_config(config)
    assert type(getattr(again, key)) is type(getattr(layer, key))
