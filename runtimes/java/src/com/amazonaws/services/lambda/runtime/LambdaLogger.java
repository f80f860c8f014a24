package com.amazonaws.services.lambda.runtime;

import com.amazonaws.services.lambda.runtime.logging.LogLevel;

/** The runtime's logger: what it writes goes to the function's log (the {@code aws-lambda-java-core} interface). */
public interface LambdaLogger {

    /** Logs a message as it is (no newline is added). */
    void log(String message);

    /** Logs bytes as they are. */
    void log(byte[] message);

    /** Logs a message at a level: filtered by {@code AWS_LAMBDA_LOG_LEVEL}, formatted by {@code AWS_LAMBDA_LOG_FORMAT}. */
    default void log(String message, LogLevel logLevel) {
        log(message);
    }

    /** Logs bytes at a level (filtered, never formatted). */
    default void log(byte[] message, LogLevel logLevel) {
        log(message);
    }
}
