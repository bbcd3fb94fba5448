"""The HTTP side: TF Serving's REST API (``/v1``), KServe's v2 inference protocol (``/v2``) and
Prometheus metrics, as one Starlette app over a ``ServerCore``.

TF Serving's ``name:verb`` paths are matched with its own regular expressions (case-blind).
The model never runs on the event loop: without batching a request is decoded, run and encoded
in a thread pool; with batching the loop decodes it (after refusing it cheaply if the queue is
full) and the batcher's threads run the model.
"""
import asyncio
import concurrent.futures
import logging
import os
import re
import time

from . import codec
from .batcher import QUEUE_FULL
from .errors import ServingError, invalid_argument, not_found, unavailable

logger = logging.getLogger("kerasish.serving")
_PREDICT = re.compile(r"/v1/models/([^/:]+)(?:/versions/(\d+)|/labels/([^/:]+))?"
                      r":(classify|regress|predict)", re.I)
_STATUS = re.compile(r"/v1/models(?:/([^/:]+))?(?:/versions/(\d+)|/labels/([^/:]+))?"
                     r"(?:/(metadata))?", re.I)
_V2_MODEL = re.compile(r"/v2/models/([^/]+)(?:/versions/(\d+))?(?:/(infer|ready))?")


def _starlette():
    try:
        from starlette.applications import Starlette
        from starlette.responses import Response
        from starlette.routing import Route
    except ImportError as e:  # pragma: no cover - the extra names it
        raise ImportError("The model server needs starlette and uvicorn: "
                          "pip install 'kerasish[serving]'") from e
    return Starlette, Response, Route


def _version_number(text):
    return None if text is None else int(text)


