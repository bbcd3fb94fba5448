"""What did not map when loading weights, and weights files that cannot be read.

Shared by both weights formats (``legacy_h5``, ``keras_weights_h5``). Keras's own message stays
first in every error; the listing made here follows it, one row per layer, model -> file::

    #1 conv2d_1 (Conv2D, 1 weight) -> #1 conv2d_1 (1 weight): shape mismatch
        conv2d_1/kernel (3, 3, 32, 64) vs conv2d_1/kernel:0 (3, 3, 16, 64)

Loaders read and check everything first and only then assign (``assign_all``), so a load that
fails leaves the model's weights as they were.
"""
from __future__ import annotations

import contextlib
import difflib
import os

import numpy as np

NOTHING = "(nothing)"
_NUMBER_KINDS = "fiub"  # float, int, unsigned, bool: what a variable can be assigned from
_LIST_LIMIT = 20


class WeightsFileError(ValueError):
    """A weights file that cannot be read: truncated, corrupted, or laid out wrongly.

    >>> raise WeightsFileError("Could not load weights from w.h5: ...")
    """


def h5py_module():
    """``h5py``, imported on first use, with Keras's message when it is missing.

    >>> h5py = h5py_module()
    """
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - h5py is a dependency
        raise ImportError("Loading and saving HDF5 files requires the h5py package. "
                          "You can install it via `pip install h5py`") from e
    return h5py


def source_name(source):
    """A file name for messages: ``source`` itself, or the file of an open h5py object.

    >>> source_name(f["model_weights"])
    'm.h5'
    """
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    name = getattr(getattr(source, "file", None), "filename", None)
    return name if isinstance(name, str) else "an in-memory HDF5 file"


def file_error(source, problem):
    """The error for an unreadable file; ``source`` is a path or an open h5py object.

    >>> file_error("w.h5", "the dataset 'd/kernel:0' is missing")
    """
    return WeightsFileError(f"Could not load weights from {source_name(source)}: {problem}")


def open_h5(path):
    """``h5py.File(path, "r")``; a file that is not HDF5 (truncated, corrupted, another
    format) gives a WeightsFileError naming it. A missing file stays a FileNotFoundError.

    >>> with open_h5("w.h5") as f: ...
    """
    h5py = h5py_module()
    try:
        return h5py.File(path, "r")
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except OSError as e:
        raise file_error(path, "it is not a readable HDF5 file; it may be truncated or "
                         f"corrupted. (h5py: {e})") from e


@contextlib.contextmanager
def reading(source):
    """Turns h5py's low-level errors met while reading ``source`` into a WeightsFileError.

    >>> with reading(f): values = read_everything(f)
    """
    try:
        yield
    except WeightsFileError:
        raise
    except (OSError, RuntimeError, KeyError, UnicodeError) as e:
        raise file_error(source, "the file is corrupted or truncated; reading it failed with "
                         f"{type(e).__name__}: {e}") from e


def check_dataset(obj, where):
    """``obj`` when it is an h5py Dataset of numbers; otherwise a WeightsFileError.

    >>> check_dataset(f["dense/dense/kernel:0"], "weight 'dense/kernel:0'")
    """
    h5py = h5py_module()
    if not isinstance(obj, h5py.Dataset):
        raise file_error(obj, f"{where} at {obj.name} is a {type(obj).__name__}, not a dataset")
    if obj.dtype.kind not in _NUMBER_KINDS:
        raise file_error(obj, f"{where} at {obj.name} holds {obj.dtype} values, not numbers")
    return obj


def read_array(dataset):
    """The whole dataset as a NumPy array (a scalar dataset gives a 0-d array).

    >>> read_array(f["dense/dense/kernel:0"]).shape
    (4, 3)
    """
    return np.asarray(dataset[()])


def assign_all(pairs):
    """Assigns every ``(variable, value)``; if one assignment fails, the ones already made are
    undone, so the model keeps the weights it had.

    >>> assign_all([(layer.kernel, kernel_value), (layer.bias, bias_value)])
    """
    done = []
    try:
        for variable, value in pairs:
            # NOTE: a copy: numpy() may return the variable's own buffer, which assign overwrites.
            old = np.array(variable.numpy(), copy=True)
            variable.assign(value)
            done.append((variable, old))
    except BaseException:
        for variable, old in reversed(done):
            variable.assign(old)
        raise


