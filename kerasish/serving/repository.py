"""Model repositories and their versions: TF Serving's manager, small.

A model's base path holds one folder per version, ``<base_path>/<version>/model.keras`` (or
``model.h5``). ``ServerCore.poll()`` lists them, picks the wanted ("aspired") versions with the
model's version policy, loads new ones (load, warm up with one batch, then make available),
and unloads versions no longer wanted once some wanted version is available: the old version
stops taking requests, drains those in flight, and is dropped. A version that fails to load is
reported in its status and not retried until its folder changes; the serving version stays.
An unloaded version that is wanted again is loaded again.
A background thread polls every ``file_system_poll_wait_seconds``.
"""
import gc
import logging
import os
import threading

from .errors import ServingError, invalid_argument, not_found, unavailable
from .servable import Servable

logger = logging.getLogger("kerasish.serving")
MODEL_FILES = ("model.keras", "model.h5")
START, LOADING, AVAILABLE, UNLOADING, END = "START", "LOADING", "AVAILABLE", "UNLOADING", "END"


class Version:
    """One version's state, as TF Serving's ``model_version_status`` reports it."""

    def __init__(self, number, path):
        self.number, self.path = number, path
        self.state, self.error_code, self.error_message = START, "OK", ""
        self.servable, self.fingerprint, self.in_flight = None, None, 0

    def status(self):
        return {"version": str(self.number), "state": self.state,
                "status": {"error_code": self.error_code, "error_message": self.error_message}}


def _fingerprint(path):
    try:
        return tuple(sorted((e.name, e.stat().st_size, e.stat().st_mtime_ns)
                            for e in os.scandir(path)))
    except OSError:
        return None


def _model_file(path):
    for name in MODEL_FILES:
        if os.path.isfile(os.path.join(path, name)):
            return os.path.join(path, name)
    raise FileNotFoundError(f"Could not find {' or '.join(MODEL_FILES)} in the version folder "
                            f"{path}")


class ModelEntry:
    def __init__(self, name, base_path, policy=("latest", 1), labels=None):
        self.name, self.base_path = name, os.path.abspath(base_path)
        self.policy, self.labels = policy, dict(labels or {})
        self.versions = {}  # number -> Version (every version seen, unloaded ones as END)

    def on_disk(self):
        try:
            entries = list(os.scandir(self.base_path))
        except OSError as e:
            logger.warning("Model %s: cannot list %s: %s", self.name, self.base_path, e)
            return {}
        return {int(e.name): e.path for e in entries
                if e.name.isdigit() and e.is_dir() and not e.name.startswith(".")}

    def aspired(self, found):
        kind, arg = self.policy
        numbers = sorted(found)
        if kind == "latest":
            return set(numbers[-arg:]) if numbers else set()
        if kind == "specific":
            return {n for n in arg if n in found}
        return set(numbers)


