"""The keep-alive HTTP/1.1 connection and the Runtime API client, over in-memory sockets."""

import io
import unittest

import support  # noqa: F401  (import path)

from lambdabox_ric.httpconn import HttpConnection, HttpError, parse_address
from lambdabox_ric.runtime_api import RuntimeApiClient, RuntimeApiError


class FakeSocket(object):
    """A connected socket double: what is sent is recorded, replies are canned bytes."""

    def __init__(self, reply):
        self.sent = b""
        self.reply = io.BytesIO(reply)
        self.closed = False

    def sendall(self, data):
        if self.closed:
            raise OSError("closed")
        self.sent += data

    def makefile(self, mode):
        return self.reply

    def close(self):
        self.closed = True


class Connector(object):
    def __init__(self, *replies):
        self.replies = list(replies)
        self.sockets = []

    def __call__(self, address):
        sock = FakeSocket(self.replies.pop(0))
        self.sockets.append(sock)
        return sock


NEXT = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: application/json\r\n"
    b"Lambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n"
    b"Lambda-Runtime-Deadline-Ms: 1542409706888\r\n"
    b"Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-2:123456789012:function:custom-runtime\r\n"
    b"Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1\r\n"
    b"Content-Length: 8\r\n\r\n"
    b'{"a": 1}'
)
ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n"


class HttpConnectionTest(unittest.TestCase):
    def test_request_framing(self):
        connector = Connector(ACCEPTED)
        conn = HttpConnection("127.0.0.1:9001", connect=connector, user_agent="ua/1")
        response = conn.request("POST", "/p", b"body", [("Lambda-Runtime-Function-Error-Type", "Bad\r\nInjected: 1")])
        self.assertEqual(response.status, 202)
        self.assertEqual(response.body, b'{"status":"OK"}\n')
        self.assertEqual(
            connector.sockets[0].sent,
            b"POST /p HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUser-Agent: ua/1\r\n"
            b"Lambda-Runtime-Function-Error-Type: Bad  Injected: 1\r\nContent-Length: 4\r\n\r\nbody",
        )

    def test_keep_alive_reuses_one_connection(self):
        connector = Connector(NEXT + ACCEPTED + NEXT)
        conn = HttpConnection("127.0.0.1:9001", connect=connector)
        for method in ("GET", "POST", "GET"):
            self.assertIn(conn.request(method, "/x").status, (200, 202))
        self.assertEqual(len(connector.sockets), 1)
        self.assertEqual(connector.sockets[0].sent.count(b"HTTP/1.1\r\n"), 3)

    def test_stale_connection_is_reopened_once(self):
        connector = Connector(ACCEPTED, ACCEPTED)  # the first socket is closed by the peer after one reply
        conn = HttpConnection("127.0.0.1:9001", connect=connector)
        conn.request("POST", "/one")
        self.assertEqual(conn.request("POST", "/two").status, 202)
        self.assertEqual(len(connector.sockets), 2)
        self.assertTrue(connector.sockets[1].sent.startswith(b"POST /two "))

    def test_fresh_connection_closed_without_reply_is_an_error(self):
        conn = HttpConnection("127.0.0.1:9001", connect=Connector(b""))
        with self.assertRaises(HttpError):
            conn.request("GET", "/x")

    def test_chunked_body(self):
        reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;ext=1\r\n: 1\r\n1\r\n}\r\n0\r\nX-Trailer: t\r\n\r\n"
        conn = HttpConnection("127.0.0.1:9001", connect=Connector(reply))
        self.assertEqual(conn.request("GET", "/x").body, b'{"a": 1}')

    def test_connection_close_and_read_to_end(self):
        reply = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"
        connector = Connector(reply, ACCEPTED)
        conn = HttpConnection("127.0.0.1:9001", connect=connector)
        self.assertEqual(conn.request("GET", "/x").body, b"until the end")
        self.assertTrue(connector.sockets[0].closed)
        conn.request("POST", "/y")
        self.assertEqual(len(connector.sockets), 2)

    def test_truncated_body(self):
        reply = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"
        conn = HttpConnection("127.0.0.1:9001", connect=Connector(reply))
        with self.assertRaises(HttpError):
            conn.request("GET", "/x")

    def test_parse_address(self):
        self.assertEqual(parse_address("127.0.0.1:9001"), ("127.0.0.1", 9001))
        self.assertEqual(parse_address("[::1]:9001"), ("::1", 9001))
        with self.assertRaises(ValueError):
            parse_address("localhost")


