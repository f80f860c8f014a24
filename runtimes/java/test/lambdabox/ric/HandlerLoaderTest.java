package lambdabox.ric;

import static lambdabox.ric.Assert.eq;
import static lambdabox.ric.Assert.raises;
import static lambdabox.ric.Assert.bytes;
import static lambdabox.ric.Assert.utf8;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;

import com.amazonaws.services.lambda.runtime.Context;

/** Handler resolution, with AWS's rules and messages. */
public final class HandlerLoaderTest {
    private HandlerLoaderTest() {}

    static final ByteArrayOutputStream WARNINGS = new ByteArrayOutputStream();

    static LambdaHandler load(String handler) {
        return new HandlerLoader(HandlerLoaderTest.class.getClassLoader(), new PrintStream(WARNINGS, true)).load(handler);
    }

    static Context context() {
        LambdaEnvironment env = LambdaEnvironment.of(Collections.singletonMap("AWS_LAMBDA_FUNCTION_NAME", "fn"), "/tmp");
        return new ContextImpl(env, new Invocation("req-1", System.currentTimeMillis() + 60000, "arn:fn", null, null, null, null, new byte[0]));
    }

    static String call(String handler, String event) throws Throwable {
        return utf8(load(handler).call(bytes(event), context()));
    }

    static UserFault fault(String handler) {
        LambdaHandler h = load(handler);
        Assert.isTrue(h instanceof Handlers.Fault, handler + " should be a fault, is " + h);
        return ((Handlers.Fault) h).fault;
    }

    public static void testRequestHandlerClass() throws Throwable {
        eq("\"Hello world from fn\"", call("testfn.Hello", "{\"name\":\"world\"}"));
        eq("{\"x\":2,\"y\":3,\"label\":\"p\"}", call("testfn.Handlers$Points", "{\"x\":1,\"y\":2,\"label\":\"p\"}"));
        eq("\"Point\"", call("testfn.Handlers$ThroughSuperclass", "{\"x\":1}"));
        eq("null", call("testfn.Handlers$Nothing", "\"x\""));
    }

    public static void testRequestStreamHandlerClass() throws Throwable {
        eq("{\"A\":1}", call("testfn.Handlers$Upper", "{\"a\":1}"));
    }

    public static void testMethodHandlers() throws Throwable {
        eq("\"hi bob\"", call("testfn.Handlers$Methods::greet", "\"bob\""));
        eq("42", call("testfn.Handlers$Methods::twice", "21"));
        eq("null", call("testfn.Handlers$Methods::nothing", "{\"ignored\":true}"));
        eq("[1, 2]", call("testfn.Handlers$Methods::stream", "[1, 2]"));
        // A stream method without an OutputStream: its return value is ignored, the result is null.
        eq("null", call("testfn.Handlers$Methods::streamIn", "{\"raw\":1}"));
        Assert.contains(WARNINGS.toString(StandardCharsets.UTF_8), "Will ignore return type class java.lang.String on byte stream handler");
        eq("\"two\"", call("testfn.Handlers$Methods::overloaded", "\"x\""));
        String ctx = call("testfn.Handlers$Methods::context", "{}");
        Assert.contains(ctx, "\"requestId\":\"req-1\"");
        Assert.contains(ctx, "\"function\":\"fn\"");
        Assert.contains(ctx, "\"arn\":\"arn:fn\"");
        Assert.contains(ctx, "\"memory\":128");
        Assert.contains(ctx, "\"remainingPositive\":true");
    }

    public static void testStaticMethodNeedsNoInstance() throws Throwable {
        int before = testfn.Handlers.Methods.instances;
        load("testfn.Handlers$Methods::twice");
        eq(before, testfn.Handlers.Methods.instances);
        load("testfn.Handlers$Methods::greet");
        eq(before + 1, testfn.Handlers.Methods.instances);
    }

    public static void testCustomPojoSerializerService() throws Throwable {
        java.io.File dir = new java.io.File(System.getProperty("lambdabox.test.dir"), "custom-serializer");
        ClassLoader loader = new java.net.URLClassLoader(new java.net.URL[] {dir.toURI().toURL()},
                HandlerLoaderTest.class.getClassLoader());
        LambdaHandler h = new HandlerLoader(loader, new PrintStream(WARNINGS, true)).load("testfn.Handlers$Methods::greet");
        eq("HI {\"NOT\":\"PARSED\"}", utf8(h.call(bytes("{\"not\":\"parsed\"}"), context())));
    }

