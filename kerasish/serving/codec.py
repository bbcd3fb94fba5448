"""Request bodies to arrays and arrays to response bodies: TF Serving's ``:predict`` JSON (row
format ``instances`` / columnar format ``inputs``) and KServe's v2 ``infer`` JSON.

Errors read as TF Serving's (util/json_tensor.cc) where it has one. JSON is parsed with
Python's ``json``, which, like TF Serving's parser, accepts ``NaN``, ``Infinity`` and
``-Infinity``; answers write non-finite floats the same way.
"""
import json

import numpy as np

from .errors import invalid_argument
from .signature import SIGNATURE_NAME, V2_DTYPES

_FLOAT32_MAX = float(np.finfo(np.float32).max)
_KINDS = {"f": "iuf", "i": "iu", "u": "iu", "b": "b"}


def parse_json(body):
    """The request's JSON object, or INVALID_ARGUMENT with TF Serving's wording."""
    if not body:
        raise invalid_argument("JSON Parse error: The document is empty")
    try:
        doc = json.loads(body)
    except json.JSONDecodeError as e:
        raise invalid_argument(f"JSON Parse error: {e.msg} at offset: {e.pos}") from None
    except UnicodeDecodeError as e:
        raise invalid_argument(f"JSON Parse error: Invalid encoding in string at offset: "
                               f"{e.start}") from None
    if not isinstance(doc, dict):
        raise invalid_argument(f"JSON Value: {_short(doc)} Is not object")
    return doc


def _short(value, limit=200):
    text = json.dumps(value)
    return text if len(text) <= limit else text[:limit] + "..."


def to_array(value, spec, where):
    """A nested JSON list as an array of ``spec``'s dtype, with TF Serving's type checks."""
    try:
        a = np.array(value)
    except ValueError:
        raise invalid_argument(f"{where}: the nested lists have unequal sizes; a tensor must "
                               "be a rectangular nested list") from None
    want = np.dtype(spec.dtype)
    if a.dtype.kind not in _KINDS.get(want.kind, want.kind):
        raise invalid_argument(f"{where}: JSON value {_short(value, 80)} is not of expected "
                               f"type: {spec.dtype}")
    if want.kind == "f" and want.itemsize == 4 and a.size and a.dtype.kind == "f":
        finite = np.abs(a[np.isfinite(a)])
        if finite.size and finite.max() > _FLOAT32_MAX:
            raise invalid_argument(f"{where}: cannot convert JSON value {finite.max()} to float "
                                   "without loss of precision")
    return a.astype(want, copy=False)


def _check_signature_name(doc):
    name = doc.get("signature_name", "")
    if not isinstance(name, str):
        raise invalid_argument(f"JSON Value: {_short(doc)} not formatted correctly. "
                               "'signature_name' key must be a string value.")
    if name not in ("", SIGNATURE_NAME):
        raise invalid_argument(f'Serving signature name: "{name}" not found in signature def')


def _from_instances(items, signature):
    if not isinstance(items, list):
        raise invalid_argument("Expecting 'instances' to be an list/array")
    if not items:
        raise invalid_argument("No values in 'instances' array")
    names = signature.input_names
    objects = isinstance(items[0], dict) and "b64" not in items[0]
    if not objects:
        if len(names) > 1:
            raise invalid_argument(
                "instances is a plain list, but expecting list of objects as multiple input "
                f"tensors required as per tensorinfo_map (inputs: {', '.join(names)})")
        if any(isinstance(x, dict) for x in items):
            raise invalid_argument("Expecting value/list but got object in the input list")
        return {names[0]: to_array(items, signature.inputs[0], "'instances'")}
    columns = {n: [] for n in names}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise invalid_argument(f"Expecting object but got list at item {i} of input list")
        if set(item) != set(names):
            raise invalid_argument(
                f"Failed to process element: {i} of 'instances' list. JSON object: keys "
                f"{sorted(item)} must be equal to: {','.join(sorted(names))}")
        for n in names:
            columns[n].append(item[n])
    return {s.name: to_array(columns[s.name], s, f"'instances' key {s.name}")
            for s in signature.inputs}


