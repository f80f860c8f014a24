package com.amazonaws.services.lambda.runtime.logging;

/** Log levels of {@code LambdaLogger} (the {@code aws-lambda-java-core} enum). */
public enum LogLevel {
    /** The level of {@code log(String)}: never filtered, written without a prefix. */
    UNDEFINED,
    TRACE,
    DEBUG,
    INFO,
    WARN,
    ERROR,
    FATAL;

    public static LogLevel fromString(String logLevel) {
        try {
            return LogLevel.valueOf(logLevel.toUpperCase());
        } catch (Exception e) {
            throw new IllegalArgumentException(
                    "Invalid log level: '" + logLevel + "' expected one of [TRACE, DEBUG, INFO, WARN, ERROR, FATAL]");
        }
    }
}
