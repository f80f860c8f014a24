package lambdabox.ric;

import java.util.Map;

import com.amazonaws.services.lambda.runtime.logging.LogFormat;
import com.amazonaws.services.lambda.runtime.logging.LogLevel;

/** The environment variables AWS sets for a runtime, read once at start-up. */
public final class LambdaEnvironment {
    public final String handler;
    public final String runtimeApi;
    public final String functionName;
    public final String functionVersion;
    public final int memoryLimit;
    public final String logGroupName;
    public final String logStreamName;
    public final String taskRoot;
    public final String executionEnv;
    public final LogLevel logLevel;
    public final LogFormat logFormat;

    private LambdaEnvironment(Map<String, String> env, String userDir) {
        handler = env.getOrDefault("_HANDLER", "");
        runtimeApi = env.getOrDefault("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001");
        functionName = env.get("AWS_LAMBDA_FUNCTION_NAME");
        functionVersion = env.get("AWS_LAMBDA_FUNCTION_VERSION");
        int memory;
        try {
            memory = Integer.parseInt(env.getOrDefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128").trim());
        } catch (NumberFormatException e) {
            memory = 128;
        }
        memoryLimit = memory;
        logGroupName = env.get("AWS_LAMBDA_LOG_GROUP_NAME");
        logStreamName = env.get("AWS_LAMBDA_LOG_STREAM_NAME");
        String root = env.get("LAMBDA_TASK_ROOT");
        taskRoot = root == null || root.isEmpty() ? userDir : root;
        executionEnv = env.get("AWS_EXECUTION_ENV");
        logLevel = parseLevel(env.get("AWS_LAMBDA_LOG_LEVEL"));
        logFormat = "JSON".equalsIgnoreCase(env.get("AWS_LAMBDA_LOG_FORMAT")) ? LogFormat.JSON : LogFormat.TEXT;
    }

    public static LambdaEnvironment of(Map<String, String> env, String userDir) {
        return new LambdaEnvironment(env, userDir);
    }

    private static LogLevel parseLevel(String s) {
        if (s == null || s.isEmpty()) {
            return LogLevel.UNDEFINED;
        }
        try {
            return LogLevel.fromString(s.trim());
        } catch (IllegalArgumentException e) {
            return LogLevel.UNDEFINED;
        }
    }

    /**
     * Whether this is the legacy {@code java8} runtime (Amazon Linux 1), whose error documents
     * nest the cause chain under {@code "cause"}; {@code java8.al2} and later use AWS's runtime
     * interface client, which does not.
     */
    public boolean legacyErrorShape() {
        return "AWS_Lambda_java8".equals(executionEnv);
    }
}