class RestApi:
    """The request handlers; ``app`` is the ASGI application."""

    def __init__(self, core, metrics=None, workers=None):
        Starlette, self._Response, Route = _starlette()
        self.core, self.metrics = core, metrics
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers or max(4, os.cpu_count() or 1), thread_name_prefix="predict")
        # One route: TF Serving matches /v1 paths without regard to case.
        self.app = Starlette(routes=[Route("/{rest:path}", self.dispatch,
                                           methods=["GET", "POST"])])

    def close(self):
        self.pool.shutdown(wait=True)

    # -- plumbing --------------------------------------------------------------------------------
    def _json(self, body, status=200):
        if not isinstance(body, bytes):
            body = codec.dumps(body)
        return self._Response(body, status_code=status, media_type="application/json")

    async def _answer(self, model, api, handler):
        start = time.perf_counter()
        try:
            response = self._json(await handler())
        except ServingError as e:
            response = self._json({"error": e.message}, e.http_status)
        except Exception as e:
            logger.exception("Request failed (model %s, %s)", model, api)
            response = self._json({"error": f"Internal: {type(e).__name__}: {e}"}, 500)
        if self.metrics is not None:
            self.metrics.requests.labels(model, api, str(response.status_code)).inc()
            self.metrics.latency.labels(model, api).observe(time.perf_counter() - start)
        return response

    async def _off_loop(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    async def dispatch(self, request):
        path = request.url.path.lower()
        if path.startswith("/v1/") or path == "/v1":
            return await self.v1(request)
        if path == "/v2" and request.method == "GET":
            return await self.v2_server(request)
        if path.startswith("/v2/"):
            return await self.v2(request)
        if path == "/monitoring/prometheus/metrics" and request.method == "GET":
            return await self.prometheus(request)
        return self._Response("Not Found", status_code=404, media_type="text/plain")

    # -- /v1: TF Serving -------------------------------------------------------------------------
    async def v1(self, request):
        path, method = request.url.path, request.method
        m = _PREDICT.fullmatch(path) if method == "POST" else _STATUS.fullmatch(path)
        if m is None:
            return await self._answer("", "malformed", self._malformed(method, path))
        if method == "POST":
            name, version, label, verb = m.groups()
            if verb.lower() != "predict":
                return await self._answer(name, verb.lower(), self._unimplemented(verb))
            return await self._answer(name, "predict", lambda: self._predict(
                request, name, _version_number(version), label))
        name, version, label, metadata = m.groups()
        api = "metadata" if metadata else "status"
        handler = self._metadata if metadata else self._status
        return await self._answer(name or "", api, lambda: handler(
            name, _version_number(version), label))

    def _malformed(self, method, path):
        async def fail():
            raise invalid_argument(f"Malformed request: {method} {path}")
        return fail

    def _unimplemented(self, verb):
        async def fail():
            raise ServingError("UNIMPLEMENTED", f"kerasish models serve `predict` only; "
                                                f"`{verb}` needs a classify/regress signature")
        return fail

    async def _status(self, name, version, label):
        if not name:
            raise invalid_argument("Missing model name in request.")
        return self.core.status(name, version, label)

    async def _metadata(self, name, version, label):
        if not name:
            raise invalid_argument("Missing model name in request.")
        with self.core.servable(name, version, label) as servable:
            return {"model_spec": {"name": name, "signature_name": "",
                                   "version": str(servable.version)},
                    "metadata": {"signature_def": servable.signature.tf_signature_def()}}

    async def _predict(self, request, name, version, label):
        body = await request.body()
        with self.core.servable(name, version, label) as servable:
            signature = servable.signature
            if servable.batcher is None:
                return await self._off_loop(_predict_now, servable, body)
            _refuse_if_full(servable.batcher)
            arrays, fmt = codec.decode_predict(body, signature)
            arrays = signature.coerce(arrays)
            outputs = await asyncio.wrap_future(servable.batcher.submit(arrays))
            return codec.encode_predict(outputs, fmt, signature)

    # -- /v2: KServe -----------------------------------------------------------------------------
    async def v2_server(self, request):
        from .. import __version__
        return self._json({"name": "kerasish", "version": __version__, "extensions": []})

    async def v2(self, request):
        path, method = request.url.path, request.method
        if path in ("/v2/health/live", "/v2/health/ready") and method == "GET":
            ready = path.endswith("live") or self._all_ready()
            return self._json({"live" if path.endswith("live") else "ready": ready},
                              200 if ready else 400)
        m = _V2_MODEL.fullmatch(path)
        if m is None or (m.group(3) == "infer") != (method == "POST"):
            return self._json({"error": f"Malformed request: {method} {path}"}, 400)
        name, version, verb = m.group(1), _version_number(m.group(2)), m.group(3)
        if verb == "infer":
            return await self._answer(name, "v2_infer", lambda: self._infer(request, name,
                                                                            version))
        if verb == "ready":
            return await self._answer(name, "v2_ready", lambda: self._ready(name, version))
        return await self._answer(name, "v2_metadata", lambda: self._v2_metadata(name, version))

    def _all_ready(self):
        for name in self.core.models:
            try:
                with self.core.servable(name):
                    pass
            except ServingError:
                return False
        return True

    async def _ready(self, name, version):
        with self.core.servable(name, version):
            return {"name": name, "ready": True}

    async def _v2_metadata(self, name, version):
        with self.core.servable(name, version) as servable:
            status = self.core.status(name)["model_version_status"]
            return {"name": name, "platform": "kerasish",
                    "versions": [s["version"] for s in status if s["state"] == "AVAILABLE"],
                    "inputs": [s.v2_info() for s in servable.signature.inputs],
                    "outputs": [s.v2_info() for s in servable.signature.outputs]}

    async def _infer(self, request, name, version):
        body = await request.body()
        with self.core.servable(name, version) as servable:
            arrays, names, request_id = codec.decode_v2(body, servable.signature)
            arrays = servable.signature.coerce(arrays)
            if servable.batcher is None:
                outputs = await self._off_loop(servable.predict, arrays)
            else:
                _refuse_if_full(servable.batcher)
                outputs = await asyncio.wrap_future(servable.batcher.submit(arrays))
            return codec.encode_v2(outputs, names, name, servable.version, request_id)

    # -- metrics ---------------------------------------------------------------------------------
    async def prometheus(self, request):
        if self.metrics is None:
            raise not_found("Metrics are off")
        body, content_type = self.metrics.render()
        return self._Response(body, headers={"Content-Type": content_type})


def _refuse_if_full(batcher):
    if batcher.full():
        raise unavailable(QUEUE_FULL)


def _predict_now(servable, body):
    """Decode, run and encode one ``:predict`` request in the calling (pool) thread."""
    signature = servable.signature
    arrays, fmt = codec.decode_predict(body, signature)
    outputs = servable.predict(signature.coerce(arrays))
    return codec.encode_predict(outputs, fmt, signature)
