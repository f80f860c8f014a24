"""Process set-up and wiring of the Python runtime: environment, sys.path, logging, client."""

import os
import sys

from . import logs
from .handler import add_site_dir_pth, build_sys_path, layer_paths
from .httpconn import HttpConnection
from .invoke import run
from .runtime_api import RuntimeApiClient

USER_AGENT = "aws-lambda-python/%d.%d.%d-lambdabox" % sys.version_info[:3]


def setup_process(runtime_dir, environ=None):
    """Everything AWS's bootstrap does before importing the handler. Returns the handler name."""
    env = os.environ if environ is None else environ
    task_root = env.get("LAMBDA_TASK_ROOT") or os.getcwd()
    sys.path[:] = build_sys_path(task_root, runtime_dir, sys.path)
    add_site_dir_pth(layer_paths()[1])
    logs.make_unbuffered()
    logs.setup_logging(env.get("AWS_LAMBDA_LOG_LEVEL"))
    return env.get("_HANDLER", "")


def main(runtime_dir):
    handler_name = setup_process(runtime_dir)
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
    client = RuntimeApiClient(HttpConnection(address, user_agent=USER_AGENT))
    run(handler_name, client, runtime_dir)
