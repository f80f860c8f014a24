package lambdabox.ric;

import static lambdabox.ric.Assert.eq;
import static lambdabox.ric.Assert.utf8;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;

import com.amazonaws.services.lambda.runtime.logging.LogFormat;
import com.amazonaws.services.lambda.runtime.logging.LogLevel;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/** INIT and the invocation loop against a fake Runtime API. */
public final class InvokeLoopTest {
    private InvokeLoopTest() {}

    /** One POST the runtime made. */
    static final class Post {
        final String path;
        final String errorType;
        final String body;

        Post(String path, String errorType, String body) {
            this.path = path;
            this.errorType = errorType;
            this.body = body;
        }
    }

    /** A Runtime API serving queued events; what the runtime posts is recorded. */
    static final class FakeApi implements AutoCloseable {
        final HttpServer server;
        final Deque<String[]> events = new ArrayDeque<>();
        final List<Post> posts = Collections.synchronizedList(new ArrayList<>());
        int responseStatus = 202;

        FakeApi() throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/", this::handle);
            server.start();
        }

        /** An event: request id, body, then header name/value pairs. */
        void event(String... idBodyHeaders) {
            events.add(idBodyHeaders);
        }

        private void handle(HttpExchange x) throws IOException {
            String path = x.getRequestURI().getRawPath();
            byte[] body = x.getRequestBody().readAllBytes();
            if (path.endsWith("/invocation/next")) {
                String[] e = events.poll();
                if (e == null) {
                    x.sendResponseHeaders(500, -1);
                    x.close();
                    return;
                }
                x.getResponseHeaders().add("Lambda-Runtime-Aws-Request-Id", e[0]);
                x.getResponseHeaders().add("Lambda-Runtime-Deadline-Ms", String.valueOf(System.currentTimeMillis() + 30000));
                x.getResponseHeaders().add("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:f");
                for (int i = 2; i + 1 < e.length; i += 2) {
                    x.getResponseHeaders().add(e[i], e[i + 1]);
                }
                byte[] out = e[1].getBytes(StandardCharsets.UTF_8);
                x.sendResponseHeaders(200, out.length);
                try (OutputStream o = x.getResponseBody()) {
                    o.write(out);
                }
                return;
            }
            posts.add(new Post(path, x.getRequestHeaders().getFirst("Lambda-Runtime-Function-Error-Type"),
                    new String(body, StandardCharsets.UTF_8)));
            byte[] reply = "{\"status\":\"OK\"}".getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(responseStatus, reply.length);
            try (OutputStream o = x.getResponseBody()) {
                o.write(reply);
            }
        }

