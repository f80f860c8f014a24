package lambdabox.ric;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;

import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.LambdaRuntime;

/**
 * Entry point of Lambdabox's Java runtime interface client: {@code java -cp lambdabox-ric.jar
 * lambdabox.ric.Main [handler]} (the handler defaults to {@code _HANDLER}), started by
 * {@code /var/runtime/bootstrap} with the environment AWS Lambda sets.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws IOException {
        // Unbuffered UTF-8 streams: what the function prints reaches the log before its result.
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), false, StandardCharsets.UTF_8);
        System.setOut(out);
        System.setErr(err);

        LambdaEnvironment env = LambdaEnvironment.of(System.getenv(), System.getProperty("user.dir"));
        String handler = args.length > 0 && !args[0].isEmpty() ? args[0] : env.handler;
        RuntimeLogger logger = new RuntimeLogger(out, env.logLevel, env.logFormat);
        installLogger(logger);
        // Failed DNS lookups are cached for 1 second by /var/runtime/java.security (see the
        // bootstrap); AWS's variable sets another time (at the cost of loading the security
        // properties now).
        String negativeTtl = System.getenv("AWS_LAMBDA_JAVA_NETWORKADDRESS_CACHE_NEGATIVE_TTL");
        if (negativeTtl != null) {
            java.security.Security.setProperty("networkaddress.cache.negative.ttl", negativeTtl);
        }

        String userAgent = "aws-lambda-java/" + System.getProperty("java.version") + "-lambdabox";
        HttpConnection connection = HttpConnection.forAddress(env.runtimeApi, userAgent);
        connection.connectInBackground();
        RuntimeApiClient client = new RuntimeApiClient(connection);
        ClassLoader loader = new CustomerClassLoader(env.taskRoot, "/opt/java", Main.class.getClassLoader());
        Thread.currentThread().setContextClassLoader(loader);

        InvokeLoop loop = new InvokeLoop(client, logger, env, err);
        LambdaHandler loaded = loop.init(handler, loader);
        if (loaded == null) {
            System.exit(1);
        }
        loop.run(loaded, 0);
    }

    /** Makes {@link LambdaRuntime#getLogger()} return the runtime's logger. */
    static void installLogger(LambdaLogger logger) {
        try {
            Field f = LambdaRuntime.class.getDeclaredField("logger");
            f.setAccessible(true);
            f.set(null, logger);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot install the runtime logger", e);
        }
    }
}
