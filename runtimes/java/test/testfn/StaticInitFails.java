package testfn;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;

public class StaticInitFails implements RequestHandler<Object, Object> {
    static final int VALUE = Integer.parseInt("not a number");

    @Override
    public Object handleRequest(Object input, Context context) {
        return VALUE;
    }
}
