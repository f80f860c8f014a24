package lambdabox.ric;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * A small HTTP/1.1 client over one keep-alive socket, for the Runtime API.
 *
 * <p>Why not {@code java.net.http.HttpClient}: its start-up (selector thread, executor, many
 * classes) costs over a second of cold start on this project's machines, and
 * {@code HttpURLConnection} a good part of that; the Runtime API needs little of HTTP: requests
 * with a {@code Content-Length} body and responses framed by {@code Content-Length}, chunked
 * encoding or the end of the connection.
 *
 * <p>One request at a time. A request on a reused connection that the server closed while idle
 * (nothing read back) is sent once more on a fresh connection; any other failure is thrown.
 * No read timeout: {@code /invocation/next} is a long poll.
 */
public class HttpConnection {
    private static final int MAX_LINE = 65536;

    /** A whole response: status, headers (lower-case names) and body. */
    public static final class Response {
        public final int status;
        public final Map<String, String> headers;
        public final byte[] body;

        Response(int status, Map<String, String> headers, byte[] body) {
            this.status = status;
            this.headers = headers;
            this.body = body;
        }

        public String header(String lowerCaseName) {
            return headers.get(lowerCaseName);
        }
    }

    private final String host;
    private final int port;
    private final String userAgent;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private Thread connector;
    private Socket preconnected;

    public HttpConnection(String host, int port, String userAgent) {
        this.host = host;
        this.port = port;
        this.userAgent = userAgent;
    }

    /** {@code host:port} ({@code [v6]:port} too) of the Runtime API. */
    public static HttpConnection forAddress(String address, String userAgent) {
        int colon = address.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("expected host:port, got '" + address + "'");
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new HttpConnection(host.isEmpty() ? "127.0.0.1" : host, Integer.parseInt(address.substring(colon + 1)), userAgent);
    }

