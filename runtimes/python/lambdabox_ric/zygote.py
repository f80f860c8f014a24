"""A Python runtime started before its function is known: a *zygote*.

The engine keeps a few sandboxes in which ``bootstrap.py`` has already started the interpreter
and imported this client (``LAMBDABOX_ZYGOTE=1``), waiting on stdin. A Python cold start takes
one: the engine mounts the function's code at ``/var/task`` (and its layers at ``/opt``) into
the running sandbox, sets its limits, and writes the function's whole environment to stdin as
one JSON object, then closes it. The zygote replaces its environment with that one, points
stdin back at ``/dev/null``, enters ``/var/task`` (the mount now on it) and carries on exactly
as a runtime started for the function: ``main`` imports the handler and asks for the event.
So a cold start skips the interpreter's start and the client's imports.
"""

import os


def await_assignment(fd=0):
    """Blocks until the engine hands this runtime a function; exits if it never does."""
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    if not chunks:
        os._exit(0)  # retired unused
    from . import fastjson

    env = fastjson.loads(b"".join(chunks))
    os.environ.clear()
    os.environ.update(env)
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, fd)
    os.close(null)
    import time

    time.tzset()
    os.chdir(env.get("LAMBDA_TASK_ROOT") or "/var/task")
