"""Prometheus metrics of one server (its own registry, so several servers in one process keep
apart), served at TF Serving's path ``/monitoring/prometheus/metrics``."""


def _prometheus():
    try:
        import prometheus_client
    except ImportError as e:  # pragma: no cover - the extra names it
        raise ImportError("The model server needs prometheus-client: "
                          "pip install 'kerasish[serving]'") from e
    return prometheus_client


_LATENCY_BUCKETS = (.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Metrics:
    """Requests (by model, API and HTTP status), request latency, batch sizes, queue depth,
    model loads."""

    def __init__(self):
        pc = _prometheus()
        self._pc = pc
        self.registry = pc.CollectorRegistry()
        r = self.registry
        self.requests = pc.Counter("kerasish_serving_requests", "Requests answered",
                                   ["model", "api", "status"], registry=r)
        self.latency = pc.Histogram("kerasish_serving_request_latency_seconds",
                                    "Time from request to answer", ["model", "api"],
                                    buckets=_LATENCY_BUCKETS, registry=r)
        self.batch_size = pc.Histogram("kerasish_serving_batch_size",
                                       "Requests' rows per batch run (before padding)",
                                       ["model"], buckets=_BATCH_BUCKETS, registry=r)
        self.queue_depth = pc.Gauge("kerasish_serving_queue_depth",
                                    "Requests waiting in the batch queue", ["model", "version"],
                                    registry=r)
        self.loads = pc.Counter("kerasish_serving_model_loads", "Version loads by outcome",
                                ["model", "outcome"], registry=r)

    def watch_queue(self, model, version, batcher):
        self.queue_depth.labels(model, str(version)).set_function(lambda: batcher.queued_tasks)

    def forget_queue(self, model, version):
        try:
            self.queue_depth.remove(model, str(version))
        except KeyError:
            pass

    def render(self):
        """``(body, content type)`` of the exposition."""
        return self._pc.generate_latest(self.registry), self._pc.CONTENT_TYPE_LATEST
