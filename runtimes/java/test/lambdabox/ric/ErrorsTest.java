package lambdabox.ric;

import static lambdabox.ric.Assert.eq;
import static lambdabox.ric.Assert.utf8;

import java.io.IOException;

/** Error documents and stack trace filtering. */
public final class ErrorsTest {
    private ErrorsTest() {}

    public static void testDocumentOfAnException() {
        Exception e = new IllegalStateException("bad <thing> & \"quote\"\n");
        e.setStackTrace(new StackTraceElement[] {
            new StackTraceElement("example.Handler", "handleRequest", "Handler.java", 12),
            new StackTraceElement(null, "java.base", null, "jdk.internal.reflect.NativeMethodAccessorImpl", "invoke0", null, -2),
        });
        eq("{\"errorMessage\":\"bad <thing> & \\\"quote\\\"\\n\",\"errorType\":\"java.lang.IllegalStateException\","
                + "\"stackTrace\":[\"example.Handler.handleRequest(Handler.java:12)\","
                + "\"java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)\"]}",
                utf8(Errors.document(e, false)));
    }

    public static void testMessageDefaultsToTheClassName() {
        Exception e = new UnsupportedOperationException();
        e.setStackTrace(new StackTraceElement[0]);
        eq("{\"errorMessage\":\"java.lang.UnsupportedOperationException\",\"errorType\":\"java.lang.UnsupportedOperationException\","
                + "\"stackTrace\":[]}", utf8(Errors.document(e, false)));
    }

    public static void testLegacyShapeNestsCauses() {
        IOException inner = new IOException("inner");
        inner.setStackTrace(new StackTraceElement[] {new StackTraceElement("a.B", "c", "B.java", 1)});
        RuntimeException outer = new RuntimeException("outer", inner);
        outer.setStackTrace(new StackTraceElement[0]);
        eq("{\"errorMessage\":\"outer\",\"errorType\":\"java.lang.RuntimeException\",\"stackTrace\":[],"
                + "\"cause\":{\"errorMessage\":\"inner\",\"errorType\":\"java.io.IOException\",\"stackTrace\":[\"a.B.c(B.java:1)\"]}}",
                utf8(Errors.document(outer, true)));
        eq("{\"errorMessage\":\"outer\",\"errorType\":\"java.lang.RuntimeException\",\"stackTrace\":[]}",
                utf8(Errors.document(outer, false)));
    }

    public static void testDocumentOfAFault() {
        eq("{\"errorMessage\":\"Class not found: a.B\",\"errorType\":\"java.lang.ClassNotFoundException\"}",
                utf8(Errors.document(UserFault.classNotFound(new ClassNotFoundException("a.B"), "a.B"))));
        eq("{\"errorMessage\":\"No public method\"}", utf8(Errors.document(UserFault.of("No public method"))));
    }

    public static void testFilterCutsAtTheFirstRuntimeFrame() {
        Exception cause = new Exception("c");
        cause.setStackTrace(new StackTraceElement[] {
            new StackTraceElement("user.Code", "deep", "Code.java", 3),
            new StackTraceElement("lambdabox.ric.json.Mapper", "read", "Mapper.java", 9),
            new StackTraceElement("user.Code", "below", "Code.java", 4),
        });
        Exception e = new Exception("e", cause);
        e.setStackTrace(new StackTraceElement[] {
            new StackTraceElement("user.Code", "handle", "Code.java", 1),
            new StackTraceElement("java.lang.reflect.Method", "invoke", "Method.java", 566),
            new StackTraceElement("lambdabox.ric.Handlers$MethodTarget", "handle", "Handlers.java", 10),
            new StackTraceElement("lambdabox.ric.Main", "main", "Main.java", 1),
        });
        Exception suppressed = new Exception("s");
        suppressed.setStackTrace(new StackTraceElement[] {new StackTraceElement("lambdabox.ric.X", "y", "X.java", 1)});
        e.addSuppressed(suppressed);
        Errors.filterStackTrace(e);
        eq(2, e.getStackTrace().length);
        eq("java.lang.reflect.Method", e.getStackTrace()[1].getClassName());
        eq(1, cause.getStackTrace().length);
        eq(0, suppressed.getStackTrace().length);
    }

    public static void testReportableErrors() {
        RuntimeException e = new RuntimeException("boom");
        e.setStackTrace(new StackTraceElement[] {new StackTraceElement("a.B", "c", "B.java", 7)});
        eq("boom: java.lang.RuntimeException\njava.lang.RuntimeException: boom\n\tat a.B.c(B.java:7)\n\n",
                UserFault.of(e, false).reportableError());
        eq("plain\n", UserFault.of("plain").reportableError());
    }
}