class RuntimeApiClientTest(unittest.TestCase):
    def test_next_invocation_headers(self):
        client = RuntimeApiClient(HttpConnection("127.0.0.1:9001", connect=Connector(NEXT)))
        invocation = client.wait_next_invocation()
        self.assertEqual(invocation.request_id, "8476a536-e9f4-11e8-9739-2dfe598c3fcd")
        self.assertEqual(invocation.deadline_ms, 1542409706888)
        self.assertEqual(invocation.invoked_function_arn, "arn:aws:lambda:us-east-2:123456789012:function:custom-runtime")
        self.assertEqual(invocation.trace_id, "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1")
        self.assertIsNone(invocation.client_context)
        self.assertEqual(invocation.content_type, "application/json")
        self.assertEqual(invocation.body, b'{"a": 1}')

    def test_posts(self):
        connector = Connector(ACCEPTED * 3)
        client = RuntimeApiClient(HttpConnection("127.0.0.1:9001", connect=connector))
        client.post_invocation_result("id-1", b'"ok"')
        client.post_invocation_error("id 2", {"errorMessage": "m", "errorType": "ValueError", "requestId": "id 2", "stackTrace": []})
        client.post_init_error({"errorMessage": "m", "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []})
        sent = connector.sockets[0].sent
        self.assertIn(b"POST /2018-06-01/runtime/invocation/id-1/response HTTP/1.1\r\n", sent)
        self.assertIn(b"POST /2018-06-01/runtime/invocation/id%202/error HTTP/1.1\r\n", sent)
        self.assertIn(b"Lambda-Runtime-Function-Error-Type: ValueError\r\n", sent)
        self.assertIn(b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\n", sent)
        self.assertIn(b"Lambda-Runtime-Function-Error-Type: Runtime.ImportModuleError\r\n", sent)
        self.assertIn(b'{"errorMessage": "m", "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []}', sent)

    def test_refused_post_raises(self):
        reply = b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 2\r\n\r\n{}"
        client = RuntimeApiClient(HttpConnection("127.0.0.1:9001", connect=Connector(reply)))
        with self.assertRaises(RuntimeApiError) as caught:
            client.post_invocation_result("id", b"x")
        self.assertEqual(caught.exception.status, 413)


if __name__ == "__main__":
    unittest.main()


class RealSocketTest(unittest.TestCase):
    """The default connector, on ``_socket`` alone, against a real loopback server."""

    def test_keep_alive_requests_over_a_real_connection(self):
        import socket
        import threading

        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        seen = []

        def serve():
            conn, _ = server.accept()
            with conn:
                buf = b""
                for body in (b"one", b"two!"):
                    while b"\r\n\r\n" not in buf:
                        buf += conn.recv(4096)
                    head, _, buf = buf.partition(b"\r\n\r\n")
                    seen.append(head.split(b"\r\n")[0])
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

        thread = threading.Thread(target=serve)
        thread.start()
        conn = HttpConnection("127.0.0.1:%d" % port)
        first = conn.request("GET", "/a")
        second = conn.request("GET", "/b")
        conn.close()
        thread.join(5)
        server.close()
        self.assertEqual((first.status, first.body), (200, b"one"))
        self.assertEqual((second.status, second.body), (200, b"two!"))
        self.assertEqual(seen, [b"GET /a HTTP/1.1", b"GET /b HTTP/1.1"])
        import subprocess
        import sys

        # Connecting imports nothing heavy (no idna codec, no re).
        code = (
            "import sys; from lambdabox_ric.httpconn import _tcp_connect; import socket as s; "
            "l = s.socket(); l.bind(('127.0.0.1', 0)); l.listen(1); "
            "before = set(sys.modules); c = _tcp_connect(('127.0.0.1', l.getsockname()[1])); "
            "print(sorted(m for m in set(sys.modules) - before))"
        )
        out = subprocess.run(
            [sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True,
            cwd=support.RUNTIME_DIR,
        ).stdout.strip()
        self.assertEqual(out, "[]")
