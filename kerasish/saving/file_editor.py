"""``keras.saving.KerasFileEditor``: inspect, edit and resave the weights of a ``.keras`` or
``.weights.h5`` file, as a nested dict ``{object: {weight name: array}}``."""
from __future__ import annotations

import io
import json
import os
import zipfile

from .keras_weights_h5 import _h5py, save_weights_to_h5_group


def _extract(group):
    """The nested weights dict of an h5 group; ``vars`` groups fold into their object."""
    h5py = _h5py()
    result = {}
    for key in group.keys():
        link = group.get(key, getclass=True, getlink=True)
        if link in (h5py.ExternalLink, h5py.SoftLink):
            raise ValueError(f"Not allowed: H5 file with {link.__name__}")
        value = group[key]
        if isinstance(value, h5py.Group):
            inner = value["vars"] if "vars" in value.keys() else value
            extracted = _extract(inner)
            if extracted:
                result[key] = extracted
        elif isinstance(value, h5py.Dataset):
            result[key] = value[()]
    return result


def _count(d, name):
    return sum(_count(v, name) for v in d.values() if isinstance(v, dict)) + (name in d)


def _compare(target, reference, path, names, checked, lines):
    errors = matches = 0
    for key, ref in reference.items():
        inner = f"{path}/{key}"
        if inner in checked:
            continue
        if key not in target:
            errors += 1
            checked.add(inner)
            kind = "Object" if isinstance(ref, dict) else "Weight"
            lines.append(f"...{kind} {inner} present in {names[1]}, missing from {names[0]}")
        elif isinstance(ref, dict):
            e, m = _compare(target[key], ref, inner, names, checked, lines)
            errors, matches = errors + e, matches + m
        elif target[key].shape != ref.shape:
            errors += 1
            checked.add(inner)
            lines.append(f"...Weight shape mismatch for {inner}\n    In {names[1]}: "
                         f"shape={ref.shape}\n    In {names[0]}: shape={target[key].shape}")
        else:
            matches += 1
    return errors, matches


