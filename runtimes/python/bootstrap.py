"""Entry point of Lambdabox's Python runtime interface client.

The execution environment starts it as ``/usr/bin/python3 [-S] /var/runtime/bootstrap.py``
with the environment AWS Lambda sets (``_HANDLER``, ``AWS_LAMBDA_RUNTIME_API``,
``LAMBDA_TASK_ROOT``, ...). Only the standard library is used, and nothing depends on
``site``, so ``-S`` is fine (and faster).

This file stays tiny: the client lives in the ``lambdabox_ric`` package next to it.
"""

import os
import sys


def _main():
    runtime_dir = os.path.dirname(os.path.abspath(__file__))
    if sys.path[:1] != [runtime_dir]:
        sys.path.insert(0, runtime_dir)
    from lambdabox_ric.main import main

    if os.environ.get("LAMBDABOX_ZYGOTE") == "1":
        from lambdabox_ric.zygote import await_assignment

        await_assignment()
    main(runtime_dir)


if __name__ == "__main__":
    _main()
