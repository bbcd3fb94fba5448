"""Keras 3's description of device layouts: ``DeviceMesh``, ``TensorLayout``, ``LayoutMap``,
``ModelParallel``, ``distribute_tensor`` and ``get_device_count``.

kerasish runs one whole model per process (``DataParallel`` on MPI), so these objects describe
a layout with Keras's API and checks; a layout that shards variables across devices
(``ModelParallel``) is refused when it is set with ``set_distribution``.
"""
from __future__ import annotations

import collections.abc
import math
import re

import numpy as np

from engine import Tensor, backend

from .. import config
from ..symbolic import KerasTensor


def get_device_count(device_type=None):
    """The number of devices of one type: the MPI job's processes once ``initialize`` ran
    (one device each), else this machine's GPUs (``"gpu"``) or 1 (``"cpu"``).

    Args:
        device_type: "cpu" or "gpu"; by default "gpu" if CuPy sees one, else "cpu".

    >>> get_device_count("cpu")
    1
    """
    from . import api

    kind = device_type.lower() if device_type else ("gpu" if backend.cupy_available() else "cpu")
    if kind not in ("cpu", "gpu"):
        raise ValueError(f"`device_type` must be 'cpu' or 'gpu'. Received: device_type={kind!r}")
    if api._COMM is not None:
        return api._COMM.size
    if kind == "cpu":
        return 1
    if not backend.cupy_available():
        return 0
    return backend.xp_for("gpu").cuda.runtime.getDeviceCount()


class DeviceMesh:
    """Devices arranged in a named grid (as ``jax.sharding.Mesh``).

    Args:
        shape: The grid's shape, e.g. ``(8,)`` or ``(2, 4)``.
        axis_names: One name per axis, e.g. ``("batch", "model")``.
        devices: The devices (default ``list_devices()``), as many as the grid holds.

    >>> mesh = DeviceMesh((2,), ["batch"], devices=["cpu:0", "cpu:1"])
    """

    def __init__(self, shape, axis_names, devices=None):
        if not shape or not axis_names:
            raise ValueError("Shape and axis_names cannot be empty. Received: "
                             f"shape={shape}, axis_names={axis_names}")
        if len(shape) != len(axis_names):
            raise ValueError("Shape and axis_names should have same size. "
                             f"Received: shape={shape}, axis_names={axis_names}")
        if devices is None:
            from .api import list_devices

            devices = list_devices()
        devices = np.array(devices)
        if math.prod(shape) != math.prod(devices.shape):
            raise ValueError("Shape does not match the number of devices. "
                             f"Received: shape={shape}; devices.shape={devices.shape}")
        self._shape = shape
        self._axis_names = axis_names
        self._devices = np.reshape(devices, shape)

    @property
    def shape(self):
        return self._shape

    @property
    def axis_names(self):
        return self._axis_names

    @property
    def devices(self):
        return self._devices

    def __repr__(self):
        return f"<{type(self).__name__} shape={self.shape}, axis_names={self.axis_names}>"

    __str__ = __repr__


class TensorLayout:
    """How a tensor's axes map to a mesh's axes (None: not sharded along that axis).

    Args:
        axes: One mesh axis name (or None) per tensor axis.
        device_mesh: The ``DeviceMesh``; may be set once later (``LayoutMap`` does).

    >>> TensorLayout((None, "model"), mesh)
    """

    def __init__(self, axes, device_mesh=None):
        self._axes = tuple(axes)
        self._device_mesh = device_mesh
        self._validate_axes()

    @property
    def axes(self):
        return self._axes

    @property
    def device_mesh(self):
        return self._device_mesh

    @device_mesh.setter
    def device_mesh(self, device_mesh):
        if self._device_mesh is not None:
            raise ValueError("Cannot override device mesh value. Existing value is "
                             f"{self._device_mesh}")
        self._device_mesh = device_mesh
        self._validate_axes()

    def _validate_axes(self):
        if self._device_mesh:
            valid = set(self._device_mesh.axis_names)
            names = set(self._axes) - {None}
            if names - valid:
                raise ValueError(f"Invalid axis names for Layout. Valid axis names: {valid}, "
                                 f"Got {names}")

    def __repr__(self):
        return f"<{type(self).__name__} axes={self.axes}, device_mesh={self.device_mesh}>"

    __str__ = __repr__


