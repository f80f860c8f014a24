package com.amazonaws.services.lambda.runtime;

import java.io.IOException;

/**
 * Access to the runtime's logger outside a handler (the {@code aws-lambda-java-core} class).
 * The runtime installs its logger in the private {@code logger} field at start-up; until then
 * (in unit tests, say) messages go to {@code System.out}.
 */
public final class LambdaRuntime {
    private LambdaRuntime() {}

    private static volatile LambdaLogger logger = new LambdaLogger() {
        @Override
        public void log(String message) {
            System.out.print(message);
        }

        @Override
        public void log(byte[] message) {
            try {
                System.out.write(message);
            } catch (IOException e) {
                e.printStackTrace();
            }
        }
    };

    /** The global logger of the runtime. */
    public static LambdaLogger getLogger() {
        return logger;
    }
}
