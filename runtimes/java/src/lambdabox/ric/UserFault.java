package lambdabox.ric;

/**
 * A failure the runtime diagnoses in the function's code (a class that cannot be loaded, a
 * handler method that does not exist, a constructor that throws), reported the way AWS's Java
 * runtime reports its {@code UserFault}s: an error document with {@code errorMessage} and
 * {@code errorType} but no {@code stackTrace}, and in the log {@link #reportableError()}.
 *
 * <p>A fatal fault (the handler's class or instance could not be created) fails INIT; the others
 * are reported by every invocation, as on AWS.
 */
public final class UserFault extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The error message. */
    public final String msg;
    /** The exception class name, or null. */
    public final String exception;
    /** The printed stack trace, or null. */
    public final String trace;
    public final boolean fatal;

    public UserFault(String msg, String exception, String trace, boolean fatal) {
        super(msg, null, false, false);
        this.msg = msg;
        this.exception = exception;
        this.trace = trace;
        this.fatal = fatal;
    }

    /** A fault with only a message (its error document has no {@code errorType}). */
    public static UserFault of(String msg) {
        return new UserFault(msg, null, null, false);
    }

    /** A fault for an exception: its message (its class name when it has none), class and trace. */
    public static UserFault of(Throwable t, boolean fatal) {
        String msg = t.getLocalizedMessage() == null ? t.getClass().getName() : t.getLocalizedMessage();
        return new UserFault(msg, t.getClass().getName(), Errors.trace(t), fatal);
    }

    /** The handler's class is not on the class path. */
    public static UserFault classNotFound(Throwable e, String className) {
        return new UserFault("Class not found: " + className, e.getClass().getName(), Errors.trace(e), false);
    }

    /** The handler's class failed to load (a static initializer threw, say). */
    public static UserFault loadingClass(Throwable e, String className, boolean fatal) {
        return new UserFault("Error loading class " + className + (e.getMessage() == null ? "" : ": " + e.getMessage()),
                e.getClass().getName(), Errors.trace(e), fatal);
    }

    /** What the runtime writes to the function's log for this fault. */
    public String reportableError() {
        if (exception != null || trace != null) {
            return msg + ": " + (exception == null ? "" : exception) + "\n" + (trace == null ? "" : trace) + "\n";
        }
        return msg + "\n";
    }
}
