"""Model server: TF Serving's REST API (and KServe v2) over kerasish models, with versions, hot
reload, dynamic batching and Prometheus metrics. Needs the ``serving`` extra (Starlette,
uvicorn, prometheus-client), imported only when a server is built.

    kerasish serve --rest_api_port=8501 --model_name=mlp --model_base_path=/models/mlp

>>> from kerasish.serving import ModelServer
>>> server = ModelServer([{"name": "mlp", "base_path": "/models/mlp"}], port=0).start()
"""


def __getattr__(name):
    if name == "ModelServer":
        from .server import ModelServer
        return ModelServer
    if name == "ServerCore":
        from .repository import ServerCore
        return ServerCore
    raise AttributeError(f"module 'kerasish.serving' has no attribute {name!r}")


__all__ = ["ModelServer", "ServerCore"]