class ServerCore:
    """The models of one server, their versions and the poll thread.

    >>> core = ServerCore([{"name": "mlp", "base_path": "/models/mlp"}], poll_seconds=1)
    >>> core.start()
    >>> with core.servable("mlp") as servable: ...
    """

    def __init__(self, models, poll_seconds=1.0, batching=None, metrics=None):
        self.models = {}
        for m in models:
            self.models[m["name"]] = ModelEntry(m["name"], m["base_path"],
                                                m.get("policy", ("latest", 1)), m.get("labels"))
        self.poll_seconds = float(poll_seconds)
        self.batching, self.metrics = batching, metrics
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._poll_lock = threading.Lock()
        self._thread = None
        self._unloaders = []

    # -- life cycle ------------------------------------------------------------------------------
    def start(self, background=True):
        """Loads what is on disk now, then polls in the background (if ``poll_seconds`` > 0)."""
        self.poll()
        if background and self.poll_seconds > 0:
            self._thread = threading.Thread(target=self._poll_loop, name="kerasish-serving-poll",
                                            daemon=True)
            self._thread.start()

    def _poll_loop(self):
        while not self._stop.wait(self.poll_seconds):
            try:
                self.poll()
            except Exception:  # a bad poll must not end the thread
                logger.exception("Polling the model repositories failed")

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for t in list(self._unloaders):
            t.join()
        for entry in self.models.values():
            for v in list(entry.versions.values()):
                if v.state == AVAILABLE:
                    self._unload(entry, v, wait=False)

    # -- polling ---------------------------------------------------------------------------------
    def poll(self):
        """One pass over every model: load new aspired versions, unload unwanted ones."""
        with self._poll_lock:
            for entry in self.models.values():
                self._poll_model(entry)

    def _poll_model(self, entry):
        found = entry.on_disk()
        aspired = entry.aspired(found)
        for number in sorted(aspired, reverse=True):  # newest first: it serves "latest"
            v = entry.versions.get(number)
            fp = _fingerprint(found[number])
            if v is None or (v.state == END and (v.error_code == "OK" or v.fingerprint != fp)):
                v = Version(number, found[number])
                with self._lock:
                    entry.versions[number] = v
                self._load(entry, v, fp)
        with self._lock:
            serving = any(entry.versions[n].state == AVAILABLE for n in aspired
                          if n in entry.versions)
            retire = [v for n, v in entry.versions.items()
                      if n not in aspired and v.state == AVAILABLE and (serving or not aspired)]
        for v in retire:
            self._unload(entry, v)

    def _load(self, entry, v, fingerprint):
        with self._lock:
            v.state, v.fingerprint = LOADING, fingerprint
        try:
            servable = Servable.load(entry.name, v.number, _model_file(v.path), self.batching,
                                     self.metrics)
        except Exception as e:
            code = "NOT_FOUND" if isinstance(e, FileNotFoundError) else "UNKNOWN"
            logger.error("Model %s version %s failed to load: %s", entry.name, v.number, e)
            with self._lock:
                v.state, v.error_code, v.error_message = END, code, f"{type(e).__name__}: {e}"
            if self.metrics is not None:
                self.metrics.loads.labels(entry.name, "error").inc()
            return
        with self._lock:
            v.servable, v.state = servable, AVAILABLE
            self._lock.notify_all()
        if self.metrics is not None:
            self.metrics.loads.labels(entry.name, "ok").inc()
        logger.info("Model %s version %s is available", entry.name, v.number)

    def _unload(self, entry, v, wait=True):
        with self._lock:
            v.state = UNLOADING  # takes no new requests from here on

        def drain():
            with self._lock:
                self._lock.wait_for(lambda: v.in_flight == 0, timeout=60)
                servable, v.servable = v.servable, None
            if servable is not None:
                servable.close()
            del servable
            gc.collect()  # layers and nodes hold cycles; free the weights now
            with self._lock:
                v.state = END
            logger.info("Model %s version %s unloaded", entry.name, v.number)

        if not wait:
            drain()
            return
        t = threading.Thread(target=drain, name=f"unload-{entry.name}-{v.number}", daemon=True)
        self._unloaders = [u for u in self._unloaders if u.is_alive()] + [t]
        t.start()

    # -- lookups ---------------------------------------------------------------------------------
    def _entry(self, name, what):
        entry = self.models.get(name)
        if entry is None:
            raise not_found(what)
        return entry

    def _resolve(self, entry, version, label):
        if version is not None and label is not None:
            raise invalid_argument(f"Both model version ({version}) and model version label "
                                   f"({label}) cannot be supplied.")
        if label is not None:
            if label not in entry.labels:
                raise invalid_argument(f"Unrecognized servable version label: {label}")
            return entry.labels[label]
        return version

    def servable(self, name, version=None, label=None):
        """A context manager holding the servable for one request (counted as in flight)."""
        return _Handle(self, name, version, label)

    def _acquire(self, name, version, label):
        spec = f"Specific({name}, {version})" if version is not None else f"Latest({name})"
        entry = self._entry(name, f"Servable not found for request: {spec}")
        number = self._resolve(entry, version, label)
        spec = f"Specific({name}, {number})" if number is not None else spec
        with self._lock:
            if number is None:
                live = [v for v in entry.versions.values() if v.state == AVAILABLE]
                v = max(live, key=lambda v: v.number) if live else None
                loading = any(v.state in (START, LOADING) for v in entry.versions.values())
            else:
                v = entry.versions.get(number)
                loading = v is not None and v.state in (START, LOADING)
                v = v if v is not None and v.state == AVAILABLE else None
            if v is None:
                if loading:
                    raise unavailable(f"Servable {spec} is not available yet: it is loading")
                raise not_found(f"Servable not found for request: {spec}")
            v.in_flight += 1
            return v

    def _release(self, v):
        with self._lock:
            v.in_flight -= 1
            if v.in_flight == 0:
                self._lock.notify_all()

    def status(self, name, version=None, label=None):
        """TF Serving's GetModelStatus answer (a dict)."""
        entry = self._entry(name, f"Could not find any versions of model {name}")
        number = self._resolve(entry, version, label)
        with self._lock:
            versions = sorted(entry.versions.values(), key=lambda v: -v.number)
            if number is not None:
                versions = [v for v in versions if v.number == number]
                if not versions:
                    raise not_found(f"Could not find version {number} of model {name}")
            elif not versions:
                raise not_found(f"Could not find any versions of model {name}")
            return {"model_version_status": [v.status() for v in versions]}

    def wait_for(self, name, version, timeout=30.0):
        """Blocks until ``version`` of ``name`` is available (tests, the CLI)."""
        entry = self._entry(name, f"Could not find any versions of model {name}")
        with self._lock:
            ok = self._lock.wait_for(lambda: getattr(entry.versions.get(version), "state", None)
                                     == AVAILABLE, timeout=timeout)
        if not ok:
            raise TimeoutError(f"Model {name} version {version} not available after {timeout}s")


class _Handle:
    def __init__(self, core, name, version, label):
        self.core, self.args, self.version = core, (name, version, label), None

    def __enter__(self):
        self.version = self.core._acquire(*self.args)
        return self.version.servable

    def __exit__(self, *exc):
        self.core._release(self.version)
        return False


__all__ = ["ServerCore", "ServingError", "MODEL_FILES"]
