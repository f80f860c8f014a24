package com.amazonaws.services.lambda.runtime;

import java.util.Map;

/** The client context a mobile SDK caller sent (the {@code aws-lambda-java-core} interface). */
public interface ClientContext {

    /** The client application, or null. */
    Client getClient();

    /** Custom values set by the client application, or null. */
    Map<String, String> getCustom();

    /** The environment reported by the mobile SDK ({@code env}), or null. */
    Map<String, String> getEnvironment();
}
