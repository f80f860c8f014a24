package lambdabox.ric;

import java.io.IOError;
import java.io.IOException;
import java.io.PrintStream;

import com.amazonaws.services.lambda.runtime.logging.LogFormat;
import com.amazonaws.services.lambda.runtime.logging.LogLevel;

/**
 * INIT and the invocation loop, as AWS's Java runtime runs them.
 *
 * <p>INIT loads the handler; a fatal fault is logged, posted to {@code /runtime/init/error}
 * ({@code Lambda-Runtime-Function-Error-Type: Runtime.BadFunctionCode}) and ends the process
 * with status 1. Each invocation: {@code /next}, the X-Ray trace id into the system property
 * {@code com.amazonaws.xray.traceHeader}, the handler, then the result to {@code .../response},
 * or the error logged and posted to {@code .../error} ({@code Runtime.UserException} for an
 * exception, {@code Runtime.BadFunctionCode} for a {@link UserFault}). After a
 * {@code VirtualMachineError} (out of memory, stack overflow), an {@code IOError} or a fatal
 * fault the process exits once the error is posted. A post the Runtime API refuses (a 413 for a
 * response over 6 MB, say) is written to stderr and the loop goes on; a broken connection ends
 * the process.
 */
public final class InvokeLoop {
    static final String TRACE_HEADER_PROPERTY = "com.amazonaws.xray.traceHeader";

    private final RuntimeApiClient client;
    private final RuntimeLogger logger;
    private final LambdaEnvironment env;
    private final PrintStream stderr;

    public InvokeLoop(RuntimeApiClient client, RuntimeLogger logger, LambdaEnvironment env, PrintStream stderr) {
        this.client = client;
        this.logger = logger;
        this.env = env;
        this.stderr = stderr;
    }

    private LogLevel errorLevel() {
        return logger.format() == LogFormat.JSON ? LogLevel.ERROR : LogLevel.UNDEFINED;
    }

    /** Loads the handler, or reports the INIT error and returns null (the caller exits with 1). */
    public LambdaHandler init(String handler, ClassLoader loader) {
        try {
            return new HandlerLoader(loader, stderr).load(handler);
        } catch (UserFault fault) {
            logger.log(fault.reportableError(), errorLevel());
            try {
                client.postInitError(Errors.document(fault), Errors.BAD_FUNCTION_CODE);
            } catch (IOException e) {
                stderr.println("lambdabox runtime: could not report the init error: " + e.getMessage());
            }
            return null;
        }
    }

    /** What one invocation produced: a result, or an error document and its type. */
    static final class Outcome {
        final byte[] result;
        final byte[] error;
        final String errorType;
        final String log;
        final boolean exit;

        private Outcome(byte[] result, byte[] error, String errorType, String log, boolean exit) {
            this.result = result;
            this.error = error;
            this.errorType = errorType;
            this.log = log;
            this.exit = exit;
        }
    }

    /** Runs the handler on one invocation (no network). */
    Outcome handle(LambdaHandler handler, Invocation invocation) {
        try {
            ContextImpl context = new ContextImpl(env, invocation);
            byte[] result = handler.call(invocation.body, context);
            Thread.interrupted(); // a flag the function left set must not break the next /next
            return new Outcome(result == null ? new byte[0] : result, null, null, null, false);
        } catch (UserFault fault) {
            return new Outcome(null, Errors.document(fault), Errors.BAD_FUNCTION_CODE, fault.reportableError(), fault.fatal);
        } catch (Throwable t) {
            Thread.interrupted();
            Errors.filterStackTrace(t);
            boolean exit = t instanceof VirtualMachineError || t instanceof IOError;
            return new Outcome(null, Errors.document(t, env.legacyErrorShape()), Errors.USER_EXCEPTION,
                    UserFault.of(t, false).reportableError(), exit);
        }
    }

    /** Serves invocations until the process ends ({@code max} of them when positive, for tests). */
    public void run(LambdaHandler handler, int max) throws IOException {
        for (int served = 0; max <= 0 || served < max; served++) {
            Invocation invocation = client.next();
            if (invocation.traceId != null) {
                System.setProperty(TRACE_HEADER_PROPERTY, invocation.traceId);
            } else {
                System.clearProperty(TRACE_HEADER_PROPERTY);
            }
            logger.setInvocation(invocation.requestId, invocation.tenantId);
            Outcome outcome = handle(handler, invocation);
            try {
                if (outcome.error != null) {
                    logger.log(outcome.log, errorLevel());
                    client.postError(invocation.requestId, outcome.error, outcome.errorType);
                } else {
                    client.postResponse(invocation.requestId, outcome.result);
                }
            } catch (RuntimeApiClient.RefusedException e) {
                // The Runtime API has recorded the failure (a response too large, say).
                stderr.println("lambdabox runtime: " + e.getMessage());
            }
            if (outcome.exit) {
                System.exit(1);
            }
        }
    }
}