def _from_inputs(value, signature):
    names = signature.input_names
    if not isinstance(value, dict):
        if len(names) > 1:
            raise invalid_argument(
                "inputs is a plain value/list, but expecting an object as multiple input "
                f"tensors required as per tensorinfo_map (inputs: {', '.join(names)})")
        return {names[0]: to_array(value, signature.inputs[0], "'inputs'")}
    out = {}
    for s in signature.inputs:
        if s.name not in value:
            raise invalid_argument(f"Missing named input: {s.name} in 'inputs' object.")
        out[s.name] = to_array(value[s.name], s, f"'inputs' key {s.name}")
    return out


def decode_predict(body, signature):
    """``(arrays by input name, "row" | "columnar")`` from a ``:predict`` body."""
    doc = parse_json(body)
    _check_signature_name(doc)
    if "instances" in doc and "inputs" in doc:
        raise invalid_argument("Not formatted correctly expecting only one of 'inputs' or "
                               "'instances' keys to exist")
    if "instances" in doc:
        return _from_instances(doc["instances"], signature), "row"
    if "inputs" in doc:
        return _from_inputs(doc["inputs"], signature), "columnar"
    raise invalid_argument("Missing 'inputs' or 'instances' key")


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), allow_nan=True).encode()


def encode_predict(outputs, fmt, signature):
    """The ``{"predictions": ...}`` (row) or ``{"outputs": ...}`` (columnar) body."""
    names = signature.output_names
    if fmt == "columnar":
        if len(names) == 1:
            return dumps({"outputs": outputs[names[0]].tolist()})
        return dumps({"outputs": {n: outputs[n].tolist() for n in names}})
    if len(names) == 1:
        return dumps({"predictions": outputs[names[0]].tolist()})
    lists = {n: outputs[n].tolist() for n in names}
    batch = len(lists[names[0]])
    return dumps({"predictions": [{n: lists[n][i] for n in names} for i in range(batch)]})


def decode_v2(body, signature):
    """KServe v2 ``infer``: ``(arrays by input name, requested output names, request id)``."""
    doc = parse_json(body)
    items = doc.get("inputs")
    if not isinstance(items, list) or not items:
        raise invalid_argument("Expected 'inputs' to be a non-empty list of tensors "
                               "({name, shape, datatype, data})")
    specs = {s.name: s for s in signature.inputs}
    arrays = {}
    for item in items:
        if not isinstance(item, dict) or not {"name", "shape", "datatype", "data"} <= set(item):
            raise invalid_argument(f"Each input needs name, shape, datatype and data. "
                                   f"Received: {_short(item, 120)}")
        name, datatype = item["name"], item["datatype"]
        if name not in specs:
            raise invalid_argument(f"Unknown input '{name}'. Expected one of {list(specs)}")
        spec = specs[name]
        expected = V2_DTYPES.get(spec.dtype)
        if datatype != expected:
            raise invalid_argument(f"Input '{name}' expects datatype {expected}. Received: "
                                   f"datatype {datatype}")
        a = to_array(item["data"], spec, f"input '{name}'")
        try:
            arrays[name] = a.reshape([int(d) for d in item["shape"]])
        except (ValueError, TypeError):
            raise invalid_argument(f"Input '{name}': {a.size} values do not fill shape "
                                   f"{item['shape']}") from None
    wanted = doc.get("outputs")
    names = signature.output_names
    if wanted is not None:
        try:
            names = [o["name"] for o in wanted]
        except (TypeError, KeyError):
            raise invalid_argument("Expected 'outputs' to be a list of {\"name\": ...}") from None
        unknown = [n for n in names if n not in signature.output_names]
        if unknown:
            raise invalid_argument(f"Unknown outputs {unknown}. Expected some of "
                                   f"{signature.output_names}")
    return arrays, names, doc.get("id")


def encode_v2(outputs, names, model_name, version, request_id):
    body = {"model_name": model_name, "model_version": str(version), "outputs": [
        {"name": n, "datatype": V2_DTYPES.get(outputs[n].dtype.name, outputs[n].dtype.name),
         "shape": list(outputs[n].shape), "data": outputs[n].ravel().tolist()} for n in names]}
    if request_id is not None:
        body["id"] = request_id
    return dumps(body)
