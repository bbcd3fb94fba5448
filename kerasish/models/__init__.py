"""Model, Functional, Sequential; ``model_from_json``, ``clone_model``, and Keras's aliases
``load_model`` / ``save_model`` (from ``kerasish.saving``)."""
from .functional import Functional
from .model import Model, clone_model, model_from_json
from .sequential import Sequential

__all__ = ["Model", "Functional", "Sequential", "clone_model", "load_model", "model_from_json",
           "save_model"]


def __getattr__(name):
    # NOTE: lazy, because kerasish.saving imports the models.
    if name in ("load_model", "save_model"):
        from .. import saving

        return getattr(saving, name)
    raise AttributeError(f"module 'kerasish.models' has no attribute {name!r}")
