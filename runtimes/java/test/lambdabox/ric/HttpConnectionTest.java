package lambdabox.ric;

import static lambdabox.ric.Assert.eq;
import static lambdabox.ric.Assert.utf8;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** The HTTP/1.1 client, against a scripted server. */
public final class HttpConnectionTest {
    private HttpConnectionTest() {}

    /** Serves one scripted reply per request; a reply may then close the connection. */
    static final class ScriptedServer implements AutoCloseable {
        final ServerSocket server;
        final List<String> replies;
        final List<String> requests = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger connections = new AtomicInteger();
        final Thread thread;

        ScriptedServer(List<String> replies, boolean closeAfterEach) throws IOException {
            this.server = new ServerSocket(0);
            this.replies = new ArrayList<>(replies);
            this.thread = new Thread(() -> serve(closeAfterEach));
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void serve(boolean closeAfterEach) {
            try {
                while (!replies.isEmpty()) {
                    try (Socket s = server.accept()) {
                        connections.incrementAndGet();
                        InputStream in = s.getInputStream();
                        OutputStream out = s.getOutputStream();
                        while (!replies.isEmpty()) {
                            String request = readRequest(in);
                            if (request == null) {
                                break;
                            }
                            requests.add(request);
                            out.write(replies.remove(0).getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                            if (closeAfterEach) {
                                break;
                            }
                        }
                    }
                }
            } catch (IOException ignored) {
                // the test is over
            }
        }

        private static String readRequest(InputStream in) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0) {
                head.write(b);
                String h = head.toString(StandardCharsets.ISO_8859_1);
                if (h.endsWith("\r\n\r\n")) {
                    int length = 0;
                    for (String line : h.split("\r\n")) {
                        if (line.toLowerCase().startsWith("content-length:")) {
                            length = Integer.parseInt(line.substring(15).trim());
                        }
                    }
                    return h + new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
                }
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    public static void testKeepAliveAndContentLength() throws Exception {
        try (ScriptedServer s = new ScriptedServer(List.of(
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nLambda-Runtime-Aws-Request-Id: r1\r\n\r\nhello",
                "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}"), false)) {
            HttpConnection c = new HttpConnection("127.0.0.1", s.port(), "ua/1");
            HttpConnection.Response r = c.request("GET", "/next", new String[0], null);
            eq(200, r.status);
            eq("hello", utf8(r.body));
            eq("r1", r.header("lambda-runtime-aws-request-id"));
            HttpConnection.Response p = c.request("POST", "/x/response", new String[] {"Content-Type", "application/json"},
                    "{\"a\":1}".getBytes(StandardCharsets.UTF_8));
            eq(202, p.status);
            eq(1, s.connections.get());
            eq("GET /next HTTP/1.1\r\nHost: 127.0.0.1:" + s.port() + "\r\nUser-Agent: ua/1\r\n\r\n", s.requests.get(0));
            eq("POST /x/response HTTP/1.1\r\nHost: 127.0.0.1:" + s.port() + "\r\nUser-Agent: ua/1\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}", s.requests.get(1));
            c.close();
        }
    }

    public static void testChunkedBody() throws Exception {
        try (ScriptedServer s = new ScriptedServer(List.of(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: x\r\n\r\n"), false)) {
            HttpConnection c = new HttpConnection("127.0.0.1", s.port(), null);
            eq("abcde", utf8(c.request("GET", "/", new String[0], null).body));
            c.close();
        }
    }

    public static void testConnectionCloseReconnects() throws Exception {
        try (ScriptedServer s = new ScriptedServer(List.of(
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\na",
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"), true)) {
            HttpConnection c = new HttpConnection("127.0.0.1", s.port(), null);
            eq("a", utf8(c.request("GET", "/", new String[0], null).body));
            eq("b", utf8(c.request("GET", "/", new String[0], null).body));
            eq(2, s.connections.get());
            c.close();
        }
    }

    public static void testStaleIdleConnectionIsRetriedOnce() throws Exception {
        // The server closes after each reply without saying so: the second request finds the
        // idle connection dead and is sent again on a fresh one.
        try (ScriptedServer s = new ScriptedServer(List.of(
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na",
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"), true)) {
            HttpConnection c = new HttpConnection("127.0.0.1", s.port(), null);
            eq("a", utf8(c.request("GET", "/", new String[0], null).body));
            Thread.sleep(50); // let the server's close reach us; the retry is what is tested
            eq("b", utf8(c.request("GET", "/", new String[0], null).body));
            eq(2, s.connections.get());
            c.close();
        }
    }

    public static void testBackgroundConnectionIsUsed() throws Exception {
        try (ScriptedServer s = new ScriptedServer(List.of("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"), false)) {
            HttpConnection c = new HttpConnection("127.0.0.1", s.port(), null);
            c.connectInBackground();
            eq("a", utf8(c.request("GET", "/", new String[0], null).body));
            eq(1, s.connections.get());
            c.close();
        }
    }

    public static void testBackgroundConnectionClosedWhileIdleIsRetried() throws Exception {
        // The server accepts, then closes without a reply (an idle timeout): the request is
        // sent again on a fresh connection.
        try (ServerSocket server = new ServerSocket(0)) {
            Thread t = new Thread(() -> {
                try {
                    server.accept().close();
                    try (Socket second = server.accept()) {
                        InputStream in = second.getInputStream();
                        byte[] buf = new byte[4096];
                        in.read(buf);
                        second.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb".getBytes(StandardCharsets.ISO_8859_1));
                        second.getOutputStream().flush();
                        Thread.sleep(100);
                    }
                } catch (Exception ignored) {
                    // the test is over
                }
            });
            t.setDaemon(true);
            t.start();
            HttpConnection c = new HttpConnection("127.0.0.1", server.getLocalPort(), null);
            c.connectInBackground();
            Thread.sleep(50);
            eq("b", utf8(c.request("GET", "/", new String[0], null).body));
            c.close();
        }
    }

    public static void testBackgroundConnectionFailureIsReportedByTheRequest() {
        HttpConnection c = new HttpConnection("127.0.0.1", 1, null);
        c.connectInBackground();
        Assert.raises(IOException.class, () -> c.request("GET", "/", new String[0], null));
    }

    public static void testHeaderValuesCannotBreakTheFraming() throws Exception {
        try (ScriptedServer s = new ScriptedServer(List.of("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"), false)) {
            HttpConnection c = new HttpConnection("127.0.0.1", s.port(), null);
            c.request("POST", "/e", new String[] {"Lambda-Runtime-Function-Error-Type", "a\r\nInjected: 1"}, new byte[0]);
            Assert.contains(s.requests.get(0), "Lambda-Runtime-Function-Error-Type: a  Injected: 1\r\n");
            c.close();
        }
    }

    public static void testAddressParsing() {
        HttpConnection.forAddress("127.0.0.1:9001", null);
        HttpConnection.forAddress("[::1]:9001", null);
        Assert.raises(IllegalArgumentException.class, () -> HttpConnection.forAddress("nohost", null));
        eq("a%2Fb%20c", RuntimeApiClient.quote("a/b c"));
        eq("8476a536-e9f4-11e8-9739-2dfe598c3fcd", RuntimeApiClient.quote("8476a536-e9f4-11e8-9739-2dfe598c3fcd"));
    }
}
