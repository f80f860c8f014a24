"""A small persistent HTTP/1.1 client connection for the Runtime API.

Why not ``http.client``: it pulls in the ``email`` package and costs about 30 ms of imports on
this project's machines, against a 12 ms interpreter start. The Runtime API needs little of
HTTP: one keep-alive connection, requests with a ``Content-Length`` body, and responses framed
by ``Content-Length``, chunked encoding or the end of the connection.

One request at a time. A request on a reused connection that the server closed while idle
(nothing read back) is sent once more on a fresh connection; any other failure is raised.
The socket is blocking without a timeout: ``/invocation/next`` is a long poll. It is made with
the C module ``_socket`` alone: ``socket.py`` imports ``enum`` and ``selectors``, about 8 ms of
every cold start on this project's machines.
"""

import _socket
import io


class HttpError(Exception):
    """A malformed or truncated response."""


class Response(object):
    __slots__ = ["status", "headers", "body"]

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body

    def __repr__(self):
        return "Response(%r, %r, %r)" % (self.status, self.headers, self.body[:200])


_MAX_LINE = 65536


class _Reader(io.RawIOBase):
    """The receiving side of a ``_socket.socket`` as a raw stream, for ``io.BufferedReader``."""

    def __init__(self, sock):
        self._sock = sock

    def readable(self):
        return True

    def readinto(self, buf):
        return self._sock.recv_into(buf)


class _Socket(object):
    """A connected ``_socket.socket`` with the part of ``socket.socket``'s interface used here."""

    __slots__ = ["_sock"]

    def __init__(self, sock):
        self._sock = sock

    def sendall(self, data):
        self._sock.sendall(data)

    def makefile(self, mode):
        if mode != "rb":
            raise ValueError("only 'rb' is supported")
        return io.BufferedReader(_Reader(self._sock))

    def close(self):
        self._sock.close()


def _tcp_connect(address):
    host, port = address
    error = None
    # A str host goes through the "idna" codec, whose import pulls in re, stringprep and
    # unicodedata (about 6 ms); an ASCII host needs no encoding.
    if isinstance(host, str) and host.isascii():
        host = host.encode("ascii")
    for family, kind, proto, _, sockaddr in _socket.getaddrinfo(host, port, 0, _socket.SOCK_STREAM):
        sock = _socket.socket(family, kind, proto)
        try:
            sock.connect(sockaddr)
        except OSError as e:
            sock.close()
            error = e
            continue
        sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        return _Socket(sock)
    raise error or OSError("no address for %s:%s" % (host, port))


def parse_address(address):
    """``host:port`` (``[v6]:port`` too) as a ``(host, port)`` tuple."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError("expected host:port, got %r" % (address,))
    return host.strip("[]") or "127.0.0.1", int(port)


def _header_value(value):
    # CR, LF and other controls would break the framing of the request.
    text = str(value)
    if any(c < " " and c != "\t" or c == "\x7f" for c in text):
        text = "".join(" " if (c < " " and c != "\t" or c == "\x7f") else c for c in text)
    return text.encode("latin-1", "replace")


class HttpConnection(object):
    def __init__(self, address, connect=_tcp_connect, user_agent=None):
        self.address = parse_address(address) if isinstance(address, str) else address
        host, port = self.address
        self._host_header = ("[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)).encode()
        self._connect = connect
        self._user_agent = user_agent
        self._sock = None
        self._rfile = None

    def close(self):
        rfile, sock = self._rfile, self._sock
        self._rfile = self._sock = None
        for closable in (rfile, sock):
            if closable is not None:
                try:
                    closable.close()
                except OSError:
                    pass

    def _open(self):
        self._sock = self._connect(self.address)
        self._rfile = self._sock.makefile("rb")

    def _encode(self, method, path, body, headers):
        lines = [
            b"%s %s HTTP/1.1" % (method.encode("ascii"), path.encode("ascii")),
            b"Host: " + self._host_header,
        ]
        if self._user_agent:
            lines.append(b"User-Agent: " + _header_value(self._user_agent))
        for name, value in headers:
            lines.append(name.encode("ascii") + b": " + _header_value(value))
        if body or method in ("POST", "PUT"):
            lines.append(b"Content-Length: %d" % len(body))
        return b"\r\n".join(lines) + b"\r\n\r\n" + body

    def request(self, method, path, body=b"", headers=()):
        """Send one request and read its whole response."""
        data = self._encode(method, path, body, headers)
        for attempt in (0, 1):
            reused = self._sock is not None
            if not reused:
                self._open()
            try:
                self._sock.sendall(data)
                status_line = self._rfile.readline(_MAX_LINE + 1)
            except OSError:
                self.close()
                if reused and attempt == 0:
                    continue
                raise
            if not status_line:
                self.close()
                if reused and attempt == 0:
                    continue
                raise HttpError("connection closed before a response to %s %s" % (method, path))
            return self._read_response(status_line, method)
        raise AssertionError("unreachable")

    def _readline(self):
        line = self._rfile.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise HttpError("response line too long")
        return line

    def _read_exact(self, n):
        data = self._rfile.read(n)
        if len(data) != n:
            raise HttpError("response body truncated: %d of %d bytes" % (len(data), n))
        return data

    def _read_chunked(self):
        parts = []
        while True:
            line = self._readline()
            if not line:
                raise HttpError("chunked body truncated")
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while self._readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self._read_exact(size))
            self._read_exact(2)

    def _read_response(self, status_line, method):
        try:
            parts = status_line.split(None, 2)
            version, status = parts[0], int(parts[1])
        except (IndexError, ValueError):
            self.close()
            raise HttpError("malformed status line %r" % (status_line,))
        headers = {}
        try:
            while True:
                line = self._readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.partition(b":")
                headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")

            keep_alive = version == b"HTTP/1.1"
            connection = headers.get("connection", "").lower()
            if "close" in connection:
                keep_alive = False
            elif "keep-alive" in connection:
                keep_alive = True

            if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
                body = b""
            elif "chunked" in headers.get("transfer-encoding", "").lower():
                body = self._read_chunked()
            elif "content-length" in headers:
                body = self._read_exact(int(headers["content-length"]))
            else:
                body = self._rfile.read()
                keep_alive = False
        except (OSError, ValueError, HttpError):
            self.close()
            raise
        if not keep_alive:
            self.close()
        return Response(status, headers, body)