        String address() {
            return "127.0.0.1:" + server.getAddress().getPort();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    static final class Run {
        final ByteArrayOutputStream log = new ByteArrayOutputStream();
        final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        final InvokeLoop loop;

        Run(FakeApi api, String executionEnv) {
            LambdaEnvironment env = LambdaEnvironment.of(
                    executionEnv == null ? Collections.emptyMap() : Collections.singletonMap("AWS_EXECUTION_ENV", executionEnv), "/tmp");
            RuntimeLogger logger = new RuntimeLogger(log, LogLevel.UNDEFINED, LogFormat.TEXT);
            RuntimeApiClient client = new RuntimeApiClient(HttpConnection.forAddress(api.address(), "test"));
            loop = new InvokeLoop(client, logger, env, new PrintStream(stderr, true));
        }

        void serve(String handler, int invocations) throws IOException {
            LambdaHandler h = loop.init(handler, InvokeLoopTest.class.getClassLoader());
            loop.run(h, invocations);
        }
    }

    public static void testResultsArePosted() throws Exception {
        try (FakeApi api = new FakeApi()) {
            api.event("r1", "{\"name\":\"a\"}");
            api.event("r2", "{\"name\":\"b\"}");
            new Run(api, null).serve("testfn.Hello", 2);
            eq(2, api.posts.size());
            eq("/2018-06-01/runtime/invocation/r1/response", api.posts.get(0).path);
            eq("\"Hello a from null\"", api.posts.get(0).body);
            eq(null, api.posts.get(0).errorType);
            eq("/2018-06-01/runtime/invocation/r2/response", api.posts.get(1).path);
        }
    }

    public static void testExceptionsArePostedAsUserExceptions() throws Exception {
        try (FakeApi api = new FakeApi()) {
            api.event("r1", "{}");
            Run run = new Run(api, "AWS_Lambda_java17");
            run.serve("testfn.Handlers$Boom", 1);
            Post p = api.posts.get(0);
            eq("/2018-06-01/runtime/invocation/r1/error", p.path);
            eq("Runtime.UserException", p.errorType);
            eq("{\"errorMessage\":\"boom\",\"errorType\":\"java.lang.IllegalStateException\",\"stackTrace\":["
                    + "\"testfn.Handlers$Boom.handleRequest(Handlers.java:59)\"]}", p.body);
            String log = run.log.toString(StandardCharsets.UTF_8);
            Assert.isTrue(log.startsWith("boom: java.lang.IllegalStateException\njava.lang.IllegalStateException: boom\n"
                    + "\tat testfn.Handlers$Boom.handleRequest(Handlers.java:59)\nCaused by: java.io.IOException: inner\n"), log);
        }
    }

    public static void testJava8UsesTheLegacyShapeWithCauses() throws Exception {
        try (FakeApi api = new FakeApi()) {
            api.event("r1", "{}");
            new Run(api, "AWS_Lambda_java8").serve("testfn.Handlers$Boom", 1);
            Assert.contains(api.posts.get(0).body, ",\"cause\":{\"errorMessage\":\"inner\",\"errorType\":\"java.io.IOException\"");
        }
    }

    public static void testMethodHandlerTracesKeepTheReflectionFrames() throws Exception {
        try (FakeApi api = new FakeApi()) {
            api.event("r1", "\"x\"");
            new Run(api, null).serve("testfn.Handlers$Methods::fails", 1);
            String body = api.posts.get(0).body;
            Assert.contains(body, "{\"errorMessage\":\"bad x\",\"errorType\":\"java.lang.IllegalArgumentException\",\"stackTrace\":["
                    + "\"testfn.Handlers$Methods.fails(Handlers.java:");
            Assert.contains(body, "\"java.base/java.lang.reflect.Method.invoke(Method.java:");
            Assert.isTrue(!body.contains("lambdabox"), body);
        }
    }

    public static void testJsonParsingErrors() throws Exception {
        try (FakeApi api = new FakeApi()) {
            api.event("r1", "{\"quantity\":\"lots\"}");
            Run run = new Run(api, null);
            run.serve("testfn.Handlers$Orders", 1);
            eq("{\"errorMessage\":\"An error occurred during JSON parsing\",\"errorType\":\"java.lang.RuntimeException\","
                    + "\"stackTrace\":[]}", api.posts.get(0).body);
            Assert.contains(run.log.toString(StandardCharsets.UTF_8), "Caused by: lambdabox.ric.json.JsonException");
        }
    }

    public static void testFaultsAreReportedByEveryInvocation() throws Exception {
        try (FakeApi api = new FakeApi()) {
            api.event("r1", "{}");
            api.event("r2", "{}");
            Run run = new Run(api, null);
            run.serve("example.Missing::handleRequest", 2);
            for (Post p : api.posts) {
                eq("Runtime.BadFunctionCode", p.errorType);
                eq("{\"errorMessage\":\"Class not found: example.Missing\",\"errorType\":\"java.lang.ClassNotFoundException\"}", p.body);
            }
            eq(2, api.posts.size());
            Assert.contains(run.log.toString(StandardCharsets.UTF_8), "Class not found: example.Missing: java.lang.ClassNotFoundException\n");
        }
    }

    public static void testInitErrors() throws Exception {
        try (FakeApi api = new FakeApi()) {
            Run run = new Run(api, null);
            eq(null, run.loop.init("testfn.Handlers$BadConstructor", InvokeLoopTest.class.getClassLoader()));
            Post p = api.posts.get(0);
            eq("/2018-06-01/runtime/init/error", p.path);
            eq("Runtime.BadFunctionCode", p.errorType);
            eq("{\"errorMessage\":\"no config\",\"errorType\":\"java.lang.IllegalArgumentException\"}", p.body);
            Assert.isTrue(run.log.toString(StandardCharsets.UTF_8).startsWith(
                    "no config: java.lang.IllegalArgumentException\njava.lang.IllegalArgumentException: no config\n"),
                    run.log.toString(StandardCharsets.UTF_8));
        }
    }

    public static void testRefusedPostsDoNotStopTheLoop() throws Exception {
        try (FakeApi api = new FakeApi()) {
            api.responseStatus = 413;
            api.event("r1", "\"a\"");
            api.event("r2", "\"b\"");
            Run run = new Run(api, null);
            run.serve("testfn.Handlers$Upper", 2);
            eq(2, api.posts.size());
            Assert.contains(run.stderr.toString(StandardCharsets.UTF_8), "Reason: '413'");
        }
    }

    public static void testTraceIdProperty() throws Exception {
        try (FakeApi api = new FakeApi()) {
            api.event("r1", "{}", "Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419");
            new Run(api, null).serve("testfn.Handlers$Methods::nothing", 1);
            eq("Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419",
                    System.getProperty(InvokeLoop.TRACE_HEADER_PROPERTY));
            api.event("r2", "{}");
            new Run(api, null).serve("testfn.Handlers$Methods::nothing", 1);
            eq(null, System.getProperty(InvokeLoop.TRACE_HEADER_PROPERTY));
        }
    }

    public static void testClientContextAndIdentity() throws Exception {
        try (FakeApi api = new FakeApi()) {
            api.event("r1", "{}", "Lambda-Runtime-Client-Context", "{\"custom\":{\"k\":\"v\"}}",
                    "Lambda-Runtime-Cognito-Identity", "{\"cognitoIdentityId\":\"id\",\"cognitoIdentityPoolId\":\"pool\"}");
            api.event("r2", "{}", "Lambda-Runtime-Client-Context", "{broken");
            new Run(api, null).serve("testfn.ContextEcho", 2);
            eq("{\"custom\":\"v\",\"identity\":\"id/pool\"}", api.posts.get(0).body);
            eq("Runtime.UserException", api.posts.get(1).errorType);
        }
    }

    public static void testStreamOutputIsPostedAsIs() throws Exception {
        try (FakeApi api = new FakeApi()) {
            api.event("r1", "not json at all");
            new Run(api, null).serve("testfn.Handlers$Upper", 1);
            eq("NOT JSON AT ALL", api.posts.get(0).body);
            eq("/2018-06-01/runtime/invocation/r1/response", api.posts.get(0).path);
        }
    }

    static String text(byte[] b) {
        return utf8(b);
    }
}
