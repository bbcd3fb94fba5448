"""keras.distribution's layout names (DeviceMesh, TensorLayout, LayoutMap, ModelParallel,
distribute_tensor, get_device_count) with Keras's checks; nothing here starts MPI."""
import numpy as np
import pytest

import kerasish as keras
from engine import Tensor
from kerasish import distribution, layers
from kerasish.distribution import (DeviceMesh, LayoutMap, ModelParallel, TensorLayout,
                                   distribute_tensor, get_device_count)

DEVICES = [f"cpu:{i}" for i in range(8)]


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.utils.clear_session()


def mesh():
    return DeviceMesh((2, 4), ("batch", "model"), devices=DEVICES)


def test_device_mesh():
    m = mesh()
    assert m.shape == (2, 4) and m.axis_names == ("batch", "model")
    assert m.devices.shape == (2, 4) and m.devices[1, 0] == "cpu:4"
    assert repr(m) == "<DeviceMesh shape=(2, 4), axis_names=('batch', 'model')>"
    with pytest.raises(ValueError, match="cannot be empty"):
        DeviceMesh((), ("batch",), DEVICES)
    with pytest.raises(ValueError, match="should have same size"):
        DeviceMesh((8,), ("batch", "model"), DEVICES)
    with pytest.raises(ValueError, match=r"does not match the number of devices.*\(8,\)"):
        DeviceMesh((2, 2), ("batch", "model"), DEVICES)


def test_tensor_layout():
    layout = TensorLayout((None, "model"))
    assert layout.axes == (None, "model") and layout.device_mesh is None
    layout.device_mesh = mesh()
    with pytest.raises(ValueError, match="Cannot override device mesh value"):
        layout.device_mesh = mesh()
    with pytest.raises(ValueError, match="Invalid axis names for Layout"):
        TensorLayout(("data",), mesh())


def test_layout_map_matches_paths_as_regexes():
    layout_map = LayoutMap(mesh())
    layout_map[".*dense.*kernel"] = (None, "model")
    layout_map[".*dense.*bias"] = ("model",)
    layout_map[".*conv2d.*kernel"] = TensorLayout((None, None, None, "model"))
    assert layout_map["dense_1/kernel"].axes == (None, "model")
    assert layout_map["dense_2/bias"].axes == ("model",)
    assert layout_map["my_model/conv2d_123/kernel"].axes == (None, None, None, "model")
    assert layout_map["my_model/conv3d_1/kernel"] is None
    assert layout_map["dense_1/kernel"].device_mesh is layout_map.device_mesh
    assert len(layout_map) == 3 and list(layout_map)[0] == ".*dense.*kernel"
    with pytest.raises(ValueError, match="already exist in the LayoutMap"):
        layout_map[".*dense.*bias"] = ("model",)
    with pytest.raises(ValueError, match="should be a TensorLayout type"):
        layout_map["x"] = "model"
    layout_map[".*kernel"] = (None, None)
    with pytest.raises(ValueError, match="matches multiple layout specification keys"):
        layout_map["dense_1/kernel"]
    del layout_map[".*kernel"]
    assert layout_map["dense_1/kernel"].axes == (None, "model")


def test_model_parallel_layouts_and_refusal():
    layout_map = LayoutMap(mesh())
    layout_map[".*dense.*kernel"] = (None, "model")
    strategy = ModelParallel(layout_map=layout_map, batch_dim_name="batch")
    assert strategy.num_model_replicas == 2 and strategy.device_mesh is layout_map.device_mesh
    assert strategy.get_data_layout((16, 3)).axes == ("batch", None)
    dense = layers.Dense(4)
    dense.build((None, 3))
    assert dense.kernel.path == "dense/kernel"
    assert strategy.get_variable_layout(dense.kernel).axes == (None, "model")
    assert strategy.get_variable_layout(dense.bias).axes == (None,)  # replicated
    assert strategy.get_tensor_layout("dense/kernel").axes == (None, "model")
    with pytest.raises(NotImplementedError, match="use keras.distribution.DataParallel"):
        distribution.set_distribution(strategy)
    assert distribution.distribution() is None
    with pytest.raises(ValueError, match="You must specify a layout_map argument"):
        ModelParallel()
    with pytest.raises(ValueError, match="must be a `LayoutMap` instance"):
        ModelParallel(layout_map={})


def test_distribute_tensor_keeps_whole_values():
    layout = TensorLayout(("batch", None), mesh())
    x = np.arange(6, dtype="float32").reshape(3, 2)
    out = distribute_tensor(x, layout)
    assert isinstance(out, Tensor)
    np.testing.assert_array_equal(out.numpy(), x)
    assert distribute_tensor(out, layout) is out
    symbolic = keras.Input((2,))
    assert distribute_tensor(symbolic, layout) is symbolic
    with pytest.raises(ValueError, match=r"layout has 2 axes but the tensor has 1"):
        distribute_tensor(np.ones(3), layout)


def test_device_count_without_mpi():
    assert get_device_count("cpu") == 1
    with pytest.raises(ValueError, match="device_type='tpu'"):
        get_device_count("tpu")


def test_data_parallel_takes_a_one_axis_mesh_only():
    with pytest.raises(ValueError, match="one-axis `device_mesh`"):
        distribution.DataParallel(device_mesh=mesh())