class KerasFileEditor:
    """Inspects, edits and resaves the weights of a Keras file.

    Args:
        filepath: A ``.keras`` or ``.weights.h5`` file.

    >>> editor = KerasFileEditor("model.weights.h5")
    >>> editor.rename_object("dense", "dense_renamed")
    >>> editor.save("edited.weights.h5")
    """

    def __init__(self, filepath):
        self.filepath = os.fspath(filepath)
        self.metadata = None
        self.config = None
        h5py = _h5py()
        if self.filepath.endswith(".keras"):
            with zipfile.ZipFile(self.filepath, "r") as archive:
                self.config = json.loads(archive.read("config.json"))
                self.metadata = json.loads(archive.read("metadata.json"))
                data = archive.read("model.weights.h5")
            with h5py.File(io.BytesIO(data), "r") as f:
                self.weights_dict = _extract(f)
        elif self.filepath.endswith(".weights.h5"):
            with h5py.File(self.filepath, "r") as f:
                self.weights_dict = _extract(f)
        else:
            raise ValueError("Invalid filename: expected a `.keras` `.weights.h5` extension. "
                             f"Received: filepath={self.filepath}")
        print(f"Keras model file '{self.filepath}'")

    def summary(self):
        """Prints the weight structure of the file."""
        print("Weights structure")

        def show(d, prefix):
            for key, value in d.items():
                if isinstance(value, dict):
                    print(f"{prefix}{key}")
                    show(value, prefix + "    ")
                else:
                    print(f"{prefix}{key}: shape={value.shape}, dtype={value.dtype}")

        show(self.weights_dict, "  ")

    def compare(self, reference_model):
        """Compares the file's weights with a model's (paths and shapes).

        Returns:
            ``{"status": "success"|"error", "error_count": int, "match_count": int}``.
        """
        h5py = _h5py()
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as f:
            save_weights_to_h5_group(f, reference_model)
        with h5py.File(buffer, "r") as f:
            reference = _extract(f)
        checked, lines = set(), []
        errors, matches = _compare(self.weights_dict, reference, "",
                                   ("saved file", "reference model"), checked, lines)
        errors += _compare(reference, self.weights_dict, "",
                           ("reference model", "saved file"), checked, lines)[0]
        for line in lines:
            print(line)
        status = "success" if errors == 0 else "error"
        return {"status": status, "error_count": errors, "match_count": matches}

    def _edit_object(self, edit_fn, source_name, target_name=None):
        if target_name is not None and "/" in target_name:
            raise ValueError("Argument `target_name` should be a leaf name, not a full path "
                             f"name. Received: target_name='{target_name}'")
        if "/" in source_name:
            *parents, leaf = source_name.split("/")
            d = self.weights_dict
            for element in parents:
                if element not in d:
                    raise ValueError(f"Path '{source_name}' not found in model.")
                d = d[element]
            if leaf not in d:
                raise ValueError(f"Path '{source_name}' not found in model.")
            edit_fn(d, leaf, target_name)
            return
        occurrences = _count(self.weights_dict, source_name)
        if occurrences > 1:
            raise ValueError(f"Name '{source_name}' occurs more than once in the model; try "
                             "passing a complete path")
        if occurrences == 0:
            raise ValueError(f"Source name '{source_name}' does not appear in the model. Use "
                             "`editor.weights_summary()` to list all objects.")

        def edit(d):
            for value in list(d.values()):
                if isinstance(value, dict):
                    edit(value)
            if source_name in d:
                edit_fn(d, source_name, target_name)

        edit(self.weights_dict)

    def rename_object(self, object_name, new_name):
        """Renames an object (e.g. ``"dense_2"`` or ``"layers/dense_2"``)."""
        def rename(d, source, target):
            d[target] = d.pop(source)

        self._edit_object(rename, object_name, new_name)

    def delete_object(self, object_name):
        """Removes an object (e.g. ``"dense_2"`` or ``"layers/dense_2"``)."""
        self._edit_object(lambda d, source, _: d.pop(source), object_name)

    def _check_weights(self, weights):
        if not isinstance(weights, dict):
            raise ValueError("Argument `weights` should be a dict where keys are weight names "
                             "(usually '0', '1', etc.) and values are NumPy arrays. "
                             f"Received: type(weights)={type(weights)}")

    def add_object(self, object_path, weights):
        """Adds an object at ``object_path`` with ``weights`` (``{"0": array, ...}``)."""
        self._check_weights(weights)
        *parents, leaf = object_path.split("/")
        d = self.weights_dict
        for element in parents:
            if element not in d:
                raise ValueError(f"Path '{'/'.join(parents)}' not found in model.")
            d = d[element]
        d[leaf] = weights

    def delete_weight(self, object_name, weight_name):
        """Removes the weight ``weight_name`` (e.g. ``"0"``) of an object."""
        def delete(d, source, _):
            if weight_name not in d[source]:
                raise ValueError(f"Weight {weight_name} not found in object {object_name}. "
                                 f"Weights found: {list(d[source].keys())}")
            d[source].pop(weight_name)

        self._edit_object(delete, object_name)

    def add_weights(self, object_name, weights):
        """Adds weights (``{"2": array}``) to an existing object."""
        self._check_weights(weights)
        self._edit_object(lambda d, source, _: d[source].update(weights), object_name)

    def save(self, filepath):
        """Writes the edited weights to a ``.weights.h5`` file."""
        filepath = os.fspath(filepath)
        if not str(filepath).endswith(".weights.h5"):
            raise ValueError("Invalid `filepath` argument: expected a `.weights.h5` extension. "
                             f"Received: filepath={filepath}")
        h5py = _h5py()

        def write(group, d):
            arrays = {k: v for k, v in d.items() if not isinstance(v, dict)}
            for key, value in d.items():
                if isinstance(value, dict) and value:
                    write(group.require_group(key), value)
            if arrays:
                vars_group = group.require_group("vars")
                for key, value in arrays.items():
                    vars_group.create_dataset(key, data=value)

        with h5py.File(filepath, "w") as f:
            write(f, self.weights_dict)

    def resave_weights(self, filepath):
        """Same as ``save``."""
        self.save(filepath)