    public static void testClassNotFound() {
        UserFault f = fault("example.Missing::handleRequest");
        eq("Class not found: example.Missing", f.msg);
        eq("java.lang.ClassNotFoundException", f.exception);
        eq(false, f.fatal);
        Assert.contains(f.reportableError(), "Class not found: example.Missing: java.lang.ClassNotFoundException\n"
                + "java.lang.ClassNotFoundException: example.Missing\n");
    }

    public static void testMethodNotFound() {
        UserFault f = fault("testfn.Hello::nope");
        eq("No public method named nope with appropriate method signature found on class testfn.Hello", f.msg);
        eq(null, f.exception);
        eq("No public method named nope with appropriate method signature found on class testfn.Hello\n", f.reportableError());
        eq("No public method named tooMany with appropriate method signature found on class testfn.Handlers$Methods",
                fault("testfn.Handlers$Methods::tooMany").msg);
        Assert.contains(WARNINGS.toString(StandardCharsets.UTF_8),
                "Ignoring an overload of method tooMany because it has too many parameters: Expected at most 3, got 4");
    }

    public static void testInvalidHandler() {
        eq("Invalid handler: `testfn.Hello::'", fault("testfn.Hello::").msg);
        eq("Invalid handler: `'", fault("").msg);
    }

    public static void testClassThatIsNotAHandler() {
        eq("Class does not implement an appropriate handler interface: testfn.Handlers$NotAHandler",
                fault("testfn.Handlers$NotAHandler").msg);
    }

    public static void testTypeParametersMustBeConcrete() {
        eq("Class testfn.Handlers$Generic does not implement RequestHandler with concrete type parameters: parameter T has no upper bound.",
                fault("testfn.Handlers$Generic").msg);
        eq("Class testfn.Handlers$Raw does not implement RequestHandler with concrete type parameters",
                fault("testfn.Handlers$Raw").msg);
    }

    public static void testConstructorProblems() {
        UserFault f = fault("testfn.Handlers$NoDefaultConstructor");
        eq("Class testfn.Handlers$NoDefaultConstructor has no public zero-argument constructor", f.msg);
        eq("java.lang.Exception", f.exception);
        eq(false, f.fatal);
        eq("Class testfn.Handlers$Inner cannot be instantiated because it is a non-static inner class",
                fault("testfn.Handlers$Inner").msg);
    }

    public static void testThrowingConstructorFailsInit() {
        UserFault f = raises(UserFault.class, () -> load("testfn.Handlers$BadConstructor"));
        eq(true, f.fatal);
        eq("no config", f.msg);
        eq("java.lang.IllegalArgumentException", f.exception);
        Assert.contains(f.trace, "at testfn.Handlers$BadConstructor.<init>");
    }

    public static void testThrowingStaticInitializerFailsInit() {
        UserFault f = raises(UserFault.class, () -> load("testfn.StaticInitFails"));
        eq(true, f.fatal);
        eq("Error loading class testfn.StaticInitFails", f.msg);
        eq("java.lang.ExceptionInInitializerError", f.exception);
        Assert.contains(f.trace, "Caused by: java.lang.NumberFormatException: For input string: \"not a number\"");
    }

    public static void testUserExceptionsPassThrough() {
        IllegalStateException e = raises(IllegalStateException.class, () -> call("testfn.Handlers$Boom", "{}"));
        eq("boom", e.getMessage());
        IllegalArgumentException m = raises(IllegalArgumentException.class, () -> call("testfn.Handlers$Methods::fails", "\"x\""));
        eq("bad x", m.getMessage());
    }

    public static void testJsonErrorsAreAwsRuntimeExceptions() {
        RuntimeException e = raises(RuntimeException.class, () -> call("testfn.Handlers$Orders", "{\"quantity\":\"lots\"}"));
        eq("An error occurred during JSON parsing", e.getMessage());
        eq(RuntimeException.class, e.getClass());
        eq(lambdabox.ric.json.JsonException.class, e.getCause().getClass());
    }
}
