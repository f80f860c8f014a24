package testfn;

import java.util.Map;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;

public class Hello implements RequestHandler<Map<String, Object>, String> {
    @Override
    public String handleRequest(Map<String, Object> event, Context context) {
        context.getLogger().log("hello log\n");
        return "Hello " + event.get("name") + " from " + context.getFunctionName();
    }
}