# -- the listing --------------------------------------------------------------------------------
def plural(n, word):
    """``1 weight``, ``2 weights``.

    >>> plural(2, "weight")
    '2 weights'
    """
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def name_list(names, limit=_LIST_LIMIT):
    """``['a', 'b']``, cut after ``limit`` names with a count of the rest.

    >>> name_list(["a", "b", "c"], limit=2)
    "['a', 'b', ... (1 more)]"
    """
    names = list(names)
    if len(names) <= limit:
        return repr(names)
    return repr(names[:limit])[:-1] + f", ... ({len(names) - limit} more)]"


def weights_text(named_shapes):
    """``kernel (3, 3), bias (3,)``.

    >>> weights_text([("kernel", (3, 3)), ("bias", (3,))])
    'kernel (3, 3), bias (3,)'
    """
    return ", ".join(f"{name} {shape if isinstance(shape, str) else tuple(shape)}"
                     for name, shape in named_shapes) or "none"


def compare(model_weights, file_weights, noun="weight"):
    """(status, detail lines) for one model layer against one file layer, each given as
    ``[(weight name, shape)]`` in loading order.

    >>> compare([("c/kernel", (3, 3, 32, 64))], [("c/kernel:0", (3, 3, 16, 64))])
    ('shape mismatch', ['c/kernel (3, 3, 32, 64) vs c/kernel:0 (3, 3, 16, 64)'])
    """
    if len(model_weights) != len(file_weights):
        return (f"{noun} count mismatch: {len(model_weights)} in the model, "
                f"{len(file_weights)} in the file",
                [f"model: {weights_text(model_weights)}", f"file:  {weights_text(file_weights)}"])
    bad = [f"{m_name} {tuple(m_shape)} vs {f_name} {tuple(f_shape)}"
           for (m_name, m_shape), (f_name, f_shape) in zip(model_weights, file_weights)
           if tuple(m_shape) != tuple(f_shape)]
    return ("shape mismatch", bad) if bad else ("ok", [])


class Row:
    """One line of the listing: model side -> file side: status, then indented details.

    >>> Row("#2 cx (Conv2D, 2 weights)", NOTHING, "missing from the file").lines()
    ['  #2 cx (Conv2D, 2 weights) -> (nothing): missing from the file']
    """

    __slots__ = ("model", "file", "status", "details")

    def __init__(self, model, file, status, details=()):
        self.model, self.file, self.status, self.details = model, file, status, list(details)

    @property
    def ok(self):
        return self.status == "ok"

    def lines(self):
        return [f"  {self.model} -> {self.file}: {self.status}"] + \
            [f"      {d}" for d in self.details]


def _summary(rows):
    missing = sum(r.status.startswith("missing") for r in rows)
    extra = sum(r.status.startswith("extra") for r in rows)
    shape = sum(r.status == "shape mismatch" for r in rows)
    count = sum("count mismatch" in r.status for r in rows)
    other = sum(1 for r in rows if not r.ok) - missing - extra - shape - count
    parts = [f"{missing} missing from the file" if missing else "",
             f"{extra} extra in the file" if extra else "",
             f"{shape} with a shape mismatch" if shape else "",
             f"{count} with a count mismatch" if count else "",
             f"{other} that could not be read" if other else ""]
    parts = [p for p in parts if p]
    return "Not mapped: " + ", ".join(parts) + "." if parts else "Every layer maps."


def listing(title, rows, hint=None, collapse=4):
    """The text appended to an error: ``title``, a summary, the rows (runs of at least
    ``collapse`` matching rows folded into one line) and an optional hint.

    >>> print(listing("Layers, model -> file w.h5:", rows))
    """
    lines = [title, _summary(rows)]
    i = 0
    while i < len(rows):
        j = i
        while j < len(rows) and rows[j].ok:
            j += 1
        if j - i >= collapse:
            lines.append(f"  ... {j - i} layers that map (model {rows[i].model.split(' ')[0]} to "
                         f"{rows[j - 1].model.split(' ')[0]}) ...")
            i = j
            continue
        lines.extend(rows[i].lines())
        i += 1
    if hint:
        lines.append(hint)
    return "\n".join(lines)


