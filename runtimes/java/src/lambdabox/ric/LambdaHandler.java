package lambdabox.ric;

import com.amazonaws.services.lambda.runtime.Context;

/** The function's handler as the runtime calls it: the event's bytes in, the result's bytes out. */
public interface LambdaHandler {

    /** Runs one invocation; what the handler throws is thrown as it is. */
    byte[] call(byte[] event, Context context) throws Throwable;
}
