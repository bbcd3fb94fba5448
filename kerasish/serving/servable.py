"""One loaded model version: its signature, its batcher (when batching is on) and warm-up."""
import numpy as np

from .batcher import Batcher
from .signature import Signature


class Servable:
    """A model version ready for requests; ``predict`` runs it directly, ``submit`` through the
    batcher (``None`` when batching is off)."""

    def __init__(self, name, version, model, batching=None, metrics=None):
        self.name, self.version, self.model = name, version, model
        self.signature = Signature(model)
        self.batcher = None
        self._metrics = metrics
        if batching is not None:
            on_batch = None
            if metrics is not None:
                hist = metrics.batch_size.labels(name)
                on_batch = (lambda size, padded: hist.observe(size))
            self.batcher = Batcher(self.signature.predict, on_batch=on_batch,
                                   name=f"batch-{name}-{version}", **batching)
            if metrics is not None:
                metrics.watch_queue(name, version, self.batcher)

    @classmethod
    def load(cls, name, version, path, batching=None, metrics=None):
        """Loads ``path`` (``.keras`` / ``.h5``), then warms it up with one batch of zeros."""
        from ..saving import load_model

        model = load_model(path, compile=False)
        servable = cls(name, version, model, batching, metrics)
        try:
            outputs = servable.signature.predict(servable.signature.warmup_inputs())
            for n, a in outputs.items():
                if not isinstance(a, np.ndarray):
                    raise TypeError(f"Output {n!r} of the warm-up batch is not an array")
        except BaseException:
            servable.close()
            raise
        return servable

    def predict(self, arrays):
        """Coerced inputs -> outputs, in the calling thread."""
        return self.signature.predict(arrays)

    def close(self):
        if self.batcher is not None:
            self.batcher.stop()
            if self._metrics is not None:
                self._metrics.forget_queue(self.name, self.version)
        self.batcher = None
        self.model = None
        self.signature = None
