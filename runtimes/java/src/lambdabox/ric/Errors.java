package lambdabox.ric;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

import lambdabox.ric.json.JsonWriter;

/**
 * AWS Lambda's error documents for the Java runtime, and the stack traces in them.
 *
 * <p>An exception thrown by the handler becomes {@code {"errorMessage": <message, or the class
 * name when it has none>, "errorType": <class name>, "stackTrace": [<frame>, ...]}}, each frame
 * {@code StackTraceElement.toString()}, the frames of the runtime itself (and everything below
 * them) removed; the legacy {@code java8} runtime also nests the cause chain as {@code "cause"}.
 * A {@link UserFault} has no {@code stackTrace}, and no {@code errorType} when it has no
 * exception class. Written as Gson writes (AWS's runtime uses it for these): nulls left out,
 * no HTML escaping.
 */
public final class Errors {
    /** Frames of classes under this prefix are the runtime's own. */
    static final String RUNTIME_PACKAGE = "lambdabox.ric";

    /** {@code Lambda-Runtime-Function-Error-Type} of an exception thrown by the function. */
    public static final String USER_EXCEPTION = "Runtime.UserException";
    /** {@code Lambda-Runtime-Function-Error-Type} of a {@link UserFault}. */
    public static final String BAD_FUNCTION_CODE = "Runtime.BadFunctionCode";

    private Errors() {}

    /**
     * Removes the runtime's frames from {@code t}'s stack trace, and its causes' and suppressed
     * exceptions': each trace is cut at its first runtime frame.
     */
    public static <T extends Throwable> T filterStackTrace(T t) {
        filter(t, Collections.newSetFromMap(new IdentityHashMap<>()));
        return t;
    }

    private static void filter(Throwable t, Set<Throwable> visited) {
        if (t == null || !visited.add(t)) {
            return;
        }
        StackTraceElement[] trace = t.getStackTrace();
        for (int i = 0; i < trace.length; i++) {
            if (trace[i].getClassName().startsWith(RUNTIME_PACKAGE)) {
                StackTraceElement[] cut = new StackTraceElement[i];
                System.arraycopy(trace, 0, cut, 0, i);
                t.setStackTrace(cut);
                break;
            }
        }
        filter(t.getCause(), visited);
        for (Throwable s : t.getSuppressed()) {
            filter(s, visited);
        }
    }

    /** {@code printStackTrace} of the filtered exception, as a string. */
    public static String trace(Throwable t) {
        filterStackTrace(t);
        StringWriter sw = new StringWriter();
        t.printStackTrace(new PrintWriter(sw));
        return sw.toString();
    }

    /** The error document of an exception thrown by the function. */
    public static byte[] document(Throwable t, boolean withCause) {
        StringBuilder sb = new StringBuilder(512);
        writeThrowable(sb, t, withCause, Collections.newSetFromMap(new IdentityHashMap<>()));
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void writeThrowable(StringBuilder sb, Throwable t, boolean withCause, Set<Throwable> visited) {
        visited.add(t);
        String message = t.getLocalizedMessage() == null ? t.getClass().getName() : t.getLocalizedMessage();
        sb.append("{\"errorMessage\":");
        JsonWriter.writeString(sb, message, JsonWriter.Style.GSON);
        sb.append(",\"errorType\":");
        JsonWriter.writeString(sb, t.getClass().getName(), JsonWriter.Style.GSON);
        sb.append(",\"stackTrace\":[");
        StackTraceElement[] trace = t.getStackTrace();
        for (int i = 0; i < trace.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            JsonWriter.writeString(sb, trace[i].toString(), JsonWriter.Style.GSON);
        }
        sb.append(']');
        Throwable cause = t.getCause();
        if (withCause && cause != null && !visited.contains(cause)) {
            sb.append(",\"cause\":");
            writeThrowable(sb, cause, true, visited);
        }
        sb.append('}');
    }

    /** The error document of a {@link UserFault}. */
    public static byte[] document(UserFault fault) {
        StringBuilder sb = new StringBuilder(256);
        sb.append("{\"errorMessage\":");
        JsonWriter.writeString(sb, fault.msg == null ? "" : fault.msg, JsonWriter.Style.GSON);
        if (fault.exception != null) {
            sb.append(",\"errorType\":");
            JsonWriter.writeString(sb, fault.exception, JsonWriter.Style.GSON);
        }
        sb.append('}');
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }
}
