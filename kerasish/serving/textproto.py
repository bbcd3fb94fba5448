"""The protobuf text format, as far as TF Serving's two config files use it.

``parse(text)`` returns a dict ``field -> [values]`` (every field may repeat); a message value
is again such a dict. Then ``model_config_list(text)`` and ``batching_parameters(text)`` read
TF Serving's ``--model_config_file`` and ``--batching_parameters_file``:

    model_config_list {
      config {
        name: "mlp"  base_path: "/models/mlp"  model_platform: "tensorflow"
        model_version_policy { specific { versions: 1 versions: 2 } }
        version_labels { key: "stable" value: 1 }
      }
    }

    max_batch_size { value: 32 }  batch_timeout_micros { value: 2000 }
"""
import re

_TOKEN = re.compile(r"""\s+|\#[^\n]*|(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
                    r"""|(?P<num>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+)[fF]?)(?![\w.])"""
                    r"""|(?P<id>[A-Za-z_][\w.]*)|(?P<punct>[{}<>:\[\],;])""")
_CLOSE = {"{": "}", "<": ">"}


def _tokens(text):
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            line = text.count("\n", 0, pos) + 1
            raise ValueError(f"Could not parse the text proto at line {line}: "
                             f"unexpected {text[pos:pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind is not None:
            yield kind, m.group(kind), text.count("\n", 0, m.start()) + 1


def _scalar(kind, value):
    if kind == "str":
        return value[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
    if kind == "num":
        value = value.rstrip("fF")
        return float(value) if any(c in value for c in ".eE") else int(value)
    return {"true": True, "false": False}.get(value, value)  # enums stay names


def parse(text):
    """Parses text-format protobuf into nested ``{field: [values]}`` dicts."""
    tokens = list(_tokens(text))
    message, pos = _parse_fields(tokens, 0, None)
    return message


def _parse_fields(tokens, pos, closer):
    fields = {}
    while pos < len(tokens):
        kind, value, line = tokens[pos]
        if kind == "punct" and value == closer:
            return fields, pos + 1
        if kind == "punct" and value in ",;":
            pos += 1
            continue
        if kind != "id":
            raise ValueError(f"Expected a field name at line {line}. Received: {value!r}")
        name, pos = value, pos + 1
        if pos < len(tokens) and tokens[pos][1] == ":":
            pos += 1
        if pos >= len(tokens):
            raise ValueError(f"Missing a value for field {name!r} at line {line}")
        kind, value, line = tokens[pos]
        if kind == "punct" and value in _CLOSE:
            sub, pos = _parse_fields(tokens, pos + 1, _CLOSE[value])
            fields.setdefault(name, []).append(sub)
        elif kind == "punct" and value == "[":
            pos += 1
            while tokens[pos][1] != "]":
                if tokens[pos][1] != ",":
                    fields.setdefault(name, []).append(_scalar(*tokens[pos][:2]))
                pos += 1
            pos += 1
        elif kind in ("str", "num", "id"):
            fields.setdefault(name, []).append(_scalar(kind, value))
            pos += 1
        else:
            raise ValueError(f"Expected a value for field {name!r} at line {line}. "
                             f"Received: {value!r}")
    if closer is not None:
        raise ValueError(f"Missing {closer!r} at the end of the text proto")
    return fields, pos


def _one(message, name, default=None):
    values = message.get(name, [])
    return values[-1] if values else default


def _wrapped(message, name, default):
    """``name { value: N }`` (a google.protobuf wrapper), as TF Serving writes them."""
    value = _one(message, name)
    return default if value is None else _one(value, "value", default)


def _policy(config, name):
    policy = _one(config, "model_version_policy")
    if policy is None:
        return ("latest", 1)  # TF Serving's default policy
    if "latest" in policy:
        return ("latest", int(_one(policy["latest"][-1], "num_versions", 1)))
    if "all" in policy:
        return ("all", None)
    if "specific" in policy:
        versions = [int(v) for v in policy["specific"][-1].get("versions", [])]
        if not versions:
            raise ValueError(f"Model {name!r}: a `specific` version policy needs at least one "
                             "`versions` entry")
        return ("specific", tuple(sorted(versions)))
    raise ValueError(f"Model {name!r}: unknown model_version_policy. Expected latest, all or "
                     f"specific. Received: {sorted(policy)}")


def model_config_list(text):
    """Reads a ``model_config_list`` file into a list of dicts (name, base_path, policy,
    labels)."""
    root = parse(text)
    if "model_config_list" not in root:
        raise ValueError("The model config file must hold a `model_config_list { ... }`. "
                         f"Received fields: {sorted(root)}")
    models = []
    for config in _one(root, "model_config_list").get("config", []):
        name, base_path = _one(config, "name"), _one(config, "base_path")
        if not name or not base_path:
            raise ValueError(f"Each `config` needs a `name` and a `base_path`. Received: "
                             f"name={name!r}, base_path={base_path!r}")
        platform = _one(config, "model_platform", "tensorflow")
        if platform not in ("tensorflow", "keras", "kerasish"):
            raise ValueError(f"Model {name!r}: unsupported model_platform. Received: {platform!r}")
        labels = {str(_one(e, "key")): int(_one(e, "value"))
                  for e in config.get("version_labels", [])}
        models.append({"name": name, "base_path": base_path,
                       "policy": _policy(config, name), "labels": labels})
    names = [m["name"] for m in models]
    if len(set(names)) != len(names):
        raise ValueError(f"Model names in the config must be unique. Received: {names}")
    return models


def batching_parameters(text):
    """Reads a ``batching_parameters_file`` into the batcher's keyword arguments."""
    root = parse(text)
    params = {}
    for name in ("max_batch_size", "batch_timeout_micros", "max_enqueued_batches",
                 "num_batch_threads"):
        value = _wrapped(root, name, None)
        if value is not None:
            params[name] = int(value)
    if "allowed_batch_sizes" in root:
        params["allowed_batch_sizes"] = [int(v) for v in root["allowed_batch_sizes"]]
    return params
