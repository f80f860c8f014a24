package com.amazonaws.services.lambda.runtime;

/**
 * A handler whose input and output are converted from and to JSON by the runtime
 * (the {@code aws-lambda-java-core} interface).
 *
 * @param <I> the type the event is converted to
 * @param <O> the type of the result, written as JSON
 */
public interface RequestHandler<I, O> {

    /** Handles one invocation. */
    O handleRequest(I input, Context context);
}
