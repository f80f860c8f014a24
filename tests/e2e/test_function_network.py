"""The anonymous network with egress that every environment gets, as on AWS.

A network namespace made here stands for "the internet": an HTTP server and
a DNS server (answering `*.internet.test`) at an address the host routes to
through a veth, as an uplink would. No packet leaves the machine: the
servers under test relay DNS to that resolver only (`--function-dns`).
Functions fetch from it by name and by address; they cannot reach the
host's own addresses (its listeners included), its loopback, the
link-local metadata range, or another environment; `--function-egress none`
takes the network away; and a stopped or killed server leaves no bridge,
veth or nftables table behind once restarted.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from support import REGION, make_zip, unique_name

HERE = Path(__file__).resolve().parent
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
PAGE = b"hello from the internet\n"

PROBE = r'''
import json, socket, urllib.request

def reach(host, port, timeout=3):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return "connected"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return type(e).__name__ + ":" + str(e.errno)

def handler(event, context):
    out = {}
    for url in event.get("fetch", []):
        try:
            out[url] = urllib.request.urlopen(url, timeout=5).read().decode()
        except Exception as e:
            out[url] = "error: " + repr(e)
    out["reach"] = {f"{h}:{p}": reach(h, p) for h, p in event.get("reach", [])}
    if "me" in event:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((event["me"], 9))
        out["address"] = s.getsockname()[0]
    try:
        out["resolv"] = open("/etc/resolv.conf").read()
    except OSError:
        out["resolv"] = None
    return out
'''

LISTENER = r'''
import socket, threading

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", 8080))
srv.listen(16)

def serve():
    while True:
        c, _ = srv.accept()
        c.close()

threading.Thread(target=serve, daemon=True).start()

def handler(event, context):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((event["me"], 9))
    me = s.getsockname()[0]
    try:
        socket.create_connection((me, 8080), timeout=3).close()
        self_check = "connected"
    except OSError as e:
        self_check = repr(e)
    return {"address": me, "self": self_check}
'''


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    if check:
        assert proc.returncode == 0, f"{' '.join(args)}: {proc.stderr}"
    return proc


class Internet:
    """A namespace with a web and a DNS server, routed from the host through a veth."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:6]
        self.ns = f"lbxt-inet-{tag}"
        self.host_if, self.ns_if = f"lbxt{tag}h", f"lbxt{tag}n"
        third = random.randint(0, 255)
        self.host_addr, self.addr = f"198.18.{third}.1", f"198.18.{third}.2"
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> "Internet":
        sh("ip", "netns", "add", self.ns)
        sh("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if, "netns", self.ns)
        sh("ip", "addr", "add", f"{self.host_addr}/30", "dev", self.host_if)
        sh("ip", "link", "set", self.host_if, "up")
        sh("ip", "-n", self.ns, "addr", "add", f"{self.addr}/30", "dev", self.ns_if)
        sh("ip", "-n", self.ns, "link", "set", self.ns_if, "up")
        sh("ip", "-n", self.ns, "link", "set", "lo", "up")
        self.root = Path(f"/tmp/{self.ns}")
        self.root.mkdir(exist_ok=True)
        (self.root / "index.html").write_bytes(PAGE)
        python = "/usr/bin/python3"
        web = ["ip", "netns", "exec", self.ns, python, "-m", "http.server", "80", "--bind", self.addr, "--directory", str(self.root)]
        dns = ["ip", "netns", "exec", self.ns, python, str(HERE / "fake_dns.py"), self.addr, "internet.test", self.addr]
        for cmd in (web, dns):
            self.procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
        assert self.procs[1].stdout.readline().strip() == b"ready"
        # The web server is up once it accepts (checked from inside its namespace).
        check = f"import socket,time\nfor _ in range(100):\n  try:\n    socket.create_connection(('{self.addr}',80),1).close(); break\n  except OSError: time.sleep(0.05)\n"
        sh("ip", "netns", "exec", self.ns, python, "-c", check)
        return self

    def __exit__(self, *exc) -> None:
        for p in self.procs:
            p.kill()
            p.wait()
        sh("ip", "netns", "del", self.ns, check=False)
        sh("ip", "link", "del", self.host_if, check=False)


@pytest.fixture(scope="module")
def internet():
    with Internet() as net:
        yield net


def tag_of(data_dir: Path) -> str:
    return hashlib.sha256(os.path.realpath(data_dir).encode()).hexdigest()[:6]


def leftovers(tag: str) -> list[str]:
    links = json.loads(sh("ip", "-j", "link", "show").stdout)
    names = [l["ifname"] for l in links if l["ifname"].startswith((f"lbxb{tag}", f"lbxv{tag}"))]
    tables = json.loads(sh("nft", "-j", "list", "tables").stdout)["nftables"]
    names += [t["table"]["name"] for t in tables if "table" in t and t["table"]["name"] == f"lambdabox_{tag}"]
    return names


def start(new_server, internet, **env):
    srv = new_server(start=False)
    return srv.start(env={"LAMBDABOX_FUNCTION_DNS": internet.addr, **env})


def probe(lam, event, name=None, code=PROBE):
    name = name or unique_name("net")
    try:
        lam.get_function(FunctionName=name)
    except lam.exceptions.ResourceNotFoundException:
        lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": code})}, Timeout=60,
        )
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event))
    out = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, out
    return out


