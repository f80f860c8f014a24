package com.amazonaws.services.lambda.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * A handler that reads the raw event and writes the raw result
 * (the {@code aws-lambda-java-core} interface).
 */
public interface RequestStreamHandler {

    /** Handles one invocation: the event is {@code input}, the result what is written to {@code output}. */
    void handleRequest(InputStream input, OutputStream output, Context context) throws IOException;
}
