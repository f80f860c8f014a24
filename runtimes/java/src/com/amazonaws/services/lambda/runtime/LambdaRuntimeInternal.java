package com.amazonaws.services.lambda.runtime;

/** A switch used by AWS's log4j2 appender (the {@code aws-lambda-java-core} class). */
public final class LambdaRuntimeInternal {
    private LambdaRuntimeInternal() {}

    private static volatile boolean useLog4jAppender;

    public static void setUseLog4jAppender(boolean useLog4j) {
        useLog4jAppender = useLog4j;
    }

    public static boolean getUseLog4jAppender() {
        return useLog4jAppender;
    }
}