    /** Opens the socket (a fresh one on each call after {@link #close}). Overridable by tests. */
    protected Socket connect() throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress(host, port));
        return s;
    }

    /**
     * Opens the connection on another thread, so that it is ready when INIT ends (the JDK's
     * socket classes and their method handles cost ~20 ms to load, which then overlaps with
     * loading the handler). A failure is left to the first request.
     */
    public void connectInBackground() {
        Thread t = new Thread(new Runnable() {
            @Override
            public void run() {
                try {
                    Socket s = connect();
                    synchronized (HttpConnection.this) {
                        preconnected = s;
                    }
                } catch (IOException e) {
                    // the first request connects again, and reports what fails
                }
            }
        }, "lambdabox-connect");
        t.setDaemon(true);
        connector = t;
        t.start();
    }

    private void takePreconnected() throws IOException {
        Thread t = connector;
        connector = null;
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while connecting", e);
        }
        synchronized (this) {
            if (preconnected != null) {
                socket = preconnected;
                preconnected = null;
                in = new BufferedInputStream(socket.getInputStream(), 65536);
                out = socket.getOutputStream();
            }
        }
    }

    public void close() {
        Socket s = socket;
        socket = null;
        in = null;
        out = null;
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    private byte[] encode(String method, String path, String[] headers, byte[] body) {
        StringBuilder sb = new StringBuilder(256);
        sb.append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ");
        sb.append(host.indexOf(':') >= 0 ? "[" + host + "]" : host).append(':').append(port).append("\r\n");
        if (userAgent != null) {
            sb.append("User-Agent: ").append(headerValue(userAgent)).append("\r\n");
        }
        for (int i = 0; i + 1 < headers.length; i += 2) {
            sb.append(headers[i]).append(": ").append(headerValue(headers[i + 1])).append("\r\n");
        }
        if (body != null || method.equals("POST")) {
            sb.append("Content-Length: ").append(body == null ? 0 : body.length).append("\r\n");
        }
        sb.append("\r\n");
        byte[] head = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
        if (body == null || body.length == 0) {
            return head;
        }
        byte[] all = new byte[head.length + body.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(body, 0, all, head.length, body.length);
        return all;
    }

    /** Controls would break the framing of the request: they become spaces. */
    private static String headerValue(String v) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if ((c < ' ' && c != '\t') || c == 0x7f || c > 0xff) {
                StringBuilder sb = new StringBuilder(v.length());
                for (int j = 0; j < v.length(); j++) {
                    char d = v.charAt(j);
                    sb.append((d < ' ' && d != '\t') || d == 0x7f ? ' ' : d > 0xff ? '?' : d);
                }
                return sb.toString();
            }
        }
        return v;
    }

    /** Sends one request and reads its whole response. {@code headers} are name, value pairs. */
    public Response request(String method, String path, String[] headers, byte[] body) throws IOException {
        byte[] data = encode(method, path, headers, body);
        if (connector != null) {
            takePreconnected(); // counts as reused: the server may have closed it while idle
        }
        for (int attempt = 0; ; attempt++) {
            boolean reused = socket != null;
            if (!reused) {
                socket = connect();
                in = new BufferedInputStream(socket.getInputStream(), 65536);
                out = socket.getOutputStream();
            }
            String statusLine;
            try {
                out.write(data);
                out.flush();
                statusLine = readLine();
            } catch (IOException e) {
                close();
                if (reused && attempt == 0) {
                    continue;
                }
                throw e;
            }
            if (statusLine == null) {
                close();
                if (reused && attempt == 0) {
                    continue;
                }
                throw new EOFException("connection closed before a response to " + method + " " + path);
            }
            try {
                return readResponse(statusLine, method);
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
        }
    }

    /** A line without its CRLF, or null at the end of the stream. */
    private String readLine() throws IOException {
        StringBuilder sb = new StringBuilder(64);
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (sb.length() == 0) {
                    return null;
                }
                throw new EOFException("response truncated in a line");
            }
            if (b == '\n') {
                int n = sb.length();
                if (n > 0 && sb.charAt(n - 1) == '\r') {
                    sb.setLength(n - 1);
                }
                return sb.toString();
            }
            if (sb.length() >= MAX_LINE) {
                throw new IOException("response line too long");
            }
            sb.append((char) b);
        }
    }

    private Response readResponse(String statusLine, String method) throws IOException {
        String[] parts = statusLine.split(" ", 3);
        int status;
        try {
            status = Integer.parseInt(parts[1]);
        } catch (RuntimeException e) {
            throw new IOException("malformed status line '" + statusLine + "'");
        }
        Map<String, String> headers = new HashMap<>();
        while (true) {
            String line = readLine();
            if (line == null || line.isEmpty()) {
                break;
            }
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.put(line.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT), line.substring(colon + 1).trim());
            }
        }
        boolean keepAlive = parts[0].equals("HTTP/1.1");
        String connection = headers.getOrDefault("connection", "").toLowerCase(java.util.Locale.ROOT);
        if (connection.contains("close")) {
            keepAlive = false;
        } else if (connection.contains("keep-alive")) {
            keepAlive = true;
        }
        byte[] body;
        String transferEncoding = headers.getOrDefault("transfer-encoding", "").toLowerCase(java.util.Locale.ROOT);
        if (method.equals("HEAD") || status == 204 || status == 304 || (status >= 100 && status < 200)) {
            body = new byte[0];
        } else if (transferEncoding.contains("chunked")) {
            body = readChunked();
        } else if (headers.containsKey("content-length")) {
            body = readExactly(Integer.parseInt(headers.get("content-length").trim()));
        } else {
            body = in.readAllBytes();
            keepAlive = false;
        }
        if (!keepAlive) {
            close();
        }
        return new Response(status, headers, body);
    }

    private byte[] readExactly(int n) throws IOException {
        byte[] buf = in.readNBytes(n);
        if (buf.length != n) {
            throw new EOFException("response body truncated: " + buf.length + " of " + n + " bytes");
        }
        return buf;
    }

    private byte[] readChunked() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String line = readLine();
            if (line == null) {
                throw new EOFException("chunked body truncated");
            }
            int semi = line.indexOf(';');
            int size = Integer.parseInt((semi >= 0 ? line.substring(0, semi) : line).trim(), 16);
            if (size == 0) {
                String trailer;
                do {
                    trailer = readLine();
                } while (trailer != null && !trailer.isEmpty());
                return body.toByteArray();
            }
            body.write(readExactly(size));
            readExactly(2);
        }
    }
}
