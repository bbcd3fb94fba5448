"""``kerasish serve`` / ``python -m kerasish.serving``: flags named as
``tensorflow_model_server``'s.

    kerasish serve --rest_api_port=8501 --model_name=mlp --model_base_path=/models/mlp
    kerasish serve --model_config_file=models.config --enable_batching \\
        --batching_parameters_file=batching.config
"""
import argparse
import logging
import sys

from . import textproto


def _bool(text):
    if text.lower() in ("1", "true", "yes"):
        return True
    if text.lower() in ("0", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, received {text!r}")


def parser(prog="kerasish serve"):
    p = argparse.ArgumentParser(prog=prog, description="Serve kerasish models over TF "
                                "Serving's REST API (and KServe v2).")
    p.add_argument("--port", type=int, default=8500,
                   help="TF Serving's gRPC port; kerasish has no gRPC API and ignores it")
    p.add_argument("--rest_api_port", type=int, default=8501, help="HTTP port (default 8501)")
    p.add_argument("--rest_api_host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; 0.0.0.0 for every interface)")
    p.add_argument("--model_name", default="default", help="name of the single model")
    p.add_argument("--model_base_path", help="folder holding <version>/model.keras folders")
    p.add_argument("--model_config_file", help="a model_config_list file (text proto)")
    p.add_argument("--file_system_poll_wait_seconds", type=float, default=1.0,
                   help="seconds between looks for new versions (0: only at start)")
    p.add_argument("--enable_batching", type=_bool, nargs="?", const=True, default=False)
    p.add_argument("--batching_parameters_file", help="batching parameters (text proto)")
    return p


def _read(path, what):
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        raise SystemExit(f"Could not read the {what} {path}: {e}")


def options(argv):
    """Parses the flags into ``ModelServer`` keyword arguments (exits on bad flags)."""
    p = parser()
    args = p.parse_args(argv)
    if bool(args.model_base_path) == bool(args.model_config_file):
        p.error("set exactly one of --model_base_path (with --model_name) and "
                "--model_config_file")
    try:
        if args.model_config_file:
            models = textproto.model_config_list(_read(args.model_config_file,
                                                       "model config file"))
        else:
            models = [{"name": args.model_name, "base_path": args.model_base_path}]
        batching = None
        if args.enable_batching:
            batching = {} if not args.batching_parameters_file else \
                textproto.batching_parameters(_read(args.batching_parameters_file,
                                                    "batching parameters file"))
        elif args.batching_parameters_file:
            p.error("--batching_parameters_file needs --enable_batching")
    except ValueError as e:
        p.error(str(e))
    return {"models": models, "host": args.rest_api_host, "port": args.rest_api_port,
            "poll_seconds": args.file_system_poll_wait_seconds, "batching": batching}


def main(argv=None):
    """Runs the server in the foreground."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    opts = options(sys.argv[1:] if argv is None else argv)
    from .server import ModelServer

    ModelServer(**opts).run()


def console_main(argv=None):
    """The ``kerasish`` console script: ``kerasish serve [flags]``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] != "serve":
        print("usage: kerasish serve [--rest_api_port=8501] --model_name=NAME "
              "--model_base_path=DIR | --model_config_file=FILE  (see kerasish serve --help)",
              file=sys.stderr)
        return 2
    main(argv[1:])
    return 0
