"""A data dir under a directory only root may enter (the default
`./.lambdabox` of a checkout under /root, say) still runs functions: the
files sandboxes open move to a work dir of the server's own under the
system's temp dir, while the durable state stays in the data dir."""

import json
import shutil
import signal
import tempfile
from pathlib import Path

from support import ROLE, Server, make_zip, unique_name


def test_functions_run_with_a_private_data_dir(server_logs):
    private = Path(tempfile.mkdtemp(prefix="lambdabox-private-"))
    try:
        private.chmod(0o700)
        srv = Server(private / "data", server_logs, name="private").start()
        lam = srv.client()
        name = unique_name("priv")
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                            Code={"ZipFile": make_zip({"app.py": "def handler(e, c):\n    return {'ok': e['n'] + 1}\n"})})
        r = lam.invoke(FunctionName=name, Payload=json.dumps({"n": 41}))
        assert "FunctionError" not in r
        assert json.loads(r["Payload"].read()) == {"ok": 42}
        assert (private / "data" / "lambdabox.db").is_file(), "the durable state stays in the data dir"
        assert srv.signal_and_wait(signal.SIGTERM) == 0
    finally:
        shutil.rmtree(private, ignore_errors=True)