def test_a_function_reaches_the_internet_by_name_and_address(new_server, internet):
    srv = start(new_server, internet)
    lam = srv.client(REGION)
    out = probe(lam, {"fetch": [f"http://{internet.addr}/", "http://web.internet.test/"], "me": internet.addr})
    assert out[f"http://{internet.addr}/"] == PAGE.decode()
    assert out["http://web.internet.test/"] == PAGE.decode()
    assert out["address"].startswith("100."), out  # the default range, 100.96.0.0/11
    assert out["resolv"].startswith("nameserver 100."), out["resolv"]


def host_addresses() -> list[str]:
    addrs = json.loads(sh("ip", "-j", "-4", "addr", "show").stdout)
    return [a["local"] for link in addrs for a in link.get("addr_info", []) if not a["local"].startswith("127.")]


def test_a_function_cannot_reach_the_host_the_metadata_range_or_its_loopback(new_server, internet):
    # A service on every host address; the server itself listens on the host's loopback.
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    accepted = []
    def accept():
        try:
            accepted.append(listener.accept())
        except OSError:
            pass  # closed at the end of the test

    threading.Thread(target=accept, daemon=True).start()

    srv = start(new_server, internet)
    lam = srv.client(REGION)
    targets = [[a, port] for a in host_addresses()] + [["127.0.0.1", srv.port], ["169.254.169.254", 80], [internet.addr, 80]]
    out = probe(lam, {"reach": targets})["reach"]
    assert out.pop(f"{internet.addr}:80") == "connected", "the internet host is the positive control"
    for target, result in out.items():
        assert result != "connected", f"{target} was reachable from a function"
        assert result != "timeout", f"{target}: refused outright, not left to time out"
    assert not accepted, "the host's listener saw a connection"
    listener.close()


def test_environments_cannot_reach_each_other(new_server, internet):
    srv = start(new_server, internet)
    lam = srv.client(REGION)
    b = probe(lam, {"me": internet.addr}, code=LISTENER)
    assert b["self"] == "connected", "positive control: the listener works from its own environment"
    out = probe(lam, {"reach": [[b["address"], 8080], [b["address"], 9001], [b["address"], 9002]], "me": internet.addr})
    assert all(r != "connected" for r in out["reach"].values()), out
    assert out["address"] != b["address"]


def test_egress_none_keeps_functions_on_loopback(new_server, internet):
    srv = start(new_server, internet, LAMBDABOX_FUNCTION_EGRESS="none")
    lam = srv.client(REGION)
    out = probe(lam, {"fetch": [f"http://{internet.addr}/"], "reach": [[internet.addr, 80]]})
    assert out[f"http://{internet.addr}/"].startswith("error:"), out
    assert out["reach"][f"{internet.addr}:80"] != "connected"
    assert leftovers(tag_of(srv.data_dir)) == []


def test_nothing_is_left_behind_after_sigterm_or_kill9(new_server, internet):
    srv = start(new_server, internet)
    tag = tag_of(srv.data_dir)
    lam = srv.client(REGION)
    name = unique_name("net")
    probe(lam, {"fetch": [f"http://{internet.addr}/"]}, name=name)
    assert f"lbxb{tag}" in leftovers(tag) and f"lambdabox_{tag}" in leftovers(tag)
    srv.stop()
    assert leftovers(tag) == []

    srv.start(env={"LAMBDABOX_FUNCTION_DNS": internet.addr})
    probe(lam_of(srv), {"fetch": [f"http://{internet.addr}/"]}, name=name)
    srv.kill9()
    assert f"lbxb{tag}" in leftovers(tag), "a killed server cannot clean up"
    srv.start(env={"LAMBDABOX_FUNCTION_DNS": internet.addr})
    out = probe(lam_of(srv), {"fetch": [f"http://{internet.addr}/"]}, name=name)
    assert out[f"http://{internet.addr}/"] == PAGE.decode(), "the restarted server's network works"
    srv.stop()
    assert leftovers(tag) == []


def lam_of(srv):
    return srv.client(REGION)