class LayoutMap(collections.abc.MutableMapping):
    """Variable paths (regular expressions) to ``TensorLayout``s.

    A lookup tries the exact key, then every key as a regex matched in full against it; two
    matching keys are an error, none gives None. A tuple value becomes a ``TensorLayout``.

    Args:
        device_mesh: The ``DeviceMesh`` given to the layouts stored without one.

    >>> layout_map = LayoutMap(mesh)
    >>> layout_map[".*dense.*kernel"] = (None, "model")
    >>> layout_map["dense_1/kernel"].axes
    (None, 'model')
    """

    def __init__(self, device_mesh):
        self._layout_map = collections.OrderedDict()
        self._device_mesh = device_mesh

    def __getitem__(self, key):
        if key in self._layout_map:
            return self._layout_map[key]
        matches = [pattern for pattern in self._layout_map if re.fullmatch(pattern, key)]
        if len(matches) > 1:
            raise ValueError(f"Path '{key}' matches multiple layout specification keys: "
                             f"{matches}. Please make sure each tensor/variable path only "
                             "matches at most one layout specification key in the LayoutMap.")
        return self._layout_map[matches[0]] if matches else None

    def __setitem__(self, key, layout):
        if key in self._layout_map:
            raise ValueError(f"{key} already exist in the LayoutMap with value "
                             f"{self._layout_map[key]}. Please make sure to not use duplicated "
                             "keys.")
        if isinstance(layout, tuple):
            layout = TensorLayout(axes=layout, device_mesh=None)
        if not isinstance(layout, TensorLayout):
            raise ValueError(f"{layout} should be a TensorLayout type, got {type(layout)}")
        if layout.device_mesh is None and self._device_mesh is not None:
            layout.device_mesh = self._device_mesh
        self._layout_map[key] = layout

    def __delitem__(self, key):
        return self._layout_map.pop(key)

    def __len__(self):
        return len(self._layout_map)

    def __iter__(self):
        return iter(self._layout_map)

    @property
    def device_mesh(self):
        return self._device_mesh


class ModelParallel:
    """Keras's model-parallel distribution: variables sharded by ``layout_map``, data along
    ``batch_dim_name``.

    kerasish keeps a whole model in each process, so ``set_distribution`` refuses a
    ``ModelParallel``; the object itself answers Keras's layout questions.

    Args:
        layout_map: A ``LayoutMap`` (its mesh is the distribution's).
        batch_dim_name: The mesh axis data is split along (default: the first).
        auto_shard_dataset: Kept for Keras's signature.

    >>> ModelParallel(layout_map=layout_map, batch_dim_name="batch").num_model_replicas
    2
    """

    def __init__(self, *, layout_map=None, batch_dim_name=None, auto_shard_dataset=True,
                 **kwargs):
        kwargs.pop("device_mesh", None)
        if layout_map is None:
            raise ValueError("You must specify a layout_map argument.")
        if not isinstance(layout_map, LayoutMap):
            raise ValueError("Argument `layout_map` must be a `LayoutMap` instance. "
                             f"Received: layout_map={layout_map}")
        self._layout_map = layout_map
        self._device_mesh = layout_map.device_mesh
        self._batch_dim_name = batch_dim_name or self._device_mesh.axis_names[0]
        self._auto_shard_dataset = auto_shard_dataset

    @property
    def device_mesh(self):
        return self._device_mesh

    @property
    def batch_dim_name(self):
        return self._batch_dim_name

    @property
    def auto_shard_dataset(self):
        return self._auto_shard_dataset

    @property
    def num_model_replicas(self):
        index = list(self._device_mesh.axis_names).index(self._batch_dim_name)
        return self._device_mesh.shape[index]

    def get_data_layout(self, data_shape):
        """Data split along its first axis over the batch axis of the mesh."""
        axes = [None] * len(data_shape)
        axes[0] = self._batch_dim_name
        return TensorLayout(axes, self._device_mesh)

    def get_variable_layout(self, variable):
        """The layout the map gives the variable's path, else a replicated one."""
        if getattr(variable, "_layout", None) is not None:
            return variable._layout
        layout = self._layout_map[variable.path]
        if layout is not None:
            return layout
        return TensorLayout([None] * len(variable.shape), self._device_mesh)

    def get_tensor_layout(self, path):
        return self._layout_map[path]

    def __repr__(self):
        return f"<ModelParallel device_mesh={self._device_mesh}>"

    def refusal(self):
        return NotImplementedError(
            "ModelParallel shards a model's variables across devices, and kerasish keeps a "
            "whole copy of the model in each process: use "
            "keras.distribution.DataParallel() (data parallel across MPI processes). "
            f"Received: {self!r}")


def distribute_tensor(tensor, layout):
    """``tensor`` with ``layout`` (a ``TensorLayout``, or a distribution's layout for it).

    A KerasTensor is returned as it is. Each kerasish process holds whole tensors, so the
    value returned is the tensor itself, on the current device, after checking that the
    layout has one axis entry per tensor axis.

    >>> distribute_tensor(np.ones((4, 2)), TensorLayout(("batch", None), mesh)).shape
    (4, 2)
    """
    if isinstance(tensor, KerasTensor):
        return tensor
    if not isinstance(layout, TensorLayout):
        raise ValueError(f"`layout` must be a `TensorLayout`. Received: layout={layout!r}")
    shape = tuple(tensor.shape) if hasattr(tensor, "shape") else np.shape(tensor)
    if len(layout.axes) != len(shape):
        raise ValueError(f"The layout has {len(layout.axes)} axes but the tensor has "
                         f"{len(shape)} dimensions. Received: layout.axes={layout.axes}, "
                         f"tensor.shape={shape}")
    if isinstance(tensor, Tensor):
        return tensor
    array = tensor if hasattr(tensor, "shape") else np.asarray(tensor)
    return Tensor(backend.to_device(array, config.device()))
