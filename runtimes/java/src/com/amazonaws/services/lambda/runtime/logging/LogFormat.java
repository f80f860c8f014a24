package com.amazonaws.services.lambda.runtime.logging;

/** Log formats ({@code AWS_LAMBDA_LOG_FORMAT}; the {@code aws-lambda-java-core} enum). */
public enum LogFormat {
    JSON,
    TEXT;

    public static LogFormat fromString(String logFormat) {
        try {
            return LogFormat.valueOf(logFormat.toUpperCase());
        } catch (Exception e) {
            throw new IllegalArgumentException("Invalid log format: '" + logFormat + "' expected one of [JSON, TEXT]");
        }
    }
}