def group_label(vars_group):
    """``layers/dense/vars (2 variables)``: a Keras 3 ``vars`` group for the listing.

    >>> group_label(f["layers/dense/vars"])
    'layers/dense/vars (2 variables)'
    """
    return f"{vars_group.name.lstrip('/')} ({plural(len(vars_group), 'variable')})"


def group_entries(vars_group):
    """[(path, shape)] of a ``vars`` group's entries, in ``0``, ``1``, ... order.

    >>> group_entries(f["layers/dense/vars"])
    [('layers/dense/vars/0', (4, 3)), ('layers/dense/vars/1', (3,))]
    """
    # NOTE: sorted by (length, text), so "10" comes after "9".
    return [(f"{vars_group.name.lstrip('/')}/{k}", getattr(vars_group[k], "shape", "(group)"))
            for k in sorted(vars_group.keys(), key=lambda k: (len(k), k))]


def unreached_vars_rows(f, seen):
    """Rows for the ``vars`` groups of a Keras 3 file that hold datasets but that no object of
    the model reached (``seen``: the absolute names of the groups that were read).

    >>> unreached_vars_rows(f, {"/vars", "/layers/dense/vars"})
    """
    h5py, rows = h5py_module(), []

    def visit(name, obj):
        if isinstance(name, bytes):  # h5py hands over names it cannot decode as bytes
            name = name.decode("utf8", "replace")
        if name.split("/")[-1] == "vars" and isinstance(obj, h5py.Group) and \
                obj.name not in seen and any(isinstance(v, h5py.Dataset) for v in obj.values()):
            rows.append(Row(NOTHING, f"{name} ({plural(len(obj), 'variable')})",
                            "extra in the file: no object of the model is at this path"))
    f.visititems(visit)
    return rows


def align(model_sigs, file_sigs, model_names=None, file_names=None):
    """(model index or None, file index or None) pairs that line two lists of layers up; a
    signature is a layer's tuple of weight shapes.

    The longest runs of equal (name, signature) are matched first, then, inside what is left,
    runs of equal signatures, then of equal weight ranks (a layer added in the middle changes
    the next layer's shapes but not its kind), then positions. A layer added or removed thus
    shows up as missing or extra instead of shifting every row after it; lists that differ
    only in shapes pair by position.

    >>> align([((3, 2),), ((2,),)], [((2,),)])
    [(0, None), (1, 0)]
    """
    keys = []
    for sigs, names in ((model_sigs, model_names), (file_sigs, file_names)):
        ranks = [tuple(len(shape) for shape in sig) for sig in sigs]
        named = list(zip(names, sigs)) if names is not None else list(sigs)
        keys.append([named, list(sigs), ranks])
    return _align_level(keys[0], keys[1], 0, len(model_sigs), 0, len(file_sigs))


def _align_level(model_keys, file_keys, i1, i2, j1, j2):
    if not model_keys:  # no coarser key left: pair what remains by position
        n = min(i2 - i1, j2 - j1)
        return ([(i1 + k, j1 + k) for k in range(n)] + [(i, None) for i in range(i1 + n, i2)]
                + [(None, j) for j in range(j1 + n, j2)])
    matcher = difflib.SequenceMatcher(None, model_keys[0][i1:i2], file_keys[0][j1:j2],
                                      autojunk=False)
    pairs = []
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        a1, a2, b1, b2 = a1 + i1, a2 + i1, b1 + j1, b2 + j1
        if tag == "equal":
            pairs += [(a1 + k, b1 + k) for k in range(a2 - a1)]
        else:
            pairs += _align_level(model_keys[1:], file_keys[1:], a1, a2, b1, b2)
    return pairs


__all__ = ["WeightsFileError", "align", "assign_all", "check_dataset", "compare", "file_error",
           "group_entries", "group_label", "listing", "open_h5", "reading", "source_name",
           "unreached_vars_rows"]
